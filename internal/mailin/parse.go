package mailin

import (
	"bytes"
	"errors"
	"html"
	"io"
	"net/mail"
	"regexp"
	"slices"
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

// Attachment is an attachment or inline image of a message. Its bytes are Data, or,
// for a large one of a message read by ParseAt, left in the message and decoded as
// they are read (Open).
type Attachment struct {
	FileName    string
	ContentType string
	ContentID   string
	Inline      bool
	Data        []byte
	part        *rawPart
}

// Size is how many bytes the attachment has.
func (a *Attachment) Size() int64 {
	if a.part != nil {
		return a.part.size
	}
	return int64(len(a.Data))
}

// Open reads the attachment's bytes: from the message it was parsed from (ParseAt),
// which must stay readable until then, when it was left there.
func (a *Attachment) Open() io.Reader {
	if a.part != nil {
		return a.part.open()
	}
	return bytes.NewReader(a.Data)
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
func Parse(raw []byte) (*Message, error) {
	if nesting(raw) > maxDepth {
		return nil, errTooDeep
	}
	return parseFrom(bytes.NewReader(raw), nil, "")
}

// ParseAt reads the message of size bytes in r as Parse does, giving the same
// Message, without holding the message or its large attachments in memory: the
// bodies of attachments of at least streamAt raw bytes are left in r, read when the
// attachment is opened (stream.go). Errors reading r are returned as they are (the
// message is not known to be unreadable).
func ParseAt(r io.ReaderAt, size, streamAt int64) (*Message, error) {
	src := &readerAt{r: r}
	n, err := nestingAt(src, size)
	if err != nil {
		return nil, err
	}
	if n > maxDepth {
		return nil, errTooDeep
	}
	w := newWalker(src, size, streamAt)
	skel, parts := w.skeleton()
	var m *Message
	if len(parts) == 0 {
		m, err = parseFrom(io.NewSectionReader(src, 0, size), nil, "")
	} else if m, err = parseFrom(skel, parts, w.prefix); errors.Is(err, errMismatch) {
		// The walker read the message differently from enmime: it is parsed whole.
		m, err = parseFrom(io.NewSectionReader(src, 0, size), nil, "")
	}
	if src.err != nil {
		return nil, src.err
	}
	return m, err
}

// readerAt remembers the first error reading r other than its end.
type readerAt struct {
	r   io.ReaderAt
	err error
}

func (r *readerAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.r.ReadAt(p, off)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// errMismatch: the skeleton of a message did not parse as the walker expected.
var errMismatch = errors.New("mailin: the streamed parts were not found")

// parseFrom parses a message, or the skeleton of one whose left-out parts are parts
// (tokens starting with prefix).
func parseFrom(r io.Reader, parts map[string]*rawPart, prefix string) (m *Message, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			m, err = nil, errUnreadable
		}
	}()
	env, err := parser.ReadEnvelope(r)
	if err != nil {
		return nil, errUnreadable
	}
	var left map[*enmime.Part]*rawPart
	if parts != nil {
		if left, err = findLeft(env, parts, prefix); err != nil {
			return nil, err
		}
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
		m.Attachments = append(m.Attachments, attachment(p, false, left[p]))
	}
	for _, p := range env.Inlines {
		m.Attachments = append(m.Attachments, attachment(p, true, left[p]))
	}
	for _, p := range env.OtherParts {
		size := int64(len(p.Content))
		if l := left[p]; l != nil {
			size = l.size
		}
		if !strings.HasPrefix(p.ContentType, "multipart/") && size > 0 {
			m.Attachments = append(m.Attachments, attachment(p, p.ContentID != "", left[p]))
		}
	}
	return m, nil
}

// findLeft maps the parts of a skeleton whose content is a token to the bodies left
// out; every token must be the whole content of exactly one part and appear nowhere
// else, or the skeleton was not read as the walker expected (errMismatch). The parts
// enmime would have dropped (a body that does not decode) are dropped from env's lists.
func findLeft(env *enmime.Envelope, parts map[string]*rawPart, prefix string) (map[*enmime.Part]*rawPart, error) {
	left := map[*enmime.Part]*rawPart{}
	used := map[*rawPart]bool{}
	bad := strings.Contains(env.Text, prefix) || strings.Contains(env.HTML, prefix)
	_ = env.Root.DepthMatchAll(func(p *enmime.Part) bool {
		if len(p.Boundary) > maxStreamedBoundary {
			bad = true
		}
		if bytes.Contains(p.Content, []byte(prefix)) || bytes.Contains(p.Epilogue, []byte(prefix)) {
			if l := parts[string(p.Content)]; l != nil && !used[l] {
				left[p], used[l] = l, true
			} else {
				bad = true
			}
		}
		return false
	})
	if bad || len(left) != len(parts) {
		return nil, errMismatch
	}
	kept := func(list []*enmime.Part) []*enmime.Part {
		return slices.DeleteFunc(list, func(p *enmime.Part) bool { return left[p] != nil && left[p].drop })
	}
	env.Attachments, env.Inlines, env.OtherParts = kept(env.Attachments), kept(env.Inlines), kept(env.OtherParts)
	return left, nil
}

func attachment(p *enmime.Part, inline bool, left *rawPart) Attachment {
	name := clean(p.FileName)
	if name == "" {
		name = "attachment"
	}
	a := Attachment{FileName: name, ContentType: clean(p.ContentType), ContentID: clean(strings.Trim(p.ContentID, "<>")), Inline: inline, Data: p.Content, part: left}
	if left != nil {
		a.Data = nil
	}
	return a
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

// nestingAt is nesting for the message of size bytes in r, read a piece at a time.
func nestingAt(r io.ReaderAt, size int64) (int, error) {
	const overlap = len("oundary=") - 1
	buf := make([]byte, 64<<10)
	n, kept := 0, 0
	for off := int64(0); off < size; {
		got, err := r.ReadAt(buf[kept:], off)
		if err != nil && err != io.EOF {
			return 0, err
		}
		if got == 0 {
			break
		}
		off += int64(got)
		chunk := buf[:kept+got]
		n += bytes.Count(chunk, []byte("oundary="))
		// The last bytes are read again with the next piece: a match across the two
		// pieces is counted then (a match ends at least one byte into the next).
		kept = min(overlap, len(chunk))
		copy(buf, chunk[len(chunk)-kept:])
	}
	return n, nil
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
