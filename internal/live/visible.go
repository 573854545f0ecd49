package live

import (
	"context"
	"slices"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Visible returns ev as v may see it, or false if v may not see it at all. Staff see
// what the ticket visibility rules (ticket.AccessFor) let them see; an end user sees
// only the public side of their requests (or their organization's): public comments
// and status changes, never internal notes, other fields, presence or deliveries.
func Visible(ctx context.Context, q store.Queryer, v Viewer, ev *Event) (*Event, bool, error) {
	if ev.Account != v.Account || v.Actor.UserID == 0 {
		return nil, false, nil
	}
	a := v.Actor
	if ev.Kind == KindNotice {
		return ev, a.IsStaff() && slices.Contains(ev.Notify, a.UserID), nil
	}
	if a.IsStaff() {
		if a.Role == identity.Admin || a.Restriction == "" {
			return ev, true, nil // they see every ticket of the account
		}
		acc, err := ticket.AccessFor(ctx, q, a, &ticket.Ticket{AccountID: ev.Account, ID: ev.Ticket})
		if err != nil {
			return nil, false, err
		}
		return ev, acc.See, nil
	}
	if a.Role != identity.EndUser || ev.Kind != KindTicket {
		return nil, false, nil
	}
	pub := &Event{ID: ev.ID, Account: ev.Account, Ticket: ev.Ticket, Kind: ev.Kind, At: ev.At, Created: ev.Created}
	for _, c := range ev.Comments {
		if c.Public {
			pub.Comments = append(pub.Comments, CommentAdded{ID: c.ID, Public: true})
		}
	}
	for _, f := range ev.Fields {
		if f.Field == "status" {
			pub.Fields = append(pub.Fields, FieldChange{Field: f.Field, Value: f.Value})
		}
	}
	if len(pub.Comments) == 0 && len(pub.Fields) == 0 {
		return nil, false, nil
	}
	if len(pub.Comments) > 0 {
		pub.By = ev.By // the author of a public reply is shown beside it anyway
	}
	if _, _, err := ticket.GetVisible(ctx, q, ev.Account, a, ev.Ticket); err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, false, nil // not theirs, or deleted
		}
		return nil, false, err
	}
	return pub, true, nil
}
