package files_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Hostile files: each is refused or made inert, with a clear error, and leaves no
// blob behind that nothing refers to.

// endless yields n bytes without holding them (a stream far over the limit).
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), e.n)
	for i := range p[:k] {
		p[i] = 'A'
	}
	e.n -= k
	return int(k), nil
}

// pngHeader is a PNG signature and IHDR chunk claiming w × h pixels, with no pixels.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	_ = binary.Write(&b, binary.BigEndian, uint32(13))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// zipBomb is a small zip whose one member inflates to 20 MB of zeros (1000:1).
func zipBomb(t *testing.T) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create("../../zeros.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, io.LimitReader(zeroReader{}, 20<<20)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func hostileFiles(t *testing.T, f *fixture) {
	jpegHTML := append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), []byte("<html><script>alert(document.cookie)</script></html>")...)
	svg := `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><circle r="4"/></svg>`
	cases := []struct {
		name, file string
		body       func() io.Reader
		status     int
		// check looks at the stored attachment and its download.
		wantName, wantType, wantDisp, wantServed string
		wantErr                                  string
	}{
		{name: "stream over the limit", file: "big.bin", body: func() io.Reader { return &endless{n: 64 << 20} }, status: 413,
			wantErr: fmt.Sprintf("the %d-byte limit per file", smallLimit)},
		{name: "zip bomb", file: "bomb.zip", body: func() io.Reader { return bytes.NewReader(zipBomb(t)) }, status: 201,
			wantName: "bomb.zip", wantType: "application/zip", wantDisp: "attachment", wantServed: "application/zip"},
		{name: "polyglot html/jpeg", file: "photo.jpg", body: func() io.Reader { return bytes.NewReader(jpegHTML) }, status: 201,
			wantName: "photo.jpg", wantType: "image/jpeg", wantDisp: "attachment", wantServed: "image/jpeg"},
		{name: "html named as an image", file: "cat.png", body: func() io.Reader { return strings.NewReader("<html><script>alert(1)</script>") }, status: 201,
			wantName: "cat.png", wantType: "text/html; charset=utf-8", wantDisp: "attachment", wantServed: "application/octet-stream"},
		{name: "svg with script", file: "logo.svg", body: func() io.Reader { return strings.NewReader(svg) }, status: 201,
			wantName: "logo.svg", wantType: "image/svg+xml", wantDisp: "attachment", wantServed: "application/octet-stream"},
		{name: "path traversal", file: "../../etc/passwd", body: func() io.Reader { return strings.NewReader("root:x:0:0") }, status: 201,
			wantName: "passwd", wantDisp: "attachment"},
		{name: "control characters", file: "in\tvoice\r\n\x1b[31m.pdf\u202e", body: func() io.Reader { return strings.NewReader("%PDF-1.4 x") }, status: 201,
			wantName: "invoice[31m.pdf", wantType: "application/pdf", wantDisp: "attachment", wantServed: "application/octet-stream"},
		{name: "1000-character name", file: strings.Repeat("n", 1000) + ".txt", body: func() io.Reader { return strings.NewReader("x") }, status: 201,
			wantName: strings.Repeat("n", 251) + ".txt", wantDisp: "attachment"},
		{name: "50000 x 50000 png", file: "huge.png", body: func() io.Reader { return bytes.NewReader(pngHeader(50000, 50000)) }, status: 201,
			wantName: "huge.png", wantType: "image/png", wantDisp: "attachment", wantServed: "image/png"},
		{name: "NUL in the name", file: "a\x00.txt", body: func() io.Reader { return strings.NewReader("x") }, status: 422, wantErr: "NUL"},
		{name: "no name", file: "/../..", body: func() io.Reader { return strings.NewReader("x") }, status: 422, wantErr: "file name is required"},
	}
	for _, c := range cases {
		before := blobFiles(t, f.filesDir)
		r := upload(t, f.acme, f.agent, c.file, c.body(), "")
		if r.Status != c.status {
			t.Fatalf("%s: status %d, want %d: %s", c.name, r.Status, c.status, r.Body)
		}
		if c.status != 201 {
			if !strings.Contains(string(r.Body), c.wantErr) {
				t.Errorf("%s: error %s does not say %q", c.name, r.Body, c.wantErr)
			}
			if after := blobFiles(t, f.filesDir); len(after) != len(before) {
				t.Errorf("%s: refused file left blobs: %v", c.name, after)
			}
			continue
		}
		a := attachmentOf(r)
		if a["file_name"] != c.wantName {
			t.Errorf("%s: file_name %q, want %q", c.name, a["file_name"], c.wantName)
		}
		if c.wantType != "" && a["content_type"] != c.wantType {
			t.Errorf("%s: content_type %q, want %q", c.name, a["content_type"], c.wantType)
		}
		if th, _ := a["thumbnails"].([]any); c.file == "huge.png" && len(th) != 0 {
			t.Errorf("%s: a thumbnail was made of a 2.5-gigapixel image", c.name)
		}
		dl := download(t, f.acme, f.agent, a["content_url"].(string)).Want(t, 200)
		if d := dl.Header.Get("Content-Disposition"); !strings.HasPrefix(d, c.wantDisp) {
			t.Errorf("%s: Content-Disposition %q, want %s", c.name, d, c.wantDisp)
		}
		if c.wantServed != "" && dl.Header.Get("Content-Type") != c.wantServed {
			t.Errorf("%s: served as %q, want %q", c.name, dl.Header.Get("Content-Type"), c.wantServed)
		}
		if dl.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(dl.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: missing nosniff or CSP: %v", c.name, dl.Header)
		}
		// Deleting the upload deletes its bytes: nothing orphaned.
		f.acme.Do(t, f.agent, "DELETE", "/api/v2/uploads/"+r.Obj("upload")["token"].(string)+".json", nil).Want(t, 204)
		if after := blobFiles(t, f.filesDir); len(after) != len(before) {
			t.Errorf("%s: deleted upload left blobs: %v (before %v)", c.name, after, before)
		}
	}
}

func uploadTokensAndExpiry(t *testing.T, f *fixture) {
	// Another account's token is nothing here.
	theirs := upload(t, f.other, f.otherAdmin, "theirs.txt", strings.NewReader("their file"), "").Want(t, 201)
	ttok := theirs.Obj("upload")["token"].(string)
	f.acme.Do(t, f.admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "x",
		"comment": map[string]any{"body": "b", "uploads": []string{ttok}}}}).Want(t, 422)
	f.acme.Do(t, f.admin, "DELETE", "/api/v2/uploads/"+ttok, nil).Want(t, 404)
	upload(t, f.acme, f.admin, "more.txt", strings.NewReader("x"), "&token="+ttok).Want(t, 422)

	// An expired token is refused and its file deleted by housekeeping (with the
	// other account's upload, expired too).
	r := upload(t, f.acme, f.agent, "late.txt", strings.NewReader("too late"), "").Want(t, 201)
	tok := r.Obj("upload")["token"].(string)
	if !slices.Contains(blobFiles(t, f.filesDir), diskPath(int64(f.acme.ID), sha("too late"))) {
		t.Fatalf("the upload's blob is not where the test looks: %v", blobFiles(t, f.filesDir))
	}
	n, err := f.desk.Srv.Files.ExpireUploads(context.Background(), time.Now().Add(2*time.Hour), 100)
	if err != nil || n < 1 {
		t.Fatalf("ExpireUploads = %d, %v", n, err)
	}
	f.acme.Do(t, f.agent, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "x", "requester_id": f.requester.UserID,
		"comment": map[string]any{"body": "b", "uploads": []string{tok}}}}).Want(t, 422)
	for _, gone := range []string{diskPath(int64(f.acme.ID), sha("too late")), diskPath(int64(f.other.ID), sha("their file"))} {
		if slices.Contains(blobFiles(t, f.filesDir), gone) {
			t.Fatalf("expired upload left its blob %s", gone)
		}
	}

	// Quota: 1 MiB per account on this desk; 256 KiB files fill it.
	quotaHit := false
	for i := 0; i < 6; i++ {
		r := upload(t, f.acme, f.agent, fmt.Sprintf("q%d.bin", i), &endless{n: smallLimit - int64(i)}, "")
		if r.Status == 413 {
			if !strings.Contains(string(r.Body), "quota") {
				t.Fatalf("413 does not name the quota: %s", r.Body)
			}
			quotaHit = true
			break
		}
		r.Want(t, 201)
	}
	if !quotaHit {
		t.Fatal("the account quota never refused an upload")
	}
}

func sha(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// diskPath is where the disk store keeps an account's blob, relative to its root.
func diskPath(acct int64, sha string) string { return filepath.Join(fmt.Sprint(acct), sha[:2], sha) }
