package files

import (
	"context"
	"fmt"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// AttachHook is the ticket write path's after-hook that attaches the uploads named by
// each new comment (comment.uploads) to it, in the write's transaction: an unknown,
// expired, used or someone else's token fails the whole write (422), so a comment is
// never saved without the files it was written with.
func (s *Service) AttachHook(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	for _, c := range ch.Comments {
		if len(c.Uploads) == 0 {
			continue
		}
		if err := s.attach(ctx, tx, ch.Account.ID, ch.Actor.UserID, c, store.Now()); err != nil {
			return err
		}
	}
	return nil
}

// MaxUploadsPerComment bounds comment.uploads.
const MaxUploadsPerComment = 50

func (s *Service) attach(ctx context.Context, tx *store.Tx, acct ids.Account, by ids.User, c *ticket.Comment, now time.Time) error {
	if len(c.Uploads) > MaxUploadsPerComment {
		return errs.Invalidf("uploads", "TooMany", "a comment takes at most %d upload tokens", MaxUploadsPerComment)
	}
	seen := map[string]bool{}
	for _, tok := range c.Uploads {
		if seen[tok] {
			continue
		}
		seen[tok] = true
		// Only the uploader's own, unexpired, unattached upload; anything else is one
		// error whatever the reason, so a token of another account or user tells nothing.
		res, err := tx.ExecContext(ctx, `UPDATE attachments SET ticket_id = ?, comment_id = ?, expires_at = 0
			WHERE account_id = ? AND token = ? AND uploader_id = ? AND comment_id = 0 AND expires_at > ?`,
			c.TicketID, c.ID, acct, tok, by, store.Micros(now))
		if err != nil {
			return fmt.Errorf("files: attach: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Invalidf("uploads", "InvalidValue", "upload token %q is unknown, expired or already used", shortToken(tok))
		}
	}
	return nil
}

func shortToken(t string) string {
	if len(t) > 40 {
		return t[:40] + "…"
	}
	return t
}

// Redact replaces an attachment's file with an empty "redacted.txt", deletes its
// thumbnails and its bytes (when no other attachment uses them), records who did it on
// the attachment and, through the ticket write path, as an audit event on the ticket.
func (s *Service) Redact(ctx context.Context, tickets *ticket.Service, acct *account.Account, actor ticket.Actor, tid ids.Ticket, cid ids.Comment, id int64) (*Attachment, error) {
	var out *Attachment
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.RedactIn(ctx, tx, tickets, acct, actor, tid, cid, id, nil)
		return err
	})
	return out, err
}

// RedactIn is Redact inside the caller's transaction. base, when not nil, is the patch
// the audit event is written with (a sharing partner's redaction sets its Via and
// Origin, so that it is recorded as the partner's and not sent back to it).
func (s *Service) RedactIn(ctx context.Context, tx *store.Tx, tickets *ticket.Service, acct *account.Account, actor ticket.Actor, tid ids.Ticket, cid ids.Comment, id int64, base *ticket.Patch) (*Attachment, error) {
	var out *Attachment
	err := func() error {
		a, err := Get(ctx, tx, acct.ID, id)
		if err != nil {
			return err
		}
		if a.TicketID != tid || a.CommentID != cid || a.ParentID != 0 {
			return errs.NotFoundf("attachment %d not found", id)
		}
		if a.Redacted() {
			out = a
			return nil
		}
		t, err := ticket.Get(ctx, tx, acct.ID, tid)
		if err != nil {
			return err
		}
		now := store.Now()
		if t.Status != ticket.Closed {
			ev := ticket.Event{"type": "AttachmentRedactionEvent", "attachment_id": a.ID, "comment_id": int64(cid)}
			p := &ticket.Patch{}
			if base != nil {
				p.Via, p.Origin = base.Via, base.Origin
			}
			p.Events, p.SkipRules = []ticket.Event{ev}, true
			if _, err := tickets.Write(ctx, tx, acct, actor, tid, p); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE attachments SET file_name = 'redacted.txt', content_type = 'text/plain', size = 0, sha256 = '',
			width = 0, height = 0, redacted_by = ?, redacted_at = ? WHERE account_id = ? AND id = ?`, actor.UserID, store.Micros(now), acct.ID, a.ID); err != nil {
			return fmt.Errorf("files: redact: %w", err)
		}
		// Last: the bytes go once everything else in the transaction has been done.
		if err := s.remove(ctx, tx, a.Thumbnails); err != nil {
			return err
		}
		if err := s.release(ctx, tx, acct.ID, a.SHA256); err != nil {
			return err
		}
		out, err = Get(ctx, tx, acct.ID, id)
		return err
	}()
	return out, err
}
