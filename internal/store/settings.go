package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Account settings the ticket write path reads on every write (custom fields, SLA
// policies, the triggers' version, AI models and autonomy, the knowledge base's and the
// reports' state, and since migration 0046 the default support address) are cached per
// process behind one number per account, settings_versions.version (migration 0043),
// which the database's triggers bump in the
// transaction that changes any of them. A write reads the number once and takes each
// setting from a SettingsCache made at that number, so a change committed by any
// process, on either database, is seen by the next write everywhere.

// SettingsVersion returns the account's settings version as the transaction sees it (0
// while no setting has changed). Inside PinSettings it is read once and remembered.
func (tx *Tx) SettingsVersion(ctx context.Context, acct int64) (int64, error) {
	if tx.pins > 0 && tx.pinAcct == acct {
		return tx.pinVersion, nil
	}
	var v int64
	err := tx.QueryRowContext(ctx, `SELECT version FROM settings_versions WHERE account_id = ?`, acct).Scan(&v)
	if err != nil && !errors.Is(err, ErrNoRows) {
		return 0, fmt.Errorf("store: settings version: %w", err)
	}
	return v, nil
}

// PinSettings reads the account's settings version once for the work up to the returned
// unpin (one ticket write: it changes no setting, and its hooks then share one read).
// Pins nest; a pin for another account while one is held reads as usual.
func (tx *Tx) PinSettings(ctx context.Context, acct int64) (unpin func(), err error) {
	if tx.pins > 0 {
		if tx.pinAcct != acct {
			return func() {}, nil
		}
		tx.pins++
		return func() { tx.pins-- }, nil
	}
	v, err := tx.SettingsVersion(ctx, acct)
	if err != nil {
		return nil, err
	}
	tx.pinAcct, tx.pinVersion, tx.pins = acct, v, 1
	return func() { tx.pins-- }, nil
}

// maxSettingsAccounts bounds a SettingsCache; past it, the cache starts afresh.
const maxSettingsAccounts = 20000

// SettingsCache keeps one value per account, made at a settings version.
type SettingsCache[T any] struct {
	mu sync.Mutex
	m  map[settingsKey]settingsEntry[T]
}

// settingsKey names an account of a database (a process may open several).
type settingsKey struct {
	db   *DB
	acct int64
}

type settingsEntry[T any] struct {
	version int64
	v       T
}

// Get returns the account's value at the settings version tx sees, calling load (which
// reads through tx) when the cached copy was made at another version. What a write
// transaction loaded is kept only once it has committed, so the view of a write that
// rolls back is never kept; in a read snapshot Get only loads. The value must not be
// changed by callers.
func (c *SettingsCache[T]) Get(ctx context.Context, tx *Tx, acct int64, load func() (T, error)) (T, error) {
	if !tx.write {
		return load() // a read snapshot: nothing it reads is kept
	}
	version, err := tx.SettingsVersion(ctx, acct)
	if err != nil {
		var zero T
		return zero, err
	}
	key := settingsKey{tx.db, acct}
	if v, ok := c.lookup(key, version); ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	tx.AfterCommit(func() { c.keep(key, version, v) })
	return v, nil
}

// SettingsVersionSQL is the account's settings version (0 while no setting has
// changed) as an expression of one argument, the account: a read selects it in its own
// statement (beside the rows it reads, which it then costs no round trip) and passes it
// to SettingsCache.At.
const SettingsVersionSQL = `COALESCE((SELECT version FROM settings_versions WHERE account_id = ?), 0)`

// At returns the account's value at version, a settings version a read outside any
// write transaction selected (SettingsVersionSQL), calling load when the cached copy was
// made at another version; what load returns is kept at version. load must read after
// version was read, so that it reads the settings as of version or later: a copy kept
// at a version is then never older than that version (a change committed in between
// bumped the version, and whoever reads the new one loads again). The value must not be
// changed by callers.
func (c *SettingsCache[T]) At(db *DB, acct, version int64, load func() (T, error)) (T, error) {
	key := settingsKey{db, acct}
	if v, ok := c.lookup(key, version); ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.keep(key, version, v)
	return v, nil
}

// lookup returns the value kept for key if it was made at version.
func (c *SettingsCache[T]) lookup(key settingsKey, version int64) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || e.version != version {
		var zero T
		return zero, false
	}
	return e.v, true
}

// keep keeps v as key's value at version, unless one made at a later version is kept.
func (c *SettingsCache[T]) keep(key settingsKey, version int64, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxSettingsAccounts {
		c.m = map[settingsKey]settingsEntry[T]{}
	}
	if cur, ok := c.m[key]; !ok || cur.version <= version {
		c.m[key] = settingsEntry[T]{version: version, v: v}
	}
}

// Features of account_uses (migration 0065): what an account has ever used of the
// features whose ticket after-hooks read under the ticket's row lock on every write.
const (
	UsesSLA          = "sla"            // an SLA policy was created: targets may exist
	UsesSuggestions  = "ai_suggestions" // an AI suggestion was shown on some ticket
	UsesAIAutonomous = "ai_autonomous"  // the AI may have answered a ticket autonomously
)

var usesCache SettingsCache[map[string]bool]

// Uses reports whether the account has ever used the feature (a Uses* name). A false
// answer lets a hook skip its read: nothing of the feature exists in the account, or it
// appeared in a transaction that committed after this one read its settings version —
// the same view of the account's settings every other hook of the write has. The
// answer is cached per process behind the settings version, which the row's insert
// bumps, so a write in any process sees the change at its next settings read.
func (tx *Tx) Uses(ctx context.Context, acct int64, feature string) (bool, error) {
	m, err := usesCache.Get(ctx, tx, acct, func() (map[string]bool, error) {
		rows, err := tx.QueryContext(ctx, `SELECT feature FROM account_uses WHERE account_id = ?`, acct)
		if err != nil {
			return nil, fmt.Errorf("store: account uses: %w", err)
		}
		defer rows.Close()
		m := map[string]bool{}
		for rows.Next() {
			var f string
			if err := rows.Scan(&f); err != nil {
				return nil, fmt.Errorf("store: account uses: %w", err)
			}
			m[f] = true
		}
		return m, rows.Err()
	})
	if err != nil {
		return false, err
	}
	return m[feature], nil
}
