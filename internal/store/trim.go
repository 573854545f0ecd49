package store

import (
	"context"
	"database/sql"
	"time"
)

// The trimmer (SQLite) empties page caches once the database has gone quiet: no write
// committed and fewer than quietReads read queries (the background workers' polling)
// for a whole trimEvery. The writer lives as long as the process, and the
// background workers keep a reader or two busy enough never to be closed for idleness,
// so without it their caches (a reader's grows past cache_size after large searches)
// stay resident through every quiet hour. The writer's cache is emptied once per quiet
// stretch, the idle readers' at every quiet check. A query after that reads its pages
// from the operating system's cache again.

// quietReads is how many read queries a quiet trimEvery may see: the background
// workers poll a few times a second.
const quietReads = 10 * int64(trimEvery/time.Second)

func (db *DB) startTrimmer() {
	db.trimStop, db.trimDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(db.trimDone)
		t := time.NewTicker(trimEvery)
		defer t.Stop()
		seen, read, trimmed := db.commits.Load(), db.reads.Load(), false
		for {
			select {
			case <-db.trimStop:
				return
			case <-t.C:
			}
			n, r := db.commits.Load(), db.reads.Load()
			busy := n != seen || r-read >= quietReads
			seen, read = n, r
			if busy {
				trimmed = false
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), trimEvery)
			if !trimmed {
				trimmed = db.trimWriter(ctx) == nil
			}
			db.trimReaders(ctx)
			cancel()
		}
	}()
}

func (db *DB) stopTrimmer() {
	if db.trimStop != nil {
		close(db.trimStop)
		<-db.trimDone
	}
}

// Trim frees the page caches of the writer and of the read connections idle now, as
// the trimmer does once the database is quiet (SQLite; nothing on PostgreSQL). It waits
// for the write in progress, if any.
func (db *DB) Trim(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	if err := db.trimWriter(ctx); err != nil {
		return err
	}
	db.trimReaders(ctx)
	return nil
}

// trimWriter frees the writer connection's page cache (PRAGMA shrink_memory).
func (db *DB) trimWriter(ctx context.Context) error {
	_, err := db.w.ExecContext(ctx, "PRAGMA shrink_memory")
	return err
}

// trimReaders frees the page caches of the read connections that are idle now: it
// takes that many connections from the pool (the pool hands out idle ones first), all
// at once so that each is a different one, and shrinks each.
func (db *DB) trimReaders(ctx context.Context) {
	n := db.r.Stats().Idle
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := db.r.Conn(ctx)
		if err != nil {
			return
		}
		conns = append(conns, c)
		_, _ = c.ExecContext(ctx, "PRAGMA shrink_memory")
	}
}
