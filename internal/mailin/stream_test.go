package mailin_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"tandem/internal/account"
	"tandem/internal/mailin"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// fakeClamd speaks clamd's INSTREAM on loopback: it answers OK, or, while failing is
// set, an error for a file of failSize bytes (a scanner that gave out mid-message).
type fakeClamd struct {
	failing  atomic.Bool
	failSize int
	mu       sync.Mutex
	scanned  [][]byte
}

func startFakeClamd(t *testing.T, failSize int) (*fakeClamd, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	c := &fakeClamd{failSize: failSize}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go c.serve(conn)
		}
	}()
	return c, "tcp://" + ln.Addr().String()
}

func (c *fakeClamd) serve(conn net.Conn) {
	defer conn.Close()
	cmd := make([]byte, len("zINSTREAM\x00"))
	if _, err := io.ReadFull(conn, cmd); err != nil {
		return
	}
	var file []byte
	for {
		var n uint32
		if err := binary.Read(conn, binary.BigEndian, &n); err != nil {
			return
		}
		if n == 0 {
			break
		}
		chunk := make([]byte, n)
		if _, err := io.ReadFull(conn, chunk); err != nil {
			return
		}
		file = append(file, chunk...)
	}
	c.mu.Lock()
	c.scanned = append(c.scanned, file)
	c.mu.Unlock()
	if c.failing.Load() && len(file) == c.failSize {
		_, _ = io.WriteString(conn, "INSTREAM: scanner out of memory. ERROR\x00")
		return
	}
	_, _ = io.WriteString(conn, "stream: OK\x00")
}

// TestStreamedAttachments: a spooled message's attachments, larger than any buffer
// of the parse (base64, quoted-printable, 8-bit text), reach the attachments store
// byte for byte, scanned, through the streaming parse. When the scanner fails on the
// second, after the first was stored, the message is retried and nothing it stored
// stays: no ticket, no attachment row. Once the scanner is back, the retry makes the
// ticket with all three files.
func TestStreamedAttachments(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		raw, files := mailin.LargeMessage("Jane <jane@customer.test>", "support@acme.localhost", "the files "+string(db.Dialect))
		clamd, spec := startFakeClamd(t, len(files[1].Data))
		clamd.failing.Store(true)
		d := testkit.StartDB(t, db, func(c *server.Config) {
			c.SMTPAddr = "127.0.0.1:0"
			c.MailSpoolDir = t.TempDir()
			c.MailMaxSize = 16 << 20
			c.Clamd = spec
		})
		r := &rig{d: d, acme: d.Account(t, "acme", account.Enterprise), smtp: d.Srv.MailAddr().String()}
		ctx := context.Background()
		// Sent as it is (its lines end in CRLF already), not through sendSMTP.
		cl, err := smtp.Dial(r.smtp)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.SendMail("jane@customer.test", []string{"support@acme.localhost"}, strings.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		cl.Close()

		// The first attempt fails at the second file: it is retried later, and what it
		// stored is gone.
		testkit.Eventually(t, 30*time.Second, "the first attempt to fail", func() bool {
			var n int
			err := db.R().QueryRowContext(ctx, `SELECT attempts FROM mail_inbox WHERE account_id = ?`, r.acme.ID).Scan(&n)
			return err == nil && n >= 1
		})
		var rows, tickets int
		_ = db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM attachments WHERE account_id = ?`, r.acme.ID).Scan(&rows)
		_ = db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE account_id = ?`, r.acme.ID).Scan(&tickets)
		if rows != 0 || tickets != 0 {
			t.Fatalf("after the failed attempt: %d attachment rows, %d tickets; want none", rows, tickets)
		}
		clamd.mu.Lock()
		scans := len(clamd.scanned)
		clamd.mu.Unlock()
		if scans < 2 {
			t.Fatalf("%d files scanned before the failure, want the first and the second", scans)
		}

		clamd.failing.Store(false)
		r.settle(t)
		list := r.tickets(t, r.acme)
		if len(list) != 1 {
			t.Fatalf("%d tickets, want 1", len(list))
		}
		comments := r.acme.Do(t, r.acme.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", list[0].ID), nil).Want(t, 200).List("comments")
		atts, _ := comments[0]["attachments"].([]any)
		got := map[string][]byte{}
		for _, a := range atts {
			m := a.(map[string]any)
			if m["malware_scan_result"] != "malware_not_found" {
				t.Errorf("%v: not scanned clean", m["file_name"])
			}
			got[m["file_name"].(string)] = r.acme.Do(t, r.acme.Admin, "GET", fmt.Sprintf("/api/v2/attachments/%d/content", testkit.ID(m, "id")), nil).Want(t, 200).Body
		}
		for _, f := range files {
			if !bytes.Equal(got[f.Name], f.Data) {
				t.Errorf("%s: downloaded %d bytes, differing from the %d sent", f.Name, len(got[f.Name]), len(f.Data))
			}
		}
		if len(atts) != len(files)+1 { // and the inline image
			t.Errorf("%d attachments, want %d", len(atts), len(files)+1)
		}
	})
}
