package store

import (
	"context"
	"fmt"
	"runtime"
)

// Group commit (SQLite). SQLite has one writer, so concurrent write transactions queue.
// Instead of running them one after the other, each with its own BEGIN and COMMIT, the
// committer takes every write waiting in the queue and runs them in one transaction,
// each inside its own SAVEPOINT: a write that fails rolls back to its savepoint and
// only it fails; the others commit together. Pages touched by several writes (the end
// of each index, the account's counter) reach the WAL once per batch instead of once
// per write.
//
// Most batches have no failing write, and the savepoints cost a statement before and
// after each write and a copy of every page a write changes first (SQLite's
// sub-journal). So a batch first runs without them (runPlain): should any write fail,
// the whole transaction is rolled back and the batch runs again with a savepoint per
// write, as do the next guardedBatches batches (a client sending invalid writes costs
// one extra run now and then, not one per batch). A write function may therefore run
// more than once before it commits, as it already may on PostgreSQL (WriteRetry) and
// here when a batch breaks; only the run that commits has its after-commit callbacks
// called.
//
// A commit costs about the same whatever the batch holds (the WAL pages of the tables'
// and indexes' last leaves, the full-text segments), so a write found alone in the queue
// lets the goroutines that can run go first, once (runtime.Gosched: no wait when none
// can), and takes the writes they queued meanwhile: under load these are the requests
// the last commit answered, on their way back. /debug/store counts the writes that still
// commit alone.
//
// Statements of a batched write run with a context that cannot be cancelled: SQLite
// answers an interrupt inside a transaction by rolling the whole transaction back,
// which would take the other writes of the batch with it.

// maxBatch bounds how many writes share one transaction.
const maxBatch = 64

// guardedBatches is how many batches run with savepoints after one in which a write
// failed.
const guardedBatches = 32

type writeReq struct {
	ctx  context.Context
	f    func(tx *Tx) error
	done chan error
}

// startCommitter starts the group-commit goroutine (SQLite only).
func (db *DB) startCommitter() {
	db.wq = make(chan *writeReq, 1024)
	db.wdone = make(chan struct{})
	go func() {
		defer close(db.wdone)
		batch := make([]*writeReq, 0, maxBatch)
		for req := range db.wq {
			batch = append(batch[:0], req)
			batch = db.drain(batch)
			if len(batch) == 1 {
				// A write alone would pay a whole commit (above).
				runtime.Gosched()
				batch = db.drain(batch)
			}
			db.runBatch(batch)
		}
	}()
}

// drain adds the writes waiting in the queue to batch, up to maxBatch.
func (db *DB) drain(batch []*writeReq) []*writeReq {
	for len(batch) < maxBatch {
		select {
		case r, ok := <-db.wq:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// stopCommitter finishes queued writes and stops the committer.
func (db *DB) stopCommitter() {
	if db.wq != nil {
		close(db.wq)
		<-db.wdone
	}
}

// call runs f, turning a panic into an error so the committer survives it.
func call(f func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	return f(tx)
}

func (db *DB) runBatch(batch []*writeReq) {
	db.commits.Add(1)
	if len(batch) == 1 {
		db.alone.Add(1)
		r := batch[0]
		r.done <- db.writeOne(r.ctx, r.f)
		return
	}
	if db.guarded == 0 {
		if db.runPlain(batch) {
			return
		}
		db.guarded = guardedBatches
	} else {
		db.guarded--
	}
	ctx := context.Background()
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range batch {
			r.done <- fmt.Errorf("store: begin: %w", err)
		}
		return
	}
	results := make([]error, len(batch))
	txs := make([]*Tx, len(batch))
	broken := false
	bound := newBound(db.wstmts)
	// The batch's own statements (SAVEPOINT, RELEASE, ROLLBACK TO) go through the
	// statement cache too: prepared once, not parsed again for every write of every batch.
	own := &Tx{tx: sqlTx, db: db, stmts: db.wstmts, shared: true, bound: bound}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if _, err := own.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			broken = true
			break
		}
		tx := &Tx{tx: sqlTx, db: db, stmts: db.wstmts, shared: true, bound: bound, write: true, later: &laterWork{}}
		err := call(r.f, tx)
		if err == nil {
			// The write's own work left to commit, inside its savepoint (later.go).
			err = runLater(ctx, tx)
		}
		if err != nil {
			results[i] = err
			if _, err := own.ExecContext(ctx, "ROLLBACK TO w"); err != nil {
				broken = true
				break
			}
		} else {
			txs[i] = tx
		}
		if _, err := own.ExecContext(ctx, "RELEASE w"); err != nil {
			broken = true
			break
		}
	}
	if broken {
		// The transaction is in a state savepoints cannot recover from: give it up
		// and run each write again on its own.
		_ = sqlTx.Rollback()
		db.wstmts.flush(ctx)
		for _, r := range batch {
			r.done <- db.writeOne(r.ctx, r.f)
		}
		return
	}
	if err := db.indexPending(ctx, sqlTx); err != nil {
		// Nothing of the batch is committed: run each write again on its own, where
		// the failure stays with the write that causes it.
		_ = sqlTx.Rollback()
		db.wstmts.flush(ctx)
		for _, r := range batch {
			r.done <- db.writeOne(r.ctx, r.f)
		}
		return
	}
	err = sqlTx.Commit()
	db.wstmts.flush(ctx)
	answer(batch, results, txs, err)
}

// runPlain runs the batch in one transaction without savepoints. It returns false,
// having rolled the transaction back and answered no write, when a write failed, or the
// work the writes left to commit (later.go) or the full-text indexing before commit did:
// the caller then runs the batch with savepoints.
func (db *DB) runPlain(batch []*writeReq) bool {
	ctx := context.Background()
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range batch {
			r.done <- fmt.Errorf("store: begin: %w", err)
		}
		return true
	}
	results := make([]error, len(batch))
	txs := make([]*Tx, len(batch))
	bound := newBound(db.wstmts)
	// The writes share the work they leave to commit (later.go): it runs once, merged,
	// after the last of them.
	later := &laterWork{}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err // not run: nothing of it to undo
			continue
		}
		tx := &Tx{tx: sqlTx, db: db, stmts: db.wstmts, shared: true, bound: bound, write: true, later: later}
		if err := call(r.f, tx); err != nil {
			_ = sqlTx.Rollback()
			db.wstmts.flush(ctx)
			return false
		}
		txs[i] = tx
	}
	own := &Tx{tx: sqlTx, db: db, stmts: db.wstmts, shared: true, bound: bound, write: true, later: later}
	if err := runLater(ctx, own); err != nil {
		_ = sqlTx.Rollback()
		db.wstmts.flush(ctx)
		return false
	}
	if err := db.indexPending(ctx, sqlTx); err != nil {
		_ = sqlTx.Rollback()
		db.wstmts.flush(ctx)
		return false
	}
	err = sqlTx.Commit()
	db.wstmts.flush(ctx)
	answer(batch, results, txs, err)
	return true
}

// answer tells each write of a batch its outcome once the batch's commit returned err:
// its own error if it failed or did not run, else the commit's; a committed write has its
// after-commit callbacks called first.
func answer(batch []*writeReq, results []error, txs []*Tx, err error) {
	for i, r := range batch {
		switch {
		case results[i] != nil:
			r.done <- results[i]
		case err != nil:
			r.done <- fmt.Errorf("store: commit: %w", err)
		default:
			for _, fn := range txs[i].afterCommit {
				fn()
			}
			r.done <- nil
		}
	}
}

// writeOne runs one write in its own transaction.
func (db *DB) writeOne(ctx context.Context, f func(tx *Tx) error) error {
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{tx: sqlTx, db: db, stmts: db.wstmts, bound: newBound(db.wstmts), write: true, later: &laterWork{}, riding: db.Dialect == Postgres}
	err = call(f, tx)
	if tx.rideErr != nil {
		// The riders' failure, not what later statements said of the failed transaction.
		err = tx.rideErr
	}
	if err == nil {
		err = runLater(ctx, tx)
	}
	if err == nil {
		// What rode with no statement after it runs before the commit (ride.go).
		tx.beforeStatement(tx.ctx(ctx))
		err = tx.rideErr
	}
	if err == nil {
		err = db.indexPending(tx.ctx(ctx), sqlTx)
	}
	if err != nil {
		_ = sqlTx.Rollback()
		if db.wstmts != nil {
			db.wstmts.flush(context.WithoutCancel(ctx))
		}
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if db.wstmts != nil {
		db.wstmts.flush(context.WithoutCancel(ctx))
	}
	for _, fn := range tx.afterCommit {
		fn()
	}
	return nil
}
