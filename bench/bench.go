// Package bench measures Tandem end to end: real servers on loopback, real databases,
// HTTP clients doing what API clients do. cmd/benchreport runs the suites and writes
// docs/BENCHMARKS.md; timings never appear in pass/fail tests.
package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/store"
)

// Desk is a server under test.
type Desk struct {
	Srv    *server.Server
	DB     *store.DB
	Addr   string
	cancel context.CancelFunc
	done   chan struct{}
}

// StartDesk runs a server on db at a loopback port; opts adjust its configuration.
func StartDesk(db *store.DB, opts ...func(*server.Config)) (*Desk, error) {
	return startDeskAt(db, "127.0.0.1:0", opts...)
}

func startDeskAt(db *store.DB, addr string, opts ...func(*server.Config)) (*Desk, error) {
	cfg := server.Config{Addr: addr, BaseDomain: "localhost", RateLimit: -1, AllowPrivatePartners: true, SharingMaxBackoff: time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(cfg, db, log)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Desk{Srv: srv, DB: db, Addr: ln.Addr().String(), cancel: cancel, done: make(chan struct{})}
	go func() { _ = srv.Serve(ctx, ln); close(d.done) }()
	return d, nil
}

// Stop stops the server.
func (d *Desk) Stop() {
	d.cancel()
	<-d.done
}

// Port is the desk's port.
func (d *Desk) Port() string { _, p, _ := net.SplitHostPort(d.Addr); return p }

// Client calls one account of a desk.
type Client struct {
	desk  *Desk
	host  string
	auth  string
	hc    *http.Client
	Token string
}

// NewAccount provisions an account and returns a client for its admin.
func (d *Desk) NewAccount(sub string, plan account.Plan) (*Client, error) {
	return d.provision(server.NewAccount{Subdomain: sub, Plan: plan, AdminEmail: "admin@" + sub + ".test"})
}

// provision creates an account and returns a client for its admin.
func (d *Desk) provision(na server.NewAccount) (*Client, error) {
	p, err := server.Provision(context.Background(), d.DB, na)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	return &Client{desk: d, host: na.Subdomain + ".localhost:" + d.Port(), hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}, Token: p.APIToken,
		auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(p.Admin.Email+"/token:"+p.APIToken))}, nil
}

// Do sends a JSON request and decodes a JSON answer into out (if not nil).
func (c *Client) Do(method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+c.desk.Addr+path, rd)
	if err != nil {
		return 0, err
	}
	req.Host = c.host
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, err
		}
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode, nil
}

// Stats summarises latencies.
type Stats struct {
	N        int
	Errors   int64
	Duration time.Duration
	P50, P99 time.Duration
	Max      time.Duration
}

// Rate is operations per second.
func (s Stats) Rate() float64 { return float64(s.N) / s.Duration.Seconds() }

func summarize(lat []time.Duration, errs int64, d time.Duration) Stats {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	s := Stats{N: len(lat), Errors: errs, Duration: d}
	if len(lat) > 0 {
		s.P50 = lat[len(lat)/2]
		s.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
		s.Max = lat[len(lat)-1]
	}
	return s
}

// Load runs op from `clients` goroutines for the duration and reports latencies.
func Load(clients int, d time.Duration, op func(worker, i int) error) Stats {
	var mu sync.Mutex
	var all []time.Duration
	var errs int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := 0; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				if err := op(w, i); err != nil {
					atomic.AddInt64(&errs, 1)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return summarize(all, errs, time.Since(start))
}

// Machine describes the machine for the report.
func Machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf(", %d GiB RAM", (kb+(1<<19))>>20)
	}
	return fmt.Sprintf("%s, %d cores%s, %s %s/%s", cpu, runtime.NumCPU(), mem, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// LoadAverage is the machine's load average over 1, 5 and 15 minutes ("?" if unknown):
// figures measured on a shared machine are read beside it.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Ms formats a duration in milliseconds.
func Ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
