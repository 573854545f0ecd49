package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Full-text indexing at commit (SQLite, migration 0029_perf). The FTS5 triggers on
// tickets and ticket_comments note inserted and changed rows in fts_pending instead of
// indexing them row by row; every write transaction indexes the noted rows in one
// statement per index and forgets them just before it commits (indexPending), so a row is
// searchable in the very transaction that wrote it, and FTS5, which writes a segment at
// every savepoint it is open in, sees one insert per group-commit batch instead of one
// per write. See the migration for the invariant the triggers keep.

// pendingQueries index the noted rows and clear the notes. The first one is also the
// cheap test of whether there is anything to do.
const (
	pendingAny      = `SELECT EXISTS (SELECT 1 FROM fts_pending)`
	pendingTickets  = `INSERT INTO tickets_fts (rowid, subject, description) SELECT t.rowid, t.subject, t.description FROM fts_pending p CROSS JOIN tickets t ON t.rowid = p.rid WHERE p.tbl = 1 AND t.deleted_at = 0`
	pendingComments = `INSERT INTO ticket_comments_fts (rowid, plain_body) SELECT c.id, c.plain_body FROM fts_pending p CROSS JOIN ticket_comments c ON c.id = p.rid WHERE p.tbl = 2`
	pendingClear    = `DELETE FROM fts_pending`
)

// detectPending records whether the schema notes rows for indexing at commit (the
// table exists once migration 0029 has run).
func (db *DB) detectPending(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	var n int
	if err := db.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'fts_pending'`).Scan(&n); err != nil {
		return fmt.Errorf("store: detect fts_pending: %w", err)
	}
	db.ftsPending.Store(n > 0)
	return nil
}

// indexPending indexes the rows noted in fts_pending within the transaction, which then
// commits. A no-op where the schema has no fts_pending.
func (db *DB) indexPending(ctx context.Context, tx *sql.Tx) error {
	if !db.ftsPending.Load() {
		return nil
	}
	run := func(q string) (sql.Result, error) {
		if st := db.wstmts.get(q); st != nil {
			return tx.StmtContext(ctx, st).ExecContext(ctx)
		}
		return tx.ExecContext(ctx, q)
	}
	var some bool
	if st := db.wstmts.get(pendingAny); st != nil {
		if err := tx.StmtContext(ctx, st).QueryRowContext(ctx).Scan(&some); err != nil {
			return fmt.Errorf("store: index at commit: %w", err)
		}
	} else if err := tx.QueryRowContext(ctx, pendingAny).Scan(&some); err != nil {
		return fmt.Errorf("store: index at commit: %w", err)
	}
	if !some {
		return nil
	}
	for _, q := range []string{pendingTickets, pendingComments, pendingClear} {
		if _, err := run(q); err != nil {
			return fmt.Errorf("store: index at commit: %w", err)
		}
	}
	return nil
}
