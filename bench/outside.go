package bench

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/store"
)

// The outside benchmarks measure Tandem as a client sees it: `tandem serve` runs in its
// own process, the load generator here talks to it over loopback with realistic bodies
// (comments of 280-330 bytes, 2-4 tags), and every throughput is printed beside a
// physical reference measured in the same run (raw SQLite or PostgreSQL doing the same
// rows through one connection or pgbench), so that a ratio, not an absolute figure that
// the other load on a shared machine moves, is what compares runs. The server's CPU time
// per request is read from /proc/PID/stat.

// Server is a `tandem serve` process under test.
type Server struct {
	cmd  *exec.Cmd
	Addr string
	Pid  int
}

// FreePort returns port as a string, or a free loopback port when port is 0.
func FreePort(port int) (string, error) {
	if port != 0 {
		return strconv.Itoa(port), nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p, nil
}

// ServeArgs are more arguments given to every `tandem serve` the outside suites start
// (benchreport's -serve-args), after their own: a --debug-addr to profile the server
// under load, for example.
var ServeArgs []string

// StartServe runs `bin serve` on the database (a SQLite data dir or a postgres:// URL)
// at 127.0.0.1:port and waits until it listens; extra are more arguments of serve.
func StartServe(bin, dataDir, dbURL string, port int, extra ...string) (*Server, error) {
	p, err := FreePort(port)
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--addr", "127.0.0.1:" + p, "--base-domain", "localhost", "--rate-limit", "-1", "--log-level", "error"}
	if dbURL != "" {
		args = append(args, "--db", dbURL)
	} else {
		args = append(args, "--data-dir", dataDir)
	}
	args = append(append(args, extra...), ServeArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		said := false
		for sc.Scan() {
			if !said && strings.Contains(sc.Text(), "listening on") {
				said = true
				ready <- nil
			}
		}
		if !said {
			ready <- fmt.Errorf("tandem serve exited before listening")
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			_ = cmd.Wait()
			return nil, err
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("tandem serve did not listen within a minute")
	}
	return &Server{cmd: cmd, Addr: "127.0.0.1:" + p, Pid: cmd.Process.Pid}, nil
}

// Stop stops the server gracefully.
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// CPU is the CPU time (user and system) the process has used so far.
func (s *Server) CPU() time.Duration { return ProcCPU(s.Pid) }

// ProcCPU reads a process's CPU time (user + system) from /proc/PID/stat.
func ProcCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: fields count from after its closing ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / clockTicks)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times (100 on Linux everywhere).
const clockTicks = 100

// OutsideClient calls one account of a `tandem serve` process with its API token.
func OutsideClient(addr, sub, email, token string) *Client {
	_, port, _ := net.SplitHostPort(addr)
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	return &Client{desk: &Desk{Addr: addr}, host: sub + ".localhost:" + port, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}, Token: token,
		auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(email+"/token:"+token))}
}

// ProvisionOutside creates an account in the database (opened and closed here, before
// the server starts) and returns its admin's email and API token.
func ProvisionOutside(ctx context.Context, opt store.Options, sub string) (email, token string, err error) {
	db, err := store.Open(ctx, opt)
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	email = "admin@" + sub + ".test"
	p, err := server.Provision(ctx, db, server.NewAccount{Subdomain: sub, Plan: account.Enterprise, AdminEmail: email})
	if err != nil {
		return "", "", err
	}
	return email, p.APIToken, nil
}

// words of the generated text.
var benchWords = strings.Fields(`order delivery refund broken blender warranty invoice login password shipping parcel
damaged screen battery charger late missing account payment card declined subscription upgrade cancel export
report printer driver install update error message crash slow sync mobile app tablet laptop keyboard mouse
headset cable router network outage email calendar invite meeting schedule billing address receipt tracking
courier label return exchange size colour stock available backorder discount coupon voucher loyalty points`)

// Comment returns a realistic comment body of 280-330 bytes.
func Comment(r *rand.Rand) string {
	n := 280 + r.IntN(51)
	var b strings.Builder
	b.WriteString("Hello, ")
	for b.Len() < n {
		b.WriteString(benchWords[r.IntN(len(benchWords))])
		if r.IntN(9) == 0 {
			b.WriteString(". ")
		} else {
			b.WriteByte(' ')
		}
	}
	return strings.TrimSpace(b.String()[:n])
}

// Subject returns a short subject line.
func Subject(r *rand.Rand, n int64) string {
	return fmt.Sprintf("%s %s %s #%d", benchWords[r.IntN(len(benchWords))], benchWords[r.IntN(len(benchWords))], benchWords[r.IntN(len(benchWords))], n)
}

// Tags returns 2-4 distinct tags.
func Tags(r *rand.Rand) []string {
	all := []string{"delivery", "billing", "vip", "mobile", "web", "refund", "hardware", "urgent", "followup", "bench"}
	n := 2 + r.IntN(3)
	out := make([]string, 0, n)
	for _, i := range r.Perm(len(all))[:n] {
		out = append(out, all[i])
	}
	return out
}

// OutsideResult is one load level against a separate server process.
type OutsideResult struct {
	Name    string
	Clients int
	Stats
	// ServerCPU is the server process's CPU time over the level.
	ServerCPU time.Duration
}

// CPUPerRequest is the server's CPU time per successful request.
func (r OutsideResult) CPUPerRequest() time.Duration {
	if r.N == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.N)
}

// OutsideCreates posts tickets (each with a 280-330-byte comment and 2-4 tags) to the
// server at each concurrency level.
func OutsideCreates(srv *Server, c *Client, levels []int, d time.Duration) []OutsideResult {
	var seq atomic.Int64
	var out []OutsideResult
	for _, n := range levels {
		rs := make([]*rand.Rand, n)
		for i := range rs {
			rs[i] = rand.New(rand.NewPCG(uint64(n), uint64(i)))
		}
		cpu0 := srv.CPU()
		st := Load(n, d, func(w, i int) error { return c.PostTicket(rs[w], seq.Add(1)) })
		out = append(out, OutsideResult{Name: "create", Clients: n, Stats: st, ServerCPU: srv.CPU() - cpu0})
	}
	return out
}

// PostTicket creates the outside suite's ticket number n: a 280-330-byte comment, 2-4
// tags, drawn from r.
func (c *Client) PostTicket(r *rand.Rand, n int64) error {
	body := map[string]any{"ticket": map[string]any{
		"subject": Subject(r, n), "priority": "normal", "tags": Tags(r),
		"comment": map[string]any{"body": Comment(r)},
	}}
	code, err := c.Do("POST", "/api/v2/tickets.json", body, nil)
	if err == nil && code != 201 {
		err = fmt.Errorf("create: status %d", code)
	}
	return err
}

// OutsideReads runs GET requests (paths from path) from clients for d.
func OutsideReads(srv *Server, c *Client, name string, clients int, d time.Duration, path func(w, i int) string) OutsideResult {
	cpu0 := srv.CPU()
	st := Load(clients, d, func(w, i int) error {
		code, err := c.Do("GET", path(w, i), nil, nil)
		if err == nil && code != 200 {
			err = fmt.Errorf("status %d", code)
		}
		return err
	})
	return OutsideResult{Name: name, Clients: clients, Stats: st, ServerCPU: srv.CPU() - cpu0}
}

// SelfCPU is the CPU time (user and system) this process has used so far.
func SelfCPU() time.Duration { return cpuTime() }

// Memory reads a process's resident set size now and its peak (VmRSS and VmHWM in
// /proc/PID/status), in bytes.
func Memory(pid int) (rss, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "VmRSS: %d kB", &kb); err == nil {
			rss = kb << 10
		} else if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); err == nil {
			peak = kb << 10
		}
	}
	return rss, peak
}

// IdleMemory polls the process's resident set size once a second for up to wait, until
// it is under below; it returns the last size and how long it took.
func IdleMemory(pid int, below int64, wait time.Duration) (int64, time.Duration) {
	start := time.Now()
	for {
		rss, _ := Memory(pid)
		if rss < below || time.Since(start) >= wait {
			return rss, time.Since(start)
		}
		time.Sleep(time.Second)
	}
}

// OutsideSearch is one of the outside suite's harder searches.
type OutsideSearch struct{ What, Query string }

// OutsideSearches are the searches the outside suite measures besides "blender
// warranty": each word of the seeded text (benchWords) is in about 45 % of the tickets'
// descriptions, and the subjects end with the ticket's number (Subject), a word found in
// one ticket. Among them a word common in every ticket, two of them, a common and a rare
// one, phrases, subject:, and text with a status, a tag or a negated word.
var OutsideSearches = []OutsideSearch{
	{"a very common word", "refund"},
	{"two common words", "printer refund"},
	{"a common word and a rare one (a ticket number in quotes is a word)", `printer "4711"`},
	{"a phrase of three common words, rare itself", `"blender warranty invoice"`},
	{"subject: a common word", "subject:printer"},
	{"subject: a phrase", `subject:"printer refund"`},
	{"a common word and a status", "refund status:open"},
	{"a common word and a tag", "refund tags:vip"},
	{"a common word without another", "refund -printer"},
	{"a common word, oldest first", "refund order_by:created_at sort:asc"},
}

// SearchPath is the search API's path for query.
func SearchPath(query string) string { return "/api/v2/search.json?query=" + url.QueryEscape(query) }
