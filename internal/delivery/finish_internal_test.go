package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

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

// TestDeferredCountsNoAttempt: a Deferred outcome (no call made: the client's circuit is
// open) puts the row back for exactly the wait asked, with no attempt counted, no error
// recorded and the lease released.
func TestDeferredCountsNoAttempt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var id int64
		err := db.Write(ctx, func(tx *store.Tx) error {
			return tx.QueryRowContext(ctx, `INSERT INTO sharing_outbox (account_id, agreement_id, kind, method, url, body, status, next_attempt_at, lease_owner, lease_until, created_at)
				VALUES (1, 1, 'update', 'PUT', 'http://partner.test/sharing', '', 'pending', 0, 'me', 1, 0) RETURNING id`).Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
		q := New(db, Spec[struct{}]{Name: "test", Table: "sharing_outbox", Lane: []string{"agreement_id", "share_id"},
			Deliver: func(context.Context, Job[struct{}]) Result { return Result{Outcome: Deferred, RetryAfter: time.Hour} }},
			Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		before := store.Now()
		q.deliver(ctx, Job[struct{}]{ID: id, AccountID: 1})
		var attempts, next, lease int64
		var owner, lastErr string
		if err := db.R().QueryRowContext(ctx, `SELECT attempts, next_attempt_at, lease_owner, lease_until, last_error FROM sharing_outbox WHERE id = ?`, id).Scan(&attempts, &next, &owner, &lease, &lastErr); err != nil {
			t.Fatal(err)
		}
		if attempts != 0 || owner != "" || lease != 0 || lastErr != "" || store.Time(next).Before(before.Add(59*time.Minute)) {
			t.Fatalf("after a deferral: attempts %d, owner %q, lease %d, error %q, next in %s", attempts, owner, lease, lastErr, store.Time(next).Sub(before))
		}
	})
}

// TestOneLogLinePerFailedDelivery: every failed attempt writes one log line that says
// which delivery, which attempt, whether it will be retried, and the reason in words
// (issue 19 item 23); a successful one writes none.
func TestOneLogLinePerFailedDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var id int64
		err := db.Write(ctx, func(tx *store.Tx) error {
			return tx.QueryRowContext(ctx, `INSERT INTO sharing_outbox (account_id, agreement_id, kind, method, url, body, status, next_attempt_at, created_at)
				VALUES (1, 1, 'update', 'PUT', 'http://partner.test/sharing', '', 'pending', 0, 0) RETURNING id`).Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
		outcomes := []Result{
			{Outcome: Retry, Reason: "Globex's server did not answer"},
			{Outcome: Fatal, Reason: "Globex refused the update: the ticket is too large"},
			{Outcome: Delivered},
		}
		var buf bytes.Buffer
		q := New(db, Spec[struct{}]{Name: "sharing", Table: "sharing_outbox", Lane: []string{"agreement_id", "share_id"},
			LogAttrs: func(Job[struct{}]) []any { return []any{"partner", "globex"} },
			Deliver:  func(context.Context, Job[struct{}]) Result { r := outcomes[0]; outcomes = outcomes[1:]; return r }},
			Config{}, slog.New(slog.NewJSONHandler(&buf, nil)))
		for attempt := range 3 {
			q.deliver(ctx, Job[struct{}]{ID: id, AccountID: 1, Attempts: attempt})
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d log lines for two failed attempts and one delivery:\n%s", len(lines), buf.String())
		}
		for i, want := range []struct{ level, msg, reason string }{
			{"WARN", "sharing: delivery failed, will retry", "Globex's server did not answer"},
			{"ERROR", "sharing: delivery failed for good", "Globex refused the update: the ticket is too large"},
		} {
			var rec map[string]any
			if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
				t.Fatalf("line %d is not JSON: %v", i+1, err)
			}
			if rec["level"] != want.level || rec["msg"] != want.msg || rec["reason"] != want.reason || rec["partner"] != "globex" || rec["attempt"] != float64(i+1) {
				t.Errorf("line %d = %v, want level %s, msg %q, reason %q, partner globex, attempt %d", i+1, rec, want.level, want.msg, want.reason, i+1)
			}
		}
	})
}
