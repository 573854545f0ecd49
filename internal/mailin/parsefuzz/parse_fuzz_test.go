// Package parsefuzz_test holds mailin's parser fuzz test on its own. In internal/mailin it
// shared a test binary with the package's end-to-end tests, which import the whole server:
// `go test -fuzz` builds every package of the binary with coverage instrumentation, so
// fuzzing the parser compiled some thirty packages that Parse never runs (the server, the
// API, the web pages, the test kit) once more, instrumented. Here the binary holds mailin
// and what it imports. As a plain test (go test, CI) it runs its seed corpus, as before.
package parsefuzz_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"tandem/internal/mailin"
)

// FuzzParse: whatever the bytes, Parse returns (no panic, no hang), and what it returns
// is clean text: valid UTF-8, no NUL, no markup from an HTML body. The seed corpus is
// mailin's hostile-mail corpus (internal/mailin/testdata/corpus).
func FuzzParse(f *testing.F) {
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
