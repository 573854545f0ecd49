package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// Migrations 0078 (SQLite) and 0079 (PostgreSQL) keep only the tickets that set
// external_id or problem_id in the indexes of those columns. The reads that name a
// value of the column must still find their tickets through them, not by reading the
// account's tickets.
func TestTicketLookupsReadPartialIndexesSQLite(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	for _, c := range []struct{ name, q, index string }{
		{"external_id=", `SELECT t.id FROM tickets t WHERE t.account_id = 1 AND t.deleted_at = 0 AND t.external_id = 'ext-1'`, "tickets_external"},
		{"a problem's incidents", `SELECT t.id FROM tickets t WHERE t.account_id = 1 AND t.deleted_at = 0 AND t.problem_id = 7 ORDER BY t.id`, "tickets_problem"},
		{"incident counts", `SELECT problem_id, COUNT(*) FROM tickets WHERE account_id = 1 AND problem_id IN (7, 8) AND deleted_at = 0 GROUP BY problem_id`, "tickets_problem"},
		{"a problem's incident count", `SELECT (SELECT COUNT(*) FROM tickets i WHERE i.account_id = t.account_id AND i.problem_id = t.id AND i.deleted_at = 0) FROM tickets t WHERE t.account_id = 1 AND t.id = 7`, "tickets_problem"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if plan := queryPlan(t, db, c.q); !strings.Contains(plan, c.index) {
				t.Errorf("planned as\n%s\nwant a search of %s", plan, c.index)
			}
		})
	}
}

// TestTicketLookupsReadPartialIndexesPostgres checks that the lookups by one external id
// or one problem still read tickets_external and tickets_problem, which migration 0079
// (PostgreSQL) narrowed to the tickets that have one: the planner must prove each
// query's condition implies the index's predicate, or it reads the whole account.
// Each plan is read with the index under test as the table's only index.
func TestTicketLookupsReadPartialIndexesPostgres(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.PostgresSkipped)
	}
	db := storetest.Open(t, store.Postgres)
	cases := []struct {
		index, params, query string
	}{
		// api: GET /api/v2/tickets?external_id= (listTicketsWhere).
		{"tickets_external", "BIGINT, TEXT", `SELECT t.id FROM tickets t WHERE t.account_id = $1 AND t.deleted_at = 0 AND t.external_id = $2 ORDER BY t.id DESC LIMIT 100`},
		// api: a problem's incidents; search: problem_id:N.
		{"tickets_problem", "BIGINT, BIGINT", `SELECT t.id FROM tickets t WHERE t.account_id = $1 AND t.deleted_at = 0 AND t.problem_id = $2 ORDER BY t.id DESC LIMIT 100`},
		// tfield: a problem's incident count, for a ticket of the page.
		{"tickets_problem", "BIGINT, BIGINT", `SELECT (SELECT COUNT(*) FROM tickets i WHERE i.account_id = t.account_id AND i.problem_id = t.id AND i.deleted_at = 0) FROM tickets t WHERE t.account_id = $1 AND t.id = $2`},
	}
	for _, c := range cases {
		plan := onlyIndexPlan(t, db, c.index, c.params, c.query)
		if !strings.Contains(plan, "using "+c.index) {
			t.Errorf("%s: the plan does not read %s:\n%s", c.query, c.index, plan)
		}
	}
}

// onlyIndexPlan returns the generic plan of query (parameters of the types params, the
// first an account), with every index of tickets but keep dropped and sequential and
// bitmap scans off, in a transaction rolled back afterwards.
func onlyIndexPlan(t *testing.T, db *store.DB, keep, params, query string) string {
	t.Helper()
	ctx := context.Background()
	var plan []string
	rollback := errors.New("rolled back")
	err := db.Write(ctx, func(tx *store.Tx) error {
		drop, err := textColumn(ctx, tx, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'tickets' AND indexname NOT IN (?, 'tickets_pkey')`, keep)
		if err != nil {
			return err
		}
		stmts := []string{`SET LOCAL enable_seqscan = off`, `SET LOCAL enable_bitmapscan = off`, `SET LOCAL plan_cache_mode = force_generic_plan`,
			`ALTER TABLE tickets DROP CONSTRAINT tickets_pkey`}
		for _, name := range drop {
			stmts = append(stmts, `DROP INDEX "`+name+`"`)
		}
		stmts = append(stmts, `PREPARE lookup(`+params+`) AS `+query)
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		if plan, err = textColumn(ctx, tx, `EXPLAIN (COSTS OFF) EXECUTE lookup(1, '7')`); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DEALLOCATE lookup`)
		if err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatalf("plan of %s: %v", query, err)
	}
	return strings.Join(plan, "\n")
}

// textColumn runs q in tx and returns its one text column (a helper of onlyIndexPlan,
// whose statements must run in its transaction, where storetest.Strings reads the pool).
func textColumn(ctx context.Context, tx *store.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
