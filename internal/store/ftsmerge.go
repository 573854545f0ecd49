package store

import (
	"context"
	"fmt"
)

// Merging the full-text indexes' small segments once writes go quiet (SQLite). Every
// write transaction that indexes rows (indexPending) adds a segment to tickets_fts or
// ticket_comments_fts, and FTS5's automerge merges four segments of one level at a time,
// only as later writes give it work, so a burst of writes leaves its last segments
// unmerged until the next one: 21 and 14 of them beside the seeded segment after the
// outside suite's 5,749 creates on a million seeded tickets. Every search opens each
// segment for each word it reads. When the trimmer sees a quiet stretch of writes (reads
// may go on), it merges them with FTS5's 'merge' command, mergePages leaf pages a step,
// each step a write transaction of its own, at most mergeSteps steps an index a check, so
// a write that comes meanwhile waits for one step at most; a merge left unfinished goes
// on at the next quiet check. With usermerge 2 (migration 0072) the command merges any
// level holding two segments or more, which brought those 21 and 14 to one small segment
// each beside the seeded one. The seeded segment, on its own level, is merged only when
// the small ones reach its level, as automerge would.

// mergePages is the leaf pages (about 4 KB each) one step of a merge writes at most, and
// mergeSteps the steps an index takes at one quiet check.
const (
	mergePages = 256
	mergeSteps = 32
)

// ftsIndexes are the FTS5 tables merged (their names, never user text).
var ftsIndexes = []string{"tickets_fts", "ticket_comments_fts"}

// MergeFTS runs the full-text indexes' merges as the trimmer does once writes have gone
// quiet, at most mergeSteps steps an index, and reports the steps that merged something
// and whether the merges are done (no index had anything left to merge). A no-op on
// PostgreSQL and where the schema has no FTS5 tables.
func (db *DB) MergeFTS(ctx context.Context) (steps int, done bool, err error) {
	if db.Dialect != SQLite || !db.ftsPending.Load() {
		return 0, true, nil
	}
	done = true
	for _, fts := range ftsIndexes {
		for i := 0; ; i++ {
			if i == mergeSteps {
				done = false
				break
			}
			merged, err := db.mergeStep(ctx, fts)
			if err != nil {
				return steps, false, err
			}
			if !merged {
				break
			}
			steps++
		}
	}
	return steps, done, nil
}

// mergeStep runs one step of FTS5's 'merge' on index fts in a write transaction of its
// own on the writer connection (never batched with the application's writes, nor counted
// among them) and reports whether it merged anything: FTS5 documents that the command
// changed two rows or more of the index's tables (total_changes()) when it did.
func (db *DB) mergeStep(ctx context.Context, fts string) (bool, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: merge %s: %w", fts, err)
	}
	defer func() { _ = tx.Rollback() }()
	var before, after int64
	if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&before); err != nil {
		return false, fmt.Errorf("store: merge %s: %w", fts, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+fts+` (`+fts+`, rank) VALUES ('merge', ?)`, mergePages); err != nil {
		return false, fmt.Errorf("store: merge %s: %w", fts, err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&after); err != nil {
		return false, fmt.Errorf("store: merge %s: %w", fts, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: merge %s: %w", fts, err)
	}
	return after-before >= 2, nil
}
