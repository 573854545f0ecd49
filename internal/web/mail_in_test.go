package web_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"tandem/internal/mailin"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// TestEmailPages: admins manage support addresses in the admin center; agents see
// suspended email (escaped), recover it into a ticket or delete it; end users and other
// accounts see none of it.
func TestEmailPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, store.SQLite)
	admin := f.signedIn(t, f.admin)
	admin.get("/admin/email").want(t, 200).has(t, "support@acme.localhost", "(default)")
	admin.post("/admin/email", url.Values{"email": {"help@acme.example"}, "name": {"Acme Help"}, "group_id": {"0"}}).want(t, 303)
	admin.get("/admin/email").want(t, 200).has(t, "help@acme.example", "Acme Help", "waiting")
	admin.post("/admin/email", url.Values{"email": {"not-an-address"}}).want(t, 422)
	f.signedIn(t, f.agent).get("/admin/email").want(t, 403)
	// Who can submit tickets by email: admins only.
	f.signedIn(t, f.agent).post("/admin/email/settings", url.Values{"submitters": {"registered"}}).want(t, 403)
	admin.post("/admin/email/settings", url.Values{"submitters": {"registered"}}).want(t, 303)
	admin.get("/admin/email").want(t, 200).has(t, `value="registered" checked`)
	if v, err := mailin.SignupRequired(context.Background(), f.desk.DB.R(), f.acct.ID); err != nil || !v {
		t.Fatalf("signup_required = %v (%v) after the form, want true", v, err)
	}
	admin.post("/admin/email/settings", url.Values{"submitters": {"anyone"}}).want(t, 303)
	admin.get("/admin/email").want(t, 200).has(t, `value="anyone" checked`)

	// An auto-reply with markup in it arrives (straight into the inbox, as the listener
	// stores it) and is suspended by the worker.
	raw := "From: Bot <bot@customer.test>\r\nTo: support@acme.localhost\r\nSubject: Out of office <script>alert(1)</script>\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <ooo@customer.test>\r\n\r\nI am away <b>until Monday</b>.\r\n"
	ctx := context.Background()
	if err := f.desk.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO mail_inbox (account_id, rcpt, mail_from, raw, size, received_at) VALUES (?, 'support@acme.localhost', 'bot@customer.test', ?, ?, ?)`,
			f.acct.ID, []byte(raw), len(raw), store.Micros(store.Now()))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var id int64
	testkit.Eventually(t, 20*time.Second, "the auto-reply to be suspended", func() bool {
		return f.desk.DB.R().QueryRowContext(ctx, `SELECT id FROM suspended_tickets WHERE account_id = ?`, f.acct.ID).Scan(&id) == nil
	})
	agent := f.signedIn(t, f.agent)
	agent.get("/agent/suspended").want(t, 200).has(t, "Out of office &lt;script&gt;", "Automated response mail", "bot@customer.test").hasNot(t, "<script>alert")
	f.signedIn(t, f.alice).get("/agent/suspended").want(t, 403)
	agent.post("/agent/suspended/"+strconv.FormatInt(id, 10)+"/recover", nil).want(t, 303)
	agent.get("/agent/suspended").want(t, 200).has(t, "Nothing is suspended")
	var n int
	_ = f.desk.DB.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE account_id = ? AND subject = 'Out of office <script>alert(1)</script>'`, f.acct.ID).Scan(&n)
	if n != 1 {
		t.Fatalf("recovering made %d tickets", n)
	}
	// The ticket page links the original email, shown as text, markup and all.
	var tid, cid int64
	_ = f.desk.DB.R().QueryRowContext(ctx, `SELECT ticket_id, comment_id FROM mail_inbox WHERE account_id = ?`, f.acct.ID).Scan(&tid, &cid)
	link := "/agent/tickets/" + strconv.FormatInt(tid, 10) + "/comments/" + strconv.FormatInt(cid, 10) + "/email"
	agent.get("/agent/tickets/"+strconv.FormatInt(tid, 10)).want(t, 200).has(t, link, "original email")
	orig := agent.get(link).want(t, 200)
	orig.has(t, "Auto-Submitted: auto-replied", "<b>until Monday</b>")
	agent.get("/agent/tickets/"+strconv.FormatInt(f.ticket, 10)+"/comments/"+strconv.FormatInt(cid, 10)+"/email").want(t, 404)
}
