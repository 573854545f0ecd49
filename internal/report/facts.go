package report

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// The daily aggregates (report_daily) are sums of what each live ticket adds: its
// facts. A ticket's facts are the keys it counts under (created on its day, solved on
// its day, a first-reply bucket, each tag, each SLA target whose class does not change
// with time alone, its rating, each share) and the dimensions it is filed under (every
// ticket, its group, its organization, each agreement it is shared through). Every
// key counts once under every dimension.

// dkey is one count of a ticket, without its dimension.
type dkey struct {
	Kind string `json:"k"`
	Day  int64  `json:"d"`
	K1   int64  `json:"a,omitempty"`
	K2   int64  `json:"b,omitempty"`
	Name string `json:"n,omitempty"`
}

// facts is what one ticket adds to the aggregates.
type facts struct {
	Group  int64   `json:"g,omitempty"`
	Org    int64   `json:"o,omitempty"`
	Agrees []int64 `json:"p,omitempty"`
	Keys   []dkey  `json:"x,omitempty"`
}

// dim is a dimension a ticket is filed under.
type dim struct {
	Dim string
	ID  int64
}

func (f *facts) dims() []dim {
	if f == nil || len(f.Keys) == 0 {
		return nil
	}
	out := []dim{{"a", 0}}
	if f.Group != 0 {
		out = append(out, dim{"g", f.Group})
	}
	if f.Org != 0 {
		out = append(out, dim{"o", f.Org})
	}
	for _, a := range f.Agrees {
		out = append(out, dim{"p", a})
	}
	return out
}

// fullKey is a row of report_daily.
type fullKey struct {
	dim
	dkey
}

// add adds sign times the ticket's counts to into: each key on its day, and each key
// that is summed over a range (not the daily series) also on its month (kind "M" and
// the kind, day the month's first), so that a long range reads whole months.
func (f *facts) add(into map[fullKey]int64, sign int64) {
	for _, d := range f.dims() {
		for _, k := range f.Keys {
			into[fullKey{d, k}] += sign
			if !seriesKind(k.Kind) {
				m := k
				m.Kind, m.Day = "M"+k.Kind, monthOf(k.Day)
				into[fullKey{d, m}] += sign
			}
		}
	}
}

// seriesKind reports whether a kind makes the daily series (read day by day).
func seriesKind(kind string) bool {
	return kind == kCreated || kind == kSolved || kind == kBacklogSub || kind == kBacklogAdd
}

// monthOf is the day number of the first day of a day's month.
func monthOf(day int64) int64 {
	y, m, _ := time.Unix(day*86400, 0).UTC().Date()
	return dateDay(y, m, 1)
}

// nextMonth is the day number of the first day of the month after a day's.
func nextMonth(day int64) int64 {
	y, m, _ := time.Unix(day*86400, 0).UTC().Date()
	return dateDay(y, m+1, 1)
}

// Kinds of counts (report_daily.kind).
const (
	kCreated     = "c"
	kSolved      = "s"
	kBacklogSub  = "w" // a ticket solved before it was created: taken back from the solved...
	kBacklogAdd  = "W" // ...and counted as solved on its creation day, for the backlog
	kFirstReply  = "f"
	kResolution  = "r"
	kSLA         = "S"
	kRating      = "g"
	kTag         = "t"
	kShare       = "p"
	kPartnerResp = "P"
)

// civil is a day number: days since 1970-01-01 of the local date of t in loc.
func civil(t time.Time, loc *time.Location) int64 {
	y, m, d := t.In(loc).Date()
	return dateDay(y, m, d)
}

func dateDay(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// dayOfUS is the day number of a time in microseconds.
func dayOfUS(us int64, loc *time.Location) int64 { return civil(time.UnixMicro(us), loc) }

// ticketRow is what the aggregates read of a ticket and its rows.
type ticketRow struct {
	id                                ids.Ticket
	created, solved, firstReply, dele int64
	status                            string
	group, org                        int64
	tags                              []string
	targets                           []targetRow
	rating                            *ratingRow
	shares                            []shareRow
}

type targetRow struct {
	policy               int64
	stage                string
	breachAt, breachedAt int64
}

type ratingRow struct {
	score   string
	updated int64
}

type shareRow struct {
	agreement, shared, answered int64
	direction                   string
}

// slaClass is a target's class when it does not depend on the time of reading, and
// "" when it does (active, with a breach time, not yet breached: counted when read).
func slaClass(stage string, breachAt, breachedAt int64) string {
	switch {
	case breachedAt > 0:
		return "missed"
	case stage == "active" && breachAt > 0:
		return ""
	case stage == "achieved":
		return "met"
	}
	return "running"
}

func solvedStatus(s string) bool { return s == "solved" || s == "closed" }

// factsOf computes a ticket's facts (nil for a deleted ticket).
func factsOf(t *ticketRow, loc *time.Location) *facts {
	if t == nil || t.dele != 0 {
		return nil
	}
	f := &facts{Group: t.group, Org: t.org}
	cday := dayOfUS(t.created, loc)
	us := func(x int64) time.Duration { return time.Duration(x) * time.Microsecond }
	f.Keys = append(f.Keys, dkey{Kind: kCreated, Day: cday})
	if t.firstReply > 0 {
		f.Keys = append(f.Keys, dkey{Kind: kFirstReply, Day: cday, K1: bucketOf(us(t.firstReply - t.created))})
	}
	if solvedStatus(t.status) {
		sday := dayOfUS(t.solved, loc)
		f.Keys = append(f.Keys, dkey{Kind: kSolved, Day: sday}, dkey{Kind: kResolution, Day: sday, K1: bucketOf(us(t.solved - t.created))})
		if t.solved < t.created {
			f.Keys = append(f.Keys, dkey{Kind: kBacklogSub, Day: sday}, dkey{Kind: kBacklogAdd, Day: cday})
		}
	}
	for _, tag := range t.tags {
		f.Keys = append(f.Keys, dkey{Kind: kTag, Day: cday, Name: tag})
	}
	for _, s := range t.targets {
		if c := slaClass(s.stage, s.breachAt, s.breachedAt); c != "" {
			f.Keys = append(f.Keys, dkey{Kind: kSLA, Day: cday, K1: s.policy, K2: t.group, Name: c})
		}
	}
	if r := t.rating; r != nil {
		f.Keys = append(f.Keys, dkey{Kind: kRating, Day: dayOfUS(r.updated, loc), Name: r.score})
	}
	for _, s := range t.shares {
		if !slices.Contains(f.Agrees, s.agreement) {
			f.Agrees = append(f.Agrees, s.agreement)
		}
		sday := dayOfUS(s.shared, loc)
		f.Keys = append(f.Keys, dkey{Kind: kShare, Day: sday, K1: s.agreement, Name: s.direction})
		if s.direction == "out" && s.answered > 0 {
			f.Keys = append(f.Keys, dkey{Kind: kPartnerResp, Day: sday, K1: s.agreement, K2: bucketOf(us(s.answered - s.shared))})
		}
	}
	slices.Sort(f.Agrees)
	slices.SortFunc(f.Keys, func(a, b dkey) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), cmp.Compare(a.Day, b.Day), cmp.Compare(a.K1, b.K1), cmp.Compare(a.K2, b.K2), strings.Compare(a.Name, b.Name))
	})
	return f
}

// loadTickets reads the live tickets of an account with ids in [lo, hi] and their tags,
// SLA targets, rating and shares.
func loadTickets(ctx context.Context, q store.Queryer, acct ids.Account, lo, hi ids.Ticket) (map[ids.Ticket]*ticketRow, error) {
	out := map[ids.Ticket]*ticketRow{}
	args := []any{acct, lo, hi}
	err := each(ctx, q, `SELECT id, created_at, solved_at, first_reply_at, deleted_at, status, COALESCE(group_id, 0), COALESCE(organization_id, 0)
		FROM tickets WHERE account_id = ? AND id >= ? AND id <= ? AND deleted_at = 0`, args, func(sc store.Row) error {
		t := &ticketRow{}
		if err := sc.Scan(&t.id, &t.created, &t.solved, &t.firstReply, &t.dele, &t.status, &t.group, &t.org); err != nil {
			return err
		}
		out[t.id] = t
		return nil
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	get := func(id ids.Ticket) *ticketRow { return out[id] }
	if err := each(ctx, q, `SELECT ticket_id, tag FROM ticket_tags WHERE account_id = ? AND ticket_id >= ? AND ticket_id <= ?`, args, func(sc store.Row) error {
		var id ids.Ticket
		var tag string
		if err := sc.Scan(&id, &tag); err != nil {
			return err
		}
		if t := get(id); t != nil {
			t.tags = append(t.tags, tag)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := each(ctx, q, `SELECT ticket_id, policy_id, stage, breach_at, breached_at FROM sla_targets WHERE account_id = ? AND ticket_id >= ? AND ticket_id <= ?`, args, func(sc store.Row) error {
		var id ids.Ticket
		var s targetRow
		if err := sc.Scan(&id, &s.policy, &s.stage, &s.breachAt, &s.breachedAt); err != nil {
			return err
		}
		if t := get(id); t != nil {
			t.targets = append(t.targets, s)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := each(ctx, q, `SELECT ticket_id, score, updated_at FROM satisfaction_ratings WHERE account_id = ? AND ticket_id >= ? AND ticket_id <= ?`, args, func(sc store.Row) error {
		var id ids.Ticket
		var r ratingRow
		if err := sc.Scan(&id, &r.score, &r.updated); err != nil {
			return err
		}
		if t := get(id); t != nil {
			t.rating = &r
		}
		return nil
	}); err != nil {
		return nil, err
	}
	err = each(ctx, q, `SELECT ticket_id, agreement_id, direction, shared_at, first_answer_at FROM ticket_shares WHERE account_id = ? AND ticket_id >= ? AND ticket_id <= ?`, args, func(sc store.Row) error {
		var id ids.Ticket
		var s shareRow
		if err := sc.Scan(&id, &s.agreement, &s.direction, &s.shared, &s.answered); err != nil {
			return err
		}
		if t := get(id); t != nil {
			t.shares = append(t.shares, s)
		}
		return nil
	})
	return out, err
}

func encodeFacts(f *facts) (string, error) {
	b, err := json.Marshal(f)
	return string(b), err
}

func decodeFacts(s string) (*facts, error) {
	if s == "" {
		return nil, nil
	}
	var f facts
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return nil, fmt.Errorf("report: ticket facts: %w", err)
	}
	return &f, nil
}

// writtenRow is loadTickets for a ticket its write has just stored: the ticket's row
// and tags are the change's (as the write stored them), and its SLA targets, rating and
// shares, which the write's other hooks may have added, are read in one statement, with
// the facts recorded at its last write when withFacts (an update; a new ticket has none).
// It was five statements and the facts a sixth, each a round trip on PostgreSQL, at
// every ticket write. A bare new ticket (bareCreate) has none of those rows: nothing is
// read.
func writtenRow(ctx context.Context, q store.Queryer, acct ids.Account, t *ticket.Ticket, withFacts, bare bool) (row *ticketRow, facts string, err error) {
	if !t.Deleted() { // else nil, as loadTickets, which reads live tickets only
		row = &ticketRow{id: t.ID, created: store.Micros(t.CreatedAt), solved: store.Micros(t.SolvedAt), firstReply: store.Micros(t.FirstReplyAt),
			dele: store.Micros(t.DeletedAt), status: string(t.Status), group: int64(t.GroupID), org: int64(t.OrganizationID), tags: slices.Clone(t.Tags)}
	}
	query := `SELECT 1, policy_id, stage, breach_at, breached_at FROM sla_targets WHERE account_id = ? AND ticket_id = ?
		UNION ALL SELECT 2, 0, score, updated_at, 0 FROM satisfaction_ratings WHERE account_id = ? AND ticket_id = ?
		UNION ALL SELECT 3, agreement_id, direction, shared_at, first_answer_at FROM ticket_shares WHERE account_id = ? AND ticket_id = ?`
	args := []any{acct, t.ID, acct, t.ID, acct, t.ID}
	switch {
	case withFacts && row == nil:
		query, args = `SELECT 4, 0, facts, 0, 0 FROM report_ticket_facts WHERE account_id = ? AND ticket_id = ?`, []any{acct, t.ID}
	case withFacts:
		query += `
		UNION ALL SELECT 4, 0, facts, 0, 0 FROM report_ticket_facts WHERE account_id = ? AND ticket_id = ?`
		args = append(args, acct, t.ID)
	case row == nil:
		return nil, "", nil
	case bare:
		return row, "", nil
	}
	err = each(ctx, q, query, args, func(sc store.Row) error {
		var kind int
		var n, a, b int64
		var s string
		if err := sc.Scan(&kind, &n, &s, &a, &b); err != nil {
			return err
		}
		switch kind {
		case 1:
			row.targets = append(row.targets, targetRow{policy: n, stage: s, breachAt: a, breachedAt: b})
		case 2:
			row.rating = &ratingRow{score: s, updated: a}
		case 3:
			row.shares = append(row.shares, shareRow{agreement: n, direction: s, shared: a, answered: b})
		default:
			facts = s
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("report: ticket facts: %w", err)
	}
	return row, facts, nil
}
