package store

import (
	"context"
	"database/sql"
	"sync"
)

// SQLite spends most of a small write parsing SQL, and database/sql prepares nothing by
// itself; so on SQLite every query is prepared once per pool and reused. (pgx already
// caches prepared statements per connection on PostgreSQL.)
//
// The writer has a single connection, which a transaction holds: preparing on the pool
// from inside a transaction would wait for that connection forever. So a query first
// seen inside a write transaction runs unprepared and is prepared right after the
// transaction ends; from then on transactions use the prepared statement.

// maxCachedStmts bounds the cache: queries built with varying IN lists are many.
const maxCachedStmts = 4000

type stmtCache struct {
	pool    *sql.DB
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the prepared statement for q, or nil (and remembers q to prepare later).
func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[q]; st != nil {
		return st
	}
	if len(c.stmts)+len(c.pending) < maxCachedStmts {
		c.pending[q] = true
	}
	return nil
}

// prepare prepares q on the pool now (callers hold no transaction on it).
func (c *stmtCache) prepare(ctx context.Context, q string) *sql.Stmt {
	c.mu.Lock()
	if st := c.stmts[q]; st != nil {
		c.mu.Unlock()
		return st
	}
	full := len(c.stmts) >= maxCachedStmts
	c.mu.Unlock()
	if full {
		return nil
	}
	st, err := c.pool.PrepareContext(ctx, q)
	if err != nil {
		return nil // run it unprepared; the error, if real, surfaces there
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.stmts[q]; old != nil {
		st.Close()
		return old
	}
	c.stmts[q] = st
	delete(c.pending, q)
	return st
}

// flush prepares the queries first seen inside transactions.
func (c *stmtCache) flush(ctx context.Context) {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	qs := make([]string, 0, len(c.pending))
	for q := range c.pending {
		qs = append(qs, q)
	}
	c.pending = map[string]bool{}
	c.mu.Unlock()
	for _, q := range qs {
		c.prepare(ctx, q)
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = map[string]*sql.Stmt{}
}
