package send

import (
	"context"
	"fmt"
	"time"

	"tandem/internal/delivery"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Sent is one queued, sent, kept or failed mail as the admin's Outgoing mail page shows it.
type Sent struct {
	ID        int64
	TicketID  ids.Ticket
	Kind      string
	To        string
	Subject   string
	Text      string
	Status    string // pending, delivered, dead, kept
	Attempts  int
	LastError string
	CreatedAt time.Time
	SentAt    time.Time
}

// List returns the account's latest mail, newest first, at most limit.
func List(ctx context.Context, q store.Queryer, acct ids.Account, limit int) ([]Sent, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, ticket_id, kind, rcpt_to, subject, text_body, status, attempts, last_error, created_at, delivered_at
		FROM mail_outbox WHERE account_id = ? ORDER BY id DESC LIMIT ?`, acct, limit)
	if err != nil {
		return nil, fmt.Errorf("send: list: %w", err)
	}
	defer rows.Close()
	var out []Sent
	for rows.Next() {
		var m Sent
		var at, sent int64
		if err := rows.Scan(&m.ID, &m.TicketID, &m.Kind, &m.To, &m.Subject, &m.Text, &m.Status, &m.Attempts, &m.LastError, &at, &sent); err != nil {
			return nil, err
		}
		m.CreatedAt = store.Time(at)
		if sent > 0 {
			m.SentAt = store.Time(sent)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Health is the delivery health of the account's mail, in the delivery queue's terms
// (the same as a sharing agreement's).
func Health(ctx context.Context, q store.Queryer, acct ids.Account) (delivery.Health, error) {
	return delivery.HealthOf(ctx, q, "mail_outbox", int64(acct), "")
}
