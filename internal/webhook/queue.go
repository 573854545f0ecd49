package webhook

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Lanes: the calls of one webhook about one ticket, user or organization go out in
// order, one at a time.

// TicketLane is the lane of a ticket's calls.
func TicketLane(t ids.Ticket) string { return "ticket:" + strconv.FormatInt(int64(t), 10) }

// insert queues one invocation of webhook id.
func insert(ctx context.Context, tx *store.Tx, acct ids.Account, id, lane, eventType, body string) (string, error) {
	inv := NewID()
	now := store.Micros(store.Now())
	_, err := tx.ExecContext(ctx, `INSERT INTO webhook_outbox (account_id, webhook_id, invocation_id, lane, event_type, body, status, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`, acct, id, inv, lane, eventType, body, now, now)
	if err != nil {
		return "", fmt.Errorf("webhook: queue call: %w", err)
	}
	return inv, nil
}

// QueueCall queues a call of webhook id with body, as a trigger's or automation's
// notification_webhook action asks, in tx. A webhook that is inactive, not subscribed
// to conditional ticket events, or gone is not called (queued reports false).
func QueueCall(ctx context.Context, tx *store.Tx, acct ids.Account, id, lane, body string) (queued bool, err error) {
	var status, subs string
	err = tx.QueryRowContext(ctx, `SELECT status, subscriptions FROM webhooks WHERE account_id = ? AND id = ?`, acct, id).Scan(&status, &subs)
	if errors.Is(err, store.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("webhook: read %s: %w", id, err)
	}
	var list []string
	_ = json.Unmarshal([]byte(subs), &list)
	if status != StatusActive || !slices.Contains(list, ConditionalTicketEvents) {
		return false, nil
	}
	_, err = insert(ctx, tx, acct, id, lane, ConditionalTicketEvents, body)
	return err == nil, err
}

// QueueTest queues a test call of a webhook (the admin page's "send test"); it goes
// through the queue and the invocation log like any other call.
func QueueTest(ctx context.Context, tx *store.Tx, acct ids.Account, id, body string) (string, error) {
	if _, err := Get(ctx, tx, acct, id); err != nil {
		return "", err
	}
	return insert(ctx, tx, acct, id, "test", "test", body)
}

// Event is a user or organization event (Zendesk's event payload).
type Event struct {
	// Type is the event type without the prefix ("user.created").
	Type string
	// Subject names what changed: "user" or "organization" and its id.
	Kind string
	ID   int64
	// Detail is the user or organization as it is now; Change what changed
	// ({"current": ..., "previous": ...}), nil for created and deleted.
	Detail map[string]any
	Change map[string]any
}

// QueueEvent queues, in tx, a call of every active webhook of the account subscribed
// to the event. Webhooks subscribed to nothing but ticket events cost one indexed read.
func QueueEvent(ctx context.Context, tx *store.Tx, acct ids.Account, ev Event) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, subscriptions FROM webhooks WHERE account_id = ? AND status = 'active'`, acct)
	if err != nil {
		return fmt.Errorf("webhook: subscribers: %w", err)
	}
	var hooks []string
	typ := EventPrefix + ev.Type
	for rows.Next() {
		var id, subs string
		if err := rows.Scan(&id, &subs); err != nil {
			rows.Close()
			return err
		}
		var list []string
		_ = json.Unmarshal([]byte(subs), &list)
		if slices.Contains(list, typ) {
			hooks = append(hooks, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(hooks) == 0 {
		return err
	}
	event := ev.Change
	if event == nil {
		event = map[string]any{}
	}
	body, err := json.Marshal(map[string]any{
		"account_id":            acct,
		"detail":                ev.Detail,
		"event":                 event,
		"id":                    NewID(),
		"subject":               "zen:" + ev.Kind + ":" + strconv.FormatInt(ev.ID, 10),
		"time":                  time.Now().UTC().Format(time.RFC3339),
		"type":                  typ,
		"zendesk_event_version": "2022-11-06",
	})
	if err != nil {
		return err
	}
	lane := ev.Kind + ":" + strconv.FormatInt(ev.ID, 10)
	for _, id := range hooks {
		if _, err := insert(ctx, tx, acct, id, lane, typ, string(body)); err != nil {
			return err
		}
	}
	return nil
}

// Invocation is one queued call of a webhook and what became of it.
type Invocation struct {
	Seq       int64 // the outbox row, for paging
	ID        string
	WebhookID string
	EventType string
	// Status is the outbox status: pending, delivered, dead, cancelled.
	Status      string
	Attempts    int
	LastError   string
	CreatedAt   time.Time
	DeliveredAt time.Time
	// Latest is the latest attempt, nil before the first.
	Latest *Attempt
}

// Attempt is one HTTP call made for an invocation.
type Attempt struct {
	ID          int64
	Status      string // success, failed
	StatusCode  int
	Latency     time.Duration
	Response    string // an excerpt of the answer, or the error
	CompletedAt time.Time
}

// Invocations lists a webhook's invocations, newest first, at most limit, starting
// below seq before (0: from the newest); more reports whether older ones follow.
func Invocations(ctx context.Context, q store.Queryer, acct ids.Account, webhook string, before int64, limit int) (out []*Invocation, more bool, err error) {
	if _, err := Get(ctx, q, acct, webhook); err != nil {
		return nil, false, err
	}
	where, args := `account_id = ? AND webhook_id = ?`, []any{acct, webhook}
	if before > 0 {
		where, args = where+` AND id < ?`, append(args, before)
	}
	rows, err := q.QueryContext(ctx, `SELECT id, invocation_id, webhook_id, event_type, status, attempts, last_error, created_at, delivered_at
		FROM webhook_outbox WHERE `+where+` ORDER BY id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("webhook: invocations: %w", err)
	}
	for rows.Next() {
		var inv Invocation
		var c, d int64
		if err := rows.Scan(&inv.Seq, &inv.ID, &inv.WebhookID, &inv.EventType, &inv.Status, &inv.Attempts, &inv.LastError, &c, &d); err != nil {
			rows.Close()
			return nil, false, err
		}
		inv.CreatedAt, inv.DeliveredAt = store.Time(c), store.Time(d)
		out = append(out, &inv)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if more = len(out) > limit; more {
		out = out[:limit]
	}
	for _, inv := range out {
		as, err := attempts(ctx, q, acct, inv.Seq, 1)
		if err != nil {
			return nil, false, err
		}
		if len(as) > 0 {
			inv.Latest = as[0]
		}
	}
	return out, more, nil
}

// Attempts lists the attempts of one invocation of a webhook, newest first.
func Attempts(ctx context.Context, q store.Queryer, acct ids.Account, webhook, invocation string) ([]*Attempt, error) {
	var seq int64
	err := q.QueryRowContext(ctx, `SELECT id FROM webhook_outbox WHERE account_id = ? AND webhook_id = ? AND invocation_id = ?`, acct, webhook, invocation).Scan(&seq)
	if errors.Is(err, store.ErrNoRows) {
		return nil, errs.NotFoundf("Invocation %s not found", invocation)
	}
	if err != nil {
		return nil, fmt.Errorf("webhook: invocation: %w", err)
	}
	return attempts(ctx, q, acct, seq, 100)
}

func attempts(ctx context.Context, q store.Queryer, acct ids.Account, seq int64, limit int) ([]*Attempt, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, status, status_code, latency_ms, response, completed_at FROM webhook_attempts
		WHERE account_id = ? AND outbox_id = ? ORDER BY id DESC LIMIT ?`, acct, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("webhook: attempts: %w", err)
	}
	defer rows.Close()
	var out []*Attempt
	for rows.Next() {
		var a Attempt
		var ms, at int64
		if err := rows.Scan(&a.ID, &a.Status, &a.StatusCode, &ms, &a.Response, &at); err != nil {
			return nil, err
		}
		a.Latency, a.CompletedAt = time.Duration(ms)*time.Millisecond, store.Time(at)
		out = append(out, &a)
	}
	return out, rows.Err()
}

// RecordAttempt writes an attempt of the invocation in outbox row seq, in tx.
func RecordAttempt(ctx context.Context, tx *store.Tx, acct ids.Account, seq int64, webhook string, a *Attempt) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (account_id, outbox_id, webhook_id, status, status_code, latency_ms, response, completed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, acct, seq, webhook, a.Status, a.StatusCode, a.Latency.Milliseconds(), a.Response, store.Micros(a.CompletedAt))
	if err != nil {
		return fmt.Errorf("webhook: record attempt: %w", err)
	}
	return nil
}

// CountAttempts is how many calls were made for the invocation in outbox row seq.
func CountAttempts(ctx context.Context, q store.Queryer, acct ids.Account, seq int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_attempts WHERE account_id = ? AND outbox_id = ?`, acct, seq).Scan(&n)
	return n, err
}

// TestBody is the body of a test call in a request format.
func TestBody(format, account string) []byte {
	now := time.Now().UTC().Format(time.RFC3339)
	msg := "Test call from " + account
	switch format {
	case "xml":
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><test><message>`)
		_ = xml.EscapeText(&b, []byte(msg))
		b.WriteString(`</message><time>` + now + `</time></test>`)
		return []byte(b.String())
	case "form_encoded":
		return []byte(url.Values{"message": {msg}, "time": {now}}.Encode())
	}
	b, _ := json.Marshal(map[string]string{"type": "test", "message": msg, "time": now})
	return b
}
