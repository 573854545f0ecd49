package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// retryRows makes a table of two counters, rows 1 and 2, for the retry tests.
func retryRows(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	err := db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE retry_rows (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO retry_rows (id, v) VALUES (1, 0), (2, 0)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func counters(t *testing.T, db *store.DB) (a, b int64) {
	t.Helper()
	ctx := context.Background()
	if err := db.R().QueryRowContext(ctx, `SELECT (SELECT v FROM retry_rows WHERE id = 1), (SELECT v FROM retry_rows WHERE id = 2)`).Scan(&a, &b); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// deadlock runs two writes that add to rows 1 and 2 in opposite order, each taking its
// second row only once the other holds its first: PostgreSQL must end one of them with
// deadlock_detected. Which one it ends is PostgreSQL's choice (the first whose
// deadlock_timeout expires), so the test asserts nothing that depends on it. A write run
// again takes its rows without waiting for the other (the channels are used once), in
// the same order as the other's run again would: no second deadlock. It returns each
// write's error and how many times each function ran.
func deadlock(t *testing.T, db *store.DB, write func(context.Context, func(*store.Tx) error) error) (errs [2]error, runs [2]int) {
	t.Helper()
	ctx := context.Background()
	holds := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	var once [2]sync.Once
	f := func(i int, first, second, add int64) func(tx *store.Tx) error {
		return func(tx *store.Tx) error {
			runs[i]++
			if runs[i] > 1 {
				first, second = 1, 2 // run again: the order every other run takes
			}
			if _, err := tx.ExecContext(ctx, `UPDATE retry_rows SET v = v + ? WHERE id = ?`, add, first); err != nil {
				return err
			}
			if runs[i] == 1 {
				once[i].Do(func() { close(holds[i]) })
				<-holds[1-i] // the other holds its first row: this one's second
			}
			_, err := tx.ExecContext(ctx, `UPDATE retry_rows SET v = v + ? WHERE id = ?`, add, second)
			return err
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = write(ctx, f(0, 1, 2, 1)) }()
	go func() { defer wg.Done(); errs[1] = write(ctx, f(1, 2, 1, 10)) }()
	wg.Wait()
	return errs, runs
}

// TestWriteRetryRunsAgainAfterDeadlock: of two writes that deadlock, PostgreSQL ends one
// (40P01); WriteRetry runs it again in a new transaction and both commit, each once.
func TestWriteRetryRunsAgainAfterDeadlock(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	retryRows(t, db)
	errs, runs := deadlock(t, db, db.WriteRetry)
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("WriteRetry after a deadlock: %v, %v", errs[0], errs[1])
	}
	if runs[0]+runs[1] != 3 || db.Retries() != 1 {
		t.Fatalf("the writes ran %d and %d times, %d retries: want one run again", runs[0], runs[1], db.Retries())
	}
	if a, b := counters(t, db); a != 11 || b != 11 {
		t.Fatalf("rows = %d, %d after both writes, want 11, 11 (each write's additions once)", a, b)
	}
}

// TestWriteDoesNotRetry: the same two writes through Write: one of them fails with the
// deadlock, which IsRetryable recognises, and only the other's additions are there.
func TestWriteDoesNotRetry(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	retryRows(t, db)
	errs, runs := deadlock(t, db, db.Write)
	lost := 0
	for i, err := range errs {
		if err == nil {
			continue
		}
		lost++
		if !store.IsRetryable(err) {
			t.Fatalf("write %d failed with %v, want a deadlock that IsRetryable recognises", i, err)
		}
	}
	if lost != 1 || runs != [2]int{1, 1} || db.Retries() != 0 {
		t.Fatalf("%d writes failed (want 1), runs %v (want one each), %d retries (want 0)", lost, runs, db.Retries())
	}
	a, b := counters(t, db)
	if !(a == 1 && b == 1 || a == 10 && b == 10) {
		t.Fatalf("rows = %d, %d, want one write's additions only", a, b)
	}
}

// TestWriteRetryRunsAgainAfterSerializationFailure: a REPEATABLE READ transaction whose
// snapshot predates another's committed update of a row it then updates fails with
// 40001; WriteRetry runs it again, with a new snapshot, and it commits on top of the
// other's change. No timing: the other write commits between the first run's read and
// its update.
func TestWriteRetryRunsAgainAfterSerializationFailure(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	retryRows(t, db)
	ctx := context.Background()
	runs := 0
	err := db.WriteRetry(ctx, func(tx *store.Tx) error {
		runs++
		if _, err := tx.ExecContext(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
			return err
		}
		var v int64
		if err := tx.QueryRowContext(ctx, `SELECT v FROM retry_rows WHERE id = 1`).Scan(&v); err != nil {
			return err
		}
		if runs == 1 {
			// Another transaction changes the row and commits after this snapshot.
			if err := db.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE retry_rows SET v = v + 10 WHERE id = 1`)
				return err
			}); err != nil {
				return errors.Join(errors.New("the other write"), err)
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE retry_rows SET v = ? WHERE id = 1`, v+1)
		return err
	})
	if err != nil {
		t.Fatalf("WriteRetry after a serialization failure: %v", err)
	}
	if runs != 2 || db.Retries() != 1 {
		t.Fatalf("ran %d times with %d retries, want 2 and 1", runs, db.Retries())
	}
	if a, _ := counters(t, db); a != 11 {
		t.Fatalf("row = %d, want 11: the run again read the other write's 10", a)
	}
}

// TestWriteRetryGivesUpOnOtherErrors: an error that is not a deadlock or a serialization
// failure returns at once, on both databases, without a second run.
func TestWriteRetryGivesUpOnOtherErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		runs := 0
		err := db.WriteRetry(ctx, func(tx *store.Tx) error {
			runs++
			_, err := tx.ExecContext(ctx, `INSERT INTO no_such_table (x) VALUES (1)`)
			return err
		})
		if err == nil || store.IsRetryable(err) || runs != 1 || db.Retries() != 0 {
			t.Fatalf("err %v, %d runs, %d retries: want the error after one run", err, runs, db.Retries())
		}
	})
}
