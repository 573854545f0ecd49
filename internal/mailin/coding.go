package mailin

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"mime/quotedprintable"
)

// The transfer decoding of a streamed part (stream.go) must give the bytes enmime would
// have given: the two cleaners below are enmime's (internal/coding, v2.3.0, MIT licence,
// Copyright (c) 2012-2016 James Hillyerd), which its internal package keeps from being
// imported; the base64 one without its list of the characters it dropped.

// decoder decodes r's Content-Transfer-Encoding (lower case) as enmime does: base64 and
// quoted-printable leniently, anything else (7bit, 8bit, binary, unknown) as it is.
func decoder(r io.Reader, cte string) io.Reader {
	switch cte {
	case "quoted-printable":
		return quotedprintable.NewReader(newQPCleaner(r))
	case "base64":
		return base64.NewDecoder(base64.RawStdEncoding, &base64Cleaner{r: r})
	}
	return r
}

// base64CleanerTable: -2 strip silently, -1 strip (enmime warns), else a base64 digit.
var base64CleanerTable = []int8{
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -2, -2, -1, -1, -2, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-2, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -2, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
}

// base64Cleaner strips what is not base64 (whitespace, padding, junk) from r.
type base64Cleaner struct {
	r      io.Reader
	buffer [1024]byte
}

func (bc *base64Cleaner) Read(p []byte) (n int, err error) {
	size := min(len(bc.buffer), len(p))
	buf := bc.buffer[:size]
	bn, err := bc.r.Read(buf)
	for i := 0; i < bn; i++ {
		if base64CleanerTable[buf[i]&0x7f] >= 0 {
			p[n] = buf[i]
			n++
		}
	}
	return
}

// maxQPLineLen is the longest line qpCleaner passes before inserting a soft break.
const maxQPLineLen = 1024

var (
	escapedEquals = []byte("=3D")
	qpLineBreak   = []byte("=\r\n")
)

// qpCleaner encodes what Go's quoted-printable decoder would stop at.
type qpCleaner struct {
	in       *bufio.Reader
	overflow []byte
	lineLen  int
}

func newQPCleaner(r io.Reader) *qpCleaner { return &qpCleaner{in: bufio.NewReader(r)} }

func (qp *qpCleaner) Read(dest []byte) (n int, err error) {
	destLen := len(dest)
	if len(qp.overflow) > 0 {
		n = copy(dest, qp.overflow)
		qp.overflow = qp.overflow[n:]
	}
	writeByte := func(in byte) {
		dest[n] = in
		n++
		qp.lineLen++
	}
	safeWriteByte := func(in byte) {
		if n < destLen {
			dest[n] = in
			n++
		} else {
			qp.overflow = append(qp.overflow, in)
		}
		qp.lineLen++
	}
	writeBytes := func(in []byte) {
		nc := copy(dest[n:], in)
		if nc < len(in) {
			qp.overflow = append(qp.overflow, in[nc:]...)
		}
		n += nc
		qp.lineLen += len(in)
	}
	ensureLineLen := func(requested int) {
		if qp.lineLen+requested >= maxQPLineLen {
			writeBytes(qpLineBreak)
			qp.lineLen = 0
		}
	}
	for n < destLen {
		var b byte
		b, err = qp.in.ReadByte()
		if err != nil {
			return n, err
		}
		if qp.lineLen >= maxQPLineLen {
			writeBytes(qpLineBreak)
			qp.lineLen = 0
			if n == destLen {
				break
			}
		}
		switch {
		case b == '=':
			ensureLineLen(2)
			var hexBytes []byte
			hexBytes, err = qp.in.Peek(2)
			if err != nil && err != io.EOF {
				return 0, err
			}
			if validHexBytes(hexBytes) {
				safeWriteByte(b)
			} else {
				writeBytes(escapedEquals)
			}
		case b == '\t':
			writeByte(b)
		case b == '\r' || b == '\n':
			writeByte(b)
			qp.lineLen = 0
		case b < ' ' || '~' < b:
			ensureLineLen(2)
			writeBytes([]byte(fmt.Sprintf("=%02X", b)))
		default:
			writeByte(b)
		}
	}
	return n, err
}

func validHexByte(b byte) bool {
	return '0' <= b && b <= '9' || 'A' <= b && b <= 'F' || 'a' <= b && b <= 'f'
}

// validHexBytes: a quoted-printable escape or soft line break, after its '='.
func validHexBytes(v []byte) bool {
	if len(v) > 0 && v[0] == '\n' {
		return true
	}
	if len(v) < 2 {
		return false
	}
	if v[0] == '\r' && v[1] == '\n' {
		return true
	}
	return validHexByte(v[0]) && validHexByte(v[1])
}
