package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"tandem/internal/ids"
	"tandem/internal/report"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// SeedRealistic loads n tickets into the account as the ticket write path would have
// created them, fast enough to reproduce the read figures at a million tickets (issue 16):
// each ticket has a subject, 2-4 tags (and their ticket_tags rows), an audit with the
// events the write path records, and a first comment of 280-330 bytes, with the times the
// write path stamps; the export change log, the full-text indexes, the report aggregates
// and the account's counters end up as the write path leaves them, and the planner's
// statistics are refreshed (TestSeedMatchesAPI compares an account seeded here with the
// same tickets created through ticket.Service).
//
// The rows go in with multi-row INSERTs on SQLite, in one transaction, and with COPY on
// PostgreSQL, in two transactions on two connections that load different tables and
// commit on their own (loadPostgres; a failure of either leaves the database partly
// seeded, to be dropped). A transaction first suspends the per-row triggers whose work
// it then does once for all the rows (seedTriggers: the export change log and, on
// SQLite, the full-text index) and, on PostgreSQL, drops its tables' secondary indexes,
// built again after its commit (a GIN index takes its rows far faster in one build than
// one by one), two at a time on their own connections, costliest first
// (runQueued). The triggers are back, as they were, when the transaction commits, and
// any trigger the seeder does not know of runs for every row as usual. Tables and
// triggers are locked meanwhile: seed before the server starts. Then ticket.AfterBulkInsert sets the counters,
// the loaded tables' statistics are refreshed, and report.Rebuild builds the account's
// report aggregates from the rows (whose statistics are refreshed last).
// Progress (every 100,000 tickets and after each step: the time and this process's CPU
// time so far, and the step's own) goes to progress when not nil.
func SeedRealistic(ctx context.Context, db *store.DB, acct ids.Account, requester ids.User, n int, progress io.Writer) error {
	s := &seeding{acct: acct, requester: requester, n: n, progress: progress, t0: time.Now(), c0: cpuTime(), pg: db.Dialect == store.Postgres}
	s.base = s.t0.Add(-time.Duration(n) * time.Second)
	if err := db.R().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM tickets WHERE account_id = ?`, acct).Scan(&s.firstID); err != nil {
		return err
	}
	// Audits and comments share their ids (row), above any in the database.
	var audits, comments int64
	if err := db.R().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM ticket_audits`).Scan(&audits); err != nil {
		return err
	}
	if err := db.R().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM ticket_comments`).Scan(&comments); err != nil {
		return err
	}
	s.firstRow = max(audits, comments)
	var err error
	if db.Dialect == store.Postgres {
		if err = s.loadPostgres(ctx, db); err == nil {
			s.report("indexes built")
		}
	} else {
		err = s.loadSQLite(ctx, db)
	}
	if err != nil {
		return fmt.Errorf("seed tickets: %w", err)
	}
	s.report("loaded")
	// Counters and statistics of the loaded tables before the report aggregates: without
	// them PostgreSQL plans report.Rebuild's range reads for the few rows it knew of (an
	// index on another column, scanned whole for every chunk: 50 scans of 1,000,000
	// rows), and the rebuild took longer than the load.
	analyze := func(tables ...string) error {
		return db.Write(ctx, func(tx *store.Tx) error {
			for _, t := range tables {
				if _, err := tx.ExecContext(ctx, `ANALYZE `+t); err != nil {
					return err
				}
			}
			return nil
		})
	}
	err = db.Write(ctx, func(tx *store.Tx) error { return ticket.AfterBulkInsertCounters(ctx, tx, acct) })
	if tables := append(slices.Clone(ticket.BulkTables), "ticket_tags", "export_changes"); err == nil && s.pg {
		// Two at a time on their own connections: ANALYZE of the tables with word-pair
		// indexes runs tandem_pairs on every sampled row, one backend's work each.
		err = runTwoAtATime(ctx, db, prefixed("ANALYZE ", tables))
	} else if err == nil {
		err = analyze(tables...)
	}
	if err != nil {
		return fmt.Errorf("seed: counters and statistics: %w", err)
	}
	s.report("counters set, ticket statistics refreshed")
	if _, err := report.Rebuild(ctx, db, acct); err != nil {
		return fmt.Errorf("seed: report aggregates: %w", err)
	}
	s.report("report aggregates built")
	if err := analyze("report_ticket_facts", report.DailyTable(db.Dialect)); err != nil {
		return fmt.Errorf("seed: report statistics: %w", err)
	}
	s.report("report statistics refreshed")
	if s.pg {
		// Set the loaded tables' visibility maps, as autovacuum would have in a database
		// that grew to this size: without them a count of a view's tickets reads every
		// ticket's row (a parallel scan of 250,000 pages, 7.8 s at 1,000,000 tickets)
		// where the index alone answers it (1,500 pages, 1.2 s). VACUUM runs outside a
		// transaction.
		for _, t := range []string{"tickets", "ticket_comments", "ticket_tags", "ticket_audits"} {
			if _, err := db.R().ExecContext(ctx, `VACUUM `+t); err != nil {
				return fmt.Errorf("seed: vacuum %s: %w", t, err)
			}
		}
		s.report("visibility maps set (VACUUM)")
	}
	return nil
}

// seeding is one SeedRealistic run.
type seeding struct {
	acct      ids.Account
	requester ids.User
	n         int
	// firstID is the account's last ticket number before the load, firstRow the last
	// audit or comment id: ticket i (from 0) is numbered firstID+i+1, and its audit and
	// comment both have the id firstRow+i+1.
	firstID, firstRow int64
	// base is the time stamped on ticket 0, ticket i's a second later for each i.
	base     time.Time
	progress io.Writer
	pg       bool // PostgreSQL: change numbers come from export_seq (migration 0041)
	t0       time.Time
	c0       time.Duration
	// mu guards what follows: the parts of a PostgreSQL load report from their goroutines.
	mu sync.Mutex
	// pgPids are the PostgreSQL backends of the load's connections, by part, while they load.
	pgPids map[string]int
	// The wall and CPU time of the last report, from which each report gives its step's.
	lastT time.Time
	lastC time.Duration
}

// backend notes (pid > 0) or forgets (pid 0) the PostgreSQL backend that loads part.
func (s *seeding) backend(part string, pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pgPids == nil {
		s.pgPids = map[string]int{}
	}
	if pid == 0 {
		delete(s.pgPids, part)
		return
	}
	s.pgPids[part] = pid
}

func (s *seeding) report(what string) {
	if s.progress == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	server := ""
	for _, part := range slices.Sorted(maps.Keys(s.pgPids)) {
		// The server's process of a part's connection, where it runs on this machine.
		server += fmt.Sprintf("; the %s part's PostgreSQL backend's CPU %s", part, ProcCPU(s.pgPids[part]).Round(time.Second))
	}
	now, cpu := time.Now(), cpuTime()
	if s.lastT.IsZero() {
		s.lastT, s.lastC = s.t0, s.c0
	}
	fmt.Fprintf(s.progress, "seed: %s in %s (CPU %s%s; this step %s, CPU %s)\n", what, now.Sub(s.t0).Round(time.Second), (cpu - s.c0).Round(time.Second), server,
		now.Sub(s.lastT).Round(100*time.Millisecond), (cpu - s.lastC).Round(100*time.Millisecond))
	s.lastT, s.lastC = now, cpu
}

// The loaded tables' columns, in the order seedBatch's rows hold them.
var (
	seedTicketCols  = []string{"account_id", "id", "subject", "description", "status", "requester_id", "submitter_id", "tags", "via", "created_at", "updated_at", "opened_at", "pending_at", "solved_at", "requester_updated_at"}
	seedAuditCols   = []string{"id", "account_id", "ticket_id", "author_id", "events", "created_at"}
	seedCommentCols = []string{"id", "account_id", "ticket_id", "audit_id", "author_id", "body", "html_body", "plain_body", "uuid", "created_at", "public"}
	seedTagCols     = []string{"account_id", "ticket_id", "tag"}
)

// seedBatch is the rows of a run of consecutive tickets, table by table.
type seedBatch struct {
	from, to                        int // tickets from..to-1
	tickets, audits, comments, tags [][]any
}

// seedTable is a batch's rows of one table.
type seedTable struct {
	table string
	cols  []string
	rows  [][]any
}

// tables is the batch's rows, table by table, in the order they are loaded.
func (b seedBatch) tables() []seedTable {
	return []seedTable{{"tickets", seedTicketCols, b.tickets}, {"ticket_audits", seedAuditCols, b.audits},
		{"ticket_comments", seedCommentCols, b.comments}, {"ticket_tags", seedTagCols, b.tags}}
}

// seedChunk is how many tickets a batch holds (and, on PostgreSQL, a COPY).
const seedChunk = 10000

// batches generates the tickets' rows in a goroutine of their own, a batch at a time, so
// that generating the next batch overlaps with loading this one; only the rows of the
// tables in want, every table's when want is nil (the generated tickets are the same
// whichever rows are asked for, so that two generators can feed two loaders).
func (s *seeding) batches(ctx context.Context, want []string) <-chan seedBatch {
	out := make(chan seedBatch, 2)
	wants := func(table string) bool { return want == nil || slices.Contains(want, table) }
	tickets, audits, comments, tags := wants("tickets"), wants("ticket_audits"), wants("ticket_comments"), wants("ticket_tags")
	go func() {
		defer close(out)
		gen := NewRealistic()
		acct, who := int64(s.acct), int64(s.requester)
		for from := 0; from < s.n; from += seedChunk {
			b := seedBatch{from: from, to: min(from+seedChunk, s.n)}
			for i := b.from; i < b.to; i++ {
				id := s.firstID + int64(i) + 1
				row := s.firstRow + int64(i) + 1
				at := store.Micros(s.base.Add(time.Duration(i) * time.Second))
				rt := gen.Next(id)
				if tickets {
					tj, _ := json.Marshal(rt.Tags)
					// The times the write path stamps on a new ticket (ticket.Change's
					// stampTimes and stampActor): when it entered its status, and the
					// requester's update (the requester creates it).
					var opened, pending, solved int64
					switch rt.Status {
					case "open":
						opened = at
					case "pending":
						pending = at
					case "solved":
						solved = at
					}
					b.tickets = append(b.tickets, []any{acct, id, rt.Subject, rt.Body, rt.Status, who, who, string(tj), `{"channel":"api"}`, at, at, opened, pending, solved, at})
				}
				// The comment's uuid is in its audit's events.
				uuid := ""
				if audits || comments {
					uuid = ticket.NewUUID()
				}
				if audits {
					b.audits = append(b.audits, []any{row, acct, id, who, createEvents(uuid, rt, s.requester), at})
				}
				if comments {
					b.comments = append(b.comments, []any{row, acct, id, row, who, rt.Body, ticket.TextToHTML(rt.Body), rt.Body, uuid, at, true})
				}
				if tags {
					for _, tg := range rt.Tags {
						b.tags = append(b.tags, []any{acct, id, tg})
					}
				}
			}
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// loaded notes a batch in; it reports progress every 100,000 tickets.
func (s *seeding) loaded(b seedBatch) {
	if b.to%100000 == 0 {
		s.report(fmt.Sprintf("%d tickets", b.to))
	}
}

// seedTriggers are the per-row triggers a load suspends, by table, because it does their
// work once for all its rows (derive). A trigger not named here runs for every row.
var seedTriggers = map[store.Dialect][][2]string{
	store.SQLite: {{"tickets", "tickets_export_insert"}, {"ticket_audits", "ticket_audits_export_insert"},
		{"tickets", "tickets_fts_insert"}, {"ticket_comments", "ticket_comments_fts_insert"}},
	store.Postgres: {{"tickets", "tickets_export"}, {"ticket_audits", "ticket_audits_export"}},
}

// seedQueryer runs the statements both loaders share, on either's transaction.
type seedQueryer struct {
	exec func(ctx context.Context, q string, args ...any) error
	one  func(ctx context.Context, q string, args []any, dest ...any) error
}

// derive stamps tickets from..to-1 of the load in the export change log, as the
// suspended triggers would have, a statement per table: each ticket and then its audit
// with the next change numbers after seq, at ts. The export clock is moved once, at the
// end (setClock). On SQLite it reads the loaded rows' ids (while their pages are in the
// cache); on PostgreSQL it numbers them from the load's ids alone (generate_series), as
// the tickets are loaded in another transaction (loadPostgres).
func (s *seeding) derive(ctx context.Context, q seedQueryer, from, to int, seq, ts int64) error {
	acct := int64(s.acct)
	lo, hi := s.firstID+int64(from)+1, s.firstID+int64(to)
	rlo, rhi := s.firstRow+int64(from)+1, s.firstRow+int64(to)
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
			SELECT account_id, 1, id, CAST(? AS BIGINT) + 2 * (id - ?) - 1, CAST(? AS BIGINT) FROM tickets WHERE account_id = ? AND id BETWEEN ? AND ?`,
			[]any{seq, s.firstID, ts, acct, lo, hi}},
		{`INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
			SELECT account_id, 4, id, CAST(? AS BIGINT) + 2 * (id - ?), CAST(? AS BIGINT) FROM ticket_audits WHERE id BETWEEN ? AND ?`,
			[]any{seq, s.firstRow, ts, rlo, rhi}},
	}
	if s.pg {
		stmts[0].q = `INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
			SELECT CAST(? AS BIGINT), 1, id, CAST(? AS BIGINT) + 2 * (id - ?) - 1, CAST(? AS BIGINT) FROM generate_series(CAST(? AS BIGINT), CAST(? AS BIGINT)) AS id`
		stmts[0].args = []any{acct, seq, s.firstID, ts, lo, hi}
		stmts[1].q = `INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
			SELECT CAST(? AS BIGINT), 4, id, CAST(? AS BIGINT) + 2 * (id - ?), CAST(? AS BIGINT) FROM generate_series(CAST(? AS BIGINT), CAST(? AS BIGINT)) AS id`
		stmts[1].args = []any{acct, seq, s.firstRow, ts, rlo, rhi}
	}
	for _, st := range stmts {
		if err := q.exec(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("derive: %w", err)
		}
	}
	return nil
}

// exportClock reads the account's export clock (zeros before its first change) and
// returns it with the time the load's changes are stamped at.
func (s *seeding) exportClock(ctx context.Context, q seedQueryer) (seq, ts int64, err error) {
	query, args := `SELECT COALESCE(MAX(seq), 0), COALESCE(MAX(ts), 0) FROM export_clock WHERE account_id = ?`, []any{int64(s.acct)}
	if s.pg {
		// One sequence numbers every account's changes; stamps use the clock.
		query, args = `SELECT last_value, 0 FROM export_seq`, nil
	}
	if err := q.one(ctx, query, args, &seq, &ts); err != nil {
		return 0, 0, fmt.Errorf("export clock: %w", err)
	}
	return seq, max(ts, time.Now().Unix()), nil
}

// setClock moves the export clock past the load's changes.
func (s *seeding) setClock(ctx context.Context, q seedQueryer, seq, ts int64) error {
	if s.pg {
		if err := q.one(ctx, `SELECT setval('export_seq', GREATEST(last_value, ?)) FROM export_seq`, []any{seq + 2*int64(s.n)}, &seq); err != nil {
			return fmt.Errorf("export clock: %w", err)
		}
		return nil
	}
	err := q.exec(ctx, `INSERT INTO export_clock (account_id, seq, ts) VALUES (?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts`, int64(s.acct), seq+2*int64(s.n), ts)
	if err != nil {
		return fmt.Errorf("export clock: %w", err)
	}
	return nil
}

// seedFTSHashSize is the full-text indexes' in-memory size during a SQLite load (FTS5's
// "hashsize", 1 MB by default): each time it fills, FTS5 writes a segment, and merges
// segments four at a time. 1 GB holds a million tickets' text (the seeding process's peak
// RSS went from 0.96 to 1.06 GB against 64 MB), so the load's rows make one segment,
// written once, and nothing is merged (liftSegment); a larger load flushes more segments,
// which 'optimize' merges. The default is back before the load commits.
const seedFTSHashSize = 1 << 30

// loadSQLite loads the rows with multi-row INSERTs in one transaction, the triggers of
// seedTriggers dropped meanwhile and created again from their saved definitions before it
// commits; derive runs after each batch, while its pages are in the cache, and the
// full-text indexes take the rows at the end. The writer's
// page cache is raised to 128 MB meanwhile. The secondary indexes stay: this generator's
// rows come in the order of every index's leading columns but for a few values (status,
// tag), so each index grows at its end, and building the indexes again after the load
// cost more than it saved (100,000 tickets: 2 s less CPU for the rows, 3.4 s for the 30
// CREATE INDEX, each a scan of its table and a sort).
func (s *seeding) loadSQLite(ctx context.Context, db *store.DB) error {
	restore, err := bulkCache(ctx, db, 128<<20)
	if err != nil {
		return err
	}
	defer restore()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := s.batches(ctx, nil)
	return db.Write(ctx, func(tx *store.Tx) error {
		q := seedQueryer{
			exec: func(ctx context.Context, q string, args ...any) error {
				_, err := tx.ExecContext(ctx, q, args...)
				return err
			},
			one: func(ctx context.Context, q string, args []any, dest ...any) error {
				return tx.QueryRowContext(ctx, q, args...).Scan(dest...)
			},
		}
		var saved []string
		for _, tr := range seedTriggers[store.SQLite] {
			var def string
			if err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name = ?`, tr[0], tr[1]).Scan(&def); err != nil {
				return fmt.Errorf("trigger %s on %s: %w", tr[1], tr[0], err)
			}
			if _, err := tx.ExecContext(ctx, `DROP TRIGGER `+tr[1]); err != nil {
				return err
			}
			saved = append(saved, def)
		}
		for _, fts := range []string{"tickets_fts", "ticket_comments_fts"} {
			if err := q.exec(ctx, `INSERT INTO `+fts+` (`+fts+`, rank) VALUES ('hashsize', ?)`, seedFTSHashSize); err != nil {
				return fmt.Errorf("%s hashsize: %w", fts, err)
			}
		}
		seq, ts, err := s.exportClock(ctx, q)
		if err != nil {
			return err
		}
		ri := &rowInserter{tx: tx, stmts: map[string]*sql.Stmt{}}
		defer ri.close()
		var deriveCPU time.Duration
		for b := range batches {
			for _, t := range b.tables() {
				if err := ri.insert(ctx, t.table, t.cols, t.rows); err != nil {
					return err
				}
			}
			c := cpuTime()
			if err := s.derive(ctx, q, b.from, b.to, seq, ts); err != nil {
				return err
			}
			deriveCPU += cpuTime() - c
			s.loaded(b)
		}
		if err := s.setClock(ctx, q, seq, ts); err != nil {
			return err
		}
		s.report(fmt.Sprintf("rows in (export log: %s of CPU)", deriveCPU.Round(100*time.Millisecond)))
		// The full-text indexes take all the rows in one statement each: FTS5 writes out
		// what it holds at the start of every statement that writes to it, so one
		// statement a batch would leave a segment a batch to merge. (On PostgreSQL the
		// search vectors are generated columns, filled as the rows go in.)
		for _, st := range []struct {
			q    string
			args []any
		}{
			{`INSERT INTO tickets_fts (rowid, subject, description) SELECT rowid, subject, description FROM tickets WHERE account_id = ? AND id > ? AND deleted_at = 0`, []any{int64(s.acct), s.firstID}},
			{`INSERT INTO ticket_comments_fts (rowid, plain_body) SELECT id, plain_body FROM ticket_comments WHERE id > ?`, []any{s.firstRow}},
		} {
			if err := q.exec(ctx, st.q, st.args...); err != nil {
				return fmt.Errorf("full-text index: %w", err)
			}
		}
		s.report("full-text indexes filled")
		// The default hash size again (FTS5 writes out what it holds when it changes: the
		// load's rows, one segment), and its configuration row gone, as before the load.
		// Then the index must be left as one grown by automerge would be: a segment the size
		// of the load's on a low level makes the first writes after the load merge it, a few
		// pages at each commit and all of it when 16 small segments have piled up beside it
		// (a server's first creates on a freshly seeded million cost 20 ms of CPU each
		// instead of 1-3 ms). So the load's segment goes to the level that merging would
		// have brought it to (liftSegment), or, where the index holds more than that
		// segment, every segment is merged into one on a level above them ('optimize').
		for _, fts := range []string{"tickets_fts", "ticket_comments_fts"} {
			if err := q.exec(ctx, `INSERT INTO `+fts+` (`+fts+`, rank) VALUES ('hashsize', ?)`, 1<<20); err != nil {
				return fmt.Errorf("%s hashsize: %w", fts, err)
			}
			if err := q.exec(ctx, `DELETE FROM `+fts+`_config WHERE k = 'hashsize'`); err != nil {
				return fmt.Errorf("%s hashsize: %w", fts, err)
			}
		}
		var merge []string
		for _, fts := range []string{"tickets_fts", "ticket_comments_fts"} {
			lifted, err := liftSegment(ctx, tx, fts)
			if err != nil {
				return fmt.Errorf("%s: %w", fts, err)
			}
			if !lifted {
				merge = append(merge, fts)
			}
		}
		// FTS5 keeps in memory the structure it last wrote, and reads it again only after
		// another connection's commit; rolling back to a savepoint drops it (and nothing
		// else: the full-text indexes hold no pending rows).
		for _, st := range []string{`SAVEPOINT seed_lift`, `ROLLBACK TO seed_lift`, `RELEASE seed_lift`} {
			if err := q.exec(ctx, st); err != nil {
				return fmt.Errorf("full-text structure: %w", err)
			}
		}
		for _, fts := range merge {
			if err := q.exec(ctx, `INSERT INTO `+fts+` (`+fts+`) VALUES ('optimize')`); err != nil {
				return fmt.Errorf("%s optimize: %w", fts, err)
			}
		}
		s.report(fmt.Sprintf("full-text segments lifted, %d merged", len(merge)))
		for _, def := range saved {
			if _, err := tx.ExecContext(ctx, def); err != nil {
				return fmt.Errorf("restore trigger: %w", err)
			}
		}
		return nil
	})
}

// rowInserter inserts rows into tables with multi-row INSERTs, 500 rows to a statement
// prepared once for the transaction (preparing a statement of thousands of placeholders
// costs more than running it).
type rowInserter struct {
	tx    *store.Tx
	stmts map[string]*sql.Stmt
}

func (ri *rowInserter) insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	const perStmt = 500
	args := make([]any, 0, perStmt*len(cols))
	for from := 0; from < len(rows); from += perStmt {
		part := rows[from:min(from+perStmt, len(rows))]
		q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat("("+store.In(len(cols))+"),", len(part)), ",")
		st := ri.stmts[q]
		if st == nil {
			var err error
			if st, err = ri.tx.PrepareContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			ri.stmts[q] = st
		}
		args = args[:0]
		for _, r := range part {
			args = append(args, r...)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
	}
	return nil
}

func (ri *rowInserter) close() {
	for _, st := range ri.stmts {
		st.Close()
	}
}

// pgPart is one of the two transactions of a PostgreSQL load, each on a connection of its
// own, so that the machine's two cores share the server's work: mostly the generated
// search vectors as the rows go in (three a ticket, one a comment) and then the word-pair
// GIN indexes (tandem_pairs runs a query for every row; PostgreSQL 15 builds a GIN index
// with one backend).
type pgPart struct {
	name string
	// tables are the tables it loads, whose secondary indexes it drops and whose triggers
	// of seedTriggers it suspends; copied picks their rows of a batch, in the order it
	// copies them (export_changes is written by derive).
	tables []string
	copied func(b seedBatch) []seedTable
	// exportLog: it stamps the export change log (derive, from the load's ids) and moves
	// the export clock.
	exportLog bool
	// serials are the tables whose identity sequences it moves past the loaded ids.
	serials []string
	// reports: its batches are in the progress (every 100,000 tickets).
	reports bool
}

// seedPgParts: the tickets alone in one part, the critical path (their COPY, then
// tickets_search_pairs); the comments with everything else in the other, which commits
// first and starts ticket_comments_search_pairs while the tickets are still being copied.
// No table is in both, and no statement of one part reads or locks a table of the other
// (no foreign key joins them, and the export log is numbered from the ids), so neither
// part waits for the other in the database. The audits go with the comments: a comment's
// uuid is in its audit's events, and each part has its own generator.
var seedPgParts = []pgPart{
	{name: "tickets", tables: []string{"tickets"},
		copied:  func(b seedBatch) []seedTable { return []seedTable{{"tickets", seedTicketCols, b.tickets}} },
		reports: true},
	{name: "comments", tables: []string{"ticket_comments", "ticket_audits", "ticket_tags", "export_changes"},
		copied: func(b seedBatch) []seedTable {
			return []seedTable{{"ticket_audits", seedAuditCols, b.audits}, {"ticket_comments", seedCommentCols, b.comments}, {"ticket_tags", seedTagCols, b.tags}}
		},
		exportLog: true, serials: []string{"ticket_audits", "ticket_comments"}},
}

// loadPostgres loads the rows with COPY in the two transactions of seedPgParts, on two
// connections, each fed by its own generator; each commits on its own once its rows are
// in, and the indexes it dropped join a queue that both connections then build,
// costliest first (runQueued). No part ever waits for the other while its transaction
// is open: the only waits between them are in runQueued, between transactions.
//
// A part that fails rolls back and stops the other, which rolls back too unless it has
// committed already; the indexes of a committed part are built all the same, so the
// schema is whole after a failure, but the database then holds that part's rows: it is
// to be dropped (callers record a seeding as done only once SeedRealistic has returned
// nil). The error names each part's own failure (errors.Join), and a part that committed.
func (s *seeding) loadPostgres(ctx context.Context, db *store.DB) error {
	loadCtx, stop := context.WithCancel(ctx)
	defer stop()
	queue := newStmtQueue(len(seedPgParts))
	loadErrs := make([]error, len(seedPgParts))
	buildErrs := make([]error, len(seedPgParts))
	committed := make([]bool, len(seedPgParts))
	var wg sync.WaitGroup
	for i := range seedPgParts {
		p := &seedPgParts[i]
		wg.Go(func() {
			var defs []string
			err := db.PgConn(loadCtx, func(c *pgx.Conn) (err error) {
				defs, err = s.loadPart(loadCtx, db, c, p)
				return err
			})
			if err != nil {
				stop() // the other part stops and rolls back, if it has not committed
				loadErrs[i] = fmt.Errorf("%s part: %w", p.name, err)
				defs = nil // dropped in the transaction that rolled back
			}
			committed[i] = err == nil
			queue.loaded(defs)
			// Builds run under ctx, not loadCtx: a committed part's indexes are built even
			// when the other part has failed.
			buildErrs[i] = runQueued(ctx, db, queue)
		})
	}
	wg.Wait()
	err := errors.Join(append(loadErrs, buildErrs...)...)
	if errors.Join(loadErrs...) != nil {
		for i, p := range seedPgParts {
			if committed[i] {
				err = errors.Join(err, fmt.Errorf("the %s part had committed: the database holds part of the load", p.name))
			}
		}
	}
	return err
}

// loadPart runs part p of the load in a transaction on c, and returns the definitions of
// the indexes it dropped. Its tables that were empty are loaded with COPY ... FREEZE: rows
// frozen, visible at once to any transaction, even one that started before the commit
// (seed before the server starts). Nothing changes the database's durability: no table
// is UNLOGGED and the server's settings are untouched. The triggers of seedTriggers on
// its tables are disabled meanwhile (ALTER TABLE ... DISABLE TRIGGER, by name, rather
// than session_replication_role = replica, which would also skip the foreign-key checks
// and any trigger added later that the seeder knows nothing of), and enabled again
// before the commit.
func (s *seeding) loadPart(ctx context.Context, db *store.DB, c *pgx.Conn, p *pgPart) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the generator
	batches := s.batches(ctx, p.tables)
	if s.progress != nil {
		var pid int
		if err := c.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			return nil, err
		}
		s.backend(p.name, pid)
		defer s.backend(p.name, 0)
	}
	var triggers [][2]string
	for _, tr := range seedTriggers[store.Postgres] {
		if slices.Contains(p.tables, tr[0]) {
			triggers = append(triggers, tr)
		}
	}
	var defs []string
	work := func(tx pgx.Tx) error {
		for _, tr := range triggers {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+tr[0]+` DISABLE TRIGGER `+tr[1]); err != nil {
				return fmt.Errorf("disable trigger %s: %w", tr[1], err)
			}
		}
		var names []string
		rows, err := tx.Query(ctx, `SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE i.indrelid = ANY($1::regclass[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
			ORDER BY c.relname`, p.tables)
		if err != nil {
			return fmt.Errorf("indexes: %w", err)
		}
		for rows.Next() {
			var name, def string
			if err := rows.Scan(&name, &def); err != nil {
				return err
			}
			names, defs = append(names, name), append(defs, def)
		}
		if rows.Close(); rows.Err() != nil {
			return fmt.Errorf("indexes: %w", rows.Err())
		}
		for _, name := range names {
			if _, err := tx.Exec(ctx, `DROP INDEX `+pgx.Identifier{name}.Sanitize()); err != nil {
				return fmt.Errorf("drop index %s: %w", name, err)
			}
		}
		// A table still empty is truncated in the transaction, so that COPY ... FREEZE
		// writes its rows frozen and its pages all-visible: neither the index builds nor
		// ANALYZE dirty every page again to set hint bits, and the final VACUUM finds
		// nothing to do. The table is locked first, so that no other transaction's rows
		// can be in it unseen. A table that has rows is loaded without FREEZE.
		freeze := map[string]bool{}
		for _, t := range p.copied(seedBatch{}) {
			var has bool
			if _, err := tx.Exec(ctx, `LOCK TABLE `+t.table+` IN ACCESS EXCLUSIVE MODE`); err != nil {
				return fmt.Errorf("lock %s: %w", t.table, err)
			}
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+t.table+`)`).Scan(&has); err != nil {
				return fmt.Errorf("%s: %w", t.table, err)
			}
			if !has {
				if _, err := tx.Exec(ctx, `TRUNCATE `+t.table); err != nil {
					return fmt.Errorf("truncate %s: %w", t.table, err)
				}
				freeze[t.table] = true
			}
		}
		var buf []byte
		loaded := 0
		for b := range batches {
			for _, t := range p.copied(b) {
				opts := "FORMAT binary"
				if freeze[t.table] {
					opts += ", FREEZE"
				}
				var err error
				if buf, err = copyBinary(buf[:0], t.rows); err != nil {
					return fmt.Errorf("%s: %w", t.table, err)
				}
				q := `COPY ` + t.table + ` (` + strings.Join(t.cols, ", ") + `) FROM STDIN (` + opts + `)`
				if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf), q); err != nil {
					return fmt.Errorf("copy %s: %w", t.table, err)
				}
			}
			loaded = b.to
			if p.reports {
				s.loaded(b)
			}
		}
		// The generator stops early only when ctx is done: never commit part of a part.
		if loaded != s.n {
			err := context.Cause(ctx)
			if err == nil {
				err = errors.New("the generator stopped")
			}
			return fmt.Errorf("rows of %d tickets of %d loaded: %w", loaded, s.n, err)
		}
		if p.exportLog {
			q := seedQueryer{
				exec: func(ctx context.Context, q string, args ...any) error {
					_, err := tx.Exec(ctx, db.Rebind(q), args...)
					return err
				},
				one: func(ctx context.Context, q string, args []any, dest ...any) error {
					return tx.QueryRow(ctx, db.Rebind(q), args...).Scan(dest...)
				},
			}
			seq, ts, err := s.exportClock(ctx, q)
			if err != nil {
				return err
			}
			if err := s.derive(ctx, q, 0, s.n, seq, ts); err != nil {
				return err
			}
			if err := s.setClock(ctx, q, seq, ts); err != nil {
				return err
			}
		}
		for _, t := range p.serials {
			if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), (SELECT MAX(id) FROM `+t+`))`); err != nil {
				return fmt.Errorf("%s id sequence: %w", t, err)
			}
		}
		for _, tr := range triggers {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+tr[0]+` ENABLE TRIGGER `+tr[1]); err != nil {
				return fmt.Errorf("enable trigger %s: %w", tr[1], err)
			}
		}
		return nil
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // after the commit, nothing
	if err := work(tx); err != nil {
		return nil, err
	}
	// Stopped by the other part's failure: roll back. Once begun, the commit is not
	// interrupted, so that whether the part committed is known for certain.
	if ctx.Err() != nil {
		return nil, fmt.Errorf("stopped before its commit: %w", context.Cause(ctx))
	}
	if err := tx.Commit(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	s.report(fmt.Sprintf("the %s part's rows committed", p.name))
	return defs, nil
}

// copyBinary appends rows to buf in COPY's binary format (a header, each row's field
// count and fields, a trailer), each value as the loaded columns take it: int64 as
// bigint, string as text, bool as boolean.
func copyBinary(buf []byte, rows [][]any) ([]byte, error) {
	buf = append(buf, "PGCOPY\n\xff\r\n\x00"...)
	buf = binary.BigEndian.AppendUint32(buf, 0) // flags
	buf = binary.BigEndian.AppendUint32(buf, 0) // no header extension
	for _, r := range rows {
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(r)))
		for _, v := range r {
			switch v := v.(type) {
			case int64:
				buf = binary.BigEndian.AppendUint32(buf, 8)
				buf = binary.BigEndian.AppendUint64(buf, uint64(v))
			case string:
				buf = binary.BigEndian.AppendUint32(buf, uint32(len(v)))
				buf = append(buf, v...)
			case bool:
				var b byte
				if v {
					b = 1
				}
				buf = binary.BigEndian.AppendUint32(buf, 1)
				buf = append(buf, b)
			default:
				return nil, fmt.Errorf("copy: no binary form for a %T value", v)
			}
		}
	}
	return binary.BigEndian.AppendUint16(buf, 0xffff), nil // the trailer: a field count of -1
}

// stmtQueue holds statements for runQueued: a PostgreSQL load's index builds, costliest
// first (byBuildCost), added as its parts commit (loading counts those still to come).
type stmtQueue struct {
	mu    sync.Mutex
	ready *sync.Cond
	defs  []string
	// loading counts the parts that have neither committed nor failed.
	loading int
}

func newStmtQueue(parts int) *stmtQueue {
	q := &stmtQueue{loading: parts}
	q.ready = sync.NewCond(&q.mu)
	return q
}

// loaded notes that a part has committed (with the definitions of the indexes it
// dropped) or failed (with none).
func (q *stmtQueue) loaded(defs []string) {
	q.mu.Lock()
	q.defs = byBuildCost(append(q.defs, defs...))
	q.loading--
	q.mu.Unlock()
	q.ready.Broadcast()
}

// next returns the costliest build left, waiting while there is none and a part is still
// loading; false when everything is built or being built.
func (q *stmtQueue) next() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.defs) == 0 && q.loading > 0 {
		q.ready.Wait()
	}
	if len(q.defs) == 0 {
		return "", false
	}
	def := q.defs[0]
	q.defs = q.defs[1:]
	return def, true
}

// byBuildCost orders index definitions by what their builds cost, costliest first, so
// that two builders finish together: the word-pair GIN indexes (their expression runs
// tandem_pairs, a query, for every row), then the other GIN indexes, then the B-trees.
// The order is otherwise kept.
func byBuildCost(defs []string) []string {
	cost := func(def string) int {
		switch {
		case strings.Contains(def, "tandem_pairs("):
			return 0
		case strings.Contains(def, "USING gin"):
			return 1
		}
		return 2
	}
	defs = slices.Clone(defs)
	slices.SortStableFunc(defs, func(a, b string) int { return cost(a) - cost(b) })
	return defs
}

// runQueued runs the queue's statements (index definitions, ANALYZE) one after the other
// on a connection of its own until the queue is empty (the seeder runs two: one per core
// of the machine the figures are taken on), each in its own transaction. Until the
// indexes are all built the tables lack them, which is why the seeder runs before the
// server starts; a statement that fails is named in the error, and the other connection
// goes on with the rest.
func runQueued(ctx context.Context, db *store.DB, queue *stmtQueue) error {
	return db.PgConn(ctx, func(c *pgx.Conn) error {
		for stmt, ok := queue.next(); ok; stmt, ok = queue.next() {
			// Each index build sorts in memory up to maintenance_work_mem (64 MB by default).
			err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, stmt)
				return err
			})
			if err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
	})
}

// runTwoAtATime runs statements on two connections of their own, in order, each taking
// the next when it is done.
func runTwoAtATime(ctx context.Context, db *store.DB, stmts []string) error {
	queue := newStmtQueue(0)
	queue.defs = stmts
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = runQueued(ctx, db, queue) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// prefixed is each of names after prefix.
func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

// RealisticTicket is one generated ticket of SeedRealistic.
type RealisticTicket struct {
	Subject, Body, Status string
	Tags                  []string
}

// Realistic generates SeedRealistic's tickets, the same sequence every time (so that a
// test can create the same tickets through the API and compare).
type Realistic struct{ r *rand.Rand }

// NewRealistic starts the sequence.
func NewRealistic() *Realistic { return &Realistic{r: rand.New(rand.NewPCG(1, 2))} }

// seedStatuses are drawn with these weights.
var seedStatuses = []string{"new", "open", "open", "pending", "solved", "closed"}

// Next is the ticket numbered id.
func (g *Realistic) Next(id int64) RealisticTicket {
	subj, body, tags := Subject(g.r, id), Comment(g.r), Tags(g.r)
	return RealisticTicket{Subject: subj, Body: body, Tags: tags, Status: seedStatuses[g.r.IntN(len(seedStatuses))]}
}

// auditEvent is one event of a creation audit, as the write path records it.
type auditEvent struct {
	CommentUUID string `json:"comment_uuid,omitempty"`
	FieldName   string `json:"field_name,omitempty"`
	Type        string `json:"type"`
	Value       any    `json:"value,omitempty"`
}

// createEvents is the events of the audit that creates the ticket with its comment.
func createEvents(uuid string, rt RealisticTicket, requester ids.User) string {
	who := strconv.FormatInt(int64(requester), 10)
	none := []int64{}
	ev := []auditEvent{{CommentUUID: uuid, Type: "Comment"},
		{FieldName: "subject", Type: "Create", Value: rt.Subject}, {FieldName: "status", Type: "Create", Value: rt.Status},
		{FieldName: "requester_id", Type: "Create", Value: who}, {FieldName: "submitter_id", Type: "Create", Value: who},
		{FieldName: "tags", Type: "Create", Value: rt.Tags}, {FieldName: "collaborator_ids", Type: "Create", Value: none},
		{FieldName: "follower_ids", Type: "Create", Value: none}, {FieldName: "email_cc_ids", Type: "Create", Value: none}}
	b, _ := json.Marshal(ev)
	return string(b)
}

// bulkCache gives SQLite's writer connection a page cache of size bytes while the
// seeder runs, and returns what restores the previous size. The store's default (32 MB)
// is sized for a server: with it a load spills the pages it writes and reads some back.
func bulkCache(ctx context.Context, db *store.DB, size int64) (func(), error) {
	var was int64
	err := db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&was); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, -size>>10))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("seed: cache size: %w", err)
	}
	return func() {
		_ = db.Write(context.WithoutCancel(ctx), func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, was))
			return err
		})
	}, nil
}
