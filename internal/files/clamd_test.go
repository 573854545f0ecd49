package files

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"tandem/internal/files/clamdtest"
)

// StartClamd runs the tests' clamd (clamdtest.Start).
func StartClamd(t testing.TB) string { return clamdtest.Start(t) }

// EICAR is exported to the package's external tests.
func EICAR() []byte { return clamdtest.EICAR() }

var eicar = clamdtest.EICAR()

func stopClamd() { clamdtest.Stop() }

func TestClamdScan(t *testing.T) {
	t.Parallel()
	c, err := NewClamd(StartClamd(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := c.Scan(ctx, strings.NewReader(string(eicar)))
	if err != nil || v.Result != ScanInfected || !strings.Contains(v.Signature, "Tandem.Test.EICAR") {
		t.Fatalf("EICAR: %+v, %v", v, err)
	}
	// A clean file larger than one chunk.
	v, err = c.Scan(ctx, strings.NewReader(strings.Repeat("clean text ", 20000)))
	if err != nil || v.Result != ScanClean {
		t.Fatalf("clean file: %+v, %v", v, err)
	}
	// clamd down: an error, never "clean".
	down, _ := NewClamd("unix://" + filepath.Join(t.TempDir(), "none.sock"))
	if v, err := down.Scan(ctx, strings.NewReader("x")); err == nil {
		t.Fatalf("scan without clamd = %+v, want an error", v)
	}
	for _, bad := range []string{"http://x", "unix://", "tcp://"} {
		if _, err := NewClamd(bad); err == nil {
			t.Errorf("NewClamd(%q) accepted", bad)
		}
	}
}
