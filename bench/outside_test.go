package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"
)

// sameBuild is the build flags this test binary was built with (-race, -gcflags,
// -ldflags, -tags), so that the tandem binary the test builds finds every package it
// needs already compiled in the build cache, by the test's own build (CI runs the tests
// with -race and per-package -gcflags: a plain build compiled the whole tree, SQLite
// included, a second time).
func sameBuild(t *testing.T) []string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build information in the test binary")
	}
	var flags []string
	for _, s := range bi.Settings {
		switch s.Key {
		case "-race":
			if s.Value == "true" {
				flags = append(flags, "-race")
			}
		case "-gcflags", "-ldflags", "-tags", "-asmflags":
			flags = append(flags, s.Key+"="+s.Value)
		}
	}
	return flags
}

// TestOutsideSuitesRun keeps the outside sharing, webhook, mail and export benchmarks
// working at a tiny size: the tandem binary built from this tree, SQLite databases.
func TestOutsideSuitesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the tandem binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tandem")
	build := exec.Command("go", append(append([]string{"build"}, sameBuild(t)...), "-o", bin, "../cmd/tandem")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build tandem: %v", err)
	}
	fresh := func(name string) OutsideDB {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return OutsideDB{Dir: d}
	}
	t.Run("sharing", func(t *testing.T) {
		p, err := StartOutsideSharing(bin, fresh("share-a"), 1, fresh("share-b"))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Stop()
		res, err := p.Latency([]int{20}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].N != 20 || res[0].Errors != 0 || len(res[0].CPU) != 2 {
			t.Fatalf("latency = %+v", res)
		}
		dr, err := p.BacklogDrain(30)
		if err != nil {
			t.Fatal(err)
		}
		if dr.Updates != 30 || dr.FromFirst <= 0 || dr.FromFirst > dr.Elapsed {
			t.Fatalf("drain = %+v", dr)
		}
	})
	t.Run("webhooks", func(t *testing.T) {
		w, err := StartOutsideWebhooks(bin, fresh("hooks"))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		res, err := w.Latency([]int{20}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].N != 20 || res[0].Errors != 0 {
			t.Fatalf("latency = %+v", res)
		}
		dr, err := w.Drain(100)
		if err != nil {
			t.Fatal(err)
		}
		if dr.Calls != 100 {
			t.Fatalf("drain = %+v", dr)
		}
	})
	t.Run("mail", func(t *testing.T) {
		in, err := OutsideInbound(bin, fresh("mail-in"), 0, []int{1, 2}, 300*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if len(in) != 2 || in[0].N == 0 || in[1].N == 0 || in[0].Errors != 0 || in[1].Errors != 0 {
			t.Fatalf("inbound = %+v", in)
		}
		out, err := OutsideMailDrain(bin, fresh("mail-out"), 300)
		if err != nil {
			t.Fatal(err)
		}
		if out.Mails != 300 {
			t.Fatalf("outbound = %+v", out)
		}
	})
	t.Run("export", func(t *testing.T) {
		res, _, err := OutsideExportWalk(bin, fresh("export"), 1100)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 || res[0].Pages < 2 || res[1].Records != 1100 || res[1].ServerAllocs == 0 {
			t.Fatalf("result = %+v", res)
		}
	})
}
