// Package delivery is Tandem's one durable outbox: work that must leave the server
// (protocol calls to sharing partners, mail to a relay, later webhooks) is written as a
// row in the same transaction as the change that causes it, and a Queue's worker
// delivers the rows after commit.
//
// Every outbox table has the same delivery columns (id, account_id, status, attempts,
// next_attempt_at, lease_owner, lease_until, last_error, created_at, delivered_at) plus
// its client's own: the lane columns that order it and the payload. The worker design is
// the same for every client:
//
//   - rows of one lane (a share, a ticket's mail) go out in order, one at a time;
//     different lanes go out in parallel, up to Config.Workers at once;
//   - rows are claimed with a lease (and FOR UPDATE SKIP LOCKED on PostgreSQL), so with
//     several processes each row is delivered by one process at a time, and a row whose
//     process died is claimable again once its lease expires;
//   - a claim reads only lane heads: every outbox table has a head column, kept by its
//     triggers (migration 0033) in the transaction that writes its rows, and a partial
//     index <table>_heads of the pending heads by due time, so a claim costs the heads
//     due, not the backlog behind them. A new outbox table needs the column, the index
//     and the triggers, on its Lane columns;
//   - a transient failure is retried with exponential backoff and full jitter, capped by
//     Config.MaxBackoff and never sooner than the remote's Retry-After; a permanent one
//     marks the row dead with the remote's answer, for the client to show (Settled);
//   - the outcome is recorded even when shutdown starts meanwhile, and a delivery cut
//     short by shutdown is released for the next start;
//   - the queue's own transactions (claims, outcomes, deferrals, releases) are run again
//     when PostgreSQL ends them to break a deadlock or a serialization failure
//     (store.WriteRetry): an outcome that lost one would otherwise leave its rows leased
//     until the lease expires. So Prepare and Recorded must be safe to run again: write
//     through tx only (or register with tx.AfterCommit), and change the job alone.
//
// Statuses: pending (waiting or retrying), delivered, dead (given up), cancelled (the
// client withdrew it), kept (accepted but not sent: mail with no relay configured).
package delivery

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tandem/internal/store"
)

// Outcome is what became of one delivery attempt.
type Outcome int

const (
	// Delivered: the remote took it.
	Delivered Outcome = iota
	// Retry: a transient failure (network, timeout, 4xx SMTP, 5xx HTTP); try again later.
	Retry
	// Fatal: a permanent failure; the row is dead and the client's Settled shows it.
	Fatal
	// Kept: accepted locally and not sent (no relay configured); final.
	Kept
	// Deferred: no attempt was made (the client's circuit breaker is open, or its
	// endpoint has enough calls in flight); the row waits RetryAfter, without backoff,
	// and its attempts are not counted.
	Deferred
)

// Result is the outcome of one delivery attempt as the client's Deliver reports it.
type Result struct {
	Outcome Outcome
	// Reason is the remote's answer or the error, recorded as the row's last_error.
	Reason string
	// Status is the remote's status code (HTTP or SMTP), 0 when none.
	Status int
	// RetryAfter is the remote's asked-for wait before a retry.
	RetryAfter time.Duration
}

// Job is one claimed row: the delivery columns the queue reads and the client's item.
type Job[T any] struct {
	ID, AccountID int64
	// Attempts made before this one.
	Attempts int
	// More are later rows of the same lane that this delivery also stands for (a client
	// may merge them in Prepare); they get the same outcome.
	More []int64
	Item T
}

// IDs are every row the job stands for.
func (j Job[T]) IDs() []int64 { return append([]int64{j.ID}, j.More...) }

// Spec describes one client's outbox table and how its rows are delivered.
type Spec[T any] struct {
	// Name prefixes log lines ("sharing", "mail").
	Name string
	// Table is the outbox table, with the delivery columns.
	Table string
	// Lane names the columns whose values order rows: rows with equal values go out one
	// at a time, oldest first.
	Lane []string
	// Columns are the client's columns read into the item, in the order Fields returns
	// pointers for them.
	Columns []string
	Fields  func(item *T) []any
	// Prepare, if set, runs in the claim transaction for each claimed job (to merge the
	// rows queued behind it into Job.More). It may run more than once for a claim (a
	// claim that lost a deadlock is run again): write through tx only.
	Prepare func(ctx context.Context, tx *store.Tx, job *Job[T]) error
	// Deliver makes one attempt. Its context ends after Config.Timeout or at shutdown; a
	// result returned after shutdown started is discarded and the row released.
	Deliver func(ctx context.Context, job Job[T]) Result
	// Recorded, if set, runs in the transaction that records an attempt's outcome (status
	// is the row's new status), so what the client derives from it commits with it. On
	// PostgreSQL the row's update is left to ride with its first statement (store.Tx.Ride):
	// a statement that carries riders must not read the queue's table. It may run more
	// than once for an outcome (see WriteRetry): write through tx only.
	Recorded func(ctx context.Context, tx *store.Tx, job Job[T], status string) error
	// Settled, if set, runs after the outcome is recorded (to show a permanent failure,
	// or to hurry rows waiting for a remote that answers again).
	Settled func(ctx context.Context, job Job[T], res Result)
	// LogAttrs, if set, adds the client's identifiers to log lines about a job.
	LogAttrs func(job Job[T]) []any
}

// Config tunes a queue. A zero field takes its default.
type Config struct {
	// Workers is how many deliveries run at once (default 16).
	Workers int
	// BaseBackoff is the first retry delay (default 500 ms).
	BaseBackoff time.Duration
	// MaxBackoff caps the retry delay (default 5 minutes).
	MaxBackoff time.Duration
	// Timeout bounds one attempt (default 30 s); a lease outlives it by 10 s, so a row
	// whose process died mid-attempt is claimable again soon after.
	Timeout time.Duration
	// Owner names this process in leases.
	Owner string
}

// Queue delivers one outbox table.
type Queue[T any] struct {
	db   *store.DB
	spec Spec[T]
	cfg  Config
	log  *slog.Logger
	wake chan struct{}
	// claims counts claim transactions (benchmarks set them against deliveries).
	claims atomic.Int64
	// later is set while a WakeLater timer is pending; laterAfter is the highest claim
	// count a WakeLater call saw: its timer wakes the worker unless a claim started
	// since.
	later      atomic.Bool
	laterAfter atomic.Int64
}

// New returns a queue for the spec; Run delivers it.
func New[T any](db *store.DB, spec Spec[T], cfg Config, log *slog.Logger) *Queue[T] {
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Owner == "" {
		cfg.Owner = strconv.FormatInt(rand.Int64(), 36)
	}
	return &Queue[T]{db: db, spec: spec, cfg: cfg, log: log, wake: make(chan struct{}, 1)}
}

// Wake tells the worker there is work (after a commit that queued rows).
func (q *Queue[T]) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// WakeLater wakes the worker after d unless a claim starts meanwhile: for a writer whose
// row was queued behind its lane's head. That head's outcome makes the row the head and
// wakes its own worker, so a wake now would claim nothing; but when the outcome commits
// between the row's insert and its commit, the row becomes the head at its commit
// (the head triggers, migration 0060), possibly after the outcome's claim read the
// heads, and only a claim that starts after the writer's commit finds it at once. Calls
// made before the timer fires share it.
func (q *Queue[T]) WakeLater(d time.Duration) {
	seen := q.claims.Load()
	for {
		cur := q.laterAfter.Load()
		if seen <= cur || q.laterAfter.CompareAndSwap(cur, seen) {
			break
		}
	}
	if !q.later.CompareAndSwap(false, true) {
		return
	}
	time.AfterFunc(d, func() {
		q.later.Store(false)
		if q.claims.Load() <= q.laterAfter.Load() {
			q.Wake()
		}
	})
}

// Run delivers the queue until ctx ends.
func (q *Queue[T]) Run(ctx context.Context) {
	if q.db.Dialect == store.SQLite {
		// One process owns an SQLite file: a lease found at start is from a process that
		// died mid-delivery. Release it now rather than wait for it to expire, since the
		// rest of its lane waits behind it. Once per table and database handle: a second
		// queue of the table in this process must not free the first one's leases.
		q.db.Once("delivery: release leases of "+q.spec.Table, func() {
			err := q.db.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE `+q.spec.Table+` SET lease_owner = '', lease_until = 0 WHERE status = 'pending' AND lease_until > 0`)
				return err
			})
			if err != nil && ctx.Err() == nil {
				q.log.Error(q.spec.Name+": release stale leases", "err", err)
			}
		})
	}
	sem := make(chan struct{}, q.cfg.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	limit := q.cfg.Workers * 4
	for {
		jobs, err := q.claim(ctx, limit)
		if err != nil && ctx.Err() == nil {
			q.log.Error(q.spec.Name+": claim outbox", "err", err)
		}
		for _, job := range jobs {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				q.deliver(ctx, job)
			}()
		}
		if len(jobs) == limit {
			continue // the claim stopped at its limit: more heads may be due right away
		}
		// A claim that took fewer than its limit took every due head it could lock; the
		// rows behind them wait for their deliveries, which wake the worker when they
		// finish. Claiming again at once (as every claim that found a row did until
		// branch pgsh9) found nothing in almost every case, on PostgreSQL a transaction
		// and a walk of the heads index per delivery; nextDue below still finds a head
		// that another process queued, or that a concurrent claim or outcome held, and
		// a Wake sent meanwhile makes the wait below return at once.
		timer.Reset(q.nextDue(ctx))
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
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

// nextDue is how long until the earliest lane head not in flight is due (at most a
// second, so that rows written by other processes are found without a wake-up). Rows
// behind a head in flight are not due, however old: the delivery that finishes the head
// wakes the worker.
func (q *Queue[T]) nextDue(ctx context.Context) time.Duration {
	var next int64
	from := q.spec.Table
	if q.db.Dialect == store.SQLite {
		from += ` INDEXED BY ` + q.spec.Table + `_heads`
	}
	_ = q.db.R().QueryRowContext(ctx, `SELECT COALESCE(MIN(next_attempt_at), 0) FROM `+from+` WHERE status = 'pending' AND head AND lease_until < ?`,
		store.Micros(store.Now())).Scan(&next)
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

// claim leases up to n due rows, each the oldest pending row of its lane.
//
// It reads lane heads only (the head column, kept by each outbox table's triggers, see
// migration 0033), from the partial index <table>_heads: its cost grows with the number
// of due heads, not with the backlog behind them. The check that no earlier row of the
// lane is pending stays, for the one case where a lane has two heads: two transactions
// on PostgreSQL inserting into an empty lane at once.
func (q *Queue[T]) claim(ctx context.Context, n int) ([]Job[T], error) {
	now := store.Micros(store.Now())
	lease := store.Micros(store.Now().Add(q.cfg.Timeout + 10*time.Second))
	cols := "o.id, o.account_id, o.attempts"
	for _, c := range q.spec.Columns {
		cols += ", o." + c
	}
	same := make([]string, len(q.spec.Lane))
	for i, c := range q.spec.Lane {
		same[i] = "p." + c + " = o." + c
	}
	var out []Job[T]
	q.claims.Add(1)
	err := q.db.WriteRetry(ctx, func(tx *store.Tx) error {
		out = out[:0] // a run again after a lost deadlock starts over
		from := q.spec.Table + ` o`
		if tx.D() == store.SQLite {
			// The table's (status, next_attempt_at) index also answers this query, by
			// walking every pending row: name the one that reads heads only.
			from += ` INDEXED BY ` + q.spec.Table + `_heads`
		}
		sql := `SELECT ` + cols + ` FROM ` + from + `
			WHERE o.status = 'pending' AND o.head AND o.next_attempt_at <= ? AND o.lease_until < ?
			AND NOT EXISTS (SELECT 1 FROM ` + q.spec.Table + ` p WHERE p.status = 'pending' AND ` + strings.Join(same, " AND ") + ` AND p.id < o.id)
			ORDER BY o.next_attempt_at, o.id LIMIT ?`
		if tx.D() == store.Postgres {
			sql += ` FOR UPDATE OF o SKIP LOCKED`
		}
		rows, err := tx.QueryContext(ctx, sql, now, now, n)
		if err != nil {
			return err
		}
		for rows.Next() {
			var j Job[T]
			dest := append([]any{&j.ID, &j.AccountID, &j.Attempts}, q.spec.Fields(&j.Item)...)
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return err
			}
			out = append(out, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ids := make([]any, 0, len(out))
		for i := range out {
			if q.spec.Prepare != nil {
				if err := q.spec.Prepare(ctx, tx, &out[i]); err != nil {
					return err
				}
			}
			for _, id := range out[i].IDs() {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE `+q.spec.Table+` SET lease_owner = ?, lease_until = ? WHERE id IN (`+store.In(len(ids))+`)`,
			append([]any{q.cfg.Owner, lease}, ids...)...)
		return err
	})
	return out, err
}

func (q *Queue[T]) deliver(ctx context.Context, job Job[T]) {
	cctx, cancel := context.WithTimeout(ctx, q.cfg.Timeout)
	res := q.spec.Deliver(cctx, job)
	cancel()
	if ctx.Err() != nil {
		// Shutting down: leave the row for the next start.
		q.release(job)
		return
	}
	attrs := []any{"account", job.AccountID, "attempt", job.Attempts + 1}
	if q.spec.LogAttrs != nil {
		attrs = append(attrs, q.spec.LogAttrs(job)...)
	}
	switch res.Outcome {
	case Delivered:
		q.finish(ctx, job, "delivered", "", 0)
	case Kept:
		q.finish(ctx, job, "kept", "", 0)
	case Retry:
		delay := q.backoff(job.Attempts+1, res.RetryAfter)
		q.log.Warn(q.spec.Name+": delivery failed, will retry", append(attrs, "retry_in", delay.Round(time.Millisecond).String(), "reason", res.Reason)...)
		q.finish(ctx, job, "pending", res.Reason, delay)
	case Fatal:
		q.log.Error(q.spec.Name+": delivery failed for good", append(attrs, "reason", res.Reason)...)
		q.finish(ctx, job, "dead", res.Reason, 0)
	case Deferred:
		q.deferJob(ctx, job, res.RetryAfter)
		return // nothing happened that the client need settle
	}
	if q.spec.Settled != nil {
		q.spec.Settled(ctx, job, res)
	}
}

// backoff is exponential with full jitter, never below Retry-After.
func (q *Queue[T]) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := q.cfg.BaseBackoff << min(attempt, 20)
	if d <= 0 || d > q.cfg.MaxBackoff {
		d = q.cfg.MaxBackoff
	}
	d = time.Duration(rand.Int64N(int64(d)) + 1)
	if retryAfter > d {
		d = min(retryAfter, time.Hour)
	}
	return d
}

// finish records the outcome of a job.
func (q *Queue[T]) finish(ctx context.Context, job Job[T], status, lastErr string, delay time.Duration) {
	// The outcome is recorded even when shutdown starts meanwhile: a delivery that is not
	// recorded is sent again after the restart.
	ctx = context.WithoutCancel(ctx)
	now := store.Now()
	var at int64
	if status == "delivered" || status == "kept" {
		at = store.Micros(now)
	}
	ids := job.IDs()
	args := []any{status, lastErr, store.Micros(now.Add(delay)), at}
	for _, id := range ids {
		args = append(args, id)
	}
	err := q.db.WriteRetry(ctx, func(tx *store.Tx) error {
		// On PostgreSQL the row's update rides with the client's first statement (the
		// sharing outbox's live event: one round trip for both) or, when the client
		// writes nothing, runs at the commit (store.Tx.Ride). Either way it is the last
		// thing the transaction does when the client's part is one statement: a head
		// leaving pending takes its lane's lock (migration 0060), which a transaction
		// writing to the lane waits for at its commit, so it is held for that statement
		// and the commit alone. On SQLite the update runs now.
		err := tx.Ride(ctx, `UPDATE `+q.spec.Table+` SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, lease_owner = '', lease_until = 0, delivered_at = ? WHERE id IN (`+store.In(len(ids))+`)`, args...)
		if err != nil || q.spec.Recorded == nil {
			return err
		}
		return q.spec.Recorded(ctx, tx, job, status)
	})
	if err != nil {
		q.log.Error(q.spec.Name+": record delivery", "row", job.ID, "err", err)
	}
	// The lane's next row is its head now, or this row waits for a retry: either may be
	// due before the worker would look again.
	q.Wake()
}

// deferJob puts a job back for later without counting an attempt.
func (q *Queue[T]) deferJob(ctx context.Context, job Job[T], wait time.Duration) {
	ctx = context.WithoutCancel(ctx)
	ids := job.IDs()
	args := []any{store.Micros(store.Now().Add(wait))}
	for _, id := range ids {
		args = append(args, id)
	}
	err := q.db.WriteRetry(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE `+q.spec.Table+` SET next_attempt_at = ?, lease_owner = '', lease_until = 0 WHERE status = 'pending' AND id IN (`+store.In(len(ids))+`)`, args...)
		return err
	})
	if err != nil { // the lease then expires on its own; the row is only late
		q.log.Warn(q.spec.Name+": defer outbox row", "row", job.ID, "err", err)
	}
	q.Wake() // the worker's next look may be later than the wait asked
}

func (q *Queue[T]) release(job Job[T]) {
	ctx := context.Background()
	ids := job.IDs()
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	err := q.db.WriteRetry(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE `+q.spec.Table+` SET lease_owner = '', lease_until = 0 WHERE status = 'pending' AND id IN (`+store.In(len(ids))+`)`, args...)
		return err
	})
	if err != nil { // the lease then expires on its own; the row is only late
		q.log.Warn(q.spec.Name+": release outbox lease", "row", job.ID, "err", err)
	}
}

// Stats reports the queue depth and the age of the oldest pending row, over all accounts
// (for metrics).
func (q *Queue[T]) Stats(ctx context.Context) (pending int64, oldest time.Duration, err error) {
	var first int64
	err = q.db.R().QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM `+q.spec.Table+` WHERE status = 'pending'`).Scan(&pending, &first)
	if first > 0 {
		oldest = time.Since(store.Time(first))
	}
	return pending, oldest, err
}

// Drained reports whether nothing is pending (tests and benchmarks wait on it).
func (q *Queue[T]) Drained(ctx context.Context) bool {
	n, _, err := q.Stats(ctx)
	return err == nil && n == 0
}

// Claims is how many claim transactions the worker has run.
func (q *Queue[T]) Claims() int64 { return q.claims.Load() }

// Table is the queue's outbox table.
func (q *Queue[T]) Table() string { return q.spec.Table }
