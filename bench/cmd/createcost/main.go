// Command createcost measures what one ticket create costs `tandem serve` on SQLite:
// it provisions an account in a fresh database, starts the given binary with its
// profiling listener, posts the outside suite's creates (a 280-330-byte comment, 2-4
// tags) from -clients clients for -duration after a warm-up, and prints the server's
// CPU per create (/proc/PID/stat) and heap allocations per create (the runtime's
// Mallocs, from /debug/pprof/heap?debug=1), which the machine's other load does not
// move, and the SQLite write transactions per create (/debug/store: how many creates
// the group commit put in one). -profile F also writes a CPU profile of the server
// taken during the load, -allocs F a profile of the allocations made during it; -keep DIR
// leaves the database in DIR (which must not exist) for a look at what the creates wrote;
// -port P has the server listen on P and its profiling listener on P+1 (free ports
// otherwise).
//
//	go run ./bench/cmd/createcost -tandem BIN [-clients 16] [-duration 10s] [-profile cpu.pprof] [-allocs allocs.pprof] [-keep DIR] [-port P]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"tandem/bench"
	"tandem/internal/store"
)

func main() {
	bin := flag.String("tandem", "", "tandem binary (required)")
	clients := flag.Int("clients", 16, "concurrent clients")
	dur := flag.Duration("duration", 10*time.Second, "measured load")
	warm := flag.Duration("warmup", 2*time.Second, "load before measuring")
	profile := flag.String("profile", "", "write a CPU profile of the server during the load to this file")
	allocs := flag.String("allocs", "", "write a profile of the server's allocations during the load to this file")
	keep := flag.String("keep", "", "leave the database in this new directory instead of removing it")
	port := flag.Int("port", 0, "the server's port, its profiling listener's the next (0: free ports)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "createcost: -tandem BIN is required")
		os.Exit(2)
	}
	if err := run(*bin, *clients, *dur, *warm, *profile, *allocs, *keep, *port); err != nil {
		fmt.Fprintln(os.Stderr, "createcost:", err)
		os.Exit(1)
	}
}

func run(bin string, clients int, dur, warm time.Duration, profile, allocs, keep string, port int) error {
	dir := keep
	if keep == "" {
		d, err := os.MkdirTemp("", "createcost")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.Mkdir(keep, 0o755); err != nil {
		return err
	}
	opt := store.Options{Path: filepath.Join(dir, "tandem.db")}
	email, token, err := bench.ProvisionOutside(context.Background(), opt, "cost")
	if err != nil {
		return err
	}
	dport, err := bench.FreePort(port + min(port, 1))
	if err != nil {
		return err
	}
	debug := "127.0.0.1:" + dport
	srv, err := bench.StartServe(bin, dir, "", port, "--debug-addr", debug)
	if err != nil {
		return err
	}
	defer srv.Stop()
	c := bench.OutsideClient(srv.Addr, "cost", email, token)
	var seq atomic.Int64
	load := func(d time.Duration) bench.Stats {
		rs := make([]*rand.Rand, clients)
		for i := range rs {
			rs[i] = rand.New(rand.NewPCG(uint64(seq.Load()), uint64(i)))
		}
		return bench.Load(clients, d, func(w, _ int) error { return c.PostTicket(rs[w], seq.Add(1)) })
	}
	load(warm)
	m0, err := mallocs(debug)
	if err != nil {
		return err
	}
	c0, w0, a0, err := commits(debug)
	if err != nil {
		return err
	}
	cpu0 := srv.CPU()
	prof := make(chan error, 2)
	if profile != "" {
		go func() { prof <- saveProfile(debug, "profile", dur-time.Second, profile) }()
	}
	if allocs != "" {
		go func() { prof <- saveProfile(debug, "allocs", dur-time.Second, allocs) }()
	}
	st := load(dur)
	cpu := srv.CPU() - cpu0
	m1, err := mallocs(debug)
	if err != nil {
		return err
	}
	c1, w1, a1, err := commits(debug)
	if err != nil {
		return err
	}
	for _, f := range []string{profile, allocs} {
		if f == "" {
			continue
		}
		if err := <-prof; err != nil {
			return err
		}
	}
	n := max(st.N, 1)
	fmt.Printf("clients %d: %d creates in %s (%.0f/s), %d errors, p50 %s p99 %s; server CPU per create %.3f ms; heap allocations per create %d; commits per create %.2f (%.1f%% of creates committed alone); writer statements per create %.1f; load average %s\n",
		clients, st.N, st.Duration.Round(time.Millisecond), st.Rate(), st.Errors, bench.Ms(st.P50), bench.Ms(st.P99),
		float64(cpu.Microseconds())/1000/float64(n), (m1-m0)/int64(n), float64(c1-c0)/float64(n), 100*float64(a1-a0)/float64(n), float64(w1-w0)/float64(n), bench.LoadAverage())
	return nil
}

// mallocs reads the server's cumulative heap allocation count.
func mallocs(addr string) (int64, error) {
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?debug=1")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# Mallocs = "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("no Mallocs in the heap profile")
}

// commits reads the server's counts of SQLite write transactions, of statements run on
// the writer (the group commit's savepoints included) and of writes committed alone (a
// batch of one), from /debug/store. Servers older than a count print none: -1.
func commits(addr string) (commits, written, alone int64, err error) {
	resp, err := http.Get("http://" + addr + "/debug/store")
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, 0, err
	}
	commits, written, alone = -1, -1, -1
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "commits "); ok {
			c, rest, _ := strings.Cut(v, ",")
			if commits, err = strconv.ParseInt(strings.TrimSpace(c), 10, 64); err != nil {
				return 0, 0, 0, err
			}
			if _, w, ok := strings.Cut(rest, "writer statements "); ok {
				if written, err = strconv.ParseInt(strings.TrimSpace(w), 10, 64); err != nil {
					return 0, 0, 0, err
				}
			}
		}
		if v, ok := strings.CutPrefix(line, "writes committed alone "); ok {
			if alone, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
				return 0, 0, 0, err
			}
		}
	}
	if commits < 0 {
		return 0, 0, 0, fmt.Errorf("no commits in /debug/store")
	}
	return commits, written, alone, nil
}

// saveProfile takes the server's profile of kind (profile: CPU; allocs: the allocations
// made meanwhile) over d from its listener into file.
func saveProfile(addr, kind string, d time.Duration, file string) error {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", addr, kind, max(int(d.Seconds()), 1)))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return fmt.Errorf("%s profile: %s", kind, resp.Status)
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
