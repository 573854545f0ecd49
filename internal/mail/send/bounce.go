package send

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// delayEvent is the audit event type of a mail whose delivery a remote server reported
// delayed (a soft bounce): noted on the ticket, the mail is not failed.
const delayEvent = "EmailDeliveryDelayed"

// Bounce is a delivery status notification (RFC 3464) about a mail Tandem sent, as
// inbound mail read it back: which mail (the VERP token of the envelope address it
// came back to, else its Message-ID with angle brackets), which recipient, and
// whether it failed for good.
type Bounce struct {
	// Token, when set, is the VERP token the report was sent back to: it names one
	// mail, and so its recipient; MessageID and Recipient are then not needed.
	Token     string
	MessageID string
	Recipient string
	Status    string // the enhanced status code, 5.1.1
	Reason    string // in words, for the agent
	Hard      bool
}

// Bouncing is an address whose mail bounced for good: mail to it is held until an
// agent clears it.
type Bouncing struct {
	Email     string
	Status    string
	Reason    string
	CreatedAt time.Time
}

// RecordBounce applies a bounce to the mail it reports on, in tx, and reports whether
// it is about mail of the account (false: the caller treats the message as other
// inbound mail). A report with a VERP token applies to the one mail sent with it; one
// without (a relay that dropped the envelope sender) only to mail sent without a VERP
// envelope, matched by Message-ID and recipient — so that a forged report naming a
// known Message-ID cannot fail mail whose bounces come back to its token. A hard bounce fails the mail (status dead, the reason as its error),
// records the failure on its ticket as a 5xx from the relay does, and marks the
// address bouncing, so that later mail to it is held; a soft one (delayed) is noted on
// the ticket only. Recording it sends no mail.
func (s *Service) RecordBounce(ctx context.Context, tx *store.Tx, acct *account.Account, b Bounce) (bool, error) {
	rcpt := strings.ToLower(strings.TrimSpace(b.Recipient))
	if b.Token == "" && rcpt != "" {
		if err := lockAddress(ctx, tx, acct.ID, rcpt); err != nil {
			return false, err
		}
	}
	var id, tid int64
	var subject string
	var err error
	switch {
	case b.Token != "":
		err = tx.QueryRowContext(ctx, `SELECT id, ticket_id, subject, LOWER(rcpt_to) FROM mail_outbox WHERE account_id = ? AND verp_token = ?`,
			acct.ID, b.Token).Scan(&id, &tid, &subject, &rcpt)
	case b.MessageID != "" && rcpt != "":
		err = tx.QueryRowContext(ctx, `SELECT id, ticket_id, subject FROM mail_outbox WHERE account_id = ? AND message_id = ? AND LOWER(rcpt_to) = ? AND verp_token = '' ORDER BY id DESC LIMIT 1`,
			acct.ID, b.MessageID, rcpt).Scan(&id, &tid, &subject)
	default:
		return false, nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("send: find bounced mail: %w", err)
	}
	event := delayEvent
	if b.Hard {
		event = failureEvent
		if b.Token != "" {
			// The token named the mail, and so its address: locked now, before the
			// mail's row is written (the order ClearBounce takes).
			if err := lockAddress(ctx, tx, acct.ID, rcpt); err != nil {
				return false, err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET status = 'dead', last_error = ? WHERE id = ?`, "Bounced: "+b.Reason, id); err != nil {
			return false, fmt.Errorf("send: fail bounced mail: %w", err)
		}
		now := store.Micros(store.Now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_bounces (account_id, email, status, reason, outbox_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, email) DO UPDATE SET status = excluded.status, reason = excluded.reason, outbox_id = excluded.outbox_id, created_at = excluded.created_at`,
			acct.ID, rcpt, b.Status, b.Reason, id, now); err != nil {
			return false, fmt.Errorf("send: mark address bouncing: %w", err)
		}
	}
	if tid != 0 {
		_, err := s.tickets.Write(ctx, tx, acct, systemActor, ids.Ticket(tid), &ticket.Patch{
			Events: []ticket.Event{{"type": event, "recipient": rcpt, "subject": subject, "reason": b.Reason}},
		})
		// A ticket deleted meanwhile takes no events; the mail and address still record it.
		if err != nil && !errs.Is(err, errs.NotFound) {
			return false, fmt.Errorf("send: record bounce on ticket: %w", err)
		}
	}
	return true, nil
}

// BouncingAddress returns the hard bounce recorded for an address of the account;
// ok false when its mail does not bounce.
func BouncingAddress(ctx context.Context, q store.Queryer, acct ids.Account, email string) (b Bouncing, ok bool, err error) {
	var at int64
	err = q.QueryRowContext(ctx, `SELECT email, status, reason, created_at FROM mail_bounces WHERE account_id = ? AND email = ?`,
		acct, strings.ToLower(strings.TrimSpace(email))).Scan(&b.Email, &b.Status, &b.Reason, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Bouncing{}, false, nil
	}
	if err != nil {
		return Bouncing{}, false, fmt.Errorf("send: bouncing address: %w", err)
	}
	b.CreatedAt = store.Time(at)
	return b, true, nil
}

// BouncingAddresses lists the account's bouncing addresses, newest first.
func BouncingAddresses(ctx context.Context, q store.Queryer, acct ids.Account, limit int) ([]Bouncing, error) {
	rows, err := q.QueryContext(ctx, `SELECT email, status, reason, created_at FROM mail_bounces WHERE account_id = ? ORDER BY created_at DESC LIMIT ?`, acct, limit)
	if err != nil {
		return nil, fmt.Errorf("send: bouncing addresses: %w", err)
	}
	defer rows.Close()
	var out []Bouncing
	for rows.Next() {
		var b Bouncing
		var at int64
		if err := rows.Scan(&b.Email, &b.Status, &b.Reason, &at); err != nil {
			return nil, err
		}
		b.CreatedAt = store.Time(at)
		out = append(out, b)
	}
	return out, rows.Err()
}

// ClearBounce clears an address marked bouncing (an agent fixed it or the mailbox is
// back) and releases the mail held for it: sent now (kept, with no relay). It reports
// whether the address was marked.
func (s *Service) ClearBounce(ctx context.Context, acct ids.Account, email string) (bool, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	found := false
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := lockAddress(ctx, tx, acct, email); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM mail_bounces WHERE account_id = ? AND email = ?`, acct, email)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		found = n > 0
		now := store.Micros(store.Now())
		if s.relay == nil {
			_, err = tx.ExecContext(ctx, `UPDATE mail_outbox SET status = 'kept', attempts = 1, last_error = '', next_attempt_at = ?, delivered_at = ? WHERE account_id = ? AND LOWER(rcpt_to) = ? AND status = 'held'`,
				now, now, acct, email)
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE mail_outbox SET status = 'pending', last_error = '', next_attempt_at = ? WHERE account_id = ? AND LOWER(rcpt_to) = ? AND status = 'held'`,
			now, acct, email)
		tx.AfterCommit(s.queue.Wake)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("send: clear bounce: %w", err)
	}
	return found, nil
}

// heldReason says why mail to a bouncing address is held, "" when it is not.
func heldReason(ctx context.Context, q store.Queryer, acct ids.Account, to string) (string, error) {
	b, ok, err := BouncingAddress(ctx, q, acct, to)
	if err != nil || !ok {
		return "", err
	}
	return fmt.Sprintf("Held: mail to %s bounced on %s (%s); an agent must clear the address before mail is sent to it again",
		b.Email, b.CreatedAt.Format("2006-01-02"), b.Reason), nil
}

// lockAddress serialises, per address, the transactions that mark it bouncing
// (RecordBounce) and clear it (ClearBounce), on PostgreSQL: two delivery reports about
// one address read back at once (each failing its own mail, in its own delivery lane)
// would otherwise both find the address unmarked and both mark it; and a clear that
// releases the held mail of every lane would wait, at its commit, on a mail's row that a
// report is failing while the report waits on the clear's row of the address.
// RecordBounce takes it before it writes the mail's row.
func lockAddress(ctx context.Context, tx *store.Tx, acct ids.Account, email string) error {
	return tx.Lock(ctx, fmt.Sprintf("mail_bounce:%d:%s", acct, email))
}
