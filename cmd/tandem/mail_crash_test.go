package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"tandem/internal/account"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// TestMailCrashAfter250: the server is killed with SIGKILL right after its SMTP listener
// answered 250 to the last of a burst of messages; after a restart every message is a
// ticket, once.
func TestMailCrashAfter250(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	created := createAcme(t, dir)
	httpAddr, smtpAddr := freeAddr(t), freeAddr(t)
	serve := []string{"serve", "--data-dir", dir, "--addr", httpAddr, "--smtp-addr", smtpAddr, "--log-level", "error"}
	p := startProcess(t, serve...)
	waitUp(t, smtpAddr)

	const n = 20
	c, err := smtp.Dial(smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	// The last message is large (an attachment to decode), so that the worker is most
	// likely still on it when the kill comes.
	attachment := "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		strings.Repeat(strings.Repeat("QUJD", 19)+"\r\n", 50000) + "--b--\r\n"
	start := time.Now()
	for i := 0; i < n; i++ {
		m := fmt.Sprintf("From: c%d@customer.test\r\nTo: support@acme.localhost\r\nSubject: crash %02d\r\nMessage-ID: <crash%d@customer.test>\r\n\r\nbody %d\r\n", i, i, i, i)
		if i == n-1 {
			m = fmt.Sprintf("From: c%d@customer.test\r\nTo: support@acme.localhost\r\nSubject: crash %02d\r\nMessage-ID: <crash%d@customer.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n%s", i, i, i, attachment)
		}
		if err := c.SendMail(fmt.Sprintf("c%d@customer.test", i), []string{"support@acme.localhost"}, strings.NewReader(m)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	p.kill() // right after the last 250: no graceful shutdown
	c.Close()
	t.Logf("burst sent and server killed in %s", time.Since(start))

	db, err := store.Open(context.Background(), store.Options{Path: filepath.Join(dir, "tandem.db")})
	if err != nil {
		t.Fatal(err)
	}
	var accepted, waiting int
	_ = db.R().QueryRowContext(context.Background(), `SELECT COUNT(*), COUNT(CASE WHEN state = 'new' THEN 1 END) FROM mail_inbox`).Scan(&accepted, &waiting)
	db.Close()
	if accepted != n {
		t.Fatalf("%d messages in the inbox after the kill, want all %d answered 250", accepted, n)
	}
	t.Logf("%d of %d accepted messages were not yet processed at the kill", waiting, n)

	start = time.Now()
	startProcess(t, serve...)
	waitUp(t, httpAddr)
	t.Logf("restarted in %s", time.Since(start))
	_, port, _ := strings.Cut(httpAddr, ":")
	a := &testkit.Acct{Desk: &testkit.Desk{Addr: httpAddr, Port: port}, Sub: "acme", Plan: account.Enterprise, Admin: testkit.Cred{Email: "admin@acme.test", Token: created.Token}}
	var subjects map[string]int
	testkit.Eventually(t, 30*time.Second, "every accepted message to be a ticket", func() bool {
		subjects = map[string]int{}
		for _, tk := range a.Do(t, a.Admin, "GET", "/api/v2/tickets?per_page=100", nil).Want(t, 200).List("tickets") {
			subjects[tk["subject"].(string)]++
		}
		return len(subjects) == n
	})
	for s, k := range subjects {
		if k != 1 {
			t.Errorf("%q is %d tickets", s, k)
		}
	}
}
