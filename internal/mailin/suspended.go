package mailin

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Suspended is a message that did not become a ticket by itself.
type Suspended struct {
	ID          int64
	AccountID   ids.Account
	InboxID     int64
	Subject     string
	Content     string
	AuthorName  string
	AuthorEmail string
	Recipient   string
	MessageID   string
	Cause       string
	CauseID     int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// maxSuspendedContent bounds the text kept on a suspended ticket (the whole message
// stays in the inbox).
const maxSuspendedContent = 16 << 10

// suspend records the message as a suspended ticket with its cause, and the inbox row
// as suspended, in tx.
func (s *Service) suspend(ctx context.Context, tx *store.Tx, acct *account.Account, in *inboxRow, p *parsed, causeID int, cause string) error {
	var subject, content, name, email, msgID string
	m := p.m
	if m != nil {
		subject, content, name, email, msgID = m.Subject, m.Text, m.FromName, m.FromAddress, m.MessageID
	} else {
		// Unreadable: show the start of the raw message, as text.
		content = clean(string(p.head[:min(len(p.head), maxSuspendedContent)]))
	}
	if email == "" {
		email = in.MailFrom
	}
	if len(content) > maxSuspendedContent {
		content = limitBody(content[:maxSuspendedContent], 0)
	}
	recipient, _, err := s.recipientOf(ctx, tx, acct.ID, in, orEmpty(m))
	if err != nil {
		return err
	}
	now := micros(store.Now())
	if _, err := tx.ExecContext(ctx, `INSERT INTO suspended_tickets (account_id, inbox_id, subject, content, author_name, author_email, recipient, message_id, cause, cause_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, acct.ID, in.ID, clean(subject), content, clean(name), clean(email), recipient, clean(msgID), cause, causeID, now, now); err != nil {
		return err
	}
	return finish(ctx, tx, in.ID, stateSuspended, 0, 0)
}

func orEmpty(m *Message) *Message {
	if m == nil {
		return &Message{}
	}
	return m
}

const suspCols = `id, account_id, inbox_id, subject, content, author_name, author_email, recipient, message_id, cause, cause_id, created_at, updated_at`

func scanSuspended(sc interface{ Scan(...any) error }) (*Suspended, error) {
	var t Suspended
	var c, u int64
	if err := sc.Scan(&t.ID, &t.AccountID, &t.InboxID, &t.Subject, &t.Content, &t.AuthorName, &t.AuthorEmail, &t.Recipient, &t.MessageID, &t.Cause, &t.CauseID, &c, &u); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = store.Time(c), store.Time(u)
	return &t, nil
}

// SuspendedList returns a page of the account's suspended tickets, newest first:
// those with an id below before (0: from the newest), at most limit.
func (s *Service) SuspendedList(ctx context.Context, acct ids.Account, before int64, limit int) ([]*Suspended, error) {
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+suspCols+` FROM suspended_tickets WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, acct, before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Suspended
	for rows.Next() {
		t, err := scanSuspended(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SuspendedCount returns how many suspended tickets the account has.
func (s *Service) SuspendedCount(ctx context.Context, acct ids.Account) (int, error) {
	var n int
	err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM suspended_tickets WHERE account_id = ?`, acct).Scan(&n)
	return n, err
}

// SuspendedTicket returns one suspended ticket of the account.
func (s *Service) SuspendedTicket(ctx context.Context, acct ids.Account, id int64) (*Suspended, error) {
	t, err := scanSuspended(s.db.R().QueryRowContext(ctx, `SELECT `+suspCols+` FROM suspended_tickets WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("suspended ticket %d not found", id)
	}
	return t, err
}

// Recover makes the ticket (or comment) the suspended message would have made had it
// not been suspended, as if it arrived now, and deletes the suspended ticket.
func (s *Service) Recover(ctx context.Context, acct *account.Account, id int64) (*ticket.Ticket, error) {
	st, err := s.SuspendedTicket(ctx, acct.ID, id)
	if err != nil {
		return nil, err
	}
	in, err := s.loadInbox(ctx, s.db.R(), st.InboxID)
	if err != nil {
		return nil, err
	}
	if in.AccountID != acct.ID {
		return nil, errs.NotFoundf("suspended ticket %d not found", id)
	}
	p, err := s.parseInbox(in)
	if err != nil {
		return nil, err
	}
	defer p.close()
	out, err := s.ingest(ctx, acct, in, p, id)
	if err != nil {
		return nil, err
	}
	if out.TicketID == 0 {
		return nil, errs.Invalidf("suspended_ticket", "InvalidValue", "the message made no ticket (a duplicate or a verification)")
	}
	return ticket.Get(ctx, s.db.R(), acct.ID, out.TicketID)
}

// DeleteSuspended deletes a suspended ticket; its message is kept in the inbox,
// marked deleted.
func (s *Service) DeleteSuspended(ctx context.Context, acct ids.Account, id int64) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		var inbox int64
		err := tx.QueryRowContext(ctx, `SELECT inbox_id FROM suspended_tickets WHERE account_id = ? AND id = ?`, acct, id).Scan(&inbox)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFoundf("suspended ticket %d not found", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM suspended_tickets WHERE account_id = ? AND id = ?`, acct, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE mail_inbox SET state = ? WHERE account_id = ? AND id = ?`, stateDeleted, acct, inbox)
		return err
	})
}

// Original returns the whole message a ticket's comment came from (the "original
// email"), found by the comment's id within the account.
func (s *Service) Original(ctx context.Context, acct ids.Account, t ids.Ticket, c ids.Comment) ([]byte, error) {
	var id int64
	err := s.db.R().QueryRowContext(ctx, `SELECT id FROM mail_inbox WHERE account_id = ? AND ticket_id = ? AND comment_id = ?`, acct, t, c).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("no email for comment %d", c)
	}
	if err != nil {
		return nil, err
	}
	in, err := s.loadInbox(ctx, s.db.R(), id)
	if err != nil {
		return nil, err
	}
	return s.content(in)
}

// EmailComments returns which of the ticket's comments came by email (they have an
// original to show).
func (s *Service) EmailComments(ctx context.Context, acct ids.Account, t ids.Ticket) (map[ids.Comment]bool, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT comment_id FROM mail_inbox WHERE account_id = ? AND ticket_id = ? AND comment_id IS NOT NULL`, acct, t)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[ids.Comment]bool{}
	for rows.Next() {
		var c int64
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out[ids.Comment(c)] = true
	}
	return out, rows.Err()
}

// removeSpool deletes a spool file (best effort).
func (s *Service) removeSpool(rel string) {
	if rel != "" {
		os.Remove(filepath.Join(s.cfg.SpoolDir, rel))
	}
}
