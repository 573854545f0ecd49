package live_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/live"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestInvitationNotifiesAdmins: a partner's invitation to share tickets notifies the
// receiving account's admins (their streams say so at once, the notifications page
// lists it and opens the sharing page), and nobody else: not its agents, not the
// inviting account.
func TestInvitationNotifiesAdmins(t *testing.T) {
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			desk := testkit.Start(t, dia)
			<-desk.Srv.Live.Ready()
			a := desk.Account(t, "acme", account.Enterprise)
			b := desk.Account(t, "globex", account.Enterprise)
			agent := b.User(t, identity.Agent, "agent@globex.test", "Gina")
			setPasswords(t, desk, b.ID, b.Admin.UserID, agent.UserID)
			setPasswords(t, desk, a.ID, a.Admin.UserID)
			admin := signIn(t, desk, "globex", b.Admin.Email)
			staff := signIn(t, desk, "globex", agent.Email)
			inviter := signIn(t, desk, "acme", a.Admin.Email)
			adminStream, agentStream, inviterStream := admin.stream("/agent/events", ""), staff.stream("/agent/events", ""), inviter.stream("/agent/events", "")

			a.Do(t, a.Admin, "POST", "/api/v2/sharing_agreements.json", map[string]any{"sharing_agreement": map[string]any{"remote_subdomain": "globex"}}).Want(t, 201)
			adminStream.until(t, "the invitation's notification", func(m message, _ live.Event) bool { return m.Event == "notification" })

			// The agent's and the inviter's streams carry nothing of it: the next thing
			// each sees is a ticket change of its own account.
			for _, c := range []struct {
				acct   *testkit.Acct
				cred   testkit.Cred
				stream *stream
			}{{b, agent, agentStream}, {a, a.Admin, inviterStream}} {
				id := testkit.ID(c.acct.Do(t, c.cred, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "After the invitation", "comment": map[string]any{"body": "x"}}}).Want(t, 201).Obj("ticket"), "id")
				c.stream.until(t, "a ticket change", func(m message, ev live.Event) bool {
					if m.Event == "notice" || m.Event == "notification" {
						t.Fatalf("%s's stream got %s for an invitation not theirs", c.acct.Sub, m.Event)
					}
					return m.Event == "ticket" && int64(ev.Ticket) == id
				})
			}

			_, page := admin.get("/agent/notifications")
			if !strings.Contains(page, "Acme invites you to share tickets") {
				t.Fatalf("the admin's notifications page does not list the invitation")
			}
			if _, page := staff.get("/agent/notifications"); strings.Contains(page, "invites you") {
				t.Fatal("an agent was notified of an invitation")
			}
			if _, page := inviter.get("/agent/notifications"); strings.Contains(page, "invites you") {
				t.Fatal("the inviting account was notified of its own invitation")
			}
			var id int64
			desk.DB.R().QueryRowContext(t.Context(), `SELECT id FROM live_notifications WHERE account_id = ? AND kind = 'invitation'`, b.ID).Scan(&id)
			st, _ := admin.post("/agent/notifications/read", url.Values{"id": {fmt.Sprint(id)}, "ticket": {"0"}, "next": {"sharing"}})
			if st != http.StatusSeeOther {
				t.Fatalf("opening the invitation: %d", st)
			}
			var read int64
			desk.DB.R().QueryRowContext(t.Context(), `SELECT read_at FROM live_notifications WHERE id = ?`, id).Scan(&read)
			if read == 0 {
				t.Fatal("the opened invitation is still unread")
			}
		})
	}
}
