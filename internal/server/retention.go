package server

import (
	"context"
	"time"

	"tandem/internal/store"
)

// Retention keeps the tables that only grow in check: delivered and cancelled outbox
// rows, finished job statuses, expired sessions, limit windows and replay signatures; it also refreshes SQLite's planner
// statistics. Calls given up on ("dead") stay, so
// an admin can still see what failed.
//
// It also ends jobs that nobody runs any more. A job runs in the process that accepted
// it and records its progress after every item; when that process dies (a crash, a
// deploy), the job would stay "working" for ever. One silent for jobSilence is marked
// failed, with how far it got, so that clients polling it stop waiting.
const (
	retentionEvery   = time.Hour
	keepDelivered    = 7 * 24 * time.Hour
	keepJobStatuses  = 7 * 24 * time.Hour
	jobSilence       = 10 * time.Minute
	retentionTimeout = time.Minute
)

// jobAbandoned is the message of a job marked failed because it went silent.
const jobAbandoned = "Interrupted: the server running this job stopped. Items up to the progress shown were processed; run the rest again."

func init() {
	extensions = append(extensions, func(s *Server) error {
		s.AddWorker(s.retain)
		return nil
	})
}

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
	steps := []struct {
		q    string
		args []any
	}{
		{`DELETE FROM sharing_outbox WHERE status IN ('delivered', 'cancelled') AND created_at < ?`, []any{store.Micros(now.Add(-keepDelivered))}},
		{`DELETE FROM job_statuses WHERE status IN ('completed', 'failed') AND updated_at < ?`, []any{store.Micros(now.Add(-keepJobStatuses))}},
		{`UPDATE job_statuses SET status = 'failed', message = ?, updated_at = ? WHERE status IN ('queued', 'working') AND updated_at < ?`,
			[]any{jobAbandoned, store.Micros(now), store.Micros(now.Add(-jobSilence))}},
		{`DELETE FROM sessions WHERE expires_at < ?`, []any{store.Micros(now)}},
		// Limit windows and replay signatures that have run out.
		{`DELETE FROM limit_counters WHERE expires_at < ?`, []any{store.Micros(now)}},
		{`DELETE FROM sharing_replay WHERE expires_at < ?`, []any{store.Micros(now)}},
	}
	for _, st := range steps {
		if err := s.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, st.q, st.args...)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}
