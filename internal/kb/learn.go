package kb

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

// What the knowledge base learns from tickets: which articles agents sent in replies
// (kb_article_links: ticket, comment, article), and, once such a ticket is solved, how
// its requester asked (kb_phrasings), which the ranker indexes as a low-weight field of
// the article. The AI layer reads both.

// articleLink finds help center article links in a comment: /hc/{locale}/articles/{id}.
var articleLink = regexp.MustCompile(`/hc/[A-Za-z-]{2,12}/articles/([0-9]{1,18})`)

// LinkedArticles returns the ids of the articles linked in text, in order, once each.
func LinkedArticles(text string) []ArticleID {
	var out []ArticleID
	seen := map[ArticleID]bool{}
	for _, m := range articleLink.FindAllStringSubmatch(text, 50) {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			continue
		}
		if id := ArticleID(n); !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// maxPhrasing bounds one learned phrasing.
const maxPhrasing = 2000

// Learn is a ticket after-hook: it records the article links in the comments an agent
// adds, and when the ticket becomes solved it adds the ticket's subject and first
// message as a phrasing of every article linked on it. It runs in the ticket's
// transaction, so a link is recorded exactly when its comment is.
func (s *Service) Learn(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	acct := ch.Account.ID
	changed := false
	if ch.Actor.Role.IsStaff() {
		for _, c := range ch.Comments {
			for _, id := range LinkedArticles(c.Body + " " + c.HTMLBody) {
				if _, err := GetArticle(ctx, tx, acct, id); err != nil {
					continue // a link to another help center or a deleted article
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO kb_article_links (account_id, ticket_id, comment_id, article_id, agent_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
					acct, ch.Ticket.ID, c.ID, id, ch.Actor.UserID, store.Micros(store.Now())); err != nil {
					return fmt.Errorf("kb: record article link: %w", err)
				}
			}
		}
	}
	solvedNow := ch.Ticket.Status == ticket.Solved && (ch.Before == nil || ch.Before.Status != ticket.Solved)
	if solvedNow {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT article_id FROM kb_article_links WHERE account_id = ? AND ticket_id = ?`, acct, ch.Ticket.ID)
		if err != nil {
			return fmt.Errorf("kb: linked articles: %w", err)
		}
		var arts []ArticleID
		for rows.Next() {
			var id ArticleID
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("kb: linked articles: %w", err)
			}
			arts = append(arts, id)
		}
		rows.Close()
		text := strings.TrimSpace(ch.Ticket.Subject + "\n" + ch.Ticket.Description)
		if len(text) > maxPhrasing {
			text = strings.ToValidUTF8(text[:maxPhrasing], "")
		}
		for _, id := range arts {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM kb_phrasings WHERE account_id = ? AND article_id = ? AND ticket_id = ?`, acct, id, ch.Ticket.ID).Scan(&n); err != nil {
				return fmt.Errorf("kb: phrasing: %w", err)
			}
			if n > 0 || text == "" {
				continue
			}
			if err := AddPhrasing(ctx, tx, acct, id, ch.Ticket.ID, text); err != nil {
				return err
			}
			changed = true
		}
	}
	if changed {
		return s.bump(ctx, tx, acct)
	}
	return nil
}

// AddPhrasing records how a customer asked for what an article answers.
func AddPhrasing(ctx context.Context, tx *store.Tx, acct ids.Account, id ArticleID, tk ids.Ticket, text string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO kb_phrasings (account_id, article_id, ticket_id, text, created_at) VALUES (?, ?, ?, ?, ?)`,
		acct, id, tk, text, store.Micros(store.Now())); err != nil {
		return fmt.Errorf("kb: add phrasing: %w", err)
	}
	return nil
}

// Link is an article link recorded on a ticket.
type Link struct {
	TicketID  ids.Ticket
	CommentID ids.Comment
	ArticleID ArticleID
	AgentID   ids.User
	CreatedAt time.Time
}

// LinksOf lists the article links recorded on a ticket.
func LinksOf(ctx context.Context, q store.Queryer, acct ids.Account, tk ids.Ticket) ([]Link, error) {
	rows, err := q.QueryContext(ctx, `SELECT ticket_id, comment_id, article_id, agent_id, created_at FROM kb_article_links WHERE account_id = ? AND ticket_id = ? ORDER BY id`, acct, tk)
	if err != nil {
		return nil, fmt.Errorf("kb: links: %w", err)
	}
	defer rows.Close()
	var out []Link
	for rows.Next() {
		var l Link
		var cr int64
		if err := rows.Scan(&l.TicketID, &l.CommentID, &l.ArticleID, &l.AgentID, &cr); err != nil {
			return nil, fmt.Errorf("kb: links: %w", err)
		}
		l.CreatedAt = store.Time(cr)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Deflection events of a help center request-form session.
const (
	Shown     = "shown"     // suggestions were shown while typing the subject
	Answered  = "answered"  // "This answered my question" was clicked
	Submitted = "submitted" // the request was sent
)

// RecordDeflection records an event of a request-form session (once per session,
// event and article). session is an opaque token the form carries.
func (s *Service) RecordDeflection(ctx context.Context, acct ids.Account, session, event string, article ArticleID) error {
	if session == "" || len(session) > 64 || event != Shown && event != Answered && event != Submitted {
		return nil // not a session the form started: nothing to count
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO kb_deflection_events (account_id, session, event, article_id, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			acct, session, event, article, store.Micros(store.Now()))
		if err != nil {
			return fmt.Errorf("kb: deflection event: %w", err)
		}
		return nil
	})
}

// Deflection is what the request form's suggestions did, measured over sessions.
type Deflection struct {
	Shown        int // sessions that were shown suggestions
	Answered     int // of those, sessions where "This answered my question" was clicked
	Submitted    int // of those, sessions that submitted a request anyway
	NotSubmitted int // of those, sessions that neither submitted nor said answered
	AllSessions  int // sessions that submitted, with or without suggestions
}

// DeflectionStats measures deflection since a time.
func DeflectionStats(ctx context.Context, q store.Queryer, acct ids.Account, since time.Time) (Deflection, error) {
	var d Deflection
	err := q.QueryRowContext(ctx, `SELECT
		COUNT(DISTINCT CASE WHEN event = 'shown' THEN session END),
		COUNT(DISTINCT CASE WHEN event = 'answered' AND session IN (SELECT session FROM kb_deflection_events WHERE account_id = ? AND event = 'shown') THEN session END),
		COUNT(DISTINCT CASE WHEN event = 'submitted' AND session IN (SELECT session FROM kb_deflection_events WHERE account_id = ? AND event = 'shown') THEN session END),
		COUNT(DISTINCT CASE WHEN event = 'submitted' THEN session END)
		FROM kb_deflection_events WHERE account_id = ? AND created_at >= ?`, acct, acct, acct, store.Micros(since)).Scan(&d.Shown, &d.Answered, &d.Submitted, &d.AllSessions)
	if err != nil {
		return d, fmt.Errorf("kb: deflection stats: %w", err)
	}
	var both int
	err = q.QueryRowContext(ctx, `SELECT COUNT(DISTINCT a.session) FROM kb_deflection_events a JOIN kb_deflection_events b ON b.account_id = a.account_id AND b.session = a.session AND b.event = 'submitted'
		WHERE a.account_id = ? AND a.event = 'answered' AND a.created_at >= ?`, acct, store.Micros(since)).Scan(&both)
	if err != nil {
		return d, fmt.Errorf("kb: deflection stats: %w", err)
	}
	d.NotSubmitted = d.Shown - d.Submitted - (d.Answered - both)
	return d, nil
}
