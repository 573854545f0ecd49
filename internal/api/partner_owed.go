package api

import (
	"context"
	"slices"

	"tandem/internal/ids"
	"tandem/internal/sharing"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// partnerOwedColumn returns the value of the view column partner_owed (since when a
// sharing partner owes an answer, null if none) for the tickets of a view page; it
// reads nothing unless the view shows that column.
func partnerOwedColumn(ctx context.Context, q store.Queryer, c *Call, list []*ticket.Ticket, cols []string) (func(t *ticket.Ticket) any, error) {
	if !slices.Contains(cols, "partner_owed") {
		return func(*ticket.Ticket) any { return nil }, nil
	}
	tids := make([]ids.Ticket, len(list))
	for i, t := range list {
		tids[i] = t.ID
	}
	owed, err := sharing.OwedSince(ctx, q, c.Acct.ID, tids)
	if err != nil {
		return nil, err
	}
	return func(t *ticket.Ticket) any { return ts(owed[t.ID]) }, nil
}
