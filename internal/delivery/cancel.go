package delivery

import (
	"context"

	"tandem/internal/store"
)

// Cancel withdraws a client's pending rows of table that match where (a condition on
// the table's columns, with args), recording reason as their last error: a webhook
// deleted, a share or agreement ended.
//
// On PostgreSQL the rows are first locked in id order, the order in which a head that
// finishes meanwhile locks the row behind it (its trigger makes that row the head,
// migration 0033). An UPDATE alone locks rows in the order it finds them, and a head
// whose lease was written is found after the rows behind it: the two transactions
// would each hold the row the other waits for, and one would fail with a deadlock.
func Cancel(ctx context.Context, tx *store.Tx, table, reason, where string, args ...any) error {
	cond := `status = 'pending' AND (` + where + `)`
	if tx.D() == store.Postgres {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM `+table+` WHERE `+cond+` ORDER BY id FOR NO KEY UPDATE`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE `+table+` SET status = 'cancelled', last_error = ? WHERE `+cond, append([]any{reason}, args...)...)
	return err
}
