package mailin_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
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
// it: DKIM-signed (verified by go-msgauth), the file attached; the customer's answer to
// the reply goes back through Postfix and lands on the same ticket.
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
	keyFile := filepath.Join(t.TempDir(), "dkim.pem")
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := send.ParseDKIMKeys(postfixMail + ":tandem:" + keyFile)
	if err != nil {
		t.Fatal(err)
	}
	record, _ := keys[0].PublicRecord()

	d := testkit.StartDB(t, storetest.Open(t, store.SQLite), func(c *server.Config) {
		c.SMTPAddr = relayTarget
		c.MailDomain = postfixMail
		c.MailSpoolDir = t.TempDir()
		c.SMTPRelay = "smtp://" + postfixAddr
		c.DKIMKeys = keys
		c.MailMaxBackoff = time.Second
	})
	acme := d.Account(t, "acme", account.Enterprise)
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
			if name != "tandem._domainkey."+postfixMail {
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
}
