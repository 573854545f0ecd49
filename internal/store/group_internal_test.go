package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// TestBatchRunsPlainThenGuarded: a batch whose writes all succeed runs without
// savepoints (no SAVEPOINT or RELEASE among the writer's statements); a batch in which
// one write fails is rolled back whole and run again with savepoints, so the failing
// write leaves nothing behind, the others commit once with their after-commit callbacks
// called once, and the next batches keep their savepoints.
func TestBatchRunsPlainThenGuarded(t *testing.T) {
	ctx := context.Background()
	db := tempDB(t)
	insert := func(tx *Tx, sub string) error { return insertAccount(ctx, tx, sub) }
	// batch queues n writes behind a write that holds the committer, then lets them run
	// as one batch; write fail (if >= 0) returns an error after its insert.
	batch := func(prefix string, n, fail int) (errs []error, runs, callbacks []int) {
		t.Helper()
		runs, callbacks = make([]int, n), make([]int, n)
		var mu sync.Mutex
		writes := make([]func(*Tx) error, n)
		for i := range writes {
			writes[i] = func(tx *Tx) error {
				mu.Lock()
				runs[i]++
				mu.Unlock()
				if err := insert(tx, fmt.Sprintf("%s-%d", prefix, i)); err != nil {
					return err
				}
				tx.AfterCommit(func() {
					mu.Lock()
					callbacks[i]++
					mu.Unlock()
				})
				if i == fail {
					return errors.New("refused")
				}
				return nil
			}
		}
		errs = holdThenRun(t, db, func(tx *Tx) error { return insert(tx, prefix+"-held") }, writes)
		return errs, runs, callbacks
	}
	count := func(prefix string) int {
		var n int
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE subdomain LIKE ?`, prefix+"-%").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// All succeed: one run each, no savepoint statements (10 inserts, the held write's 1).
	before := db.written.Load()
	errs, runs, callbacks := batch("a", 10, -1)
	for i := range errs {
		if errs[i] != nil || runs[i] != 1 || callbacks[i] != 1 {
			t.Fatalf("write %d: err %v, %d runs, %d callbacks", i, errs[i], runs[i], callbacks[i])
		}
	}
	if got := db.written.Load() - before; got != 11 {
		t.Fatalf("writer ran %d statements for 11 single-insert writes, want 11 (no savepoints)", got)
	}
	if n := count("a"); n != 11 {
		t.Fatalf("%d rows, want 11", n)
	}

	// One fails: it alone fails; the others commit once (those ahead of it in the batch
	// having run twice).
	errs, runs, callbacks = batch("b", 10, 4)
	for i := range errs {
		if (i == 4) != (errs[i] != nil) {
			t.Fatalf("write %d: err %v", i, errs[i])
		}
		if i == 4 && runs[i] != 2 || runs[i] < 1 || runs[i] > 2 {
			t.Fatalf("write %d ran %d times", i, runs[i])
		}
		if i == 4 && callbacks[i] != 0 || i != 4 && callbacks[i] != 1 {
			t.Fatalf("write %d: %d after-commit callbacks", i, callbacks[i])
		}
	}
	if n := count("b"); n != 10 {
		t.Fatalf("%d rows, want 10 (the failed write's insert undone)", n)
	}
	var leaked int
	if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE subdomain = 'b-4'`).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("failed write left %d rows (%v)", leaked, err)
	}
	if db.guarded != guardedBatches {
		t.Fatalf("guarded = %d after a failed batch, want %d", db.guarded, guardedBatches)
	}

	// The next batch keeps its savepoints: a SAVEPOINT and a RELEASE around each write.
	before = db.written.Load()
	if errs, _, _ = batch("c", 5, -1); errors.Join(errs...) != nil {
		t.Fatal(errors.Join(errs...))
	}
	if got := db.written.Load() - before; got != 6+2*5 {
		t.Fatalf("writer ran %d statements, want %d", got, 6+2*5)
	}
}

// TestWritesCommittedAloneCounted: the store counts the commits of a single write
// (/debug/store's "writes committed alone", which createcost reports as a share of the
// creates): writes one after the other each commit alone; writes queued behind a write
// that holds the committer commit together, and only the holding one counts.
func TestWritesCommittedAloneCounted(t *testing.T) {
	ctx := context.Background()
	db := tempDB(t)
	insert := func(tx *Tx, sub string) error { return insertAccount(ctx, tx, sub) }
	alone := func() int64 {
		t.Helper()
		m, err := db.Memory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m.Alone
	}
	a0 := alone()
	for i := range 3 {
		if err := db.Write(ctx, func(tx *Tx) error { return insert(tx, fmt.Sprintf("seq-%d", i)) }); err != nil {
			t.Fatal(err)
		}
	}
	if got := alone() - a0; got != 3 {
		t.Fatalf("3 writes one after the other: %d committed alone, want 3", got)
	}
	const n = 5
	writes := make([]func(*Tx) error, n)
	for i := range writes {
		writes[i] = func(tx *Tx) error { return insert(tx, fmt.Sprintf("q-%d", i)) }
	}
	for i, err := range holdThenRun(t, db, func(tx *Tx) error { return insert(tx, "held") }, writes) {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if got := alone() - a0; got != 4 {
		t.Fatalf("a held write and %d queued behind it: %d committed alone in all, want 4 (the queued ones commit together)", n, got)
	}
	if m, err := db.Memory(ctx); err != nil || m.Commits < 5 {
		t.Fatalf("commits %d, %v", m.Commits, err)
	}
}

// insertAccount inserts an account named sub: a write the tests can count.
func insertAccount(ctx context.Context, tx *Tx, sub string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (?, 'n', 'team', 1, 1)`, sub)
	return err
}

// holdThenRun runs first, which holds the committer until all of writes are queued
// behind it, so that they commit as one batch; it returns the writes' errors.
func holdThenRun(t *testing.T, db *DB, first func(*Tx) error, writes []func(*Tx) error) []error {
	t.Helper()
	ctx := context.Background()
	started, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- db.Write(ctx, func(tx *Tx) error {
			close(started)
			<-release
			return first(tx)
		})
	}()
	<-started
	errs := make([]error, len(writes))
	var wg sync.WaitGroup
	for i, w := range writes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Write(ctx, w)
		}()
	}
	for len(db.wq) < len(writes) {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	return errs
}
