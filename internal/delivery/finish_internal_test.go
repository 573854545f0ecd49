package delivery

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestFinishRecordsAfterCancel: a delivery whose outcome arrives as shutdown starts is
// still recorded, so that it is not sent again after the restart. (Moved here from the
// sharing package with the queue it tests; it runs on sharing's outbox table.)
func TestFinishRecordsAfterCancel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var id int64
		err := db.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sharing_outbox (account_id, agreement_id, kind, method, url, body, status, next_attempt_at, created_at) VALUES (1, 1, 'update', 'PUT', 'http://partner.test/sharing', '', 'pending', 0, 0)`); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, `SELECT MAX(id) FROM sharing_outbox`).Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
		q := New(db, Spec[struct{}]{Name: "test", Table: "sharing_outbox", Lane: []string{"agreement_id", "share_id"}},
			Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		q.finish(cancelled, Job[struct{}]{ID: id, AccountID: 1}, "delivered", "", 0)
		var status string
		if err := db.R().QueryRowContext(ctx, `SELECT status FROM sharing_outbox WHERE id = ?`, id).Scan(&status); err != nil {
			t.Fatal(err)
		}
		if status != "delivered" {
			t.Fatalf("status = %q after finish on a cancelled context, want delivered", status)
		}
	})
}
