package store

import (
	"context"
	"database/sql/driver"
	"time"
)

// The trimmer (SQLite) gives SQLite's memory back once the database has gone quiet: at
// most quietChanges rows written and fewer than quietReads read queries (the background
// workers' polling) for a whole trimEvery. The writer is never closed for idleness, and
// the background workers keep a reader or two busy enough never to be closed for
// idleness either, so without it their caches (a reader's grows past cache_size after
// large searches), statements and schema stay resident through every quiet hour. The
// writer connection is closed once per quiet stretch and the idle readers at every
// quiet check. A query after that reads its pages from the operating system's cache
// again, and a new connection parses the schema and prepares its statements again (a
// few milliseconds, once per quiet stretch).
//
// Quiet counts rows written, not commits: each delivery queue (webhooks, mail, the
// sharing outbox and its fetches) claims its due rows in a write transaction once a
// second, so an idle server commits about five times a second, and when the test was
// ten commits in ten seconds the trimmer never ran at all.

// quietReads and quietChanges are how many read queries and rows written a quiet
// trimEvery may see: the background workers poll a few times a second, and write now
// and then (outgoing mail, service levels) long after the requests that caused it.
const (
	quietReads   = 10 * int64(trimEvery/time.Second)
	quietChanges = 10 * int64(trimEvery/time.Second)
)

func (db *DB) startTrimmer() {
	db.trimStop, db.trimDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(db.trimDone)
		t := time.NewTicker(trimEvery)
		defer t.Stop()
		q := quiet{read: db.reads.Load()}
		for {
			select {
			case <-db.trimStop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), trimEvery)
			w, err := db.writerChanges(ctx)
			merge := q.mergeDue(w, err)
			writer, readers := q.check(w, db.reads.Load(), err)
			if merge {
				// The merges' own rows written are not the application's: the next
				// check counts from after them.
				_, done, err := db.MergeFTS(ctx)
				q.merged(done && err == nil)
				if w, err := db.writerChanges(ctx); err == nil {
					q.written = w
				}
			}
			if writer {
				q.closed(db.trimWriter(ctx) == nil)
			}
			if readers {
				db.trimReaders()
			}
			cancel()
		}
	}()
}

// quiet decides, at each of the trimmer's checks, what to trim and when to merge the
// full-text indexes (ftsmerge.go).
type quiet struct {
	written, read int64 // the writer's rows written and the read queries at the last check
	trimmed       bool  // the writer was closed in this quiet stretch
	// unmerged: rows were written since the full-text merges last finished (what an
	// earlier process left is merged after this one's first writes).
	unmerged bool
}

// mergeDue takes the writer's rows written (as check does, before it) and reports
// whether to merge the full-text indexes now: rows were written since the merges last
// finished, and at most quietChanges since the last check. Reads do not count: a merge
// step holds the writer, never a reader.
func (q *quiet) mergeDue(written int64, err error) bool {
	if err != nil || written != q.written {
		q.unmerged = true // (unknown counts as written)
	}
	if err != nil {
		return false
	}
	return q.unmerged && written-q.written <= quietChanges
}

// merged records the end of a quiet check's merges: done when nothing was left to merge.
func (q *quiet) merged(done bool) {
	if done {
		q.unmerged = false
	}
}

// check takes the writer's rows written (total_changes(), or err when it could not be
// read) and the read queries so far, and reports whether to close the writer (once
// per quiet stretch) and the idle readers (at every quiet check).
func (q *quiet) check(written, read int64, err error) (writer, readers bool) {
	busy := err != nil || written-q.written > quietChanges || read-q.read >= quietReads
	q.written, q.read = written, read
	if busy {
		q.trimmed = false
		return false, false
	}
	return !q.trimmed, true
}

// closed records whether the writer was closed: a new connection counts its rows
// written from 0.
func (q *quiet) closed(ok bool) {
	if ok {
		q.trimmed, q.written = true, 0
	}
}

// writerChanges is the rows written by the writer connection since it opened (SQLite's
// total_changes()), 0 when it is closed. Only the trimmer closes it, so a later count
// below an earlier one cannot happen but after trimWriter.
func (db *DB) writerChanges(ctx context.Context) (int64, error) {
	if db.w.Stats().OpenConnections == 0 {
		return 0, nil
	}
	var n int64
	err := db.w.QueryRowContext(ctx, "SELECT total_changes()").Scan(&n)
	return n, err
}

func (db *DB) stopTrimmer() {
	if db.trimStop != nil {
		close(db.trimStop)
		<-db.trimDone
		db.trimStop = nil
	}
}

// Trim closes the writer connection and the read connections idle now, as
// the trimmer does once the database is quiet (SQLite; nothing on PostgreSQL). It waits
// for the write in progress, if any.
func (db *DB) Trim(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	if err := db.trimWriter(ctx); err != nil {
		return err
	}
	db.trimReaders()
	return nil
}

// trimWriter closes the writer connection (the next write opens another), which frees
// its page cache, its prepared statements and its copy of the schema. It waits for the
// write in progress, if any. Emptying the cache with PRAGMA shrink_memory, as before,
// gave back almost nothing, for the reason trimReaders gives. Closing is safe for
// durability: every write has committed (or rolled back) before the connection is
// handed back to the pool, and a closing SQLite connection that is the process's last
// one checkpoints the WAL first.
func (db *DB) trimWriter(ctx context.Context) error {
	if db.w.Stats().OpenConnections == 0 {
		return nil // closed already: nothing written since the last trim
	}
	c, err := db.w.Conn(ctx)
	if err != nil {
		return err
	}
	// Returning driver.ErrBadConn from Raw makes database/sql close the connection (and
	// c) instead of putting it back in the pool.
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	return nil
}

// trimReaders closes the read connections that are idle now (the pool opens new ones
// as reads need them). Closing, not PRAGMA shrink_memory, is what gives the memory back:
// SQLite's allocator here keeps a 64 KB region as long as one allocation in it lives,
// and a connection's cache pages share regions with its statements and schema, so
// emptying the caches freed almost nothing (113 MB resident outside the Go heap before
// and after at 1,000,000 tickets) while closing the idle readers brought it to 47 MB.
func (db *DB) trimReaders() {
	db.r.SetMaxIdleConns(0)
	db.r.SetMaxIdleConns(readers())
}
