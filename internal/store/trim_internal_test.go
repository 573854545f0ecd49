package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// The trimmer's quiet test counts rows written, not commits: a write transaction that
// writes nothing (a delivery queue's claim finding no due row, once a second per
// queue) leaves the writer's count where it was, and the writer is closed once per
// quiet stretch, the idle readers at every quiet check.
func TestTrimQuietCountsRowsWritten(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "t.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The trimmer's own merges of the full-text indexes write rows: on a loaded machine
	// it ticked (every trimEvery) during the counts below and added two.
	db.stopTrimmer()
	claim := func() {
		t.Helper()
		err := db.Write(ctx, func(tx *Tx) error {
			var n int
			return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE id < 0`).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	insert := func(n int) {
		t.Helper()
		err := db.Write(ctx, func(tx *Tx) error {
			for i := range n {
				if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (?, 'n', 'team', 1, 1)`, fmt.Sprintf("q%dx%d", i, db.commits.Load())); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	changes := func() int64 {
		t.Helper()
		n, err := db.writerChanges(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := changes()
	for range 50 {
		claim()
	}
	if got := changes(); got != before {
		t.Fatalf("50 writes of nothing: %d rows written, was %d", got, before)
	}
	insert(3)
	if got := changes(); got != before+3 {
		t.Fatalf("3 rows: %d rows written, was %d", got, before)
	}

	// The decisions, check by check.
	var q quiet
	steps := []struct {
		written, read   int64
		err             error
		writer, readers bool
		closed          bool
	}{
		{written: 5, read: 40, writer: true, readers: true, closed: true}, // quiet: close both
		{written: 0, read: 80, readers: true},                             // still quiet: the readers only
		{written: 0 + quietChanges, read: 80 + quietReads - 1, readers: true},
		{written: 1 + 2*quietChanges, read: 100 + quietReads},   // busy: rows written
		{written: 1 + 2*quietChanges, read: 100 + 2*quietReads}, // busy: reads
		{written: 1 + 2*quietChanges, read: 100 + 2*quietReads, writer: true, readers: true},
		{written: 2 + 2*quietChanges, read: 100 + 2*quietReads, err: errors.New("x")}, // unknown: busy
	}
	for i, s := range steps {
		w, r := q.check(s.written, s.read, s.err)
		if w != s.writer || r != s.readers {
			t.Fatalf("step %d (%+v): writer %v readers %v", i, s, w, r)
		}
		if s.closed {
			q.closed(true)
		}
	}

	// Trim closes the writer; its count starts again from 0 with the next write.
	if err := db.Trim(ctx); err != nil {
		t.Fatal(err)
	}
	if n := db.w.Stats().OpenConnections; n != 0 {
		t.Fatalf("writer connections after Trim: %d", n)
	}
	if got := changes(); got != 0 {
		t.Fatalf("closed writer: %d rows written", got)
	}
	claim()
	insert(2)
	if got := changes(); got != 2 {
		t.Fatalf("reopened writer: %d rows written, want 2", got)
	}
}

// The full-text merges run at a check that follows rows written, once writes are quiet
// whatever the reads, and again at the next checks until a check's merges finish.
func TestTrimMergesAfterWrites(t *testing.T) {
	var q quiet
	steps := []struct {
		written int64
		err     error
		due     bool
		done    bool
	}{
		{written: 0},                                       // nothing written yet
		{written: 5, due: true, done: true},                // a few rows: merge
		{written: 5},                                       // nothing written since
		{written: 6 + quietChanges},                        // busy
		{written: 7 + quietChanges, due: true},             // quiet now: merge, not finished
		{written: 7 + quietChanges, due: true, done: true}, // goes on, finishes
		{written: 7 + quietChanges},                        // nothing written since
		{written: 8 + quietChanges, err: errors.New("x")},  // unknown
		{written: 8 + quietChanges, due: true, done: true}, // the row written counts
	}
	for i, s := range steps {
		due := q.mergeDue(s.written, s.err)
		if due != s.due {
			t.Fatalf("step %d (%+v): due %v", i, s, due)
		}
		q.check(s.written, 0, s.err)
		if due {
			q.merged(s.done)
		}
	}
}
