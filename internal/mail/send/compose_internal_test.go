package send

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"
)

// TestComposeHostileHeaders: line breaks in names, subjects and ids never make a header
// of their own; non-ASCII names and subjects are encoded and read back intact.
func TestComposeHostileHeaders(t *testing.T) {
	raw, err := compose(Message{
		FromName: "Acme\r\nBcc: a@evil.test", From: "support@acme.test",
		ToName: "Zoë \"Quote\" <x@evil.test>\nCc: b@evil.test", To: "zoe@example.test",
		ReplyTo: "support+tkt-x@acme.test", Subject: "Ärger\r\n\r\nInjected body\u2028X-Evil: 1",
		MessageID: "<id@acme.test>\r\nX-Evil: 2", InReplyTo: "<a@b>", References: []string{"<a@b>", "<c@d>\nX-Evil: 3"},
		Auto: true, Text: "line one\nline two\r\n\r\n<script>alert(1)</script>",
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for k := range m.Header {
		switch k {
		case "Date", "From", "To", "Reply-To", "Subject", "Message-Id", "In-Reply-To", "References", "Auto-Submitted", "X-Auto-Response-Suppress", "Mime-Version", "Content-Type":
		default:
			t.Errorf("unexpected header %s: %q", k, m.Header[k])
		}
	}
	to, err := mail.ParseAddress(m.Header.Get("To"))
	if err != nil || to.Address != "zoe@example.test" || !strings.HasPrefix(to.Name, "Zoë") {
		t.Errorf("To = %q (%v)", m.Header.Get("To"), err)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if !strings.HasPrefix(subj, "Ärger") || !strings.Contains(subj, "Injected body") {
		t.Errorf("Subject = %q", subj)
	}
	if strings.Count(string(raw), "<script>") != 1 || !strings.Contains(string(raw), "&lt;script&gt;") {
		t.Error("the HTML part carries the text's markup unescaped (only the text part may have it)")
	}
}
