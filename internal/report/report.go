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
	"cmp"
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
	// Zone is the time zone the days are in; Aggregated says the figures were read from
	// the daily aggregates (else from the tickets' rows).
	Zone       string
	Aggregated bool
}

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

// tally is what both ways of computing a report (daily aggregates, rows) gather before
// the report is put together.
type tally struct {
	first, resolution hist
	sla               map[[2]int64]*SLARow // by policy and group
	tags              map[string]int
	partners          map[int64]*Partner
	response          map[int64]hist
}

func newTally() *tally {
	return &tally{first: hist{}, resolution: hist{}, sla: map[[2]int64]*SLARow{}, tags: map[string]int{}, partners: map[int64]*Partner{}, response: map[int64]hist{}}
}

func (t *tally) partner(id int64) *Partner {
	p := t.partners[id]
	if p == nil {
		p = &Partner{AgreementID: id}
		t.partners[id] = p
	}
	return p
}

func (t *tally) slaCount(policy, group int64, class string, n int) {
	k := [2]int64{policy, group}
	c := t.sla[k]
	if c == nil {
		c = &SLARow{}
		t.sla[k] = c
	}
	switch class {
	case "missed":
		c.Missed += n
	case "met":
		c.Met += n
	default:
		c.Running += n
	}
}

// span is a report's range in the account's time zone.
type span struct {
	loc            *time.Location
	fromDay, toDay int64 // day numbers, To excluded
	fromUS, toUS   int64 // local midnights
	now            time.Time
}

func (s span) index(us int64) int { return int(dayOfUS(us, s.loc) - s.fromDay) }

// Build computes the report at now for the actor (whose ticket restriction applies).
// Days are the account's (Location): f.From and f.To are read as dates there.
//
// The figures come from the daily aggregates (report_daily) when they can: the account
// is built (Fresh), the actor sees every ticket, and at most one of group, organization
// and partner is chosen. Otherwise, from the tickets' rows by indexed range queries.
// Both give the same report (TestAggregatesMatchRows).
func Build(ctx context.Context, q store.Queryer, acct ids.Account, actor ticket.Actor, f Filter, now time.Time) (*Report, error) {
	return build(ctx, q, acct, actor, f, now, false)
}

// BuildRows computes the report from the tickets' rows only, never from the daily
// aggregates: what Build must equal (the tests compare them).
func BuildRows(ctx context.Context, q store.Queryer, acct ids.Account, actor ticket.Actor, f Filter, now time.Time) (*Report, error) {
	return build(ctx, q, acct, actor, f, now, true)
}

func build(ctx context.Context, q store.Queryer, acct ids.Account, actor ticket.Actor, f Filter, now time.Time, rowsOnly bool) (*Report, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	loc, err := Location(ctx, q, acct)
	if err != nil {
		return nil, err
	}
	fy, fm, fd := f.From.Date()
	ty, tm, td := f.To.Date()
	sp := span{loc: loc, fromDay: dateDay(fy, fm, fd), toDay: dateDay(ty, tm, td), now: now,
		fromUS: store.Micros(time.Date(fy, fm, fd, 0, 0, 0, 0, loc)), toUS: store.Micros(time.Date(ty, tm, td, 0, 0, 0, 0, loc))}
	r := &Report{Filter: f, Zone: loc.String()}
	r.Days = make([]Day, sp.toDay-sp.fromDay)
	for i := range r.Days {
		r.Days[i].Date = time.Date(fy, fm, fd+i, 0, 0, 0, 0, time.UTC)
	}
	where, args := base(q, acct, actor, f)
	d, useDaily := dimOf(f)
	if useDaily && !rowsOnly {
		if scope, _ := ticket.Scope(q.D(), acct, actor); scope != "1=1" {
			useDaily = false
		} else if st, ok, err := readState(ctx, q, acct); err != nil {
			return nil, err
		} else {
			useDaily = ok && st.version == Version && st.zone == loc.String()
		}
	}
	t := newTally()
	if useDaily && !rowsOnly {
		if tx, ok := q.(*store.Tx); ok {
			// Read in a write: the counts its batch left to commit first.
			if err := tx.RunLater(ctx); err != nil {
				return nil, err
			}
		}
		r.Aggregated = true
		err = r.fromDaily(ctx, q, acct, d, sp, t, where, args)
	} else {
		err = r.fromRows(ctx, q, acct, sp, t, where, args)
	}
	if err != nil {
		return nil, err
	}
	return r, r.finish(ctx, q, acct, t, where, args)
}

// dimOf is the aggregates' dimension a filter reads (ok false: more than one filter).
func dimOf(f Filter) (dim, bool) {
	var ds []dim
	if f.GroupID != 0 {
		ds = append(ds, dim{"g", int64(f.GroupID)})
	}
	if f.OrgID != 0 {
		ds = append(ds, dim{"o", int64(f.OrgID)})
	}
	if f.AgreementID != 0 {
		ds = append(ds, dim{"p", f.AgreementID})
	}
	switch len(ds) {
	case 0:
		return dim{"a", 0}, true
	case 1:
		return ds[0], true
	}
	return dim{}, false
}

// DailyTable is the table the daily totals are kept in: report_daily on SQLite; on
// PostgreSQL report_daily_shards, where inserts into report_daily go (migrations 0038,
// 0064). Read the counts from DailyCounts.
func DailyTable(d store.Dialect) string {
	if d == store.Postgres {
		return "report_daily_shards"
	}
	return "report_daily"
}

// DailyCounts is what the daily counts are read from, as a table in FROM: on SQLite
// report_daily; on PostgreSQL the totals and the deltas not folded into them yet
// (migrations 0064 and 0084, Fold), whose n add up per key (a key has several rows:
// sum them).
func DailyCounts(d store.Dialect) string {
	if d == store.Postgres {
		return `(SELECT account_id, dim, dim_id, kind, day, k1, k2, name, n FROM report_daily_shards
			UNION ALL ` + deltasSelect + `report_daily_deltas` + deltasExpand + `) daily`
	}
	return "report_daily"
}

// fromDaily reads the range's counts from the daily counts (DailyCounts), the backlog before the range
// from the sums of the earlier days, and the SLA targets whose class depends on the
// time of reading from their rows.
func (r *Report) fromDaily(ctx context.Context, q store.Queryer, acct ids.Account, d dim, sp span, t *tally, where string, args []any) error {
	var before, c, s, w, W int
	err := each(ctx, q, `SELECT kind, SUM(n) FROM `+DailyCounts(q.D())+` WHERE account_id = ? AND dim = ? AND dim_id = ? AND kind IN ('c', 's', 'w', 'W') AND day < ? GROUP BY kind`,
		[]any{acct, d.Dim, d.ID, sp.fromDay}, func(sc store.Row) error {
			var kind string
			var n int
			if err := sc.Scan(&kind, &n); err != nil {
				return err
			}
			switch kind {
			case kCreated:
				c = n
			case kSolved:
				s = n
			case kBacklogSub:
				w = n
			case kBacklogAdd:
				W = n
			}
			return nil
		})
	if err != nil {
		return err
	}
	before = c - s + w - W
	// The daily series, day by day.
	delta := make([]int, len(r.Days))
	err = each(ctx, q, `SELECT kind, day, n FROM `+DailyCounts(q.D())+` WHERE account_id = ? AND dim = ? AND dim_id = ?
		AND kind IN ('c', 's', 'w', 'W') AND day >= ? AND day < ?`,
		[]any{acct, d.Dim, d.ID, sp.fromDay, sp.toDay}, func(sc store.Row) error {
			var kind string
			var day int64
			var n int
			if err := sc.Scan(&kind, &day, &n); err != nil {
				return err
			}
			i := int(day - sp.fromDay)
			switch kind {
			case kCreated:
				r.Days[i].Created += n
				delta[i] += n
			case kSolved:
				r.Days[i].Solved += n
				delta[i] -= n
			case kBacklogSub:
				delta[i] += n
			case kBacklogAdd:
				delta[i] -= n
			}
			return nil
		})
	if err != nil {
		return err
	}
	// Everything else summed over the range by the database: a histogram bucket, an SLA
	// class, a score, a tag or a partner's shares is one row however many days it spans.
	// Whole months inside the range are read from the monthly rows, the days before and
	// after them from the daily rows.
	mFrom := monthOf(sp.fromDay)
	if mFrom < sp.fromDay {
		mFrom = nextMonth(sp.fromDay)
	}
	mTo := mFrom
	for nextMonth(mTo) <= sp.toDay {
		mTo = nextMonth(mTo)
	}
	parts := [][3]any{{"", sp.fromDay, sp.toDay}}
	if mTo > mFrom {
		parts = [][3]any{{"", sp.fromDay, mFrom}, {"M", mFrom, mTo}, {"", mTo, sp.toDay}}
	}
	for _, part := range parts {
		pre := part[0].(string)
		if part[1].(int64) >= part[2].(int64) {
			continue
		}
		err = each(ctx, q, `SELECT kind, k1, k2, name, SUM(n) FROM `+DailyCounts(q.D())+` WHERE account_id = ? AND dim = ? AND dim_id = ?
			AND kind IN (?, ?, ?, ?, ?, ?, ?) AND day >= ? AND day < ? GROUP BY kind, k1, k2, name`,
			[]any{acct, d.Dim, d.ID, pre + kFirstReply, pre + kResolution, pre + kSLA, pre + kRating, pre + kTag, pre + kShare, pre + kPartnerResp, part[1], part[2]},
			func(sc store.Row) error {
				var k dkey
				var n int
				if err := sc.Scan(&k.Kind, &k.K1, &k.K2, &k.Name, &n); err != nil {
					return err
				}
				if n == 0 {
					return nil
				}
				switch strings.TrimPrefix(k.Kind, pre) {
				case kFirstReply:
					t.first[k.K1] += n
				case kResolution:
					t.resolution[k.K1] += n
				case kSLA:
					t.slaCount(k.K1, k.K2, k.Name, n)
				case kRating:
					r.Satisfaction.add(k.Name, n)
				case kTag:
					t.tags[k.Name] += n
				case kShare:
					if k.Name == "out" {
						t.partner(k.K1).Sent += n
					} else {
						t.partner(k.K1).Received += n
					}
				case kPartnerResp:
					h := t.response[k.K1]
					if h == nil {
						h = hist{}
						t.response[k.K1] = h
					}
					h[k.K2] += n
				}
				return nil
			})
		if err != nil {
			return err
		}
	}
	for i := range r.Days {
		before += delta[i]
		r.Days[i].Backlog = before
	}
	// SLA targets that time alone moves from running to missed: read now.
	return each(ctx, q, `SELECT s.policy_id, COALESCE(t.group_id, 0), s.breach_at FROM sla_targets s CROSS JOIN tickets t
		WHERE s.account_id = ? AND s.stage = 'active' AND s.breached_at = 0 AND s.breach_at > 0 AND t.account_id = s.account_id AND t.id = s.ticket_id AND `+where+` AND t.created_at >= ? AND t.created_at < ?`,
		append(append([]any{acct}, args...), sp.fromUS, sp.toUS), func(sc store.Row) error {
			var policy, group, breach int64
			if err := sc.Scan(&policy, &group, &breach); err != nil {
				return err
			}
			t.slaCount(policy, group, timedClass(breach, sp.now), 1)
			return nil
		})
}

// timedClass is the class of an active target with a breach time, not yet breached.
func timedClass(breach int64, now time.Time) string {
	if breach <= store.Micros(now) {
		return "missed"
	}
	return "running"
}

func (s *Satisfaction) add(score string, n int) {
	switch score {
	case ticket.ScoreGood:
		s.Good += n
	case ticket.ScoreBad:
		s.Bad += n
	case ticket.ScoreOffered:
		s.Offered += n
	}
}

// fromRows computes the range's counts from the tickets' rows: every query starts from
// an indexed time range of the account.
func (r *Report) fromRows(ctx context.Context, q store.Queryer, acct ids.Account, sp span, t *tally, where string, args []any) error {
	rangeArgs := append(slices.Clone(args), sp.fromUS, sp.toUS)
	// Created per day and first reply times, from the tickets created in the range; a
	// ticket solved before it was created counts as solved on its creation day for the
	// backlog (as the aggregates do).
	solvedEarly := make([]int, len(r.Days))
	err := each(ctx, q, `SELECT t.created_at, t.first_reply_at, t.status, t.solved_at FROM tickets t WHERE `+where+` AND t.created_at >= ? AND t.created_at < ?`,
		rangeArgs, func(sc store.Row) error {
			var c, fr, solved int64
			var status string
			if err := sc.Scan(&c, &fr, &status, &solved); err != nil {
				return err
			}
			i := sp.index(c)
			r.Days[i].Created++
			if fr > 0 {
				t.first[bucketOf(time.Duration(fr-c)*time.Microsecond)]++
			}
			if solvedStatus(status) && solved < c {
				solvedEarly[i]++
			}
			return nil
		})
	if err != nil {
		return err
	}
	// Solved per day and resolution times, from the tickets solved in the range (and
	// still solved or closed).
	backlogSolved := make([]int, len(r.Days))
	err = each(ctx, q, `SELECT t.created_at, t.solved_at FROM tickets t WHERE `+where+` AND t.solved_at >= ? AND t.solved_at < ? AND t.status IN ('solved', 'closed')`,
		rangeArgs, func(sc store.Row) error {
			var c, s int64
			if err := sc.Scan(&c, &s); err != nil {
				return err
			}
			i := sp.index(s)
			r.Days[i].Solved++
			if s >= c {
				backlogSolved[i]++
			}
			t.resolution[bucketOf(time.Duration(s-c)*time.Microsecond)]++
			return nil
		})
	if err != nil {
		return err
	}
	// The backlog at the end of the range: tickets created before it and unsolved then
	// (unsolved now, or solved after it). Each day before follows from the counts.
	// A range that ends in the future needs no test of created_at: the count then
	// reads only the index of live tickets by status.
	var open, later int
	openQ, openArgs := `SELECT COUNT(*) FROM tickets t WHERE `+where+` AND t.status IN ('new', 'open', 'pending', 'hold')`, slices.Clone(args)
	if sp.toUS <= store.Micros(sp.now) {
		openQ, openArgs = openQ+` AND t.created_at < ?`, append(openArgs, sp.toUS)
	}
	if err := q.QueryRowContext(ctx, openQ, openArgs...).Scan(&open); err != nil {
		return fmt.Errorf("report: backlog: %w", err)
	}
	laterQ := `SELECT COUNT(*) FROM tickets t WHERE ` + where + ` AND t.solved_at >= ? AND t.status IN ('solved', 'closed') AND t.created_at < ?`
	if err := q.QueryRowContext(ctx, laterQ, append(slices.Clone(args), sp.toUS, sp.toUS)...).Scan(&later); err != nil {
		return fmt.Errorf("report: backlog: %w", err)
	}
	backlog := open + later
	for i := len(r.Days) - 1; i >= 0; i-- {
		r.Days[i].Backlog = backlog
		backlog += backlogSolved[i] + solvedEarly[i] - r.Days[i].Created
	}

	// SLA targets of the tickets created in the range. The CROSS JOINs here and for the
	// tags keep SQLite's join order (tickets of the range first, then their rows by
	// primary key); PostgreSQL plans them as the inner joins they are.
	err = each(ctx, q, `SELECT s.policy_id, COALESCE(t.group_id, 0), s.stage, s.breach_at, s.breached_at FROM tickets t
		CROSS JOIN sla_targets s
		WHERE s.account_id = t.account_id AND s.ticket_id = t.id AND `+where+` AND t.created_at >= ? AND t.created_at < ?`, rangeArgs, func(sc store.Row) error {
		var policy, group, breach, breached int64
		var stage string
		if err := sc.Scan(&policy, &group, &stage, &breach, &breached); err != nil {
			return err
		}
		class := slaClass(stage, breach, breached)
		if class == "" {
			class = timedClass(breach, sp.now)
		}
		t.slaCount(policy, group, class, 1)
		return nil
	})
	if err != nil {
		return err
	}
	// Ratings given (or offered) in the range.
	err = each(ctx, q, `SELECT x.score, COUNT(*) FROM satisfaction_ratings x JOIN tickets t ON t.account_id = x.account_id AND t.id = x.ticket_id
		WHERE x.account_id = ? AND x.updated_at >= ? AND x.updated_at < ? AND `+where+` GROUP BY x.score`,
		append([]any{acct, sp.fromUS, sp.toUS}, args...), func(sc store.Row) error {
			var score string
			var n int
			if err := sc.Scan(&score, &n); err != nil {
				return err
			}
			r.Satisfaction.add(score, n)
			return nil
		})
	if err != nil {
		return err
	}
	// Tags of the tickets created in the range.
	err = each(ctx, q, `SELECT tt.tag, COUNT(*) FROM tickets t CROSS JOIN ticket_tags tt
		WHERE tt.account_id = t.account_id AND tt.ticket_id = t.id AND `+where+` AND t.created_at >= ? AND t.created_at < ? GROUP BY tt.tag`,
		rangeArgs, func(sc store.Row) error {
			var tag string
			var n int
			if err := sc.Scan(&tag, &n); err != nil {
				return err
			}
			t.tags[tag] += n
			return nil
		})
	if err != nil {
		return err
	}
	// Shares started in the range, and the partners' first answers.
	return each(ctx, q, `SELECT s.agreement_id, s.direction, s.shared_at, s.first_answer_at FROM ticket_shares s JOIN tickets t ON t.account_id = s.account_id AND t.id = s.ticket_id
		WHERE s.account_id = ? AND s.shared_at >= ? AND s.shared_at < ? AND `+where, append([]any{acct, sp.fromUS, sp.toUS}, args...), func(sc store.Row) error {
		var id, shared, answered int64
		var dir string
		if err := sc.Scan(&id, &dir, &shared, &answered); err != nil {
			return err
		}
		p := t.partner(id)
		if dir == "out" {
			p.Sent++
			if answered > 0 {
				h := t.response[id]
				if h == nil {
					h = hist{}
					t.response[id] = h
				}
				h[bucketOf(time.Duration(answered-shared)*time.Microsecond)]++
			}
		} else {
			p.Received++
		}
		return nil
	})
}

// finish puts the report together from the tally: percentiles, SLA rows by policy and
// group with their names, the top tags, and the partners with what they owe now.
func (r *Report) finish(ctx context.Context, q store.Queryer, acct ids.Account, t *tally, where string, args []any) error {
	r.FirstReply, r.Resolution = t.first.times(), t.resolution.times()
	r.Satisfaction.Score = -1
	if d := r.Satisfaction.Good + r.Satisfaction.Bad; d > 0 {
		r.Satisfaction.Score = 100 * float64(r.Satisfaction.Good) / float64(d)
	}
	if err := r.slaNames(ctx, q, acct, t); err != nil {
		return err
	}
	for tag, n := range t.tags {
		if n > 0 {
			r.Tags = append(r.Tags, Count{Name: tag, N: n})
		}
	}
	slices.SortFunc(r.Tags, func(a, b Count) int { return cmp.Or(cmp.Compare(b.N, a.N), strings.Compare(a.Name, b.Name)) })
	if len(r.Tags) > TopTags {
		r.Tags = r.Tags[:TopTags]
	}
	return r.partners(ctx, q, acct, t, where, args)
}

// each runs a query and calls row for each row with its Scan.
func each(ctx context.Context, q store.Queryer, query string, args []any, row func(store.Row) error) error {
	if err := store.Each(ctx, q, query, args, row); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func sortInt64(s []int64) { slices.Sort(s) }

// slaNames turns the SLA counts by policy and group into the two tables.
func (r *Report) slaNames(ctx context.Context, q store.Queryer, acct ids.Account, t *tally) error {
	policies, err := names(ctx, q, `SELECT id, title FROM sla_policies WHERE account_id = ?`, acct)
	if err != nil {
		return err
	}
	groups, err := names(ctx, q, `SELECT id, name FROM groups WHERE account_id = ?`, acct)
	if err != nil {
		return err
	}
	byPolicy, byGroup := map[string]*SLARow{}, map[string]*SLARow{}
	for k, c := range t.sla {
		pn := policies[k[0]]
		if pn == "" {
			pn = fmt.Sprintf("Policy %d (deleted)", k[0])
		}
		gn := groups[k[1]]
		if k[1] == 0 {
			gn = "No group"
		} else if gn == "" {
			gn = fmt.Sprintf("Group %d", k[1])
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
	err := each(ctx, q, query, []any{acct}, func(sc store.Row) error {
		var id int64
		var n string
		if err := sc.Scan(&id, &n); err != nil {
			return err
		}
		out[id] = n
		return nil
	})
	return out, err
}

// TopTags is how many tags the report lists.
const TopTags = 10

// partners adds to the shares' counts how many tickets each partner owes an answer on
// now (whenever shared), the partners' names and promises, and their response times.
func (r *Report) partners(ctx context.Context, q store.Queryer, acct ids.Account, t *tally, where string, args []any) error {
	err := each(ctx, q, `SELECT s.agreement_id, COUNT(*) FROM ticket_shares s JOIN tickets t ON t.account_id = s.account_id AND t.id = s.ticket_id
		WHERE s.account_id = ? AND s.owed_since > 0 AND s.state = 'active' AND s.direction = 'out' AND `+where+` GROUP BY s.agreement_id`,
		append([]any{acct}, args...), func(sc store.Row) error {
			var id int64
			var n int
			if err := sc.Scan(&id, &n); err != nil {
				return err
			}
			t.partner(id).Waiting = n
			return nil
		})
	if err != nil {
		return err
	}
	err = each(ctx, q, `SELECT id, name, promised_minutes FROM sharing_agreements WHERE account_id = ?`, []any{acct}, func(sc store.Row) error {
		var id, promised int64
		var name string
		if err := sc.Scan(&id, &name, &promised); err != nil {
			return err
		}
		if p := t.partners[id]; p != nil {
			p.Name, p.Promised = name, time.Duration(promised)*time.Minute
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id, p := range t.partners {
		if p.Sent == 0 && p.Received == 0 && p.Waiting == 0 {
			continue
		}
		p.Response = t.response[id].times()
		r.Partners = append(r.Partners, *p)
	}
	slices.SortFunc(r.Partners, func(a, b Partner) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.AgreementID, b.AgreementID))
	})
	return nil
}
