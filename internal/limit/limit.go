// Package limit counts events in time windows: API requests per account per minute,
// password attempts per email, per email and address, per address. A key's window starts
// with its first event and lasts the given length; the next event after it starts a new
// one. (Windows aligned to the clock would let a burst straddle a boundary and get twice
// the limit.) Callers use one window length per key.
//
// With several server processes on one PostgreSQL database the counts live in the
// database (table limit_counters), so a limit holds in total, not per process. An
// SQLite file is owned by one process, which counts in memory and spares its single
// writer a write per request.
package limit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"tandem/internal/store"
)

// Counter counts events per key in windows of a given length.
type Counter interface {
	// Hit adds an event to key's current window of length w (starting one if there is
	// none) and returns the window's count including it, and when the window ends.
	Hit(ctx context.Context, key string, w time.Duration) (n int64, ends time.Time, err error)
	// Count returns the count of key's current window without adding to it (0 when
	// there is none).
	Count(ctx context.Context, key string) (n int64, ends time.Time, err error)
	// Clear ends key's current window.
	Clear(ctx context.Context, key string) error
}

// New returns the counter suited to the database: shared through the database on
// PostgreSQL, in memory on SQLite.
func New(db *store.DB) Counter {
	if db.Dialect == store.Postgres {
		return NewDB(db)
	}
	return NewMemory()
}

// Memory is a Counter for one process.
type Memory struct {
	mu    sync.Mutex
	wins  map[string]*memWindow
	swept time.Time
}

type memWindow struct {
	n    int64
	ends time.Time
}

// NewMemory returns an empty in-memory counter.
func NewMemory() *Memory { return &Memory{wins: map[string]*memWindow{}, swept: time.Now()} }

// Hit implements Counter.
func (m *Memory) Hit(_ context.Context, key string, w time.Duration) (int64, time.Time, error) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(m.swept) > time.Minute {
		for k, win := range m.wins {
			if !now.Before(win.ends) {
				delete(m.wins, k)
			}
		}
		m.swept = now
	}
	win := m.wins[key]
	if win == nil || !now.Before(win.ends) {
		win = &memWindow{ends: now.Add(w)}
		m.wins[key] = win
	}
	win.n++
	return win.n, win.ends, nil
}

// Count implements Counter.
func (m *Memory) Count(_ context.Context, key string) (int64, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if win := m.wins[key]; win != nil && time.Now().Before(win.ends) {
		return win.n, win.ends, nil
	}
	return 0, time.Time{}, nil
}

// Clear implements Counter.
func (m *Memory) Clear(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.wins, key)
	return nil
}

// DB is a Counter kept in the database, shared by every process using it.
type DB struct {
	db *store.DB
}

// NewDB returns a counter kept in the database's limit_counters table.
func NewDB(db *store.DB) *DB { return &DB{db: db} }

// Hit implements Counter: one upsert, atomic across processes. A window that has ended
// is restarted in the same statement.
func (d *DB) Hit(ctx context.Context, key string, w time.Duration) (int64, time.Time, error) {
	now := store.Now()
	var n, ends int64
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO limit_counters (bucket, n, expires_at) VALUES (?, 1, ?)
			ON CONFLICT (bucket) DO UPDATE SET
				n = CASE WHEN limit_counters.expires_at <= ? THEN 1 ELSE limit_counters.n + 1 END,
				expires_at = CASE WHEN limit_counters.expires_at <= ? THEN excluded.expires_at ELSE limit_counters.expires_at END
			RETURNING n, expires_at`,
			key, store.Micros(now.Add(w)), store.Micros(now), store.Micros(now)).Scan(&n, &ends)
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("limit: hit %s: %w", key, err)
	}
	return n, store.Time(ends), nil
}

// Count implements Counter.
func (d *DB) Count(ctx context.Context, key string) (int64, time.Time, error) {
	var n, ends int64
	err := d.db.R().QueryRowContext(ctx, `SELECT n, expires_at FROM limit_counters WHERE bucket = ? AND expires_at > ?`, key, store.Micros(store.Now())).Scan(&n, &ends)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("limit: count %s: %w", key, err)
	}
	return n, store.Time(ends), nil
}

// Clear implements Counter.
func (d *DB) Clear(ctx context.Context, key string) error {
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM limit_counters WHERE bucket = ?`, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("limit: clear %s: %w", key, err)
	}
	return nil
}
