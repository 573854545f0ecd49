package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tandem/bench"
	"tandem/internal/store"
)

// The sharing, webhook, mail and export suites against `tandem serve` processes
// (bench/outside_*.go): -suites outside-sharing, outside-webhooks, outside-mail and
// outside-export. The load generator, the webhook receiver, the SMTP clients and the
// SMTP relay run in this process; every figure carries the server processes' CPU time
// (from /proc) per operation and the machine's load average.

// moreOpts sizes the suites.
type moreOpts struct {
	bin                                         string // the tandem binary
	dur                                         time.Duration
	smtpPort                                    int // inbound SMTP listener's port; 0 = a free one
	sharingBacklog, webhookBacklog, mailBacklog int
	exportTickets                               int
}

// outsideDB makes a fresh database for outside servers: a data directory under the
// run's temporary directory (SQLite) or a new schema (PostgreSQL), with a key file that
// every process on it shares.
func outsideDB(e *env, d store.Dialect, name string) (bench.OutsideDB, error) {
	dir := filepath.Join(e.tmp, "outside-"+name+"-"+string(d))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return bench.OutsideDB{}, err
	}
	if d == store.SQLite {
		return bench.OutsideDB{Dir: dir}, nil
	}
	db, err := e.open(d, name) // creates the schema and applies the migrations
	if err != nil {
		return bench.OutsideDB{}, err
	}
	db.Close()
	return bench.OutsideDB{URL: e.last.URL, Secret: filepath.Join(dir, "secret.key")}, nil
}

// perOp formats each process's CPU time per operation: "12.3 ms" for one process,
// "sender 1.2 ms + sender 1.1 ms + receiver 3.4 ms" for several.
func perOp(cpu []time.Duration, n int, names []string) string {
	if n == 0 {
		return "-"
	}
	parts := make([]string, len(cpu))
	for i, c := range cpu {
		parts[i] = names[i] + " " + bench.Ms(c/time.Duration(n))
	}
	return strings.Join(parts, " + ")
}

// pgPerOp formats PostgreSQL's CPU time per operation ("-" on SQLite, where it is 0).
func pgPerOp(cpu time.Duration, n int) string {
	if cpu == 0 || n == 0 {
		return "-"
	}
	return bench.Ms(cpu / time.Duration(n))
}

// outsideSharingSuite: a sending desk (one process on SQLite, two on one PostgreSQL
// database) and a receiving one, each its own database.
func outsideSharingSuite(e *env, d store.Dialect, b *strings.Builder, o moreOpts) error {
	senders := 1
	if d == store.Postgres {
		senders = 2
	}
	a, err := outsideDB(e, d, "share-a")
	if err != nil {
		return err
	}
	r, err := outsideDB(e, d, "share-b")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s outside: sharing (%d sending processes)...\n", d, senders)
	p, err := bench.StartOutsideSharing(o.bin, a, senders, r)
	if err != nil {
		return fmt.Errorf("outside sharing: %w", err)
	}
	defer p.Stop()
	names := []string{"sender"}
	if senders == 2 {
		names = []string{"sender 1", "sender 2"}
	}
	names = append(names, "receiver")
	load := bench.LoadAverage()
	res, err := p.Latency([]int{50, 500}, 2*o.dur)
	if err != nil {
		return fmt.Errorf("outside sharing: %w", err)
	}
	fmt.Fprintf(b, "### Sharing measured from outside: %d sending `tandem serve` process%s and a receiving one, each desk its own database\n\n", senders, map[bool]string{true: "es on one database", false: ""}[senders > 1])
	b.WriteString("Accounts made with `tandem account create`; the agreement invited, accepted and 20 tickets shared through the API. Updates (a comment each) go through the API open loop at the target rate, to the sending processes in turn, after one unmeasured second at the highest rate that warms the servers' connection pools; latency is the receiver's audit time minus the sender's for the same comment (both databases read by the benchmark after the level; same clock). CPU is each server process's (/proc/PID/stat, 10 ms resolution) from the first update to the sender's empty outbox, per update received; PostgreSQL's is its server processes' serving the benchmark's database (both desks; the benchmark's own connections, which poll the outbox for the drain, left out), from /proc likewise.\n\n")
	fmt.Fprintf(b, "Load average at the start: %s.\n\n| target updates/s | achieved | updates received | errors | p50 | p99 | server CPU per update | PostgreSQL CPU per update |\n|---|---|---|---|---|---|---|---|\n", load)
	var own []string
	for _, x := range res {
		fmt.Fprintf(b, "| %d | %.0f | %d | %d | %s | %s | %s | %s |\n", x.Rate, x.Achieved, x.N, x.Errors, bench.Ms(x.P50), bench.Ms(x.P99), perOp(x.CPU, x.N, names), pgPerOp(x.PGCPU, x.N))
		own = append(own, fmt.Sprintf("%s at %d/s", pgPerOp(x.PGOwn, x.N), x.Rate))
	}
	if d == store.Postgres {
		fmt.Fprintf(b, "\nPostgreSQL's CPU for the benchmark's own connections (left out above), per update: %s.\n", strings.Join(own, ", "))
	}
	fmt.Fprintf(os.Stderr, "%s outside: sharing backlog of %d...\n", d, o.sharingBacklog)
	load = bench.LoadAverage()
	dr, err := p.BacklogDrain(o.sharingBacklog)
	if err != nil {
		return fmt.Errorf("outside sharing drain: %w", err)
	}
	ownNote := ""
	if d == store.Postgres {
		ownNote = fmt.Sprintf(" (the benchmark's own connections %s, left out)", pgPerOp(dr.PGOwn, dr.Updates))
	}
	fmt.Fprintf(b, "\nBacklog drain: the receiving process stopped (SIGINT), %d updates queued through the API, the receiver restarted on its port: all delivered %s after it listened (%.0f updates/s, including up to one retry interval, --sharing-max-backoff 1s), **%s from the first delivery (%.0f updates/s)**; server CPU per update %s, PostgreSQL %s%s; load average %s.\n\n",
		dr.Updates, dr.Elapsed.Round(time.Millisecond), float64(dr.Updates)/dr.Elapsed.Seconds(), dr.FromFirst.Round(time.Millisecond), float64(dr.Updates)/dr.FromFirst.Seconds(), perOp(dr.CPU, dr.Updates, names), pgPerOp(dr.PGCPU, dr.Updates), ownNote, load)
	return nil
}

// outsideWebhookSuite: `tandem serve` calling a receiver in this process.
func outsideWebhookSuite(e *env, d store.Dialect, b *strings.Builder, o moreOpts) error {
	db, err := outsideDB(e, d, "hooks")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s outside: webhooks...\n", d)
	w, err := bench.StartOutsideWebhooks(o.bin, db)
	if err != nil {
		return fmt.Errorf("outside webhooks: %w", err)
	}
	defer w.Stop()
	load := bench.LoadAverage()
	res, err := w.Latency([]int{100, 1000}, min(o.dur, 3*time.Second))
	if err != nil {
		return fmt.Errorf("outside webhooks: %w", err)
	}
	b.WriteString("### Webhooks measured from outside: `tandem serve` calling a receiver in the benchmark process\n\n")
	b.WriteString("A webhook and a trigger calling it on every ticket change, made through the API; 50 tickets. Changes (an internal note each) go through the API open loop at the target rate; latency is the call's arrival at the receiver minus the time its row was written in the change's transaction (read from the database; same clock). Delivered is calls received per second from the first change to the last call; server CPU is the `tandem serve` process's over the same span, per call.\n\n")
	fmt.Fprintf(b, "Load average at the start: %s.\n\n| target changes/s | committed/s | delivered/s | calls | errors | p50 | p99 | server CPU per call |\n|---|---|---|---|---|---|---|---|\n", load)
	for _, x := range res {
		fmt.Fprintf(b, "| %d | %.0f | %.0f | %d | %d | %s | %s | %s |\n", x.Rate, x.Achieved, x.Delivered, x.N, x.Errors, bench.Ms(x.P50), bench.Ms(x.P99), bench.Ms(perCall(x.ServerCPU, x.N)))
	}
	fmt.Fprintf(os.Stderr, "%s outside: webhook backlog of %d...\n", d, o.webhookBacklog)
	load = bench.LoadAverage()
	dr, err := w.Drain(o.webhookBacklog)
	if err != nil {
		return fmt.Errorf("outside webhook drain: %w", err)
	}
	fmt.Fprintf(b, "\nBacklog: the server stopped, %d calls queued in its database (500 to a transaction, on the 50 tickets' lanes), the server started again: all received %s after it listened (**%.0f calls/s**, one call in flight per ticket, signed, each attempt logged); server CPU per call %s; load average %s.\n\n",
		dr.Calls, dr.Elapsed.Round(time.Millisecond), float64(dr.Calls)/dr.Elapsed.Seconds(), bench.Ms(perCall(dr.ServerCPU, dr.Calls)), load)
	return nil
}

func perCall(cpu time.Duration, n int) time.Duration {
	if n == 0 {
		return 0
	}
	return cpu / time.Duration(n)
}

// outsideMailSuite: inbound over SMTP to `tandem serve --smtp-addr`, and an outgoing
// backlog drained to a relay in this process.
func outsideMailSuite(e *env, d store.Dialect, b *strings.Builder, o moreOpts) error {
	db, err := outsideDB(e, d, "mail-in")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s outside: inbound mail...\n", d)
	load := bench.LoadAverage()
	in, err := bench.OutsideInbound(o.bin, db, o.smtpPort, []int{1, 8}, o.dur)
	if err != nil {
		return fmt.Errorf("outside inbound mail: %w", err)
	}
	b.WriteString("### Mail measured from outside: inbound over SMTP to `tandem serve --smtp-addr`, outgoing to a relay in the benchmark process\n\n")
	b.WriteString("Inbound: SMTP clients in the benchmark process send for the level's duration, one transaction after another on each connection, to support@acme.localhost; each message (1.7 KB of text) is a new ticket from one of 50 senders a connection (--mail-sender-rate lifted). Latency is from the client's final \".\" to the ticket's commit (the inbox row's done time, written in the transaction that makes the ticket; read from the database; same clock); the rate counts from the first MAIL FROM to the last ticket committed. Server CPU is the process's over that span, per ticket.\n\n")
	fmt.Fprintf(b, "Load average at the start: %s.\n\n| connections | tickets | tickets/s | errors | \".\" to 250, p99 | \".\" to ticket, p50 | \".\" to ticket, p99 | server CPU per message |\n|---|---|---|---|---|---|---|---|\n", load)
	for _, x := range in {
		fmt.Fprintf(b, "| %d | %d | %.0f | %d | %s | %s | %s | %s |\n", x.Conns, x.N, x.Rate(), x.Errors, bench.Ms(x.AcceptP99), bench.Ms(x.P50), bench.Ms(x.P99), bench.Ms(perCall(x.ServerCPU, x.N)))
	}
	if db, err = outsideDB(e, d, "mail-out"); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s outside: outgoing mail backlog of %d...\n", d, o.mailBacklog)
	load = bench.LoadAverage()
	mr, err := bench.OutsideMailDrain(o.bin, db, o.mailBacklog)
	if err != nil {
		return fmt.Errorf("outside mail drain: %w", err)
	}
	fmt.Fprintf(b, "\nOutgoing: %d notification mails about %d tickets queued in the database while no server ran (%s, by the benchmark process), then `tandem serve --smtp-relay` started with a go-smtp relay in the benchmark process: all accepted %s after it listened, **%.0f mails/s** (one message per SMTP transaction, in order per ticket and recipient, connections reused); server CPU per mail %s; load average %s.\n\n",
		mr.Mails, mr.Tickets, mr.Queue.Round(time.Millisecond), mr.Drain.Round(time.Millisecond), float64(mr.Mails)/mr.Drain.Seconds(), bench.Ms(perCall(mr.ServerCPU, mr.Mails)), load)
	return nil
}

// outsideExportSuite: the incremental export walked over HTTP from `tandem serve`.
func outsideExportSuite(e *env, d store.Dialect, b *strings.Builder, o moreOpts) error {
	db, err := outsideDB(e, d, "export")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s outside: export walk of %d tickets...\n", d, o.exportTickets)
	res, seed, err := bench.OutsideExportWalk(o.bin, db, o.exportTickets)
	if err != nil {
		return fmt.Errorf("outside export: %w", err)
	}
	fmt.Fprintf(b, "### Incremental ticket export measured from outside: a walk of %d tickets from `tandem serve`, 1,000 a page\n\n", o.exportTickets)
	fmt.Fprintf(b, "Seeded by the benchmark process while no server ran (multi-row INSERTs, the export triggers stamping every row, %s), the change log then restamped one change a second; the server runs with --export-rate-limit -1 --export-lag -1ns. Each walk starts at time 0 and follows next_page / after_url to end_of_stream, one page at a time; a time-based page repeats the tickets of its last second (boundary duplicates). Server CPU is the process's over the walk; its allocations are its Go runtime's count, read from its profiling listener (--debug-addr) before and after; client CPU is the benchmark process's (requests and decoding).\n\n", seed.Round(time.Second))
	b.WriteString("| walk | pages | tickets returned | time | pages/s | server CPU per page | server allocations per page | client CPU per page |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range res {
		fmt.Fprintf(b, "| %s | %d | %d | %s | %.1f | %s | %d | %s |\n", r.Name, r.Pages, r.Records, r.Elapsed.Round(time.Millisecond), r.PagesPerSecond(), bench.Ms(r.ServerCPUPerPage()), r.ServerAllocsPerPage(), bench.Ms(perCall(r.ClientCPU, r.Pages)))
	}
	fmt.Fprintf(b, "\nLoad average at the end: %s.\n\n", bench.LoadAverage())
	return nil
}
