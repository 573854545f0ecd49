package mailin

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"mime/quotedprintable"
	"strings"
	"testing"
)

// StreamedFile is an attachment of LargeMessage, as sent.
type StreamedFile struct {
	Name, Type string
	Data       []byte
}

// LargeMessage returns a message (for tests) with three attachments larger than any
// buffer of the parse: random bytes in base64, accented text in quoted-printable, and
// a UTF-8 text file in 8bit; and an HTML body showing an inline image by Content-ID.
func LargeMessage(from, to, subject string) (string, []StreamedFile) {
	rng := rand.New(rand.NewChaCha8([32]byte{11}))
	bin := make([]byte, 1500<<10)
	for i := range bin {
		bin[i] = byte(rng.Uint32())
	}
	files := []StreamedFile{
		{"random.bin", "application/octet-stream", bin},
		{"lettre.rtf", "application/rtf", []byte(strings.Repeat("Grüße aus Köln, ça va très bien; naïve café.\n", 14000))},
		{"server.log", "text/plain; charset=utf-8", []byte(strings.Repeat("2026-12-07T06:00:00Z INFO request served in 3ms (status 200)\n", 6000))},
	}
	var b strings.Builder
	b.WriteString("From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: <large-" + strings.ReplaceAll(subject, " ", "-") + "@sender.test>\r\nMIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: multipart/mixed; boundary=\"=_outer\"\r\n\r\nThis is a multipart message.\r\n--=_outer\r\n")
	b.WriteString("Content-Type: multipart/related; boundary=\"=_rel\"\r\n\r\n--=_rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>The log and the letter, as asked.</p><img src=\"cid:dot@x\">\r\n")
	b.WriteString("--=_rel\r\nContent-Type: image/gif; name=dot.gif\r\nContent-ID: <dot@x>\r\nContent-Disposition: inline; filename=dot.gif\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lGODlhAQABAAAAACw=\r\n--=_rel--\r\n")
	enc := []string{"base64", "quoted-printable", "8bit"}
	for i, f := range files {
		b.WriteString("--=_outer\r\nContent-Type: " + f.Type + "; name=\"" + f.Name + "\"\r\nContent-Disposition: attachment; filename=\"" + f.Name + "\"\r\nContent-Transfer-Encoding: " + enc[i] + "\r\n\r\n")
		switch enc[i] {
		case "base64":
			s := base64.StdEncoding.EncodeToString(f.Data)
			for len(s) > 76 {
				b.WriteString(s[:76] + "\r\n")
				s = s[76:]
			}
			b.WriteString(s + "\r\n")
		case "quoted-printable":
			var q bytes.Buffer
			w := quotedprintable.NewWriter(&q)
			_, _ = w.Write(f.Data)
			_ = w.Close()
			b.WriteString(q.String() + "\r\n")
		default:
			b.WriteString(strings.ReplaceAll(string(f.Data), "\n", "\r\n"))
		}
	}
	b.WriteString("--=_outer--\r\n")
	for i := range files {
		// Text lines go as CRLF lines; the line end before a boundary is the boundary's.
		switch enc[i] {
		case "8bit":
			files[i].Data = bytes.TrimSuffix(bytes.ReplaceAll(files[i].Data, []byte("\n"), []byte("\r\n")), []byte("\r\n"))
		case "quoted-printable":
			files[i].Data = bytes.ReplaceAll(files[i].Data, []byte("\n"), []byte("\r\n"))
		}
		files[i].Type, _, _ = strings.Cut(files[i].Type, ";")
	}
	return b.String(), files
}

// TestParseAtLeavesAttachments: ParseAt leaves each large attachment in the message
// (nothing of it in memory) and reads it back byte for byte, decoded; what it parses
// is what Parse parses.
func TestParseAtLeavesAttachments(t *testing.T) {
	raw, files := LargeMessage("Jane <jane@customer.test>", "support@acme.localhost", "the files")
	m, err := ParseAt(strings.NewReader(raw), int64(len(raw)), streamFrom)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != whole.Text || m.Subject != whole.Subject || len(m.Attachments) != len(whole.Attachments) || !strings.Contains(m.Text, "[image: dot.gif]") {
		t.Fatalf("ParseAt read %q (%d attachments), Parse %q (%d)", m.Text, len(m.Attachments), whole.Text, len(whole.Attachments))
	}
	byName := map[string]*Attachment{}
	for i := range m.Attachments {
		byName[m.Attachments[i].FileName] = &m.Attachments[i]
	}
	for _, f := range files {
		a := byName[f.Name]
		if a == nil {
			t.Fatalf("no attachment %q in %+v", f.Name, m.Attachments)
		}
		if a.part == nil || a.Data != nil {
			t.Errorf("%q (%d bytes) is held in memory, not left in the message", f.Name, len(f.Data))
		}
		got, err := io.ReadAll(a.Open())
		if err != nil || !bytes.Equal(got, f.Data) || a.Size() != int64(len(f.Data)) {
			t.Errorf("%q: read %d bytes (%v), Size %d, want the %d sent", f.Name, len(got), err, a.Size(), len(f.Data))
		}
	}
	if g := byName["dot.gif"]; g == nil || !g.Inline || g.part != nil {
		t.Errorf("the small inline image = %+v, want it inline and in memory", g)
	}
}

// TestParseAtFallsBack: a skeleton that enmime does not read as the walk expected (a
// token inside a text body, one token in two parts, one missing) is refused
// (errMismatch), which makes ParseAt parse the message whole; and a message the walk
// gives up on (a boundary declared twice) gives what Parse gives.
func TestParseAtFallsBack(t *testing.T) {
	part := &rawPart{src: strings.NewReader("QUJD"), n: 4, cte: "base64", size: 3}
	const tok = "TandemPartfeedn0x"
	mk := func(bodies ...string) string {
		m := "From: a@b.test\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
		for _, b := range bodies {
			m += "--b\r\n" + b + "\r\n"
		}
		return m + "--b--\r\n"
	}
	zip := "Content-Type: application/zip\r\n\r\n" + tok
	for name, skel := range map[string]string{
		"in the text":  mk("Content-Type: text/plain\r\n\r\nsee " + tok),
		"in two parts": mk(zip, zip),
		"not whole":    mk("Content-Type: application/zip\r\n\r\n" + tok + " and more"),
		"missing":      mk("Content-Type: text/plain\r\n\r\nhello"),
	} {
		if _, err := parseFrom(strings.NewReader(skel), map[string]*rawPart{tok: part}, "TandemPartfeed"); err != errMismatch {
			t.Errorf("%s: %v, want errMismatch", name, err)
		}
	}
	if m, err := parseFrom(strings.NewReader(mk(zip)), map[string]*rawPart{tok: part}, "TandemPartfeed"); err != nil || len(m.Attachments) != 1 || m.Attachments[0].Size() != 3 {
		t.Errorf("the expected skeleton: %v, %+v", err, m)
	}

	big := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1, 2, 3}, 20000))
	raw := "From: a@b.test\r\nContent-Type: multipart/mixed; boundary=one; boundary=two\r\n\r\n--one\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n" + big + "\r\n--two\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n" + big + "\r\n--one--\r\n--two--\r\n"
	m, err := ParseAt(strings.NewReader(raw), int64(len(raw)), 1)
	whole, werr := Parse([]byte(raw))
	if (err == nil) != (werr == nil) {
		t.Fatalf("ParseAt: %v, Parse: %v", err, werr)
	}
	if err != nil {
		return
	}
	if len(m.Attachments) != len(whole.Attachments) {
		t.Fatalf("ParseAt found %d attachments, Parse %d", len(m.Attachments), len(whole.Attachments))
	}
	for i := range m.Attachments {
		a, _ := io.ReadAll(m.Attachments[i].Open())
		b, _ := io.ReadAll(whole.Attachments[i].Open())
		if !bytes.Equal(a, b) {
			t.Errorf("attachment %d differs", i)
		}
	}
}
