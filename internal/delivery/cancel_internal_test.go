package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// failOnLog fails the test with each line a queue logs (it logs failures only).
type failOnLog struct{ t *testing.T }

func (f failOnLog) Write(p []byte) (int, error) {
	f.t.Errorf("the worker logged: %s", p)
	return len(p), nil
}

// TestLaneCancelWhileHeadFinishes: a client cancels whole lanes (a webhook deleted, an
// agreement deactivated) while the worker records the outcome of those lanes' heads.
// On PostgreSQL the head's trigger locks the row behind it, and the cancel locks every
// row of the lane: neither side may fail (a deadlock would fail one), and afterwards no
// row is pending and every head kept its recorded outcome or was cancelled.
func TestLaneCancelWhileHeadFinishes(t *testing.T) {
	const rounds, lanes, perLane = 4, 8, 4
	for _, tc := range []struct {
		tb    outboxTable
		where string
		arg   func(lane int) any
	}{
		{outboxTables[3], "account_id = 1 AND webhook_id = ?", func(lane int) any { return fmt.Sprint(lane) }},
		{outboxTables[0], "account_id = 1 AND agreement_id = ?", func(lane int) any { return lane }},
	} {
		t.Run(tc.tb.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				q := New(db, Spec[struct{}]{Name: "test", Table: tc.tb.name, Lane: tc.tb.lane, Fields: func(*struct{}) []any { return nil }},
					Config{}, slog.New(slog.NewTextHandler(failOnLog{t}, nil)))
				for round := range rounds {
					// Lanes 1..lanes of this round, perLane rows each, written lane by lane
					// interleaved so that no lane's rows sit together.
					err := db.Write(ctx, func(tx *store.Tx) error {
						for k := range perLane {
							for l := range lanes {
								sql, args := tc.tb.insert(round*lanes+l+1, 0, (round*lanes+l)*perLane+k, 0)
								var id int64
								if err := tx.QueryRowContext(ctx, sql, args...).Scan(&id); err != nil {
									return err
								}
							}
						}
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					// The claim writes each head's lease: on PostgreSQL the head's new row
					// version now lies after the rows behind it.
					jobs, err := q.claim(ctx, lanes)
					if err != nil {
						t.Fatal(err)
					}
					if len(jobs) != lanes {
						t.Fatalf("round %d: claimed %d heads, want %d", round, len(jobs), lanes)
					}
					var wg sync.WaitGroup
					start := make(chan struct{})
					for i, job := range jobs {
						wg.Go(func() {
							<-start
							q.finish(ctx, job, "delivered", "", 0)
						})
						wg.Go(func() {
							<-start
							err := db.Write(ctx, func(tx *store.Tx) error {
								return Cancel(ctx, tx, tc.tb.name, "lane withdrawn", tc.where, tc.arg(round*lanes+i+1))
							})
							if err != nil {
								t.Errorf("round %d: cancel lane %d: %v", round, round*lanes+i+1, err)
							}
						})
					}
					close(start)
					wg.Wait()
				}
				var pending, heads, delivered, cancelled int
				err := db.R().QueryRowContext(ctx, `SELECT
					COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0),
					COALESCE(SUM(CASE WHEN status = 'pending' AND head THEN 1 ELSE 0 END), 0),
					COALESCE(SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END), 0),
					COALESCE(SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END), 0)
					FROM `+tc.tb.name).Scan(&pending, &heads, &delivered, &cancelled)
				if err != nil {
					t.Fatal(err)
				}
				if pending != 0 || delivered+cancelled != rounds*lanes*perLane || delivered > rounds*lanes {
					t.Errorf("after the cancels: %d pending (%d heads), %d delivered, %d cancelled of %d rows (%d heads)",
						pending, heads, delivered, cancelled, rounds*lanes*perLane, rounds*lanes)
				}
			})
		})
	}
}
