package ticket

import (
	"context"
	"fmt"
	"strings"

	"tandem/internal/ids"
	"tandem/internal/store"
)

// colsT is Cols qualified with the alias t (ticket lists are the only selects that
// need it).
var colsT = "t." + strings.ReplaceAll(Cols, ", ", ", t.")

// SortKey is one ordering key of a ticket list: an integer expression over tickets t
// (the field registry declares one per sortable field), so that pages can continue
// after a row's keys.
type SortKey struct {
	Expr string
	Desc bool
}

// ListQuery is a page of a ticket list: the account's live tickets that the viewer may
// see (Scope) and that match Where, in Order. Every list of tickets (views, the API's
// ticket and request lists, the agent and help center pages) is one of these.
type ListQuery struct {
	Account ids.Account
	Viewer  Actor
	// Unscoped: Where is itself what the viewer may see (a staff member's own requests).
	Unscoped bool
	// Deleted lists the deleted tickets instead of the live ones (GET /deleted_tickets).
	Deleted bool
	// Where is a condition over tickets t ("" for none) with its arguments.
	Where string
	Args  []any
	// Order must end with a unique key (t.id).
	Order []SortKey
	// Size is the page size (default 100). A page starts at Offset, or after or before
	// a row's keys (a cursor: one value per key of Order).
	Size   int
	Offset int
	After  []int64
	Before []int64
	// Also are expressions of the account rather than of a row (uncorrelated
	// subqueries, with AlsoArgs, one value each), selected with the page so that what
	// rendering the page needs to know of the account comes in the page's own round
	// trip and snapshot: each row repeats them and is scanned into AlsoDest. An empty
	// page scans nothing.
	Also     []string
	AlsoArgs []any
	AlsoDest []any
}

// ListRow is one ticket of a list with its ordering keys (for cursors).
type ListRow struct {
	Ticket *Ticket
	Keys   []int64
}

// Condition is the whole condition of the list over tickets t (tenant, live, scope and
// Where) and its arguments.
func (lq *ListQuery) Condition(d store.Dialect) (string, []any) {
	cond, args := "t.account_id = ? AND t.deleted_at = 0", []any{lq.Account}
	if lq.Deleted {
		cond = "t.account_id = ? AND t.deleted_at > 0"
	}
	if !lq.Unscoped {
		scope, sargs := Scope(d, lq.Account, lq.Viewer)
		cond, args = cond+" AND ("+scope+")", append(args, sargs...)
	}
	if lq.Where != "" {
		cond, args = cond+" AND "+lq.Where, append(args, lq.Args...)
	}
	return cond, args
}

// CountList counts the tickets of a list.
func CountList(ctx context.Context, q store.Queryer, lq ListQuery) (int64, error) {
	cond, args := lq.Condition(q.D())
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets t WHERE `+cond, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("ticket: count list: %w", err)
	}
	return n, nil
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

// List returns a page of the list, in its order, and whether more rows follow it in the
// direction of travel (after the page, or before it for a Before cursor).
func List(ctx context.Context, q store.Queryer, lq ListQuery) ([]ListRow, bool, error) {
	if lq.Size <= 0 {
		lq.Size = 100
	}
	where, args := lq.Condition(q.D())
	reverse := len(lq.Before) > 0
	switch {
	case len(lq.After) == len(lq.Order) && !reverse:
		s, a := keyset(lq.Order, lq.After, false)
		where, args = where+" AND "+s, append(args, a...)
	case reverse && len(lq.Before) == len(lq.Order):
		s, a := keyset(lq.Order, lq.Before, true)
		where, args = where+" AND "+s, append(args, a...)
	case len(lq.After) > 0 || reverse:
		return nil, false, fmt.Errorf("ticket: cursor has %d keys, the list orders by %d", max(len(lq.After), len(lq.Before)), len(lq.Order))
	}
	exprs := make([]string, len(lq.Order))
	order := make([]string, len(lq.Order))
	for i, k := range lq.Order {
		exprs[i] = k.Expr
		dir := " ASC"
		if k.Desc != reverse {
			dir = " DESC"
		}
		order[i] = k.Expr + dir
	}
	if len(lq.Also) != len(lq.AlsoDest) {
		return nil, false, fmt.Errorf("ticket: list selects %d values of the account into %d destinations", len(lq.Also), len(lq.AlsoDest))
	}
	if len(lq.Also) > 0 {
		// The select list's arguments come before the condition's.
		exprs = append(exprs, lq.Also...)
		args = append(append([]any{}, lq.AlsoArgs...), args...)
	}
	query := `SELECT ` + colsT + `, ` + strings.Join(exprs, ", ") + ` FROM tickets t WHERE ` + where + ` ORDER BY ` + strings.Join(order, ", ") + ` LIMIT ?`
	args = append(args, lq.Size+1)
	if lq.Offset > 0 && len(lq.After) == 0 && !reverse {
		query += ` OFFSET ?`
		args = append(args, lq.Offset)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("ticket: list: %w", err)
	}
	defer rows.Close()
	out := make([]ListRow, 0, min(lq.Size, 100))
	more := false
	// The rows' ordering keys, in one array for the page.
	var keys []int64
	dest := append(make([]any, len(lq.Order), len(lq.Order)+len(lq.AlsoDest)), lq.AlsoDest...)
	for rows.Next() {
		if len(out) == lq.Size {
			more = true
			break
		}
		if len(keys) < len(lq.Order) {
			keys = make([]int64, len(lq.Order)*cap(out))
		}
		rowKeys := keys[:len(lq.Order):len(lq.Order)]
		keys = keys[len(lq.Order):]
		for i := range rowKeys {
			dest[i] = &rowKeys[i]
		}
		t, err := scanTicket(rows, dest...)
		if err != nil {
			return nil, false, fmt.Errorf("ticket: list: %w", err)
		}
		out = append(out, ListRow{Ticket: t, Keys: rowKeys})
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("ticket: list: %w", err)
	}
	if reverse {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, more, nil
}
