// Package satisfaction reads customer satisfaction ratings and signs the links with
// which a requester rates a solved ticket without signing in. Ratings are written by
// the ticket write path (ticket.Patch.Satisfaction), with their audit event, so
// triggers see them ("satisfaction is bad") like any other change.
package satisfaction

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// LinkValidity is how long a rating link works after it was sent (Zendesk's 28 days).
const LinkValidity = 28 * 24 * time.Hour

// Rating is a ticket's satisfaction rating (Zendesk's satisfaction_rating).
type Rating struct {
	ID          int64
	AccountID   ids.Account
	TicketID    ids.Ticket
	RequesterID ids.User
	AssigneeID  ids.User
	GroupID     ids.Group
	Score       string
	Comment     string
	ReasonCode  int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Reason is the text of the rating's reason.
func (r *Rating) Reason() string { return ticket.ReasonText(r.ReasonCode) }

const cols = `r.id, r.account_id, r.ticket_id, r.requester_id, r.assignee_id, r.group_id, r.score, r.comment, r.reason_code, r.created_at, r.updated_at`

func scan(row interface{ Scan(...any) error }) (*Rating, error) {
	var r Rating
	var c, u int64
	if err := row.Scan(&r.ID, &r.AccountID, &r.TicketID, &r.RequesterID, &r.AssigneeID, &r.GroupID, &r.Score, &r.Comment, &r.ReasonCode, &c, &u); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = store.Time(c), store.Time(u)
	return &r, nil
}

// Filter narrows a list of ratings (Zendesk's score, start_time and end_time).
type Filter struct {
	// Score is good, bad, offered, unoffered, or received (good or bad); "" is any.
	Score string
	Start time.Time
	End   time.Time
	// BeforeID pages: only ratings with a smaller id (the list is newest first).
	BeforeID int64
	Limit    int
}

// filterScores are the scores a list may filter by.
var filterScores = []string{"", "good", "bad", "offered", "unoffered", "received"}

// ValidScoreFilter reports whether s is a score a list may filter by.
func ValidScoreFilter(s string) bool {
	for _, x := range filterScores {
		if x == s {
			return true
		}
	}
	return false
}

// List returns the ratings of the tickets the actor may see, newest first.
func List(ctx context.Context, q store.Queryer, acct ids.Account, actor ticket.Actor, f Filter) ([]*Rating, error) {
	scope, sargs := ticket.Scope(q.D(), acct, actor)
	where := []string{"r.account_id = ?", "t.deleted_at = 0", scope}
	args := append([]any{acct}, sargs...)
	switch f.Score {
	case "":
	case "received":
		where = append(where, "r.score IN ('good', 'bad')")
	default:
		where = append(where, "r.score = ?")
		args = append(args, f.Score)
	}
	if !f.Start.IsZero() {
		where, args = append(where, "r.updated_at >= ?"), append(args, store.Micros(f.Start))
	}
	if !f.End.IsZero() {
		where, args = append(where, "r.updated_at < ?"), append(args, store.Micros(f.End))
	}
	if f.BeforeID > 0 {
		where, args = append(where, "r.id < ?"), append(args, f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 100
	}
	rows, err := q.QueryContext(ctx, `SELECT `+cols+` FROM satisfaction_ratings r JOIN tickets t ON t.account_id = r.account_id AND t.id = r.ticket_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY r.id DESC LIMIT `+strconv.Itoa(f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("satisfaction: list: %w", err)
	}
	defer rows.Close()
	out := []*Rating{}
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Get returns one rating of a ticket the actor may see (else NotFound).
func Get(ctx context.Context, q store.Queryer, acct ids.Account, actor ticket.Actor, id int64) (*Rating, error) {
	return one(ctx, q, acct, actor, "r.id = ?", id, fmt.Sprintf("satisfaction rating %d not found", id))
}

// ForTicket returns a ticket's rating (NotFound when it has none or is not visible).
func ForTicket(ctx context.Context, q store.Queryer, acct ids.Account, actor ticket.Actor, id ids.Ticket) (*Rating, error) {
	return one(ctx, q, acct, actor, "r.ticket_id = ?", int64(id), fmt.Sprintf("ticket %d has no satisfaction rating", id))
}

func one(ctx context.Context, q store.Queryer, acct ids.Account, actor ticket.Actor, cond string, id int64, missing string) (*Rating, error) {
	scope, sargs := ticket.Scope(q.D(), acct, actor)
	args := append([]any{acct, id}, sargs...)
	r, err := scan(q.QueryRowContext(ctx, `SELECT `+cols+` FROM satisfaction_ratings r JOIN tickets t ON t.account_id = r.account_id AND t.id = r.ticket_id
		WHERE r.account_id = ? AND `+cond+` AND t.deleted_at = 0 AND `+scope, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("%s", missing)
	}
	if err != nil {
		return nil, fmt.Errorf("satisfaction: get: %w", err)
	}
	return r, nil
}

// key returns the account's link-signing key, creating it on first use. q may be the
// write transaction of the change that sends the link (the rules render it there).
func key(ctx context.Context, q store.Queryer, acct ids.Account, create bool) ([]byte, error) {
	var secret string
	err := q.QueryRowContext(ctx, `SELECT secret FROM satisfaction_keys WHERE account_id = ?`, acct).Scan(&secret)
	if errors.Is(err, sql.ErrNoRows) && create {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		if _, err := q.ExecContext(ctx, `INSERT INTO satisfaction_keys (account_id, secret) VALUES (?, ?) ON CONFLICT (account_id) DO NOTHING`, acct, hex.EncodeToString(b)); err != nil {
			return nil, fmt.Errorf("satisfaction: signing key: %w", err)
		}
		err = q.QueryRowContext(ctx, `SELECT secret FROM satisfaction_keys WHERE account_id = ?`, acct).Scan(&secret)
	}
	if err != nil {
		return nil, fmt.Errorf("satisfaction: signing key: %w", err)
	}
	return []byte(secret), nil
}

func sign(k []byte, acct ids.Account, t ids.Ticket, requester ids.User, expires string) string {
	m := hmac.New(sha256.New, k)
	fmt.Fprintf(m, "rating:%d:%d:%d:%s", acct, t, requester, expires)
	return hex.EncodeToString(m.Sum(nil))
}

// LinkPath returns the path of the signed page on which the ticket's requester rates
// it, valid for LinkValidity from now.
func LinkPath(ctx context.Context, q store.Queryer, acct ids.Account, t *ticket.Ticket, now time.Time) (string, error) {
	k, err := key(ctx, q, acct, true)
	if err != nil {
		return "", err
	}
	e := strconv.FormatInt(now.Add(LinkValidity).Unix(), 10)
	return "/hc/rate/" + strconv.FormatInt(int64(t.ID), 10) + "?expires=" + e + "&sig=" + sign(k, acct, t.ID, t.RequesterID, e), nil
}

// ErrBadLink is returned for a forged, altered or expired rating link.
var ErrBadLink = errs.NotFoundf("This rating link is not valid: it has expired or was altered. Sign in to the help center to rate your request.")

// Verify checks a rating link for ticket t (its requester as it is now) at time now.
func Verify(ctx context.Context, q store.Queryer, acct ids.Account, t *ticket.Ticket, expires, sig string, now time.Time) error {
	e, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || now.Unix() > e || sig == "" {
		return ErrBadLink
	}
	k, err := key(ctx, q, acct, false)
	if err != nil {
		return ErrBadLink
	}
	if !hmac.Equal([]byte(sig), []byte(sign(k, acct, t.ID, t.RequesterID, expires))) {
		return ErrBadLink
	}
	return nil
}
