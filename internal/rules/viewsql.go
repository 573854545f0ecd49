package rules

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
	"tandem/internal/ticket/tfield"
)

// A view is compiled to SQL from the whitelist of fields and operators in this file:
// column names and operators come from the code, every value the user wrote travels as
// a bind parameter. Sharing conditions are subqueries over the account's shares, which
// indexes starting with the account serve.

// SortKey is one ordering key of a view query: an integer expression over tickets t.
type SortKey struct {
	Column string // the view column it comes from ("" for the ticket id tie-break)
	Expr   string
	Desc   bool
}

// Query is a compiled view: which of the account's tickets a viewer sees in it, and in
// what order.
type Query struct {
	acct    ids.Account
	dialect store.Dialect
	viewer  ticket.Actor
	where   string // the conditions over tickets t (the list adds tenant, live and scope)
	args    []any
	// Order ends with the ticket id, so every row has a distinct key.
	Order []SortKey
	// probes are the share sets the conditions require (SQLite only): when each is
	// large, a page walks the sort order instead of starting from the set (see walk).
	probes  []probe
	walkMin int64 // 0: the size rule in walk; tests set 1 to force walking
}

// probe is a subquery of ticket ids, with its arguments.
type probe struct {
	sql  string
	args []any
}

// walkMark precedes a share set's "t.id IN (...)". Left alone it is a comment and the
// planner may start from the set; replaced with "+", the ticket id is no longer indexable
// there, so the planner walks the sort order and checks the set for each ticket.
const walkMark = "/*walk*/"

// sqlWriter accumulates a condition's SQL and its arguments, in order.
type sqlWriter struct {
	acct   ids.Account
	viewer ids.User
	now    time.Time
	args   []any
	// probing: record the share sets of the condition being compiled (one every ticket
	// of the view must be in) as probes.
	probing bool
	probes  []probe
}

// inShares is "t.id IN (sub)" for a share set whose arguments start at w.args[from].
func (w *sqlWriter) inShares(sub string, from int) string {
	if w.probing {
		w.probes = append(w.probes, probe{sql: sub, args: append([]any{}, w.args[from:]...)})
	}
	return walkMark + "t.id IN (" + sub + ")"
}

func (w *sqlWriter) arg(v any) string {
	w.args = append(w.args, v)
	return "?"
}

func (w *sqlWriter) list(vals []string) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = w.arg(v)
	}
	return strings.Join(ph, ", ")
}

// shares starts a selection of ticket ids from the account's shares; callers append
// their conditions after it (so that the arguments stay in order).
func (w *sqlWriter) shares() string {
	return "SELECT s.ticket_id FROM ticket_shares s WHERE s.account_id = " + w.arg(w.acct)
}

// cond compiles one validated view condition.
func (w *sqlWriter) cond(c Condition) (string, error) {
	if f := lookupCond(c.Field); f != nil && f.sql != nil && f.kinds&KindView != 0 {
		return f.sql(w, c), nil
	}
	return "", fmt.Errorf("rules: condition %s %s cannot be used in a view", c.Field, c.Operator)
}

// CompileView compiles view conditions and output for a viewer, whose ticket
// restriction (ticket.Scope) the view respects. The conditions must be validated.
func CompileView(d store.Dialect, acct ids.Account, viewer ticket.Actor, conds Conditions, out Output, now time.Time) (*Query, error) {
	w := &sqlWriter{acct: acct, viewer: viewer.UserID, now: now}
	parts := []string{"1=1"}
	for _, c := range conds.All {
		// PostgreSQL's planner sizes the sets from its statistics; SQLite's cannot.
		w.probing = d == store.SQLite
		s, err := w.cond(c)
		w.probing = false
		if err != nil {
			return nil, err
		}
		parts = append(parts, "("+s+")")
	}
	if len(conds.Any) > 0 {
		var ors []string
		for _, c := range conds.Any {
			s, err := w.cond(c)
			if err != nil {
				return nil, err
			}
			ors = append(ors, "("+s+")")
		}
		parts = append(parts, "("+strings.Join(ors, " OR ")+")")
	}
	if len(parts) > 1 {
		parts = parts[1:]
	}
	q := &Query{acct: acct, dialect: d, viewer: viewer, where: strings.Join(parts, " AND "), args: w.args, probes: w.probes}
	if out.GroupBy != "" {
		q.Order = append(q.Order, SortKey{Column: out.GroupBy, Expr: tfield.SortExpr(out.GroupBy), Desc: out.GroupOrder == "desc"})
	}
	sortBy, desc := out.SortBy, out.SortOrder == "desc"
	if sortBy == "" {
		sortBy, desc = "nice_id", false
	}
	if sortBy != "nice_id" {
		q.Order = append(q.Order, SortKey{Column: sortBy, Expr: tfield.SortExpr(sortBy), Desc: desc})
	}
	q.Order = append(q.Order, SortKey{Column: "nice_id", Expr: "t.id", Desc: desc})
	return q, nil
}

// list is the view as a ticket list (without a page).
func (q *Query) list() ticket.ListQuery {
	order := make([]ticket.SortKey, len(q.Order))
	for i, k := range q.Order {
		order[i] = ticket.SortKey{Expr: k.Expr, Desc: k.Desc}
	}
	return ticket.ListQuery{Account: q.acct, Viewer: q.viewer, Where: q.where, Args: q.args, Order: order}
}

// Count counts the view's tickets.
func (q *Query) Count(ctx context.Context, db store.Queryer) (int64, error) {
	n, err := ticket.CountList(ctx, db, q.list())
	if err != nil {
		return 0, fmt.Errorf("rules: count view: %w", err)
	}
	return n, nil
}

// Page selects a page of a view: by offset, or after or before a row's keys (cursor).
type Page struct {
	Size   int
	Offset int
	After  []int64
	Before []int64
}

// Row is one ticket of a view with its ordering keys (for cursors).
type Row = ticket.ListRow

// walk decides how SQLite finds a page of a view that requires share sets. Starting
// from a set costs a lookup per member plus a sort of them all; walking the sort order
// costs about page×tickets/members rows, until the page is full. The walk wins when
// every set has at least √(page×tickets) members: at a million tickets, pages of 100 and
// 18,000 shared tickets, 8 ms instead of 57 (docs/BENCHMARKS.md). Sizing a set stops
// counting at that bound.
func (q *Query) walk(ctx context.Context, db store.Queryer, size int) (bool, error) {
	if len(q.probes) == 0 {
		return false, nil
	}
	bound := q.walkMin
	if bound == 0 {
		live, err := ticket.LiveCount(ctx, db, q.acct)
		if err != nil {
			return false, fmt.Errorf("rules: view size: %w", err)
		}
		bound = max(2000, int64(math.Sqrt(float64(size+1)*float64(live))))
	}
	for _, pr := range q.probes {
		var n int64
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+pr.sql+` LIMIT ?) p`, append(append([]any{}, pr.args...), bound)...).Scan(&n); err != nil {
			return false, fmt.Errorf("rules: view share set size: %w", err)
		}
		if n < bound {
			return false, nil
		}
	}
	return true, nil
}

// Tickets returns a page of the view's tickets and whether more follow.
func (q *Query) Tickets(ctx context.Context, db store.Queryer, p Page) ([]Row, bool, error) {
	if p.Size <= 0 {
		p.Size = 100
	}
	lq := q.list()
	walk, err := q.walk(ctx, db, p.Size)
	if err != nil {
		return nil, false, err
	}
	if walk {
		lq.Where = strings.ReplaceAll(lq.Where, walkMark, "+")
	}
	lq.Size, lq.Offset, lq.After, lq.Before = p.Size, p.Offset, p.After, p.Before
	rows, more, err := ticket.List(ctx, db, lq)
	if err != nil {
		return nil, false, fmt.Errorf("rules: view tickets: %w", err)
	}
	return rows, more, nil
}

// SQL returns the compiled condition (tenant, live, the viewer's scope and the view's
// conditions) and its arguments (for query plans and tests).
func (q *Query) SQL() (string, []any) {
	lq := q.list()
	return lq.Condition(q.dialect)
}
