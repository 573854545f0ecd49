package server

import (
	"context"
	"time"

	"tandem/internal/store"
)

// Retention keeps the tables that only grow in check: delivered and cancelled outbox
// rows, finished job statuses and expired sessions; it also refreshes SQLite's planner
// statistics. Calls given up on ("dead") stay, so
// an admin can still see what failed.
const (
	retentionEvery   = time.Hour
	keepDelivered    = 7 * 24 * time.Hour
	keepJobStatuses  = 7 * 24 * time.Hour
	retentionTimeout = time.Minute
)

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
		q   string
		arg int64
	}{
		{`DELETE FROM sharing_outbox WHERE status IN ('delivered', 'cancelled') AND created_at < ?`, store.Micros(now.Add(-keepDelivered))},
		{`DELETE FROM job_statuses WHERE status IN ('completed', 'failed') AND updated_at < ?`, store.Micros(now.Add(-keepJobStatuses))},
		{`DELETE FROM sessions WHERE expires_at < ?`, store.Micros(now)},
	}
	for _, st := range steps {
		if err := s.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, st.q, st.arg)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}
