package files

import (
	"context"

	"tandem/internal/errs"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// CanSee decides whether actor may fetch an attachment, by the comment it belongs to
// (a thumbnail by its image's, which it shares): the ticket must be visible to the
// actor, and an end user only sees files of public comments. An upload not yet
// attached is its uploader's alone. Every surface (API, web, help center) asks here.
func CanSee(ctx context.Context, q store.Queryer, actor ticket.Actor, a *Attachment) (bool, error) {
	if actor.UserID == 0 {
		return false, nil
	}
	if a.CommentID == 0 {
		return a.UploaderID == actor.UserID, nil
	}
	t, err := ticket.Get(ctx, q, a.AccountID, a.TicketID)
	if errs.Is(err, errs.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	acc, err := ticket.AccessFor(ctx, q, actor, t)
	if err != nil || !acc.See {
		return false, err
	}
	if actor.IsStaff() {
		return true, nil
	}
	cm, err := ticket.GetComment(ctx, q, a.AccountID, a.TicketID, a.CommentID)
	if err != nil {
		return false, nil
	}
	return cm.Public, nil
}
