// Package parsefuzz_test holds mailin's parser fuzz test on its own. In internal/mailin it
// shared a test binary with the package's end-to-end tests, which import the whole server:
// `go test -fuzz` builds every package of the binary with coverage instrumentation, so
// fuzzing the parser compiled some thirty packages that Parse never runs (the server, the
// API, the web pages, the test kit) once more, instrumented. Here the binary holds mailin
// and what it imports. As a plain test (go test, CI) it runs its seed corpus, as before.
package parsefuzz_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"tandem/internal/mailin"
)

// FuzzParse: whatever the bytes, Parse returns (no panic, no hang), and what it returns
// is clean text: valid UTF-8, no NUL, no markup from an HTML body. The seed corpus is
// mailin's hostile-mail corpus (internal/mailin/testdata/corpus).
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := mailin.Parse(raw)
		if err != nil {
			return
		}
		for _, s := range []string{m.Subject, m.Text, m.FromName, m.FromAddress, m.MessageID} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("unclean text %q", s)
			}
		}
		_ = mailin.TrimReply(m.Text)
	})
}

// FuzzParseAt: ParseAt, which leaves attachment bodies in the message and decodes them
// as they are read, gives what Parse gives, field for field and byte for byte, whatever
// the bytes. Here every part it can leave out is left out (streamAt 1).
func FuzzParseAt(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		sameAsParse(t, raw, 1)
	})
}

// addSeeds adds the hostile-mail corpus and a few messages with attachments.
func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("../testdata/corpus/*.eml")
	if len(files) == 0 {
		f.Fatal("no seed messages in ../testdata/corpus")
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("From: a@b.c\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\n\r\nhi\r\n--y--\r\n--x--\r\n"))
	for _, m := range streamSeeds {
		f.Add([]byte(m))
	}
}

// streamSeeds are messages with parts ParseAt leaves in the message: base64,
// quoted-printable, 8-bit, UTF-8 text attachments, a binary single-part message, a base64
// body that does not decode, and boundaries that look alike.
var streamSeeds = []string{
	"From: a@b.c\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\npre\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\nJVBERi0xLjQK\r\n--b\r\nContent-Type: image/png\r\nContent-ID: <i@x>\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=89PNG=0D=0A caf=C3=A9 =\r\nsoft\r\n--b\r\nContent-Type: text/csv; charset=utf-8\r\nContent-Disposition: attachment; filename=x.csv\r\n\r\na,b\r\n1,2\r\n--b--\r\nepilogue\r\n",
	"From: a@b.c\nContent-Type: application/octet-stream; name=whole.bin\nContent-Transfer-Encoding: base64\n\nAAECAwQFBgcICQ==\n",
	// quoted-printable to repair: lines past 1,024 bytes, a bare '=' before and at the
	// end, control and 8-bit bytes; base64 with 8-bit junk whose low bits are letters.
	"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + strings.Repeat("x", 1021) + "=G\x01\xe9" + strings.Repeat("y=\x7f", 700) + "\t=\r\n" + strings.Repeat("z", 2050) + "=\r\n--q\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nQU\xc2JD\xff\r\n RE=\xc5\x01\r\n--q--\r\n",
	"From: a@b.c\nContent-Type: multipart/mixed; boundary=ab\n\n--ab\nContent-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: attachment\n\nnot the body\n--a\nContent-Type: text/html\n\n<p>hi</p>\n--a--\n--ab\nContent-Type: application/zip\nContent-Transfer-Encoding: base64\n\nQUJD=\nQ\n--ab\nContent-Type: application/zip\nContent-Transfer-Encoding: quoted-printable\n\nbad =ZZ escape\n- --ab\n--ab--\n",
}

// sameAsParse fails t when ParseAt, leaving out every part of at least streamAt raw
// bytes, reads raw differently from Parse.
func sameAsParse(t *testing.T, raw []byte, streamAt int64) {
	want, werr := mailin.Parse(raw)
	got, gerr := mailin.ParseAt(bytes.NewReader(raw), int64(len(raw)), streamAt)
	if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Fatalf("ParseAt error %v, Parse error %v", gerr, werr)
	}
	if werr != nil {
		return
	}
	type att struct {
		Name, Type, ID string
		Inline         bool
		Size           int64
		Data           []byte
	}
	flat := func(m *mailin.Message) ([]att, *mailin.Message) {
		var out []att
		for _, a := range m.Attachments {
			b, err := io.ReadAll(a.Open())
			if err != nil {
				t.Fatalf("read %q: %v", a.FileName, err)
			}
			if int64(len(b)) != a.Size() {
				t.Fatalf("%q: Size %d, read %d bytes", a.FileName, a.Size(), len(b))
			}
			out = append(out, att{a.FileName, a.ContentType, a.ContentID, a.Inline, a.Size(), b})
		}
		c := *m
		c.Attachments = nil
		return out, &c
	}
	wa, wm := flat(want)
	ga, gm := flat(got)
	if !reflect.DeepEqual(wm, gm) {
		t.Fatalf("ParseAt read\n%+v\nParse read\n%+v", gm, wm)
	}
	if !reflect.DeepEqual(wa, ga) {
		t.Fatalf("ParseAt attachments\n%+v\nParse attachments\n%+v", ga, wa)
	}
}
