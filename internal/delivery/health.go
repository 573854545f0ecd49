package delivery

import (
	"context"
	"time"

	"tandem/internal/store"
)

// Health is the delivery state of part of an outbox (an agreement's rows, an account's
// mail): what every client's admin page shows in the same words.
type Health struct {
	Pending          int
	OldestPendingAge time.Duration
	Failed           int // rows given up on
	// LastError is the latest error of a row still waiting or given up on: an error of a
	// row delivered or cancelled since is history, not the current state.
	LastError string
	// NextAttempt is when the next retry of a row that failed before is due (zero if none).
	NextAttempt time.Time
}

// HealthOf returns the health of the rows of table in the account that match where (a
// condition on the table's own columns, with its args; "" for all of the account's rows).
func HealthOf(ctx context.Context, q store.Queryer, table string, acct int64, where string, args ...any) (Health, error) {
	var h Health
	cond := `account_id = ?`
	if where != "" {
		cond += ` AND ` + where
	}
	a := append([]any{acct}, args...)
	var oldest int64
	err := q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM `+table+` WHERE `+cond+` AND status = 'pending'`, a...).Scan(&h.Pending, &oldest)
	if err != nil {
		return h, err
	}
	if oldest > 0 {
		h.OldestPendingAge = time.Since(store.Time(oldest))
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE `+cond+` AND status = 'dead'`, a...).Scan(&h.Failed); err != nil {
		return h, err
	}
	_ = q.QueryRowContext(ctx, `SELECT last_error FROM `+table+` WHERE `+cond+` AND status IN ('pending', 'dead') AND last_error <> '' ORDER BY id DESC LIMIT 1`, a...).Scan(&h.LastError)
	var next int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MIN(next_attempt_at), 0) FROM `+table+` WHERE `+cond+` AND status = 'pending' AND attempts > 0`, a...).Scan(&next); err != nil {
		return h, err
	}
	if next > 0 {
		h.NextAttempt = store.Time(next)
	}
	return h, nil
}
