package mailin_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"tandem/internal/identity"
	"tandem/internal/mailin"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// dsn reads a delivery status notification sample and fills in who sent the reported
// mail, its recipient and its Message-ID.
func dsn(t *testing.T, name, sender, rcpt, msgID string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/dsn/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("{{SENDER}}", sender, "{{RCPT}}", rcpt, "{{MSGID}}", msgID).Replace(string(b))
}

// TestParseDSN reads Postfix's bounce and delay reports (RFC 3464): the reported
// mail's Message-ID (from the returned message or its headers) and, per recipient,
// the action, status and the remote server's answer.
func TestParseDSN(t *testing.T) {
	t.Parallel()
	m, err := mailin.Parse([]byte(dsn(t, "postfix-bounce.eml", "support@acme.localhost", "nobody@customer.test", "<tkt-abc.123@localhost>")))
	if err != nil || m.DSN == nil {
		t.Fatalf("parse bounce: %v, dsn %v", err, m)
	}
	if m.DSN.MessageID != "tkt-abc.123@localhost" || len(m.DSN.Recipients) != 1 {
		t.Fatalf("bounce report: %+v", m.DSN)
	}
	r := m.DSN.Recipients[0]
	if r.Address != "nobody@customer.test" || r.Action != "failed" || r.Status != "5.1.1" || !r.Hard() ||
		!strings.Contains(r.Diagnostic, "User unknown in local recipient table") || !strings.Contains(r.Reason(), "the mailbox does not exist") {
		t.Fatalf("bounce recipient: %+v (%s)", r, r.Reason())
	}
	m, err = mailin.Parse([]byte(dsn(t, "postfix-delay.eml", "support@acme.localhost", "late@customer.test", "<tkt-abc.456@localhost>")))
	if err != nil || m.DSN == nil {
		t.Fatalf("parse delay: %v", err)
	}
	r = m.DSN.Recipients[0]
	if m.DSN.MessageID != "tkt-abc.456@localhost" || r.Action != "delayed" || r.Status != "4.4.1" || r.Hard() || !strings.Contains(r.Reason(), "delayed") {
		t.Fatalf("delay report: %+v %+v (%s)", m.DSN, r, r.Reason())
	}
	// Mail that is no report has none.
	m, _ = mailin.Parse([]byte(msg("jane@customer.test", "support@acme.localhost", "hi", "", "hello")))
	if m.DSN != nil {
		t.Fatalf("plain mail read as a report: %+v", m.DSN)
	}
}

// envelopeOf is the envelope sender (VERP bounce address) a mail was queued with.
func envelopeOf(t *testing.T, db *store.DB, acct any, msgID string) string {
	t.Helper()
	var env string
	if err := db.R().QueryRowContext(context.Background(), `SELECT envelope_from FROM mail_outbox WHERE account_id = ? AND message_id = ?`, acct, msgID).Scan(&env); err != nil {
		t.Fatal(err)
	}
	return env
}

// TestBounces: a bounce of the receipt Tandem sent comes back to the receipt's VERP
// envelope sender and is read back, not made a ticket or a suspended ticket: the mail
// is failed with the reason on its ticket, the address is marked bouncing, later mail
// to it is held with the reason until an agent clears it (which releases the held
// mail). A delay report is only noted. A report to another account's bounce token, to
// a token Tandem never gave, or naming a known Message-ID without its token (a forged
// report) stays a suspended bounce and marks nothing.
func TestBounces(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		ctx := context.Background()
		q := db.R()
		outbox := func(acct any, rcpt string) (id int64, msgID, status, lastErr string) {
			t.Helper()
			err := q.QueryRowContext(ctx, `SELECT id, message_id, status, last_error FROM mail_outbox WHERE account_id = ? AND rcpt_to = ? ORDER BY id DESC LIMIT 1`, acct, rcpt).
				Scan(&id, &msgID, &status, &lastErr)
			if err != nil {
				t.Fatalf("outbox row for %s: %v", rcpt, err)
			}
			return
		}
		count := func(query string, args ...any) int {
			t.Helper()
			var n int
			if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// Jane writes in; the receipt to her is kept (no relay in the test).
		r.mustSend(t, "jane@customer.test", []string{"support@acme.localhost"}, msg("jane@customer.test", "support@acme.localhost", "Printer on fire", "", "It is on fire."))
		r.settle(t)
		tk := r.tickets(t, r.acme)[0]
		receipt, msgID, status, _ := outbox(r.acme.ID, "jane@customer.test")
		if status != "kept" {
			t.Fatalf("receipt status %q", status)
		}
		bounceTo := envelopeOf(t, db, r.acme.ID, msgID)
		if !strings.HasPrefix(bounceTo, "bounces+") || !strings.HasSuffix(bounceTo, "@acme.localhost") {
			t.Fatalf("the receipt's envelope sender is %q, want a VERP address", bounceTo)
		}
		// The listener takes bounce addresses of its accounts only, with a token's shape.
		for _, bad := range []string{"bounces+" + strings.Repeat("a", 26) + "@nosuch.localhost", "bounces+short@acme.localhost", "bounces+" + strings.Repeat("A1", 13) + "@acme.localhost"} {
			if err := r.send("", []string{bad}, "Subject: x\n\nx\n"); err == nil || !strings.Contains(err.Error(), "550") {
				t.Fatalf("RCPT %s: %v, want 550", bad, err)
			}
		}

		// Postfix bounces it (null sender, as MTAs send reports) to the envelope sender.
		r.mustSend(t, "", []string{bounceTo}, dsn(t, "postfix-bounce.eml", bounceTo, "jane@customer.test", msgID))
		r.settle(t)
		if n := len(r.tickets(t, r.acme)); n != 1 {
			t.Fatalf("the bounce made a ticket: %d tickets", n)
		}
		if n := count(`SELECT COUNT(*) FROM suspended_tickets WHERE account_id = ?`, r.acme.ID); n != 0 {
			t.Fatalf("the bounce was suspended (%d)", n)
		}
		if n := count(`SELECT COUNT(*) FROM mail_inbox WHERE account_id = ? AND state = 'bounce'`, r.acme.ID); n != 1 {
			t.Fatalf("inbox rows read as bounces: %d", n)
		}
		_, _, status, lastErr := outbox(r.acme.ID, "jane@customer.test")
		if status != "dead" || !strings.Contains(lastErr, "the mailbox does not exist (5.1.1)") {
			t.Fatalf("bounced receipt: %q %q", status, lastErr)
		}
		if n := count(`SELECT COUNT(*) FROM ticket_audits WHERE account_id = ? AND ticket_id = ? AND events LIKE '%EmailDeliveryFailure%' AND events LIKE '%User unknown%'`, r.acme.ID, tk.ID); n != 1 {
			t.Fatalf("failure events on the ticket: %d", n)
		}
		page := r.acme.Do(t, r.acme.Admin, "GET", "/api/v2/mail_bounces/jane@customer.test", nil)
		if page.Status != 200 || !strings.Contains(string(page.Body), "5.1.1") {
			t.Fatalf("bouncing address: %d %s", page.Status, page.Body)
		}
		// Another account's agents do not see it.
		if p := r.globex.Do(t, r.globex.Admin, "GET", "/api/v2/mail_bounces/jane@customer.test", nil); p.Status != 404 {
			t.Fatalf("globex sees acme's bounce: %d", p.Status)
		}
		if p := r.globex.Do(t, r.globex.Admin, "DELETE", "/api/v2/mail_bounces/jane@customer.test", nil); p.Status != 404 {
			t.Fatalf("globex cleared acme's bounce: %d", p.Status)
		}
		// End users may not read or clear bounces.
		end := r.acme.User(t, identity.EndUser, "end@customer.test", "End")
		if p := r.acme.Do(t, end, "DELETE", "/api/v2/mail_bounces/jane@customer.test", nil); p.Status != 403 {
			t.Fatalf("an end user cleared a bounce: %d", p.Status)
		}

		// Jane writes again: the receipt to her is held, with the reason.
		r.mustSend(t, "jane@customer.test", []string{"support@acme.localhost"}, msg("jane@customer.test", "support@acme.localhost", "Second", "", "Still on fire."))
		r.settle(t)
		held, _, status, lastErr := outbox(r.acme.ID, "jane@customer.test")
		if held == receipt || status != "held" || !strings.Contains(lastErr, "bounced") || !strings.Contains(lastErr, "clear the address") {
			t.Fatalf("mail to a bouncing address: %q %q", status, lastErr)
		}
		// An agent clears the address: the held mail goes (kept, with no relay).
		agent := r.acme.User(t, identity.Agent, "agent@acme.test", "Agent")
		if p := r.acme.Do(t, agent, "DELETE", "/api/v2/mail_bounces/jane@customer.test", nil); p.Status != 204 {
			t.Fatalf("clear: %d %s", p.Status, p.Body)
		}
		if _, _, status, _ := outbox(r.acme.ID, "jane@customer.test"); status != "kept" {
			t.Fatalf("held mail after clearing: %q", status)
		}

		// A delay report is noted on the ticket; the mail is not failed.
		_, msgID2, _, _ := outbox(r.acme.ID, "jane@customer.test")
		bounceTo2 := envelopeOf(t, db, r.acme.ID, msgID2)
		r.mustSend(t, "", []string{bounceTo2}, dsn(t, "postfix-delay.eml", bounceTo2, "jane@customer.test", msgID2))
		r.settle(t)
		if _, _, status, _ := outbox(r.acme.ID, "jane@customer.test"); status != "kept" {
			t.Fatalf("delayed mail: %q", status)
		}
		if n := count(`SELECT COUNT(*) FROM ticket_audits WHERE account_id = ? AND events LIKE '%EmailDeliveryDelayed%'`, r.acme.ID); n != 1 {
			t.Fatalf("delay events: %d", n)
		}
		if n := count(`SELECT COUNT(*) FROM mail_bounces WHERE account_id = ?`, r.acme.ID); n != 0 {
			t.Fatalf("a delay marked the address bouncing")
		}

		// Reports that change nothing and are suspended as bounces: on globex's mail,
		// to acme's bounce domain with globex's token and to acme's support address by
		// Message-ID; to a token never given; and forged ones about jane's mail to
		// acme — naming its real Message-ID and recipient but sent to the support
		// address (no token), or to a bounce address with another token.
		r.mustSend(t, "bob@globex-customer.test", []string{"support@globex.localhost"}, msg("bob@globex-customer.test", "support@globex.localhost", "Globex", "", "hello"))
		r.settle(t)
		_, globexID, _, _ := outbox(r.globex.ID, "bob@globex-customer.test")
		globexBounce := envelopeOf(t, db, r.globex.ID, globexID)
		if !strings.HasSuffix(globexBounce, "@globex.localhost") {
			t.Fatalf("globex's envelope sender %q", globexBounce)
		}
		crossed := strings.Replace(globexBounce, "@globex.localhost", "@acme.localhost", 1)
		r.mustSend(t, "", []string{crossed}, dsn(t, "postfix-bounce.eml", crossed, "bob@globex-customer.test", globexID))
		r.mustSend(t, "", []string{"support@acme.localhost"}, dsn(t, "postfix-bounce.eml", "support@acme.localhost", "bob@globex-customer.test", globexID))
		never := "bounces+" + strings.Repeat("q", 26) + "@acme.localhost"
		r.mustSend(t, "", []string{never}, dsn(t, "postfix-bounce.eml", never, "jane@customer.test", "<never-sent@localhost>"))
		_, msgID3, _, _ := outbox(r.acme.ID, "jane@customer.test")
		r.mustSend(t, "", []string{"support@acme.localhost"}, dsn(t, "postfix-bounce.eml", "support@acme.localhost", "jane@customer.test", msgID3))
		r.mustSend(t, "", []string{never}, dsn(t, "postfix-bounce.eml", never, "jane@customer.test", msgID3))
		r.settle(t)
		if _, _, status, _ := outbox(r.globex.ID, "bob@globex-customer.test"); status != "kept" {
			t.Fatalf("acme's inbox failed globex's mail: %q", status)
		}
		if _, _, status, _ := outbox(r.acme.ID, "jane@customer.test"); status != "kept" {
			t.Fatalf("a forged report failed jane's mail: %q", status)
		}
		if n := count(`SELECT COUNT(*) FROM suspended_tickets WHERE account_id = ? AND cause_id = 2`, r.acme.ID); n != 5 {
			t.Fatalf("unmatched reports suspended: %d, want 5", n)
		}
		if n := count(`SELECT COUNT(*) FROM mail_bounces`); n != 0 {
			t.Fatalf("unmatched reports marked addresses bouncing: %d", n)
		}
	})
}

// TestBouncesNoVERP: with --mail-no-verp (a relay that rewrites the envelope sender)
// mail goes out with the From address as envelope sender, and a report that comes back
// to the support address is matched by the reported Message-ID and recipient.
func TestBouncesNoVERP(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRigConfig(t, db, func(c *server.Config) { c.MailNoVERP = true })
		r.mustSend(t, "jane@customer.test", []string{"support@acme.localhost"}, msg("jane@customer.test", "support@acme.localhost", "Printer on fire", "", "It is on fire."))
		r.settle(t)
		var msgID string
		if err := db.R().QueryRowContext(context.Background(), `SELECT message_id FROM mail_outbox WHERE account_id = ? AND rcpt_to = 'jane@customer.test'`, r.acme.ID).Scan(&msgID); err != nil {
			t.Fatal(err)
		}
		if env := envelopeOf(t, db, r.acme.ID, msgID); env != "" {
			t.Fatalf("envelope sender %q with --mail-no-verp", env)
		}
		r.mustSend(t, "", []string{"support@acme.localhost"}, dsn(t, "postfix-bounce.eml", "support@acme.localhost", "jane@customer.test", msgID))
		r.settle(t)
		var status string
		if err := db.R().QueryRowContext(context.Background(), `SELECT status FROM mail_outbox WHERE account_id = ? AND message_id = ?`, r.acme.ID, msgID).Scan(&status); err != nil || status != "dead" {
			t.Fatalf("bounced mail status %q (%v), want dead", status, err)
		}
	})
}

// TestThreadOrder: a reply sent right after the message it answers, by someone else
// (so by another sender), is processed after it, with several workers: it finds the
// ticket that message made and becomes a comment there, every time.
func TestThreadOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		const threads = 6
		for i := range threads {
			root := fmt.Sprintf("<root-%d@customer.test>", i)
			first := fmt.Sprintf("From: jane%d@customer.test\nTo: support@acme.localhost\nCc: bob%d@customer.test\nSubject: Thread %d\nMessage-ID: %s\n"+
				"MIME-Version: 1.0\nContent-Type: text/plain\n\nfirst\n", i, i, i, root)
			reply := fmt.Sprintf("From: bob%d@customer.test\nTo: support@acme.localhost\nSubject: Re: Thread %d\nMessage-ID: <reply-%d@customer.test>\nIn-Reply-To: %s\nReferences: %s\n"+
				"MIME-Version: 1.0\nContent-Type: text/plain\n\nsecond\n", i, i, i, root, root)
			r.mustSend(t, fmt.Sprintf("jane%d@customer.test", i), []string{"support@acme.localhost"}, first)
			r.mustSend(t, fmt.Sprintf("bob%d@customer.test", i), []string{"support@acme.localhost"}, reply)
		}
		r.settle(t)
		list := r.tickets(t, r.acme)
		if len(list) != threads {
			t.Fatalf("%d tickets, want %d (a reply overtook the message it answers)", len(list), threads)
		}
		for _, tk := range list {
			if c := r.comments(t, r.acme, tk.ID); len(c) != 2 || !strings.Contains(c[1], "second") {
				t.Fatalf("ticket %d comments %q", tk.ID, c)
			}
		}
	})
}
