package mailin

import (
	"bytes"
	"errors"
	"html"
	"io"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jhillyerd/enmime/v2"
)

// Message is a parsed inbound message: what ingest needs of it.
type Message struct {
	FromAddress string // lower-case; "" when the message names no sender
	FromName    string
	To, Cc      []*mail.Address
	Subject     string
	MessageID   string // without angle brackets
	InReplyTo   string
	References  string
	// Text is the message's text: its text/plain part, or its HTML converted to text
	// (scripts, styles and images dropped). Always valid UTF-8 without NUL bytes.
	Text string
	// Automated is why the message looks machine-sent (an auto-reply, a bounce, bulk
	// mail), "" when it does not.
	Automated string
	// Bounce tells a delivery failure from other automated mail.
	Bounce bool
	// DSN is the delivery status report a bounce carries (RFC 3464), nil for none.
	DSN *DSN
	// AuthResults are the Authentication-Results header values, topmost first.
	AuthResults []string
	Attachments []Attachment
}

// Attachment is an attachment or inline image of a message.
type Attachment struct {
	FileName    string
	ContentType string
	ContentID   string
	Inline      bool
	Data        []byte
}

// Why a message could not be read.
var (
	errUnreadable = errors.New("the message could not be read as MIME mail")
	errTooDeep    = errors.New("the message nests multiparts too deeply")
	errTooBig     = errors.New("the message is over the size limit")
)

// maxDepth bounds how deep multiparts may nest before the parser is asked to read them:
// enmime recurses once per level.
const maxDepth = 200

// parser reads messages leniently; HTML-only mail is converted to text by htmlText,
// not by enmime (whose converter keeps link targets, javascript: ones included). A
// part's declared charset is believed; the statistical detector (a tenth of the
// inbound CPU time, and able to overrule a correct declaration) runs only for parts
// that declare none.
var parser = enmime.NewParser(enmime.SkipMalformedParts(true), enmime.MaxStoredPartErrors(20), enmime.DisableTextConversion(true),
	enmime.DisableCharacterDetection(true))

// Parse reads a whole message. It never panics on hostile input; it returns an error
// only for a message that cannot be read as mail at all.
func Parse(raw []byte) (m *Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, errUnreadable
		}
	}()
	if nesting(raw) > maxDepth {
		return nil, errTooDeep
	}
	env, err := parser.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		return nil, errUnreadable
	}
	m = &Message{
		Subject:    header(env.GetHeader("Subject")),
		MessageID:  strings.Trim(strings.TrimSpace(clean(env.GetHeader("Message-Id"))), "<>"),
		InReplyTo:  clean(env.GetHeader("In-Reply-To")),
		References: clean(env.GetHeader("References")),
		AuthResults: func() []string {
			var out []string
			for _, v := range env.GetHeaderValues("Authentication-Results") {
				out = append(out, clean(v))
			}
			return out
		}(),
	}
	m.FromAddress, m.FromName = sender(env)
	m.To, _ = env.AddressList("To")
	m.Cc, _ = env.AddressList("Cc")
	m.Text = bodyText(env)
	m.Automated, m.Bounce = automated(env, m.FromAddress)
	if m.Bounce {
		m.DSN = readDSN(env)
	}
	for _, p := range env.Attachments {
		m.Attachments = append(m.Attachments, attachment(p, false))
	}
	for _, p := range env.Inlines {
		m.Attachments = append(m.Attachments, attachment(p, true))
	}
	for _, p := range env.OtherParts {
		if !strings.HasPrefix(p.ContentType, "multipart/") && len(p.Content) > 0 {
			m.Attachments = append(m.Attachments, attachment(p, p.ContentID != ""))
		}
	}
	return m, nil
}

func attachment(p *enmime.Part, inline bool) Attachment {
	name := clean(p.FileName)
	if name == "" {
		name = "attachment"
	}
	return Attachment{FileName: name, ContentType: clean(p.ContentType), ContentID: clean(strings.Trim(p.ContentID, "<>")), Inline: inline, Data: p.Content}
}

var addrRE = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)

// sender returns the From address (lower-case) and name; a From header that does not
// parse still gives its first address-shaped word.
func sender(env *enmime.Envelope) (addr, name string) {
	if list, err := env.AddressList("From"); err == nil && len(list) > 0 {
		return strings.ToLower(clean(list[0].Address)), header(list[0].Name)
	}
	if a := addrRE.FindString(env.GetHeader("From")); a != "" {
		return strings.ToLower(a), ""
	}
	return "", ""
}

// bodyText is the text of the message: enmime gives the text/plain part, or the HTML
// part converted to text when there is no plain one.
func bodyText(env *enmime.Envelope) string {
	t := env.Text
	if strings.TrimSpace(t) == "" && env.HTML != "" {
		t = htmlText(cidPlaceholders(env.HTML, env))
	}
	return strings.TrimSpace(clean(t))
}

var (
	dropElemRE = regexp.MustCompile(`(?is)<(script|style|head|title)\b.*?</(script|style|head|title)\s*>`)
	breakRE    = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/tr|/li|/h[1-6]|/blockquote)\b[^>]*>`)
	tagRE      = regexp.MustCompile(`(?s)<[^>]*>`)
	blankRE    = regexp.MustCompile(`\n{3,}`)
)

// htmlText turns an HTML body into plain text: script, style and head dropped, block
// ends as line breaks, every other tag (images and tracking pixels included) removed,
// entities decoded. What is left is text, never markup.
func htmlText(h string) string {
	h = dropElemRE.ReplaceAllString(h, "")
	h = breakRE.ReplaceAllString(h, "\n")
	h = tagRE.ReplaceAllString(h, "")
	h = html.UnescapeString(h)
	lines := strings.Split(strings.ReplaceAll(h, "\r", ""), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return blankRE.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
}

// header is a header value as text: raw 8-bit bytes that are not part of UTF-8 are
// read as Latin-1 (what unlabelled 8-bit headers nearly always are), then cleaned.
func header(s string) string {
	if utf8.ValidString(s) {
		return clean(s)
	}
	r := make([]rune, 0, len(s))
	for i := 0; i < len(s); {
		c, n := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && n == 1 {
			c = rune(s[i]) // a byte that is not UTF-8: Latin-1
		}
		r = append(r, c)
		i += n
	}
	return clean(string(r))
}

// clean makes header and body text safe to store: valid UTF-8, no NUL bytes or other
// control characters but tab and newline.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// automated says why a message looks machine-sent (RFC 3834's Auto-Submitted, the
// common auto-reply headers, bulk precedence, bounces), "" when it does not.
func automated(env *enmime.Envelope, from string) (why string, bounce bool) {
	local := from
	if i := strings.IndexByte(from, '@'); i >= 0 {
		local = from[:i]
	}
	switch {
	case local == "mailer-daemon" || local == "postmaster":
		return "Automated response mail, delivery failed (sent by " + local + ")", true
	case strings.HasPrefix(strings.ToLower(env.Root.ContentType), "multipart/report"):
		return "Automated response mail, delivery failed (a delivery report)", true
	}
	if v := strings.ToLower(strings.TrimSpace(env.GetHeader("Auto-Submitted"))); v != "" && v != "no" {
		return "Automated response mail (Auto-Submitted: " + clean(v) + ")", false
	}
	for _, h := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponse"} {
		if v := strings.TrimSpace(env.GetHeader(h)); v != "" && !strings.EqualFold(v, "no") {
			return "Automated response mail (" + h + ")", false
		}
	}
	switch p := strings.ToLower(strings.TrimSpace(env.GetHeader("Precedence"))); p {
	case "bulk", "junk", "list", "auto_reply":
		return "Automated response mail (Precedence: " + p + ")", false
	}
	return "", false
}

// nesting returns how deeply the message's multiparts nest, counted cheaply from the
// boundary parameters it declares (an upper bound: every declared boundary counts).
func nesting(raw []byte) int {
	n := 0
	rest := raw
	for {
		i := bytes.Index(rest, []byte("oundary="))
		if i < 0 {
			return n
		}
		n++
		rest = rest[i+8:]
	}
}

// readAllLimited reads r fully; the inbox hands the parser whole messages already
// bounded by the listener's size limit.
func readAllLimited(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, errTooBig
	}
	return b, nil
}
