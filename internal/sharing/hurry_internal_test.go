package sharing

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestHurryMovesWaitingRowsWithoutWaiting: after a delivery to a partner succeeds, the
// agreement's rows waiting for a retry become due; rows already due are left alone (every
// delivery hurries, and rewriting them each time is what made the updates queue up), and
// on PostgreSQL a row another transaction holds is skipped instead of waited for (the
// hurry used to wait, deadlock with other hurries and outcomes, and stall a backlog's
// drain for tens of seconds with two senders).
func TestHurryMovesWaitingRowsWithoutWaiting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		now := store.Now()
		later := store.Micros(now.Add(time.Hour))
		insert := func(agreement, share int64, attempts int, next int64) int64 {
			var id int64
			err := db.Write(ctx, func(tx *store.Tx) error {
				return tx.QueryRowContext(ctx, `INSERT INTO sharing_outbox (account_id, agreement_id, share_id, kind, method, url, body, status, attempts, next_attempt_at, created_at)
					VALUES (1, ?, ?, 'update', 'PUT', 'http://p/x', '{}', 'pending', ?, ?, ?) RETURNING id`, agreement, share, attempts, next, store.Micros(now)).Scan(&id)
			})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		waiting := insert(7, 1, 2, later)
		held := insert(7, 2, 3, later)
		insert(7, 3, 1, store.Micros(now)) // already due: not rewritten
		insert(7, 4, 0, later)             // never tried: not waiting for the partner
		other := insert(8, 5, 2, later)    // another agreement's
		// Bounded so that a hurry that waits for a held row fails instead of hanging.
		hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var n int64
		var err error
		want := int64(2)
		if db.Dialect == store.SQLite {
			n, err = hurry(hctx, db, 7)
		} else {
			// Another transaction (a claim, an outcome, another process) holds a waiting row.
			want = 1
			err = db.PgConn(ctx, func(c *pgx.Conn) error {
				tx, err := c.Begin(ctx)
				if err != nil {
					return err
				}
				defer tx.Rollback(ctx)
				if _, err := tx.Exec(ctx, `SELECT id FROM sharing_outbox WHERE id = $1 FOR UPDATE`, held); err != nil {
					return err
				}
				n, err = hurry(hctx, db, 7)
				return err
			})
		}
		if err != nil {
			t.Fatalf("hurry: %v (did it wait for a row another transaction holds?)", err)
		}
		if n != want {
			t.Fatalf("hurry moved %d rows, want %d (the waiting rows not held)", n, want)
		}
		next := func(id int64) int64 {
			var at int64
			if err := db.R().QueryRowContext(ctx, `SELECT next_attempt_at FROM sharing_outbox WHERE id = ?`, id).Scan(&at); err != nil {
				t.Fatal(err)
			}
			return at
		}
		if at := next(waiting); at >= later {
			t.Fatalf("waiting row still waits until %d", at)
		}
		if at := next(other); at != later {
			t.Fatalf("another agreement's row was hurried")
		}
	})
}
