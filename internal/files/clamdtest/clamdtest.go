// Package clamdtest runs a real clamd for tests (files, mail): Debian's clamav-daemon
// with only a signature for the EICAR test file (internal/files/testdata/clamav), since
// official signatures need a network. Without clamd a test is skipped, except in CI
// (CI set), where it fails.
package clamdtest

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// signature is the path of the test signature, found from this source file.
func signature() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "clamav", "tandem-test.hdb")
}

// eicar is the antivirus industry's harmless test file, assembled here so that this
// source file itself is not one. testdata/clamav/tandem-test.hdb is a signature for
// it (MD5 and size, as `sigtool --md5` writes), since ClamAV's official signatures
// need a network to fetch.
var eicar = []byte(`X5O!P%@AP[4\PZX54(P^)7CC)7}$` + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!" + `$H+H*`)

// EICAR returns the EICAR test file.
func EICAR() []byte { return append([]byte(nil), eicar...) }

var clamd struct {
	once sync.Once
	cmd  *exec.Cmd
	dir  string
	spec string
	err  error
}

// Start runs one real clamd (Debian's clamav-daemon) for a test binary with only the
// test signature, and returns its unix:// address. Without clamd the test is
// skipped, except in CI, where it fails.
func Start(t testing.TB) string {
	t.Helper()
	clamd.once.Do(func() {
		bin, err := exec.LookPath("clamd")
		if err != nil {
			if _, serr := os.Stat("/usr/sbin/clamd"); serr != nil {
				clamd.err = errors.New("clamd is not installed (apt-get install clamav-daemon)")
				return
			}
			bin = "/usr/sbin/clamd"
		}
		dir, err := os.MkdirTemp("", "tandem-clamd-")
		if err != nil {
			clamd.err = err
			return
		}
		clamd.dir = dir
		db := filepath.Join(dir, "db")
		sig, err := os.ReadFile(signature())
		if err == nil {
			err = os.MkdirAll(db, 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(db, "tandem-test.hdb"), sig, 0o644)
		}
		sock := filepath.Join(dir, "clamd.sock")
		conf := strings.Join([]string{"LocalSocket " + sock, "DatabaseDirectory " + db, "Foreground yes",
			"LogFile " + filepath.Join(dir, "clamd.log"), "PidFile " + filepath.Join(dir, "clamd.pid"), "StreamMaxLength 60M", ""}, "\n")
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "clamd.conf"), []byte(conf), 0o644)
		}
		if err != nil {
			clamd.err = err
			return
		}
		cmd := exec.Command(bin, "-c", filepath.Join(dir, "clamd.conf"))
		if err := cmd.Start(); err != nil {
			clamd.err = err
			return
		}
		clamd.cmd = cmd
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if c, err := net.Dial("unix", sock); err == nil {
				c.Close()
				clamd.spec = "unix://" + sock
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		log, _ := os.ReadFile(filepath.Join(dir, "clamd.log"))
		clamd.err = errors.New("clamd did not open its socket within 60 s: " + string(log))
	})
	if clamd.err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("malware scanning tests need clamd in CI: %v", clamd.err)
		}
		t.Skipf("clamd tests skipped: %v", clamd.err)
	}
	return clamd.spec
}

// Stop ends the clamd Start ran (from TestMain).
func Stop() {
	if clamd.cmd != nil {
		_ = clamd.cmd.Process.Kill()
		_ = clamd.cmd.Wait()
	}
	if clamd.dir != "" {
		os.RemoveAll(clamd.dir)
	}
}
