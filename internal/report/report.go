// Package report computes the numbers a support lead reads every week — tickets created
// and solved per day, the backlog, first reply and resolution times, SLA achievement,
// satisfaction, top tags, and the sharing partners' volume and response times — from
// the database with indexed range queries, and renders them as SVG charts and CSV.
//
// Every query starts from an indexed time range of one account (tickets by created_at
// or solved_at, ratings by updated_at, shares by shared_at), so its cost follows the
// tickets in the range, not all the account's tickets. Nothing is precomputed, so the
// current day is always exact.
package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// MaxDays bounds a report's range.
const MaxDays = 366

// Filter is what a report covers: days [From, To) in UTC, and optionally one group, one
// organization or the tickets shared through one agreement (partner).
type Filter struct {
	From, To    time.Time
	GroupID     ids.Group
	OrgID       ids.Org
	AgreementID int64
}

// Validate checks the range: whole UTC days, From before To, at most MaxDays.
func (f *Filter) Validate() error {
	var v errs.Validation
	switch {
	case f.From.IsZero() || f.To.IsZero():
		v.Add("from", "BlankValue", "a report needs a start and an end date")
	case !f.To.After(f.From):
		v.Add("to", "InvalidValue", "the end date must be after the start date")
	case f.To.Sub(f.From) > MaxDays*24*time.Hour:
		v.Add("to", "InvalidValue", fmt.Sprintf("a report covers at most %d days", MaxDays))
	}
	return v.Err()
}

// Day is one day of the daily series.
type Day struct {
	Date    time.Time
	Created int
	Solved  int
	// Backlog is the number of unsolved tickets at the end of the day.
	Backlog int
}

// Times are percentiles of a duration over the tickets of the range.
type Times struct {
	Count         int
	P50, P90, Max time.Duration
}

// SLARow is the achievement of SLA targets of one policy or group: targets met,
// missed (breached, achieved late included) and still running.
type SLARow struct {
	Name     string
	Met      int
	Missed   int
	Running  int
	Achieved float64 // percent of decided targets met (-1: none decided)
}

// Satisfaction counts the ratings received in the range.
type Satisfaction struct {
	Good, Bad, Offered int
	// Score is the percent of good among good and bad (-1: no ratings).
	Score float64
}

// Count is a name and how often it occurs.
type Count struct {
	Name string
	N    int
}

// Partner is the sharing volume with one partner and its response times: how long the
// partner took to send its first update after a ticket was shared with it.
type Partner struct {
	AgreementID int64
	Name        string
	Sent        int // tickets shared with the partner
	Received    int // tickets the partner shared with this desk
	Promised    time.Duration
	Response    Times
	// Waiting counts the tickets on which the partner owes an answer now.
	Waiting int
}

// Report is a whole report.
type Report struct {
	Filter       Filter
	Days         []Day
	FirstReply   Times
	Resolution   Times
	SLAByPolicy  []SLARow
	SLAByGroup   []SLARow
	Satisfaction Satisfaction
	Tags         []Count
	Partners     []Partner
}

const dayUS = int64(24 * time.Hour / time.Microsecond)

// base is the tickets the report reads: the account's live tickets the actor may see,
// narrowed by the filter's group, organization and partner.
func base(q store.Queryer, acct ids.Account, actor ticket.Actor, f Filter) (string, []any) {
	scope, sargs := ticket.Scope(q.D(), acct, actor)
	where := "t.account_id = ? AND t.deleted_at = 0 AND " + scope
	args := append([]any{acct}, sargs...)
	if f.GroupID != 0 {
		where, args = where+" AND t.group_id = ?", append(args, f.GroupID)
	}
	if f.OrgID != 0 {
		where, args = where+" AND t.organization_id = ?", append(args, f.OrgID)
	}
	if f.AgreementID != 0 {
		where += " AND EXISTS (SELECT 1 FROM ticket_shares sx WHERE sx.account_id = t.account_id AND sx.ticket_id = t.id AND sx.agreement_id = ?)"
		args = append(args, f.AgreementID)
	}
	return where, args
}

// Build computes the report at now for the actor (whose ticket restriction applies).
func Build(ctx context.Context, q store.Queryer, acct ids.Account, actor ticket.Actor, f Filter, now time.Time) (*Report, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	r := &Report{Filter: f}
	where, args := base(q, acct, actor, f)
	from, to := store.Micros(f.From), store.Micros(f.To)
	nDays := int(f.To.Sub(f.From) / (24 * time.Hour))
	r.Days = make([]Day, nDays)
	for i := range r.Days {
		r.Days[i].Date = f.From.AddDate(0, 0, i)
	}
	day := func(us int64) int { return int((us - from) / dayUS) }

	// Created per day and first reply times, from the tickets created in the range.
	var firstReply []time.Duration
	err := each(ctx, q, `SELECT t.created_at, t.first_reply_at FROM tickets t WHERE `+where+` AND t.created_at >= ? AND t.created_at < ?`,
		append(slices.Clone(args), from, to), func(sc func(...any) error) error {
			var c, fr int64
			if err := sc(&c, &fr); err != nil {
				return err
			}
			r.Days[day(c)].Created++
			if fr > 0 {
				firstReply = append(firstReply, time.Duration(fr-c)*time.Microsecond)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	r.FirstReply = percentiles(firstReply)

	// Solved per day and resolution times, from the tickets solved in the range (and
	// still solved or closed).
	var resolution []time.Duration
	err = each(ctx, q, `SELECT t.created_at, t.solved_at FROM tickets t WHERE `+where+` AND t.solved_at >= ? AND t.solved_at < ? AND t.status IN ('solved', 'closed')`,
		append(slices.Clone(args), from, to), func(sc func(...any) error) error {
			var c, s int64
			if err := sc(&c, &s); err != nil {
				return err
			}
			r.Days[day(s)].Solved++
			resolution = append(resolution, time.Duration(s-c)*time.Microsecond)
			return nil
		})
	if err != nil {
		return nil, err
	}
	r.Resolution = percentiles(resolution)

	// The backlog at the end of the range: tickets created before it and unsolved then
	// (unsolved now, or solved after it). Each day before follows from the counts.
	// A range that ends in the future needs no test of created_at: the count then
	// reads only the index of live tickets by status.
	var open, later int
	openQ, openArgs := `SELECT COUNT(*) FROM tickets t WHERE `+where+` AND t.status IN ('new', 'open', 'pending', 'hold')`, slices.Clone(args)
	if f.To.Before(now) {
		openQ, openArgs = openQ+` AND t.created_at < ?`, append(openArgs, to)
	}
	if err := q.QueryRowContext(ctx, openQ, openArgs...).Scan(&open); err != nil {
		return nil, fmt.Errorf("report: backlog: %w", err)
	}
	laterQ := `SELECT COUNT(*) FROM tickets t WHERE ` + where + ` AND t.solved_at >= ? AND t.status IN ('solved', 'closed') AND t.created_at < ?`
	if err := q.QueryRowContext(ctx, laterQ, append(slices.Clone(args), to, to)...).Scan(&later); err != nil {
		return nil, fmt.Errorf("report: backlog: %w", err)
	}
	backlog := open + later
	for i := len(r.Days) - 1; i >= 0; i-- {
		r.Days[i].Backlog = backlog
		backlog += r.Days[i].Solved - r.Days[i].Created
	}

	if err := r.slas(ctx, q, acct, where, args, from, to, now); err != nil {
		return nil, err
	}
	if err := r.ratings(ctx, q, where, args, from, to); err != nil {
		return nil, err
	}
	if err := r.tags(ctx, q, where, args, from, to); err != nil {
		return nil, err
	}
	if err := r.partners(ctx, q, acct, where, args, from, to); err != nil {
		return nil, err
	}
	return r, nil
}

// each runs a query and calls row for each row with its Scan.
func each(ctx context.Context, q store.Queryer, query string, args []any, row func(scan func(...any) error) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return rows.Err()
}

// percentiles returns the nearest-rank 50th and 90th percentiles and the maximum.
func percentiles(ds []time.Duration) Times {
	if len(ds) == 0 {
		return Times{}
	}
	slices.Sort(ds)
	rank := func(p int) time.Duration {
		i := (p*len(ds)+99)/100 - 1
		return ds[max(i, 0)]
	}
	return Times{Count: len(ds), P50: rank(50), P90: rank(90), Max: ds[len(ds)-1]}
}

// slas counts the SLA targets of the tickets created in the range, by policy and by
// group: met (achieved before breaching), missed (breached, now or before being
// achieved) and running.
func (r *Report) slas(ctx context.Context, q store.Queryer, acct ids.Account, where string, args []any, from, to int64, now time.Time) error {
	type key struct {
		policy int64
		group  int64
	}
	counts := map[key]*SLARow{}
	nowUS := store.Micros(now)
	err := each(ctx, q, `SELECT s.policy_id, COALESCE(t.group_id, 0), s.stage, s.breach_at, s.breached_at FROM tickets t
		CROSS JOIN sla_targets s
		WHERE s.account_id = t.account_id AND s.ticket_id = t.id AND `+where+` AND t.created_at >= ? AND t.created_at < ?`, append(slices.Clone(args), from, to), func(sc func(...any) error) error {
		var k key
		var stage string
		var breach, breached int64
		if err := sc(&k.policy, &k.group, &stage, &breach, &breached); err != nil {
			return err
		}
		c := counts[k]
		if c == nil {
			c = &SLARow{}
			counts[k] = c
		}
		switch {
		case breached > 0 || stage == "active" && breach > 0 && breach <= nowUS:
			c.Missed++
		case stage == "achieved":
			c.Met++
		default:
			c.Running++
		}
		return nil
	})
	if err != nil {
		return err
	}
	policies, err := names(ctx, q, `SELECT id, title FROM sla_policies WHERE account_id = ?`, acct)
	if err != nil {
		return err
	}
	groups, err := names(ctx, q, `SELECT id, name FROM groups WHERE account_id = ?`, acct)
	if err != nil {
		return err
	}
	byPolicy, byGroup := map[string]*SLARow{}, map[string]*SLARow{}
	for k, c := range counts {
		pn := policies[k.policy]
		if pn == "" {
			pn = fmt.Sprintf("Policy %d (deleted)", k.policy)
		}
		gn := groups[k.group]
		if k.group == 0 {
			gn = "No group"
		} else if gn == "" {
			gn = fmt.Sprintf("Group %d", k.group)
		}
		for _, m := range []struct {
			into map[string]*SLARow
			name string
		}{{byPolicy, pn}, {byGroup, gn}} {
			row := m.into[m.name]
			if row == nil {
				row = &SLARow{Name: m.name}
				m.into[m.name] = row
			}
			row.Met, row.Missed, row.Running = row.Met+c.Met, row.Missed+c.Missed, row.Running+c.Running
		}
	}
	r.SLAByPolicy, r.SLAByGroup = slaRows(byPolicy), slaRows(byGroup)
	return nil
}

func slaRows(m map[string]*SLARow) []SLARow {
	out := make([]SLARow, 0, len(m))
	for _, row := range m {
		row.Achieved = -1
		if d := row.Met + row.Missed; d > 0 {
			row.Achieved = 100 * float64(row.Met) / float64(d)
		}
		out = append(out, *row)
	}
	slices.SortFunc(out, func(a, b SLARow) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// names maps ids to names for a query selecting (id, name) of an account.
func names(ctx context.Context, q store.Queryer, query string, acct ids.Account) (map[int64]string, error) {
	out := map[int64]string{}
	err := each(ctx, q, query, []any{acct}, func(sc func(...any) error) error {
		var id int64
		var n string
		if err := sc(&id, &n); err != nil {
			return err
		}
		out[id] = n
		return nil
	})
	return out, err
}

// ratings counts the satisfaction ratings given (or offered) in the range.
func (r *Report) ratings(ctx context.Context, q store.Queryer, where string, args []any, from, to int64) error {
	err := each(ctx, q, `SELECT x.score, COUNT(*) FROM satisfaction_ratings x JOIN tickets t ON t.account_id = x.account_id AND t.id = x.ticket_id
		WHERE x.account_id = ? AND x.updated_at >= ? AND x.updated_at < ? AND `+where+` GROUP BY x.score`,
		append([]any{args[0], from, to}, args...), func(sc func(...any) error) error {
			var score string
			var n int
			if err := sc(&score, &n); err != nil {
				return err
			}
			switch score {
			case ticket.ScoreGood:
				r.Satisfaction.Good = n
			case ticket.ScoreBad:
				r.Satisfaction.Bad = n
			case ticket.ScoreOffered:
				r.Satisfaction.Offered = n
			}
			return nil
		})
	r.Satisfaction.Score = -1
	if d := r.Satisfaction.Good + r.Satisfaction.Bad; d > 0 {
		r.Satisfaction.Score = 100 * float64(r.Satisfaction.Good) / float64(d)
	}
	return err
}

// TopTags is how many tags the report lists.
const TopTags = 10

// tags counts the tags of the tickets created in the range. The CROSS JOINs here and in
// slas keep SQLite's join order (tickets of the range first, then their rows by primary
// key); PostgreSQL plans them as the inner joins they are.
func (r *Report) tags(ctx context.Context, q store.Queryer, where string, args []any, from, to int64) error {
	return each(ctx, q, `SELECT tt.tag, COUNT(*) FROM tickets t CROSS JOIN ticket_tags tt
		WHERE tt.account_id = t.account_id AND tt.ticket_id = t.id AND `+where+` AND t.created_at >= ? AND t.created_at < ? GROUP BY tt.tag ORDER BY COUNT(*) DESC, tt.tag LIMIT `+fmt.Sprint(TopTags),
		append(slices.Clone(args), from, to), func(sc func(...any) error) error {
			var c Count
			if err := sc(&c.Name, &c.N); err != nil {
				return err
			}
			r.Tags = append(r.Tags, c)
			return nil
		})
}

// partners counts the shares started in the range per agreement, and the partners'
// response times on the tickets this desk shared with them.
func (r *Report) partners(ctx context.Context, q store.Queryer, acct ids.Account, where string, args []any, from, to int64) error {
	byID := map[int64]*Partner{}
	resp := map[int64][]time.Duration{}
	get := func(id int64) *Partner {
		p := byID[id]
		if p == nil {
			p = &Partner{AgreementID: id}
			byID[id] = p
		}
		return p
	}
	err := each(ctx, q, `SELECT s.agreement_id, s.direction, s.shared_at, s.first_answer_at FROM ticket_shares s JOIN tickets t ON t.account_id = s.account_id AND t.id = s.ticket_id
		WHERE s.account_id = ? AND s.shared_at >= ? AND s.shared_at < ? AND `+where, append([]any{args[0], from, to}, args...), func(sc func(...any) error) error {
		var id, shared, answered int64
		var dir string
		if err := sc(&id, &dir, &shared, &answered); err != nil {
			return err
		}
		p := get(id)
		if dir == "out" {
			p.Sent++
			if answered > 0 {
				resp[id] = append(resp[id], time.Duration(answered-shared)*time.Microsecond)
			}
		} else {
			p.Received++
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Tickets on which a partner owes an answer now (whenever it was shared).
	err = each(ctx, q, `SELECT s.agreement_id, COUNT(*) FROM ticket_shares s JOIN tickets t ON t.account_id = s.account_id AND t.id = s.ticket_id
		WHERE s.account_id = ? AND s.owed_since > 0 AND s.state = 'active' AND s.direction = 'out' AND `+where+` GROUP BY s.agreement_id`,
		append([]any{args[0]}, args...), func(sc func(...any) error) error {
			var id int64
			var n int
			if err := sc(&id, &n); err != nil {
				return err
			}
			get(id).Waiting = n
			return nil
		})
	if err != nil {
		return err
	}
	err = each(ctx, q, `SELECT id, name, promised_minutes FROM sharing_agreements WHERE account_id = ?`, []any{acct}, func(sc func(...any) error) error {
		var id, promised int64
		var name string
		if err := sc(&id, &name, &promised); err != nil {
			return err
		}
		if p := byID[id]; p != nil {
			p.Name, p.Promised = name, time.Duration(promised)*time.Minute
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id, p := range byID {
		p.Response = percentiles(resp[id])
		r.Partners = append(r.Partners, *p)
	}
	slices.SortFunc(r.Partners, func(a, b Partner) int { return strings.Compare(a.Name, b.Name) })
	return nil
}
