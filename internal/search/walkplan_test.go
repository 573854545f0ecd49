package search

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// TestWalksReadOnlyTheirIndex (PostgreSQL): the ticket walk of a text search with a
// status, priority or type filter, sorted by any of the orders a search offers, and
// searched by any actor (restricted agents check their groups, assignee, requester or
// organization; end users their own and their organizations' tickets), can be an
// index-only scan of the walk index (tickets_search_walk, tickets_subject_walk;
// migrations 0049 and 0059): the index holds every column such a walk reads. Before
// 0059 a filter on status made every walked ticket a read of its 2 kB heap row.
// The plan is read with every other index of tickets dropped and sequential and bitmap
// scans off (explainLines), since the tables of a test are too small for the planner to
// prefer the walk index for its own sake: the walk then reads that index, alone if it
// covers the walk (an index-only scan), or with each walked ticket's heap row if not.
func TestWalksReadOnlyTheirIndex(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip("TANDEM_TEST_POSTGRES not set")
	}
	ctx := context.Background()
	db, s, _, a := cappedWorld(t, store.Postgres, 11, 40, 12)
	e := &s.(*postgresSearcher).engine
	// VACUUM marks the pages all-visible, as autovacuum does on a live database: an
	// index-only scan then reads no heap row, and the planner prefers it.
	if _, err := db.R().ExecContext(ctx, `VACUUM ANALYZE tickets`); err != nil {
		t.Fatal(err)
	}
	queries := []string{"printer status:open", "printer status<solved priority>=normal", "printer ticket_type:incident",
		"subject:printer status:pending", "printer created>3months", "printer -error status:open", "printer"}
	for _, text := range queries {
		q, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		for _, actor := range a.actors() {
			for _, sortBy := range []string{"", "created_at", "priority", "status", "ticket_type"} {
				req := Request{Account: a.acct, Actor: actor, Query: q, Now: a.now, Limit: 100, Count: true, SortBy: sortBy, perTicket: true}
				p, err := e.compile(ctx, db.R(), Tickets, req, sortBy)
				if err != nil {
					t.Fatal(err)
				}
				if p.walk == nil {
					t.Fatalf("%q: no walk", text)
				}
				where, whereArgs := p.walkCond()
				src := e.text.walkSources(a.acct, p.walk.Key, p.walk.Words, p.walk.Prefix)[0]
				args := append(append(append([]any{}, src.args...), int64(math.MaxInt64)), whereArgs...)
				index := "tickets_search_walk"
				if p.walk.Key == "subject" {
					index = "tickets_subject_walk"
				}
				plan := explainLines(t, db, index, "EXPLAIN "+e.walkQuery(p, src, where), append(args, 100))
				want := "Index Only Scan Backward using " + index + " on tickets t"
				if !strings.Contains(plan, want) {
					t.Errorf("%q, sorted by %q, searched by %s (%s %s): the walk is not an index-only scan of its index:\n%s",
						text, sortBy, actor.Name, actor.Role, actor.Restriction, plan)
				}
			}
		}
	}
}

// TestCommentWalkIsAccountLeading (PostgreSQL): a text search walks its account's
// comments newest first through ticket_comments_account (account_id, id), also for the
// account that holds most of the comments, where the planner preferred the primary key
// (id) and stepped over every newer comment of every other account (branch pgr5: 15,700
// rows read instead of 8,000 at 100,000 tickets, 460 ms instead of 50). Checked for each
// actor and with filters, with statistics (explainComments).
func TestCommentWalkIsAccountLeading(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip("TANDEM_TEST_POSTGRES not set")
	}
	ctx := context.Background()
	db, s, _, a := cappedWorld(t, store.Postgres, 12, 300, 12)
	e := &s.(*postgresSearcher).engine
	if _, err := db.R().ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"printer", "printer status:open", "printer tags:vip", "printer -error"} {
		q, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		for _, actor := range a.actors() {
			req := Request{Account: a.acct, Actor: actor, Query: q, Now: a.now, Limit: 100, Count: true, perTicket: true}
			p, err := e.compile(ctx, db.R(), Tickets, req, "")
			if err != nil {
				t.Fatal(err)
			}
			where, whereArgs := p.walkCond()
			src := e.text.walkSources(a.acct, p.walk.Key, p.walk.Words, p.walk.Prefix)[1]
			args := append(append(append([]any{}, src.args...), int64(math.MaxInt64)), whereArgs...)
			plan := explainComments(t, db, "EXPLAIN "+e.walkQuery(p, src, where), append(args, 100))
			if !strings.Contains(plan, "Index Scan Backward using ticket_comments_account on ticket_comments c") {
				t.Errorf("%q, searched by %s (%s %s): the comment walk does not read the account's comments backwards through ticket_comments_account:\n%s",
					text, actor.Name, actor.Role, actor.Restriction, plan)
			}
		}
	}
}

// TestCommentWalkPlannedWithItsArguments (PostgreSQL): the comment walk's statement is
// never a prepared statement of the connection, which PostgreSQL may run with a generic
// plan after five runs: planned without its arguments, the account as an array and the
// words as a parameter read like a rare match, and the plan read every match of a
// common word through the GIN index and sorted them (870 ms against 12 at 100,000
// tickets). The walk runs unnamed (pgx's QueryExecModeExec), planned with its
// arguments each time; the ticket walk stays a cached statement.
func TestCommentWalkPlannedWithItsArguments(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip("TANDEM_TEST_POSTGRES not set")
	}
	ctx := context.Background()
	db, s, _, a := cappedWorld(t, store.Postgres, 13, 80, 12)
	q, err := Parse("printer")
	if err != nil {
		t.Fatal(err)
	}
	var admin int64
	if err := db.R().QueryRowContext(ctx, `SELECT MIN(id) FROM users WHERE account_id = ? AND role = 'admin'`, a.acct).Scan(&admin); err != nil {
		t.Fatal(err)
	}
	req := Request{Account: a.acct, Actor: ticket.Actor{UserID: ids.User(admin), Role: identity.Admin}, Query: q, Now: a.now, Limit: 100, Count: true}
	var comments, tickets int
	err = db.Read(ctx, func(tx *store.Tx) error {
		for range 8 {
			if _, err := s.Search(ctx, tx, req); err != nil {
				return err
			}
		}
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE statement LIKE '%FROM ticket_comments c JOIN tickets t%ORDER BY%'),
			COUNT(*) FILTER (WHERE statement LIKE 'SELECT t.id, t.id,%FROM tickets t WHERE%ORDER BY t.id DESC%')
			FROM pg_prepared_statements WHERE statement NOT LIKE '%pg_prepared_statements%'`).Scan(&comments, &tickets)
	})
	if err != nil {
		t.Fatal(err)
	}
	if tickets == 0 {
		t.Fatal("no ticket walk among the connection's prepared statements: the search did not walk")
	}
	if comments != 0 {
		t.Errorf("the comment walk is one of the connection's prepared statements (%d), open to a generic plan", comments)
	}
}

// explainComments returns PostgreSQL's plan of query with sequential and bitmap scans,
// sorts, hash and merge joins turned off, one line a node: a small table's plan then
// takes its order from an index, as a walk of a large one does.
func explainComments(t *testing.T, db *store.DB, query string, args []any) string {
	t.Helper()
	return explainWith(t, db, query, args, []string{"enable_seqscan", "enable_bitmapscan", "enable_sort", "enable_hashjoin", "enable_mergejoin"}, nil)
}

// explainLines returns PostgreSQL's plan of query, one line a node, with sequential and
// bitmap scans off and every index of tickets but keep dropped (in the transaction,
// rolled back), the primary key's included: the plan then reads keep, as an index-only
// scan if keep holds every column the query reads. The primary key went too since
// branch pgc9: a small table's plan chose between it and the walk index by the share
// of the heap's pages VACUUM had marked all-visible, which in test databases came out
// at a third to two thirds (their rows lacked the committed hint bit), so the choice
// told nothing about the walk index and flipped with the rows' width (migration 0070,
// docs/BENCHMARKS.md).
func explainLines(t *testing.T, db *store.DB, keep, query string, args []any) string {
	t.Helper()
	return explainWith(t, db, query, args, []string{"enable_seqscan", "enable_bitmapscan"}, func(tx *store.Tx) error {
		ctx := context.Background()
		if _, err := tx.ExecContext(ctx, `ALTER TABLE tickets DROP CONSTRAINT tickets_pkey`); err != nil {
			return err
		}
		var drop []string
		rows, err := tx.QueryContext(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'tickets'
			AND indexname <> ?`, keep)
		if err != nil {
			return err
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return err
			}
			drop = append(drop, name)
		}
		rows.Close()
		for _, name := range drop {
			if _, err := tx.ExecContext(ctx, `DROP INDEX `+pgx.Identifier{name}.Sanitize()); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// explainWith returns PostgreSQL's plan of query, one line a node, in a transaction
// rolled back afterwards, with the planner settings off turned off and prepare run
// first.
func explainWith(t *testing.T, db *store.DB, query string, args []any, off []string, prepare func(*store.Tx) error) string {
	t.Helper()
	ctx := context.Background()
	var lines []string
	errRollback := errors.New("rolled back")
	err := db.Write(ctx, func(tx *store.Tx) error {
		for _, set := range off {
			if _, err := tx.ExecContext(ctx, "SET LOCAL "+set+" = off"); err != nil {
				return err
			}
		}
		if prepare != nil {
			if err := prepare(tx); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			lines = append(lines, line)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestProbesRunSerialWithoutJIT (PostgreSQL): the probes that count a text term's
// matches to choose the walk start no parallel workers, even where the planner finds
// them cheap, and Tandem's connections compile nothing with JIT. At a million tickets
// the probe of "blender warranty" in comments took 41 ms with two workers and JIT, 19
// without JIT and 9 serial (docs/BENCHMARKS.md, quiet window of 2026-12-07).
func TestProbesRunSerialWithoutJIT(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip("TANDEM_TEST_POSTGRES not set")
	}
	ctx := context.Background()
	db, s, _, a := cappedWorld(t, store.Postgres, 14, 40, 12)
	var jit string
	if err := db.R().QueryRowContext(ctx, `SHOW jit`).Scan(&jit); err != nil || jit != "off" {
		t.Fatalf("jit = %q (%v), want off", jit, err)
	}
	e := &s.(*postgresSearcher).engine
	// Workers made free and the tables read whole: any plan that may use workers does.
	prepare := func(tx *store.Tx) error {
		for _, set := range []string{"parallel_setup_cost = 0", "parallel_tuple_cost = 0", "min_parallel_table_scan_size = 0",
			"min_parallel_index_scan_size = 0", "enable_indexscan = off", "enable_bitmapscan = off", "enable_indexonlyscan = off"} {
			if _, err := tx.ExecContext(ctx, "SET LOCAL "+set); err != nil {
				return err
			}
		}
		return nil
	}
	unsafe := explainWith(t, db, "EXPLAIN SELECT COUNT(*) FROM ticket_comments c WHERE c.account_id = $1", []any{a.acct}, nil, prepare)
	if !strings.Contains(unsafe, "Gather") {
		t.Fatalf("the test's settings do not make a parallel plan:\n%s", unsafe)
	}
	for _, words := range [][]string{{"printer"}, {"printer", "error"}} {
		for i, src := range e.text.walkSources(a.acct, "", words, false) {
			plan := explainWith(t, db, "EXPLAIN "+src.probe, append(append([]any{}, src.probeArgs...), 2000), nil, prepare)
			if strings.Contains(plan, "Gather") {
				t.Errorf("%q, source %d: the probe starts parallel workers:\n%s", words, i, plan)
			}
		}
	}
}
