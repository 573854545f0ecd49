package send

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tandem/internal/delivery"
	"tandem/internal/files"
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
	Status    string // pending, delivered, dead, kept, held (to a bouncing address)
	Attempts  int
	LastError string
	CreatedAt time.Time
	SentAt    time.Time
	// Files are the names of the files attached to the mail (the others it links are
	// in Text).
	Files []string
}

// List returns the account's latest mail, newest first, at most limit.
func List(ctx context.Context, q store.Queryer, acct ids.Account, limit int) ([]Sent, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, ticket_id, kind, rcpt_to, subject, text_body, status, attempts, last_error, created_at, delivered_at, attachments
		FROM mail_outbox WHERE account_id = ? ORDER BY id DESC LIMIT ?`, acct, limit)
	if err != nil {
		return nil, fmt.Errorf("send: list: %w", err)
	}
	defer rows.Close()
	var out []Sent
	var fileIDs []string
	for rows.Next() {
		var m Sent
		var at, sent int64
		var atts string
		if err := rows.Scan(&m.ID, &m.TicketID, &m.Kind, &m.To, &m.Subject, &m.Text, &m.Status, &m.Attempts, &m.LastError, &at, &sent, &atts); err != nil {
			return nil, err
		}
		fileIDs = append(fileIDs, atts)
		m.CreatedAt = store.Time(at)
		if sent > 0 {
			m.SentAt = store.Time(sent)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for i, list := range fileIDs {
		for f := range strings.SplitSeq(list, ",") {
			id, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				continue
			}
			if a, err := files.Get(ctx, q, acct, id); err == nil {
				out[i].Files = append(out[i].Files, a.FileName)
			}
		}
	}
	return out, nil
}

// Health is the delivery health of the account's mail, in the delivery queue's terms
// (the same as a sharing agreement's).
func Health(ctx context.Context, q store.Queryer, acct ids.Account) (delivery.Health, error) {
	return delivery.HealthOf(ctx, q, "mail_outbox", int64(acct), "")
}
