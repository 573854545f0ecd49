package store_test

import (
	"strings"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// Migration 0078 keeps only the tickets that set external_id or problem_id in the
// indexes of those columns (SQLite). The reads that name a value of the column must
// still find their tickets through them, not by reading the account's tickets.
func TestTicketLookupsReadPartialIndexes(t *testing.T) {
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
