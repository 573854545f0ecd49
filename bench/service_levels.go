package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"tandem/internal/account"
	"tandem/internal/ids"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// benchClock is the automation runner's clock, moved by the benchmark.
type benchClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *benchClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *benchClock) add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// AutomationResult is what one automation pass over a large account cost.
type AutomationResult struct {
	Tickets int
	// Matching is how many tickets the pass had to act on; Fired how many it did.
	Matching, Fired int
	Pass            time.Duration
	// Idle is a pass an hour later, when nothing matches any more.
	Idle time.Duration
}

// AutomationPass seeds n tickets (multi-row inserts, no audits: the pass reads tickets
// only) of which about matching were solved more than 96 hours ago, the rest recently
// solved, open or pending for less than a day, and times one pass of the default
// automations (which closes the old solved tickets), then an idle pass.
func AutomationPass(db *store.DB, n, matching int) (*AutomationResult, error) {
	ctx := context.Background()
	clock := &benchClock{now: time.Now().UTC()}
	desk, err := StartDesk(db, func(c *server.Config) { c.AutomationClock = clock })
	if err != nil {
		return nil, err
	}
	defer desk.Stop()
	if _, err := desk.NewAccount("bench-auto", account.Enterprise); err != nil {
		return nil, err
	}
	acct, err := desk.Srv.Accounts.BySubdomain(ctx, "bench-auto")
	if err != nil {
		return nil, err
	}
	var requester ids.User
	if err := db.R().QueryRowContext(ctx, `SELECT id FROM users WHERE account_id = ? ORDER BY id LIMIT 1`, acct.ID).Scan(&requester); err != nil {
		return nil, err
	}
	if err := seedTimedTickets(ctx, db, acct.ID, requester, n, matching, clock.Now()); err != nil {
		return nil, err
	}
	// The server's own worker may have run this period's pass while the tickets were
	// being seeded: time the pass of the next period.
	clock.add(time.Hour)
	res := &AutomationResult{Tickets: n, Matching: matching}
	start := time.Now()
	_, st, err := desk.Srv.Automations.Tick(ctx)
	if err != nil {
		return nil, err
	}
	res.Pass, res.Fired = time.Since(start), st.Fired
	clock.add(time.Hour)
	start = time.Now()
	if _, _, err := desk.Srv.Automations.Tick(ctx); err != nil {
		return nil, err
	}
	res.Idle = time.Since(start)
	return res, nil
}

// seedTimedTickets inserts n tickets 500 to a row: every n/matching-th solved 5 days
// before now, the others solved, pending or open within the last 20 hours (so that an
// hour later they are still under the default automations' 24 and 96 hours).
func seedTimedTickets(ctx context.Context, db *store.DB, acct ids.Account, requester ids.User, n, matching int, now time.Time) error {
	every := max(n/max(matching, 1), 1)
	const batch = 500
	for from := 0; from < n; from += batch {
		var rows []string
		var args []any
		for i := from; i < min(from+batch, n); i++ {
			id := int64(i + 1)
			at := now.Add(-time.Duration(i%72000) * time.Second) // within 20 hours
			status, solved, pending := "open", int64(0), int64(0)
			switch {
			case i%every == 0 && i/every < matching:
				at = now.Add(-5 * 24 * time.Hour)
				status, solved = "solved", store.Micros(at)
			case i%3 == 1:
				status, solved = "solved", store.Micros(at)
			case i%3 == 2:
				status, pending = "pending", store.Micros(at)
			}
			rows = append(rows, "(?, ?, ?, ?, ?, ?, '[]', '{\"channel\":\"api\"}', ?, ?, ?, ?)")
			args = append(args, acct, id, fmt.Sprintf("Ticket %d", id), status, requester, requester, store.Micros(at), store.Micros(at), solved, pending)
		}
		err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO tickets (account_id, id, subject, status, requester_id, submitter_id, tags, via, created_at, updated_at, solved_at, pending_at) VALUES `+strings.Join(rows, ", "), args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("bench: seed tickets: %w", err)
		}
	}
	return db.Write(ctx, func(tx *store.Tx) error { return ticket.AfterBulkInsert(ctx, tx, acct) })
}

// SLAListResult is what include=slas adds to a 100-ticket list.
type SLAListResult struct {
	Plain, WithSLAs Stats
}

// SLAList times GET /api/v2/tickets.json?per_page=100 with and without include=slas,
// over an account whose 100 tickets each carry the targets of a five-metric policy.
func SLAList(db *store.DB, d time.Duration) (*SLAListResult, error) {
	desk, err := StartDesk(db)
	if err != nil {
		return nil, err
	}
	defer desk.Stop()
	c, err := desk.NewAccount("bench-sla", account.Enterprise)
	if err != nil {
		return nil, err
	}
	var metrics []map[string]any
	for _, m := range []string{"first_reply_time", "next_reply_time", "periodic_update_time", "requester_wait_time", "agent_work_time"} {
		metrics = append(metrics, map[string]any{"priority": "high", "metric": m, "target": 240, "business_hours": false})
	}
	if code, err := c.Do("POST", "/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{"title": "All", "policy_metrics": metrics}}, nil); err != nil || code != 201 {
		return nil, fmt.Errorf("bench: create policy: %d %v", code, err)
	}
	for i := range 100 {
		body := map[string]any{"ticket": map[string]any{"subject": fmt.Sprint("SLA ", i), "priority": "high", "comment": map[string]any{"body": "x"}}}
		if code, err := c.Do("POST", "/api/v2/tickets.json", body, nil); err != nil || code != 201 {
			return nil, fmt.Errorf("bench: create ticket: %d %v", code, err)
		}
	}
	get := func(path string) func(int, int) error {
		return func(int, int) error {
			code, err := c.Do("GET", path, nil, nil)
			if err == nil && code != 200 {
				err = fmt.Errorf("status %d", code)
			}
			return err
		}
	}
	return &SLAListResult{
		Plain:    Load(1, d, get("/api/v2/tickets.json?per_page=100")),
		WithSLAs: Load(1, d, get("/api/v2/tickets.json?per_page=100&include=slas")),
	}, nil
}
