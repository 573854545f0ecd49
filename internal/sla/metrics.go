package sla

import (
	"context"
	"fmt"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Minutes is a span in calendar and in business minutes (the account's first schedule;
// equal to calendar without one).
type Minutes struct {
	Calendar int64 `json:"calendar"`
	Business int64 `json:"business"`
}

// TicketMetrics are Zendesk's ticket metrics, computed from the ticket's audits and
// comments when asked.
type TicketMetrics struct {
	TicketID ids.Ticket
	// Replies counts public agent comments after the ticket's creation; Reopens the
	// times it went from solved back to an open status.
	Replies, Reopens int
	// FirstReply is nil until an agent replied publicly; FullResolution until solved.
	FirstReply, FullResolution *Minutes
	// RequesterWait is the time new, open or on hold; AgentWait the time pending; OnHold
	// the time on hold (up to the last solve, or now).
	RequesterWait, AgentWait, OnHold           Minutes
	SolvedAt, StatusUpdatedAt, LatestCommentAt time.Time
	CreatedAt, UpdatedAt                       time.Time
	AssignedAt, RequesterUpdatedAt             time.Time
	AssigneeUpdatedAt                          time.Time
}

// ComputeMetrics computes a ticket's metrics at now.
func ComputeMetrics(ctx context.Context, q store.Queryer, acct ids.Account, t *ticket.Ticket, now time.Time) (*TicketMetrics, error) {
	h, err := TicketHours(ctx, q, acct, t)
	if err != nil {
		return nil, err
	}
	m := &TicketMetrics{TicketID: t.ID, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, SolvedAt: t.SolvedAt, StatusUpdatedAt: t.CreatedAt,
		AssignedAt: t.AssignedAt, RequesterUpdatedAt: t.RequesterUpdatedAt, AssigneeUpdatedAt: t.AssigneeUpdatedAt}
	span := func(a, b time.Time) Minutes {
		return Minutes{Calendar: int64(b.Sub(a) / time.Minute), Business: int64(h.Between(a, b) / time.Minute)}
	}
	// Replies: public comments by staff, after the comment the ticket was created with.
	rows, err := q.QueryContext(ctx, `SELECT c.created_at, c.public, u.role FROM ticket_comments c LEFT JOIN users u ON u.account_id = c.account_id AND u.id = c.author_id
		WHERE c.account_id = ? AND c.ticket_id = ? ORDER BY c.id`, acct, t.ID)
	if err != nil {
		return nil, fmt.Errorf("sla: metrics comments: %w", err)
	}
	first := true
	for rows.Next() {
		var at int64
		var public bool
		var role *string
		if err := rows.Scan(&at, &public, &role); err != nil {
			rows.Close()
			return nil, err
		}
		when := store.Time(at)
		m.LatestCommentAt = when
		staff := role != nil && (*role == "agent" || *role == "admin")
		if !first && public && staff {
			m.Replies++
			if m.FirstReply == nil {
				s := span(t.CreatedAt, when)
				m.FirstReply = &s
			}
		}
		first = false
	}
	rows.Close()
	// Status history from the audits' status changes.
	as, err := q.QueryContext(ctx, `SELECT `+ticket.AuditCols+` FROM ticket_audits WHERE account_id = ? AND ticket_id = ? ORDER BY id`, acct, t.ID)
	if err != nil {
		return nil, fmt.Errorf("sla: metrics audits: %w", err)
	}
	type change struct {
		at       time.Time
		from, to ticket.Status
	}
	var changes []change
	for as.Next() {
		a, err := ticket.ScanAudit(as)
		if err != nil {
			as.Close()
			return nil, err
		}
		for _, e := range a.Events {
			if e["type"] == "Change" && e["field_name"] == "status" {
				to, _ := e["value"].(string)
				from, _ := e["previous_value"].(string)
				changes = append(changes, change{at: a.CreatedAt, from: ticket.Status(from), to: ticket.Status(to)})
			}
		}
	}
	as.Close()
	status := t.Status
	if len(changes) > 0 {
		status = changes[0].from
	}
	since := t.CreatedAt
	end := now
	if t.Status == ticket.Solved || t.Status == ticket.Closed {
		end = t.SolvedAt
	}
	add := func(st ticket.Status, a, b time.Time) {
		if b.After(end) {
			b = end
		}
		if !b.After(a) {
			return
		}
		d := span(a, b)
		switch st {
		case ticket.New, ticket.Open:
			m.RequesterWait.Calendar += d.Calendar
			m.RequesterWait.Business += d.Business
		case ticket.Hold:
			m.RequesterWait.Calendar += d.Calendar
			m.RequesterWait.Business += d.Business
			m.OnHold.Calendar += d.Calendar
			m.OnHold.Business += d.Business
		case ticket.Pending:
			m.AgentWait.Calendar += d.Calendar
			m.AgentWait.Business += d.Business
		}
	}
	for _, c := range changes {
		add(status, since, c.at)
		if (c.from == ticket.Solved) && c.to != ticket.Closed {
			m.Reopens++
		}
		status, since, m.StatusUpdatedAt = c.to, c.at, c.at
	}
	add(status, since, now)
	if !t.SolvedAt.IsZero() && (t.Status == ticket.Solved || t.Status == ticket.Closed) {
		s := span(t.CreatedAt, t.SolvedAt)
		m.FullResolution = &s
	}
	return m, nil
}
