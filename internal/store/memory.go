package store

import (
	"context"
	"fmt"

	"modernc.org/sqlite"
)

// ConnMemory is what one SQLite connection holds outside the Go heap
// (sqlite3_db_status): its page cache, its prepared statements and its copy of the
// schema, in bytes.
type ConnMemory struct {
	Cache, Stmts, Schema int
}

// MemoryStats is SQLite's memory as the profiling listener shows it: the writer's, one
// idle reader's (they are alike) and how many readers are open.
type MemoryStats struct {
	Writer, Reader ConnMemory
	// WriterOpen reports whether the writer connection is open (the trimmer closes it
	// once the database is quiet; Writer is zero then).
	WriterOpen bool
	// ReadersOpen and ReadersIdle count the read pool's connections;
	// ReadersClosedIdle counts those closed for being idle so far.
	ReadersOpen, ReadersIdle int
	ReadersClosedIdle        int64
	// Commits and Reads count write transactions and read queries so far; Written the
	// statements run in write transactions.
	Commits, Reads, Written int64
	// Alone counts the commits of a single write: a batch of one in the group commit.
	Alone int64
}

// String is the stats in a line.
func (m MemoryStats) String() string {
	mb := func(c ConnMemory) string {
		return fmt.Sprintf("cache %.1f MB, statements %.1f MB, schema %.1f MB", float64(c.Cache)/1e6, float64(c.Stmts)/1e6, float64(c.Schema)/1e6)
	}
	w := "closed"
	if m.WriterOpen {
		w = mb(m.Writer)
	}
	return fmt.Sprintf("writer: %s\nreaders: %d open, %d idle, %d closed for idleness; one reader: %s\ncommits %d, reads %d, writer statements %d\nwrites committed alone %d\n", w, m.ReadersOpen, m.ReadersIdle, m.ReadersClosedIdle, mb(m.Reader), m.Commits, m.Reads, m.Written, m.Alone)
}

// Memory reads SQLite's memory of the writer and of one reader (SQLite only; it opens
// neither when none is open).
func (db *DB) Memory(ctx context.Context) (MemoryStats, error) {
	var m MemoryStats
	if db.Dialect != SQLite {
		return m, nil
	}
	st := db.r.Stats()
	m.ReadersOpen, m.ReadersIdle, m.ReadersClosedIdle = st.OpenConnections, st.Idle, st.MaxIdleTimeClosed
	m.Commits, m.Reads, m.Written, m.Alone = db.commits.Load(), db.reads.Load(), db.written.Load(), db.alone.Load()
	read := func(c *ConnMemory) func(dc any) error {
		return func(dc any) error {
			s, ok := dc.(sqlite.DBStatus)
			if !ok {
				return nil
			}
			for _, f := range []struct {
				op  sqlite.DBStatusOp
				out *int
			}{{sqlite.DBStatusCacheUsed, &c.Cache}, {sqlite.DBStatusStmtUsed, &c.Stmts}, {sqlite.DBStatusSchemaUsed, &c.Schema}} {
				n, _, err := s.Status(f.op, false)
				if err != nil {
					return err
				}
				*f.out = n
			}
			return nil
		}
	}
	if m.WriterOpen = db.w.Stats().OpenConnections > 0; m.WriterOpen {
		wc, err := db.w.Conn(ctx)
		if err != nil {
			return m, err
		}
		err = wc.Raw(read(&m.Writer))
		wc.Close()
		if err != nil {
			return m, err
		}
	}
	if m.ReadersIdle == 0 {
		return m, nil
	}
	rc, err := db.r.Conn(ctx)
	if err != nil {
		return m, err
	}
	defer rc.Close()
	return m, rc.Raw(read(&m.Reader))
}
