package search

import (
	"context"
	"encoding/json"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestSearchCapWithStatistics runs text searches with filters and with several words,
// as every searcher of the world, on a world whose tables have statistics (ANALYZE),
// with a drive limit of 3: on PostgreSQL the planner's estimates then decide whether a
// walk counts its filters' tickets (fewByFilters) and which word it walks and reads
// whole (probeCount), and most filters are estimated far past the limit, so the walks
// skip the count. Each answer is checked against the reference as in
// TestSearchCapMatchesBruteForce (exact up to the cap, the reference's hits beyond it,
// only tickets the searcher may see): estimates choose the plan, never the answer.
func TestSearchCapWithStatistics(t *testing.T) {
	const capN = 12
	queries := []string{"printer tags:vip", "error status<solved", "printer -tags:vip", "printer error",
		"printer error tags:vip", "subject:printer error", "printer -error status:open", `"printer error" login`}
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db, s, r, a := cappedWorld(t, d, 5, 200, capN)
			if d == store.Postgres {
				if err := db.Write(context.Background(), func(tx *store.Tx) error {
					_, err := tx.ExecContext(context.Background(), `ANALYZE`)
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			switch v := s.(type) {
			case *sqliteSearcher:
				v.drive = 3
			case *postgresSearcher:
				v.drive = 3
			}
			for i, text := range queries {
				for _, actor := range a.actors() {
					req := Request{Account: a.acct, Actor: actor, Now: a.now, Limit: 1000, Count: true,
						SortBy: pick(r, []string{"", "created_at", "priority"}), Desc: r.IntN(2) == 0}
					checkCapped(t, db, s, a, r, i, text, req, capN)
				}
			}
		})
	}
}

// TestPlanEstimates reads the estimates of EXPLAIN (FORMAT JSON) plans: the rows under
// the first LIMIT (what a COUNT of a LIMIT subquery counts), or the plan's own.
func TestPlanEstimates(t *testing.T) {
	cases := []struct {
		plan string
		want float64
	}{
		{`[{"Plan": {"Node Type": "Aggregate", "Plan Rows": 1, "Plans": [{"Node Type": "Limit", "Plan Rows": 2000,
			"Plans": [{"Node Type": "Seq Scan", "Plan Rows": 47237}]}]}}]`, 47237},
		{`[{"Plan": {"Node Type": "Aggregate", "Plan Rows": 1, "Plans": [{"Node Type": "Limit", "Plan Rows": 3,
			"Plans": [{"Node Type": "Bitmap Heap Scan", "Plan Rows": 3, "Plans": [{"Node Type": "Bitmap Index Scan", "Plan Rows": 9}]}]}]}}]`, 3},
		{`[{"Plan": {"Node Type": "Hash Join", "Plan Rows": 30382, "Plans": [{"Node Type": "Seq Scan", "Plan Rows": 103379}]}}]`, 30382},
	}
	for _, c := range cases {
		var out []struct{ Plan planNode }
		if err := json.Unmarshal([]byte(c.plan), &out); err != nil {
			t.Fatal(err)
		}
		if got := out[0].Plan.limited(); got != c.want {
			t.Errorf("limited() of %s = %v, want %v", c.plan, got, c.want)
		}
	}
}
