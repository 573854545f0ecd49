package jobs_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"tandem/internal/errs"
	"tandem/internal/jobs"
	"tandem/internal/requestid"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

const acct = 1

func newRunner(db *store.DB) *jobs.Runner {
	return jobs.NewRunner(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// finished waits for a job to end and returns it.
func finished(t *testing.T, db *store.DB, id string) *jobs.Status {
	t.Helper()
	var st *jobs.Status
	testkit.Eventually(t, 30*time.Second, "job "+id+" to end", func() bool {
		var err error
		if st, err = jobs.Get(context.Background(), db.R(), acct, id); err != nil {
			t.Fatal(err)
		}
		return jobs.Finished(st.State)
	})
	return st
}

func results(t *testing.T, st *jobs.Status) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(st.Results, &out); err != nil {
		t.Fatalf("results %s: %v", st.Results, err)
	}
	return out
}

// TestItemsComplete: every item runs, a panicking item fails alone, and the job ends
// completed with one result per item.
func TestItemsComplete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRunner(db)
		defer r.Shutdown(context.Background())
		st, err := r.Start(context.Background(), jobs.Spec{Account: acct, User: 1, Type: "bulk_test", Total: 25},
			jobs.Items(25, func(ctx context.Context, i int) map[string]any {
				if i == 7 {
					panic("boom")
				}
				return map[string]any{"index": i, "success": true}
			}))
		if err != nil {
			t.Fatal(err)
		}
		if st.State != jobs.Queued || !strings.HasPrefix(st.ID, "V3-") {
			t.Fatalf("started job: %+v", st)
		}
		st = finished(t, db, st.ID)
		res := results(t, st)
		if st.State != jobs.Completed || st.Progress != 25 || st.Total != 25 || len(res) != 25 || !strings.HasPrefix(st.Message, "Completed at") {
			t.Fatalf("job: %+v with %d results", st, len(res))
		}
		if res[7]["error"] != "InternalError" || res[8]["success"] != true {
			t.Fatalf("results 7 and 8: %v %v", res[7], res[8])
		}
	})
}

// TestShutdownKillsRunningJobs: shutdown cancels a running job's context; the job is
// recorded killed with how far it got and the results so far, and no job starts after.
func TestShutdownKillsRunningJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRunner(db)
		reached := make(chan struct{})
		st, err := r.Start(context.Background(), jobs.Spec{Account: acct, User: 1, Type: "bulk_test", Total: 10},
			jobs.Items(10, func(ctx context.Context, i int) map[string]any {
				if i == 3 {
					close(reached)
					<-ctx.Done()
					return map[string]any{"index": i, "error": "Stopped"}
				}
				return map[string]any{"index": i, "success": true}
			}))
		if err != nil {
			t.Fatal(err)
		}
		<-reached
		if err := r.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, err := jobs.Get(context.Background(), db.R(), acct, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != jobs.Killed || got.Progress != 4 || len(results(t, got)) != 4 || !strings.Contains(got.Message, "after 4 of 10 items") {
			t.Fatalf("killed job: %+v", got)
		}
		_, err = r.Start(context.Background(), jobs.Spec{Account: acct, User: 1, Type: "bulk_test", Total: 1}, jobs.Items(1, nil))
		if errs.CodeOf(err) != errs.Unavailable {
			t.Fatalf("start after shutdown: %v", err)
		}
	})
}

// TestShutdownIsBounded: a job that ignores its context does not hold shutdown past
// its deadline.
func TestShutdownIsBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRunner(db)
		started, release := make(chan struct{}), make(chan struct{})
		if _, err := r.Start(context.Background(), jobs.Spec{Account: acct, User: 1, Type: "bulk_test", Total: 1},
			func(ctx context.Context, j *jobs.Job) jobs.Result {
				close(started)
				<-release
				return jobs.Result{Done: 1}
			}); err != nil {
			t.Fatal(err)
		}
		<-started
		expired, cancel := context.WithCancel(context.Background())
		cancel()
		if err := r.Shutdown(expired); err == nil {
			t.Fatal("shutdown returned before the job ended")
		}
		close(release)
		if err := r.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestExpire: finished jobs older than Keep go; silent running jobs are failed with
// their progress kept; recent ones stay.
func TestExpire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		rows := []struct {
			id, state string
			at        time.Time
			want      string // "" = deleted
		}{
			{"old-done", jobs.Completed, now.Add(-jobs.Keep - time.Hour), ""},
			{"old-killed", jobs.Killed, now.Add(-jobs.Keep - time.Hour), ""},
			{"silent", jobs.Working, now.Add(-jobs.Silence - time.Minute), jobs.Failed},
			{"running", jobs.Working, now.Add(-time.Minute), jobs.Working},
			{"recent-done", jobs.Completed, now.Add(-time.Hour), jobs.Completed},
		}
		err := db.Write(ctx, func(tx *store.Tx) error {
			for _, r := range rows {
				if _, err := tx.ExecContext(ctx, `INSERT INTO job_statuses (id, account_id, user_id, job_type, status, total, progress, created_at, updated_at) VALUES (?, ?, 1, 'bulk_test', ?, 10, 4, ?, ?)`,
					r.id, acct, r.state, store.Micros(r.at), store.Micros(r.at)); err != nil {
					return err
				}
			}
			return jobs.Expire(ctx, tx, now)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			st, err := jobs.Get(ctx, db.R(), acct, r.id)
			if r.want == "" {
				if errs.CodeOf(err) != errs.NotFound {
					t.Errorf("%s: %v, want deleted", r.id, err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.State != r.want || st.Progress != 4 {
				t.Errorf("%s: %s at %d, want %s at 4", r.id, st.State, st.Progress, r.want)
			}
		}
	})
}

// TestJobLogsCarryRequestID: a job's log lines carry the id of the request that
// started it, so that an operator can follow a bulk call from its answer to its items.
func TestJobLogsCarryRequestID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var buf strings.Builder
		var mu sync.Mutex
		log := requestid.Logger(slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return buf.Write(p)
		}), nil)))
		r := jobs.NewRunner(db, log)
		defer r.Shutdown(context.Background())
		ctx := requestid.NewContext(context.Background(), "req-from-client")
		st, err := r.Start(ctx, jobs.Spec{Account: acct, User: 1, Type: "bulk_test", Total: 1},
			jobs.Items(1, func(ctx context.Context, i int) map[string]any { panic("boom") }))
		if err != nil {
			t.Fatal(err)
		}
		finished(t, db, st.ID)
		mu.Lock()
		defer mu.Unlock()
		if out := buf.String(); !strings.Contains(out, "job item panicked") || !strings.Contains(out, "request_id=req-from-client") {
			t.Fatalf("job log: %s", out)
		}
	})
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
