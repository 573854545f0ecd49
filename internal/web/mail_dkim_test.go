package web_test

import (
	"html"
	"net/url"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// TestEmailDKIMPage: an admin generates the account's DKIM key on the Email page,
// which shows the TXT record to publish (never the private key), turns signing off
// and on, and deletes it. An agent cannot use the page; another account's admin sees
// only their own account's (none).
func TestEmailDKIMPage(t *testing.T) {
	t.Parallel()
	desk := testkit.Start(t, store.SQLite, func(c *server.Config) { c.SecretKey = "web-dkim-secret-key-0123456789" })
	a := desk.Account(t, "acme", account.Enterprise)
	g := desk.Account(t, "globex", account.Enterprise)
	agent := a.User(t, identity.Agent, "agent@acme.test", "Sam Agent")
	for _, u := range []testkit.Cred{a.Admin, agent} {
		setPassword(t, desk, a.ID, u.UserID)
	}
	setPassword(t, desk, g.ID, g.Admin.UserID)
	signIn := func(sub string, who testkit.Cred) *client {
		c := newClient(t, desk, sub)
		c.signIn(who.Email, password)
		return c
	}
	admin := signIn("acme", a.Admin)
	admin.get("/admin/email").want(t, 200).has(t, "DKIM signing", "Generate a key")
	signIn("acme", agent).post("/admin/email/dkim", url.Values{"algorithm": {"ed25519-sha256"}}).want(t, 403)
	admin.post("/admin/email/dkim", url.Values{"algorithm": {"ed25519-sha256"}}).want(t, 303)
	p := admin.get("/admin/email").want(t, 200).has(t, "._domainkey.acme.localhost", "v=DKIM1; k=ed25519; p=", "Turn signing off", "Generate a new key")
	p.hasNot(t, "PRIVATE KEY")
	// The template escapes the key's "+" as "&#43;": read the record from the text
	// a browser shows, or a key starting with "+" (one in 64) is missed.
	rec := regexpFind(t, html.UnescapeString(p.Body), `(v=DKIM1; k=ed25519; p=[A-Za-z0-9+/=]+)`)
	gp := signIn("globex", g.Admin).get("/admin/email").want(t, 200).has(t, "Generate a key")
	if strings.Contains(html.UnescapeString(gp.Body), rec) || strings.Contains(gp.Body, "acme.localhost") {
		t.Fatal("globex's admin sees acme's DKIM key")
	}
	admin.post("/admin/email/dkim/enabled", url.Values{"enabled": {"false"}}).want(t, 303)
	admin.get("/admin/email").want(t, 200).has(t, "signing is off", "Turn signing on")
	admin.post("/admin/email/dkim/delete", nil).want(t, 303)
	if gone := admin.get("/admin/email").want(t, 200).has(t, "Generate a key"); strings.Contains(html.UnescapeString(gone.Body), rec) {
		t.Fatal("the deleted key's record is still shown")
	}
}
