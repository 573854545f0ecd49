package rules

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// View counts are cached the way Zendesk caches them (docs/FIELDS.md, "View counts"):
// counting a view at a million tickets reads hundreds of thousands of index entries, so
// each count is kept with the account's change version at the time it was taken (see
// changeVersion; the export change log's triggers move it with every ticket insert or
// update, whichever process wrote it). A count whose account has not changed since is
// exact and served as fresh at the cost of one index read. Otherwise, when the last count took under syncRecount it is
// simply taken again (small accounts always get exact counts), and when it took longer
// the cached value is served with fresh = false while one background query recounts it. A count is also stale after countMaxAge, for what
// changes without touching a ticket row (time passing for "updated in the last 24
// hours", share states). The key is the account, the viewer (user, role, restriction
// and, for a group or organization restriction, the memberships it resolves to) and the
// view's conditions, so a count is never served to a viewer who would count otherwise.

// countMaxAge is how long a count stays fresh when the account's tickets do not change.
const countMaxAge = time.Minute

// syncRecount: a stale count that took less than this is counted again at once.
const syncRecount = 20 * time.Millisecond

// maxCachedCounts bounds the cache; past it, it starts afresh.
const maxCachedCounts = 20000

// maxRecounts bounds the background recounts running at once (per process).
const maxRecounts = 2

// recountTimeout bounds one background recount.
const recountTimeout = 30 * time.Second

// ViewCount is a view's ticket count as the viewer sees it.
type ViewCount struct {
	N int64
	// Fresh: no ticket of the account changed since the count was taken, and it is
	// younger than a minute. A stale count is being recounted.
	Fresh bool
}

type countEntry struct {
	n          int64
	ver        version
	settled    bool // ver was read while no ticket write of the account was committing
	at         time.Time
	took       time.Duration
	recounting bool
}

type countCache struct {
	mu       sync.Mutex
	m        map[string]*countEntry
	running  int
	wg       sync.WaitGroup
	maxAge   time.Duration
	sync     time.Duration // syncRecount; tests set 0 to force the background path
	recounts chan struct{} // tests: one send per finished recount (nil: none)
}

func newCountCache() *countCache {
	return &countCache{m: map[string]*countEntry{}, maxAge: countMaxAge, sync: syncRecount}
}

// version is an account's change version: a position in its export change order.
type version struct{ ts, seq int64 }

func (v version) less(w version) bool { return v.ts < w.ts || v.ts == w.ts && v.seq < w.seq }

// changeVersion is the account's change version: it moves with every ticket written.
// On SQLite it is the account's export clock (numbers are handed out in commit order),
// always settled. On PostgreSQL numbers are handed out before commit and commit in any
// order, so the newest visible ticket change alone would miss a write that commits later
// with a lower number; export_version (migration 0041) also says whether it was read
// while no write of the account was between its number and its commit (a try-lock, so
// it never waits). Only a settled version proves later that nothing changed since:
// every ticket write not seen by it comes out above it.
func changeVersion(ctx context.Context, q store.Queryer, acct ids.Account) (version, bool, error) {
	var v version
	if q.D() == store.Postgres {
		var settled bool
		if err := q.QueryRowContext(ctx, `SELECT ts, seq, settled FROM export_version(?)`, acct).Scan(&v.ts, &v.seq, &settled); err != nil {
			return version{}, false, fmt.Errorf("rules: view count: change version: %w", err)
		}
		return v, settled, nil
	}
	err := q.QueryRowContext(ctx, `SELECT seq FROM export_clock WHERE account_id = ?`, acct).Scan(&v.seq)
	if errors.Is(err, sql.ErrNoRows) {
		return version{}, true, nil
	}
	if err != nil {
		return version{}, false, fmt.Errorf("rules: view count: change number: %w", err)
	}
	return v, true, nil
}

// countKey identifies what a count depends on besides the tickets themselves.
func countKey(ctx context.Context, q store.Queryer, acct ids.Account, viewer ticket.Actor, conds Conditions) (string, error) {
	cj, err := json.Marshal(conds)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d|%d|%s|%s|", acct, viewer.UserID, viewer.Role, viewer.Restriction)
	var members string
	switch {
	case viewer.Role != identity.Agent:
	case viewer.Restriction == identity.RestrictGroups:
		members = `SELECT group_id FROM group_memberships WHERE account_id = ? AND user_id = ? ORDER BY group_id`
	case viewer.Restriction == identity.RestrictOrganization:
		members = `SELECT organization_id FROM organization_memberships WHERE account_id = ? AND user_id = ? ORDER BY organization_id`
	}
	if members != "" {
		rows, err := q.QueryContext(ctx, members, acct, viewer.UserID)
		if err != nil {
			return "", fmt.Errorf("rules: view count: memberships: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return "", err
			}
			b.WriteString(strconv.FormatInt(id, 10))
			b.WriteByte(',')
		}
		if err := rows.Err(); err != nil {
			return "", err
		}
	}
	b.WriteByte('|')
	b.Write(cj)
	return b.String(), nil
}

// CountView counts the tickets of a view (or of unsaved conditions) as the viewer sees
// them, from the cache when the account has not changed since (see above). The first
// count of a key is taken at once; later ones may be stale while a recount runs.
func (s *Service) CountView(ctx context.Context, acct ids.Account, viewer ticket.Actor, conds Conditions, out Output) (ViewCount, error) {
	db := s.db.R()
	q, err := CompileView(s.db.Dialect, acct, viewer, conds, out, store.Now())
	if err != nil {
		return ViewCount{}, err
	}
	key, err := countKey(ctx, db, acct, viewer, conds)
	if err != nil {
		return ViewCount{}, err
	}
	ver, settled, err := changeVersion(ctx, db, acct)
	if err != nil {
		return ViewCount{}, err
	}
	c := s.counts
	c.mu.Lock()
	e := c.m[key]
	if e != nil {
		if e.settled && e.ver == ver && time.Since(e.at) < c.maxAge {
			c.mu.Unlock()
			return ViewCount{N: e.n, Fresh: true}, nil
		}
	}
	if e != nil && e.took >= c.sync {
		if !e.recounting && c.running < maxRecounts {
			e.recounting = true
			c.running++
			c.wg.Add(1)
			go s.recount(key, e, q, ver, settled)
		}
		n := e.n
		c.mu.Unlock()
		return ViewCount{N: n}, nil
	}
	c.mu.Unlock()
	t0 := time.Now()
	n, err := q.Count(ctx, db)
	if err != nil {
		return ViewCount{}, err
	}
	c.store(key, &countEntry{n: n, ver: ver, settled: settled, at: time.Now(), took: time.Since(t0)})
	return ViewCount{N: n, Fresh: true}, nil
}

// recount counts a stale entry again in the background.
func (s *Service) recount(key string, e *countEntry, q *Query, ver version, settled bool) {
	c := s.counts
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), recountTimeout)
	defer cancel()
	t0 := time.Now()
	n, err := q.Count(ctx, s.db.R())
	took := time.Since(t0)
	c.mu.Lock()
	e.recounting = false
	c.running--
	c.mu.Unlock()
	if err != nil {
		s.log.Warn("view recount failed", "err", err)
	} else {
		c.store(key, &countEntry{n: n, ver: ver, settled: settled, at: time.Now(), took: took})
	}
	if c.recounts != nil {
		c.recounts <- struct{}{}
	}
}

func (c *countCache) store(key string, e *countEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedCounts {
		c.m = map[string]*countEntry{}
	}
	if old := c.m[key]; old != nil && e.ver.less(old.ver) {
		return // a newer count got there first
	}
	c.m[key] = e
}

// Wait waits for the background recounts started so far (tests, shutdown).
func (s *Service) Wait() { s.counts.wg.Wait() }
