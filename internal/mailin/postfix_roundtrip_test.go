package mailin_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/jhillyerd/enmime/v2"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/mail/send"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// postfixMaildir is where .ci/postfix has Postfix deliver mail for mailout.test.
const postfixMaildir = "/var/mail/tandem-mailout"

// maildirWith waits for n messages in the Maildir that contain marker and returns them.
func maildirWith(t *testing.T, marker string, n int) [][]byte {
	t.Helper()
	var found [][]byte
	var paths []string
	testkit.Eventually(t, 60*time.Second, fmt.Sprintf("postfix to deliver %d mail(s) for %s to %s", n, marker, postfixMaildir), func() bool {
		found, paths = found[:0], paths[:0]
		for _, sub := range []string{"new", "cur"} {
			entries, _ := os.ReadDir(filepath.Join(postfixMaildir, sub))
			for _, e := range entries {
				p := filepath.Join(postfixMaildir, sub, e.Name())
				b, err := os.ReadFile(p)
				if err == nil && bytes.Contains(b, []byte(marker)) {
					found, paths = append(found, b), append(paths, p)
				}
			}
		}
		return len(found) >= n
	})
	t.Cleanup(func() {
		for _, p := range paths {
			os.Remove(p) // the test's own mail only: the Maildir is shared by runs
		}
	})
	return found
}

// TestPostfixRoundTrip: the whole email loop through a real Postfix. A customer's
// message submitted to Postfix is relayed to Tandem's listener and becomes a ticket;
// Tandem's mail (the receipt, then the agent's reply with a file) leaves through Postfix
// as its relay (--smtp-relay) and is delivered to a local Maildir, where the test reads
// it: DKIM-signed with the account's own key (generated through the API, verified by
// go-msgauth against the record the API shows), its envelope sender the mail's VERP
// bounce address, the file attached; the customer's answer to the reply goes back
// through Postfix and lands on the same ticket. Then mail to an address Postfix cannot
// deliver to makes Postfix send a real bounce to that envelope sender, which comes
// back through Postfix to the listener and fails exactly that mail.
func TestPostfixRoundTrip(t *testing.T) {
	needPostfix(t)
	if _, err := os.Stat(postfixMaildir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: %s", postfixMaildir, postfixSetup)
		}
		t.Skipf("%s is missing: %s", postfixMaildir, postfixSetup)
	}
	if ln, err := net.Listen("tcp", relayTarget); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the relay target %s is taken: %v", relayTarget, err)
		}
		t.Skipf("the relay target %s is taken (another run?): %v", relayTarget, err)
	} else {
		ln.Close()
	}
	d := testkit.StartDB(t, storetest.Open(t, store.SQLite), func(c *server.Config) {
		c.SMTPAddr = relayTarget
		c.MailDomain = postfixMail
		c.MailSpoolDir = t.TempDir()
		c.SMTPRelay = "smtp://" + postfixAddr
		c.SecretKey = "postfix-test-secret-key-0123456789"
		c.MailMaxBackoff = time.Second
	})
	acme := d.Account(t, "acme", account.Enterprise)
	key := acme.Do(t, acme.Admin, "POST", "/api/v2/dkim_key", map[string]any{}).Want(t, http.StatusCreated).Obj("dkim_key")
	dnsName, record := key["dns_name"].(string), key["dns_record"].(string)
	if dnsName != key["selector"].(string)+"._domainkey.acme."+postfixMail {
		t.Fatalf("dkim key %v", key)
	}
	ctx := context.Background()
	support := "support@acme." + postfixMail
	customer := fmt.Sprintf("jane-%d@mailout.test", time.Now().UnixNano())

	// In: customer → Postfix → listener → ticket.
	if err := sendSMTP(postfixAddr, customer, []string{support},
		msg("Jane <"+customer+">", support, "Lamp broken", "", "My lamp arrived broken.")); err != nil {
		t.Fatalf("submit to postfix: %v", err)
	}
	var tid int64
	testkit.Eventually(t, 60*time.Second, "postfix to relay the message into a ticket", func() bool {
		return d.DB.R().QueryRowContext(ctx, `SELECT id FROM tickets WHERE account_id = ? AND subject = 'Lamp broken'`, acme.ID).Scan(&tid) == nil
	})

	// Out: the agent's public reply with a file → Postfix → Maildir.
	manual := []byte("Step 1: unplug the lamp.\n")
	up := acme.Do(t, acme.Admin, "POST", "/api/v2/uploads.json?filename=manual.txt", manual).Want(t, http.StatusCreated).Obj("upload")
	acme.Do(t, acme.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tid), map[string]any{"ticket": map[string]any{
		"comment": map[string]any{"body": "Sorry! The manual is attached.", "public": true, "uploads": []any{up["token"]}}}}).Want(t, http.StatusOK)
	var reply []byte
	for _, m := range maildirWith(t, customer, 2) { // the receipt and the reply
		vs, err := dkim.VerifyWithOptions(bytes.NewReader(m), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
			if name != dnsName {
				return nil, fmt.Errorf("no record at %s", name)
			}
			return []string{record}, nil
		}})
		if err != nil || len(vs) != 1 || vs[0].Err != nil {
			t.Fatalf("mail delivered by postfix does not verify (%v, %v):\n%s", err, vs, m)
		}
		if !bytes.Contains(m, []byte("Received: from")) {
			t.Fatalf("the delivered mail did not pass through postfix:\n%s", m)
		}
		// Postfix's delivery agent writes the envelope sender as Return-Path.
		if !bytes.Contains(m, []byte("Return-Path: <bounces+")) || !bytes.Contains(m, []byte("@acme."+postfixMail+">")) {
			t.Fatalf("the delivered mail's envelope sender is not its VERP address:\n%.600s", m)
		}
		if bytes.Contains(m, []byte("The manual is attached")) {
			reply = m
		}
	}
	if reply == nil {
		t.Fatal("the agent's reply was not delivered")
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(reply))
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Attachments) != 1 || env.Attachments[0].FileName != "manual.txt" || !bytes.Equal(env.Attachments[0].Content, manual) {
		t.Fatalf("the reply's attachments = %d, want manual.txt", len(env.Attachments))
	}

	// In again: the customer answers the reply (to its Reply-To) → same ticket.
	replyTo := env.GetHeader("Reply-To")
	addr := replyTo[strings.LastIndexByte(replyTo, '<')+1 : strings.LastIndexByte(replyTo, '>')]
	if err := sendSMTP(postfixAddr, customer, []string{addr}, msg("Jane <"+customer+">", addr, "Re: Lamp broken",
		"In-Reply-To: "+env.GetHeader("Message-ID")+"\n", "Thanks, that worked.")); err != nil {
		t.Fatalf("submit the answer to postfix: %v", err)
	}
	testkit.Eventually(t, 60*time.Second, "the answer to thread onto the ticket", func() bool {
		var n int
		err := d.DB.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM ticket_comments WHERE account_id = ? AND ticket_id = ? AND body LIKE 'Thanks, that worked.%'`, acme.ID, tid).Scan(&n)
		return err == nil && n == 1
	})
	jane, err := identity.ByEmail(ctx, d.DB.R(), acme.ID, customer)
	if err != nil || jane.Role != identity.EndUser {
		t.Fatalf("customer %v, %v", jane, err)
	}

	// A real bounce: Postfix takes the receipt to an address it relays to the
	// listener, which refuses it (no such support address: 550); Postfix bounces it
	// to the receipt's VERP address, which it relays to the listener too: the
	// receipt is failed and the address bouncing.
	ghost := fmt.Sprintf("ghost-%d@nowhere.%s", time.Now().UnixNano(), postfixMail)
	u := acme.User(t, identity.EndUser, ghost, "Ghost")
	acme.Do(t, acme.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
		"subject": "For the ghost", "requester_id": u.UserID, "comment": map[string]any{"body": "Boo."}}}).Want(t, http.StatusCreated)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		rows, err := d.DB.R().QueryContext(ctx, `SELECT rcpt, mail_from, state, raw FROM mail_inbox WHERE account_id = ? ORDER BY id`, acme.ID)
		if err != nil {
			return
		}
		defer rows.Close()
		for rows.Next() {
			var rcpt, from, state string
			var raw []byte
			_ = rows.Scan(&rcpt, &from, &state, &raw)
			t.Logf("inbox: to %s from %q: %s\n%.1500s", rcpt, from, state, raw)
		}
	})
	testkit.Eventually(t, 90*time.Second, "postfix's bounce to fail the mail to "+ghost, func() bool {
		var status, lastErr string
		err := d.DB.R().QueryRowContext(ctx, `SELECT status, last_error FROM mail_outbox WHERE account_id = ? AND rcpt_to = ?`, acme.ID, ghost).Scan(&status, &lastErr)
		return err == nil && status == "dead" && strings.HasPrefix(lastErr, "Bounced: ")
	})
	if b, ok, err := send.BouncingAddress(ctx, d.DB.R(), acme.ID, ghost); err != nil || !ok || !strings.HasPrefix(b.Status, "5.") {
		t.Fatalf("bouncing address %v %v %v", b, ok, err)
	}
	var suspended int
	if err := d.DB.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM suspended_tickets WHERE account_id = ?`, acme.ID).Scan(&suspended); err != nil || suspended != 0 {
		t.Fatalf("suspended tickets: %d %v", suspended, err)
	}
}
