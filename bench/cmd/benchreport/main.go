// Command benchreport runs Tandem's end-to-end benchmarks and writes docs/BENCHMARKS.md:
// ticket create throughput and latency over HTTP at several concurrency levels, list and
// show latency on a large account, the CSV import rate of users and, against `tandem
// serve` processes measured from outside (suites outside, outside-sharing,
// outside-webhooks, outside-mail, outside-export), creates and reads, sharing sync
// latency and backlog drain between desks, webhook calls, inbound and outgoing mail and
// the incremental export walk, on SQLite and (when -postgres is given) PostgreSQL.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"tandem/bench"
	"tandem/internal/store"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

type env struct {
	pg      string
	tmp     string
	schemas []string
	// last is the options of the database open opened last (for a second process).
	last store.Options
}

// open returns a fresh database of the dialect.
func (e *env) open(d store.Dialect, name string) (*store.DB, error) {
	if d == store.SQLite {
		e.last = store.Options{Path: filepath.Join(e.tmp, name+".db")}
		return store.Open(context.Background(), e.last)
	}
	schema := "bench_" + strings.ReplaceAll(name, "-", "_") + fmt.Sprint(time.Now().UnixNano()%1e6)
	admin, err := sql.Open("pgx", e.pg)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		return nil, err
	}
	e.schemas = append(e.schemas, schema)
	u, err := url.Parse(e.pg)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	e.last = store.Options{URL: u.String(), MaxConns: 20}
	return store.Open(context.Background(), e.last)
}

// kept returns the options of the schema in the -postgres database, created if it is
// not there and kept after the run.
func (e *env) kept(schema string) (store.Options, error) {
	admin, err := sql.Open("pgx", e.pg)
	if err != nil {
		return store.Options{}, err
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA IF NOT EXISTS " + schema); err != nil {
		return store.Options{}, err
	}
	u, err := url.Parse(e.pg)
	if err != nil {
		return store.Options{}, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return store.Options{URL: u.String(), MaxConns: 20}, nil
}

func (e *env) cleanup() {
	if e.pg != "" && len(e.schemas) > 0 {
		if admin, err := sql.Open("pgx", e.pg); err == nil {
			for _, s := range e.schemas {
				admin.Exec("DROP SCHEMA " + s + " CASCADE")
			}
			admin.Close()
		}
	}
	os.RemoveAll(e.tmp)
}

func run(args []string) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	out := fs.String("out", "docs/BENCHMARKS.md", "where to write the report")
	pg := fs.String("postgres", os.Getenv("TANDEM_TEST_POSTGRES"), "PostgreSQL admin URL; empty skips PostgreSQL")
	dur := fs.Duration("duration", 5*time.Second, "how long each load level runs")
	tickets := fs.Int("tickets", 100000, "tickets in the account for the read benchmarks")
	suites := fs.String("suites", "outside,outside-sharing,outside-webhooks,outside-mail,outside-export,create,read,import,service-levels,reports,live,ai-sim", "comma-separated suites to run (sharing, webhooks, mail and export name the outside-* ones)")
	streams := fs.Int("streams", 5000, "idle event streams of the live benchmark")
	importRows := fs.Int("import-rows", 100000, "users in the CSV file of the import benchmark")
	var more moreOpts
	fs.IntVar(&more.exportTickets, "export-tickets", 200000, "tickets walked by the incremental export benchmark (suite outside-export)")
	fs.IntVar(&more.sharingBacklog, "sharing-backlog", 2000, "updates queued while the receiving process is down (suite outside-sharing)")
	fs.IntVar(&more.webhookBacklog, "webhook-backlog", 5000, "webhook calls queued while the server is stopped (suite outside-webhooks)")
	fs.IntVar(&more.mailBacklog, "mail-backlog", 10000, "outgoing mails queued while no server runs (suite outside-mail)")
	fs.IntVar(&more.smtpPort, "smtp-port", 0, "port of the inbound SMTP listener of the outside-mail suite's server; 0 = a free one")
	serveArgs := fs.String("serve-args", "", "more arguments, space-separated, of every `tandem serve` the outside suites start (e.g. --debug-addr 127.0.0.1:6060 to profile it)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	autoTickets := fs.Int("automation-tickets", 1000000, "tickets in the account of the automation pass benchmark (suite service-levels)")
	var outside outsideOpts
	fs.StringVar(&outside.bin, "tandem", "", "tandem binary the outside suites run with 'serve'; empty = build ./cmd/tandem")
	fs.IntVar(&outside.port, "port", 0, "port of the outside suite's server; 0 = a free one")
	fs.IntVar(&outside.tickets, "outside-tickets", 1000000, "tickets seeded for the outside suite's reads")
	fs.StringVar(&outside.data, "outside-data", "", "directory of the outside suite's database, kept after the run (SQLite: its data directory; PostgreSQL: the credentials of schema bench_outside_kept of the -postgres database, kept too): seeded if it holds no seeded database, reused as it is if it does; empty = a fresh database dropped after the run")
	fs.BoolVar(&outside.seedOnly, "outside-seed-only", false, "with -suites outside: seed the read account (into -outside-data when given, to be reused by a later run) and stop, without the reference, the server or the measures")
	reportTickets := fs.Int("report-tickets", 1000000, "tickets in the account of the reports benchmark (suite reports)")
	noSQLite := fs.Bool("no-sqlite", false, "skip SQLite (run PostgreSQL alone)")
	seedTickets := fs.Int("seed-tickets", 1000000, "tickets bench.SeedRealistic loads (suite seed, not in the default suites)")
	seedDBPrefix := fs.String("seed-db-prefix", "bench_seed_", "name prefix of the PostgreSQL database the seed suite creates (and drops after)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bench.ServeArgs = strings.Fields(*serveArgs)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	tmp, err := os.MkdirTemp("", "tandem-bench-")
	if err != nil {
		return err
	}
	e := &env{pg: *pg, tmp: tmp}
	defer e.cleanup()
	var dialects []store.Dialect
	if !*noSQLite {
		dialects = append(dialects, store.SQLite)
	}
	if *pg != "" {
		dialects = append(dialects, store.Postgres)
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*suites, ",") {
		s = strings.TrimSpace(s)
		switch s {
		case "sharing", "webhooks", "mail", "export": // measured from outside since issue 16
			s = "outside-" + s
		}
		want[s] = true
	}
	if want["outside-sharing"] || want["outside-webhooks"] || want["outside-mail"] || want["outside-export"] {
		if more.bin, err = tandemBinary(outside, tmp); err != nil {
			return err
		}
		outside.bin = more.bin // built once for every outside suite
		more.dur = *dur
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nMeasured %s on %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), bench.Machine())
	fmt.Fprintf(&b, "Command: `make bench` (`go run ./bench/cmd/benchreport -duration %s -tickets %d -import-rows %d -automation-tickets %d -report-tickets %d -export-tickets %d -sharing-backlog %d -webhook-backlog %d -mail-backlog %d -suites %s`%s).\n", *dur, *tickets, *importRows, *autoTickets, *reportTickets, more.exportTickets, more.sharingBacklog, more.webhookBacklog, more.mailBacklog, *suites, pgNote(*pg))
	b.WriteString("Servers are real `tandem` HTTP servers on loopback with their own databases. The outside suites (outside, outside-sharing, outside-webhooks, outside-mail, outside-export) run them as `tandem serve` processes and give the servers' CPU per operation; the other suites run the server in the benchmark's process, so their figures include client-side cost. Everything shares the same 2 cores. SQLite runs in WAL mode with synchronous=NORMAL on the local disk.\n\n")
	if want["ai-sim"] { // the AI layer's simulation on a generated history: no database (aisim.go)
		fmt.Fprintf(os.Stderr, "AI simulation on tandem-synth...\n")
		if err := aiSimSection(&b); err != nil {
			return fmt.Errorf("AI simulation benchmark: %w", err)
		}
	}
	for _, d := range dialects {
		fmt.Fprintf(&b, "## %s\n\n", title(d))
		if want["seed"] {
			if err := seedSuite(e, d, &b, *seedTickets, *seedDBPrefix); err != nil {
				return fmt.Errorf("seed benchmark: %w", err)
			}
		}
		if want["outside"] {
			outside.dur = *dur
			if err := outsideSuite(e, d, &b, outside); err != nil {
				return fmt.Errorf("outside benchmark: %w", err)
			}
		}
		if want["create"] {
			db, err := e.open(d, "create")
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%s: ticket creates...\n", d)
			res, err := bench.CreateTickets(db, []int{1, 16, 64}, *dur)
			db.Close()
			if err != nil {
				return fmt.Errorf("create benchmark: %w", err)
			}
			b.WriteString("### Ticket create over HTTP (each with a comment and its audit)\n\n| clients | creates/s | p50 | p99 | errors |\n|---|---|---|---|---|\n")
			for _, r := range res {
				fmt.Fprintf(&b, "| %d | %.0f | %s | %s | %d |\n", r.Clients, r.Rate(), bench.Ms(r.P50), bench.Ms(r.P99), r.Errors)
			}
			b.WriteString("\n")
		}
		if want["read"] {
			db, err := e.open(d, "read")
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%s: reads over %d tickets...\n", d, *tickets)
			res, err := bench.ReadTickets(db, *tickets, *dur, 4)
			db.Close()
			if err != nil {
				return fmt.Errorf("read benchmark: %w", err)
			}
			fmt.Fprintf(&b, "### Reads with %d tickets in the account (4 clients)\n\n| request | req/s | p50 | p99 |\n|---|---|---|---|\n", *tickets)
			for _, r := range res {
				fmt.Fprintf(&b, "| %s | %.0f | %s | %s |\n", r.Name, r.Rate(), bench.Ms(r.P50), bench.Ms(r.P99))
			}
			b.WriteString("\n")
		}
		for _, m := range []struct {
			suite string
			run   func(*env, store.Dialect, *strings.Builder, moreOpts) error
		}{
			{"outside-sharing", outsideSharingSuite},
			{"outside-webhooks", outsideWebhookSuite},
			{"outside-mail", outsideMailSuite},
			{"outside-export", outsideExportSuite},
		} {
			if want[m.suite] {
				if err := m.run(e, d, &b, more); err != nil {
					return err
				}
			}
		}
		if want["live"] {
			if err := liveSuite(e, d, &b, *dur, *streams); err != nil {
				return err
			}
		}
		if want["import"] {
			db, err := e.open(d, "import")
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%s: CSV import of %d users...\n", d, *importRows)
			res, err := bench.ImportUsers(db, *importRows, 100)
			db.Close()
			if err != nil {
				return fmt.Errorf("import benchmark: %w", err)
			}
			fmt.Fprintf(&b, "### CSV import of %d users (internal/importer, direct, not over HTTP)\n\n", res.Rows)
			fmt.Fprintf(&b, "The file (%.1f MB, generated in memory) has a name, email, external ID, phone and tags on every row; half the emails are in a domain one of %d organizations maps, one row in five names organizations. Rows are written 500 to a transaction, each in its own savepoint. The re-run imports the identical file again: every row is read and compared, nothing is written.\n\n", float64(res.Bytes)/1e6, res.Orgs)
			b.WriteString("| run | rows | time | rows/s |\n|---|---|---|---|\n")
			fmt.Fprintf(&b, "| first import (all created) | %d | %s | %.0f |\n", res.Created, res.First.Round(time.Millisecond), res.RowsPerSecond())
			fmt.Fprintf(&b, "| identical re-run (all unchanged) | %d | %s | %.0f |\n\n", res.Unchanged, res.Rerun.Round(time.Millisecond), res.RerunRowsPerSecond())
		}
		// Service levels (issue 18): an automation pass over a large account, and what
		// include=slas adds to a 100-ticket list.
		if want["service-levels"] {
			db, err := e.open(d, "automations")
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%s: automation pass over %d tickets...\n", d, *autoTickets)
			ar, err := bench.AutomationPass(db, *autoTickets, 100)
			db.Close()
			if err != nil {
				return fmt.Errorf("automation benchmark: %w", err)
			}
			db, err = e.open(d, "sla-list")
			if err != nil {
				return err
			}
			sr, err := bench.SLAList(db, *dur)
			db.Close()
			if err != nil {
				return fmt.Errorf("include=slas benchmark: %w", err)
			}
			b.WriteString("### Service levels\n\n")
			fmt.Fprintf(&b, "Automation pass (the two default automations) over %d tickets seeded 500 to a multi-row insert, %d of them solved more than 96 hours ago: the pass closed %d in %s; the idle pass an hour later took %s.\n\n",
				ar.Tickets, ar.Matching, ar.Fired, ar.Pass.Round(time.Millisecond), ar.Idle.Round(time.Millisecond))
			fmt.Fprintf(&b, "| GET /api/v2/tickets.json?per_page=100 (100 tickets, 5 SLA targets each) | p50 | p99 |\n|---|---|---|\n| plain | %s | %s |\n| include=slas | %s | %s |\n\n",
				bench.Ms(sr.Plain.P50), bench.Ms(sr.Plain.P99), bench.Ms(sr.WithSLAs.P50), bench.Ms(sr.WithSLAs.P99))
		}
		// Reports (issue 18): the reports page's queries and charts over a large account.
		if want["reports"] {
			db, err := e.open(d, "reports")
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%s: reports over %d tickets...\n", d, *reportTickets)
			rr, err := bench.Reports(db, *reportTickets, *dur)
			db.Close()
			if err != nil {
				return fmt.Errorf("reports benchmark: %w", err)
			}
			fmt.Fprintf(&b, "### Reports over %d tickets (report.Build and the charts, in process)\n\n", rr.Tickets)
			fmt.Fprintf(&b, "Tickets created evenly over a year (%d in the last 30 days), seeded in %s with tags, SLA targets, ratings and shares; daily aggregates built from the rows in %s (report.Rebuild; read from them: %v).\n\n",
				rr.InWindow, rr.Seed.Round(time.Second), rr.Backfill.Round(time.Millisecond), rr.Aggregated)
			fmt.Fprintf(&b, "| range | runs | p50 | p99 |\n|---|---|---|---|\n| last 30 days | %d | %s | %s |\n| last 365 days | %d | %s | %s |\n| last 30 days from rows (reference) | %d | %s | %s |\n\n",
				rr.Month.N, bench.Ms(rr.Month.P50), bench.Ms(rr.Month.P99), rr.Year.N, bench.Ms(rr.Year.P50), bench.Ms(rr.Year.P99),
				rr.RowsMonth.N, bench.Ms(rr.RowsMonth.P50), bench.Ms(rr.RowsMonth.P99))
		}
	}
	if extra, err := os.ReadFile(filepath.Join(filepath.Dir(*out), "BENCHMARKS.extra.md")); err == nil {
		b.WriteString(string(extra))
	}
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
	return nil
}

func title(d store.Dialect) string {
	if d == store.Postgres {
		return "PostgreSQL"
	}
	return "SQLite"
}

func pgNote(pg string) string {
	if pg == "" {
		return ""
	}
	return "; PostgreSQL 15 on the same machine via TANDEM_TEST_POSTGRES"
}

// liveSuite measures live updates: commit-to-event latency (on PostgreSQL across two
// server processes on one database) and the memory of idle event streams.
func liveSuite(e *env, d store.Dialect, b *strings.Builder, dur time.Duration, streams int) error {
	w, err := e.open(d, "live")
	if err != nil {
		return err
	}
	r := w
	where := "one server: SQLite has one process"
	if d == store.Postgres {
		if r, err = store.Open(context.Background(), e.last); err != nil {
			return err
		}
		where = "written through one server process, streamed by another on the same database through LISTEN/NOTIFY"
	}
	fmt.Fprintf(os.Stderr, "%s: live event latency...\n", d)
	res, err := bench.LiveLatency(w, r, []int{200}, dur)
	if r != w {
		r.Close()
	}
	w.Close()
	if err != nil {
		return fmt.Errorf("live benchmark: %w", err)
	}
	fmt.Fprintf(b, "### Live updates: commit to event on an agent's stream, %s\n\nTicket updates (an internal note each) over the API at the target rate; latency is the stream's receive time minus the event's time, taken in the write transaction (same clock).\n\n| target updates/s | achieved | events received | resyncs | p50 | p99 |\n|---|---|---|---|---|---|\n", where)
	for _, x := range res {
		fmt.Fprintf(b, "| %d | %.0f | %d | %d | %s | %s |\n", x.Rate, x.Achieved, x.N, x.Resyncs, bench.Ms(x.P50), bench.Ms(x.P99))
	}
	b.WriteString("\n")
	if d != store.SQLite || streams <= 0 {
		return nil
	}
	db, err := e.open(d, "streams")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %d idle streams...\n", d, streams)
	idle, err := bench.IdleStreams(db, streams, dur)
	db.Close()
	if err != nil {
		return fmt.Errorf("idle streams benchmark: %w", err)
	}
	fmt.Fprintf(b, "### Live updates: %d idle event streams on one server\n\nMemory is the process's heap and goroutine stacks after a collection, before and after opening the streams, divided by their number; it includes the benchmark's own raw client sockets (same process), so the server's share is lower. API p99 is GET /api/v2/tickets/{id}.json from 4 clients.\n\n| streams | memory per stream | API p99 without | API p99 with |\n|---|---|---|---|\n| %d | %.1f KB (stacks %.1f KB) | %s | %s |\n\n",
		idle.Conns, idle.Conns, idle.BytesPer/1024, idle.StackPer/1024, bench.Ms(idle.APIP99Idle), bench.Ms(idle.APIP99Conns))
	return nil
}
