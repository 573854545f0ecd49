package mailin_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/files/clamdtest"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// part is one MIME part of a test message.
type part struct {
	typ, disposition, name, cid string
	data                        []byte
}

// mixedMessage is a multipart/mixed message: an HTML body (in a multipart/related with
// its inline parts) and attachments, base64-encoded.
func mixedMessage(from, to, subject, htmlBody string, inline, attached []part) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\nTo: %s\nSubject: %s\nMessage-ID: <att-%s@sender.test>\nMIME-Version: 1.0\n", from, to, subject, strings.ReplaceAll(subject, " ", "-"))
	b.WriteString("Content-Type: multipart/mixed; boundary=\"MIX\"\n\n--MIX\nContent-Type: multipart/related; boundary=\"REL\"\n\n")
	b.WriteString("--REL\nContent-Type: text/html; charset=utf-8\n\n" + htmlBody + "\n")
	write := func(sep string, p part) {
		fmt.Fprintf(&b, "--%s\nContent-Type: %s; name=\"%s\"\nContent-Disposition: %s; filename=\"%s\"\nContent-Transfer-Encoding: base64\n", sep, p.typ, p.name, p.disposition, p.name)
		if p.cid != "" {
			fmt.Fprintf(&b, "Content-ID: <%s>\n", p.cid)
		}
		b.WriteString("\n")
		enc := base64.StdEncoding.EncodeToString(p.data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\n")
	}
	for _, p := range inline {
		write("REL", p)
	}
	b.WriteString("--REL--\n")
	for _, p := range attached {
		write("MIX", p)
	}
	b.WriteString("--MIX--\n")
	return b.String()
}

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{200, 30, 30, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestMailAttachments: a message's attachments and its inline image (by Content-ID)
// become the comment's attachments through the attachments store: sniffed, measured,
// thumbnailed, the inline one marked inline and named in place in the text; a file over
// the per-file limit is left out with a note and the message is still a comment; the
// same message again (an MTA's retry) adds no file; another account sees none of them.
func TestMailAttachments(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		d := testkit.StartDB(t, db, func(c *server.Config) {
			c.SMTPAddr = "127.0.0.1:0"
			c.MailSpoolDir = t.TempDir()
			c.Files.MaxFileSize = 64 << 10
		})
		acme, globex := d.Account(t, "acme", account.Enterprise), d.Account(t, "globex", account.Enterprise)
		r := &rig{d: d, acme: acme, globex: globex, smtp: d.Srv.MailAddr().String()}
		ctx := context.Background()

		logo := testPNG(t, 40, 20)
		pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
		big := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80,000 bytes, over 64 KiB
		m := mixedMessage("Jane <jane@customer.test>", "support@acme.localhost", "Broken lamp",
			`<html><body><p>The lamp arrived broken:</p><img src="cid:logo@x" width=40><p>Invoice attached.</p></body></html>`,
			[]part{{typ: "image/png", disposition: "inline", name: "lamp.png", cid: "logo@x", data: logo}},
			[]part{{typ: "application/pdf", disposition: "attachment", name: "invoice.pdf", data: pdf},
				{typ: "application/octet-stream", disposition: "attachment", name: "huge.bin", data: big}})
		r.mustSend(t, "jane@customer.test", []string{"support@acme.localhost"}, m)
		r.settle(t)
		list := r.tickets(t, acme)
		if len(list) != 1 {
			t.Fatalf("acme has %d tickets, want 1", len(list))
		}
		tk := list[0]
		body := r.comments(t, acme, tk.ID)[0]
		for _, want := range []string{"The lamp arrived broken:", "[image: lamp.png]", "Invoice attached.", `"huge.bin" (80000 bytes) was not added`, "65536"} {
			if !strings.Contains(body, want) {
				t.Errorf("comment body lacks %q:\n%s", want, body)
			}
		}

		comments := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", tk.ID), nil).Want(t, 200).List("comments")
		atts, _ := comments[0]["attachments"].([]any)
		if len(atts) != 2 {
			t.Fatalf("the comment has %d attachments, want 2: %v", len(atts), comments[0]["attachments"])
		}
		byName := map[string]map[string]any{}
		for _, a := range atts {
			m := a.(map[string]any)
			byName[m["file_name"].(string)] = m
		}
		img, doc := byName["lamp.png"], byName["invoice.pdf"]
		if img == nil || doc == nil {
			t.Fatalf("attachments = %v, want lamp.png and invoice.pdf", byName)
		}
		if img["inline"] != true || img["content_type"] != "image/png" || img["width"] != float64(40) || img["height"] != float64(20) {
			t.Errorf("inline image = %v", img)
		}
		if th, _ := img["thumbnails"].([]any); len(th) != 1 {
			t.Errorf("inline image has %d thumbnails, want 1", len(th))
		}
		if doc["inline"] != false || doc["content_type"] != "application/pdf" || doc["size"] != float64(len(pdf)) || doc["malware_scan_result"] != "not_scanned" {
			t.Errorf("pdf = %v", doc)
		}
		// The requester (the sender, now an end user) owns the files and can fetch them.
		var uploader int64
		if err := db.R().QueryRowContext(ctx, `SELECT uploader_id FROM attachments WHERE account_id = ? AND id = ?`, acme.ID, testkit.ID(doc, "id")).Scan(&uploader); err != nil || uploader != int64(tk.RequesterID) {
			t.Errorf("uploader = %d (%v), want the requester %d", uploader, err, tk.RequesterID)
		}
		got := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/attachments/%d/content", testkit.ID(doc, "id")), nil).Want(t, 200)
		if !bytes.Equal(got.Body, pdf) {
			t.Errorf("downloaded pdf differs: %q", got.Body)
		}
		// Another account: not there.
		globex.Do(t, globex.Admin, "GET", fmt.Sprintf("/api/v2/attachments/%d", testkit.ID(doc, "id")), nil).Want(t, 404)
		globex.Do(t, globex.Admin, "GET", fmt.Sprintf("/api/v2/attachments/%d/content", testkit.ID(img, "id")), nil).Want(t, 404)

		// The same message again: no new comment, no file left behind.
		r.mustSend(t, "jane@customer.test", []string{"support@acme.localhost"}, m)
		r.settle(t)
		// (The duplicate's files are deleted just after its inbox row is settled.)
		testkit.Eventually(t, 20*time.Second, "the duplicate's files to be deleted: 3 attachment rows (two files, one thumbnail)", func() bool {
			var n int
			err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM attachments WHERE account_id = ?`, acme.ID).Scan(&n)
			return err == nil && n == 3
		})
		if c := r.comments(t, acme, tk.ID); len(c) != 1 {
			t.Errorf("the duplicate added a comment: %d", len(c))
		}
	})
}

// TestMailMalware: with clamd, an infected attachment is refused with the scanner's
// finding in the comment; the rest of the message is still the ticket.
func TestMailMalware(t *testing.T) {
	t.Parallel()
	spec := clamdtest.Start(t)
	d := testkit.StartDB(t, storetest.Open(t, store.SQLite), func(c *server.Config) {
		c.SMTPAddr = "127.0.0.1:0"
		c.MailSpoolDir = t.TempDir()
		c.Clamd = spec
	})
	acme := d.Account(t, "acme", account.Enterprise)
	r := &rig{d: d, acme: acme, smtp: d.Srv.MailAddr().String()}
	m := mixedMessage("Mallory <mallory@bad.test>", "support@acme.localhost", "Your invoice", "<p>See attached.</p>", nil,
		[]part{{typ: "application/octet-stream", disposition: "attachment", name: "eicar.com", data: clamdtest.EICAR()},
			{typ: "text/plain", disposition: "attachment", name: "notes.txt", data: []byte("clean notes\n")}})
	r.mustSend(t, "mallory@bad.test", []string{"support@acme.localhost"}, m)
	r.settle(t)
	list := r.tickets(t, acme)
	if len(list) != 1 {
		t.Fatalf("%d tickets, want 1", len(list))
	}
	body := r.comments(t, acme, list[0].ID)[0]
	if !strings.Contains(body, `"eicar.com"`) || !strings.Contains(body, "malware_found") || !strings.Contains(body, "See attached.") {
		t.Fatalf("comment = %q, want the text and the malware note", body)
	}
	atts := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", list[0].ID), nil).Want(t, 200).List("comments")[0]["attachments"].([]any)
	if len(atts) != 1 || atts[0].(map[string]any)["file_name"] != "notes.txt" || atts[0].(map[string]any)["malware_scan_result"] != "malware_not_found" {
		t.Fatalf("attachments = %v, want only notes.txt, scanned clean", atts)
	}
}

// TestMain stops the clamd a test started.
func TestMain(m *testing.M) {
	code := m.Run()
	clamdtest.Stop()
	os.Exit(code)
}
