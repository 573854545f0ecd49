package rules

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Clock tells the automation runner the time. The server uses the wall clock; tests
// move their own.
type Clock interface{ Now() time.Time }

// WallClock is the system clock.
type WallClock struct{}

// Now returns the current time in UTC.
func (WallClock) Now() time.Time { return time.Now().UTC() }

// DefaultAutomationInterval is Zendesk's: automations run once an hour.
const DefaultAutomationInterval = time.Hour

// MaxFiresPerAutomation caps the tickets one automation acts on in one pass (Zendesk's
// 1,000 per automation and hour); the rest wait for the next pass.
const MaxFiresPerAutomation = 1000

// AutomationConfig configures an AutomationRunner.
type AutomationConfig struct {
	// Every is the length of a period; one pass runs per period across every process
	// sharing the database (DefaultAutomationInterval when zero).
	Every time.Duration
	// Lease is how long a pass may go without renewing its claim before another process
	// takes it over (a process that died mid-pass); Every/4 when zero, at most 5 minutes.
	Lease time.Duration
	// Clock is the time the runner reads (WallClock when nil).
	Clock Clock
}

// AutomationRunner runs the automation passes: in each period, one process claims the
// pass in automation_passes and runs every active automation of every account at the
// time it claimed it. Each fire is the ticket's update through the write path, made in
// the transaction that records it in automation_fires, so a pass cut short and run
// again by another process never fires twice on the same ticket.
type AutomationRunner struct {
	db       *store.DB
	rules    *Service
	tickets  *ticket.Service
	accounts *account.Store
	log      *slog.Logger
	cfg      AutomationConfig
	holder   string
}

// PassStats says what a pass did.
type PassStats struct {
	Period      int64
	Automations int
	// Candidates are the tickets in the automations' time windows the pass evaluated.
	Candidates int
	Fired      int
}

// NewAutomationRunner returns a runner writing tickets through tickets.
func NewAutomationRunner(db *store.DB, rules *Service, tickets *ticket.Service, accounts *account.Store, log *slog.Logger, cfg AutomationConfig) *AutomationRunner {
	if cfg.Every <= 0 {
		cfg.Every = DefaultAutomationInterval
	}
	if cfg.Lease <= 0 {
		cfg.Lease = min(cfg.Every/4, 5*time.Minute)
	}
	if cfg.Clock == nil {
		cfg.Clock = WallClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &AutomationRunner{db: db, rules: rules, tickets: tickets, accounts: accounts, log: log, cfg: cfg, holder: hex.EncodeToString(b)}
}

// Run is the runner's worker: it looks for an unclaimed (or abandoned) pass a few times
// per period and runs it, until ctx ends.
func (r *AutomationRunner) Run(ctx context.Context) {
	poll := min(max(r.cfg.Every/4, time.Second), time.Minute)
	t := time.NewTimer(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, _, err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("automations", "err", err)
		}
		t.Reset(poll)
	}
}

// Tick runs the pass of the current period if no process has run it (or the one that
// claimed it stopped renewing its lease); ran says whether this call ran it.
func (r *AutomationRunner) Tick(ctx context.Context) (ran bool, stats PassStats, err error) {
	now := r.cfg.Clock.Now()
	period := now.UnixMicro() / r.cfg.Every.Microseconds()
	ok, err := r.claim(ctx, period, now)
	if err != nil || !ok {
		return false, PassStats{Period: period}, err
	}
	stats, err = r.pass(ctx, period, now)
	stats.Period = period
	if err != nil {
		return true, stats, err // the claim stays unfinished: another process takes over after the lease
	}
	err = r.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE automation_passes SET finished_at = ?, fired = ? WHERE period = ? AND holder = ?`, store.Micros(r.cfg.Clock.Now()), stats.Fired, period, r.holder)
		return err
	})
	if err != nil {
		return true, stats, fmt.Errorf("rules: finish automation pass: %w", err)
	}
	r.log.Info("automation pass", "period", period, "automations", stats.Automations, "candidates", stats.Candidates, "fired", stats.Fired)
	return true, stats, nil
}

// claim takes the pass of a period: the first process to insert its row, or the first to
// find it unfinished past its lease.
func (r *AutomationRunner) claim(ctx context.Context, period int64, now time.Time) (bool, error) {
	won := false
	err := r.db.Write(ctx, func(tx *store.Tx) error {
		until := store.Micros(now.Add(r.cfg.Lease))
		res, err := tx.ExecContext(ctx, `INSERT INTO automation_passes (period, holder, started_at, lease_until) VALUES (?, ?, ?, ?) ON CONFLICT (period) DO NOTHING`,
			period, r.holder, store.Micros(now), until)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			won = true
			// Old passes are of no further use.
			_, err := tx.ExecContext(ctx, `DELETE FROM automation_passes WHERE period < ?`, period-1000)
			return err
		}
		res, err = tx.ExecContext(ctx, `UPDATE automation_passes SET holder = ?, lease_until = ? WHERE period = ? AND finished_at = 0 AND lease_until < ?`,
			r.holder, until, period, store.Micros(now))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		won = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("rules: claim automation pass: %w", err)
	}
	return won, nil
}

// renew extends this process's claim on the pass; it fails if another process took it.
func (r *AutomationRunner) renew(ctx context.Context, period int64) error {
	return r.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE automation_passes SET lease_until = ? WHERE period = ? AND holder = ? AND finished_at = 0`,
			store.Micros(r.cfg.Clock.Now().Add(r.cfg.Lease)), period, r.holder)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errors.New("rules: the automation pass was taken over by another process")
		}
		return nil
	})
}

// pass runs every active automation of every account, at now.
func (r *AutomationRunner) pass(ctx context.Context, period int64, now time.Time) (PassStats, error) {
	var st PassStats
	var accts []ids.Account
	rows, err := r.db.R().QueryContext(ctx, `SELECT DISTINCT account_id FROM automations WHERE active = TRUE ORDER BY account_id`)
	if err != nil {
		return st, fmt.Errorf("rules: accounts with automations: %w", err)
	}
	for rows.Next() {
		var id ids.Account
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return st, err
		}
		accts = append(accts, id)
	}
	rows.Close()
	for _, id := range accts {
		acct, err := r.accounts.ByID(ctx, id)
		if err != nil {
			r.log.Warn("automations: account", "account", id, "err", err)
			continue
		}
		list, err := Automations(ctx, r.db.R(), id, true)
		if err != nil {
			return st, err
		}
		for _, a := range list {
			st.Automations++
			n, fired, err := r.runOne(ctx, acct, a, now, func() error { return r.renew(ctx, period) })
			st.Candidates += n
			st.Fired += fired
			if err != nil {
				return st, err
			}
			if err := r.renew(ctx, period); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// AutomationVia is the via of what an automation does, as Zendesk records it.
func AutomationVia(id int64, title string) ticket.Via {
	v := TriggerVia(id, title)
	v.Source["rel"] = "automation"
	return v
}

// MaxCandidatesPerAutomation caps the tickets one automation evaluates in a pass.
const MaxCandidatesPerAutomation = 5 * MaxFiresPerAutomation

// runOne runs one automation over the tickets in its window: the SQL selects, through
// the index of a time column, the tickets not closed whose times fall in the window of
// its time conditions and that it has not acted on since they last changed; each is
// then evaluated in Go and updated in its own transaction. The other conditions stay
// out of the SQL so that the planner starts from the time window (an equality on the
// status would tempt it into the status index, and a pass would cost every pending
// ticket instead of those pending for long enough).
func (r *AutomationRunner) runOne(ctx context.Context, acct *account.Account, a *Automation, now time.Time, renew func() error) (candidates, fired int, err error) {
	c, err := compileTrigger(&Trigger{ID: a.ID, Title: a.Title, Conditions: a.Conditions, Actions: a.Actions})
	if err != nil {
		r.log.Warn("automations: skipping an automation that does not compile", "account", acct.ID, "automation", a.ID, "err", err)
		return 0, 0, nil
	}
	c.via = AutomationVia(a.ID, a.Title)
	where, args := automationWindow(acct.ID, a, now)
	q := `SELECT t.id FROM tickets t WHERE t.account_id = ? AND t.deleted_at = 0 AND t.status <> 'closed' AND ` + where +
		` AND NOT EXISTS (SELECT 1 FROM automation_fires f WHERE f.account_id = t.account_id AND f.automation_id = ? AND f.ticket_id = t.id AND f.ticket_version = t.version)
		LIMIT ` + strconv.Itoa(MaxCandidatesPerAutomation)
	batch, err := r.ticketIDs(ctx, q, append(append([]any{acct.ID}, args...), a.ID)...)
	if err != nil {
		return 0, 0, err
	}
	slices.Sort(batch)
	for _, id := range batch {
		if fired >= MaxFiresPerAutomation {
			break
		}
		candidates++
		if candidates%100 == 0 {
			if err := renew(); err != nil { // a long automation keeps its claim
				return candidates, fired, err
			}
		}
		ok, err := r.fire(ctx, acct, c, id, now)
		if err != nil {
			return candidates, fired, err
		}
		if ok {
			fired++
		}
	}
	return candidates, fired, nil
}

func (r *AutomationRunner) ticketIDs(ctx context.Context, q string, args ...any) ([]ids.Ticket, error) {
	rows, err := r.db.R().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("rules: automation candidates: %w", err)
	}
	defer rows.Close()
	var out []ids.Ticket
	for rows.Next() {
		var id ids.Ticket
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// automationWindow is the SQL of an automation's time conditions in all, over
// tickets t (validation guarantees there is one).
func automationWindow(acct ids.Account, a *Automation, now time.Time) (string, []any) {
	w := &sqlWriter{acct: acct, now: now}
	parts := []string{"1=1"}
	for _, cd := range a.Conditions.All {
		if f := lookupCond(cd.Field); f != nil && f.timed && f.sql != nil {
			parts = append(parts, "("+strings.ReplaceAll(f.sql(w, cd), walkMark, "")+")")
		}
	}
	return strings.Join(parts, " AND "), w.args
}

// errSkip rolls back a ticket the automation no longer applies to.
var errSkip = errors.New("rules: automation skipped")

// fire evaluates the automation on one ticket, locked, and carries out its actions
// through the write path; the fire is recorded in the same transaction.
func (r *AutomationRunner) fire(ctx context.Context, acct *account.Account, c *compiled, id ids.Ticket, now time.Time) (bool, error) {
	fired := false
	err := r.db.Write(ctx, func(tx *store.Tx) error {
		fired = false
		via := c.via
		p := &ticket.Patch{Via: &via, Rule: func(ctx context.Context, ch *ticket.Change) error {
			var v int64
			err := tx.QueryRowContext(ctx, `SELECT ticket_version FROM automation_fires WHERE account_id = ? AND automation_id = ? AND ticket_id = ?`, acct.ID, c.t.ID, id).Scan(&v)
			if err == nil && v == ch.Before.Version {
				return errSkip // fired already, and nothing but time changed since
			}
			e := newEval(ctx, tx, ch, r.rules)
			e.now, e.timed = now, true
			if !c.matches(e) {
				return errSkip
			}
			changed, err := e.fire(c)
			if err != nil {
				return err
			}
			if !changed {
				return errSkip
			}
			fired = true
			return e.flushNotifications()
		}}
		res, err := r.tickets.Write(ctx, tx, acct, ticket.Actor{Role: identity.Admin, Name: "Automation"}, id, p)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO automation_fires (account_id, automation_id, ticket_id, ticket_version, fired_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (account_id, automation_id, ticket_id) DO UPDATE SET ticket_version = excluded.ticket_version, fired_at = excluded.fired_at`,
			acct.ID, c.t.ID, id, res.Ticket.Version, store.Micros(now))
		return err
	})
	switch {
	case errors.Is(err, errSkip), errs.Is(err, errs.NotFound), errs.Is(err, errs.Invalid):
		// Not (or no longer) for this automation: changed, closed or deleted meanwhile.
		return false, nil
	case err != nil:
		return false, fmt.Errorf("rules: automation %d on ticket %d: %w", c.t.ID, id, err)
	}
	return fired, nil
}
