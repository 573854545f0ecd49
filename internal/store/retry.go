package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Retries of a lost deadlock or serialization failure (PostgreSQL).
//
// PostgreSQL ends one transaction of a deadlock with SQLSTATE 40P01 and, under
// REPEATABLE READ or SERIALIZABLE, a transaction that could not be serialized with
// 40001. Either way the transaction is rolled back and nothing of it stays, so the
// whole transaction can be run again: the other one has gone on meanwhile. SQLite has
// one writer and never reports either.
//
// Write does not retry: a write function may do something outside its transaction
// that must not happen twice (append to a caller's slice, call a model, count a
// metric). WriteRetry does, for functions that are safe to run again: everything they
// do goes through tx, or is overwritten by the next run (a variable assigned, not
// appended to); functions registered with AfterCommit belong to their transaction
// and are dropped with a run that failed.

// maxWriteAttempts bounds the runs of one WriteRetry (the first and three more).
const maxWriteAttempts = 4

// retryBase is the first wait before a run again; each retry doubles it, with full
// jitter so that the two transactions of a deadlock do not meet again in step.
const retryBase = 2 * time.Millisecond

// WriteRetry is Write for a function that may be run again: on PostgreSQL, when its
// transaction loses a deadlock (40P01) or fails to serialize (40001), it is rolled
// back and f runs again in a new transaction, after a short jittered wait, up to
// maxWriteAttempts runs in all. Any other error, or the context's end, returns at once.
func (db *DB) WriteRetry(ctx context.Context, f func(tx *Tx) error) error {
	if db.Dialect != Postgres {
		return db.Write(ctx, f)
	}
	for attempt := 1; ; attempt++ {
		err := db.Write(ctx, f)
		if err == nil || attempt == maxWriteAttempts || !IsRetryable(err) {
			return err
		}
		db.retries.Add(1)
		wait := time.Duration(rand.Int64N(int64(retryBase<<(attempt-1))) + 1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// IsRetryable reports whether err says the transaction lost a deadlock (40P01) or a
// serialization failure (40001): a run of the whole transaction again may succeed.
func IsRetryable(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == pgDeadlockDetected || pe.Code == pgSerializationFailure
	}
	return false
}

// PostgreSQL's SQLSTATEs for deadlock_detected and serialization_failure.
const (
	pgDeadlockDetected     = "40P01"
	pgSerializationFailure = "40001"
)

// Retries is how many transactions WriteRetry has run again since the database was
// opened (tests and benchmarks read it).
func (db *DB) Retries() int64 { return db.retries.Load() }
