package delivery

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// The head bookkeeping's locks on PostgreSQL (migration 0060): a transaction writing a
// row behind its lane's head takes the lane's advisory lock shared at its commit, before
// it looks for an earlier pending row; a transaction taking the head out of pending takes
// it exclusive before it looks for the next row. Claims take no part in it.

// pgOnly opens a fresh PostgreSQL database, or skips.
func pgOnly(t *testing.T) *store.DB {
	t.Helper()
	if storetest.PostgresURL() == "" {
		t.Skip("PostgreSQL only (row locks); TANDEM_TEST_POSTGRES not set")
	}
	return storetest.Open(t, store.Postgres)
}

// waitsForLock reports whether backend pid waits for a lock now.
func waitsForLock(t *testing.T, db *store.DB, pid int) bool {
	t.Helper()
	var n int
	if err := db.R().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ? AND wait_event_type = 'Lock'`, pid).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func insertRow(t *testing.T, db *store.DB, tb outboxTable, serial int) int64 {
	t.Helper()
	var id int64
	err := db.Write(context.Background(), func(tx *store.Tx) error {
		sql, args := tb.insert(1, 1, serial, 0)
		return tx.QueryRowContext(context.Background(), sql, args...).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func headOf(t *testing.T, db *store.DB, tb outboxTable, id int64) bool {
	t.Helper()
	var head bool
	if err := db.R().QueryRowContext(context.Background(), `SELECT head FROM `+tb.name+` WHERE id = ?`, id).Scan(&head); err != nil {
		t.Fatal(err)
	}
	return head
}

// TestWriterCommitsWhileItsLaneIsClaimed: a row written behind a lane's head commits
// while a claim of that head is still running (the claim's transaction includes the
// client's Prepare: sharing's coalescing of the lane's queued bodies). It used to wait
// for the claim, at its commit, with the ticket it wrote still locked. The row then
// becomes the head when the first is delivered, and is claimed next.
func TestWriterCommitsWhileItsLaneIsClaimed(t *testing.T) {
	for _, tb := range outboxTables {
		t.Run(tb.name, func(t *testing.T) {
			db := pgOnly(t)
			ctx := context.Background()
			first := insertRow(t, db, tb, 1)
			// The first Prepare holds the claim open until release; a run again after a
			// lost deadlock does not block twice. inPrepare is buffered: the claim may
			// reach Prepare before this goroutine waits for it.
			inPrepare, release := make(chan struct{}, 1), make(chan struct{})
			var held atomic.Bool
			q := New(db, Spec[struct{}]{Name: "test", Table: tb.name, Lane: tb.lane,
				Fields: func(*struct{}) []any { return nil },
				Prepare: func(context.Context, *store.Tx, *Job[struct{}]) error {
					if held.CompareAndSwap(false, true) {
						inPrepare <- struct{}{}
						<-release
					}
					return nil
				}}, Config{}, discard())
			claimed := make(chan []Job[struct{}], 1)
			go func() {
				jobs, err := q.claim(ctx, 10)
				if err != nil {
					t.Error(err)
				}
				claimed <- jobs
			}()
			select {
			case <-inPrepare:
			case jobs := <-claimed:
				t.Fatalf("the claim returned %v without preparing row %d", jobs, first)
			}
			var second int64
			pid := make(chan int, 1)
			written := make(chan error, 1)
			go func() {
				written <- db.Write(ctx, func(tx *store.Tx) error {
					var p int
					if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&p); err != nil {
						return err
					}
					pid <- p
					sql, args := tb.insert(1, 1, 2, 0)
					return tx.QueryRowContext(ctx, sql, args...).Scan(&second)
				})
			}()
			writer := <-pid
		wait:
			for {
				select {
				case err := <-written:
					if err != nil {
						t.Fatal(err)
					}
					break wait
				default:
				}
				if waitsForLock(t, db, writer) {
					close(release)
					<-written
					t.Fatal("the writer's commit waits for the claim of its lane's head")
				}
				time.Sleep(time.Millisecond) // waiting on the condition, not for a time
			}
			close(release)
			jobs := <-claimed
			if len(jobs) != 1 || jobs[0].ID != first {
				t.Fatalf("claim returned %v, want row %d alone", jobs, first)
			}
			if headOf(t, db, tb, second) {
				t.Fatal("the row behind a pending head is marked head")
			}
			q.finish(ctx, jobs[0], "delivered", "", 0)
			if !headOf(t, db, tb, second) {
				t.Fatal("the row behind the delivered head is not its lane's head")
			}
			jobs, err := q.claim(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != 1 || jobs[0].ID != second {
				t.Fatalf("second claim returned %v, want row %d", jobs, second)
			}
		})
	}
}

// TestHeadLeavesWhileAWriterCommits: the writer's commit-time check has found the head
// pending (so its new row is not a head), and before the writer commits an outcome
// takes the head out of pending. The outcome must wait for the writer's commit before it
// looks for the lane's next row, and so find and mark the new row; otherwise the lane
// would stop with a pending row no claim ever reads.
func TestHeadLeavesWhileAWriterCommits(t *testing.T) {
	for _, tb := range outboxTables {
		t.Run(tb.name, func(t *testing.T) {
			db := pgOnly(t)
			ctx := context.Background()
			q := testQueue(db, tb, nil)
			first := insertRow(t, db, tb, 1)
			jobs, err := q.claim(ctx, 10)
			if err != nil || len(jobs) != 1 {
				t.Fatalf("claim: %v, %v", jobs, err)
			}
			var second int64
			checked, commit := make(chan struct{}), make(chan struct{})
			written := make(chan error, 1)
			go func() {
				written <- db.Write(ctx, func(tx *store.Tx) error {
					sql, args := tb.insert(1, 1, 2, 0)
					if err := tx.QueryRowContext(ctx, sql, args...).Scan(&second); err != nil {
						return err
					}
					// Run the commit-time check now, in the open transaction.
					if _, err := tx.ExecContext(ctx, `SET CONSTRAINTS ALL IMMEDIATE`); err != nil {
						return err
					}
					close(checked)
					<-commit
					return nil
				})
			}()
			<-checked
			finished := make(chan struct{})
			go func() {
				q.finish(ctx, jobs[0], "delivered", "", 0)
				close(finished)
			}()
			// The outcome waits for the writer (or, had it not, is done already).
			for {
				var waiting int
				if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
				select {
				case <-finished:
				default:
					if waiting == 0 {
						time.Sleep(time.Millisecond) // waiting on the condition, not for a time
						continue
					}
				}
				break
			}
			close(commit)
			if err := <-written; err != nil {
				t.Fatal(err)
			}
			<-finished
			if !headOf(t, db, tb, second) {
				t.Fatalf("row %d, written behind head %d while it was delivered, is not its lane's head", second, first)
			}
		})
	}
}
