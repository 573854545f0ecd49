package send_test

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/mail/send/smtptest"
	"tandem/internal/mailthread"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// verpRE is the shape of an outgoing mail's envelope sender: its own bounce address.
var verpRE = regexp.MustCompile(`^bounces\+[a-z2-7]{26}@[a-z0-9.-]+$`)

func relayed(relay *smtptest.Server) testkit.Option {
	return func(c *server.Config) {
		c.SMTPRelay = relay.URL()
		c.MailMaxBackoff = 100 * time.Millisecond
	}
}

// parsed is a received mail read back as a mail client would.
type parsed struct {
	h          mail.Header
	text, html string
}

func parse(t *testing.T, m smtptest.Mail) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("received mail does not parse: %v\n%s", err, m.Data)
	}
	p := parsed{h: msg.Header}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part) // NextPart decodes quoted-printable
		if strings.HasPrefix(part.Header.Get("Content-Type"), "text/html") {
			p.html = string(b)
		} else {
			p.text = string(b)
		}
	}
	return p
}

var replyRE = regexp.MustCompile(`reply (\d)`)

// TestRelayDownThenBackAfterRestart: mail queued while the relay is down survives a
// restart of Tandem (a new server on the same database) and, once the relay answers,
// is delivered exactly once, in order per ticket, threaded and with the headers a mail
// client needs.
func TestRelayDownThenBackAfterRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		relay := smtptest.Down(t)
		d := testkit.StartDB(t, db, relayed(relay))
		a := d.Account(t, "acme", account.Enterprise)
		alice := a.User(t, identity.EndUser, "alice@example.test", "Alice Example")
		var tickets []int64
		for i := range 2 {
			tk := a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
				"subject": fmt.Sprintf("Printer %d", i), "requester_id": alice.UserID, "comment": map[string]any{"body": "It is on fire"}}}).Want(t, http.StatusCreated).Obj("ticket")
			tickets = append(tickets, testkit.ID(tk, "id"))
		}
		for i := range 3 {
			for _, id := range tickets {
				a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{
					"comment": map[string]any{"body": fmt.Sprintf("reply %d", i), "public": true}}}).Want(t, http.StatusOK)
			}
			// An internal note is never mailed to the requester.
			a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tickets[0]), map[string]any{"ticket": map[string]any{
				"comment": map[string]any{"body": "secret note", "public": false}}}).Want(t, http.StatusOK)
		}
		var pending int
		if err := db.R().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM mail_outbox WHERE status = 'pending'`).Scan(&pending); err != nil || pending != 8 {
			rows, _ := db.R().QueryContext(t.Context(), `SELECT status, last_error FROM mail_outbox`)
			for rows.Next() {
				var a, b string
				_ = rows.Scan(&a, &b)
				t.Log(a, b)
			}
			rows.Close()
			t.Fatalf("pending mail = %d (%v), want 8 (2 received + 6 replies)", pending, err)
		}
		d.Stop()
		relay.Up(t)
		d2 := testkit.StartDB(t, db, relayed(relay))
		testkit.Eventually(t, 20*time.Second, "the queue drains", func() bool { return d2.Srv.MailOut.Drained(t.Context()) })
		mails := relay.Mails()
		if len(mails) != 8 {
			t.Fatalf("relay got %d mails, want 8", len(mails))
		}
		seen := map[string]bool{}
		lastReply := map[string]int{}
		for _, m := range mails {
			p := parse(t, m)
			id := p.h.Get("Message-ID")
			if seen[id] {
				t.Fatalf("message %s delivered twice", id)
			}
			seen[id] = true
			if m.To[0] != "alice@example.test" || !verpRE.MatchString(m.From) || !strings.HasSuffix(m.From, "@acme.localhost") || !strings.Contains(p.h.Get("From"), "support@acme.localhost") {
				t.Fatalf("envelope %s -> %v", m.From, m.To)
			}
			if strings.Contains(p.text, "secret note") || strings.Contains(p.html, "secret note") {
				t.Fatalf("an internal note reached the requester:\n%s", p.text)
			}
			toks := mailthread.TokensIn(id, p.h.Get("Reply-To"))
			if len(toks) != 1 || !strings.Contains(p.h.Get("Reply-To"), "support+tkt-") || p.h.Get("Auto-Submitted") != "auto-replied" {
				t.Fatalf("threading headers: Message-ID %q Reply-To %q Auto-Submitted %q", id, p.h.Get("Reply-To"), p.h.Get("Auto-Submitted"))
			}
			if p.html == "" || p.text == "" {
				t.Fatalf("want text and HTML parts, got text %q html %q", p.text, p.html)
			}
			subj := p.h.Get("Subject")
			if m := replyRE.FindStringSubmatch(p.text); m != nil {
				n, _ := strconv.Atoi(m[1])
				if n != lastReply[subj] {
					t.Fatalf("ticket %q: got reply %d, want reply %d next (in order)", subj, n, lastReply[subj])
				}
				lastReply[subj] = n + 1
				if p.h.Get("In-Reply-To") == "" || !strings.Contains(p.h.Get("References"), p.h.Get("In-Reply-To")) {
					t.Fatalf("a reply mail lacks In-Reply-To/References: %q %q", p.h.Get("In-Reply-To"), p.h.Get("References"))
				}
			}
		}
		for subj, next := range lastReply {
			if next != 3 {
				t.Fatalf("ticket %q: got replies up to %d, want 0..2", subj, next-1)
			}
		}
	})
}

// TestPermanentFailureShownOnTicket: a 5xx answer is not retried; the ticket's audit
// records it (the agent's ticket page shows it: internal/web's TestOutgoingMailPages).
// A 4xx answer is retried.
func TestPermanentFailureShownOnTicket(t *testing.T) {
	t.Parallel()
	relay := smtptest.Start(t)
	relay.Refuse("gone@example.test", 550)
	relay.Refuse("busy@example.test", 451)
	d := testkit.Start(t, store.SQLite, relayed(relay))
	a := d.Account(t, "acme", account.Enterprise)
	gone := a.User(t, identity.EndUser, "gone@example.test", "Gone Person")
	busy := a.User(t, identity.EndUser, "busy@example.test", "Busy Person")
	mk := func(who testkit.Cred) int64 {
		return testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
			"subject": "Hello", "requester_id": who.UserID, "comment": map[string]any{"body": "hi"}}}).Want(t, http.StatusCreated).Obj("ticket"), "id")
	}
	goneTicket, _ := mk(gone), mk(busy)
	testkit.Eventually(t, 10*time.Second, "the failure is on the ticket", func() bool {
		for _, au := range a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", goneTicket), nil).Want(t, 200).List("audits") {
			evs, _ := au["events"].([]any)
			for _, e := range evs {
				if ev, _ := e.(map[string]any); ev["type"] == "EmailDeliveryFailure" && strings.Contains(fmt.Sprint(ev["reason"]), "550") {
					return true
				}
			}
		}
		return false
	})
	var dead, retrying, attempts int
	q := d.DB.R()
	_ = q.QueryRowContext(t.Context(), `SELECT COUNT(*), MAX(attempts) FROM mail_outbox WHERE status = 'dead' AND rcpt_to = 'gone@example.test'`).Scan(&dead, &attempts)
	if dead != 1 || attempts != 1 {
		t.Fatalf("550: dead rows %d after %d attempts, want 1 after 1", dead, attempts)
	}
	testkit.Eventually(t, 10*time.Second, "451 is retried", func() bool {
		_ = q.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM mail_outbox WHERE status = 'pending' AND rcpt_to = 'busy@example.test' AND attempts >= 2`).Scan(&retrying)
		return retrying == 1
	})
}

// TestTenantsAndHostileNames: each account's mail carries only its own address and
// data, and names and subjects with line breaks cannot add headers or recipients.
func TestTenantsAndHostileNames(t *testing.T) {
	t.Parallel()
	relay := smtptest.Start(t)
	d := testkit.Start(t, store.SQLite, relayed(relay))
	for _, sub := range []string{"acme", "globex"} {
		a := d.Account(t, sub, account.Enterprise)
		eve := a.User(t, identity.EndUser, "eve@"+sub+".example", "Eve\r\nBcc: victim@evil.example")
		a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
			"subject": "Secret of " + sub + "\r\nBcc: victim@evil.example\r\n\r\nbody", "requester_id": eve.UserID, "comment": map[string]any{"body": "hi"}}})
	}
	testkit.Eventually(t, 10*time.Second, "both mails arrive", func() bool { return relay.Count() >= 2 && d.Srv.MailOut.Drained(t.Context()) })
	for _, m := range relay.Mails() {
		if len(m.To) != 1 || strings.Contains(string(m.Data), "\nBcc:") || strings.Contains(strings.ToLower(string(m.Data)), "\r\nbcc:") {
			t.Fatalf("hostile name or subject changed the mail: to %v\n%s", m.To, m.Data)
		}
		p := parse(t, m)
		sub := strings.TrimSuffix(strings.TrimPrefix(m.To[0], "eve@"), ".example")
		other := map[string]string{"acme": "globex", "globex": "acme"}[sub]
		if !verpRE.MatchString(m.From) || !strings.HasSuffix(m.From, "@"+sub+".localhost") || !strings.Contains(p.h.Get("From"), "support@"+sub+".localhost") || strings.Contains(string(m.Data), other) {
			t.Fatalf("mail to %s carries another account's data (from %s):\n%s", m.To[0], m.From, m.Data)
		}
		dec := new(mime.WordDecoder)
		subj, _ := dec.DecodeHeader(p.h.Get("Subject"))
		if !strings.Contains(subj, "Secret of "+sub) {
			t.Fatalf("subject %q", subj)
		}
	}
}
