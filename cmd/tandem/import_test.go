package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tandem/internal/store/storetest"
)

func TestImportCommand(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			data, _ := dataArgs(t, d)
			if _, stderr, err := tandem(t, env{}, append([]string{"account", "create", "--subdomain", "acme", "--admin-email", "admin@acme.test", "--plan", "professional"}, data...)...); err != nil {
				t.Fatalf("account create: %v\n%s", err, stderr)
			}
			dir := t.TempDir()
			orgs := filepath.Join(dir, "orgs.csv")
			users := filepath.Join(dir, "users.csv")
			report := filepath.Join(dir, "report.csv")
			mustWrite(t, orgs, "Name,Domain Names,Shared Tickets\nAcme Corp,acme-corp.test,yes\nBeta,,no\n")
			mustWrite(t, users, "name,email,organization,shoe size\n"+
				"Ann,ann@acme-corp.test,Beta,42\n"+
				"=HYPERLINK(\"http://evil.test\"),formula@x.test,,\n"+
				"Bad,not-an-email,,\n")

			// FILE may come before or after the flags.
			stdout, stderr, err := tandem(t, env{}, append([]string{"import", "organizations", orgs, "--account", "acme"}, data...)...)
			if err != nil || !strings.Contains(stdout, "2 created, 0 updated, 0 unchanged, 0 failed") {
				t.Fatalf("import organizations: err %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
			}
			args := append([]string{"import", "users", "--account", "acme", "--report", report}, data...)
			stdout, stderr, err = tandem(t, env{}, append(args, users)...)
			if err == nil || !strings.Contains(err.Error(), "1 of 3 rows failed") {
				t.Errorf("import users with a bad row: err = %v, want 1 of 3 rows failed", err)
			}
			for _, want := range []string{"Imported users", "into acme", "2 created, 0 updated, 0 unchanged, 1 failed", "line 4: Email:", "not a valid email address (InvalidValue)", "report.csv"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("summary lacks %q:\n%s", want, stdout)
				}
			}
			if !strings.Contains(stderr, `warning: column "shoe size"`) || strings.Contains(stderr, "\r") {
				t.Errorf("stderr (not a terminal: warnings, no progress bar) = %q", stderr)
			}
			f, err := os.Open(report)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			recs, err := csv.NewReader(f).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 4 || strings.Join(recs[0], ",") != "line,status,id,key,field,code,reason" ||
				recs[1][1] != "created" || recs[2][3] != "formula@x.test" || recs[3][0] != "4" || recs[3][1] != "failed" || recs[3][4] != "email" {
				t.Errorf("report = %q", recs)
			}

			// Again: nothing changes; a dry run of a new row writes nothing.
			stdout, _, _ = tandem(t, env{}, append(args, users)...)
			if !strings.Contains(stdout, "0 created, 0 updated, 2 unchanged, 1 failed") {
				t.Errorf("re-run summary:\n%s", stdout)
			}
			mustWrite(t, users, "name,email\nNew,new@x.test\n")
			stdout, _, err = tandem(t, env{}, append([]string{"import", "users", users, "--dry-run", "--account", "acme"}, data...)...)
			if err != nil || !strings.Contains(stdout, "Dry run") || !strings.Contains(stdout, "1 rows would be created") {
				t.Errorf("dry run: %v\n%s", err, stdout)
			}
			stdout, _, err = tandem(t, env{}, append([]string{"import", "users", users, "--account", "acme"}, data...)...)
			if err != nil || !strings.Contains(stdout, "1 created") {
				t.Errorf("after the dry run the row is still new: %v\n%s", err, stdout)
			}
		})
	}
}

func TestImportCommandMistakes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "u.csv")
	mustWrite(t, file, "name,email\nA,a@x.test\n")
	data := []string{"--data-dir", dir}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"import"}, "users or organizations"},
		{[]string{"import", "tickets", file}, `unknown kind "tickets"`},
		{[]string{"import", "users", "--account", "acme"}, "exactly one FILE"},
		{[]string{"import", "users", file, file, "--account", "acme"}, "exactly one FILE"},
		{[]string{"import", "users", file}, "--account is required"},
		{[]string{"import", "users", file, "--account", "nope"}, `no account "nope"`},
		{[]string{"import", "users", filepath.Join(dir, "missing.csv"), "--account", "acme"}, "no such file"},
		{[]string{"import", "users", file, "--account", "acme", "--batch-size", "0"}, "--batch-size"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := tandem(t, env{}, append(tt.args, data...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	stdout, _, err := tandem(t, env{}, "import", "users", "--help")
	if err != nil || !strings.Contains(stdout, "Usage: tandem import users FILE --account SUBDOMAIN") || !strings.Contains(stdout, "TANDEM_ACCOUNT") || !strings.Contains(stdout, "user_fields.<key>") {
		t.Errorf("import users --help: %v\n%s", err, stdout)
	}
}

func mustWrite(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
