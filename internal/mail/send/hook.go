package send

import (
	"context"
	"slices"

	"tandem/internal/files"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// AfterWrite is the ticket write path's after-hook that sends the notifications the
// triggers decided (the change's Notification audit events), in the change's
// transaction: one mail per recipient who has an address, is active and may see the
// ticket. End users get the body rendered without internal notes (the event's
// end_user_body when the triggers rendered one).
func (s *Service) AfterWrite(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	for _, ev := range ch.Events {
		if ev["type"] == failureEvent || ev["type"] == delayEvent {
			return nil // recording a failed mail sends none: no loop with a dead address
		}
	}
	t := ch.Ticket
	// The files of the change's comments, read once, when the first mail is queued
	// (files.go decides, per mail, which are attached and which linked). A comment new in
	// this write has files only from the upload tokens it was written with (the files
	// hook attached them): without any, there is nothing to read.
	var byComment map[ids.Comment][]*files.Attachment
	loadFiles := func() error {
		if byComment != nil || s.cfg.Files == nil || !slices.ContainsFunc(ch.Comments, withUploads) {
			return nil
		}
		list := make([]ids.Comment, len(ch.Comments))
		for i, c := range ch.Comments {
			list[i] = c.ID
		}
		var err error
		byComment, err = files.ForComments(ctx, tx, ch.Account.ID, list)
		return err
	}
	// The ticket's thread, read by the first mail and kept for the others; a ticket this
	// change creates has no token and no mail yet.
	th := &thread{known: ch.Created}
	for _, ev := range ch.Events {
		if ev["type"] != "Notification" {
			continue
		}
		subject, _ := ev["subject"].(string)
		body, _ := ev["body"].(string)
		endUserBody, ok := ev["end_user_body"].(string)
		if !ok {
			endUserBody = body
		}
		for _, id := range recipientIDs(ev["recipients"]) {
			u := knownUser(ctx, ch.Account.ID, id)
			if u == nil && ch.Requester != nil && ch.Requester.ID == id {
				u = ch.Requester // read by this create
			}
			if u == nil {
				var err error
				if u, err = identity.Get(ctx, tx, ch.Account.ID, id); err != nil {
					continue
				}
			}
			if u.Email == "" || !u.Active || u.Suspended {
				continue
			}
			text := body
			if !u.Role.IsStaff() {
				see, err := endUserSees(ctx, tx, u, t)
				if err != nil {
					return err
				}
				if !see {
					continue
				}
				text = endUserBody
			}
			if err := loadFiles(); err != nil {
				return err
			}
			text = s.withSuggestions(ctx, tx, ch.Account, u, t, text)
			err := s.queueOn(ctx, tx, ch.Account, Outgoing{Kind: "notification", ToName: u.Name, To: u.Email,
				Subject: subject, Text: text, Auto: true, Ticket: t.ID, Files: commentFiles(byComment, ch.Comments, u.Role.IsStaff())}, th)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// withUploads reports whether a comment was written with upload tokens.
func withUploads(c *ticket.Comment) bool { return len(c.Uploads) > 0 }

// recipientIDs reads a Notification event's recipients (ids as the rules wrote them, or
// as JSON gave them back).
func recipientIDs(v any) []ids.User {
	var out []ids.User
	switch rs := v.(type) {
	case []int64:
		for _, r := range rs {
			out = append(out, ids.User(r))
		}
	case []any:
		for _, r := range rs {
			if f, ok := r.(float64); ok {
				out = append(out, ids.User(f))
			}
		}
	}
	return out
}

// endUserSees reports whether an end user may read mail about the ticket: its requester,
// one of its CCs, collaborators or followers, or someone who sees it on the help center
// (a shared organization).
func endUserSees(ctx context.Context, q store.Queryer, u *identity.User, t *ticket.Ticket) (bool, error) {
	if t.RequesterID == u.ID || slices.Contains(t.EmailCCIDs, u.ID) || slices.Contains(t.CollaboratorIDs, u.ID) || slices.Contains(t.FollowerIDs, u.ID) {
		return true, nil
	}
	a, err := ticket.AccessFor(ctx, q, ticket.Actor{UserID: u.ID, Role: u.Role}, t)
	return a.See, err
}

type knownUsersKey struct{}

// knownUsers are users a writer read in the transaction of its change.
type knownUsers struct {
	acct  ids.Account
	users []*identity.User
}

// WithUsers returns ctx telling AfterWrite users of the account that the caller read in
// the transaction it writes the change in (inbound mail's sender, the requester of the
// ticket it creates), so that their mail does not read them again.
func WithUsers(ctx context.Context, acct ids.Account, users ...*identity.User) context.Context {
	return context.WithValue(ctx, knownUsersKey{}, &knownUsers{acct: acct, users: users})
}

// knownUser returns the user of WithUsers with that id, nil when there is none.
func knownUser(ctx context.Context, acct ids.Account, id ids.User) *identity.User {
	k, _ := ctx.Value(knownUsersKey{}).(*knownUsers)
	if k == nil || k.acct != acct {
		return nil
	}
	for _, u := range k.users {
		if u != nil && u.ID == id {
			return u
		}
	}
	return nil
}
