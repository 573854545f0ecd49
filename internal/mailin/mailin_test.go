package mailin_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/mailthread"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// rig is a desk with its SMTP listener and two accounts, acme and globex.
type rig struct {
	d            *testkit.Desk
	acme, globex *testkit.Acct
	smtp         string
}

const testMaxSize = 2 << 20

func newRig(t *testing.T, db *store.DB) *rig {
	t.Helper()
	return newRigTB(t, db)
}

func newRigTB(t testing.TB, db *store.DB, maxSize ...int64) *rig {
	t.Helper()
	return newRigConfig(t, db, func(c *server.Config) {
		if len(maxSize) > 0 {
			c.MailMaxSize = maxSize[0]
			c.MailSenderRate = 1 << 30
		}
	})
}

// newRigConfig is newRigTB with changes to the test server's configuration.
func newRigConfig(t testing.TB, db *store.DB, edit func(c *server.Config)) *rig {
	t.Helper()
	d := testkit.StartDB(t, db, func(c *server.Config) {
		c.SMTPAddr = "127.0.0.1:0"
		c.MailSpoolDir = t.TempDir()
		c.MailMaxSize = testMaxSize
		c.MailAuthServID = "mx.trusted.test"
		c.MailSenderRate = 8
		edit(c)
	})
	r := &rig{d: d, acme: d.Account(t, "acme", account.Enterprise), globex: d.Account(t, "globex", account.Enterprise)}
	r.smtp = d.Srv.MailAddr().String()
	return r
}

// send submits a message over SMTP and returns the server's refusal, if any.
func (r *rig) send(from string, to []string, msg string) error {
	return sendSMTP(r.smtp, from, to, msg)
}

// sendSMTP submits a message in plain SMTP (the listener is on loopback, behind the
// MTA that does TLS).
func sendSMTP(addr, from string, to []string, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SendMail(from, to, strings.NewReader(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		return err
	}
	return c.Quit()
}

func (r *rig) mustSend(t *testing.T, from string, to []string, msg string) {
	t.Helper()
	if err := r.send(from, to, msg); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// settle waits until the worker has processed every accepted message.
func (r *rig) settle(t *testing.T) {
	t.Helper()
	testkit.Eventually(t, 20*time.Second, "the inbox to be processed", func() bool {
		var n int
		err := r.d.DB.R().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM mail_inbox WHERE state = 'new'`).Scan(&n)
		return err == nil && n == 0
	})
}

func (r *rig) tickets(t *testing.T, a *testkit.Acct) []*ticket.Ticket {
	t.Helper()
	rows, err := r.d.DB.R().QueryContext(context.Background(), `SELECT id FROM tickets WHERE account_id = ? ORDER BY id`, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var list []ids.Ticket
	for rows.Next() {
		var id ids.Ticket
		_ = rows.Scan(&id)
		list = append(list, id)
	}
	rows.Close()
	var out []*ticket.Ticket
	for _, id := range list {
		tk, err := ticket.Get(context.Background(), r.d.DB.R(), a.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tk)
	}
	return out
}

func (r *rig) comments(t *testing.T, a *testkit.Acct, id ids.Ticket) []string {
	t.Helper()
	rows, err := r.d.DB.R().QueryContext(context.Background(), `SELECT body FROM ticket_comments WHERE account_id = ? AND ticket_id = ? ORDER BY id`, a.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b string
		_ = rows.Scan(&b)
		out = append(out, b)
	}
	return out
}

func (r *rig) suspended(t *testing.T, a *testkit.Acct) []map[string]any {
	t.Helper()
	return a.Do(t, a.Admin, "GET", "/api/v2/suspended_tickets.json", nil).Want(t, 200).List("suspended_tickets")
}

func msg(from, to, subject, extra, body string) string {
	return "From: " + from + "\nTo: " + to + "\nSubject: " + subject + "\nMessage-ID: <" + fmt.Sprint(time.Now().UnixNano()) + "@sender.test>\n" + extra +
		"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body + "\n"
}

// TestInbound: a message to a support address becomes a ticket from a new end user
// with the Cc'd people on it; replies thread by reply token and by subject marker from
// the requester; a stranger's reply makes a new ticket; the same Message-ID again makes
// nothing; quoted history is trimmed from replies.
func TestInbound(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		ctx := context.Background()
		first := "From: Jane Doe <jane@customer.test>\nTo: support@acme.localhost\nCc: Bob <bob@customer.test>\nSubject: =?UTF-8?Q?Printer_on_fire_=F0=9F=94=A5?=\nMessage-ID: <m1@customer.test>\n" +
			"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nIt is on fire.\n"
		r.mustSend(t, "jane@customer.test", []string{"support@acme.localhost"}, first)
		r.settle(t)
		list := r.tickets(t, r.acme)
		if len(list) != 1 {
			t.Fatalf("acme has %d tickets, want 1", len(list))
		}
		tk := list[0]
		if tk.Subject != "Printer on fire 🔥" || tk.Via.Channel != "email" || tk.Recipient != "support@acme.localhost" {
			t.Fatalf("ticket = %q via %q recipient %q", tk.Subject, tk.Via.Channel, tk.Recipient)
		}
		jane, err := identity.ByEmail(ctx, db.R(), r.acme.ID, "jane@customer.test")
		if err != nil || jane.Role != identity.EndUser || tk.RequesterID != jane.ID {
			t.Fatalf("requester %v (%v), want new end user jane", tk.RequesterID, err)
		}
		bob, err := identity.ByEmail(ctx, db.R(), r.acme.ID, "bob@customer.test")
		if err != nil || len(tk.EmailCCIDs) != 1 || tk.EmailCCIDs[0] != bob.ID {
			t.Fatalf("email CCs = %v, want bob (%v)", tk.EmailCCIDs, err)
		}
		if len(r.tickets(t, r.globex)) != 0 {
			t.Fatal("globex got a ticket")
		}

		// The same message again (a retry by the sender's MTA): nothing new.
		r.mustSend(t, "jane@customer.test", []string{"support@acme.localhost"}, first)
		r.settle(t)
		if n := len(r.tickets(t, r.acme)); n != 1 {
			t.Fatalf("a duplicate Message-ID made a ticket: %d tickets", n)
		}

		// A reply to Tandem's mail, found by the token in In-Reply-To; history trimmed.
		var tok string
		if err := db.Write(ctx, func(tx *store.Tx) error {
			tok, err = mailthread.Token(ctx, tx, int64(r.acme.ID), int64(tk.ID))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		mid := mailthread.MessageID(tok, "acme.localhost")
		r.mustSend(t, "jane@customer.test", []string{"support@acme.localhost"},
			msg("jane@customer.test", "support@acme.localhost", "Re: Printer", "In-Reply-To: "+mid+"\n",
				"Still burning.\n\nOn Mon, 1 Dec 2026 at 10:00, Acme Support <support@acme.localhost> wrote:\n> We are on it.\n> Regards"))
		// Bob replies to the plus-address only (no headers to go by).
		r.mustSend(t, "bob@customer.test", []string{mailthread.ReplyAddress("support@acme.localhost", tok)},
			msg("bob@customer.test", mailthread.ReplyAddress("support@acme.localhost", tok), "Re: hm", "", "Me too.\n-- \nBob, Customer Inc."))
		// Jane again, by subject marker only.
		r.mustSend(t, "jane@customer.test", []string{"support@acme.localhost"},
			msg("jane@customer.test", "support@acme.localhost", fmt.Sprintf("Re: [#%d] Printer", tk.ID), "", "Any news?"))
		r.settle(t)
		// Messages of different senders are processed in parallel: compare as sets.
		got := r.comments(t, r.acme, tk.ID)
		want := []string{"It is on fire.", "Still burning.", "Me too.", "Any news?"}
		slices.Sort(got)
		slices.Sort(want)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("comments = %q, want %q", got, want)
		}

		// A stranger using the subject marker, or even the token: a new ticket.
		r.mustSend(t, "mallory@evil.test", []string{"support@acme.localhost"},
			msg("mallory@evil.test", "support@acme.localhost", fmt.Sprintf("Re: [#%d] Printer", tk.ID), "In-Reply-To: "+mid+"\n", "Let me in"))
		r.settle(t)
		if got := r.comments(t, r.acme, tk.ID); len(got) != 4 {
			t.Fatalf("a stranger's mail became comment %q on someone else's ticket", got[len(got)-1])
		}
		if n := len(r.tickets(t, r.acme)); n != 2 {
			t.Fatalf("acme has %d tickets, want 2 (the stranger's own)", n)
		}

		// The original email of a comment is kept whole.
		var cid ids.Comment
		if err := db.R().QueryRowContext(ctx, `SELECT comment_id FROM mail_inbox WHERE account_id = ? AND ticket_id = ? AND comment_id IS NOT NULL ORDER BY id LIMIT 1 OFFSET 1`, r.acme.ID, tk.ID).Scan(&cid); err != nil {
			t.Fatal(err)
		}
		orig, err := r.d.Srv.Mail.Original(ctx, r.acme.ID, tk.ID, cid)
		if err != nil || !strings.Contains(string(orig), "> We are on it.") {
			t.Fatalf("original = %q, %v", orig, err)
		}
		if _, err := r.d.Srv.Mail.Original(ctx, r.globex.ID, tk.ID, cid); err == nil {
			t.Fatal("globex read acme's original email")
		}
	})
}

// TestRefusals: unknown recipients get 550, too large messages 552 naming the limit,
// and nothing is stored for either.
func TestRefusals(t *testing.T) {
	t.Parallel()
	r := newRig(t, storetest.Open(t, store.SQLite))
	err := r.send("a@b.test", []string{"nobody@acme.localhost"}, msg("a@b.test", "x", "s", "", "b"))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 {
		t.Fatalf("unknown recipient: %v, want 550", err)
	}
	err = r.send("a@b.test", []string{"support+tkt-notatoken@acme.localhost"}, msg("a@b.test", "x", "s", "", "b"))
	if !errors.As(err, &se) || se.Code != 550 {
		t.Fatalf("bad plus-address: %v, want 550", err)
	}
	big := msg("a@b.test", "support@acme.localhost", "big", "", strings.Repeat("0123456789abcdef\n", testMaxSize/17+10))
	err = r.send("a@b.test", []string{"support@acme.localhost"}, big)
	if !errors.As(err, &se) || se.Code != 552 || !strings.Contains(se.Message, fmt.Sprint(testMaxSize)) {
		t.Fatalf("too big: %v, want 552 naming %d", err, testMaxSize)
	}
	// Just under the limit (and over the in-row size): spooled to a file, a ticket.
	ok := msg("a@b.test", "support@acme.localhost", "large", "", strings.Repeat("0123456789abcdef\n", testMaxSize/20))
	r.mustSend(t, "a@b.test", []string{"support@acme.localhost"}, ok)
	r.settle(t)
	var n, spooled int
	_ = r.d.DB.R().QueryRowContext(context.Background(), `SELECT COUNT(*), COUNT(CASE WHEN spool_path <> '' THEN 1 END) FROM mail_inbox`).Scan(&n, &spooled)
	if n != 1 || spooled != 1 {
		t.Fatalf("inbox has %d rows (%d spooled), want the one large message, spooled", n, spooled)
	}
	if list := r.tickets(t, r.acme); len(list) != 1 || list[0].Subject != "large" {
		t.Fatalf("tickets = %v", list)
	}
}

// TestSuspended: automated, spoofed and too frequent mail is suspended with its cause;
// an agent recovers one (a ticket) and deletes another; a loop with an autoresponder
// stops at once.
func TestSuspended(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		to := []string{"support@acme.localhost"}
		cases := []struct{ from, extra, cause string }{
			{"ooo@customer.test", "Auto-Submitted: auto-replied\n", "Automated response mail"},
			{"ooo2@customer.test", "X-Autoreply: yes\n", "Automated response mail"},
			{"news@customer.test", "Precedence: bulk\n", "Automated response mail"},
			{"MAILER-DAEMON@customer.test", "", "delivery failed"},
			{"spoof@customer.test", "Authentication-Results: mx.trusted.test; dmarc=fail header.from=customer.test\n", "DMARC"},
			{"support@globex.localhost", "", "support address"},
		}
		for _, c := range cases {
			r.mustSend(t, c.from, to, msg(c.from, to[0], "auto "+c.from, c.extra, "I am away."))
		}
		// A null return path (a bounce).
		r.mustSend(t, "", to, msg("someone@customer.test", to[0], "bounce", "", "Undeliverable"))
		// An untrusted relay's failing result is not believed.
		r.mustSend(t, "fine@customer.test", to, msg("fine@customer.test", to[0], "fine", "Authentication-Results: other.test; dmarc=fail\n", "hello"))
		r.settle(t)
		list := r.suspended(t, r.acme)
		if len(list) != len(cases)+1 {
			t.Fatalf("%d suspended, want %d: %v", len(list), len(cases)+1, list)
		}
		causes := ""
		for _, s := range list {
			causes += s["cause"].(string) + "|"
		}
		for _, c := range cases {
			if !strings.Contains(causes, c.cause) {
				t.Errorf("no suspended ticket with cause %q in %s", c.cause, causes)
			}
		}
		if n := len(r.tickets(t, r.acme)); n != 1 {
			t.Fatalf("acme has %d tickets, want 1 (fine@)", n)
		}
		if len(r.suspended(t, r.globex)) != 0 {
			t.Fatal("globex sees acme's suspended tickets")
		}
		// An end user may not see them.
		eu := r.acme.User(t, identity.EndUser, "eu@customer.test", "EU")
		r.acme.Do(t, eu, "GET", "/api/v2/suspended_tickets.json", nil).Want(t, 403)

		// Recover the auto-reply: a ticket, and it leaves the list; delete another.
		// The out-of-office reply (the worker takes senders in parallel: find it by sender).
		var id int64
		for _, st := range list {
			if st["author"].(map[string]any)["email"] == "ooo@customer.test" {
				id = testkit.ID(st, "id")
			}
		}
		r.globex.Do(t, r.globex.Admin, "PUT", fmt.Sprintf("/api/v2/suspended_tickets/%d/recover.json", id), nil).Want(t, 404)
		rec := r.acme.Do(t, r.acme.Admin, "PUT", fmt.Sprintf("/api/v2/suspended_tickets/%d/recover.json", id), nil).Want(t, 200).Obj("ticket")
		if rec["subject"] != "auto ooo@customer.test" {
			t.Fatalf("recovered ticket = %v", rec)
		}
		del := testkit.ID(list[0], "id")
		if del == id {
			del = testkit.ID(list[1], "id")
		}
		r.acme.Do(t, r.acme.Admin, "DELETE", fmt.Sprintf("/api/v2/suspended_tickets/%d.json", del), nil).Want(t, 204)
		r.acme.Do(t, r.acme.Admin, "GET", fmt.Sprintf("/api/v2/suspended_tickets/%d.json", id), nil).Want(t, 404)
		if n := len(r.suspended(t, r.acme)); n != len(cases)-1 {
			t.Fatalf("%d suspended after recover and delete, want %d", n, len(cases)-1)
		}

		// An autoresponder that marks nothing answers every message: after the sender's
		// hourly rate, its mail is suspended, so no loop can grow.
		for i := 0; i < 20; i++ {
			r.mustSend(t, "bot@loop.test", to, msg("bot@loop.test", to[0], fmt.Sprintf("Re: your request %d", i), "", "Thank you for your message."))
		}
		r.settle(t)
		var made int
		_ = db.R().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM tickets t JOIN users u ON u.id = t.requester_id WHERE t.account_id = ? AND u.email = 'bot@loop.test'`, r.acme.ID).Scan(&made)
		if made != 8 {
			t.Fatalf("the autoresponder made %d tickets, want the rate of 8", made)
		}
	})
}

// TestTenantIsolation: mail delivered to acme lands in acme whatever it claims:
// globex's reply token in In-Reply-To, globex's ticket number in the subject, globex's
// address in To.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	r := newRig(t, storetest.Open(t, store.SQLite))
	ctx := context.Background()
	r.mustSend(t, "g@globex-customer.test", []string{"support@globex.localhost"}, msg("g@globex-customer.test", "support@globex.localhost", "globex issue", "", "secret"))
	r.settle(t)
	gt := r.tickets(t, r.globex)
	if len(gt) != 1 {
		t.Fatalf("globex has %d tickets", len(gt))
	}
	var tok string
	if err := r.d.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		tok, err = mailthread.Token(ctx, tx, int64(r.globex.ID), int64(gt[0].ID))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The same sender, so that only the account boundary stops the threading.
	r.mustSend(t, "g@globex-customer.test", []string{"support@acme.localhost"},
		msg("g@globex-customer.test", "support@globex.localhost, "+mailthread.ReplyAddress("support@globex.localhost", tok), fmt.Sprintf("Re: [#%d] globex issue", gt[0].ID),
			"In-Reply-To: "+mailthread.MessageID(tok, "globex.localhost")+"\nReferences: <m@x> "+mailthread.MessageID(tok, "globex.localhost")+"\n", "injected"))
	r.settle(t)
	if got := r.comments(t, r.globex, gt[0].ID); len(got) != 1 {
		t.Fatalf("globex's ticket got comments from mail to acme: %q", got)
	}
	at := r.tickets(t, r.acme)
	if len(at) != 1 || r.comments(t, r.acme, at[0].ID)[0] != "injected" {
		t.Fatalf("acme tickets = %d, want the message as acme's own new ticket", len(at))
	}
}

// TestSupportAddresses: every account has its default address (created on first use for
// accounts older than addresses); admins add others, with a From name and a default
// group; a new address is verified only when its verification code comes back through
// the inbound path; mail to it then routes to its account and group.
func TestSupportAddresses(t *testing.T) {
	t.Parallel()
	r := newRig(t, storetest.Open(t, store.SQLite))
	a := r.acme
	list := a.Do(t, a.Admin, "GET", "/api/v2/recipient_addresses.json", nil).Want(t, 200).List("recipient_addresses")
	if len(list) != 1 || list[0]["email"] != "support@acme.localhost" || list[0]["default"] != true || list[0]["forwarding_status"] != "verified" {
		t.Fatalf("addresses = %v", list)
	}
	agent := a.User(t, identity.Agent, "agent@acme.test", "Agent")
	a.Do(t, agent, "GET", "/api/v2/recipient_addresses.json", nil).Want(t, 403)
	grp := a.Do(t, a.Admin, "POST", "/api/v2/groups.json", map[string]any{"group": map[string]any{"name": "Billing"}}).Want(t, 201).Obj("group")
	created := a.Do(t, a.Admin, "POST", "/api/v2/recipient_addresses.json", map[string]any{"recipient_address": map[string]any{
		"email": "Billing@Acme.example", "name": "Acme Billing", "group_id": grp["id"]}}).Want(t, 201).Obj("recipient_address")
	if created["email"] != "billing@acme.example" || created["forwarding_status"] != "waiting" || created["name"] != "Acme Billing" {
		t.Fatalf("created = %v", created)
	}
	id := testkit.ID(created, "id")
	// Globex cannot take it, see it or change it.
	r.globex.Do(t, r.globex.Admin, "POST", "/api/v2/recipient_addresses.json", map[string]any{"recipient_address": map[string]any{"email": "billing@acme.example"}}).Want(t, 422)
	r.globex.Do(t, r.globex.Admin, "GET", fmt.Sprintf("/api/v2/recipient_addresses/%d.json", id), nil).Want(t, 404)
	r.globex.Do(t, r.globex.Admin, "DELETE", fmt.Sprintf("/api/v2/recipient_addresses/%d.json", id), nil).Want(t, 404)
	a.Do(t, a.Admin, "POST", "/api/v2/recipient_addresses.json", map[string]any{"recipient_address": map[string]any{"email": "not an address"}}).Want(t, 422)
	a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/recipient_addresses/%d.json", testkit.ID(list[0], "id")), nil).Want(t, 422)

	// The verification message comes back, forwarded to the default address.
	var token string
	_ = r.d.DB.R().QueryRowContext(context.Background(), `SELECT verify_token FROM recipient_addresses WHERE id = ?`, id).Scan(&token)
	r.mustSend(t, "billing@acme.example", []string{"support@acme.localhost"},
		msg("Acme Support <support@acme.localhost>", "billing@acme.example", "Verify", "", "Verification code: "+token))
	r.settle(t)
	got := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/recipient_addresses/%d.json", id), nil).Want(t, 200).Obj("recipient_address")
	if got["forwarding_status"] != "verified" {
		t.Fatalf("after the verification came back: %v", got)
	}
	if n := len(r.tickets(t, a)); n != 0 {
		t.Fatalf("the verification message made %d tickets", n)
	}
	// Mail to the new address (directly or forwarded) goes to acme, in its group.
	r.mustSend(t, "c@customer.test", []string{"billing@acme.example"}, msg("c@customer.test", "billing@acme.example", "invoice", "", "wrong amount"))
	r.settle(t)
	list2 := r.tickets(t, a)
	if len(list2) != 1 || list2[0].Recipient != "billing@acme.example" || int64(list2[0].GroupID) != testkit.ID(grp, "id") {
		t.Fatalf("tickets = %+v", list2)
	}
	a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/recipient_addresses/%d.json", id), map[string]any{"recipient_address": map[string]any{"default": true}}).Want(t, 200)
	list = a.Do(t, a.Admin, "GET", "/api/v2/recipient_addresses.json", nil).Want(t, 200).List("recipient_addresses")
	if list[0]["email"] != "billing@acme.example" || list[1]["default"] != false {
		t.Fatalf("after make default: %v", list)
	}
	a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/recipient_addresses/%d.json", testkit.ID(list[1], "id")), nil).Want(t, 204)
}

// TestFreshHandoff: messages the listener hands to the worker (SQLite: without reading
// them back) become tickets as before, one message to two accounts' addresses one
// ticket in each with that account's recipient, and nothing is left in the handoff.
func TestFreshHandoff(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		r.mustSend(t, "jane@customer.test", []string{"support@acme.localhost", "support@globex.localhost"},
			msg("Jane <jane@customer.test>", "support@acme.localhost, support@globex.localhost", "Both", "", "To both of you."))
		for i := range 3 {
			r.mustSend(t, "bob@customer.test", []string{"support@acme.localhost"},
				msg("Bob <bob@customer.test>", "support@acme.localhost", fmt.Sprint("Bob ", i), "", "Hello."))
		}
		r.settle(t)
		if n := r.d.Srv.Mail.FreshRows(); n != 0 {
			t.Errorf("%d rows left in the handoff", n)
		}
		acme, globex := r.tickets(t, r.acme), r.tickets(t, r.globex)
		if len(acme) != 4 || len(globex) != 1 {
			t.Fatalf("acme %d tickets, globex %d: want 4 and 1", len(acme), len(globex))
		}
		if acme[0].Recipient != "support@acme.localhost" || globex[0].Recipient != "support@globex.localhost" {
			t.Errorf("recipients %q (acme), %q (globex)", acme[0].Recipient, globex[0].Recipient)
		}
		for _, tk := range append(acme, globex...) {
			if tk.Via.Channel != "email" {
				t.Errorf("ticket %d via %q", tk.ID, tk.Via.Channel)
			}
		}
	})
}
