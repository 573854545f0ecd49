package sharing_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// shareState is the state and reason of a ticket's only share, as the API shows it.
func shareState(t *testing.T, a *testkit.Acct, id int64) (string, string) {
	t.Helper()
	list, _ := ticketOf(t, a, id)["sharing"].([]any)
	if len(list) != 1 {
		t.Fatalf("ticket %d has %d shares, want 1", id, len(list))
	}
	sh := list[0].(map[string]any)
	return fmt.Sprint(sh["state"]), fmt.Sprint(sh["state_reason"])
}

// drained waits until a desk has nothing left to deliver, and checks nothing was given up.
func drained(t *testing.T, d *testkit.Desk) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, "a drained outbox", func() bool { return d.Srv.Sharing.Drained(t.Context()) })
	var dead int
	if err := d.DB.R().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM sharing_outbox WHERE status = 'dead'`).Scan(&dead); err != nil || dead != 0 {
		t.Fatalf("%d deliveries given up (err %v)", dead, err)
	}
}

// Deleting a shared ticket goes through the write path: it is audited, the share ends
// visibly on both sides, and updates queued before the delete still arrive first.
func TestDeleteSharedTicketUnshares(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			d1, d2 := testkit.Start(t, d), testkit.Start(t, d)
			a := d1.Account(t, "acme", account.Enterprise)
			b := d2.Account(t, "globex", account.Enterprise)
			p := connect(t, a, b, false, nil)

			// The sender deletes: the partner's copy becomes an orphan that says why.
			aID, bID := p.share(t, "Spam from a bot")
			p.a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d", aID), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "Last words before delete"}}}).Want(t, 200)
			p.a.Do(t, p.agentA, "DELETE", fmt.Sprintf("/api/v2/tickets/%d", aID), nil).Want(t, 204)
			p.a.Do(t, p.agentA, "GET", fmt.Sprintf("/api/v2/tickets/%d", aID), nil).Want(t, 404)
			testkit.Eventually(t, 10*time.Second, "the orphaned copy", func() bool {
				st, _ := shareState(t, p.b, bID)
				return st == "orphaned"
			})
			drained(t, d1)
			if !hasComment(comments(t, p.b, bID), "Last words before delete") {
				t.Fatalf("the update queued before the delete was lost: %v", comments(t, p.b, bID))
			}
			if st, why := shareState(t, p.b, bID); !strings.Contains(why, "unshared by") {
				t.Fatalf("partner's share = %s (%s)", st, why)
			}
			// At the sender, the share says it ended with the delete, and the deletion is
			// readable with who did it.
			var state, reason string
			if err := d1.DB.R().QueryRowContext(t.Context(), `SELECT state, state_reason FROM ticket_shares WHERE account_id = ? AND ticket_id = ?`, a.ID, aID).Scan(&state, &reason); err != nil {
				t.Fatal(err)
			}
			if state != "unshared" || reason != "ticket deleted by Agnes acme" {
				t.Fatalf("sender's share = %s (%s)", state, reason)
			}
			del := deletedTicket(t, a, aID)
			if testkit.ID(del["actor"].(map[string]any), "id") != p.agentA.UserID || del["previous_state"] != "new" {
				t.Fatalf("deleted ticket = %v", del)
			}

			// The receiver deletes its copy: the sender's share shows the partner stopped.
			aID2, bID2 := p.share(t, "Receiver deletes")
			p.b.Do(t, p.agentB, "DELETE", fmt.Sprintf("/api/v2/tickets/%d", bID2), nil).Want(t, 204)
			testkit.Eventually(t, 10*time.Second, "the sender's share ended", func() bool {
				st, _ := shareState(t, p.a, aID2)
				return st == "unshared"
			})
			if _, why := shareState(t, p.a, aID2); !strings.Contains(why, "stopped syncing") {
				t.Fatalf("sender's share reason = %q", why)
			}
			drained(t, d2)
			// Later changes at the sender stay there, and nothing is left queued for them.
			p.a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d", aID2), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "Nobody listens"}}}).Want(t, 200)
			drained(t, d1)
		})
	}
}

// deletedTicket finds a ticket in the account's deleted tickets.
func deletedTicket(t *testing.T, a *testkit.Acct, id int64) map[string]any {
	t.Helper()
	for _, dt := range a.Do(t, a.Admin, "GET", "/api/v2/deleted_tickets.json", nil).Want(t, 200).List("deleted_tickets") {
		if testkit.ID(dt, "id") == id {
			return dt
		}
	}
	t.Fatalf("ticket %d is not among the deleted tickets", id)
	return nil
}

// Making a comment private: refused, with the partner named, when the partner holds it
// and the terms keep internal notes home (the protocol cannot take it back); allowed and
// told to the partner when the terms carry internal notes; allowed for the partner's
// own comments.
func TestMakePrivateSharedComment(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			d1, d2 := testkit.Start(t, d), testkit.Start(t, d)
			a := d1.Account(t, "acme", account.Enterprise)
			b := d2.Account(t, "globex", account.Enterprise)
			a2 := d1.Account(t, "hooli", account.Enterprise)
			c := d2.Account(t, "initrode", account.Enterprise)
			publicOnly := connect(t, a, b, false, nil)
			notesToo := connect(t, a2, c, false, map[string]any{"share_private_comments": true})

			commentID := func(acct *testkit.Acct, tid int64, body string) int64 {
				t.Helper()
				for _, cm := range acct.Do(t, acct.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", tid), nil).Want(t, 200).List("comments") {
					if strings.HasPrefix(fmt.Sprint(cm["body"]), body) {
						return testkit.ID(cm, "id")
					}
				}
				t.Fatalf("no comment %q on ticket %d", body, tid)
				return 0
			}
			makePrivate := func(acct *testkit.Acct, tid, cid int64) *testkit.Resp {
				return acct.Do(t, acct.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d/comments/%d/make_private.json", tid, cid), nil)
			}

			// Public-only terms: the partner holds the comment as public; refused.
			aID, bID := publicOnly.share(t, "Oversharing")
			first := commentID(a, aID, "First words of Oversharing")
			r := makePrivate(a, aID, first).Want(t, 422)
			if !strings.Contains(string(r.Body), "this comment was already shared with Globex; it cannot be made private") {
				t.Fatalf("refusal = %s", r.Body)
			}
			if got := comments(t, a, aID); got[0] != "First words of Oversharing|true" {
				t.Fatalf("a refused make-private changed the comment: %v", got)
			}
			// The partner's own reply may be hidden at the sender.
			b.Do(t, publicOnly.agentB, "PUT", fmt.Sprintf("/api/v2/tickets/%d", bID), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "Partner reply"}}}).Want(t, 200)
			testkit.Eventually(t, 10*time.Second, "the partner's reply", func() bool { return hasComment(comments(t, a, aID), "Partner reply") })
			makePrivate(a, aID, commentID(a, aID, "Partner reply")).Want(t, 200)
			if !hasComment(comments(t, a, aID), "Partner reply") || !strings.Contains(strings.Join(comments(t, a, aID), ","), "Partner reply|false") {
				t.Fatalf("partner reply not private: %v", comments(t, a, aID))
			}
			audits := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", aID), nil).Want(t, 200)
			if !strings.Contains(string(audits.Body), `"CommentPrivacyChange"`) {
				t.Fatalf("no CommentPrivacyChange in the audits: %s", audits.Body)
			}
			drained(t, d1)
			if got := comments(t, b, bID); !strings.Contains(strings.Join(got, ","), "Partner reply|true") {
				t.Fatalf("the partner's own comment changed at the partner: %v", got)
			}

			// Terms that carry internal notes: allowed, and the partner hides its copy.
			cID, cCopy := notesToo.share(t, "Second thoughts")
			makePrivate(a2, cID, commentID(a2, cID, "First words of Second thoughts")).Want(t, 200)
			testkit.Eventually(t, 10*time.Second, "the partner's copy made private", func() bool {
				got := comments(t, c, cCopy)
				return len(got) == 1 && got[0] == "First words of Second thoughts|false"
			})
			copyAudits := c.Do(t, c.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", cCopy), nil).Want(t, 200)
			if !strings.Contains(string(copyAudits.Body), `"CommentPrivacyChange"`) {
				t.Fatalf("the partner's copy has no CommentPrivacyChange: %s", copyAudits.Body)
			}
			if ticketOf(t, c, cCopy)["is_public"] != false {
				t.Fatalf("copy with no public comment left is still is_public")
			}
			drained(t, d1)
			drained(t, d2)
		})
	}
}
