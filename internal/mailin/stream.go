package mailin

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/jhillyerd/enmime/v2"
	"github.com/jhillyerd/enmime/v2/mediatype"
)

// Streaming the parse of a large message (ParseAt). enmime reads a message part by
// part but keeps every part's decoded content in memory: a 30 MB attachment costs its
// decoded 22 MB, plus the 30 MB message when it is read whole first. So before enmime
// sees the message, a pass over it (walker) finds the bodies of the leaf parts that
// can only be attachments, and enmime is given a skeleton of the message in which each
// such body is replaced by a short unguessable token: the same headers, the same
// boundaries, every other byte as it was. enmime parses the skeleton exactly as it
// parses any message (text, HTML, charsets, encoded words, the tree and its quirks);
// the part whose content is a token is then an attachment whose bytes are read from
// the message, decoded on the fly, when it is stored (rawPart.open).
//
// What makes the substitution safe: a body is replaced only when no line in it could
// be a boundary of any multipart, whatever the boundaries (no line has "--", none a
// bare CR), so enmime splits the skeleton where it splits the
// message; and after the parse every token must be found as the whole content of
// exactly one part. When the walker and enmime read the message differently (hostile
// or broken MIME), that check fails and the message is parsed whole, as before.

// streamFrom is the size (raw bytes) from which an attachment's body is left in the
// message rather than held in memory.
const streamFrom = 16 << 10

// maxStreamedBoundary bounds the boundaries of a message streamed: enmime's boundary
// reader peeks a boundary's length ahead in a 4 KiB buffer, and drops bytes beyond.
const maxStreamedBoundary = 1000

// rawPart is the body of an attachment left in the message: n bytes at off of src,
// decoded (size bytes) when read.
type rawPart struct {
	src    io.ReaderAt
	off, n int64
	cte    string // the Content-Transfer-Encoding, lower case
	size   int64
	// empty: base64 that does not decode (enmime keeps the part, without content);
	// drop: quoted-printable that does not (enmime drops the part).
	empty, drop bool
}

// open reads the part's decoded bytes.
func (p *rawPart) open() io.Reader {
	if p.empty {
		return bytes.NewReader(nil)
	}
	return decoder(io.NewSectionReader(p.src, p.off, p.n), p.cte)
}

// measure decodes the whole part once, for its size and whether it decodes.
func (p *rawPart) measure() {
	n, err := io.Copy(io.Discard, p.open())
	var corrupt base64.CorruptInputError
	switch {
	case err == nil:
		p.size = n
	case errors.As(err, &corrupt):
		p.empty = true
	default:
		p.drop = true
	}
}

// segment is a piece of the skeleton: n bytes at off of the message, or lit.
type segment struct {
	off, n int64
	lit    string
}

// walker finds the bodies to leave out of the skeleton.
type walker struct {
	src     io.ReaderAt
	size    int64
	min     int64
	br      *bufio.Reader
	off     int64 // offset in src of the next byte br returns
	prefix  string
	copied  int64 // src bytes before copied are in segs
	segs    []segment
	parts   map[string]*rawPart
	stack   []string // boundaries of the multiparts the walk is in, outermost first
	lineEnd int      // length of the line end ("\n", "\r\n") of the last line read
}

// errStop ends the walk early: the rest of the message is kept as it is.
var errStop = errors.New("stop")

func newWalker(src io.ReaderAt, size, min int64) *walker {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	return &walker{src: src, size: size, min: min, br: bufio.NewReaderSize(io.NewSectionReader(src, 0, size), 64<<10),
		prefix: "TandemPart" + hex.EncodeToString(nonce[:]) + "n", parts: map[string]*rawPart{}}
}

// skeleton returns the message with the large attachment bodies replaced by tokens,
// and those bodies by token.
func (w *walker) skeleton() (io.Reader, map[string]*rawPart) {
	_ = w.walk()
	rs := make([]io.Reader, 0, len(w.segs)+1)
	for _, s := range append(w.segs, segment{off: w.copied, n: w.size - w.copied}) {
		if s.lit != "" {
			rs = append(rs, strings.NewReader(s.lit))
		} else if s.n > 0 {
			rs = append(rs, io.NewSectionReader(w.src, s.off, s.n))
		}
	}
	return io.MultiReader(rs...), w.parts
}

// line reads the next line, or a piece of one longer than the buffer (start false for
// the pieces after the first). The bytes are valid until the next read.
func (w *walker) line() (b []byte, at int64, start bool, err error) {
	start = w.lineEnd != 0 || w.off == 0
	at = w.off
	b, err = w.br.ReadSlice('\n')
	w.off += int64(len(b))
	switch {
	case bytes.HasSuffix(b, []byte("\r\n")):
		w.lineEnd = 2
	case bytes.HasSuffix(b, []byte("\n")):
		w.lineEnd = 1
	default:
		w.lineEnd = 0
	}
	if err == bufio.ErrBufferFull {
		err = nil
	}
	if len(b) > 0 && err == io.EOF {
		err = nil
	}
	return b, at, start, err
}

// boundary says whether a line is a delimiter or terminator of one of the multiparts the
// walk is in (the outermost first, as enmime's nested readers stop at the outermost),
// and which.
func (w *walker) boundary(l []byte) (level int, term, ok bool) {
	for i, b := range w.stack {
		if bytes.HasPrefix(l, []byte("--"+b+"--")) {
			return i, true, true
		}
		win := l[:min(len(l), len(b)+4)]
		if j := bytes.Index(win, []byte("--"+b)); j >= 0 && j <= 1 && j+len(b)+2 < len(l) && unicode.IsSpace(rune(l[j+len(b)+2])) {
			return i, false, true
		}
	}
	return 0, false, false
}

// header reads a part's header block; at a boundary line (no body) it returns ok
// false with the walk moved onto that boundary.
func (w *walker) header() (h map[string][]string, ok bool, err error) {
	var block []byte
	for {
		l, _, start, err := w.line()
		if err != nil {
			return nil, false, errStop // no body
		}
		if !start || len(block)+len(l) > 256<<10 {
			return nil, false, errStop
		}
		if len(w.stack) > 0 {
			if lvl, term, ok := w.boundary(l); ok {
				return nil, false, w.atBoundary(lvl, term)
			}
		}
		block = append(block, l...)
		if len(l) == w.lineEnd {
			break // the empty line
		}
	}
	hdr, err := enmime.ReadHeader(bufio.NewReader(bytes.NewReader(block)), nopErrors{})
	if err != nil {
		return nil, false, errStop
	}
	return hdr, true, nil
}

type nopErrors struct{}

func (nopErrors) AddError(string, string, ...any)   {}
func (nopErrors) AddWarning(string, string, ...any) {}

// walk runs over the message, recording the bodies to leave out.
func (w *walker) walk() error {
	h, ok, err := w.header()
	if err != nil || !ok {
		return err
	}
	ctype := first(h, "Content-Type")
	if ctype == "" {
		ctype = `text/plain; charset="us-ascii"`
	}
	mtype, params, _, err := mediatype.Parse(ctype)
	if err != nil {
		return errStop
	}
	if strings.HasPrefix(mtype, "multipart/") {
		b := params["boundary"]
		if b == "" || len(b) > maxStreamedBoundary || mtype == "multipart/report" {
			return errStop // a report's parts are read (readDSN)
		}
		w.stack = append(w.stack, b)
		if err := w.skip(); err != nil {
			return err
		}
		return w.walkParts()
	}
	// A single part to the end: an attachment when it is not text/plain or text/html.
	if mtype != "text/plain" && mtype != "text/html" && streamable(mtype, params["charset"], "attachment") {
		w.leave(w.off, w.size, first(h, "Content-Transfer-Encoding"))
	}
	return nil
}

// streamable says whether a leaf part of that type, charset and disposition can only
// be an attachment whose content enmime would not change: not multipart, and not text
// unless declared UTF-8 (no conversion) and not a text/plain or text/html body.
func streamable(mtype, charset, disposition string) bool {
	if strings.HasPrefix(mtype, "multipart/") {
		return false
	}
	if !strings.HasPrefix(mtype, "text/") {
		return true
	}
	if !strings.EqualFold(charset, "utf-8") {
		return false
	}
	return (mtype != "text/plain" && mtype != "text/html") || disposition == "attachment"
}

// skip reads lines up to the next boundary of the multiparts the walk is in (a
// preamble or an epilogue), and moves onto it.
func (w *walker) skip() error {
	for {
		l, _, start, err := w.line()
		if err != nil {
			return errStop
		}
		if start {
			if lvl, term, ok := w.boundary(l); ok {
				return w.atBoundary(lvl, term)
			}
		}
	}
}

// atBoundary moves onto a boundary line just read: the multiparts inside its own end;
// a terminator ends its own too (its epilogue is skipped).
func (w *walker) atBoundary(level int, term bool) error {
	w.stack = w.stack[:level+1]
	if !term {
		return nil
	}
	w.stack = w.stack[:level]
	if len(w.stack) == 0 {
		return errStop // the end of the message's parts
	}
	return w.skip()
}

// walkParts walks the parts after a delimiter line, until the message's parts end.
func (w *walker) walkParts() error {
	for depth := 0; ; depth++ {
		if len(w.stack) > maxDepth || depth > 1<<20 {
			return errStop
		}
		if err := w.part(); err != nil {
			return err
		}
	}
}

// part walks one part, from its header to the boundary line after it.
func (w *walker) part() error {
	h, ok, err := w.header()
	if err != nil || !ok {
		return err
	}
	ctype := first(h, "Content-Type")
	mtype, params, _, perr := "", map[string]string(nil), []string(nil), error(nil)
	if ctype != "" {
		mtype, params, _, perr = mediatype.Parse(ctype)
	}
	if perr == nil && params["boundary"] != "" && mtype != "text/plain" && mtype != "text/html" {
		b := params["boundary"]
		if len(b) > maxStreamedBoundary {
			return errStop
		}
		w.stack = append(w.stack, b)
		return w.skip()
	}
	disp := ""
	if d, _, _, err := mediatype.Parse(first(h, "Content-Disposition")); err == nil {
		disp = d
	}
	leave := perr == nil && streamable(mtype, params["charset"], disp)
	// The body: up to the line before the next boundary; it can be left out only when
	// no line of it could be read as a boundary of any multipart: none has "--" (enmime
	// finds a boundary within a few bytes of a line's start, and loses bytes when a
	// boundary is near the end of a part's last line) and none a bare CR.
	bodyAt, prevEnd := w.off, 0
	for {
		l, at, start, err := w.line()
		if err != nil {
			return errStop
		}
		if bytes.Contains(l, []byte("--")) {
			if !start {
				leave = false
			} else if lvl, term, ok := w.boundary(l); ok {
				if leave {
					w.leave(bodyAt, max(bodyAt, at-int64(prevEnd)), first(h, "Content-Transfer-Encoding"))
				}
				return w.atBoundary(lvl, term)
			}
			leave = false
		}
		if i := bytes.IndexByte(l, '\r'); i >= 0 && i != len(l)-2 || (i >= 0 && w.lineEnd != 2) {
			leave = false // a bare CR: enmime's boundary check reads on from it
		}
		if w.lineEnd == 0 && bytes.HasSuffix(l, []byte("-")) {
			leave = false // "--" across two pieces of a long line
		}
		prevEnd = w.lineEnd
	}
}

// leave replaces src[from:to] by a token in the skeleton, when large enough.
func (w *walker) leave(from, to int64, cte string) {
	if to-from < w.min || from < w.copied {
		return
	}
	p := &rawPart{src: w.src, off: from, n: to - from, cte: strings.ToLower(cte)}
	p.measure()
	token := w.prefix + strconv.Itoa(len(w.parts)) + "x"
	w.parts[token] = p
	lit := token
	if p.cte == "base64" {
		lit = base64.RawStdEncoding.EncodeToString([]byte(token))
	}
	w.segs = append(w.segs, segment{off: w.copied, n: from - w.copied}, segment{lit: lit})
	w.copied = to
}

// first is a header's first value.
func first(h map[string][]string, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
