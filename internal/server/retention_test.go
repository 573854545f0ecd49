package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

func TestRetentionTrimsOnlyWhatIsDone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		d := testkit.StartDB(t, db)
		a := d.Account(t, "acme", account.Enterprise)
		ctx := context.Background()
		old := store.Micros(time.Now().Add(-30 * 24 * time.Hour))
		recent := store.Micros(time.Now())
		// The pending row is old but not due yet, so that the server's delivery worker
		// leaves it alone while the test looks.
		later := store.Micros(time.Now().Add(time.Hour))
		err := db.Write(ctx, func(tx *store.Tx) error {
			for i, row := range []struct {
				status    string
				at, retry int64
			}{{"delivered", old, old}, {"cancelled", old, old}, {"dead", old, old}, {"pending", old, later}, {"delivered", recent, recent}} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO sharing_outbox (account_id, agreement_id, kind, method, url, body, status, next_attempt_at, created_at) VALUES (?, 1, 'update', 'PUT', ?, '{}', ?, ?, ?)`,
					a.ID, fmt.Sprint("local://x/", i), row.status, row.retry, row.at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Srv.Trim(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		rows, err := db.R().QueryContext(ctx, `SELECT status FROM sharing_outbox ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			left = append(left, s)
		}
		rows.Close()
		if fmt.Sprint(left) != "[dead pending delivered]" {
			t.Fatalf("after trim: %v (old delivered and cancelled rows go; failures, pending and recent rows stay)", left)
		}
	})
}
