// Command pgcost measures what one ticket create or update costs on PostgreSQL, in
// figures a loaded machine does not move: round trips and statements per write (counted
// on the wire by a proxy between `tandem serve` and PostgreSQL), the server's CPU time
// and the PostgreSQL backends' CPU time per write (from /proc/PID/stat), and what the
// backends waited on (pg_stat_activity sampled during the load).
//
//	go run ./bench/cmd/pgcost -postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// -sql FILE runs FILE on the new database after its migrations, so that a schema change
// can be measured before it becomes a migration.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"tandem/bench"
	"tandem/internal/store"
)

func main() {
	pgURL := flag.String("postgres", "", "PostgreSQL URL (a database is created beside it and dropped at the end)")
	n := flag.Int("n", 2000, "writes per measurement")
	clients := flag.Int("clients", 16, "concurrent clients")
	top := flag.Int("top", 40, "statements listed")
	bin := flag.String("bin", "", "tandem binary; empty builds ./cmd/tandem")
	only := flag.String("only", "", "measure only this write (create or update); empty measures both")
	setup := flag.String("sql", "", "file of SQL run on the new database after its migrations, before the load (to measure a schema change)")
	prefix := flag.String("db-prefix", "pgcost", "name prefix of the database created (the name ends with _ and a time stamp)")
	flag.StringVar(&walDir, "wal-dir", "", "the server's pg_wal directory, readable by this process: WAL bytes per write are then read from it with pg_waldump (records of the measured database and of the transactions that wrote them); empty skips")
	flag.StringVar(&walDump, "pg-waldump", "pg_waldump", "the pg_waldump program (for -wal-dir)")
	flag.BoolVar(&tables, "tables", false, "also print, per write, the rows each table gained, changed and lost and its index scans (foreign key checks among them), from pg_stat_user_tables; waits 11 s after the load for the backends' statistics to reach the view")
	flag.Parse()
	if err := run(*pgURL, *bin, *setup, *only, *prefix, *n, *clients, *top); err != nil {
		fmt.Fprintln(os.Stderr, "pgcost:", err)
		os.Exit(1)
	}
}

func run(pgURL, bin, setup, only, prefix string, n, clients, top int) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "pgcost")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if bin == "" {
		bin = filepath.Join(tmp, "tandem")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/tandem")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return err
		}
	}
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	name := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return err
	}
	defer admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)")
	u, _ := url.Parse(pgURL)
	u.Path = "/" + name
	direct := u.String()
	if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+name+" SET track_functions = 'pl'"); err != nil {
		return err
	}
	email, token, err := bench.ProvisionOutside(ctx, store.Options{URL: direct}, "cost")
	if err != nil {
		return err
	}
	if setup != "" {
		text, err := os.ReadFile(setup)
		if err != nil {
			return err
		}
		sdb, err := sql.Open("pgx", direct)
		if err != nil {
			return err
		}
		_, err = sdb.ExecContext(ctx, string(text))
		sdb.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", setup, err)
		}
	}
	px, err := newProxy(u.Host)
	if err != nil {
		return err
	}
	viaProxy := *u
	viaProxy.Host = px.addr
	srv, err := bench.StartServe(bin, "", viaProxy.String(), 0)
	if err != nil {
		return err
	}
	defer srv.Stop()
	db, err := sql.Open("pgx", direct)
	if err != nil {
		return err
	}
	defer db.Close()
	c := bench.OutsideClient(srv.Addr, "cost", email, token)

	var seq atomic.Int64
	rs := make([]*rand.Rand, clients)
	for i := range rs {
		rs[i] = rand.New(rand.NewPCG(7, uint64(i)))
	}
	create := func(w int) error { return c.PostTicket(rs[w], seq.Add(1)) }
	// Updates: a public comment and a status/priority change on one of the first 200
	// tickets (the ones the warm-up created).
	statuses := []string{"open", "pending", "open", "hold"}
	update := func(w int) error {
		r := rs[w]
		id := 1 + r.IntN(200)
		body := map[string]any{"ticket": map[string]any{
			"status": statuses[r.IntN(len(statuses))], "priority": []string{"low", "normal", "high"}[r.IntN(3)],
			"comment": map[string]any{"body": bench.Comment(r)},
		}}
		code, err := c.Do("PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), body, nil)
		if err == nil && code != 200 {
			err = fmt.Errorf("update: status %d", code)
		}
		return err
	}
	// Warm-up: statement caches, connections, the first tickets for the updates.
	if err := drive(400, clients, create); err != nil {
		return err
	}
	if err := drive(200, clients, update); err != nil {
		return err
	}
	for _, m := range []struct {
		name string
		f    func(int) error
	}{{"create", create}, {"update", update}} {
		if only != "" && only != m.name {
			continue
		}
		if err := measure(ctx, db, name, srv, px, m.name, n, clients, top, m.f); err != nil {
			return err
		}
	}
	return nil
}

// drive runs n calls of f from clients goroutines.
func drive(n, clients int, f func(w int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, clients)
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := f(w); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func measure(ctx context.Context, db *sql.DB, dbname string, srv *bench.Server, px *proxy, what string, n, clients, top int, f func(int) error) error {
	px.reset()
	b0, err := backendCPU(ctx, db, dbname)
	if err != nil {
		return err
	}
	f0, err := funcTimes(ctx, db)
	if err != nil {
		return err
	}
	var t0s map[string]tableStat
	if tables {
		if t0s, err = tableStats(ctx, db); err != nil {
			return err
		}
	}
	s0 := srv.CPU()
	waits := map[string]int{}
	stop := make(chan struct{})
	sampled := make(chan int)
	go func() { sampled <- sampleWaits(ctx, db, dbname, waits, stop) }()
	var wal *walReader
	if walDir != "" {
		if wal, err = startWAL(ctx, db, dbname); err != nil {
			return err
		}
	}
	t0 := time.Now()
	err = drive(n, clients, f)
	el := time.Since(t0)
	close(stop)
	samples := <-sampled
	if err != nil {
		return err
	}
	s1 := srv.CPU()
	b1, err := backendCPU(ctx, db, dbname)
	if err != nil {
		return err
	}
	f1, err := funcTimes(ctx, db)
	if err != nil {
		return err
	}
	var t1s map[string]tableStat
	if tables {
		// An idle backend sends its statistics within 10 s (PostgreSQL 15); the function
		// times are read again after the wait as well, complete.
		time.Sleep(11 * time.Second)
		if t1s, err = tableStats(ctx, db); err != nil {
			return err
		}
		if f1, err = funcTimes(ctx, db); err != nil {
			return err
		}
	}
	var bcpu time.Duration
	for pid, t := range b1 {
		bcpu += t - b0[pid]
	}
	load, _ := os.ReadFile("/proc/loadavg")
	st := px.snapshot()
	per := func(x int64) float64 { return float64(x) / float64(n) }
	fmt.Printf("## %s: %d writes, %d clients, %s wall (%.0f/s), load average %s\n", what, n, clients, el.Round(time.Millisecond), float64(n)/el.Seconds(), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Printf("per %s: %.2f round trips (Sync or simple Query), %.2f statements (Execute or Query), server CPU %.3f ms, PostgreSQL backends CPU %.3f ms\n",
		what, per(st.syncs), per(st.execs), float64(s1-s0)/float64(time.Millisecond)/float64(n), float64(bcpu)/float64(time.Millisecond)/float64(n))
	if wal != nil {
		w, err := wal.stop(ctx, db)
		if err != nil {
			fmt.Println("WAL: not measured:", err)
		}
		fmt.Printf("WAL per %s: %.1f records, %.0f bytes without full-page images, %.0f bytes with them (%.1f of the records are commits)\n",
			what, per(w.records), per(w.recBytes), per(w.totBytes), per(w.commits))
		kinds := make([]string, 0, len(w.kinds))
		for k := range w.kinds {
			kinds = append(kinds, k)
		}
		sort.Slice(kinds, func(i, j int) bool { return w.kinds[kinds[i]][1] > w.kinds[kinds[j]][1] })
		for _, k := range kinds {
			fmt.Printf("  %-32s %6.2f records  %7.0f bytes\n", k, per(w.kinds[k][0]), per(w.kinds[k][1]))
		}
	}
	fmt.Printf("\nPL/pgSQL function time per %s (self ms, calls):\n", what)
	type fk struct {
		name  string
		calls int64
		self  float64
	}
	var fs []fk
	for k, v := range f1 {
		d := fk{k, v.calls - f0[k].calls, v.self - f0[k].self}
		if d.calls > 0 {
			fs = append(fs, d)
		}
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].self > fs[j].self })
	for _, x := range fs {
		fmt.Printf("  %-45s %.3f ms  %.2f calls\n", x.name, x.self/float64(n), float64(x.calls)/float64(n))
	}
	if tables {
		printTables(t0s, t1s, what, n)
	}
	fmt.Printf("\nwait events (%d samples of the database's active backends):\n", samples)
	type kv struct {
		k string
		v int
	}
	var ws []kv
	for k, v := range waits {
		ws = append(ws, kv{k, v})
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].v > ws[j].v })
	for i, w := range ws {
		if i == 25 {
			break
		}
		fmt.Printf("  %6d  %s\n", w.v, w.k)
	}
	fmt.Printf("\nstatements per %s:\n", what)
	var qs []kv
	for q, c := range st.byQuery {
		qs = append(qs, kv{q, int(c)})
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i].v > qs[j].v })
	for i, q := range qs {
		if i == top {
			break
		}
		s := strings.Join(strings.Fields(q.k), " ")
		if len(s) > 150 {
			s = s[:150] + "…"
		}
		fmt.Printf("  %5.2f  %s\n", per(int64(q.v)), s)
	}
	fmt.Println()
	return nil
}

// backendCPU is the CPU time of each backend connected to the database.
func backendCPU(ctx context.Context, db *sql.DB, dbname string) (map[int]time.Duration, error) {
	rows, err := db.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, dbname)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			return nil, err
		}
		out[pid] = bench.ProcCPU(pid)
	}
	return out, rows.Err()
}

// tables: print pg_stat_user_tables per write (-tables).
var tables bool

// tableStat is one table's counters in pg_stat_user_tables, and its number of indexes.
type tableStat struct {
	ins, upd, hot, del, idxScan, seqScan, indexes int64
}

func tableStats(ctx context.Context, db *sql.DB) (map[string]tableStat, error) {
	if _, err := db.ExecContext(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT s.relname, s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del, COALESCE(s.idx_scan, 0), s.seq_scan,
		(SELECT COUNT(*) FROM pg_index i WHERE i.indrelid = s.relid) FROM pg_stat_user_tables s`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]tableStat{}
	for rows.Next() {
		var k string
		var t tableStat
		if err := rows.Scan(&k, &t.ins, &t.upd, &t.hot, &t.del, &t.idxScan, &t.seqScan, &t.indexes); err != nil {
			return nil, err
		}
		out[k] = t
	}
	return out, rows.Err()
}

// printTables prints what each table gained between two readings, per write.
func printTables(t0, t1 map[string]tableStat, what string, n int) {
	fmt.Printf("\ntables per %s (rows inserted, updated (HOT), deleted; index scans, sequential scans; indexes on the table):\n", what)
	names := make([]string, 0, len(t1))
	for k := range t1 {
		names = append(names, k)
	}
	sort.Strings(names)
	per := func(x int64) float64 { return float64(x) / float64(n) }
	var rows float64
	for _, k := range names {
		a, b := t0[k], t1[k]
		d := tableStat{b.ins - a.ins, b.upd - a.upd, b.hot - a.hot, b.del - a.del, b.idxScan - a.idxScan, b.seqScan - a.seqScan, b.indexes}
		if d.ins == 0 && d.upd == 0 && d.del == 0 && d.idxScan == 0 && d.seqScan == 0 {
			continue
		}
		rows += per(d.ins)
		fmt.Printf("  %-32s ins %5.2f  upd %5.2f (%5.2f)  del %5.2f  idx %6.2f  seq %5.2f  (%d indexes)\n",
			k, per(d.ins), per(d.upd), per(d.hot), per(d.del), per(d.idxScan), per(d.seqScan), d.indexes)
	}
	fmt.Printf("  rows inserted in all: %.2f\n", rows)
}

type fstat struct {
	calls int64
	self  float64
}

func funcTimes(ctx context.Context, db *sql.DB) (map[string]fstat, error) {
	rows, err := db.QueryContext(ctx, `SELECT funcname, calls, self_time FROM pg_stat_user_functions`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]fstat{}
	for rows.Next() {
		var k string
		var s fstat
		if err := rows.Scan(&k, &s.calls, &s.self); err != nil {
			return nil, err
		}
		out[k] = s
	}
	// Statistics reach the views when a backend's transaction ends; flush is PG 15's.
	return out, rows.Err()
}

// sampleWaits notes the wait events of the database's active backends every 5 ms.
func sampleWaits(ctx context.Context, db *sql.DB, dbname string, into map[string]int, stop chan struct{}) int {
	n := 0
	for {
		select {
		case <-stop:
			return n
		case <-time.After(5 * time.Millisecond):
		}
		rows, err := db.QueryContext(ctx, `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') || '  ' || left(regexp_replace(query, '\s+', ' ', 'g'), 90)
			FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()`, dbname)
		if err != nil {
			continue
		}
		for rows.Next() {
			var k string
			if rows.Scan(&k) == nil {
				into[k]++
			}
		}
		rows.Close()
		n++
	}
}

// proxy forwards connections to PostgreSQL and counts, on the frontend side, the
// messages that end a round trip (Sync, Query) and those that run a statement (Execute,
// Query), with the statement text.
type proxy struct {
	addr, to string
	mu       sync.Mutex
	syncs    int64
	execs    int64
	byQuery  map[string]int64
}

type counts struct {
	syncs, execs int64
	byQuery      map[string]int64
}

func newProxy(to string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{addr: ln.Addr().String(), to: to, byQuery: map[string]int64{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p, nil
}

func (p *proxy) reset() {
	p.mu.Lock()
	p.syncs, p.execs, p.byQuery = 0, 0, map[string]int64{}
	p.mu.Unlock()
}

func (p *proxy) snapshot() counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[string]int64, len(p.byQuery))
	for k, v := range p.byQuery {
		m[k] = v
	}
	return counts{p.syncs, p.execs, m}
}

func (p *proxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.to)
	if err != nil {
		return
	}
	defer s.Close()
	go func() { _, _ = io.Copy(c, s); c.Close() }()
	// Startup message: length, then body; no type byte.
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[:])-4)
	if _, err := io.ReadFull(c, body); err != nil {
		return
	}
	if _, err := s.Write(append(hdr[:], body...)); err != nil {
		return
	}
	stmts := map[string]string{}
	portal := ""
	var h [5]byte
	for {
		if _, err := io.ReadFull(c, h[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint32(h[1:])-4)
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		switch h[0] {
		case 'P':
			name, rest := cstr(msg)
			q, _ := cstr(rest)
			stmts[name] = q
		case 'B':
			_, rest := cstr(msg)
			name, _ := cstr(rest)
			portal = stmts[name]
		case 'E':
			p.note(false, portal)
		case 'S':
			p.note(true, "")
		case 'Q':
			q, _ := cstr(msg)
			p.note(true, q)
		}
		if _, err := s.Write(append(h[:], msg...)); err != nil {
			return
		}
	}
}

func (p *proxy) note(sync bool, q string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if sync {
		p.syncs++
	}
	if q != "" || !sync {
		p.execs++
		p.byQuery[q]++
	}
}

func cstr(b []byte) (string, []byte) {
	i := strings.IndexByte(string(b), 0)
	if i < 0 {
		return string(b), nil
	}
	return string(b[:i]), b[i+1:]
}

var walDir, walDump string

type walStats struct {
	records, recBytes, totBytes, commits int64
	// kinds counts the records and their bytes (without full-page images) by resource
	// manager and record type, as pg_waldump names them ("Heap/INSERT", "MultiXact/CREATE_ID").
	kinds map[string][2]int64
}

// walReader follows the server's WAL with pg_waldump while the writes run (the files
// of a busy server are recycled soon after), and sums the records that touch the
// measured database's relations and the other records (commits included) of the
// transactions that wrote those: other databases on the same server write WAL at the
// same time, so the server's WAL position alone would count their writes too.
type walReader struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	at     uint64 // LSN of the last record read
	w      walStats
	done   chan error
	stderr strings.Builder
}

// walKind is a pg_waldump line's resource manager and record type: "rmgr: Heap ...
// desc: INSERT off 3 ..." is "Heap/INSERT".
func walKind(line string) string {
	rm := strings.Fields(strings.TrimPrefix(line, "rmgr:"))
	_, desc, _ := strings.Cut(line, "desc: ")
	typ := strings.Fields(desc)
	if len(rm) == 0 || len(typ) == 0 {
		return "?"
	}
	return rm[0] + "/" + typ[0]
}

func lsnOf(s string) uint64 {
	hi, lo, _ := strings.Cut(strings.TrimSpace(s), "/")
	var h, l uint64
	fmt.Sscanf(hi, "%x", &h)
	fmt.Sscanf(lo, "%x", &l)
	return h<<32 | l
}

func startWAL(ctx context.Context, db *sql.DB, dbname string) (*walReader, error) {
	var oid int64
	var lsn0 string
	if err := db.QueryRowContext(ctx, `SELECT oid FROM pg_database WHERE datname = $1`, dbname).Scan(&oid); err != nil {
		return nil, err
	}
	if err := db.QueryRowContext(ctx, `SELECT pg_current_wal_flush_lsn()::text`).Scan(&lsn0); err != nil {
		return nil, err
	}
	// pg_waldump finds no record at the end of the WAL: it starts a little before, and
	// records before lsn0 are not counted.
	start := lsnOf(lsn0)
	from := start - min(start, 1<<16)
	r := &walReader{done: make(chan error, 1)}
	r.cmd = exec.Command(walDump, "-f", "-p", walDir, "-s", fmt.Sprintf("%X/%X", from>>32, uint32(from)))
	r.cmd.Stderr = &r.stderr
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	rel := fmt.Sprintf(" rel 1663/%d/", oid)
	go func() {
		mine := map[string]bool{}
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			// rmgr: Heap        len (rec/tot):     54/    54, tx:       1234, lsn: 0/01A2B3C4, prev 0/..., desc: ... blkref #0: rel 1663/DB/REL ...
			_, rest, ok := strings.Cut(line, "len (rec/tot):")
			if !ok {
				continue
			}
			lens, rest, _ := strings.Cut(rest, ",")
			a, b, _ := strings.Cut(lens, "/")
			var recB, totB int64
			fmt.Sscan(strings.TrimSpace(a), &recB)
			fmt.Sscan(strings.TrimSpace(b), &totB)
			var xid string
			if _, x, ok := strings.Cut(rest, "tx:"); ok {
				xid, _, _ = strings.Cut(x, ",")
				xid = strings.TrimSpace(xid)
			}
			var at uint64
			if _, x, ok := strings.Cut(rest, "lsn:"); ok {
				x, _, _ = strings.Cut(x, ",")
				at = lsnOf(x)
			}
			if at < start {
				continue
			}
			ours := strings.Contains(line, rel)
			if ours && xid != "0" {
				mine[xid] = true
			}
			r.mu.Lock()
			if ours || mine[xid] {
				r.w.records++
				r.w.recBytes += recB
				r.w.totBytes += totB
				if strings.HasPrefix(line, "rmgr: Transaction") && strings.Contains(line, "COMMIT") {
					r.w.commits++
				}
				if r.w.kinds == nil {
					r.w.kinds = map[string][2]int64{}
				}
				k := walKind(line)
				c := r.w.kinds[k]
				r.w.kinds[k] = [2]int64{c[0] + 1, c[1] + recB}
			}
			r.at = at
			r.mu.Unlock()
		}
		r.done <- sc.Err()
	}()
	return r, nil
}

// stop waits until the reader has passed the WAL written so far (every measured write
// has committed by then) and returns the sums.
func (r *walReader) stop(ctx context.Context, db *sql.DB) (walStats, error) {
	defer func() {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	}()
	var lsn1 string
	if err := db.QueryRowContext(ctx, `SELECT pg_current_wal_flush_lsn()::text`).Scan(&lsn1); err != nil {
		return walStats{}, err
	}
	end := lsnOf(lsn1)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r.mu.Lock()
		at, w := r.at, r.w
		r.mu.Unlock()
		if at >= end {
			return w, nil
		}
		select {
		case err := <-r.done:
			return w, fmt.Errorf("pg_waldump stopped at %X before %s: %v %s", at, lsn1, err, r.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return w, fmt.Errorf("pg_waldump did not reach %s", lsn1)
		}
	}
}
