package mailin_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/client"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// dovecot is a real IMAP server for a test: Debian's dovecot-imapd with a private
// configuration (loopback port, one user, Maildirs in a temporary directory).
type dovecot struct {
	addr, user, password string
	// tlsAddr is the implicit-TLS (imaps) listener; addr offers STARTTLS. Both use a
	// certificate for 127.0.0.1 signed by a CA made for the test, whose PEM is caPEM.
	tlsAddr, caPEM string
}

// startDovecot runs one; without dovecot the test is skipped, except in CI, where it
// fails (.ci/run installs dovecot-imapd).
func startDovecot(t *testing.T) *dovecot {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s; CI must have it (apt-get install dovecot-imapd)", why)
		}
		t.Skipf("%s (apt-get install dovecot-imapd)", why)
	}
	if _, err := os.Stat("/usr/sbin/dovecot"); err != nil {
		missing("dovecot is not installed")
	}
	dir, err := os.MkdirTemp("", "tandem-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The mail user: the test's own, or nobody when the test runs as root (dovecot
	// refuses root as a mail user).
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		uid, gid = 65534, 65534
	}
	mailDir := filepath.Join(dir, "mail")
	if err := os.MkdirAll(mailDir, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	_ = os.Chown(mailDir, uid, gid)
	freePort := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	addr, tlsAddr := freePort(), freePort()
	_, port, _ := net.SplitHostPort(addr)
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)
	caPEM, certPEM, keyPEM := testCerts(t)
	for name, pem := range map[string]string{"cert.pem": certPEM, "key.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(pem), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d := &dovecot{addr: addr, tlsAddr: tlsAddr, caPEM: caPEM, user: "tandem", password: "imap-secret"}
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(d.user+":{PLAIN}"+d.password+"::::::\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	loginUser, internalUser := "dovenull", "dovecot"
	if os.Getuid() != 0 {
		me := fmt.Sprint(os.Getuid())
		loginUser, internalUser = me, me
	}
	conf := fmt.Sprintf(`protocols = imap
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = tandem-%[2]s
log_path = %[1]s/dovecot.log
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:%[1]s/mail/%%u
default_login_user = %[5]s
default_internal_user = %[6]s
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[3]d gid=%[4]d home=%[1]s/mail/%%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]s
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %[7]s
    ssl = yes
  }
}
`, dir, port, uid, gid, loginUser, internalUser, tlsPort)
	confPath := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/sbin/dovecot", "-F", "-c", confPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		missing("dovecot does not start: " + err.Error())
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			if c, err = net.Dial("tcp", tlsAddr); err == nil {
				c.Close()
				break
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot did not listen on %s: %s %s", addr, out.String(), log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return d
}

// client signs in as the test user.
func (d *dovecot) client(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.Dial(d.addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(d.user, d.password); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Logout() })
	return c
}

// appendMsgs puts messages in a folder, as the provider's delivery would.
func (d *dovecot) appendMsgs(t *testing.T, c *client.Client, folder string, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		// Right after the test deletes and recreates a folder, dovecot may refuse an
		// APPEND to it with "Mailbox was deleted under us" while the poller's own
		// session is still leaving the old folder: that refusal saves nothing, and the
		// append is tried again until it is taken. Any other error fails at once.
		var err error
		testkit.Eventually(t, 10*time.Second, "an append to "+folder+" that dovecot takes", func() bool {
			err = c.Append(folder, nil, time.Now(), bytes.NewBufferString(strings.ReplaceAll(m, "\n", "\r\n")))
			return err == nil || !strings.Contains(err.Error(), "deleted under us")
		})
		if err != nil {
			t.Fatalf("append to %s: %v", folder, err)
		}
	}
}

// TestIMAPPolling: a mailbox an admin adds is polled from a real IMAP server (dovecot)
// into tickets through the same inbox as SMTP; new messages are taken once each, never
// twice however often the poller runs; when the server's UIDVALIDITY changes (the
// folder recreated with the same mail) only the new message makes a ticket; the API
// never shows the password, refuses another account's address and hides mailboxes
// from other accounts.
func TestIMAPPolling(t *testing.T) {
	t.Parallel()
	dc := startDovecot(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		d := testkit.StartDB(t, db, func(c *server.Config) {
			c.MailSpoolDir = t.TempDir()
			c.IMAPInterval = 100 * time.Millisecond
			c.SecretKey = testSecretKey
		})
		acme, globex := d.Account(t, "acme", account.Enterprise), d.Account(t, "globex", account.Enterprise)
		r := &rig{d: d, acme: acme, globex: globex}
		ctx := context.Background()
		folder := fmt.Sprintf("Support%d", time.Now().UnixNano())
		c := dc.client(t)
		if err := c.Create(folder); err != nil {
			t.Fatal(err)
		}
		mails := make([]string, 4)
		for i := range mails {
			mails[i] = "Return-Path: <cust" + fmt.Sprint(i) + "@customer.test>\nFrom: Customer <cust" + fmt.Sprint(i) + "@customer.test>\nTo: support@acme.localhost\nSubject: IMAP " + fmt.Sprint(i) +
				"\nMessage-ID: <imap-" + fmt.Sprint(i) + "-" + folder + "@customer.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nPolled message " + fmt.Sprint(i) + ".\n"
		}
		dc.appendMsgs(t, c, folder, mails[0], mails[1])

		imapURL := fmt.Sprintf("imap://%s:%s@%s/%s", dc.user, dc.password, dc.addr, folder)
		// Bad input and other accounts first.
		acme.Do(t, acme.Admin, "POST", "/api/v2/imap_mailboxes.json", map[string]any{"imap_mailbox": map[string]any{"address": "support@acme.localhost", "imap_url": "http://x"}}).Want(t, http.StatusUnprocessableEntity)
		globex.Do(t, globex.Admin, "POST", "/api/v2/imap_mailboxes.json", map[string]any{"imap_mailbox": map[string]any{"address": "support@acme.localhost", "imap_url": imapURL}}).Want(t, http.StatusUnprocessableEntity)
		agent := acme.User(t, identity.Agent, "agent@acme.test", "Agent")
		acme.Do(t, agent, "GET", "/api/v2/imap_mailboxes.json", nil).Want(t, http.StatusForbidden)

		// imap:// on loopback: dovecot offers STARTTLS, so it is used, and its
		// certificate is verified against the CA the mailbox names.
		mb := acme.Do(t, acme.Admin, "POST", "/api/v2/imap_mailboxes.json", map[string]any{"imap_mailbox": map[string]any{"address": "support@acme.localhost", "imap_url": imapURL, "tls_ca": dc.caPEM}}).Want(t, http.StatusCreated)
		if bytes.Contains(mb.Body, []byte(dc.password)) {
			t.Fatalf("the API shows the password: %s", mb.Body)
		}
		id := testkit.ID(mb.Obj("imap_mailbox"), "id")
		var stored string
		if err := db.R().QueryRowContext(ctx, `SELECT password FROM imap_mailboxes WHERE id = ?`, id).Scan(&stored); err != nil || stored == dc.password || !strings.HasPrefix(stored, "v1:") {
			t.Fatalf("the password is stored as %q (%v), want it sealed", stored, err)
		}
		globex.Do(t, globex.Admin, "GET", fmt.Sprintf("/api/v2/imap_mailboxes/%d.json", id), nil).Want(t, http.StatusNotFound)
		globex.Do(t, globex.Admin, "DELETE", fmt.Sprintf("/api/v2/imap_mailboxes/%d.json", id), nil).Want(t, http.StatusNotFound)
		if n := len(globex.Do(t, globex.Admin, "GET", "/api/v2/imap_mailboxes.json", nil).Want(t, http.StatusOK).List("imap_mailboxes")); n != 0 {
			t.Fatalf("globex lists %d mailboxes", n)
		}

		wantTickets := func(n int) {
			t.Helper()
			testkit.Eventually(t, 30*time.Second, fmt.Sprintf("%d tickets from IMAP", n), func() bool {
				var got int
				err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE account_id = ?`, acme.ID).Scan(&got)
				return err == nil && got == n
			})
		}
		// polls waits for the poller to have run twice more (so a second read would show).
		polls := func() {
			t.Helper()
			for range 2 {
				before := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/imap_mailboxes/%d.json", id), nil).Obj("imap_mailbox")["polled_at"]
				testkit.Eventually(t, 30*time.Second, "another poll", func() bool {
					return acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/imap_mailboxes/%d.json", id), nil).Obj("imap_mailbox")["polled_at"] != before
				})
			}
		}
		inbox := func() int {
			var n int
			_ = db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_inbox WHERE account_id = ?`, acme.ID).Scan(&n)
			return n
		}
		wantTickets(2)
		polls()
		r.settle(t)
		if n := inbox(); n != 2 {
			t.Fatalf("inbox has %d messages after repeated polls, want 2", n)
		}
		dc.appendMsgs(t, c, folder, mails[2])
		wantTickets(3)
		polls()
		if n := inbox(); n != 3 {
			t.Fatalf("inbox has %d messages, want 3", n)
		}
		got := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/imap_mailboxes/%d.json", id), nil).Obj("imap_mailbox")
		if got["last_uid"] != float64(3) || got["last_error"] != "" || got["uidvalidity"] == float64(0) {
			t.Fatalf("mailbox = %v", got)
		}
		validity := got["uidvalidity"]

		// The folder recreated: a new UIDVALIDITY; the old mail is read again but makes
		// no ticket twice (Message-IDs); the new one does.
		if err := c.Delete(folder); err != nil {
			t.Fatal(err)
		}
		if err := c.Create(folder); err != nil {
			t.Fatal(err)
		}
		dc.appendMsgs(t, c, folder, mails[0], mails[1], mails[2], mails[3])
		wantTickets(4)
		polls()
		r.settle(t)
		if n := inbox(); n != 7 {
			t.Fatalf("inbox has %d messages after the folder was recreated, want 7 (3 + 4 read again)", n)
		}
		if got := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/imap_mailboxes/%d.json", id), nil).Obj("imap_mailbox"); got["uidvalidity"] == validity || got["last_uid"] != float64(4) {
			t.Fatalf("after recreation: %v (old uidvalidity %v)", got, validity)
		}
		var via string
		if err := db.R().QueryRowContext(ctx, `SELECT rcpt FROM mail_inbox WHERE account_id = ? ORDER BY id LIMIT 1`, acme.ID).Scan(&via); err != nil || via != "support@acme.localhost" {
			t.Fatalf("inbox rcpt = %q (%v)", via, err)
		}
		acme.Do(t, acme.Admin, "DELETE", fmt.Sprintf("/api/v2/imap_mailboxes/%d.json", id), nil).Want(t, http.StatusNoContent)
	})
}
