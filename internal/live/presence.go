package live

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Present is one person on a ticket: viewing it, and maybe typing a public reply or an
// internal note.
type Present struct {
	UserID ids.User `json:"id"`
	Name   string   `json:"name"`
	Typing string   `json:"typing,omitempty"` // "", "public" or "internal"
}

// validTab accepts the random tab ids the page makes (8 to 64 letters, digits, dashes).
func validTab(tab string) bool {
	if len(tab) < 8 || len(tab) > 64 {
		return false
	}
	for _, c := range tab {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Heartbeat records that a tab of user shows ticket t (typing: "", "public" or
// "internal") for the next PresenceTTL. The ticket's viewers are told when the tab
// arrives or starts or stops typing, not on every renewal. The caller has checked
// that the user may see the ticket.
func (h *Hub) Heartbeat(ctx context.Context, acct ids.Account, user ids.User, t ids.Ticket, tab, typing string) error {
	if !validTab(tab) {
		return errs.Invalidf("tab", "InvalidValue", "tab must be 8 to 64 letters, digits or dashes")
	}
	if typing != "" && typing != "public" && typing != "internal" {
		return errs.Invalidf("typing", "InvalidValue", "typing must be public, internal or empty")
	}
	exp := store.Micros(time.Now().Add(h.cfg.PresenceTTL))
	return h.db.Write(ctx, func(tx *store.Tx) error {
		var oldTicket ids.Ticket
		var oldUser ids.User
		var oldTyping string
		err := tx.QueryRowContext(ctx, `SELECT ticket_id, user_id, typing FROM live_presence WHERE account_id = ? AND tab = ?`, acct, tab).Scan(&oldTicket, &oldUser, &oldTyping)
		fresh := errors.Is(err, store.ErrNoRows)
		if err != nil && !fresh {
			return fmt.Errorf("live: presence: %w", err)
		}
		if !fresh && oldUser != user {
			return errs.Invalidf("tab", "InvalidValue", "tab belongs to someone else")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO live_presence (account_id, tab, ticket_id, user_id, typing, expires_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, tab) DO UPDATE SET ticket_id = excluded.ticket_id, typing = excluded.typing, expires_at = excluded.expires_at`,
			acct, tab, t, user, typing, exp); err != nil {
			return fmt.Errorf("live: presence: %w", err)
		}
		if !fresh && oldTicket != t {
			if err := h.presenceNotice(ctx, tx, acct, oldTicket); err != nil {
				return err
			}
		}
		if fresh || oldTicket != t || oldTyping != typing {
			return h.presenceNotice(ctx, tx, acct, t)
		}
		return nil
	})
}

// Leave removes a tab's presence (the page closed).
func (h *Hub) Leave(ctx context.Context, acct ids.Account, user ids.User, tab string) error {
	if !validTab(tab) {
		return errs.Invalidf("tab", "InvalidValue", "tab must be 8 to 64 letters, digits or dashes")
	}
	return h.db.Write(ctx, func(tx *store.Tx) error {
		var t ids.Ticket
		err := tx.QueryRowContext(ctx, `DELETE FROM live_presence WHERE account_id = ? AND tab = ? AND user_id = ? RETURNING ticket_id`, acct, tab, user).Scan(&t)
		if errors.Is(err, store.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("live: leave: %w", err)
		}
		return h.presenceNotice(ctx, tx, acct, t)
	})
}

// SweepPresence removes the tabs whose heartbeat stopped (closed without saying so)
// and tells their tickets' viewers.
func (h *Hub) SweepPresence(ctx context.Context, now time.Time) error {
	cut := store.Micros(now)
	var n int
	if err := h.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM live_presence WHERE expires_at < ?`, cut).Scan(&n); err != nil || n == 0 {
		return err
	}
	return h.db.Write(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM live_presence WHERE expires_at < ? RETURNING account_id, ticket_id`, cut)
		if err != nil {
			return fmt.Errorf("live: sweep presence: %w", err)
		}
		type key struct {
			a ids.Account
			t ids.Ticket
		}
		seen := map[key]bool{}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.a, &k.t); err != nil {
				rows.Close()
				return err
			}
			seen[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for k := range seen {
			if err := h.presenceNotice(ctx, tx, k.a, k.t); err != nil {
				return err
			}
		}
		return nil
	})
}

// presenceNotice tells every process, once tx commits, that a ticket's viewers changed.
func (h *Hub) presenceNotice(ctx context.Context, tx *store.Tx, acct ids.Account, t ids.Ticket) error {
	if tx.D() == store.Postgres {
		h.notifyAfter(tx, "p:"+strconv.FormatInt(int64(acct), 10)+":"+strconv.FormatInt(int64(t), 10))
		return nil
	}
	tx.AfterCommit(func() { h.presenceChanged(context.Background(), acct, t) })
	return nil
}

// presenceChanged reads a ticket's viewers and dispatches them.
func (h *Hub) presenceChanged(ctx context.Context, acct ids.Account, t ids.Ticket) {
	vs, err := h.Viewers(ctx, acct, t)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("live: viewers", "ticket", t, "err", err)
		}
		return
	}
	h.dispatch(&Event{Account: acct, Ticket: t, Kind: KindPresence, Viewers: vs, At: store.Now()})
}

// Viewers lists who has ticket t open (one entry per person, typing if any of their
// tabs types).
func (h *Hub) Viewers(ctx context.Context, acct ids.Account, t ids.Ticket) ([]Present, error) {
	rows, err := h.db.R().QueryContext(ctx, `SELECT p.user_id, u.name, p.typing FROM live_presence p JOIN users u ON u.account_id = p.account_id AND u.id = p.user_id
		WHERE p.account_id = ? AND p.ticket_id = ? AND p.expires_at >= ? ORDER BY u.name, p.user_id`, acct, t, store.Micros(time.Now()))
	if err != nil {
		return nil, fmt.Errorf("live: viewers: %w", err)
	}
	defer rows.Close()
	out := []Present{}
	for rows.Next() {
		var p Present
		if err := rows.Scan(&p.UserID, &p.Name, &p.Typing); err != nil {
			return nil, err
		}
		if n := len(out); n > 0 && out[n-1].UserID == p.UserID {
			if p.Typing != "" {
				out[n-1].Typing = p.Typing
			}
			continue
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Watched counts, for each of the tickets, how many people have it open.
func (h *Hub) Watched(ctx context.Context, acct ids.Account, tickets []ids.Ticket) (map[ids.Ticket]int, error) {
	out := map[ids.Ticket]int{}
	if len(tickets) == 0 {
		return out, nil
	}
	args := []any{acct, store.Micros(time.Now())}
	for _, t := range tickets {
		args = append(args, t)
	}
	rows, err := h.db.R().QueryContext(ctx, `SELECT ticket_id, COUNT(DISTINCT user_id) FROM live_presence WHERE account_id = ? AND expires_at >= ? AND ticket_id IN (`+store.In(len(tickets))+`) GROUP BY ticket_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("live: watched: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t ids.Ticket
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, rows.Err()
}
