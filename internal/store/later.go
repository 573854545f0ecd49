package store

import (
	"context"
	"fmt"
)

// Work left to the end of a write (Later). Some statements of a ticket write only add to
// totals that every write shares (the reports' daily counts): in a group-commit batch
// (group.go) each write of the batch would update the same rows, one statement each. A
// write that leaves its additions with Later instead has them merged with those of the
// other writes of its batch and written once, after the batch's last write and before
// the full-text indexing and the commit: n creates of a batch write the shared rows once.
//
// What is left commits or rolls back with the writes that left it, as the statements
// would have: in a batch run with a savepoint per write, each write's work runs before
// its savepoint is released, so a write that fails takes its own with it; a batch run
// without savepoints runs again with them when its work fails; a write alone (and every
// write on PostgreSQL) runs its own before it commits.
//
// Until it runs, what is left is not in the database: a write that reads or replaces
// what others leave calls RunLater first.

// Later is work that writes add to (through their transaction's Later) and that runs
// once, in the transaction, before it commits.
type Later interface {
	// Run writes what was added. It runs once; it must not call AfterCommit.
	Run(ctx context.Context, tx *Tx) error
}

// laterWork is the work left in one transaction, in the order it was first asked for.
type laterWork struct {
	keys []any
	m    map[any]Later
}

// Later returns the work left in the transaction under key, made by mk when there is
// none yet. The key's type should be one of the caller's package, as with
// context.WithValue. It must be called in a write transaction.
func (tx *Tx) Later(key any, mk func() Later) Later {
	if tx.later == nil {
		// Not a write of this package's making (a read): nothing would run the work.
		panic("store: Later outside a write transaction")
	}
	if w, ok := tx.later.m[key]; ok {
		return w
	}
	w := mk()
	if tx.later.m == nil {
		tx.later.m = map[any]Later{}
	}
	tx.later.m[key] = w
	tx.later.keys = append(tx.later.keys, key)
	return w
}

// RunLater runs the work left in the transaction now, and forgets it: what the work
// writes is then in the database for the rest of the transaction.
func (tx *Tx) RunLater(ctx context.Context) error {
	if tx.later == nil {
		return nil
	}
	return tx.later.run(ctx, tx)
}

// runLater runs the work left in tx as the committer does, turning a panic into an
// error (call).
func runLater(ctx context.Context, tx *Tx) error {
	return call(func(tx *Tx) error { return tx.RunLater(ctx) }, tx)
}

// run runs the work left, in the order it was first asked for, and forgets it.
func (lw *laterWork) run(ctx context.Context, tx *Tx) error {
	keys, m := lw.keys, lw.m
	lw.keys, lw.m = nil, nil
	for _, k := range keys {
		if err := m[k].Run(ctx, tx); err != nil {
			return fmt.Errorf("store: work left to commit: %w", err)
		}
	}
	return nil
}
