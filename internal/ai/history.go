package ai

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// reopenWindow is how soon after being solved a reopen counts against the answer.
const reopenWindow = 7 * 24 * time.Hour

// historyBatch is how many tickets one round of History's queries reads: memory stays
// bounded by it whatever the size of the account's history.
const historyBatch = 500

// maxRecordText bounds the text a record keeps of a subject, first comment or reply.
const maxRecordText = 8000

// DBHistory reads an account's solved tickets from the database (both dialects).
type DBHistory struct {
	db *store.DB
}

// NewHistory returns the History of the tickets in db.
func NewHistory(db *store.DB) History { return &DBHistory{db: db} }

// Solved returns the solved and closed tickets created in [from, to), oldest first. A
// zero to means no upper bound.
func (h *DBHistory) Solved(ctx context.Context, acct ids.Account, from, to time.Time) ([]Record, error) {
	var out []Record
	err := h.Each(ctx, acct, from, to, func(r *Record) error {
		out = append(out, *r)
		return nil
	})
	return out, err
}

// Each calls f with every solved or closed ticket created in [from, to), oldest first,
// reading historyBatch tickets at a time: training on a long history streams it. A zero
// to means no upper bound. f must not keep r's pointer.
func (h *DBHistory) Each(ctx context.Context, acct ids.Account, from, to time.Time, f func(r *Record) error) error {
	q := h.db.R()
	fields, err := ticket.Fields(ctx, q, acct)
	if err != nil {
		return err
	}
	dropdown := map[int64]bool{}
	for _, fd := range fields {
		if fd.Type == "tagger" {
			dropdown[fd.ID] = true
		}
	}
	end := int64(1<<63 - 1)
	if !to.IsZero() {
		end = store.Micros(to)
	}
	lastAt, lastID := store.Micros(from)-1, int64(1<<62)
	first := true
	for {
		var rows []*ticket.Ticket
		var err error
		if first {
			rows, err = h.batch(ctx, acct, `created_at >= ?`, []any{store.Micros(from)}, end)
			first = false
		} else {
			rows, err = h.batch(ctx, acct, `(created_at > ? OR (created_at = ? AND id > ?))`, []any{lastAt, lastAt, lastID}, end)
		}
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		recs, err := h.records(ctx, acct, rows, dropdown)
		if err != nil {
			return err
		}
		for i := range recs {
			if err := f(&recs[i]); err != nil {
				return err
			}
		}
		last := rows[len(rows)-1]
		lastAt, lastID = store.Micros(last.CreatedAt), int64(last.ID)
		if len(rows) < historyBatch {
			return nil
		}
	}
}

func (h *DBHistory) batch(ctx context.Context, acct ids.Account, after string, args []any, end int64) ([]*ticket.Ticket, error) {
	rs, err := h.db.R().QueryContext(ctx, `SELECT `+ticket.Cols+` FROM tickets WHERE account_id = ? AND status IN ('solved', 'closed') AND deleted_at = 0 AND `+
		after+` AND created_at < ? ORDER BY created_at, id LIMIT `+strconv.Itoa(historyBatch), append(append([]any{acct}, args...), end)...)
	if err != nil {
		return nil, fmt.Errorf("ai: history: %w", err)
	}
	defer rs.Close()
	var out []*ticket.Ticket
	for rs.Next() {
		t, err := ticket.Scan(rs)
		if err != nil {
			return nil, fmt.Errorf("ai: history: %w", err)
		}
		out = append(out, t)
	}
	return out, rs.Err()
}

// records turns a batch of tickets into records: four queries per batch (requesters'
// locales, comments, audits, article links), whatever the batch's size.
func (h *DBHistory) records(ctx context.Context, acct ids.Account, ts []*ticket.Ticket, dropdown map[int64]bool) ([]Record, error) {
	q := h.db.R()
	recs := make([]Record, len(ts))
	byID := make(map[ids.Ticket]*Record, len(ts))
	tids := make([]any, 0, len(ts)+1)
	tids = append(tids, acct)
	users := map[ids.User]bool{}
	for i, t := range ts {
		r := &recs[i]
		*r = Record{TicketID: t.ID, CreatedAt: t.CreatedAt, SolvedAt: t.SolvedAt, Subject: clip(t.Subject), Body: clip(t.Description),
			RequesterID: t.RequesterID, OrganizationID: t.OrganizationID, Channel: t.Via.Channel, Labels: map[string][]string{}}
		if t.GroupID != 0 {
			r.Labels[TargetGroup] = []string{strconv.FormatInt(int64(t.GroupID), 10)}
		}
		if t.Priority != "" {
			r.Labels[TargetPriority] = []string{t.Priority}
		}
		if t.Type != "" {
			r.Labels[TargetType] = []string{t.Type}
		}
		if len(t.Tags) > 0 {
			r.Labels[TargetTags] = append([]string{}, t.Tags...)
		}
		for id, v := range t.CustomFields {
			if s, ok := v.(string); ok && s != "" && dropdown[id] {
				r.Labels[CustomFieldTarget(id)] = []string{s}
			}
		}
		byID[t.ID] = r
		tids = append(tids, t.ID)
		users[t.RequesterID] = true
	}
	in := store.In(len(ts))
	// Requesters' locales.
	uargs := []any{acct}
	for u := range users {
		uargs = append(uargs, u)
	}
	locale := map[ids.User]string{}
	if err := eachRow(ctx, q, `SELECT id, locale FROM users WHERE account_id = ? AND id IN (`+store.In(len(uargs)-1)+`)`, uargs, func(sc store.Row) error {
		var id ids.User
		var loc *string
		if err := sc.Scan(&id, &loc); err != nil {
			return err
		}
		if loc != nil {
			locale[id] = *loc
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for i := range recs {
		recs[i].Locale = locale[recs[i].RequesterID]
	}
	// Comments: the agents' public replies after the first comment (not the AI's), the
	// first of them kept.
	seenFirst := map[ids.Ticket]bool{}
	if err := eachRow(ctx, q, `SELECT c.ticket_id, c.plain_body, c.public, c.via, u.role FROM ticket_comments c JOIN users u ON u.account_id = c.account_id AND u.id = c.author_id
		WHERE c.account_id = ? AND c.ticket_id IN (`+in+`) ORDER BY c.ticket_id, c.id`, tids, func(sc store.Row) error {
		var tid ids.Ticket
		var body, via, role string
		var public bool
		if err := sc.Scan(&tid, &body, &public, &via, &role); err != nil {
			return err
		}
		r := byID[tid]
		if r == nil {
			return nil
		}
		if !seenFirst[tid] {
			seenFirst[tid] = true // the request itself
			return nil
		}
		if !public || (role != "agent" && role != "admin") || strings.Contains(via, `"channel":"ai"`) {
			return nil
		}
		r.PublicReplies++
		if r.PublicReplies == 1 {
			r.Reply = clip(body)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	// Audits: what was known at creation (the Create events), the macros applied, and
	// whether a solve was undone within the reopen window.
	solvedAt := map[ids.Ticket]time.Time{}
	if err := eachRow(ctx, q, `SELECT ticket_id, events, created_at FROM ticket_audits WHERE account_id = ? AND ticket_id IN (`+in+`) ORDER BY ticket_id, id`, tids, func(sc store.Row) error {
		var tid ids.Ticket
		var raw string
		var at int64
		if err := sc.Scan(&tid, &raw, &at); err != nil {
			return err
		}
		r := byID[tid]
		if r == nil {
			return nil
		}
		var events []ticket.Event
		if json.Unmarshal([]byte(raw), &events) != nil {
			return nil // a corrupt audit teaches nothing; the ticket's own row still does
		}
		when := store.Time(at)
		for _, e := range events {
			switch e["type"] {
			case "Create":
				switch e["field_name"] {
				case "subject":
					if s, ok := e["value"].(string); ok {
						r.Subject = clip(s)
					}
				case "organization_id":
					if n, ok := e["value"].(float64); ok {
						r.OrganizationID = ids.Org(n)
					}
				}
			case "Change":
				if e["field_name"] != "status" {
					continue
				}
				switch {
				case e["value"] == "solved":
					if _, ok := solvedAt[tid]; !ok {
						solvedAt[tid] = when
					}
				case e["previous_value"] == "solved" && e["value"] != "closed":
					if s, ok := solvedAt[tid]; ok && when.Sub(s) <= reopenWindow {
						r.Reopened = true
					}
				}
			}
		}
		for _, id := range ticket.MacroIDsOf(events) {
			r.Labels[TargetMacro] = appendOnce(r.Labels[TargetMacro], strconv.FormatInt(id, 10))
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for tid, at := range solvedAt {
		if r := byID[tid]; r.SolvedAt.IsZero() {
			r.SolvedAt = at
		}
	}
	// Articles linked in the agents' replies (recorded by the knowledge base).
	if err := eachRow(ctx, q, `SELECT ticket_id, article_id FROM kb_article_links WHERE account_id = ? AND ticket_id IN (`+in+`) ORDER BY ticket_id, id`, tids, func(sc store.Row) error {
		var tid ids.Ticket
		var art int64
		if err := sc.Scan(&tid, &art); err != nil {
			return err
		}
		if r := byID[tid]; r != nil {
			r.Labels[TargetArticle] = appendOnce(r.Labels[TargetArticle], strconv.FormatInt(art, 10))
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return recs, nil
}

func eachRow(ctx context.Context, q store.Queryer, query string, args []any, f func(store.Row) error) error {
	if err := store.Each(ctx, q, query, args, f); err != nil {
		return fmt.Errorf("ai: history: %w", err)
	}
	return nil
}

func appendOnce(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func clip(s string) string {
	if len(s) <= maxRecordText {
		return s
	}
	return strings.ToValidUTF8(s[:maxRecordText], "")
}
