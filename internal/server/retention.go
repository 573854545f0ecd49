package server

import (
	"context"
	"time"

	"tandem/internal/jobs"
	"tandem/internal/store"
)

// Retention keeps the tables that only grow in check: delivered and cancelled outbox
// rows, finished job statuses, expired sessions, limit windows and replay signatures; it also refreshes SQLite's planner
// statistics. Calls given up on ("dead") stay, so
// an admin can still see what failed.
//
// It also ends jobs that nobody runs any more (jobs.Expire): a job whose process died
// is marked failed, with how far it got, so that clients polling it stop waiting.
const (
	retentionEvery   = time.Hour
	keepDelivered    = 7 * 24 * time.Hour
	retentionTimeout = time.Minute
)

func (s *Server) retain(ctx context.Context) {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.Trim(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Warn("retention", "err", err)
		}
		if err := s.db.Optimize(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("optimize", "err", err)
		}
		t.Reset(retentionEvery)
	}
}

// Trim deletes what retention no longer needs, as of now.
func (s *Server) Trim(ctx context.Context, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, retentionTimeout)
	defer cancel()
	exec := func(q string, args ...any) func(tx *store.Tx) error {
		return func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, q, args...)
			return err
		}
	}
	steps := []func(tx *store.Tx) error{
		exec(`DELETE FROM sharing_outbox WHERE status IN ('delivered', 'cancelled') AND created_at < ?`, store.Micros(now.Add(-keepDelivered))),
		// Mail sent or kept a week ago (failed mail stays, for the admin to see).
		exec(`DELETE FROM mail_outbox WHERE status IN ('delivered', 'kept') AND created_at < ?`, store.Micros(now.Add(-keepDelivered))),
		// Webhook calls delivered or cancelled a week ago, with their attempts (calls given
		// up on stay in the webhook's log).
		exec(`DELETE FROM webhook_attempts WHERE outbox_id IN (SELECT id FROM webhook_outbox WHERE status IN ('delivered', 'cancelled') AND created_at < ?)`, store.Micros(now.Add(-keepDelivered))),
		exec(`DELETE FROM webhook_outbox WHERE status IN ('delivered', 'cancelled') AND created_at < ?`, store.Micros(now.Add(-keepDelivered))),
		func(tx *store.Tx) error { return jobs.Expire(ctx, tx, now) },
		// The one sweep of expired sessions (sign-in refuses them anyway).
		exec(`DELETE FROM sessions WHERE expires_at < ?`, store.Micros(now)),
		// Limit windows and replay signatures that have run out.
		exec(`DELETE FROM limit_counters WHERE expires_at < ?`, store.Micros(now)),
		exec(`DELETE FROM sharing_replay WHERE expires_at < ?`, store.Micros(now)),
	}
	for _, step := range steps {
		if err := s.db.Write(ctx, step); err != nil {
			return err
		}
	}
	return nil
}
