package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tandem/internal/store"
)

// The sharing, webhook, mail and export suites measure `tandem serve` processes from
// outside, as the create and read suites of outside.go do: the servers are the tandem
// binary, accounts are made with `tandem account create` and configured through the
// API, the load (HTTP requests, SMTP sessions, a webhook receiver, an SMTP relay) runs in
// this process, and each figure carries the CPU time the server processes spent on it,
// read from /proc. This process reads the databases (timestamps, outbox counts) and, for
// the backlogs that queue while no server runs, writes the queued rows itself.

// OutsideDB is the database of outside servers: a SQLite data directory (Dir) or a
// PostgreSQL URL (URL, with its search_path); Secret is the key file every process on
// one PostgreSQL database must share ("" = none).
type OutsideDB struct {
	Dir, URL, Secret string
}

// Open opens the database in this process (for reading timestamps and counts, and for
// queuing a backlog while no server runs), applying migrations.
func (o OutsideDB) Open(ctx context.Context) (*store.DB, error) {
	if o.URL != "" {
		// Named, so that PostgreSQL's CPU can be counted without this process's own
		// polls and reads (ownBackends).
		u, err := url.Parse(o.URL)
		if err != nil {
			return nil, err
		}
		q := u.Query()
		q.Set("application_name", benchApplication)
		u.RawQuery = q.Encode()
		return store.Open(ctx, store.Options{URL: u.String(), MaxConns: 4})
	}
	return store.Open(ctx, store.Options{Path: filepath.Join(o.Dir, "tandem.db")})
}

func (o OutsideDB) args() []string {
	if o.URL != "" {
		return []string{"--db", o.URL}
	}
	return []string{"--data-dir", o.Dir}
}

// Serve starts `bin serve` on the database at 127.0.0.1:port (0 = a free port).
func (o OutsideDB) Serve(bin string, port int, extra ...string) (*Server, error) {
	if o.URL != "" && o.Secret != "" {
		extra = append([]string{"--secret-key-file", o.Secret}, extra...)
	}
	return StartServe(bin, o.Dir, o.URL, port, extra...)
}

// Account creates an Enterprise account with the command line, as an operator would
// (`tandem account create --json`), and returns its admin's email and API token.
func (o OutsideDB) Account(bin, sub string) (email, token string, err error) {
	args := append([]string{"account", "create", "--subdomain", sub, "--admin-email", "admin@" + sub + ".test", "--plan", "enterprise", "--json", "--base-domain", "localhost"}, o.args()...)
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("tandem account create %s: %w: %s", sub, err, strings.TrimSpace(stderr.String()))
	}
	var a struct {
		Email string `json:"admin_email"`
		Token string `json:"api_token"`
	}
	if err := json.Unmarshal(out, &a); err != nil || a.Token == "" {
		return "", "", fmt.Errorf("tandem account create %s: unexpected output %q", sub, out)
	}
	return a.Email, a.Token, nil
}

// pending counts an outbox table's pending rows.
func pending(ctx context.Context, db *store.DB, table string) (int, error) {
	var n int
	err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE status = 'pending'`).Scan(&n)
	return n, err
}

// waitUntil polls cond every poll until it holds, fails, or limit passes.
func waitUntil(limit, poll time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not done after %s", what, limit)
		}
		time.Sleep(poll)
	}
}

// percentiles sorts lat and returns its median and 99th percentile.
func percentiles(lat []time.Duration) (p50, p99 time.Duration) {
	if len(lat) == 0 {
		return 0, 0
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
}

// cpuOf is the CPU time each server has used so far.
func cpuOf(srvs []*Server) []time.Duration {
	out := make([]time.Duration, len(srvs))
	for i, s := range srvs {
		out[i] = s.CPU()
	}
	return out
}

// cpuSince is each server's CPU time since before (cpuOf's answer).
func cpuSince(srvs []*Server, before []time.Duration) []time.Duration {
	out := cpuOf(srvs)
	for i := range out {
		out[i] -= before[i]
	}
	return out
}

// perItem divides a CPU time by a count (0 for none).
func perItem(cpu time.Duration, n int) time.Duration {
	if n == 0 {
		return 0
	}
	return cpu / time.Duration(n)
}

// openLoop calls op(i) for i from 0 at rate a second for d, open loop (each call at its
// time whatever the latency of the others, up to 64 in flight), and returns how many it
// issued, how many failed and how long issuing them all took.
func openLoop(rate int, d time.Duration, op func(i int) error) (n int, errs int64, took time.Duration) {
	n = int(d.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	var failed atomic.Int64
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if op(i) != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	return n, failed.Load(), time.Since(start)
}

// PostgresBackends snapshots the CPU time of the PostgreSQL server processes on this
// machine that serve database name (their process title reads "postgres: ... USER NAME
// ..."), by process id: every connection to it, the servers' and this process's. Empty
// when the server is not local or name is empty.
func PostgresBackends(name string) map[int]time.Duration {
	out := map[int]time.Duration{}
	if name == "" {
		return out
	}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err != nil || !bytes.HasPrefix(b, []byte("postgres: ")) {
			continue
		}
		if slices.Contains(strings.Fields(string(bytes.TrimRight(b, "\x00"))), name) {
			out[pid] = ProcCPU(pid)
		}
	}
	return out
}

// benchApplication names the benchmark's own connections to PostgreSQL.
const benchApplication = "tandem-benchmark"

// ownBackends are the PostgreSQL server processes of the benchmark's own connections
// (OutsideDB.Open), by the name they give; none on SQLite.
func ownBackends(ctx context.Context, db *store.DB) map[int]bool {
	out := map[int]bool{}
	if db == nil || db.Dialect != store.Postgres {
		return out
	}
	_ = store.Each(ctx, db.R(), `SELECT pid FROM pg_stat_activity WHERE application_name = ?`, []any{benchApplication}, func(r store.Row) error {
		var pid int
		err := r.Scan(&pid)
		out[pid] = true
		return err
	})
	return out
}

// PostgresCPUSince is the CPU time the database's server processes used since before
// (PostgresBackends's answer): a process that started since counts whole; one that ended
// since is lost (connections live minutes in the servers' pools).
func PostgresCPUSince(name string, before map[int]time.Duration) time.Duration {
	return postgresCPUSince(name, before, nil)
}

// postgresCPUSince is PostgresCPUSince without the processes in skip.
func postgresCPUSince(name string, before map[int]time.Duration, skip map[int]bool) time.Duration {
	var sum time.Duration
	for pid, c := range PostgresBackends(name) {
		if !skip[pid] {
			sum += c - before[pid]
		}
	}
	return sum
}

// postgresName is the database name of a postgres:// URL ("" for SQLite).
func postgresName(u string) string {
	if u == "" {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(p.Path, "/")
}
