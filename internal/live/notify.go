package live

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// The kinds of notification.
const (
	NoteMention    = "mention"    // @name in an internal note
	NoteAssigned   = "assigned"   // the ticket was assigned to me
	NoteGroup      = "group"      // the ticket was assigned to one of my groups
	NotePartner    = "partner"    // a partner replied on a shared ticket assigned to me
	NoteInvitation = "invitation" // a partner desk invites us to share tickets (admins)
)

// Notification is one thing new for one agent.
type Notification struct {
	ID     int64
	Kind   string
	Ticket ids.Ticket
	Actor  ids.User
	Body   string
	At     time.Time
	Read   bool
}

// mention is @ followed by a name or an email's local part.
var mention = regexp.MustCompile(`(?:^|[^\w@.])@([\p{L}\p{N}][\p{L}\p{N}._-]*)`)

type staffer struct {
	id           ids.User
	first, local string
}

// notifications records what ch notifies to whom (never its own author) and returns
// who, so their streams say so.
func (h *Hub) notifications(ctx context.Context, tx *store.Tx, ch *ticket.Change, ev *Event) ([]ids.User, error) {
	type note struct {
		kind string
		body string
	}
	notes := map[ids.User]note{}
	add := func(u ids.User, kind, body string) {
		if u == 0 || u == ch.Actor.UserID {
			return
		}
		if _, ok := notes[u]; !ok {
			notes[u] = note{kind, body}
		}
	}
	t := ch.Ticket
	subject := fmt.Sprintf("#%d %s", t.ID, t.Subject)
	who := ev.By
	if who == "" {
		who = "Someone"
	}
	var staff []staffer
	for _, c := range ch.Comments {
		if c.Public || !strings.Contains(c.PlainBody+c.Body, "@") {
			continue
		}
		if staff == nil {
			var err error
			if staff, err = staffOf(ctx, tx, ch.Account.ID); err != nil {
				return nil, err
			}
		}
		for _, m := range mention.FindAllStringSubmatch(c.Body+"\n"+c.PlainBody, -1) {
			name := strings.ToLower(strings.TrimRight(m[1], "._-"))
			for _, s := range staff {
				if name == s.first || name == s.local {
					add(s.id, NoteMention, who+" mentioned you on "+subject)
				}
			}
		}
	}
	for _, f := range ev.Fields {
		switch f.Field {
		case "assignee_id":
			if u, err := strconv.ParseInt(f.Value, 10, 64); err == nil {
				add(ids.User(u), NoteAssigned, who+" assigned "+subject+" to you")
			}
		case "group_id":
			g, err := strconv.ParseInt(f.Value, 10, 64)
			if err != nil || t.AssigneeID != 0 {
				continue // a ticket with an assignee is theirs, not the group's
			}
			rows, err := tx.QueryContext(ctx, `SELECT user_id FROM group_memberships WHERE account_id = ? AND group_id = ?`, ch.Account.ID, g)
			if err != nil {
				return nil, fmt.Errorf("live: group members: %w", err)
			}
			var members []ids.User
			for rows.Next() {
				var u ids.User
				if err := rows.Scan(&u); err != nil {
					rows.Close()
					return nil, err
				}
				members = append(members, u)
			}
			rows.Close()
			for _, u := range members {
				add(u, NoteGroup, who+" assigned "+subject+" to your group")
			}
		}
	}
	if ch.Origin != nil && len(ch.Comments) > 0 && t.AssigneeID != 0 && !ch.Created {
		add(t.AssigneeID, NotePartner, ch.Origin.Partner+" replied on "+subject)
	}
	if len(notes) == 0 {
		return nil, nil
	}
	out := make([]ids.User, 0, len(notes))
	now := store.Micros(store.Now())
	for u, n := range notes {
		_, err := tx.ExecContext(ctx, `INSERT INTO live_notifications (account_id, user_id, kind, ticket_id, actor_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			ch.Account.ID, u, n.kind, t.ID, ch.Actor.UserID, n.body, now)
		if err != nil {
			return nil, fmt.Errorf("live: record notification: %w", err)
		}
		out = append(out, u)
	}
	return out, nil
}

func staffOf(ctx context.Context, q store.Queryer, acct ids.Account) ([]staffer, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, COALESCE(email, '') FROM users WHERE account_id = ? AND role IN ('agent', 'admin') AND active = TRUE`, acct)
	if err != nil {
		return nil, fmt.Errorf("live: staff: %w", err)
	}
	defer rows.Close()
	out := []staffer{}
	for rows.Next() {
		var s staffer
		var name, email string
		if err := rows.Scan(&s.id, &name, &email); err != nil {
			return nil, err
		}
		s.first = strings.ToLower(strings.Fields(name + " x")[0])
		s.local, _, _ = strings.Cut(strings.ToLower(email), "@")
		out = append(out, s)
	}
	return out, rows.Err()
}

// Notifications lists an agent's latest notifications, newest first, and how many are
// unread.
func (h *Hub) Notifications(ctx context.Context, acct ids.Account, user ids.User, limit int) ([]Notification, int, error) {
	q := h.db.R()
	var unread int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM live_notifications WHERE account_id = ? AND user_id = ? AND read_at = 0`, acct, user).Scan(&unread)
	if err != nil || limit <= 0 {
		return nil, unread, err
	}
	rows, err := q.QueryContext(ctx, `SELECT id, kind, ticket_id, actor_id, body, created_at, read_at FROM live_notifications WHERE account_id = ? AND user_id = ? ORDER BY id DESC LIMIT ?`, acct, user, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("live: notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var at, read int64
		if err := rows.Scan(&n.ID, &n.Kind, &n.Ticket, &n.Actor, &n.Body, &at, &read); err != nil {
			return nil, 0, err
		}
		n.At, n.Read = store.Time(at), read != 0
		out = append(out, n)
	}
	return out, unread, rows.Err()
}

// MarkRead marks an agent's notifications read: one (id > 0) or all.
func (h *Hub) MarkRead(ctx context.Context, acct ids.Account, user ids.User, id int64) error {
	return h.db.Write(ctx, func(tx *store.Tx) error {
		q := `UPDATE live_notifications SET read_at = ? WHERE account_id = ? AND user_id = ? AND read_at = 0`
		args := []any{store.Micros(store.Now()), acct, user}
		if id > 0 {
			q += ` AND id = ?`
			args = append(args, id)
		}
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
}

// SawTicket records that an agent looked at a ticket (its unread marker goes).
func (h *Hub) SawTicket(ctx context.Context, acct ids.Account, user ids.User, t ids.Ticket) error {
	return h.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO ticket_reads (account_id, user_id, ticket_id, read_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, user_id, ticket_id) DO UPDATE SET read_at = excluded.read_at`, acct, user, t, store.Micros(store.Now()))
		return err
	})
}

// Unread returns which of the tickets someone else updated since the agent last looked
// (a ticket assigned to the agent that they never opened counts as unread once someone
// else has touched it).
func (h *Hub) Unread(ctx context.Context, acct ids.Account, user ids.User, tickets []ids.Ticket) (map[ids.Ticket]bool, error) {
	out := map[ids.Ticket]bool{}
	if len(tickets) == 0 {
		return out, nil
	}
	args := []any{user, acct, user, user}
	for _, t := range tickets {
		args = append(args, t)
	}
	rows, err := h.db.R().QueryContext(ctx, `SELECT t.id FROM tickets t
		LEFT JOIN ticket_reads r ON r.account_id = t.account_id AND r.user_id = ? AND r.ticket_id = t.id
		WHERE t.account_id = ? AND (r.read_at IS NOT NULL OR t.assignee_id = ?) AND EXISTS (
			SELECT 1 FROM ticket_audits a WHERE a.account_id = t.account_id AND a.ticket_id = t.id
			AND a.author_id <> ? AND a.created_at > COALESCE(r.read_at, 0))
		AND t.id IN (`+store.In(len(tickets))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("live: unread: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id ids.Ticket
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// Invited notifies every active admin of the account, in tx, that a partner desk
// invites it to share tickets (an inbound sharing agreement), and tells their open
// streams once tx commits. Invitations do not come through the ticket write path, so
// the sharing receiver calls this itself.
func (h *Hub) Invited(ctx context.Context, tx *store.Tx, acct ids.Account, partner string) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE account_id = ? AND role = 'admin' AND active = ? AND suspended = ?`, acct, true, false)
	if err != nil {
		return fmt.Errorf("live: admins: %w", err)
	}
	var admins []ids.User
	for rows.Next() {
		var u ids.User
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return err
		}
		admins = append(admins, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(admins) == 0 {
		return err
	}
	now := store.Now()
	body := clipBody(partner + " invites you to share tickets: accept or decline the invitation under Admin › Sharing.")
	for _, u := range admins {
		if _, err := tx.ExecContext(ctx, `INSERT INTO live_notifications (account_id, user_id, kind, ticket_id, actor_id, body, created_at) VALUES (?, ?, ?, 0, 0, ?, ?)`,
			acct, u, NoteInvitation, body, store.Micros(now)); err != nil {
			return fmt.Errorf("live: record invitation: %w", err)
		}
	}
	return h.record(ctx, tx, &Event{Account: acct, Kind: KindNotice, Channel: "partner", By: partner, Notify: admins, At: now})
}

func clipBody(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}
