package files

import (
	"context"
	"fmt"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Files of mail. Inbound mail's attachments enter like any upload (Upload: spooled,
// sniffed, scanned, measured), uploaded by the system (uploader 0) before the message's
// transaction, because the sender may not exist yet; AttachSystemUpload then gives them
// to the comment the message became, in that transaction. An upload that is never
// attached (the transaction failed, the message was a duplicate) expires like any other.

// AttachSystemUpload attaches the files the system uploaded under token to comment cid
// of ticket tid, as uploaded by author; the files whose ids are in inline are marked
// inline (images a message showed in its body). It returns how many files it attached.
func (s *Service) AttachSystemUpload(ctx context.Context, tx *store.Tx, acct ids.Account, token string, author ids.User, tid ids.Ticket, cid ids.Comment, inline []int64) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE attachments SET ticket_id = ?, comment_id = ?, uploader_id = ?, expires_at = 0
		WHERE account_id = ? AND token = ? AND uploader_id = 0 AND comment_id = 0`, tid, cid, author, acct, token)
	if err != nil {
		return 0, fmt.Errorf("files: attach mail files: %w", err)
	}
	n, _ := res.RowsAffected()
	if len(inline) > 0 {
		args := []any{acct, cid}
		for _, id := range inline {
			args = append(args, id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE attachments SET inline = TRUE WHERE account_id = ? AND comment_id = ? AND id IN (`+
			strings.TrimSuffix(strings.Repeat("?,", len(inline)), ",")+`)`, args...); err != nil {
			return 0, fmt.Errorf("files: mark inline: %w", err)
		}
	}
	return int(n), nil
}

// DeleteSystemUpload deletes what the system uploaded under token and did not attach
// (a message that turned out a duplicate), with its blobs.
func (s *Service) DeleteSystemUpload(ctx context.Context, acct ids.Account, token string) error {
	err := s.DeleteUpload(ctx, acct, 0, token)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	return err
}

// Keeps reports whether the service stores files at all (a server without a data
// directory or blob store keeps none).
func (s *Service) Keeps() bool {
	_, none := s.blobs.(NoBlobs)
	return !none
}
