package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// tally is work left to commit (Later) by the writes of TestLaterRunsOncePerBatch: it
// sums what they add and writes the sum as one account row (the sum in its name).
type tally struct {
	label string
	n     int
	runs  *atomic.Int64
}

type tallyKey struct{}

func (w *tally) Run(ctx context.Context, tx *Tx) error {
	run := w.runs.Add(1)
	_, err := tx.ExecContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (?, ?, 'team', 1, 1)`,
		fmt.Sprintf("%s-run%d", w.label, run), fmt.Sprint(w.n))
	return err
}

// tempDB opens a fresh SQLite database in the test's directory, closed after the test.
func tempDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "t.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestLaterRunsOncePerBatch: the work the writes of a batch leave to commit runs once
// for the batch, after its last write, with what every write added; in a batch run
// with savepoints because one write failed, each other write runs its own and the
// failed write's addition is not written; a write alone runs its own.
func TestLaterRunsOncePerBatch(t *testing.T) {
	ctx := context.Background()
	db := tempDB(t)
	var runs atomic.Int64
	add := func(tx *Tx, label string) {
		tx.Later(tallyKey{}, func() Later { return &tally{label: label, runs: &runs} }).(*tally).n++
	}
	// written returns how many rows the work of label wrote and the sum they hold.
	written := func(label string) (rows, sum int) {
		t.Helper()
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CAST(name AS INTEGER)), 0) FROM accounts WHERE subdomain LIKE ?`,
			label+"-run%").Scan(&rows, &sum); err != nil {
			t.Fatal(err)
		}
		return rows, sum
	}
	// batch runs n writes queued behind a write that holds the committer (a write
	// alone, which adds 1 under label "alone"), so that they run as one batch; write
	// fail (if >= 0) fails after adding.
	batch := func(label string, n, fail int) []error {
		t.Helper()
		writes := make([]func(*Tx) error, n)
		for i := range writes {
			writes[i] = func(tx *Tx) error {
				add(tx, label)
				if i == fail {
					return errors.New("refused")
				}
				return nil
			}
		}
		return holdThenRun(t, db, func(tx *Tx) error { add(tx, label+"-alone"); return nil }, writes)
	}

	runs.Store(0)
	if err := errors.Join(batch("a", 8, -1)...); err != nil {
		t.Fatal(err)
	}
	if rows, sum := written("a"); rows != 1 || sum != 8 {
		t.Fatalf("batch of 8: the work left wrote %d rows summing %d, want 1 row of 8", rows, sum)
	}
	if rows, sum := written("a-alone"); rows != 1 || sum != 1 {
		t.Fatalf("write alone: %d rows summing %d, want 1 of 1", rows, sum)
	}
	if got := runs.Load(); got != 2 {
		t.Fatalf("work ran %d times, want 2 (the batch, the write alone)", got)
	}

	errs := batch("b", 8, 3)
	for i, err := range errs {
		if (i == 3) != (err != nil) {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if rows, sum := written("b"); rows != 7 || sum != 7 {
		t.Fatalf("batch with a failed write: %d rows summing %d, want 7 of 1 (each write's own, not the failed one's)", rows, sum)
	}
}
