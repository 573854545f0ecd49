package sla

import (
	"context"
	"fmt"
	"slices"
	"time"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// The stages of a target, as stored. A running target whose breach time has passed
// shows as breached (Stage), which needs no write when the time comes.
const (
	Active   = "active"
	Paused   = "paused"
	Achieved = "achieved"
	Breached = "breached"
)

// Target is one SLA target of a ticket: a metric of the policy that applies to it.
type Target struct {
	Metric     string
	PolicyID   int64
	Minutes    int64
	Business   bool
	Stage      string // active, paused or achieved
	Clock      Clock
	BreachAt   time.Time // when the running clock runs out (zero unless active)
	AchievedAt time.Time
}

// StageAt is the stage shown at now: breached once an unachieved target's time ran out.
func (t *Target) StageAt(now time.Time) string {
	switch {
	case t.Stage == Achieved:
		return Achieved
	case !t.Clock.BreachedAt.IsZero(), t.Stage == Active && !t.BreachAt.IsZero() && !t.BreachAt.After(now):
		return Breached
	}
	return t.Stage
}

// Late reports whether the target ran out before it was achieved (or has, by now).
func (t *Target) Late(now time.Time) bool {
	if !t.Clock.BreachedAt.IsZero() {
		return true
	}
	return t.Stage == Active && !t.BreachAt.IsZero() && !t.BreachAt.After(now)
}

const targetCols = `metric, policy_id, target_min, business, stage, spent_us, since_us, breach_at, breached_at, achieved_at`

func scanTarget(row interface{ Scan(...any) error }) (*Target, error) {
	var t Target
	var spent, since, breach, breached, achieved int64
	if err := row.Scan(&t.Metric, &t.PolicyID, &t.Minutes, &t.Business, &t.Stage, &spent, &since, &breach, &breached, &achieved); err != nil {
		return nil, err
	}
	t.Clock = Clock{Target: time.Duration(t.Minutes) * time.Minute, Spent: time.Duration(spent) * time.Microsecond, Since: store.Time(since), BreachedAt: store.Time(breached)}
	t.BreachAt, t.AchievedAt = store.Time(breach), store.Time(achieved)
	return &t, nil
}

// Targets loads the SLA targets of tickets, by ticket, in the order of Metrics.
func Targets(ctx context.Context, q store.Queryer, acct ids.Account, tickets []ids.Ticket) (map[ids.Ticket][]*Target, error) {
	out := map[ids.Ticket][]*Target{}
	if len(tickets) == 0 {
		return out, nil
	}
	args := []any{acct}
	for _, id := range tickets {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, `SELECT ticket_id, `+targetCols+` FROM sla_targets WHERE account_id = ? AND ticket_id IN (`+store.In(len(tickets))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("sla: targets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id ids.Ticket
		var t *Target
		t, err := scanTarget(scanPrefix{rows, &id})
		if err != nil {
			return nil, err
		}
		out[id] = append(out[id], t)
	}
	for _, list := range out {
		slices.SortFunc(list, func(a, b *Target) int { return slices.Index(Metrics, a.Metric) - slices.Index(Metrics, b.Metric) })
	}
	return out, rows.Err()
}

// scanPrefix scans a leading column before a target's.
type scanPrefix struct {
	row interface{ Scan(...any) error }
	dst any
}

func (s scanPrefix) Scan(dst ...any) error { return s.row.Scan(append([]any{s.dst}, dst...)...) }

// replies are the public comments a change adds, by who wrote them.
type replies struct{ agent, requester bool }

func (s *Service) repliesOf(ctx context.Context, tx *store.Tx, ch *ticket.Change) replies {
	var r replies
	for _, c := range ch.Comments {
		if !c.Public {
			continue
		}
		u, err := identity.Get(ctx, tx, ch.Account.ID, c.AuthorID)
		if err == nil && u.Role.IsStaff() && c.AuthorID != ch.Ticket.RequesterID {
			r.agent = true
		} else {
			r.requester = true
		}
	}
	return r
}

// AfterWrite is the ticket write path's after-hook: it finds the first policy whose
// filter the written ticket matches and brings the ticket's targets for its priority
// up to date with the change (replies, status changes), then records the ticket's next
// breach. It runs in the write's transaction, so targets never disagree with tickets.
func (s *Service) AfterWrite(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	t := ch.Ticket
	if t.Deleted() {
		return nil
	}
	acct := ch.Account.ID
	policies, err := s.policies.Get(ctx, tx, int64(acct), func() ([]*Policy, error) { return Policies(ctx, tx, acct) })
	if err != nil {
		return err
	}
	if len(policies) == 0 {
		// No policy: only targets an earlier policy left need the hook (it drops
		// them). An account that never had a policy has none, known without a read
		// under the ticket's lock (store.Uses, migration 0065).
		used, err := tx.Uses(ctx, int64(acct), store.UsesSLA)
		if err != nil || !used {
			return err
		}
	}
	var have map[string]*Target
	if !ch.Created {
		all, err := Targets(ctx, tx, acct, []ids.Ticket{t.ID})
		if err != nil {
			return err
		}
		have = map[string]*Target{}
		for _, tg := range all[t.ID] {
			have[tg.Metric] = tg
		}
	}
	if len(policies) == 0 && len(have) == 0 {
		return nil
	}
	var pol *Policy
	for _, p := range policies {
		ok, err := s.rules.Matches(ctx, tx, ch, rules.Conditions{All: p.All, Any: p.Any})
		if err != nil {
			return err
		}
		if ok {
			pol = p
			break
		}
	}
	want := map[string]PolicyMetric{}
	if pol != nil {
		for _, m := range pol.Metrics {
			if m.Priority == t.Priority {
				want[m.Metric] = m
			}
		}
	}
	for metric := range have {
		if _, ok := want[metric]; !ok {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sla_targets WHERE account_id = ? AND ticket_id = ? AND metric = ?`, acct, t.ID, metric); err != nil {
				return fmt.Errorf("sla: drop target: %w", err)
			}
		}
	}
	var hours *Hours
	next := time.Time{}
	ev := s.repliesOf(ctx, tx, ch)
	for _, metric := range Metrics {
		pm, ok := want[metric]
		if !ok {
			continue
		}
		h := Calendar
		if pm.BusinessHours {
			if hours == nil {
				if hours, err = TicketHours(ctx, tx, acct, t); err != nil {
					return err
				}
			}
			h = hours
		}
		tg := have[metric]
		isNew := tg == nil
		if isNew {
			tg = &Target{Metric: metric}
		}
		tg.PolicyID, tg.Business = pol.ID, pm.BusinessHours
		if tg.Minutes != pm.Target {
			tg.Minutes, tg.Clock.Target = pm.Target, time.Duration(pm.Target)*time.Minute
		}
		Step(tg, h, Event{Now: t.UpdatedAt, Created: ch.Created || isNew, CreatedAt: t.CreatedAt, Status: t.Status, AgentReply: ev.agent && !ch.Created, RequesterReply: ev.requester && !ch.Created})
		if tg.Stage == "" {
			continue // not started (a next reply no one is owed yet)
		}
		if err := saveTarget(ctx, tx, acct, t.ID, tg); err != nil {
			return err
		}
		if tg.Stage == Active && !tg.BreachAt.IsZero() && (next.IsZero() || tg.BreachAt.Before(next)) {
			next = tg.BreachAt
		}
	}
	t.SLABreachAt = next
	if _, err := tx.ExecContext(ctx, `UPDATE tickets SET sla_breach_at = ? WHERE account_id = ? AND id = ?`, store.Micros(next), acct, t.ID); err != nil {
		return fmt.Errorf("sla: next breach: %w", err)
	}
	return nil
}

// TicketHours is the business hours a ticket's targets count in: the schedule set on
// the ticket (the trigger action set_schedule), else its organization's default, else
// the account's first schedule; calendar time when the account has none.
func TicketHours(ctx context.Context, q store.Queryer, acct ids.Account, t *ticket.Ticket) (*Hours, error) {
	for _, id := range []int64{t.ScheduleID, OrgSchedule(ctx, q, acct, t.OrganizationID)} {
		if id == 0 {
			continue
		}
		if sc, err := GetSchedule(ctx, q, acct, id); err == nil {
			return sc.Hours()
		}
	}
	list, err := Schedules(ctx, q, acct)
	if err != nil || len(list) == 0 {
		return Calendar, err
	}
	return list[0].Hours()
}

// OrgSchedule is an organization's default schedule (0: none).
func OrgSchedule(ctx context.Context, q store.Queryer, acct ids.Account, o ids.Org) int64 {
	var id int64
	if o != 0 {
		_ = q.QueryRowContext(ctx, `SELECT schedule_id FROM organization_schedules WHERE account_id = ? AND organization_id = ?`, acct, o).Scan(&id)
	}
	return id
}

// SetOrgSchedule makes a schedule the default of an organization's tickets (0 removes
// the default).
func (s *Service) SetOrgSchedule(ctx context.Context, acct ids.Account, o ids.Org, schedule int64) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations WHERE account_id = ? AND id = ?`, acct, o).Scan(&n); err != nil || n == 0 {
			return errs.NotFoundf("organization %d not found", o)
		}
		if schedule == 0 {
			_, err := tx.ExecContext(ctx, `DELETE FROM organization_schedules WHERE account_id = ? AND organization_id = ?`, acct, o)
			return err
		}
		if _, err := GetSchedule(ctx, tx, acct, schedule); err != nil {
			return errs.Invalidf("schedule_id", "InvalidValue", "schedule %d does not exist", schedule)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO organization_schedules (account_id, organization_id, schedule_id) VALUES (?, ?, ?)
			ON CONFLICT (account_id, organization_id) DO UPDATE SET schedule_id = excluded.schedule_id`, acct, o, schedule)
		return err
	})
}

func saveTarget(ctx context.Context, tx *store.Tx, acct ids.Account, id ids.Ticket, t *Target) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO sla_targets (account_id, ticket_id, `+targetCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, ticket_id, metric) DO UPDATE SET policy_id = excluded.policy_id, target_min = excluded.target_min, business = excluded.business,
		stage = excluded.stage, spent_us = excluded.spent_us, since_us = excluded.since_us, breach_at = excluded.breach_at, breached_at = excluded.breached_at, achieved_at = excluded.achieved_at`,
		acct, id, t.Metric, t.PolicyID, t.Minutes, t.Business, t.Stage, t.Clock.Spent.Microseconds(), store.Micros(t.Clock.Since), store.Micros(t.BreachAt),
		store.Micros(t.Clock.BreachedAt), store.Micros(t.AchievedAt))
	if err != nil {
		return fmt.Errorf("sla: save target: %w", err)
	}
	return nil
}

// Event is what a ticket write tells a target.
type Event struct {
	Now time.Time
	// Created: the target is new (the ticket is created, or the policy applies from now);
	// CreatedAt is when the ticket was created.
	Created   bool
	CreatedAt time.Time
	Status    ticket.Status
	// AgentReply: an agent added a public comment; RequesterReply: the requester (or
	// another end user) did. Both are of an existing ticket: the comment a ticket is
	// created with is the request, not a reply.
	AgentReply, RequesterReply bool
}

// runs reports whether a metric's clock runs in a status.
func runs(metric string, st ticket.Status) bool {
	switch metric {
	case RequesterWait:
		return st == ticket.New || st == ticket.Open || st == ticket.Hold
	case AgentWork:
		return st == ticket.New || st == ticket.Open
	}
	return st != ticket.Solved && st != ticket.Closed
}

// Step moves a target through one ticket write (Zendesk's definitions):
//   - first_reply_time runs from the ticket's creation to the first public agent reply;
//   - next_reply_time runs from a requester's public comment to the next agent reply;
//   - periodic_update_time runs from each public agent reply to the next;
//   - requester_wait_time runs while the ticket is new, open or on hold (paused while
//     pending) and agent_work_time while it is new or open (paused while pending or on
//     hold); both are achieved when the ticket is solved, and resume if it reopens.
//
// Solving a ticket achieves every running target.
func Step(t *Target, h *Hours, e Event) {
	solved := e.Status == ticket.Solved || e.Status == ticket.Closed
	achieve := func() {
		if t.Stage == Active || t.Stage == Paused {
			t.Clock.Pause(h, e.Now)
			t.Stage, t.AchievedAt, t.BreachAt = Achieved, e.Now, time.Time{}
		}
	}
	restart := func() {
		t.Clock = Clock{Target: t.Clock.Target}
		t.Clock.Start(e.Now)
		t.Stage, t.AchievedAt = Active, time.Time{}
	}
	switch t.Metric {
	case FirstReply:
		if e.Created && t.Stage == "" {
			t.Clock.Start(e.CreatedAt)
			t.Stage = Active
		}
		if e.AgentReply || solved {
			achieve()
		}
	case NextReply:
		if e.AgentReply || solved {
			achieve()
		}
		if e.RequesterReply && !solved && t.Stage != Active {
			restart()
		}
	case PeriodicUpdate:
		if e.AgentReply || solved {
			achieve()
		}
		if e.AgentReply && !solved {
			restart()
		}
	case RequesterWait, AgentWork:
		switch {
		case e.Created && t.Stage == "":
			t.Clock.Start(e.CreatedAt)
			t.Stage = Active
			if !runs(t.Metric, e.Status) {
				t.Clock.Pause(h, e.Now)
				t.Stage = Paused
			}
			if solved {
				achieve()
			}
		case solved:
			achieve()
		case runs(t.Metric, e.Status) && t.Stage != Active:
			t.Clock.Start(e.Now) // resumed, or reopened after solving
			t.Stage, t.AchievedAt = Active, time.Time{}
		case !runs(t.Metric, e.Status) && t.Stage == Active:
			t.Clock.Pause(h, e.Now)
			t.Stage = Paused
		}
	}
	t.BreachAt = time.Time{}
	if t.Stage == Active {
		t.BreachAt = t.Clock.Due(h)
	}
}
