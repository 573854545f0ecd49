package storetest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
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
	cmd.Env = append(withoutPostgres(os.Environ()), "STORETEST_CHILD=1")
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
