// Package jobs runs Tandem's background jobs (the API's bulk endpoints and the CSV
// imports) and records them in job_statuses: the call that starts a job answers at
// once, the work runs in this process, and its progress is stored so that any server
// process can answer "how far is it?" (GET /api/v2/job_statuses/{id}, the import page).
//
// A job runs in the process that accepted it. At shutdown the server cancels the jobs'
// context and waits, for a bounded time, for each to record how far it got ("killed").
// A job whose process died without a word is marked failed by Expire.
package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/requestid"
	"tandem/internal/store"
)

// The states of a job, as Zendesk's job statuses name them.
const (
	Queued    = "queued"
	Working   = "working"
	Completed = "completed"
	Failed    = "failed"
	// Killed is a job stopped by a shutdown; its progress says how far it got.
	Killed = "killed"
)

// Finished reports whether a job in state will not change any more.
func Finished(state string) bool { return state == Completed || state == Failed || state == Killed }

// Status is a job as recorded.
type Status struct {
	ID      string
	Account ids.Account
	Type    string
	State   string
	// Total is the number of items (an estimate until an import has read its file).
	Total    int64
	Progress int64
	Message  string
	// Results is the JSON array of per-item results (nil until the job ends).
	Results   json.RawMessage
	CreatedAt time.Time
	// User is who started the job.
	User ids.User
}

// Cols are the job_statuses columns Scan reads, in its order.
const Cols = `id, account_id, job_type, status, total, progress, message, results, created_at, user_id`

// Scan reads a row of Cols.
func Scan(row interface{ Scan(...any) error }) (*Status, error) {
	var st Status
	var total, progress sql.NullInt64
	var message, results sql.NullString
	var created int64
	if err := row.Scan(&st.ID, &st.Account, &st.Type, &st.State, &total, &progress, &message, &results, &created, &st.User); err != nil {
		return nil, err
	}
	st.Total, st.Progress, st.Message, st.CreatedAt = total.Int64, progress.Int64, message.String, store.Time(created)
	if results.Valid {
		st.Results = json.RawMessage(results.String)
	}
	return &st, nil
}

// Get returns a job of the account (NotFound if it has none of that id).
func Get(ctx context.Context, q store.Queryer, acct ids.Account, id string) (*Status, error) {
	st, err := Scan(q.QueryRowContext(ctx, `SELECT `+Cols+` FROM job_statuses WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("There is no job %q.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: get: %w", err)
	}
	return st, nil
}

// Spec describes a job to start.
type Spec struct {
	Account ids.Account
	User    ids.User
	// Type names the job (bulk_create_tickets, import_users, ...).
	Type string
	// Total is the number of items, or an estimate the work corrects with Progress.
	Total int
}

// Result is how a job's work ended.
type Result struct {
	// Results are stored as the job's JSON results (nil: none).
	Results any
	// Done is how many items were processed.
	Done int
	// Total, when positive, replaces the recorded total.
	Total int
	// Failed, when not empty, says to the user why the job failed.
	Failed string
	// Note is added to the final message (warnings).
	Note string
}

// Work does a job. ctx ends when the server shuts down: the work then stops soon and
// returns what it did.
type Work func(ctx context.Context, j *Job) Result

// Job is a running job, as its work sees it.
type Job struct {
	r    *Runner
	id   string
	acct ids.Account
	log  *slog.Logger
	// requestID is the id of the request that started the job: its log lines carry it.
	requestID string
}

// ID is the job's id.
func (j *Job) ID() string { return j.id }

// Log is the runner's logger with the job's id. Lines logged with the job's context
// (Log().ErrorContext(ctx, ...)) also carry the id of the request that started it.
func (j *Job) Log() *slog.Logger { return j.log }

// Progress records that done of total items are processed.
func (j *Job) Progress(ctx context.Context, done, total int) {
	err := j.r.set(ctx, j.acct, j.id, Working, done, total, fmt.Sprintf("Completed %d of %d", done, total), nil)
	// When ctx ends the job is about to record that it was killed, with its progress.
	if err != nil && ctx.Err() == nil {
		j.log.ErrorContext(ctx, "job progress", "err", err)
	}
}

// finishTimeout bounds the write that records how a job ended, which runs even when
// the job's context has ended.
const finishTimeout = 10 * time.Second

// Runner runs jobs in this process.
type Runner struct {
	db  *store.DB
	log *slog.Logger
	// ctx is the parent of every job's context; Shutdown cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	stopping bool
	running  sync.WaitGroup
}

// NewRunner returns a runner writing to db.
func NewRunner(db *store.DB, log *slog.Logger) *Runner {
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{db: db, log: log, ctx: ctx, cancel: cancel}
}

// ErrStopping is returned by Start once the server is shutting down.
var ErrStopping = errs.E(errs.Unavailable, "The server is shutting down; start the job again in a moment.")

// Start records a queued job and runs work in the background. ctx is the starting
// request's; the job outlives it. It returns the job as recorded.
func (r *Runner) Start(ctx context.Context, spec Spec, work Work) (*Status, error) {
	r.mu.Lock()
	if r.stopping {
		r.mu.Unlock()
		return nil, ErrStopping
	}
	r.running.Add(1)
	r.mu.Unlock()
	var b [16]byte
	_, _ = rand.Read(b[:])
	now := store.Now()
	st := &Status{ID: "V3-" + hex.EncodeToString(b[:]), Account: spec.Account, Type: spec.Type, State: Queued, Total: int64(spec.Total), CreatedAt: now}
	err := r.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO job_statuses (id, account_id, user_id, job_type, status, total, progress, message, results, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, NULL, NULL, ?, ?)`,
			st.ID, spec.Account, spec.User, spec.Type, Queued, spec.Total, store.Micros(now), store.Micros(now))
		return err
	})
	if err != nil {
		r.running.Done()
		return nil, fmt.Errorf("jobs: record %s: %w", spec.Type, err)
	}
	j := &Job{r: r, id: st.ID, acct: spec.Account, log: r.log.With("job", st.ID, "job_type", spec.Type), requestID: requestid.FromContext(ctx)}
	go func() {
		defer r.running.Done()
		r.run(j, spec.Total, work)
	}()
	return st, nil
}

func (r *Runner) run(j *Job, total int, work Work) {
	ctx := requestid.NewContext(r.ctx, j.requestID)
	j.Progress(ctx, 0, total)
	res := func() (res Result) {
		defer func() {
			if p := recover(); p != nil {
				j.log.ErrorContext(ctx, "job panicked", "panic", p)
				res = Result{Failed: "The job stopped on an unexpected failure. Items up to the progress shown were processed."}
			}
		}()
		return work(ctx, j)
	}()
	if res.Total > 0 {
		total = res.Total
	}
	state, message := Completed, "Completed at "+store.Now().Format("2006-01-02 15:04:05 +0000")
	switch {
	case ctx.Err() != nil:
		state = Killed
		message = fmt.Sprintf("Stopped when the server shut down, after %d of %d items. Items up to the progress shown were processed; run the rest again.", res.Done, total)
	case res.Failed != "":
		state, message = Failed, res.Failed
	}
	if res.Note != "" {
		message += " " + res.Note
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if err := r.set(fctx, j.acct, j.id, state, res.Done, total, message, res.Results); err != nil {
		j.log.ErrorContext(fctx, "job end", "state", state, "err", err)
	}
}

// set records a job's state.
func (r *Runner) set(ctx context.Context, acct ids.Account, id, state string, done, total int, message string, results any) error {
	var res any
	if results != nil {
		b, err := json.Marshal(results)
		if err != nil {
			return fmt.Errorf("jobs: results: %w", err)
		}
		res = string(b)
	}
	return r.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE job_statuses SET status = ?, progress = ?, total = ?, message = ?, results = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
			state, done, total, message, res, store.Micros(store.Now()), acct, id)
		return err
	})
}

// Shutdown stops taking jobs, cancels the running ones and waits until each has
// recorded how far it got, or until ctx ends.
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.stopping = true
	r.mu.Unlock()
	r.cancel()
	done := make(chan struct{})
	go func() {
		r.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jobs: shutdown: %w", ctx.Err())
	}
}

// ProgressEvery is how often Items records progress, in items.
const ProgressEvery = 10

// Items is the work of a job over n items done one by one, each in its own
// transaction so that a bad item never stops or corrupts the rest: do returns item
// i's result entry (Zendesk's job results). It stops between items when ctx ends.
func Items(n int, do func(ctx context.Context, i int) map[string]any) Work {
	return func(ctx context.Context, j *Job) Result {
		results := make([]map[string]any, 0, n)
		for i := 0; i < n && ctx.Err() == nil; i++ {
			results = append(results, item(ctx, j, i, do))
			if (i+1)%ProgressEvery == 0 && i+1 < n {
				j.Progress(ctx, i+1, n)
			}
		}
		return Result{Results: results, Done: len(results)}
	}
}

// item runs one item; a panic fails the item, not the job.
func item(ctx context.Context, j *Job, i int, do func(ctx context.Context, i int) map[string]any) (r map[string]any) {
	defer func() {
		if p := recover(); p != nil {
			j.log.ErrorContext(ctx, "job item panicked", "index", i, "panic", p)
			r = map[string]any{"index": i, "error": "InternalError", "details": "unexpected failure"}
		}
	}()
	return do(ctx, i)
}

// Retention of job statuses.
const (
	// Keep is how long a finished job stays readable.
	Keep = 7 * 24 * time.Hour
	// Silence is how long a queued or working job may go without progress before
	// Expire decides its process is gone (a job records progress after every few items).
	Silence = 10 * time.Minute
)

// abandoned is the message of a job Expire marks failed.
const abandoned = "Interrupted: the server running this job stopped. Items up to the progress shown were processed; run the rest again."

// Expire deletes jobs finished more than Keep ago, and marks failed, with how far they
// got, the jobs silent for Silence: their process died (a crash, a deploy) and would
// otherwise leave them "working" for ever, with clients polling them.
func Expire(ctx context.Context, tx *store.Tx, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM job_statuses WHERE status IN (?, ?, ?) AND updated_at < ?`,
		Completed, Failed, Killed, store.Micros(now.Add(-Keep))); err != nil {
		return fmt.Errorf("jobs: delete finished: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE job_statuses SET status = ?, message = ?, updated_at = ? WHERE status IN (?, ?) AND updated_at < ?`,
		Failed, abandoned, store.Micros(now), Queued, Working, store.Micros(now.Add(-Silence))); err != nil {
		return fmt.Errorf("jobs: expire silent: %w", err)
	}
	return nil
}
