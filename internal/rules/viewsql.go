package rules

import (
	"context"
	"database/sql"
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
	acct  ids.Account
	where string // over tickets t: tenant, not deleted, the viewer's scope, the conditions
	args  []any
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
	scope, sargs := ticket.Scope(d, acct, viewer)
	w := &sqlWriter{acct: acct, viewer: viewer.UserID, now: now}
	w.args = append(w.args, acct)
	parts := []string{"t.account_id = ?", "t.deleted_at = 0", "(" + scope + ")"}
	w.args = append(w.args, sargs...)
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
	q := &Query{acct: acct, where: strings.Join(parts, " AND "), args: w.args, probes: w.probes}
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

// Count counts the view's tickets.
func (q *Query) Count(ctx context.Context, db store.Queryer) (int64, error) {
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets t WHERE `+q.where, q.args...).Scan(&n); err != nil {
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
type Row struct {
	Ticket *ticket.Ticket
	Keys   []int64
}

// keyset is the condition "comes after vals in this order" (or before, reversed).
func keyset(order []SortKey, vals []int64, reverse bool) (string, []any) {
	var ors []string
	var args []any
	for i := range order {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, order[j].Expr+" = ?")
			args = append(args, vals[j])
		}
		cmp := ">"
		if order[i].Desc != reverse {
			cmp = "<"
		}
		ands = append(ands, order[i].Expr+" "+cmp+" ?")
		args = append(args, vals[i])
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}

// keyScanner appends the ordering keys to a ticket row's scan targets.
type keyScanner struct {
	rows *sql.Rows
	keys []int64
}

// Scan reads a row into dest followed by the keys.
func (k *keyScanner) Scan(dest ...any) error {
	for i := range k.keys {
		dest = append(dest, &k.keys[i])
	}
	return k.rows.Scan(dest...)
}

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
		var live int64
		if err := db.QueryRowContext(ctx, `SELECT live_tickets FROM accounts WHERE id = ?`, q.acct).Scan(&live); err != nil {
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
	where, args := q.where, append([]any{}, q.args...)
	walk, err := q.walk(ctx, db, p.Size)
	if err != nil {
		return nil, false, err
	}
	if walk {
		where = strings.ReplaceAll(where, walkMark, "+")
	}
	reverse := len(p.Before) > 0
	switch {
	case len(p.After) == len(q.Order):
		s, a := keyset(q.Order, p.After, false)
		where, args = where+" AND "+s, append(args, a...)
	case reverse && len(p.Before) == len(q.Order):
		s, a := keyset(q.Order, p.Before, true)
		where, args = where+" AND "+s, append(args, a...)
	case len(p.After) > 0 || len(p.Before) > 0:
		return nil, false, fmt.Errorf("rules: cursor has %d keys, the view orders by %d", max(len(p.After), len(p.Before)), len(q.Order))
	}
	exprs := make([]string, len(q.Order))
	order := make([]string, len(q.Order))
	for i, k := range q.Order {
		exprs[i] = k.Expr
		dir := " ASC"
		if k.Desc != reverse {
			dir = " DESC"
		}
		order[i] = k.Expr + dir
	}
	query := `SELECT ` + ticket.ColsT + `, ` + strings.Join(exprs, ", ") + ` FROM tickets t WHERE ` + where + ` ORDER BY ` + strings.Join(order, ", ") + ` LIMIT ?`
	args = append(args, p.Size+1)
	if p.Offset > 0 && len(p.After) == 0 && !reverse {
		query += ` OFFSET ?`
		args = append(args, p.Offset)
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("rules: view tickets: %w", err)
	}
	defer rows.Close()
	var out []Row
	more := false
	for rows.Next() {
		if len(out) == p.Size {
			more = true
			break
		}
		ks := &keyScanner{rows: rows, keys: make([]int64, len(q.Order))}
		t, err := ticket.Scan(ks)
		if err != nil {
			return nil, false, fmt.Errorf("rules: view tickets: %w", err)
		}
		out = append(out, Row{Ticket: t, Keys: ks.keys})
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if reverse {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, more, nil
}

// SQL returns the compiled condition and its arguments (for query plans and tests).
func (q *Query) SQL() (string, []any) { return q.where, append([]any{}, q.args...) }
