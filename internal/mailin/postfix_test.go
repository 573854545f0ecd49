package mailin_test

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// The real MTA of the end-to-end test: Debian's Postfix, set up by .ci/postfix to listen
// on loopback and relay mail for mailin.test and its subdomains to 127.0.0.1:10026.
const (
	postfixAddr  = "127.0.0.1:25"
	relayTarget  = "127.0.0.1:10026"
	postfixMail  = "mailin.test"
	postfixSetup = "run .ci/postfix (as root) to install and start it"
)

// needPostfix skips the test when Postfix is not there, except in CI (CI set), where
// it fails: CI installs it.
func needPostfix(t *testing.T) {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s; CI must have it: %s", why, postfixSetup)
		}
		t.Skipf("%s; %s", why, postfixSetup)
	}
	if _, err := os.Stat("/usr/sbin/postfix"); err != nil {
		missing("postfix is not installed")
	}
	c, err := net.DialTimeout("tcp", postfixAddr, 2*time.Second)
	if err != nil {
		missing("postfix is not listening on " + postfixAddr)
	}
	c.Close()
}

// TestPostfixRelaysToListener: a message submitted to Postfix is relayed (transport
// map) to Tandem's SMTP listener and becomes a ticket.
func TestPostfixRelaysToListener(t *testing.T) {
	needPostfix(t)
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
	})
	acme := d.Account(t, "acme", account.Enterprise)
	subject := "Through postfix " + time.Now().UTC().Format(time.RFC3339Nano)
	if err := sendSMTP(postfixAddr, "jane@customer.test", []string{"support@acme." + postfixMail},
		msg("Jane <jane@customer.test>", "support@acme."+postfixMail, subject, "", "Relayed by a real MTA.")); err != nil {
		t.Fatalf("submit to postfix: %v", err)
	}
	var got string
	testkit.Eventually(t, 60*time.Second, "postfix to relay the message into a ticket", func() bool {
		err := d.DB.R().QueryRowContext(context.Background(), `SELECT subject FROM tickets WHERE account_id = ? AND subject = ?`, acme.ID, subject).Scan(&got)
		return err == nil
	})
	var raw []byte
	_ = d.DB.R().QueryRowContext(context.Background(), `SELECT raw FROM mail_inbox WHERE account_id = ?`, acme.ID).Scan(&raw)
	if !strings.Contains(string(raw), "Received: from") {
		t.Fatalf("the stored message has no Received header from postfix:\n%s", raw)
	}
}
