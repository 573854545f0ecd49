package sharing

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"tandem/internal/sharing/peer"
	"tandem/internal/sharing/wire"
	"tandem/internal/store"
)

// The outbox worker delivers queued protocol calls. Rows of one share (or, for agreement
// messages, of one agreement) go out in order, one at a time; different shares go out in
// parallel. Network errors, timeouts, 408, 429 and 5xx are retried with exponential
// backoff and full jitter; 401, 403, 404, 410 and 422 are not: the share is marked failed
// with the partner's answer. With several processes on PostgreSQL, rows are claimed with
// FOR UPDATE SKIP LOCKED and a lease, so each is delivered by one process at a time.

type outboxRow struct {
	id, accountID, agreementID, shareID int64
	kind, method, url, body             string
	attempts                            int
	// more are later updates of the same share delivered in the same request.
	more []int64
}

// ids are every outbox row the delivery stands for.
func (r outboxRow) ids() []int64 { return append([]int64{r.id}, r.more...) }

// Coalescing: after an outage a shared ticket may have many updates queued. They go in
// one request (comments in order, the latest fields, the latest version), which the
// receiver applies exactly as it would apply them one by one.
const (
	maxCoalesce     = 50
	maxCoalesceBody = 2 << 20
)

// deliveryTimeout bounds one call to a partner; a lease outlives it a little, so a row
// whose process died mid-call is claimable again soon after.
const (
	deliveryTimeout = 30 * time.Second
	leaseFor        = deliveryTimeout + 10*time.Second
)

// Run delivers the outbox until ctx ends.
func (s *Service) Run(ctx context.Context) {
	if s.db.Dialect == store.SQLite {
		// One process owns an SQLite file: a lease found at start is from a process that
		// died mid-delivery. Release it now rather than wait for it to expire, since the
		// rest of that ticket's queue waits behind it.
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sharing_outbox SET lease_owner = '', lease_until = 0 WHERE status = 'pending' AND lease_until > 0`)
			return err
		})
		if err != nil && ctx.Err() == nil {
			s.log.Error("sharing: release stale leases", "err", err)
		}
	}
	sem := make(chan struct{}, s.cfg.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		rows, err := s.claim(ctx, s.cfg.Workers*4)
		if err != nil && ctx.Err() == nil {
			s.log.Error("sharing: claim outbox", "err", err)
		}
		for _, row := range rows {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				s.deliver(ctx, row)
			}()
		}
		if len(rows) > 0 {
			continue // more may be due right away (the next row of each share)
		}
		wait := s.nextDue(ctx)
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// nextDue is how long until the earliest retry is due (at most a second, so that rows
// written by other processes are found without a wake-up).
func (s *Service) nextDue(ctx context.Context) time.Duration {
	var next int64
	_ = s.db.R().QueryRowContext(ctx, `SELECT COALESCE(MIN(next_attempt_at), 0) FROM sharing_outbox WHERE status = 'pending'`).Scan(&next)
	if next == 0 {
		return time.Second
	}
	d := time.Until(store.Time(next))
	switch {
	case d < 5*time.Millisecond:
		return 5 * time.Millisecond
	case d > time.Second:
		return time.Second
	}
	return d
}

// claim leases up to n due rows, each the oldest pending row of its share.
func (s *Service) claim(ctx context.Context, n int) ([]outboxRow, error) {
	now := store.Micros(store.Now())
	lease := store.Micros(store.Now().Add(leaseFor))
	var out []outboxRow
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		q := `SELECT o.id, o.account_id, o.agreement_id, o.share_id, o.kind, o.method, o.url, o.body, o.attempts FROM sharing_outbox o
			WHERE o.status = 'pending' AND o.next_attempt_at <= ? AND o.lease_until < ?
			AND NOT EXISTS (SELECT 1 FROM sharing_outbox p WHERE p.status = 'pending' AND p.agreement_id = o.agreement_id AND p.share_id = o.share_id AND p.id < o.id)
			ORDER BY o.id LIMIT ?`
		if tx.D() == store.Postgres {
			q += ` FOR UPDATE OF o SKIP LOCKED`
		}
		rows, err := tx.QueryContext(ctx, q, now, now, n)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r outboxRow
			if err := rows.Scan(&r.id, &r.accountID, &r.agreementID, &r.shareID, &r.kind, &r.method, &r.url, &r.body, &r.attempts); err != nil {
				rows.Close()
				return err
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			if out[i].kind == "update" {
				if err := s.coalesce(ctx, tx, &out[i]); err != nil {
					return err
				}
			}
			for _, id := range out[i].ids() {
				if _, err := tx.ExecContext(ctx, `UPDATE sharing_outbox SET lease_owner = ?, lease_until = ? WHERE id = ?`, s.cfg.Owner, lease, id); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

func (s *Service) deliver(ctx context.Context, row outboxRow) {
	ag, err := GetAgreement(ctx, s.db.R(), idsAccount(row.accountID), row.agreementID)
	if err != nil {
		s.finish(ctx, row, "dead", "agreement no longer exists", 0)
		return
	}
	var body []byte
	if row.body != "" {
		body = []byte(row.body)
	}
	token := ""
	if row.kind != "invite" {
		token = ag.UUID + ":" + ag.AccessKey
	}
	cctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	resp, err := s.transport.Do(cctx, row.method, row.url, token, ag.AccessKey, body)
	cancel()
	if ctx.Err() != nil {
		// Shutting down: leave the row for the next start (its lease expires).
		s.release(row)
		return
	}
	switch outcome(resp, err) {
	case delivered:
		s.finish(ctx, row, "delivered", "", 0)
		// The partner answers again: anything waiting for it can go now.
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sharing_outbox SET next_attempt_at = ? WHERE agreement_id = ? AND status = 'pending' AND attempts > 0`, store.Micros(store.Now()), row.agreementID)
			return err
		})
		if err != nil && ctx.Err() == nil { // at shutdown the rows wait for their backoff instead
			s.log.Error("sharing: retry rows waiting for a partner that answers again", "agreement", row.agreementID, "err", err)
		}
		s.Wake()
	case retry:
		_, reason := failureStatus(resp, err)
		var after time.Duration
		if resp != nil {
			after = resp.RetryAfter
		}
		s.countFailure(row.agreementID)
		delay := s.backoff(row.attempts+1, after)
		s.log.Warn("sharing: delivery failed, will retry", "account", row.accountID, "agreement", row.agreementID,
			"share", row.shareID, "kind", row.kind, "attempt", row.attempts+1, "retry_in", delay.Round(time.Millisecond).String(), "reason", reason)
		s.finish(ctx, row, "pending", reason, delay)
	case fatal:
		_, reason := failureStatus(resp, err)
		s.countFailure(row.agreementID)
		s.log.Error("sharing: delivery failed for good, share marked failed", "account", row.accountID, "agreement", row.agreementID,
			"share", row.shareID, "kind", row.kind, "attempt", row.attempts+1, "reason", reason)
		s.finish(ctx, row, "dead", reason, 0)
		s.markBroken(ctx, row, resp, reason)
	}
}

type result int

const (
	delivered result = iota
	retry
	fatal
)

// outcome classifies a delivery attempt as the peer client's Classify does, so a
// redirect to another host, a TLS failure or a blocked address fails the share at once
// instead of being retried forever.
func outcome(resp *Response, err error) result {
	status := 0
	if resp != nil {
		status = resp.Status
	}
	switch peer.Classify(status, err) {
	case peer.Delivered:
		return delivered
	case peer.Fatal:
		return fatal
	}
	return retry
}

// backoff is exponential with full jitter, never below Retry-After.
func (s *Service) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := s.cfg.BaseBackoff << min(attempt, 20)
	if d <= 0 || d > s.cfg.MaxBackoff {
		d = s.cfg.MaxBackoff
	}
	d = time.Duration(rand.Int64N(int64(d)) + 1)
	if retryAfter > d {
		d = min(retryAfter, time.Hour)
	}
	return d
}

func (s *Service) finish(ctx context.Context, row outboxRow, status, lastErr string, delay time.Duration) {
	// The outcome is recorded even when shutdown starts meanwhile: a delivery that is not
	// recorded is sent again after the restart.
	ctx = context.WithoutCancel(ctx)
	now := store.Now()
	ids := row.ids()
	args := []any{status, lastErr, store.Micros(now.Add(delay)), deliveredAt(status, now)}
	for _, id := range ids {
		args = append(args, id)
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sharing_outbox SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, lease_owner = '', lease_until = 0, delivered_at = ? WHERE id IN (`+store.In(len(ids))+`)`, args...)
		if err == nil && s.cfg.DeliveryChanged != nil && row.shareID != 0 {
			err = s.cfg.DeliveryChanged(ctx, tx, idsAccount(row.accountID), row.shareID)
		}
		return err
	})
	if err != nil {
		s.log.Error("sharing: record delivery", "row", row.id, "err", err)
	}
}

func deliveredAt(status string, now time.Time) int64 {
	if status == "delivered" {
		return store.Micros(now)
	}
	return 0
}

func (s *Service) release(row outboxRow) {
	ctx := context.Background()
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		for _, id := range row.ids() {
			if _, err := tx.ExecContext(ctx, `UPDATE sharing_outbox SET lease_owner = '', lease_until = 0 WHERE id = ? AND status = 'pending'`, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil { // the lease then expires on its own; the row is only late
		s.log.Warn("sharing: release outbox lease", "row", row.id, "err", err)
	}
}

// coalesce adds to row the updates queued right behind it for the same share, and
// merges their bodies into one.
func (s *Service) coalesce(ctx context.Context, tx *store.Tx, row *outboxRow) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, kind, body FROM sharing_outbox WHERE agreement_id = ? AND share_id = ? AND status = 'pending' AND id > ? ORDER BY id LIMIT ?`,
		row.agreementID, row.shareID, row.id, maxCoalesce)
	if err != nil {
		return err
	}
	type queued struct {
		id         int64
		kind, body string
	}
	var next []queued
	for rows.Next() {
		var q queued
		if err := rows.Scan(&q.id, &q.kind, &q.body); err != nil {
			rows.Close()
			return err
		}
		next = append(next, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(next) == 0 {
		return err
	}
	merged, err := wire.DecodeTicket(strings.NewReader(row.body), s.cfg.MaxBody)
	if err != nil {
		return nil // not ours to fix here: deliver it alone
	}
	size := len(row.body)
	for _, q := range next {
		if q.kind != "update" || size+len(q.body) > maxCoalesceBody {
			break // an unshare (or a huge update) keeps its own place in line
		}
		t, err := wire.DecodeTicket(strings.NewReader(q.body), s.cfg.MaxBody)
		if err != nil {
			break
		}
		comments := append(merged.Comments, t.Comments...)
		*merged = *t
		merged.Comments = comments
		size += len(q.body)
		row.more = append(row.more, q.id)
	}
	if len(row.more) == 0 {
		return nil
	}
	body, err := wire.EncodeTicket(merged)
	if err != nil {
		return err
	}
	row.body = string(body)
	return nil
}

// markBroken records a permanent failure where an admin will see it: on the share (and
// its queued updates are cancelled), or on the agreement for agreement messages.
func (s *Service) markBroken(ctx context.Context, row outboxRow, resp *Response, reason string) {
	ctx = context.WithoutCancel(ctx) // recorded even when shutdown starts meanwhile, as in finish
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if row.shareID == 0 {
			ag, err := GetAgreement(ctx, tx, idsAccount(row.accountID), row.agreementID)
			if err != nil {
				return nil
			}
			if ag.Status == Inactive {
				return nil // the partner never heard we deactivated; nothing more to do
			}
			return setAgreementStatus(ctx, tx, ag, Failed, reason, "")
		}
		sh, err := getShare(ctx, tx, row.shareID)
		if err != nil {
			return nil
		}
		if row.kind == "unshare" {
			return nil // the share already ended here
		}
		state := ShareFailed
		if resp != nil && resp.Status == http.StatusGone {
			state = ShareUnshared // the partner closed or unshared its side
		}
		if err := setShareState(ctx, tx, sh, state, reason); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sharing_outbox SET status = 'cancelled', last_error = ? WHERE share_id = ? AND status = 'pending'`, "share "+state+": "+reason, sh.ID)
		return err
	})
	if err != nil {
		s.log.Error("sharing: mark broken", "row", row.id, "err", err)
	}
}

func (s *Service) countFailure(agreement int64) {
	s.mu.Lock()
	s.failures[agreement]++
	s.mu.Unlock()
}

// Failures returns delivery failures per agreement since the process started.
func (s *Service) Failures() map[int64]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int64]int64, len(s.failures))
	for k, v := range s.failures {
		out[k] = v
	}
	return out
}

// OutboxStats reports the queue depth and the age of the oldest pending row.
func (s *Service) OutboxStats(ctx context.Context) (pending int64, oldest time.Duration, err error) {
	var first int64
	err = s.db.R().QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM sharing_outbox WHERE status = 'pending'`).Scan(&pending, &first)
	if first > 0 {
		oldest = time.Since(store.Time(first))
	}
	return pending, oldest, err
}

// Drained reports whether nothing is pending (tests and benchmarks wait on it).
func (s *Service) Drained(ctx context.Context) bool {
	n, _, err := s.OutboxStats(ctx)
	return err == nil && n == 0
}
