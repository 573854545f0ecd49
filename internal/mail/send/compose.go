package send

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"html"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Message is one mail to compose: every header value is cleaned of line breaks before it
// is written, so no name, subject or address can add a header.
type Message struct {
	FromName, From string
	ToName, To     string
	ReplyTo        string
	Subject        string
	MessageID      string
	// InReplyTo and References thread the mail with the ticket's earlier mail.
	InReplyTo  string
	References []string
	// Auto marks automatic mail (notifications): Auto-Submitted: auto-replied.
	Auto bool
	Text string
	// HTML, when empty, is made from Text.
	HTML string
	Date time.Time
}

// oneLine removes what would end a header line, and trims.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\r', '\n', 0, '\u2028', '\u2029', '\u0085':
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// address formats a mailbox; the name is encoded as RFC 2047 when it needs to be.
func address(name, addr string) string {
	a := mail.Address{Name: oneLine(name), Address: oneLine(addr)}
	return a.String()
}

// validAddress reports whether addr is one plain address (no name, no list, no line break).
func validAddress(addr string) bool {
	if addr == "" || addr != oneLine(addr) || strings.ContainsAny(addr, "<>,;\" ") {
		return false
	}
	a, err := mail.ParseAddress(addr)
	return err == nil && a.Address == addr
}

// compose writes the message as RFC 5322 with CRLF line ends: a multipart/alternative of
// a text and an HTML part, each quoted-printable.
func compose(m Message) ([]byte, error) {
	var b bytes.Buffer
	h := func(k, v string) {
		if v = oneLine(v); v != "" {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	h("Date", date.UTC().Format(time.RFC1123Z))
	h("From", address(m.FromName, m.From))
	h("To", address(m.ToName, m.To))
	if m.ReplyTo != "" {
		h("Reply-To", address(m.FromName, m.ReplyTo))
	}
	h("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	h("Message-ID", m.MessageID)
	h("In-Reply-To", m.InReplyTo)
	if len(m.References) > 0 {
		h("References", strings.Join(m.References, " "))
	}
	if m.Auto {
		h("Auto-Submitted", "auto-replied")
		h("X-Auto-Response-Suppress", "All")
	}
	h("MIME-Version", "1.0")
	mw := multipart.NewWriter(&b)
	boundary := "tandem-" + strings.ToLower(rand.Text())
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, err
	}
	h("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	htmlBody := m.HTML
	if htmlBody == "" {
		htmlBody = textToHTML(m.Text)
	}
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", htmlBody}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(crlf(part.body))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("send: compose: %w", err)
	}
	return b.Bytes(), nil
}

// crlf gives text CRLF line ends.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// textToHTML is the HTML part of a plain-text mail: escaped, paragraphs and line breaks
// kept.
func textToHTML(s string) string {
	var b strings.Builder
	b.WriteString("<!doctype html><html><body style=\"font-family:sans-serif\">")
	for _, para := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(para) == "" {
			continue
		}
		b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(para), "\n", "<br>") + "</p>")
	}
	b.WriteString("</body></html>")
	return b.String()
}
