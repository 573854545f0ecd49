package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"tandem/bench"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// outsideOpts configures the outside suite.
type outsideOpts struct {
	bin     string // tandem binary; "" builds ./cmd/tandem
	port    int    // the server's port; 0 picks a free one
	tickets int    // tickets seeded for the reads
	dur     time.Duration
	// data is a directory kept after the run: on SQLite the data directory, on
	// PostgreSQL where the accounts' credentials are saved for the schema
	// keptSchema, which is kept too. Seeded (with the credentials saved) when it
	// holds no seeded database yet, reused as it is otherwise. "" seeds a fresh
	// database (SQLite in the run's temporary directory, PostgreSQL in a schema
	// dropped at the end).
	data string
	// seedOnly stops after the seeding (or after finding data already seeded): no
	// reference, no server, no figures but the seeding's.
	seedOnly bool
}

// outsideCreds are the outside suite's two accounts, saved beside a kept database so
// that a later run can reuse it (the API tokens are stored hashed in the database).
type outsideCreds struct {
	Email, Token, ReadEmail, ReadToken string
	Tickets                            int
}

// keptSchema is the PostgreSQL schema the outside suite seeds and keeps when -outside-data
// is given (in the -postgres database).
const keptSchema = "bench_outside_kept"

// pgBackendsCPU is the CPU time (from /proc) of the PostgreSQL backends connected to
// database dbname (empty: the admin connection's own database), but for the admin
// connection's own: with a database of its own, the server's connections.
func pgBackendsCPU(admin *sql.DB, dbname string) time.Duration {
	if admin == nil {
		return 0
	}
	rows, err := admin.Query(`SELECT pid FROM pg_stat_activity WHERE datname = COALESCE(NULLIF($1, ''), current_database()) AND pid <> pg_backend_pid()`, dbname)
	if err != nil {
		return 0
	}
	defer rows.Close()
	var sum time.Duration
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			sum += bench.ProcCPU(pid)
		}
	}
	return sum
}

// tandemBinary returns the binary to run, building ./cmd/tandem into dir when none is given.
func tandemBinary(o outsideOpts, dir string) (string, error) {
	if o.bin != "" {
		return o.bin, nil
	}
	bin := filepath.Join(dir, "tandem")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/tandem")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build tandem: %w", err)
	}
	return bin, nil
}

// outsideSuite measures creates and reads against `tandem serve` in another process,
// beside the database's own reference measured in the same run (bench/outside.go).
func outsideSuite(e *env, d store.Dialect, b *strings.Builder, o outsideOpts) error {
	ctx := context.Background()
	var bin string
	var err error
	if !o.seedOnly {
		if bin, err = tandemBinary(o, e.tmp); err != nil {
			return err
		}
	}
	var opt store.Options
	dataDir := filepath.Join(e.tmp, "outside-"+string(d))
	if o.data != "" {
		dataDir = o.data
	}
	credsFile := filepath.Join(dataDir, "outside-accounts.json")
	var admin *sql.DB // PostgreSQL: reads the backends' CPU time
	if d == store.SQLite {
		opt = store.Options{Path: filepath.Join(dataDir, "tandem.db")}
	} else {
		if admin, err = sql.Open("pgx", e.pg); err != nil {
			return err
		}
		defer admin.Close()
		if o.data != "" {
			credsFile = filepath.Join(dataDir, "outside-accounts-postgres.json")
			if err := os.MkdirAll(dataDir, 0o755); err != nil {
				return err
			}
			if opt, err = e.kept(keptSchema); err != nil {
				return err
			}
		} else {
			db, err := e.open(d, "outside")
			if err != nil {
				return err
			}
			db.Close()
			opt = e.last
		}
	}
	var creds outsideCreds
	reused := false
	if o.data != "" {
		if raw, err := os.ReadFile(credsFile); err == nil {
			if err := json.Unmarshal(raw, &creds); err != nil {
				return fmt.Errorf("%s: %w", credsFile, err)
			}
			if creds.Tickets != o.tickets {
				return fmt.Errorf("%s holds %d seeded tickets, not %d: remove the directory or change -outside-tickets", dataDir, creds.Tickets, o.tickets)
			}
			reused = true
		} else if _, err := os.Stat(opt.Path); d == store.SQLite && err == nil {
			return fmt.Errorf("%s has a database but no %s (an interrupted seeding?): remove it", dataDir, filepath.Base(credsFile))
		} else if d == store.Postgres {
			var tables int
			if err := admin.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = $1`, keptSchema).Scan(&tables); err != nil {
				return err
			}
			if tables > 0 {
				return fmt.Errorf("schema %s has tables but %s has no %s (an interrupted seeding?): drop the schema", keptSchema, dataDir, filepath.Base(credsFile))
			}
		}
	}
	email, token, remail, rtoken := creds.Email, creds.Token, creds.ReadEmail, creds.ReadToken
	var seed, seedCPU time.Duration
	if !reused {
		var err error
		if email, token, err = bench.ProvisionOutside(ctx, opt, "out-create"); err != nil {
			return err
		}
		if remail, rtoken, err = bench.ProvisionOutside(ctx, opt, "out-read"); err != nil {
			return err
		}
		// Seed the read account before the server starts (SQLite has one writer).
		fmt.Fprintf(os.Stderr, "%s outside: seeding %d tickets...\n", d, o.tickets)
		db, err := store.Open(ctx, opt)
		if err != nil {
			return err
		}
		var acct ids.Account
		var admin ids.User
		err = db.R().QueryRowContext(ctx, `SELECT a.id, u.id FROM accounts a JOIN users u ON u.account_id = a.id WHERE a.subdomain = 'out-read'`).Scan(&acct, &admin)
		t0, c0 := time.Now(), bench.SelfCPU()
		if err == nil {
			err = bench.SeedRealistic(ctx, db, acct, admin, o.tickets, os.Stderr)
		}
		seed, seedCPU = time.Since(t0), bench.SelfCPU()-c0
		db.Close()
		if err != nil {
			return err
		}
		if o.data != "" {
			raw, _ := json.Marshal(outsideCreds{Email: email, Token: token, ReadEmail: remail, ReadToken: rtoken, Tickets: o.tickets})
			if err := os.WriteFile(credsFile, raw, 0o600); err != nil {
				return err
			}
		}
	} else {
		fmt.Fprintf(os.Stderr, "%s outside: reusing the %d tickets seeded in %s\n", d, o.tickets, seededIn(d, dataDir))
	}

	if o.seedOnly {
		if reused {
			fmt.Fprintf(b, "Seeding (-outside-seed-only): %s already holds the %d seeded tickets.\n\n", seededIn(d, dataDir), o.tickets)
		} else {
			fmt.Fprintf(b, "Seeding (-outside-seed-only): %d tickets seeded by bench.SeedRealistic in %s, %s of CPU in the seeding process.\n\n", o.tickets, seed.Round(time.Second), seedCPU.Round(time.Second))
		}
		return nil
	}
	fmt.Fprintf(os.Stderr, "%s outside: reference...\n", d)
	var ref bench.Reference
	if d == store.SQLite {
		ref, err = bench.SQLiteReference(e.tmp, o.dur)
	} else {
		ref, err = bench.PostgresReference(e.pg, 16, o.dur)
	}
	if err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	// The profiling listener gives the Go runtime's share of the server's memory.
	dport, err := bench.FreePort(0)
	if err != nil {
		return err
	}
	debugAddr := "127.0.0.1:" + dport
	srv, err := bench.StartServe(bin, dataDir, opt.URL, o.port, "--debug-addr", debugAddr)
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Fprintf(os.Stderr, "%s outside: creates...\n", d)
	creates := bench.OutsideCreates(srv, bench.OutsideClient(srv.Addr, "out-create", email, token), []int{1, 16, 64}, o.dur)
	fmt.Fprintf(os.Stderr, "%s outside: reads...\n", d)
	rc := bench.OutsideClient(srv.Addr, "out-read", remail, rtoken)
	n := o.tickets
	// The default "All unsolved tickets" view: its first page with its count (cached,
	// docs/FIELDS.md "View counts") and its count alone.
	var vs struct {
		Views []struct {
			ID    int64  `json:"id"`
			Title string `json:"title"`
		} `json:"views"`
	}
	if _, err := rc.Do("GET", "/api/v2/views.json", nil, &vs); err != nil {
		return err
	}
	var view int64
	for _, v := range vs.Views {
		if v.Title == "All unsolved tickets" {
			view = v.ID
		}
	}
	_, createPeak := bench.Memory(srv.Pid)
	if err := bench.ResetPeak(srv.Pid); err != nil {
		return err
	}
	reads := []bench.OutsideResult{
		bench.OutsideReads(srv, rc, "list, first page (cursor, 100 per page)", 4, o.dur, func(int, int) string { return "/api/v2/tickets.json?page[size]=100" }),
		bench.OutsideReads(srv, rc, "list, first page with its count (offset, 100 per page)", 4, o.dur, func(int, int) string { return "/api/v2/tickets.json?per_page=100" }),
		bench.OutsideReads(srv, rc, "view \"All unsolved tickets\", first page with its count (offset, 100 per page)", 4, o.dur, func(int, int) string { return fmt.Sprintf("/api/v2/views/%d/tickets.json?per_page=100", view) }),
		bench.OutsideReads(srv, rc, "view \"All unsolved tickets\", count", 4, o.dur, func(int, int) string { return fmt.Sprintf("/api/v2/views/%d/count.json", view) }),
		bench.OutsideReads(srv, rc, "show one ticket", 4, o.dur, func(w, i int) string { return fmt.Sprintf("/api/v2/tickets/%d.json", 1+((w*100000+i)*7919)%max(n, 1)) }),
		bench.OutsideReads(srv, rc, "search: a rare word pair (\"blender warranty\")", 4, o.dur, func(int, int) string { return "/api/v2/search.json?query=%22blender+warranty%22" }),
	}
	// The harder searches (bench.OutsideSearches; issue 16 item 4: any query under
	// 200 ms), each with the PostgreSQL backends' CPU beside Tandem's.
	var searchReads []bench.OutsideResult
	var searchDB []time.Duration
	for _, s := range bench.OutsideSearches {
		pg0 := pgBackendsCPU(admin, "")
		searchReads = append(searchReads, bench.OutsideReads(srv, rc, "search: "+s.What+" ("+s.Query+")", 4, o.dur, func(int, int) string { return bench.SearchPath(s.Query) }))
		searchDB = append(searchDB, pgBackendsCPU(admin, "")-pg0)
	}
	// The mixed load: each client goes round the usual reads of an agent's screen.
	mixed := []func(w, i int) string{
		func(int, int) string { return "/api/v2/tickets.json?page[size]=100" },
		func(int, int) string { return "/api/v2/tickets.json?per_page=100" },
		func(int, int) string { return fmt.Sprintf("/api/v2/views/%d/tickets.json?per_page=100", view) },
		func(w, i int) string { return fmt.Sprintf("/api/v2/tickets/%d.json", 1+((w*100000+i)*7919)%max(n, 1)) },
		func(int, int) string { return "/api/v2/search.json?query=%22blender+warranty%22" },
		func(int, int) string { return "/api/v2/tickets.json?page[size]=100&sort=-updated_at" },
	}
	reads = append(reads, bench.OutsideReads(srv, rc, "mixed: the six reads above in turn (list pages, a list sorted by update, the view, a ticket, the search)", 4, 4*o.dur, func(w, i int) string { return mixed[(w+i)%len(mixed)](w, i) }))
	busy := bench.ReadMemory(srv.Pid, debugAddr)
	_, peak := bench.Memory(srv.Pid)
	idleRSS, idleAfter := bench.IdleMemory(srv.Pid, 100e6, time.Minute) // 100 MB as printed (10^6 bytes)
	idle := bench.ReadMemory(srv.Pid, debugAddr)

	fmt.Fprintf(b, "### Measured from outside: `tandem serve` in its own process (loaded machine)\n\n")
	fmt.Fprintf(b, "The load generator runs in the benchmark process; the server is the `tandem` binary started with `serve` on a loopback port, so its CPU time (from /proc/PID/stat, 10 ms resolution) is the server's alone. Each create carries a comment of 280-330 bytes and 2-4 tags.\n\n")
	fmt.Fprintf(b, "Reference, measured in the same run: **%.0f/s** (%s).\n\n", ref.PerSecond, ref.What)
	b.WriteString("| clients | creates/s | × reference | p50 | p99 | errors | server CPU per create |\n|---|---|---|---|---|---|---|\n")
	for _, r := range creates {
		fmt.Fprintf(b, "| %d | %.0f | %s | %s | %s | %d | %s |\n", r.Clients, r.Rate(), bench.Ratio(r.Rate(), ref), bench.Ms(r.P50), bench.Ms(r.P99), r.Errors, bench.Ms(r.CPUPerRequest()))
	}
	if reused {
		fmt.Fprintf(b, "\nReads with %d tickets in the account (seeded by bench.SeedRealistic in an earlier run, database reused from %s), 4 clients:\n\n", n, seededIn(d, dataDir))
	} else {
		fmt.Fprintf(b, "\nReads with %d tickets in the account (seeded by bench.SeedRealistic in %s, %.0f tickets/s, %s of CPU in the seeding process: COPY on PostgreSQL, multi-row inserts on SQLite, the export log and full-text index built set-based, comments, tags and report aggregates included, statistics refreshed; docs/BENCHMARKS.md \"Seeding\"), 4 clients:\n\n", n, seed.Round(time.Second), float64(n)/seed.Seconds(), seedCPU.Round(time.Second))
	}
	b.WriteString("| request | req/s | p50 | p99 | errors | server CPU per request |\n|---|---|---|---|---|---|\n")
	for _, r := range reads {
		fmt.Fprintf(b, "| %s | %.0f | %s | %s | %d | %s |\n", r.Name, r.Rate(), bench.Ms(r.P50), bench.Ms(r.P99), r.Errors, bench.Ms(r.CPUPerRequest()))
	}
	fmt.Fprintf(b, "\nThe harder searches (4 clients, each %s; load average at the end %s)", o.dur, bench.LoadAverage())
	if d == store.Postgres {
		b.WriteString(", with the CPU time of the PostgreSQL backends of the server's connections (/proc, 10 ms ticks) per request")
	}
	b.WriteString(":\n\n| request | req/s | p50 | p99 | errors | Tandem CPU per request | PostgreSQL CPU per request |\n|---|---|---|---|---|---|---|\n")
	for i, r := range searchReads {
		dbcpu := "-"
		if d == store.Postgres && r.N > 0 {
			dbcpu = bench.Ms(searchDB[i] / time.Duration(r.N))
		}
		fmt.Fprintf(b, "| %s | %.0f | %s | %s | %d | %s | %s |\n", r.Name, r.Rate(), bench.Ms(r.P50), bench.Ms(r.P99), r.Errors, bench.Ms(r.CPUPerRequest()), dbcpu)
	}
	fmt.Fprintf(b, "\nServer memory (VmHWM and VmRSS of /proc/PID/status; the peak is reset after the creates): peak resident set %.0f MB over the creates, **%.0f MB over the reads**; **%.0f MB resident %s after the last read** (polled once a second for up to a minute, until under 100 MB).\n\n",
		float64(createPeak)/1e6, float64(peak)/1e6, float64(idleRSS)/1e6, idleAfter.Round(time.Second))
	fmt.Fprintf(b, "Where it is (the Go runtime's figures from the server's profiling listener):\n\n- at the end of the mixed reads: %s\n- idle: %s\n\n", busy, idle)
	return nil
}

// seededIn names where a kept database is.
func seededIn(d store.Dialect, dataDir string) string {
	if d == store.SQLite {
		return dataDir
	}
	return "PostgreSQL schema " + keptSchema
}
