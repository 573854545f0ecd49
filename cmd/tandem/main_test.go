package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// env is a fake environment for run.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// syncBuffer is a bytes.Buffer safe to read while run writes to it from a goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tandem runs the command line with args and the environment, returning its output.
func tandem(t *testing.T, e env, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"tandem"}, args...), e.get, &out, &errOut)
	return out.String(), errOut.String(), err
}

// dataArgs returns the flags pointing a data subcommand at a fresh database of the
// dialect, and the options to open that same database.
func dataArgs(t *testing.T, d store.Dialect) ([]string, store.Options) {
	t.Helper()
	if d == store.SQLite {
		dir := t.TempDir()
		return []string{"--data-dir", dir}, store.Options{Path: filepath.Join(dir, "tandem.db")}
	}
	opt := storetest.Options(t, d)
	return []string{"--db", opt.URL}, opt
}

func TestAccountCreateJSONTokenAuthenticates(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			data, opt := dataArgs(t, d)
			args := append([]string{"account", "create", "--subdomain", "initrode", "--plan", "professional",
				"--admin-email", "Boss@Initrode.test", "--name", "Initrode", "--admin-password", "long enough", "--json"}, data...)
			stdout, stderr, err := tandem(t, env{}, args...)
			if err != nil {
				t.Fatalf("account create: %v\nstderr: %s", err, stderr)
			}
			var got map[string]any
			dec := json.NewDecoder(strings.NewReader(stdout))
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
			}
			if dec.More() {
				t.Fatalf("stdout has more than one JSON value:\n%s", stdout)
			}
			if len(got) != 5 {
				t.Errorf("want exactly 5 keys, got %v", got)
			}
			want := map[string]string{"subdomain": "initrode", "plan": "professional", "admin_email": "boss@initrode.test", "url": "http://initrode.localhost:8080"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %v, want %q", k, got[k], v)
				}
			}
			token, _ := got["api_token"].(string)
			if len(token) < 20 {
				t.Fatalf("api_token %q looks wrong", token)
			}

			// A server on the same database accepts the token.
			db, err := store.Open(context.Background(), opt)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			desk := testkit.StartDB(t, db)
			acct := &testkit.Acct{Desk: desk, Sub: "initrode", Admin: testkit.Cred{Email: "boss@initrode.test", Token: token}}
			acct.Do(t, acct.Admin, "GET", "/api/v2/tickets.json", nil).Want(t, http.StatusOK)
			acct.Do(t, testkit.Cred{Email: "boss@initrode.test", Token: "not-the-token"}, "GET", "/api/v2/tickets.json", nil).Want(t, http.StatusUnauthorized)

			// The same subdomain cannot be created twice.
			if _, _, err := tandem(t, env{}, args...); err == nil || !strings.Contains(err.Error(), "taken") {
				t.Errorf("second account create: err = %v, want 'already taken'", err)
			}

			// account list shows it.
			stdout, _, err = tandem(t, env{}, append([]string{"account", "list"}, data...)...)
			if err != nil || !strings.Contains(stdout, "initrode") || !strings.Contains(stdout, "professional") {
				t.Errorf("account list: err %v, output:\n%s", err, stdout)
			}
		})
	}
}

func TestAccountCreateMessageAndDefaultPlan(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The plan comes from TANDEM_DEFAULT_PLAN when --plan is not given.
	stdout, _, err := tandem(t, env{"TANDEM_DATA_DIR": dir, "TANDEM_DEFAULT_PLAN": "growth"},
		"account", "create", "--subdomain", "hooli", "--admin-email", "gavin@hooli.test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "Growth plan") || !strings.Contains(stdout, "curl -u gavin@hooli.test/token:") ||
		!strings.Contains(stdout, "http://hooli.localhost:8080/api/v2/tickets.json") {
		t.Errorf("friendly message lacks the plan or the curl example:\n%s", stdout)
	}
	// The URL printed is the one 'tandem serve' answers at with the same settings.
	stdout, _, err = tandem(t, env{"TANDEM_DATA_DIR": dir, "TANDEM_ADDR": ":9191", "TANDEM_BASE_DOMAIN": "desk.example.com"},
		"account", "create", "--subdomain", "piedpiper", "--admin-email", "r@pp.test")
	if err != nil || !strings.Contains(stdout, "http://piedpiper.desk.example.com:9191/api/v2/tickets.json") {
		t.Errorf("account create with TANDEM_ADDR and TANDEM_BASE_DOMAIN (err %v):\n%s", err, stdout)
	}
	stdout, _, err = tandem(t, env{"TANDEM_DATA_DIR": dir}, "account", "create", "--subdomain", "raviga", "--admin-email", "l@r.test",
		"--public-url", "https://{subdomain}.help.example.com")
	if err != nil || !strings.Contains(stdout, "https://raviga.help.example.com/agent") {
		t.Errorf("account create with --public-url (err %v):\n%s", err, stdout)
	}
	stdout, _, err = tandem(t, env{"TANDEM_DATA_DIR": dir}, "account", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil || len(rows) != 3 || rows[0]["plan"] != "growth" {
		t.Errorf("account list --json = %s (err %v), want three accounts, the first on the growth plan", stdout, err)
	}
}

func TestEnvironmentAndFlagPrecedence(t *testing.T) {
	t.Parallel()
	envDir, flagDir := t.TempDir(), t.TempDir()
	e := env{"TANDEM_DATA_DIR": envDir}
	if _, _, err := tandem(t, e, "account", "create", "--subdomain", "from-env", "--admin-email", "a@b.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(envDir, "tandem.db")); err != nil {
		t.Errorf("TANDEM_DATA_DIR was not used: %v", err)
	}
	// A flag wins over the environment.
	if _, _, err := tandem(t, e, "account", "create", "--data-dir", flagDir, "--subdomain", "from-flag", "--admin-email", "a@b.test"); err != nil {
		t.Fatal(err)
	}
	stdout, _, _ := tandem(t, env{}, "account", "list", "--data-dir", flagDir)
	if !strings.Contains(stdout, "from-flag") || strings.Contains(stdout, "from-env") {
		t.Errorf("--data-dir did not override TANDEM_DATA_DIR:\n%s", stdout)
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdout, _, err := tandem(t, env{}, "migrate", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`applied 0001_\S+\.sql`).MatchString(stdout) {
		t.Errorf("first migrate should list the applied migrations:\n%s", stdout)
	}
	stdout, _, err = tandem(t, env{}, "migrate", "--data-dir", dir)
	if err != nil || !strings.Contains(stdout, "up to date") || strings.Contains(stdout, "applied 0001") {
		t.Errorf("second migrate: err %v, output:\n%s", err, stdout)
	}
}

func TestServeConfiguredByEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdout, _, err := tandem(t, env{}, "account", "create", "--data-dir", dir, "--subdomain", "acme", "--admin-email", "admin@acme.test", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var acct struct {
		Token string `json:"api_token"`
	}
	if err := json.Unmarshal([]byte(stdout), &acct); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	e := env{"TANDEM_DATA_DIR": dir, "TANDEM_BASE_DOMAIN": "desk.test", "TANDEM_ADDR": "127.0.0.1:0", "TANDEM_LOG_FORMAT": "json"}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"tandem", "serve"}, e.get, &out, &errOut) }()

	addrRE := regexp.MustCompile(`listening on http://(\S+)`)
	var addr string
	for deadline := time.Now().Add(20 * time.Second); addr == "" && time.Now().Before(deadline); {
		select {
		case err := <-done:
			t.Fatalf("serve stopped early: %v\nstderr: %s", err, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
		if m := addrRE.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("serve never printed its address; stdout: %s", out.String())
	}
	if !strings.Contains(out.String(), "{subdomain}.desk.test:") {
		t.Errorf("TANDEM_BASE_DOMAIN not used in the printed URL: %s", out.String())
	}

	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v2/tickets.json", nil)
	req.Host = "acme.desk.test"
	req.SetBasicAuth("admin@acme.test/token", acct.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET tickets on acme.desk.test: status %d, want 200", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if !strings.Contains(errOut.String(), `"msg":"stopped"`) {
		t.Errorf("want JSON logs (TANDEM_LOG_FORMAT=json) ending with stopped; got:\n%s", errOut.String())
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	dataFlags := []string{"--data-dir", "TANDEM_DATA_DIR", "--db", "TANDEM_DB"}
	serverFlags := []string{"--addr", "TANDEM_ADDR", `":8080"`, "--base-domain", "TANDEM_BASE_DOMAIN", `"localhost"`, "--mail-domain", "TANDEM_MAIL_DOMAIN",
		"--default-account", "--max-body", "1048576", "--rate-limit", "--allow-private-partners", "--public-url", "--trusted-proxies", "TANDEM_TRUSTED_PROXIES",
		"--log-level", "--log-format", "TANDEM_LOG_FORMAT", `"./data"`}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "--help"}, append(append([]string{"Usage: tandem serve"}, dataFlags...), serverFlags...)},
		{[]string{"demo", "--help"}, append(append([]string{"Usage: tandem demo", "acme", "globex"}, dataFlags...), serverFlags...)},
		{[]string{"migrate", "--help"}, append([]string{"Usage: tandem migrate"}, dataFlags...)},
		{[]string{"account", "create", "--help"}, append([]string{"Usage: tandem account create", "--subdomain", "--plan", "--default-plan",
			"TANDEM_DEFAULT_PLAN", `"enterprise"`, "--admin-email", "--name", "--admin-name", "--admin-password", "--json"}, dataFlags...)},
		{[]string{"account", "list", "--help"}, append([]string{"Usage: tandem account list", "--json"}, dataFlags...)},
		{[]string{"version", "--help"}, []string{"Usage: tandem version"}},
		{[]string{"help", "serve"}, []string{"Usage: tandem serve", "--addr"}},
		{[]string{"-h"}, []string{"serve", "demo", "migrate", "account create", "account list", "version"}},
		{[]string{"help"}, []string{"Usage: tandem COMMAND"}},
		{[]string{"account", "help"}, []string{"account create", "account list"}},
		{[]string{"serve", "-h"}, []string{"Usage: tandem serve"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, _, err := tandem(t, env{}, tt.args...)
			if err != nil {
				t.Fatalf("exit with error %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("help lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
}

func TestBadConfiguration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		env  env
		args []string
		want []string // substrings of the error
	}{
		{"unknown command", nil, []string{"serv"}, []string{`unknown command "serv"`}},
		{"no command", nil, nil, []string{"no command"}},
		{"unknown flag", nil, []string{"serve", "--port", "80"}, []string{"-port", "tandem serve --help"}},
		{"stray argument", nil, []string{"migrate", "extra"}, []string{`unexpected argument "extra"`}},
		{"max-body not a number", nil, []string{"serve", "--max-body", "1MB"}, []string{"max-body", "whole number"}},
		{"max-body zero", nil, []string{"serve", "--max-body", "0"}, []string{"--max-body", "positive"}},
		{"rate-limit below -1", nil, []string{"serve", "--rate-limit", "-5"}, []string{"--rate-limit", "-1 (off)"}},
		{"addr without port", nil, []string{"serve", "--addr", "localhost"}, []string{"--addr", "host:port"}},
		{"addr bad port", nil, []string{"demo", "--addr", ":99999"}, []string{"--addr", "65535"}},
		{"base domain with scheme", nil, []string{"serve", "--base-domain", "http://x.test"}, []string{"--base-domain"}},
		{"default account", nil, []string{"serve", "--default-account", "Not_Valid"}, []string{"--default-account"}},
		{"public url", nil, []string{"serve", "--public-url", "ftp://x.test"}, []string{"--public-url", "http"}},
		{"log format", nil, []string{"serve", "--log-format", "xml"}, []string{"--log-format", "text or json", "TANDEM_LOG_FORMAT"}},
		{"log level", nil, []string{"serve", "--log-level", "loud"}, []string{"--log-level"}},
		{"debug addr not loopback", nil, []string{"serve", "--debug-addr", "0.0.0.0:6060"}, []string{"--debug-addr", "loopback"}},
		{"debug addr no port", nil, []string{"serve", "--debug-addr", "127.0.0.1"}, []string{"--debug-addr", "HOST:PORT"}},
		{"debug addr env", env{"TANDEM_DEBUG_ADDR": "10.1.2.3:6060"}, []string{"serve"}, []string{"TANDEM_DEBUG_ADDR", "loopback"}},
		{"db not postgres", nil, []string{"migrate", "--db", "mysql://x"}, []string{"--db", "postgres://"}},
		{"db password hidden", nil, []string{"migrate", "--db", "mysql://u:secret@x"}, []string{"--db"}},
		{"env not a number", env{"TANDEM_MAX_BODY": "lots"}, []string{"serve"}, []string{"TANDEM_MAX_BODY", "whole number"}},
		{"env bool", env{"TANDEM_ALLOW_PRIVATE_PARTNERS": "maybe"}, []string{"serve"}, []string{"TANDEM_ALLOW_PRIVATE_PARTNERS", "true or false"}},
		{"trusted proxies", nil, []string{"serve", "--trusted-proxies", "10.0.0.0/8,lb.internal"}, []string{"trusted-proxies", "lb.internal", "CIDR"}},
		{"trusted proxies env", env{"TANDEM_TRUSTED_PROXIES": "10.0.0.0/33"}, []string{"serve"}, []string{"TANDEM_TRUSTED_PROXIES", "CIDR"}},
		{"env log format", env{"TANDEM_LOG_FORMAT": "yaml"}, []string{"demo"}, []string{"--log-format", "TANDEM_LOG_FORMAT"}},
		{"plan", nil, []string{"account", "create", "--data-dir", dir, "--subdomain", "x1", "--admin-email", "a@b.test", "--plan", "platinum"}, []string{"--plan", "enterprise"}},
		{"default plan env", env{"TANDEM_DEFAULT_PLAN": "gold"}, []string{"account", "create", "--data-dir", dir, "--subdomain", "x1", "--admin-email", "a@b.test"}, []string{"--default-plan", "TANDEM_DEFAULT_PLAN"}},
		{"missing subdomain", nil, []string{"account", "create", "--data-dir", dir, "--admin-email", "a@b.test"}, []string{"--subdomain is required"}},
		{"missing email", nil, []string{"account", "create", "--data-dir", dir, "--subdomain", "x1"}, []string{"--admin-email is required"}},
		{"bad subdomain", nil, []string{"account", "create", "--data-dir", dir, "--subdomain", "-x-", "--admin-email", "a@b.test"}, []string{"--subdomain"}},
		{"bad email", nil, []string{"account", "create", "--data-dir", dir, "--subdomain", "x1", "--admin-email", "not-an-email"}, []string{"not a valid email"}},
		{"short password", nil, []string{"account", "create", "--data-dir", dir, "--subdomain", "x1", "--admin-email", "a@b.test", "--admin-password", "short"}, []string{"8 characters"}},
		{"account without subcommand", nil, []string{"account"}, []string{"create or list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tandem(t, tt.env, tt.args...)
			if err == nil {
				t.Fatal("want an error, got none")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows a password", err)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	stdout, _, err := tandem(t, env{}, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout, "tandem dev") || !strings.Contains(stdout, runtime.Version()) {
		t.Errorf("version = %q, want tandem dev ... %s", stdout, runtime.Version())
	}
}
