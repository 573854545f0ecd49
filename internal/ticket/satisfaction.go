package ticket

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"tandem/internal/errs"
	"tandem/internal/store"
)

// The satisfaction scores of a ticket, as Zendesk names them: not yet asked, asked,
// and the requester's answer.
const (
	ScoreUnoffered = "unoffered"
	ScoreOffered   = "offered"
	ScoreGood      = "good"
	ScoreBad       = "bad"
)

// Scores lists the satisfaction scores, in the order conditions compare them.
var Scores = []string{ScoreUnoffered, ScoreOffered, ScoreBad, ScoreGood}

// MaxRatingComment bounds a rating's comment (characters).
const MaxRatingComment = 4000

// Reason is one of Zendesk's default reasons for a bad rating (satisfaction_reasons).
type Reason struct {
	Code  int
	Value string
}

// Reasons are Zendesk's system reasons; code 0 is "no reason given".
var Reasons = []Reason{
	{0, "No reason provided"},
	{5, "The issue took too long to resolve"},
	{6, "The issue was not resolved"},
	{7, "The agent's knowledge is unsatisfactory"},
	{8, "The agent's attitude is unsatisfactory"},
	{100, "Some other reason"},
}

// ReasonText is the text of a reason code ("" if unknown).
func ReasonText(code int) string {
	for _, r := range Reasons {
		if r.Code == code {
			return r.Value
		}
	}
	return ""
}

// Satisfaction is a change of a ticket's satisfaction: the offer (Score offered, by an
// automation or trigger) or the requester's rating (good or bad, with an optional
// comment and, for bad, a reason code).
type Satisfaction struct {
	Score      string
	Comment    string
	ReasonCode int
}

func (t *Ticket) satisfaction() string {
	if t.SatisfactionScore == "" {
		return ScoreUnoffered
	}
	return t.SatisfactionScore
}

// applySatisfaction validates and applies a satisfaction change; ratings come from the
// requester only, on a ticket that is solved or closed.
func (ch *Change) applySatisfaction(s *Satisfaction, v *errs.Validation) {
	t := ch.Ticket
	switch s.Score {
	case ScoreOffered:
		if t.satisfaction() != ScoreUnoffered {
			return // already offered or rated: nothing to do
		}
	case ScoreGood, ScoreBad:
		if ch.Actor.UserID != t.RequesterID || ch.Actor.UserID <= 0 {
			v.Add("satisfaction_rating", "InvalidValue", "only the ticket's requester can rate it")
			return
		}
		if t.Status != Solved && t.Status != Closed {
			v.Add("satisfaction_rating", "InvalidValue", "a ticket can be rated once it is solved")
			return
		}
		if utf8.RuneCountInString(s.Comment) > MaxRatingComment {
			v.Add("comment", "TooLong", fmt.Sprintf("a rating's comment is at most %d characters", MaxRatingComment))
		}
		if ReasonText(s.ReasonCode) == "" {
			v.Add("reason_code", "InvalidValue", fmt.Sprintf("%d is not a satisfaction reason (0, 5, 6, 7, 8 or 100)", s.ReasonCode))
		}
		if s.Score == ScoreGood && s.ReasonCode != 0 {
			v.Add("reason_code", "InvalidValue", "a reason is given for a bad rating only")
		}
		if v.Has() {
			return
		}
	default:
		v.Add("score", "InvalidValue", fmt.Sprintf("%q is not a satisfaction score (good, bad, or offered)", s.Score))
		return
	}
	t.SatisfactionScore = s.Score
	ev := Event{"type": "SatisfactionRating", "score": s.Score, "assignee_id": nil, "body": s.Comment}
	if t.AssigneeID != 0 {
		ev["assignee_id"] = strconv.FormatInt(int64(t.AssigneeID), 10)
	}
	if s.Score != ScoreOffered && s.ReasonCode != 0 {
		ev["reason_code"] = s.ReasonCode
	}
	ch.Events = append(ch.Events, ev)
	ch.rating = s
}

// saveRating writes the rating the change made (the offer, or the requester's answer)
// to satisfaction_ratings, one row per ticket.
func (ch *Change) saveRating(ctx context.Context, at time.Time) error {
	now := store.Micros(at)
	s, t := ch.rating, ch.Ticket
	if s == nil {
		return nil
	}
	_, err := ch.tx.ExecContext(ctx, `INSERT INTO satisfaction_ratings (account_id, ticket_id, requester_id, assignee_id, group_id, score, comment, reason_code, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, ticket_id) DO UPDATE SET requester_id = excluded.requester_id, assignee_id = excluded.assignee_id, group_id = excluded.group_id,
		score = excluded.score, comment = excluded.comment, reason_code = excluded.reason_code, updated_at = excluded.updated_at`,
		t.AccountID, t.ID, t.RequesterID, int64(t.AssigneeID), int64(t.GroupID), s.Score, s.Comment, s.ReasonCode, now, now)
	if err != nil {
		return fmt.Errorf("ticket: save satisfaction rating: %w", err)
	}
	return nil
}

// stampFirstReply records the first public reply by an agent after the ticket's
// creation (its request is not a reply).
func (ch *Change) stampFirstReply(now time.Time) {
	t := ch.Ticket
	if ch.Created || !t.FirstReplyAt.IsZero() || !ch.Actor.IsStaff() {
		return
	}
	for _, c := range ch.Comments {
		if c.Public && c.AuthorID != t.RequesterID {
			t.FirstReplyAt = now
			return
		}
	}
}
