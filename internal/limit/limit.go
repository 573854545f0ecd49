// Package limit counts events in fixed time windows: API requests per account per
// minute, password attempts per email, per email and address, per address. Windows are
// aligned to the clock (a one-minute window starts on the minute), so every process
// counting the same key agrees on which window an event falls in.
//
// With several server processes on one PostgreSQL database the counts live in the
// database (table limit_counters), so a limit holds in total, not per process. An
// SQLite file is owned by one process, which counts in memory and spares its single
// writer a write per request.
package limit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"tandem/internal/store"
)

// Counter counts events per key in fixed windows of a given length.
type Counter interface {
	// Hit adds an event to key's current window of length w and returns the window's
	// count including it, and when the window ends.
	Hit(ctx context.Context, key string, w time.Duration) (n int64, ends time.Time, err error)
	// Count returns the count of key's current window without adding to it.
	Count(ctx context.Context, key string, w time.Duration) (n int64, ends time.Time, err error)
	// Clear forgets key's current window.
	Clear(ctx context.Context, key string, w time.Duration) error
}

// New returns the counter suited to the database: shared through the database on
// PostgreSQL, in memory on SQLite.
func New(db *store.DB) Counter {
	if db.Dialect == store.Postgres {
		return NewDB(db)
	}
	return NewMemory()
}

// window returns the start and end of the window of length w holding now.
func window(now time.Time, w time.Duration) (time.Time, time.Time) {
	start := now.Truncate(w)
	return start, start.Add(w)
}

// Memory is a Counter for one process.
type Memory struct {
	mu     sync.Mutex
	counts map[memKey]int64
	ends   map[memKey]time.Time
	swept  time.Time
}

type memKey struct {
	key   string
	start int64
}

// NewMemory returns an empty in-memory counter.
func NewMemory() *Memory {
	return &Memory{counts: map[memKey]int64{}, ends: map[memKey]time.Time{}, swept: time.Now()}
}

// Hit implements Counter.
func (m *Memory) Hit(_ context.Context, key string, w time.Duration) (int64, time.Time, error) {
	return m.add(key, w, 1)
}

// Count implements Counter.
func (m *Memory) Count(_ context.Context, key string, w time.Duration) (int64, time.Time, error) {
	return m.add(key, w, 0)
}

// Clear implements Counter.
func (m *Memory) Clear(_ context.Context, key string, w time.Duration) error {
	start, _ := window(time.Now(), w)
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey{key, start.UnixMicro()}
	delete(m.counts, k)
	delete(m.ends, k)
	return nil
}

func (m *Memory) add(key string, w time.Duration, by int64) (int64, time.Time, error) {
	now := time.Now()
	start, end := window(now, w)
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(m.swept) > time.Minute {
		for k, e := range m.ends {
			if now.After(e) {
				delete(m.counts, k)
				delete(m.ends, k)
			}
		}
		m.swept = now
	}
	k := memKey{key, start.UnixMicro()}
	if by == 0 {
		return m.counts[k], end, nil
	}
	m.counts[k] += by
	m.ends[k] = end
	return m.counts[k], end, nil
}

// DB is a Counter kept in the database, shared by every process using it.
type DB struct {
	db *store.DB
}

// NewDB returns a counter kept in the database's limit_counters table.
func NewDB(db *store.DB) *DB { return &DB{db: db} }

// Hit implements Counter: one upsert, atomic across processes.
func (d *DB) Hit(ctx context.Context, key string, w time.Duration) (int64, time.Time, error) {
	start, end := window(time.Now(), w)
	var n int64
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO limit_counters (bucket, window_start, n, expires_at) VALUES (?, ?, 1, ?)
			ON CONFLICT (bucket, window_start) DO UPDATE SET n = limit_counters.n + 1 RETURNING n`,
			key, store.Micros(start), store.Micros(end)).Scan(&n)
	})
	if err != nil {
		return 0, end, fmt.Errorf("limit: hit %s: %w", key, err)
	}
	return n, end, nil
}

// Count implements Counter.
func (d *DB) Count(ctx context.Context, key string, w time.Duration) (int64, time.Time, error) {
	start, end := window(time.Now(), w)
	var n int64
	err := d.db.R().QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM limit_counters WHERE bucket = ? AND window_start = ?`, key, store.Micros(start)).Scan(&n)
	if err != nil {
		return 0, end, fmt.Errorf("limit: count %s: %w", key, err)
	}
	return n, end, nil
}

// Clear implements Counter.
func (d *DB) Clear(ctx context.Context, key string, w time.Duration) error {
	start, _ := window(time.Now(), w)
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM limit_counters WHERE bucket = ? AND window_start = ?`, key, store.Micros(start))
		return err
	})
	if err != nil {
		return fmt.Errorf("limit: clear %s: %w", key, err)
	}
	return nil
}
