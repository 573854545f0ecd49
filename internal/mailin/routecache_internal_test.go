package mailin

import (
	"testing"

	"tandem/internal/account"
)

// TestRouteCacheGroupOf: the worker takes a recipient's default group from the
// listener's cached route only for an address of the message's own account; another
// account's cached address is not the account's (found false, no statement needed),
// and an address the cache does not know is read (ok false). Forgetting drops routes.
func TestRouteCacheGroupOf(t *testing.T) {
	var c routeCache
	acme := &account.Account{ID: 1, Subdomain: "acme"}
	globex := &account.Account{ID: 2, Subdomain: "globex"}
	c.putRoute("billing@acme.example", acme, &Address{AccountID: 1, Email: "billing@acme.example", GroupID: 7})
	c.putRoute("support@globex.localhost", globex, &Address{AccountID: 2, Email: "support@globex.localhost", GroupID: 9})
	if g, found, ok := c.groupOf(1, "billing@acme.example"); !ok || !found || g != 7 {
		t.Fatalf("acme's own address: group %d found %v ok %v", g, found, ok)
	}
	if g, found, ok := c.groupOf(1, "support@globex.localhost"); !ok || found || g != 0 {
		t.Fatalf("globex's address for acme: group %d found %v ok %v", g, found, ok)
	}
	if _, _, ok := c.groupOf(1, "unknown@acme.example"); ok {
		t.Fatal("an address never cached was answered from the cache")
	}
	c.forget()
	if _, _, ok := c.groupOf(1, "billing@acme.example"); ok {
		t.Fatal("route kept after forget")
	}
}
