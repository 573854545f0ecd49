package storetest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"tandem/internal/store"
)

// TestSaysWhenPostgresIsSkipped runs this test binary again without TANDEM_TEST_POSTGRES
// and checks that it says, once, that PostgreSQL was left out.
func TestSaysWhenPostgresIsSkipped(t *testing.T) {
	if os.Getenv("STORETEST_CHILD") != "" {
		for range 3 {
			if d := Dialects(); len(d) != 1 {
				t.Fatalf("Dialects() = %v without TANDEM_TEST_POSTGRES", d)
			}
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSaysWhenPostgresIsSkipped$", "-test.count=1")
	cmd.Env = append(withoutPostgres(os.Environ()), "STORETEST_CHILD=1", "CI=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	if n := strings.Count(stderr.String(), PostgresSkipped); n != 1 {
		t.Fatalf("the notice appeared %d times, want once; stderr:\n%s", n, stderr.String())
	}
}

func withoutPostgres(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "TANDEM_TEST_POSTGRES=") {
			out = append(out, kv)
		}
	}
	return out
}

// TestCIRefusesToSkipPostgres runs this test binary again under CI without
// TANDEM_TEST_POSTGRES: a PostgreSQL test must fail there, not skip.
func TestCIRefusesToSkipPostgres(t *testing.T) {
	if os.Getenv("STORETEST_CHILD") != "" {
		if d := Dialects(); len(d) != 2 {
			t.Errorf("Dialects() = %v in CI, want both", d)
		}
		Open(t, store.Postgres)
		t.Error("Open returned a PostgreSQL database without TANDEM_TEST_POSTGRES")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCIRefusesToSkipPostgres$", "-test.count=1", "-test.v")
	cmd.Env = append(withoutPostgres(os.Environ()), "STORETEST_CHILD=1", "CI=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "CI is set but TANDEM_TEST_POSTGRES is not") || strings.Contains(string(out), "without TANDEM_TEST_POSTGRES") {
		t.Fatalf("child under CI: err %v, output:\n%s", err, out)
	}
}
