package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/mail/send/smtptest"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// TestOutgoingMailPages: a mail the relay refuses for good shows on its ticket's page;
// the admin's Outgoing mail page lists the account's mail with its state, to admins
// only, and never another account's.
func TestOutgoingMailPages(t *testing.T) {
	t.Parallel()
	relay := smtptest.Start(t)
	relay.Refuse("gone@example.test", 550)
	desk := testkit.Start(t, store.SQLite, func(c *server.Config) { c.SMTPRelay = relay.URL(); c.MailMaxBackoff = 100 * time.Millisecond })
	acme := desk.Account(t, "acme", account.Enterprise)
	globex := desk.Account(t, "globex", account.Enterprise)
	gone := acme.User(t, identity.EndUser, "gone@example.test", "Gone <b>Person</b>")
	agent := acme.User(t, identity.Agent, "agent@acme.test", "Agent Acme")
	setPassword(t, desk, acme.ID, agent.UserID)
	id := testkit.ID(acme.Do(t, acme.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
		"subject": "Broken <script>x</script>", "requester_id": gone.UserID, "comment": map[string]any{"body": "hi"}}}).Want(t, http.StatusCreated).Obj("ticket"), "id")
	testkit.ID(globex.Do(t, globex.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
		"subject": "Globex private matter", "requester_id": globex.User(t, identity.EndUser, "g@example.test", "G").UserID, "comment": map[string]any{"body": "hi"}}}).Want(t, http.StatusCreated).Obj("ticket"), "id")
	testkit.Eventually(t, 10*time.Second, "mail settles", func() bool { return desk.Srv.MailOut.Drained(t.Context()) && relay.Count() >= 1 })

	c := newClient(t, desk, "acme")
	c.signIn("admin@acme.test", password)
	testkit.Eventually(t, 10*time.Second, "the failure shows on the ticket", func() bool {
		return strings.Contains(c.get(fmt.Sprintf("/agent/tickets/%d", id)).Body, "An email could not be delivered to gone@example.test: the mail server answered 550")
	})
	p := c.get("/admin/mail").want(t, http.StatusOK)
	p.has(t, "Outgoing mail", "gone@example.test", "Failed: the mail server answered 550", "Broken &lt;script&gt;", "1 could not be delivered").
		hasNot(t, "Globex private matter", "g@example.test", "<script>x")

	ag := newClient(t, desk, "acme")
	ag.signIn("agent@acme.test", password)
	if p := ag.get("/admin/mail"); p.Status == http.StatusOK {
		t.Fatalf("an agent may read the Outgoing mail page")
	}
}
