package sla

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Schedule is a business-hours schedule (Zendesk's business_hours/schedules).
type Schedule struct {
	ID        int64
	AccountID ids.Account
	Name      string
	TimeZone  string
	Intervals []Interval
	Holidays  []Holiday
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Hours returns the schedule's arithmetic.
func (s *Schedule) Hours() (*Hours, error) { return NewHours(s.TimeZone, s.Intervals, s.Holidays) }

const scheduleCols = `id, account_id, name, time_zone, intervals, holidays, created_at, updated_at`

func scanSchedule(row interface{ Scan(...any) error }) (*Schedule, error) {
	var s Schedule
	var ivs, hols string
	var c, u int64
	if err := row.Scan(&s.ID, &s.AccountID, &s.Name, &s.TimeZone, &ivs, &hols, &c, &u); err != nil {
		return nil, err
	}
	s.CreatedAt, s.UpdatedAt = store.Time(c), store.Time(u)
	if err := json.Unmarshal([]byte(ivs), &s.Intervals); err != nil {
		return nil, fmt.Errorf("sla: schedule %d intervals: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(hols), &s.Holidays); err != nil {
		return nil, fmt.Errorf("sla: schedule %d holidays: %w", s.ID, err)
	}
	if s.Intervals == nil {
		s.Intervals = []Interval{}
	}
	if s.Holidays == nil {
		s.Holidays = []Holiday{}
	}
	return &s, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Schedules lists the account's schedules, oldest first (the first is the default).
func Schedules(ctx context.Context, q store.Queryer, acct ids.Account) ([]*Schedule, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+scheduleCols+` FROM schedules WHERE account_id = ? ORDER BY id`, acct)
	if err != nil {
		return nil, fmt.Errorf("sla: list schedules: %w", err)
	}
	defer rows.Close()
	out := []*Schedule{}
	for rows.Next() {
		s, err := scanSchedule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// GetSchedule loads one schedule of the account.
func GetSchedule(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*Schedule, error) {
	s, err := scanSchedule(q.QueryRowContext(ctx, `SELECT `+scheduleCols+` FROM schedules WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("schedule %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sla: get schedule: %w", err)
	}
	return s, nil
}

// Service stores schedules and SLA policies and keeps tickets' SLA targets current.
type Service struct {
	db    *store.DB
	rules *rules.Service
	// policies caches each account's policies behind its settings version.
	policies store.SettingsCache[[]*Policy]
}

// Filter is one condition of a policy's filter, as triggers spell conditions.
type Filter = rules.Condition

// New returns the service; rules evaluates the policies' filters.
func New(db *store.DB, r *rules.Service) *Service { return &Service{db: db, rules: r} }

// SaveSchedule validates and stores a schedule (a new one when s.ID is 0).
func (s *Service) SaveSchedule(ctx context.Context, acct ids.Account, sc *Schedule) error {
	sc.Name = strings.TrimSpace(sc.Name)
	for i := range sc.Holidays {
		sc.Holidays[i].Name = strings.TrimSpace(sc.Holidays[i].Name)
	}
	if err := ValidateSchedule(sc.Name, sc.TimeZone, sc.Intervals, sc.Holidays); err != nil {
		return err
	}
	next := int64(0)
	for _, h := range sc.Holidays {
		next = max(next, h.ID)
	}
	for i := range sc.Holidays {
		if sc.Holidays[i].ID == 0 {
			next++
			sc.Holidays[i].ID = next
		}
	}
	if sc.Intervals == nil {
		sc.Intervals = []Interval{}
	}
	if sc.Holidays == nil {
		sc.Holidays = []Holiday{}
	}
	slices.SortFunc(sc.Intervals, func(a, b Interval) int { return a.Start - b.Start })
	now := store.Now()
	sc.AccountID, sc.UpdatedAt = acct, now
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if sc.ID == 0 {
			sc.CreatedAt = now
			return tx.QueryRowContext(ctx, `INSERT INTO schedules (account_id, name, time_zone, intervals, holidays, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				acct, sc.Name, sc.TimeZone, jsonText(sc.Intervals), jsonText(sc.Holidays), store.Micros(now), store.Micros(now)).Scan(&sc.ID)
		}
		res, err := tx.ExecContext(ctx, `UPDATE schedules SET name = ?, time_zone = ?, intervals = ?, holidays = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
			sc.Name, sc.TimeZone, jsonText(sc.Intervals), jsonText(sc.Holidays), store.Micros(now), acct, sc.ID)
		if err != nil {
			return fmt.Errorf("sla: save schedule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("schedule %d not found", sc.ID)
		}
		return nil
	})
}

// DeleteSchedule deletes a schedule of the account.
func (s *Service) DeleteSchedule(ctx context.Context, acct ids.Account, id int64) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM schedules WHERE account_id = ? AND id = ?`, acct, id)
		if err != nil {
			return fmt.Errorf("sla: delete schedule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("schedule %d not found", id)
		}
		return nil
	})
}

// The metrics a policy may set targets for (Zendesk's names).
const (
	FirstReply     = "first_reply_time"
	NextReply      = "next_reply_time"
	PeriodicUpdate = "periodic_update_time"
	RequesterWait  = "requester_wait_time"
	AgentWork      = "agent_work_time"
)

// Metrics lists the metrics in the order they are shown.
var Metrics = []string{FirstReply, NextReply, PeriodicUpdate, RequesterWait, AgentWork}

// MaxTarget bounds a target (a year, in minutes).
const MaxTarget = 366 * 24 * 60

// PolicyMetric is one target of a policy: for tickets of a priority, a metric's target
// in minutes, of business or calendar time.
type PolicyMetric struct {
	Priority      string `json:"priority"`
	Metric        string `json:"metric"`
	Target        int64  `json:"target"`
	BusinessHours bool   `json:"business_hours"`
}

// Policy is an SLA policy: the first, in position order, whose filter matches a ticket
// sets its targets.
type Policy struct {
	ID          int64
	AccountID   ids.Account
	Title       string
	Description string
	Position    int64
	All, Any    []Filter
	Metrics     []PolicyMetric
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const policyCols = `id, account_id, title, description, position, filter, policy_metrics, created_at, updated_at`

func scanPolicy(row interface{ Scan(...any) error }) (*Policy, error) {
	var p Policy
	var filter, metrics string
	var c, u int64
	if err := row.Scan(&p.ID, &p.AccountID, &p.Title, &p.Description, &p.Position, &filter, &metrics, &c, &u); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = store.Time(c), store.Time(u)
	var f struct{ All, Any []Filter }
	if err := json.Unmarshal([]byte(filter), &f); err != nil {
		return nil, fmt.Errorf("sla: policy %d filter: %w", p.ID, err)
	}
	p.All, p.Any = nonNil(f.All), nonNil(f.Any)
	if err := json.Unmarshal([]byte(metrics), &p.Metrics); err != nil {
		return nil, fmt.Errorf("sla: policy %d metrics: %w", p.ID, err)
	}
	if p.Metrics == nil {
		p.Metrics = []PolicyMetric{}
	}
	return &p, nil
}

func nonNil(f []Filter) []Filter {
	if f == nil {
		return []Filter{}
	}
	return f
}

// Policies lists the account's policies in position order.
func Policies(ctx context.Context, q store.Queryer, acct ids.Account) ([]*Policy, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+policyCols+` FROM sla_policies WHERE account_id = ? ORDER BY position, id`, acct)
	if err != nil {
		return nil, fmt.Errorf("sla: list policies: %w", err)
	}
	defer rows.Close()
	out := []*Policy{}
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// GetPolicy loads one policy of the account.
func GetPolicy(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*Policy, error) {
	p, err := scanPolicy(q.QueryRowContext(ctx, `SELECT `+policyCols+` FROM sla_policies WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("SLA policy %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sla: get policy: %w", err)
	}
	return p, nil
}

// validatePolicy checks a policy: a title, a filter the rules engine accepts, and
// targets naming a known priority and metric, once each, of 1 minute to a year.
func validatePolicy(ctx context.Context, q store.Queryer, acct *account.Account, p *Policy) error {
	var v errs.Validation
	p.Title = strings.TrimSpace(p.Title)
	if p.Title == "" {
		v.Blank("title")
	}
	seen := map[string]bool{}
	for i := range p.Metrics {
		m := &p.Metrics[i]
		path := fmt.Sprintf("policy_metrics[%d]", i)
		if !slices.Contains(ticket.Priorities, m.Priority) {
			v.Add(path+".priority", "InvalidValue", fmt.Sprintf("%q is not a priority (%s)", m.Priority, strings.Join(ticket.Priorities, ", ")))
		}
		if !slices.Contains(Metrics, m.Metric) {
			v.Add(path+".metric", "InvalidValue", fmt.Sprintf("%q is not a metric (%s)", m.Metric, strings.Join(Metrics, ", ")))
		}
		if m.Target <= 0 || m.Target > MaxTarget {
			v.Add(path+".target", "InvalidValue", fmt.Sprintf("%d is not a target: it must be 1 to %d minutes", m.Target, MaxTarget))
		}
		key := m.Priority + "/" + m.Metric
		if seen[key] {
			v.Add(path, "Duplicate", fmt.Sprintf("the %s target of %s tickets is given twice", m.Metric, m.Priority))
		}
		seen[key] = true
	}
	if err := v.Err(); err != nil {
		return err
	}
	conds := rules.Conditions{All: p.All, Any: p.Any}
	if err := rules.ValidateFilter(ctx, q, acct, &conds); err != nil {
		return err
	}
	p.All, p.Any = conds.All, conds.Any
	return nil
}

// SavePolicy validates and stores a policy (a new one, last, when p.ID is 0).
func (s *Service) SavePolicy(ctx context.Context, account *account.Account, p *Policy) error {
	acct := account.ID
	p.AccountID = acct
	p.All, p.Any = nonNil(p.All), nonNil(p.Any)
	if p.Metrics == nil {
		p.Metrics = []PolicyMetric{}
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if err := validatePolicy(ctx, tx, account, p); err != nil {
			return err
		}
		now := store.Now()
		p.UpdatedAt = now
		filter := jsonText(map[string]any{"all": p.All, "any": p.Any})
		if p.ID == 0 {
			p.CreatedAt = now
			if p.Position <= 0 {
				if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) + 1 FROM sla_policies WHERE account_id = ?`, acct).Scan(&p.Position); err != nil {
					return fmt.Errorf("sla: next position: %w", err)
				}
			}
			return tx.QueryRowContext(ctx, `INSERT INTO sla_policies (account_id, title, description, position, filter, policy_metrics, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				acct, p.Title, p.Description, p.Position, filter, jsonText(p.Metrics), store.Micros(now), store.Micros(now)).Scan(&p.ID)
		}
		res, err := tx.ExecContext(ctx, `UPDATE sla_policies SET title = ?, description = ?, position = ?, filter = ?, policy_metrics = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
			p.Title, p.Description, p.Position, filter, jsonText(p.Metrics), store.Micros(now), acct, p.ID)
		if err != nil {
			return fmt.Errorf("sla: save policy: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("SLA policy %d not found", p.ID)
		}
		return nil
	})
}

// DeletePolicy deletes a policy of the account.
func (s *Service) DeletePolicy(ctx context.Context, acct ids.Account, id int64) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sla_policies WHERE account_id = ? AND id = ?`, acct, id)
		if err != nil {
			return fmt.Errorf("sla: delete policy: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("SLA policy %d not found", id)
		}
		return nil
	})
}

// ReorderPolicies gives the listed policies positions 1, 2, ...
func (s *Service) ReorderPolicies(ctx context.Context, acct ids.Account, order []int64) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		for i, id := range order {
			res, err := tx.ExecContext(ctx, `UPDATE sla_policies SET position = ? WHERE account_id = ? AND id = ?`, i+1, acct, id)
			if err != nil {
				return fmt.Errorf("sla: reorder: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errs.NotFoundf("SLA policy %d not found", id)
			}
		}
		return nil
	})
}
