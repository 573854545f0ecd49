package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Statements that ride with the next one (PostgreSQL). A ticket write's after-hooks each
// send a statement of their own after the write's: the reports' facts and deltas, the
// mail's insert, the live event's. A hook whose statement returns nothing that it reads
// can leave it with Ride instead; the next statement of the transaction that accepts
// riders (Carry) then runs it as a WITH entry of its own, one round trip for both.
//
// What a rider changes is in the database before any other statement of the
// transaction runs: every statement sent without Carry (a read, a savepoint, a rollback
// to one) runs the riders first, as one statement, and so does the commit. Only a
// carrier runs beside them, and it sees the transaction as it was before them (the
// statements of one WITH share a snapshot): a carrier must not read what its riders
// write. A rider that fails fails its carrier's statement, and so the transaction, as
// it would have failed on its own.

// rider is a data-modifying statement left to run with the next one.
type rider struct {
	q    string
	args []any
}

// Ride leaves q, an INSERT, UPDATE or DELETE whose result is not read (with ? for its
// arguments, and no WITH of its own), to run with the transaction's next statement
// (Carry). On SQLite, and outside a PostgreSQL write transaction, it runs q now.
func (tx *Tx) Ride(ctx context.Context, q string, args ...any) error {
	if !tx.riding {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	tx.riders = append(tx.riders, rider{q, args})
	return nil
}

// Carry returns q, a statement that reads nothing the riders write, with the riders left
// by Ride in front of it as WITH entries (merged with q's own WITH), and args after the
// riders' arguments; q and args as they are when there are none. The riders are then
// q's: run q next.
func (tx *Tx) Carry(q string, args []any) (string, []any) {
	if len(tx.riders) == 0 || strings.HasPrefix(q, "WITH RECURSIVE") {
		// (A recursive WITH is left alone: the riders then run before it on their own.)
		return q, args
	}
	with, wargs := tx.takeRiders()
	if rest, ok := strings.CutPrefix(q, "WITH "); ok {
		return with + ", " + rest, append(wargs, args...)
	}
	return with + " " + q, append(wargs, args...)
}

// takeRiders returns the riders as one WITH clause with its arguments, and forgets them.
func (tx *Tx) takeRiders() (string, []any) {
	var b strings.Builder
	var args []any
	for i, r := range tx.riders {
		if i == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString("ride")
		b.WriteString(strconv.Itoa(i))
		b.WriteString(" AS (")
		b.WriteString(r.q)
		b.WriteString(")")
		args = append(args, r.args...)
	}
	tx.riders = nil
	return b.String(), args
}

// runRiders runs the riders left, on their own (one statement), before a statement that
// does not carry them or the commit.
func (tx *Tx) runRiders(ctx context.Context) error {
	if len(tx.riders) == 0 {
		return nil
	}
	last := tx.riders[len(tx.riders)-1]
	tx.riders = tx.riders[:len(tx.riders)-1]
	q, args := tx.Carry(last.q, last.args)
	if _, err := tx.tx.ExecContext(ctx, tx.db.Rebind(q), args...); err != nil {
		return fmt.Errorf("store: statements left to run: %w", err)
	}
	return nil
}
