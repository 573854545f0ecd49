package store

import (
	"context"
	"database/sql"
	"time"
)

// Checkpoints off the writer (SQLite, issue 16). SQLite checkpoints the WAL on the
// connection whose commit took it past wal_autocheckpoint pages, right after that
// commit: on the writer, so every write waiting for the group commit waited for the
// checkpoint too (copying the WAL's pages into the database file, 5 % of the server's
// CPU under 16 clients' creates, and the two fsyncs of the WAL and of the database
// file, which synchronous=NORMAL keeps at each checkpoint). The checkpointer does that
// work on a connection of its own, a PASSIVE checkpoint (it never blocks the writer or
// a reader) once the writer has run checkpointStatements statements since the last one
// (a statement dirties a page or a few, so about as often as SQLite's own 1,000-page
// threshold), and at most every checkpointEvery. The writer keeps
// an automatic checkpoint as a backstop at writerCheckpointPages: a passive checkpoint
// copies the frames written before it started, and the WAL starts again from its
// beginning only when every frame has been copied when a write transaction begins, so
// under a steady load the WAL would otherwise grow without end. When the backstop
// fires, the checkpointer has already copied almost all of it, so the writer copies only
// the last frames. Durability is unchanged: a commit is in the WAL as before, and a
// checkpoint only moves committed pages into the database file.

const (
	// checkpointStatements is how many statements the writer runs between checkpoints,
	// and checkpointEvery the least interval between two.
	checkpointStatements = 1000
	checkpointEvery      = 100 * time.Millisecond
	// writerCheckpointPages is the writer's wal_autocheckpoint (SQLite's default is
	// 1,000 pages): the WAL's bound under a steady load, 40 MB of 4 KB pages.
	writerCheckpointPages = 10000
)

// startCheckpointer starts the checkpointer on its own connection ck (SQLite only).
func (db *DB) startCheckpointer(ck *sql.DB) {
	db.ck = ck
	db.ckWake = make(chan struct{}, 1)
	db.ckStop, db.ckDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(db.ckDone)
		last := db.written.Load()
		for {
			select {
			case <-db.ckStop:
				return
			case <-db.ckWake:
			}
			if db.written.Load()-last < checkpointStatements {
				continue
			}
			last = db.written.Load()
			// An error (the database closing, say) leaves the WAL to the writer's
			// automatic checkpoint until the next commit wakes the checkpointer again.
			if _, err := ck.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)"); err == nil {
				db.checkpoints.Add(1)
			}
			t := time.NewTimer(checkpointEvery)
			select {
			case <-db.ckStop:
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
}

// committed wakes the checkpointer after a commit (the committer calls it).
func (db *DB) committed() {
	select {
	case db.ckWake <- struct{}{}:
	default:
	}
}

// stopCheckpointer stops the checkpointer and closes its connection.
func (db *DB) stopCheckpointer() {
	if db.ck == nil {
		return
	}
	close(db.ckStop)
	<-db.ckDone
	db.ck.Close()
}
