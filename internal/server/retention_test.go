package server_test

import (
	"context"
	"fmt"
	"strings"
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
				// The same rows in the webhook outbox, each with an attempt in its log.
				var id int64
				if err := tx.QueryRowContext(ctx, `INSERT INTO webhook_outbox (account_id, webhook_id, invocation_id, lane, event_type, body, status, next_attempt_at, created_at) VALUES (?, 'nohook', ?, 'x', 'test', '{}', ?, ?, ?) RETURNING id`,
					a.ID, fmt.Sprint("inv", i), row.status, row.retry, row.at).Scan(&id); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (account_id, outbox_id, webhook_id, status, completed_at) VALUES (?, ?, 'nohook', 'failed', ?)`, a.ID, id, row.at); err != nil {
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
		var calls, attempts int
		if err := db.R().QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM webhook_outbox), (SELECT COUNT(*) FROM webhook_attempts)`).Scan(&calls, &attempts); err != nil || calls != 3 || attempts != 3 {
			t.Fatalf("webhook calls left %d, attempts %d (%v), want 3 and 3", calls, attempts, err)
		}
	})
}

// TestRetentionEndsAbandonedJobs: a job whose process died (no progress for ten minutes)
// is marked failed with an explanation; running, recent and finished jobs are left alone.
func TestRetentionEndsAbandonedJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		d := testkit.StartDB(t, db)
		a := d.Account(t, "acme", account.Enterprise)
		ctx := context.Background()
		now := time.Now()
		silent := store.Micros(now.Add(-20 * time.Minute))
		jobs := []struct {
			id, status string
			at         int64
			want       string
		}{
			{"crashed-working", "working", silent, "failed"},
			{"crashed-queued", "queued", silent, "failed"},
			{"running", "working", store.Micros(now.Add(-time.Minute)), "working"},
			{"done", "completed", silent, "completed"},
		}
		err := db.Write(ctx, func(tx *store.Tx) error {
			for _, j := range jobs {
				if _, err := tx.ExecContext(ctx, `INSERT INTO job_statuses (id, account_id, user_id, job_type, status, total, progress, created_at, updated_at) VALUES (?, ?, 1, 'bulk_import', ?, 10, 4, ?, ?)`,
					j.id, a.ID, j.status, j.at, j.at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Srv.Trim(ctx, now); err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			var status string
			var progress int64
			var message *string
			if err := db.R().QueryRowContext(ctx, `SELECT status, progress, message FROM job_statuses WHERE id = ?`, j.id).Scan(&status, &progress, &message); err != nil {
				t.Fatal(err)
			}
			if status != j.want || progress != 4 {
				t.Errorf("job %s: %s at %d, want %s at 4", j.id, status, progress, j.want)
			}
			if interrupted := message != nil && strings.Contains(*message, "Interrupted"); interrupted != (j.want == "failed") {
				t.Errorf("job %s: message %v", j.id, message)
			}
		}
	})
}

// TestRetentionTrimsExpiredWindows: limit counters and replay signatures whose time has
// passed are deleted; live ones stay.
func TestRetentionTrimsExpiredWindows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		d := testkit.StartDB(t, db)
		ctx := context.Background()
		past, future := store.Micros(time.Now().Add(-time.Minute)), store.Micros(time.Now().Add(time.Hour))
		err := db.Write(ctx, func(tx *store.Tx) error {
			for i, exp := range []int64{past, future} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO limit_counters (bucket, n, expires_at) VALUES (?, 1, ?)`, fmt.Sprint("b", i), exp); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO sharing_replay (signature, expires_at) VALUES (?, ?)`, fmt.Sprint("s", i), exp); err != nil {
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
		var counters, sigs string
		db.R().QueryRowContext(ctx, `SELECT MIN(bucket) || COUNT(*) FROM limit_counters`).Scan(&counters)
		db.R().QueryRowContext(ctx, `SELECT MIN(signature) || COUNT(*) FROM sharing_replay`).Scan(&sigs)
		if counters != "b11" || sigs != "s11" {
			t.Fatalf("after trim: counters %q, signatures %q; want only the live ones (b1, s1)", counters, sigs)
		}
	})
}
