package mailin_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-smtp"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// deepMultipart returns a message whose multiparts nest depth levels deep.
func deepMultipart(depth int) string {
	var b strings.Builder
	b.WriteString("From: Deep <deep@customer.test>\nTo: support@acme.localhost\nSubject: deep " + strings.Repeat("x", depth%7) + "\nMessage-ID: <deep" + string(rune('a'+depth%26)) + "@customer.test>\nMIME-Version: 1.0\n")
	for i := 0; i < depth; i++ {
		b.WriteString("Content-Type: multipart/mixed; boundary=\"b" + itoa(i) + "\"\n\n--b" + itoa(i) + "\n")
	}
	b.WriteString("Content-Type: text/plain\n\nat the bottom\n")
	for i := depth - 1; i >= 0; i-- {
		b.WriteString("--b" + itoa(i) + "--\n")
	}
	return b.String()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// TestCorpus: hostile and odd mail (testdata/corpus, plus generated ones) each gives a
// ticket, a suspended ticket or a clear SMTP refusal; never a crash, never a ticket
// without its message, never markup or script in what agents read.
func TestCorpus(t *testing.T) {
	t.Parallel()
	r := newRig(t, storetest.Open(t, store.SQLite))
	ctx := context.Background()
	files, _ := filepath.Glob("testdata/corpus/*.eml")
	if len(files) < 9 {
		t.Fatalf("corpus has %d messages", len(files))
	}
	// A ticket #1 of someone else, that the stranger's reply names.
	r.mustSend(t, "owner@customer.test", []string{"support@acme.localhost"}, msg("owner@customer.test", "support@acme.localhost", "mine", "", "my ticket"))
	r.settle(t)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		from := "sender@customer.test"
		if strings.Contains(f, "missing-from") {
			from = "" // and no envelope sender either: nobody to answer
		}
		if err := sendSMTP(r.smtp, from, []string{"support@acme.localhost"}, string(raw)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	// The same message twice: one ticket.
	dup, _ := os.ReadFile("testdata/corpus/html-scripts.eml")
	r.mustSend(t, "x@customer.test", []string{"support@acme.localhost"}, string(dup))
	r.mustSend(t, "x@customer.test", []string{"support@acme.localhost"}, deepMultipart(100))
	r.mustSend(t, "x@customer.test", []string{"support@acme.localhost"}, deepMultipart(1000))
	// 30 MB, over the limit: refused with the limit named, nothing stored.
	huge := msg("big@customer.test", "support@acme.localhost", "huge", "", strings.Repeat(strings.Repeat("A", 76)+"\n", (30<<20)/77))
	var se *smtp.SMTPError
	if err := r.send("big@customer.test", []string{"support@acme.localhost"}, huge); !errors.As(err, &se) || se.Code != 552 {
		t.Fatalf("30 MB message: %v, want 552", err)
	}
	r.settle(t)

	var states []string
	rows, _ := r.d.DB.R().QueryContext(ctx, `SELECT state FROM mail_inbox ORDER BY id`)
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		states = append(states, s)
	}
	rows.Close()
	if len(states) != len(files)+4 {
		t.Fatalf("inbox has %d messages, want %d", len(states), len(files)+4)
	}
	for i, s := range states {
		if s != "done" && s != "suspended" && s != "dropped" {
			t.Errorf("message %d ended %q", i+1, s)
		}
	}
	tickets := r.tickets(t, r.acme)
	bySubject := map[string][]string{}
	for _, tk := range tickets {
		cs := r.comments(t, r.acme, tk.ID)
		if len(cs) == 0 || strings.TrimSpace(tk.Description) == "" {
			t.Errorf("ticket %d %q has no message", tk.ID, tk.Subject)
		}
		if !utf8.ValidString(tk.Subject) {
			t.Errorf("ticket %d subject is not UTF-8", tk.ID)
		}
		for _, c := range cs {
			low := strings.ToLower(c)
			for _, bad := range []string{"<script", "alert(", "document.cookie", "tracker.example", "<img", "<iframe", "javascript:"} {
				if strings.Contains(low, bad) {
					t.Errorf("ticket %d %q shows %q: %q", tk.ID, tk.Subject, bad, c)
				}
			}
		}
		bySubject[tk.Subject] = cs
	}
	want := map[string]string{
		"HTML with script and tracking pixel": "my order & invoice are wrong",
		"screenshot attached":                 "ça ne marche pas",
		"malformed MIME":                      "",
		"Re: [#1] someone else's ticket":      "I am not on that ticket.",
		"(no subject)":                        "(empty message)",
		"deep xx":                             "at the bottom",
		"tlhIngan Hol":                        "nuqneH",
	}
	for subj, body := range want {
		cs, ok := bySubject[subj]
		if !ok && subj == "tlhIngan Hol" {
			// An unknown charset's encoded-word may stay encoded; the ticket must exist.
			for s := range bySubject {
				if strings.Contains(s, "tlhIngan") || strings.Contains(s, "klingon") {
					cs, ok = bySubject[s], true
				}
			}
		}
		if !ok {
			t.Errorf("no ticket %q; tickets: %v", subj, keys(bySubject))
			continue
		}
		if body != "" && !strings.Contains(strings.Join(cs, "\n"), body) {
			t.Errorf("ticket %q: comments %q, want %q", subj, cs, body)
		}
	}
	if n := len(bySubject["HTML with script and tracking pixel"]); n != 1 {
		t.Errorf("the duplicate made %d comments", n)
	}
	for s := range bySubject {
		if s == "Grüße aus Köln — raw 8-bit" {
			goto eightBit
		}
	}
	t.Errorf("no ticket for the 8-bit headers; tickets: %v", keys(bySubject))
eightBit:
	// Attachments and the inline image are the comments' attachments (internal/files).
	var atts int
	_ = r.d.DB.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM attachments WHERE account_id = ? AND comment_id <> 0 AND file_name IN ('shot.png', 'invoice-é.pdf')`, r.acme.ID).Scan(&atts)
	if atts != 2 {
		t.Errorf("%d attachments recorded, want shot.png and invoice-é.pdf", atts)
	}
	causes := ""
	for _, s := range r.suspended(t, r.acme) {
		causes += s["cause"].(string) + "|"
	}
	for _, c := range []string{"delivery failed", "no sender", "too deeply"} {
		if !strings.Contains(causes, c) {
			t.Errorf("no suspended ticket for %q in %s", c, causes)
		}
	}
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
