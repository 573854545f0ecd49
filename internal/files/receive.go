package files

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Received is a file that arrived from outside with a comment already written (a
// sharing partner's attachment), to be kept as that comment's attachment.
type Received struct {
	TicketID  ids.Ticket
	CommentID ids.Comment
	// UploaderID is who the file is recorded as coming from (the partner's person).
	UploaderID ids.User
	// Name is the file name as the sender gave it (cleaned here like any upload's).
	Name string
	// Body is read up to the account's limits, never further.
	Body io.Reader
	// Size and SHA256, when not zero, are what the sender announced: bytes that do not
	// match are refused (ErrMismatch).
	Size   int64
	SHA256 string
	// Claim, when set, runs in the transaction that attaches the file to the comment,
	// with the new attachment's id; an error from it keeps nothing. The sharing receiver marks its
	// fetch done there, so that a file is never stored twice for one comment.
	Claim func(ctx context.Context, tx *store.Tx, id int64) error
}

// ErrMismatch is the kind of Receive's refusal of bytes that differ from what the
// sender announced (size or SHA-256): a truncated transfer or a different file.
var ErrMismatch = errors.New("files: the bytes differ from what the sender announced")

// Receive keeps a file that came with a comment, through the same checks as an upload:
// streamed to a spool file within the per-file limit and the account's quota (413
// naming the limit), its type sniffed from the bytes, scanned when a scanner is
// configured, thumbnailed, deduplicated per account. Unlike an upload it is attached at
// once, to in.CommentID. A mismatch with the announced size or SHA-256 is an
// errs.Invalid error wrapping ErrMismatch; nothing is kept of a refused file.
func (s *Service) Receive(ctx context.Context, acct ids.Account, in Received) (*Attachment, error) {
	if _, none := s.blobs.(NoBlobs); none {
		return nil, errs.E(errs.Unavailable, "This server keeps no files (no --data-dir or --blob-store)")
	}
	name, err := CleanName(in.Name)
	if errs.Is(err, errs.Invalid) && strings.TrimSpace(in.Name) != "" {
		name, err = CleanName(strings.ReplaceAll(in.Name, "\x00", ""))
	}
	if err != nil || name == "" {
		name = "attachment"
	}
	limit, what, err := s.limit(ctx, acct)
	if err != nil {
		return nil, err
	}
	if in.Size > limit {
		return nil, errs.E(errs.TooLarge, "The file (%d bytes) is larger than %s", in.Size, what)
	}
	sp, err := s.spool(ctx, in.Body, limit)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, errs.E(errs.TooLarge, "The file is larger than %s", what)
		}
		return nil, err
	}
	defer sp.close()
	if in.Size > 0 && sp.size != in.Size {
		return nil, mismatch("%d bytes arrived, %d were announced", sp.size, in.Size)
	}
	if in.SHA256 != "" && !strings.EqualFold(sp.sha, in.SHA256) {
		return nil, mismatch("their SHA-256 is %s, %s was announced", sp.sha, in.SHA256)
	}
	// The file is kept as an upload first (no comment, an expiry), then attached once
	// its bytes are in place: nobody sees a row whose bytes are still on their way, and
	// a crash in between leaves an upload that expires like any other.
	now := store.Now()
	a := &Attachment{AccountID: acct, Token: newToken(), UploaderID: in.UploaderID, FileName: name, ExpiresAt: now.Add(s.cfg.UploadTTL), CreatedAt: now}
	if err := s.keep(ctx, sp, a, nil); err != nil {
		return nil, err
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if in.Claim != nil {
			if err := in.Claim(ctx, tx, a.ID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE attachments SET ticket_id = ?, comment_id = ?, expires_at = 0 WHERE account_id = ? AND token = ? AND comment_id = 0`,
			in.TicketID, in.CommentID, acct, a.Token)
		return err
	})
	if err != nil {
		undo := context.WithoutCancel(ctx)
		if uerr := s.db.Write(undo, func(tx *store.Tx) error { return s.remove(undo, tx, append([]*Attachment{a}, a.Thumbnails...)) }); uerr != nil {
			s.log.ErrorContext(ctx, "undo received file", "err", uerr)
		}
		return nil, err
	}
	a.TicketID, a.CommentID, a.ExpiresAt = in.TicketID, in.CommentID, time.Time{}
	for _, th := range a.Thumbnails {
		th.TicketID, th.CommentID, th.ExpiresAt = in.TicketID, in.CommentID, time.Time{}
	}
	return a, nil
}

func mismatch(format string, args ...any) error {
	return errors.Join(errs.Invalidf("file", "Mismatch", format, args...), ErrMismatch)
}

// KeepUpload keeps an upload of uploader for good, in tx (no expiry, no comment: a file
// that belongs to something else, such as a help center article, which decides who may
// read it). It returns the upload's files (thumbnails nested); an unknown, expired,
// attached or someone else's token is one 422.
func (s *Service) KeepUpload(ctx context.Context, tx *store.Tx, acct ids.Account, uploader ids.User, token string) ([]*Attachment, error) {
	res, err := tx.ExecContext(ctx, `UPDATE attachments SET expires_at = 0 WHERE account_id = ? AND token = ? AND uploader_id = ? AND comment_id = 0 AND expires_at > ?`,
		acct, token, uploader, store.Micros(store.Now()))
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, errs.Invalidf("token", "InvalidValue", "upload token %q is unknown, expired or already used", shortToken(token))
	}
	all, err := queryAll(ctx, tx, `SELECT `+cols+` FROM attachments WHERE account_id = ? AND token = ? ORDER BY id`, acct, token)
	return nest(all), err
}

// RemoveIn deletes files (with their thumbnails) and, when nothing else uses them,
// their bytes, in tx.
func (s *Service) RemoveIn(ctx context.Context, tx *store.Tx, list []*Attachment) error {
	var all []*Attachment
	for _, a := range list {
		all = append(append(all, a), a.Thumbnails...)
	}
	return s.remove(ctx, tx, all)
}
