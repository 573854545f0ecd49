package mailin

import (
	"bufio"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
)

// Transfer decoding of a streamed part (stream.go). The bytes must be those the
// in-memory parse (enmime) gives for the same part, which FuzzParseAt checks: enmime is
// lenient, and so are these. For base64 it keeps only the bytes whose low seven bits are
// a letter of the alphabet (line breaks, spaces, padding and junk go) and decodes the
// rest without padding. For quoted-printable it first repairs what Go's strict decoder
// would stop at: an '=' that starts no escape or soft break becomes "=3D", a control or
// non-ASCII byte (other than tab, CR and LF) becomes its "=XX" escape, and a line
// reaching 1,024 bytes gets a soft break.

// decoder decodes r's Content-Transfer-Encoding (lower case): base64 and
// quoted-printable leniently, anything else (7bit, 8bit, binary, unknown) as it is.
func decoder(r io.Reader, cte string) io.Reader {
	switch cte {
	case "quoted-printable":
		return quotedprintable.NewReader(&qpRepair{in: bufio.NewReader(r)})
	case "base64":
		return base64.NewDecoder(base64.RawStdEncoding, base64Letters{r})
	}
	return r
}

// base64Letters reads only the base64 letters of r.
type base64Letters struct{ r io.Reader }

func (b base64Letters) Read(p []byte) (int, error) {
	m, err := b.r.Read(p)
	n := 0
	for _, c := range p[:m] {
		if isBase64Letter(c & 0x7f) {
			p[n] = c
			n++
		}
	}
	return n, err
}

func isBase64Letter(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}

// qpLineMax is the output line length at which qpRepair inserts a soft break.
const qpLineMax = 1024

// qpRepair reads a quoted-printable body repaired as the package comment says.
type qpRepair struct {
	in   *bufio.Reader
	out  []byte // repaired bytes not read yet
	line int    // bytes on the current output line
	err  error  // the input's error, returned once out is read
}

func (q *qpRepair) Read(p []byte) (int, error) {
	for len(q.out) < len(p) && q.err == nil {
		q.next()
	}
	n := copy(p, q.out)
	q.out = q.out[:copy(q.out, q.out[n:])]
	if n == 0 {
		return 0, q.err
	}
	return n, nil
}

const hexDigits = "0123456789ABCDEF"

// next repairs one input byte into out.
func (q *qpRepair) next() {
	c, err := q.in.ReadByte()
	if err != nil {
		q.err = err
		return
	}
	if q.line >= qpLineMax {
		q.softBreak()
	}
	switch {
	case c == '\r' || c == '\n':
		q.out = append(q.out, c)
		q.line = 0
	case c == '=':
		q.room(2)
		ahead, err := q.in.Peek(2)
		if err != nil && err != io.EOF {
			q.err = err
			return
		}
		if startsEscape(ahead) {
			q.put('=')
		} else {
			q.put('=', '3', 'D')
		}
	case c == '\t' || ' ' <= c && c <= '~':
		q.put(c)
	default:
		q.room(2)
		q.put('=', hexDigits[c>>4], hexDigits[c&15])
	}
}

// room breaks the line first unless n more bytes leave it under qpLineMax.
func (q *qpRepair) room(n int) {
	if q.line+n >= qpLineMax {
		q.softBreak()
	}
}

func (q *qpRepair) softBreak() {
	q.out = append(q.out, '=', '\r', '\n')
	q.line = 0
}

func (q *qpRepair) put(b ...byte) {
	q.out = append(q.out, b...)
	q.line += len(b)
}

// startsEscape reports whether the bytes after an '=' make it an escape (two hex
// digits) or a soft line break.
func startsEscape(ahead []byte) bool {
	switch {
	case len(ahead) > 0 && ahead[0] == '\n':
		return true
	case len(ahead) < 2:
		return false
	case ahead[0] == '\r' && ahead[1] == '\n':
		return true
	}
	return isHex(ahead[0]) && isHex(ahead[1])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' || 'a' <= c && c <= 'f'
}
