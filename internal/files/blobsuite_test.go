package files

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The blob store suite: every Blobs implementation passes the same tests.

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

func randBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func testBlobs(t *testing.T, b Blobs) {
	ctx := context.Background()
	t.Run("round trip", func(t *testing.T) {
		data := randBytes(t, 3<<20+17)
		key := blobKey(7, sum(data))
		if err := b.Put(ctx, key, bytes.NewReader(data), int64(len(data)), sum(data)); err != nil {
			t.Fatal(err)
		}
		// Putting the same content again (dedup) is fine and changes nothing.
		if err := b.Put(ctx, key, bytes.NewReader(data), int64(len(data)), sum(data)); err != nil {
			t.Fatal(err)
		}
		rc, err := b.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes (err %v), want the %d put", len(got), err, len(data))
		}
		if ok, err := b.Exists(ctx, key); !ok || err != nil {
			t.Fatalf("Exists = %v, %v", ok, err)
		}
		if err := b.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if ok, err := b.Exists(ctx, key); ok || err != nil {
			t.Fatalf("after delete Exists = %v, %v", ok, err)
		}
		if _, err := b.Open(ctx, key); !errors.Is(err, ErrNoBlob) {
			t.Fatalf("Open after delete: %v, want ErrNoBlob", err)
		}
		if err := b.Delete(ctx, key); err != nil {
			t.Fatalf("deleting a missing blob: %v", err)
		}
	})
	t.Run("empty blob", func(t *testing.T) {
		key := blobKey(7, sum(nil))
		if err := b.Put(ctx, key, bytes.NewReader(nil), 0, sum(nil)); err != nil {
			t.Fatal(err)
		}
		rc, err := b.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if len(got) != 0 {
			t.Fatalf("got %d bytes", len(got))
		}
		_ = b.Delete(ctx, key)
	})
	t.Run("accounts apart", func(t *testing.T) {
		data := []byte("same bytes, two accounts")
		k1, k2 := blobKey(1, sum(data)), blobKey(2, sum(data))
		for _, k := range []string{k1, k2} {
			if err := b.Put(ctx, k, bytes.NewReader(data), int64(len(data)), sum(data)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Delete(ctx, k1); err != nil {
			t.Fatal(err)
		}
		if ok, _ := b.Exists(ctx, k2); !ok {
			t.Fatal("deleting account 1's blob removed account 2's")
		}
		_ = b.Delete(ctx, k2)
	})
	t.Run("wrong checksum refused", func(t *testing.T) {
		data := []byte("the bytes")
		wrong := sum([]byte("other bytes"))
		key := blobKey(7, wrong)
		if err := b.Put(ctx, key, bytes.NewReader(data), int64(len(data)), wrong); err == nil {
			t.Fatal("a blob whose bytes do not match its SHA-256 was stored")
		}
		// The disk store never keeps such bytes (they are renamed into place only once
		// checked). Over S3 the payload hash is signed, so S3 refuses them; s3rver does
		// not check it and keeps what it received of a broken-off upload, so there the
		// error from Put is what the suite can hold it to (the files service then
		// releases the blob, deleting it).
		if _, lenient := b.(*S3); !lenient {
			if ok, _ := b.Exists(ctx, key); ok {
				t.Fatal("the mismatched blob is there")
			}
		}
	})
	t.Run("bad keys refused", func(t *testing.T) {
		for _, k := range []string{"../../etc/passwd", "1/../../x", "1/" + strings.Repeat("A", 64), "x/" + sum(nil), ""} {
			if err := b.Put(ctx, k, bytes.NewReader(nil), 0, sum(nil)); err == nil {
				t.Errorf("Put(%q) accepted", k)
			}
			if _, err := b.Open(ctx, k); err == nil || errors.Is(err, ErrNoBlob) {
				t.Errorf("Open(%q) = %v, want a bad-key error", k, err)
			}
		}
	})
}

func TestDiskBlobs(t *testing.T) {
	t.Parallel()
	d, err := NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	testBlobs(t, d)
	// No temporary file is left behind.
	left, _ := os.ReadDir(filepath.Join(d.root, "tmp"))
	if len(left) != 0 {
		t.Fatalf("%d temporary files left", len(left))
	}
}

func TestS3Blobs(t *testing.T) {
	t.Parallel()
	testBlobs(t, startS3rver(t))
}

// s3rver is one S3-compatible server (the npm package s3rver, installed under
// testdata/s3rver by `npm ci`) shared by the package's tests.
var s3rver struct {
	once sync.Once
	cmd  *exec.Cmd
	addr string
	err  error
	dir  string
}

// startS3rver returns an S3 store in a fresh bucket of the shared s3rver. Without node
// or the installed package the test is skipped, except in CI, where it fails.
func startS3rver(t *testing.T) *S3 {
	t.Helper()
	s3rver.once.Do(func() {
		bin := filepath.Join("testdata", "s3rver", "node_modules", "s3rver", "bin", "s3rver.js")
		node, err := exec.LookPath("node")
		if err != nil {
			s3rver.err = err
			return
		}
		if _, err := os.Stat(bin); err != nil {
			s3rver.err = errors.New("s3rver is not installed (cd internal/files/testdata/s3rver && npm ci)")
			return
		}
		s3rver.dir, s3rver.err = os.MkdirTemp("", "tandem-s3rver-")
		if s3rver.err != nil {
			return
		}
		cmd := exec.Command(node, bin, "-d", s3rver.dir, "-a", "127.0.0.1", "-p", "0",
			"--configure-bucket", "tandem")
		out, err := cmd.StdoutPipe()
		if err != nil {
			s3rver.err = err
			return
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			s3rver.err = err
			return
		}
		s3rver.cmd = cmd
		found := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if a, ok := strings.CutPrefix(sc.Text(), "S3rver listening on "); ok {
					found <- strings.TrimSpace(a)
				}
			}
		}()
		select {
		case s3rver.addr = <-found:
		case <-time.After(30 * time.Second):
			s3rver.err = errors.New("s3rver did not say where it listens within 30 s")
		}
	})
	if s3rver.err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("S3 tests need s3rver in CI: %v", s3rver.err)
		}
		t.Skipf("S3 tests skipped: %v", s3rver.err)
	}
	s, err := NewS3(S3Config{Bucket: "tandem", Prefix: "t" + sum([]byte(t.Name()))[:12], Endpoint: "http://" + s3rver.addr,
		AccessKey: "S3RVER", SecretKey: "S3RVER"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopClamd()
	if s3rver.cmd != nil {
		_ = s3rver.cmd.Process.Kill()
		_ = s3rver.cmd.Wait()
	}
	if s3rver.dir != "" {
		os.RemoveAll(s3rver.dir)
	}
	os.Exit(code)
}
