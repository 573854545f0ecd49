package send_test

import (
	"context"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/mailthread"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// TestNewTicketsMailCarriesItsStoredToken (both databases): the mail a create queues
// carries the new ticket's reply token, stored once, so that a reply finds the ticket,
// also when the mail is held because its address bounced for good. On PostgreSQL the
// token is stored by the mail's own insert (one statement for both rows).
func TestNewTicketsMailCarriesItsStoredToken(t *testing.T) {
	testkit.Each(t, func(t *testing.T, desk *testkit.Desk) {
		ctx := context.Background()
		a := desk.Account(t, "acme", account.Enterprise)
		acct := a.Loaded(t)
		actor := a.User(t, identity.Agent, "agent@example.test", "Agent").Actor()
		fine := a.User(t, identity.EndUser, "fine@example.test", "Fine")
		gone := a.User(t, identity.EndUser, "gone@example.test", "Gone")
		if _, err := desk.DB.R().ExecContext(ctx, `INSERT INTO mail_bounces (account_id, email, status, reason, outbox_id, created_at) VALUES (?, ?, '5.1.1', 'no such mailbox', 0, 0)`,
			a.ID, "gone@example.test"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			requester  int64
			to         string
			wantStatus string
		}{{fine.UserID, "fine@example.test", "kept"}, {gone.UserID, "gone@example.test", "held"}} {
			rid := ids.User(c.requester)
			res, err := desk.Srv.Tickets.Create(ctx, acct, actor, &ticket.Patch{Subject: ticket.Ptr("printer"), RequesterID: &rid,
				Comment: &ticket.CommentInput{Body: "the printer jams", AuthorID: rid}})
			if err != nil {
				t.Fatal(err)
			}
			id := res.Ticket.ID
			var tokens []string
			rows, err := desk.DB.R().QueryContext(ctx, `SELECT token FROM mail_threads WHERE account_id = ? AND ticket_id = ?`, a.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var tok string
				if err := rows.Scan(&tok); err != nil {
					t.Fatal(err)
				}
				tokens = append(tokens, tok)
			}
			rows.Close()
			if len(tokens) != 1 {
				t.Fatalf("ticket %d: reply tokens %v, want one", id, tokens)
			}
			mails := 0
			rows, err = desk.DB.R().QueryContext(ctx, `SELECT message_id, status FROM mail_outbox WHERE account_id = ? AND ticket_id = ? AND rcpt_to = ?`,
				a.ID, id, c.to)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var msgID, status string
				if err := rows.Scan(&msgID, &status); err != nil {
					t.Fatal(err)
				}
				mails++
				if !strings.Contains(msgID, "tkt-"+tokens[0]+".") || status != c.wantStatus {
					t.Errorf("ticket %d: mail %s %s, want the token %s and %s", id, msgID, status, tokens[0], c.wantStatus)
				}
			}
			rows.Close()
			if mails == 0 {
				t.Fatalf("ticket %d: the create queued no mail to its requester", id)
			}
			got, ok, err := mailthread.Lookup(ctx, desk.DB.R(), int64(a.ID), tokens[0])
			if err != nil || !ok || got != int64(id) {
				t.Errorf("ticket %d: its token finds %d, %v (%v)", id, got, ok, err)
			}
		}
	})
}
