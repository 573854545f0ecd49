package api

import (
	"net/http"
	"strconv"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/satisfaction"
	"tandem/internal/ticket"
)

// satisfactionRoutes serves customer satisfaction ratings (Zendesk's
// /satisfaction_ratings and /satisfaction_reasons). Agents read the ratings of the
// tickets they may see; a ticket's requester rates it, through the ticket write path.
func (s *Server) satisfactionRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/satisfaction_ratings", s.h(agent, s.listRatings))
	mux.HandleFunc("GET /api/v2/satisfaction_ratings/{id}", s.h(agent, s.showRating))
	mux.HandleFunc("GET /api/v2/satisfaction_reasons", s.h(agent, s.listReasons))
	mux.HandleFunc("GET /api/v2/tickets/{id}/satisfaction_rating", s.h(agent, s.ticketRating))
	mux.HandleFunc("POST /api/v2/tickets/{id}/satisfaction_rating", s.h(endUser, s.rateTicket))
}

func ratingJSON(c *Call, r *satisfaction.Rating) map[string]any {
	out := map[string]any{
		"id": r.ID, "url": c.URL("/api/v2/satisfaction_ratings/" + strconv.FormatInt(r.ID, 10) + ".json"),
		"ticket_id": int64(r.TicketID), "requester_id": int64(r.RequesterID), "assignee_id": nullID(r.AssigneeID), "group_id": nullID(r.GroupID),
		"score": r.Score, "comment": nullStr(r.Comment), "reason": nil, "reason_code": nil, "reason_id": nil,
		"created_at": ts(r.CreatedAt), "updated_at": ts(r.UpdatedAt),
	}
	if r.Score == ticket.ScoreBad || r.ReasonCode != 0 {
		out["reason"], out["reason_code"], out["reason_id"] = r.Reason(), r.ReasonCode, r.ReasonCode
	}
	return out
}

// satisfactionScore is a ticket's score as lists and view rows show it.
func satisfactionScore(t *ticket.Ticket) string {
	if t.SatisfactionScore == "" {
		return ticket.ScoreUnoffered
	}
	return t.SatisfactionScore
}

func (s *Server) listRatings(w http.ResponseWriter, r *http.Request, c *Call) error {
	q := r.URL.Query()
	f := satisfaction.Filter{Score: q.Get("score")}
	var v errs.Validation
	if !satisfaction.ValidScoreFilter(f.Score) {
		v.Add("score", "InvalidValue", "score must be good, bad, offered, unoffered or received")
	}
	unix := func(name string) time.Time {
		raw := q.Get(name)
		if raw == "" {
			return time.Time{}
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			v.Add(name, "InvalidValue", name+" must be a Unix time in seconds")
			return time.Time{}
		}
		return time.Unix(n, 0)
	}
	f.Start, f.End = unix("start_time"), unix("end_time")
	if raw := q.Get("page[after]"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			v.Add("page[after]", "InvalidValue", "page[after] must be a cursor this list gave")
		}
		f.BeforeID = n
	}
	if raw := q.Get("page[size]"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPerPage {
			v.Add("page[size]", "InvalidValue", "page[size] must be a whole number from 1 to 100")
		}
		f.Limit = n
	}
	if err := v.Err(); err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = maxPerPage
	}
	want := f.Limit
	f.Limit++
	list, err := satisfaction.List(r.Context(), s.db.R(), c.Acct.ID, c.Actor(), f)
	if err != nil {
		return err
	}
	more := len(list) > want
	if more {
		list = list[:want]
	}
	out := make([]map[string]any, len(list))
	for i, x := range list {
		out[i] = ratingJSON(c, x)
	}
	meta := map[string]any{"has_more": more, "after_cursor": nil}
	links := map[string]any{"next": nil}
	if more {
		cur := strconv.FormatInt(list[len(list)-1].ID, 10)
		meta["after_cursor"] = cur
		nq := r.URL.Query()
		nq.Set("page[after]", cur)
		links["next"] = c.URL("/api/v2/satisfaction_ratings.json?" + nq.Encode())
	}
	writeJSON(w, http.StatusOK, map[string]any{"satisfaction_ratings": out, "meta": meta, "links": links})
	return nil
}

func (s *Server) showRating(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	x, err := satisfaction.Get(r.Context(), s.db.R(), c.Acct.ID, c.Actor(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"satisfaction_rating": ratingJSON(c, x)})
	return nil
}

func (s *Server) listReasons(w http.ResponseWriter, r *http.Request, c *Call) error {
	out := make([]map[string]any, len(ticket.Reasons))
	for i, x := range ticket.Reasons {
		out[i] = map[string]any{"id": x.Code, "reason_code": x.Code, "value": x.Value, "raw_value": x.Value, "deleted_at": nil}
	}
	writeJSON(w, http.StatusOK, map[string]any{"reasons": out})
	return nil
}

func (s *Server) ticketRating(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	x, err := satisfaction.ForTicket(r.Context(), s.db.R(), c.Acct.ID, c.Actor(), ids.Ticket(id))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"satisfaction_rating": ratingJSON(c, x)})
	return nil
}

// rateTicket records the requester's rating (Zendesk allows only the requester).
func (s *Server) rateTicket(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var env struct {
		Rating *struct {
			Score      string  `json:"score"`
			Comment    *string `json:"comment"`
			ReasonCode *int    `json:"reason_code"`
		} `json:"satisfaction_rating"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	if env.Rating == nil {
		return errs.Invalidf("satisfaction_rating", "BlankValue", "the body must be {\"satisfaction_rating\": {\"score\": \"good\"|\"bad\", ...}}")
	}
	t, _, err := ticket.GetVisible(r.Context(), s.db.R(), c.Acct.ID, c.Actor(), ids.Ticket(id))
	if err != nil {
		return err
	}
	if t.RequesterID != c.User.ID {
		return errs.Forbiddenf("only the ticket's requester can rate it")
	}
	in := &ticket.Satisfaction{Score: env.Rating.Score}
	if in.Score != ticket.ScoreGood && in.Score != ticket.ScoreBad {
		return errs.Invalidf("score", "InvalidValue", "score must be good or bad")
	}
	if env.Rating.Comment != nil {
		in.Comment = *env.Rating.Comment
	}
	if env.Rating.ReasonCode != nil {
		in.ReasonCode = *env.Rating.ReasonCode
	}
	if _, err := s.tickets.Update(r.Context(), c.Acct, c.Actor(), t.ID, &ticket.Patch{Satisfaction: in}); err != nil {
		return err
	}
	x, err := satisfaction.ForTicket(r.Context(), s.db.R(), c.Acct.ID, c.Actor(), t.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"satisfaction_rating": ratingJSON(c, x)})
	return nil
}
