package search

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestWalksReadOnlyTheirIndex (PostgreSQL): the ticket walk of a text search with a
// status, priority or type filter, sorted by any of the orders a search offers, and
// searched by any actor (restricted agents check their groups, assignee, requester or
// organization; end users their own and their organizations' tickets), can be an
// index-only scan of the walk index (tickets_search_walk, tickets_subject_walk;
// migrations 0049 and 0059): the index holds every column such a walk reads. Before
// 0059 a filter on status made every walked ticket a read of its 2 kB heap row.
// The plan is read with the other indexes of tickets dropped and sequential and bitmap
// scans off (explainLines), since the tables of a test are too small for the planner to
// prefer the walk index for its own sake: a walk the index does not cover then reads
// the heap through tickets_pkey.
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
				plan := explainLines(t, db, "EXPLAIN "+e.walkQuery(p, src, where), append(args, 100))
				want := "Index Only Scan Backward using tickets_search_walk on tickets t"
				if p.walk.Key == "subject" {
					want = "Index Only Scan Backward using tickets_subject_walk on tickets t"
				}
				if !strings.Contains(plan, want) {
					t.Errorf("%q, sorted by %q, searched by %s (%s %s): the walk is not an index-only scan of its index:\n%s",
						text, sortBy, actor.Name, actor.Role, actor.Restriction, plan)
				}
			}
		}
	}
}

// explainLines returns PostgreSQL's plan of query, one line a node, in a transaction
// rolled back afterwards that turns sequential and bitmap scans off and drops every
// index of tickets but its primary key and the walk indexes: the plan then either reads
// a walk index alone or reads ticket rows, whatever the other indexes a small table
// would make the planner prefer.
func explainLines(t *testing.T, db *store.DB, query string, args []any) string {
	t.Helper()
	ctx := context.Background()
	var lines []string
	errRollback := errors.New("rolled back")
	err := db.Write(ctx, func(tx *store.Tx) error {
		for _, set := range []string{"enable_seqscan", "enable_bitmapscan"} {
			if _, err := tx.ExecContext(ctx, "SET LOCAL "+set+" = off"); err != nil {
				return err
			}
		}
		var drop []string
		rows, err := tx.QueryContext(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'tickets'
			AND indexname NOT IN ('tickets_pkey', 'tickets_search_walk', 'tickets_subject_walk')`)
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
		rows, err = tx.QueryContext(ctx, query, args...)
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
