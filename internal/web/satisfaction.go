package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/satisfaction"
	"tandem/internal/ticket"
)

// The rating page: the requester of a solved ticket rates it from the signed link the
// rating request carried, without signing in. Opening the link changes nothing (mail
// scanners open links); one click on Good or Bad rates, through the ticket write path
// as the requester. A forged, altered or expired link shows nothing of the ticket.
func (s *Server) satisfactionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /hc/rate/{id}", s.page(anyone, s.ratePage))
	mux.HandleFunc("POST /hc/rate/{id}", s.page(anyone, s.rate))
}

// satisfactionLabel is a score as lists show it ("" when no rating was offered).
func satisfactionLabel(score string) string {
	switch score {
	case ticket.ScoreOffered:
		return "Offered"
	case ticket.ScoreGood:
		return "Good"
	case ticket.ScoreBad:
		return "Bad"
	}
	return ""
}

type rateData struct {
	T       *ticket.Ticket
	Query   string // expires and sig, carried by the form
	Rating  *satisfaction.Rating
	Reasons []ticket.Reason
	Done    bool
}

// ratedTicket checks the link and returns its ticket.
func (s *Server) ratedTicket(ctx context.Context, r *http.Request, c *call) (*ticket.Ticket, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, satisfaction.ErrBadLink
	}
	t, err := ticket.Get(ctx, s.db.R(), c.Acct.ID, ids.Ticket(id))
	if err != nil || t.Deleted() {
		return nil, satisfaction.ErrBadLink
	}
	q := r.URL.Query()
	if err := satisfaction.Verify(ctx, s.db.R(), c.Acct.ID, t, q.Get("expires"), q.Get("sig"), time.Now()); err != nil {
		return nil, err
	}
	return t, nil
}

func (s *Server) ratePage(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	t, err := s.ratedTicket(ctx, r, c)
	if err != nil {
		return err
	}
	d := &rateData{T: t, Query: ratingQuery(r), Reasons: ticket.Reasons, Done: r.URL.Query().Get("done") == "1"}
	requester := ticket.Actor{UserID: t.RequesterID, Role: identity.EndUser}
	if x, err := satisfaction.ForTicket(ctx, s.db.R(), c.Acct.ID, requester, t.ID); err == nil {
		d.Rating = x
	}
	w.Header().Set("Referrer-Policy", "no-referrer") // the link is the permission
	return s.render(w, r, c, http.StatusOK, "hc_rate", page{Title: "Rate your request", Area: "hc", Data: d})
}

func (s *Server) rate(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	t, err := s.ratedTicket(ctx, r, c)
	if err != nil {
		return err
	}
	in := &ticket.Satisfaction{Score: r.PostFormValue("score"), Comment: strings.TrimSpace(r.PostFormValue("comment"))}
	if raw := r.PostFormValue("reason_code"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			return errs.Invalidf("reason_code", "InvalidValue", "choose a reason from the list")
		}
		in.ReasonCode = n
	}
	if in.Score != ticket.ScoreGood && in.Score != ticket.ScoreBad {
		return errs.Invalidf("score", "InvalidValue", "choose Good or Bad")
	}
	if in.Score == ticket.ScoreGood {
		in.ReasonCode = 0
	}
	actor := ticket.Actor{UserID: t.RequesterID, Role: identity.EndUser}
	if u, err := identity.Get(ctx, s.db.R(), c.Acct.ID, t.RequesterID); err == nil {
		actor.Name = u.Name
	}
	via := ticket.ViaFor(ticket.ViaWebForm)
	if _, err := s.tickets.Update(ctx, c.Acct, actor, t.ID, &ticket.Patch{Satisfaction: in, Via: &via}); err != nil {
		return err
	}
	return redirect(w, r, "/hc/rate/"+strconv.FormatInt(int64(t.ID), 10)+"?"+ratingQuery(r)+"&done=1", "Thank you: your rating was recorded.")
}

// ratingQuery is the link's signature part, kept across the form.
func ratingQuery(r *http.Request) string {
	q := r.URL.Query()
	return url.Values{"expires": {q.Get("expires")}, "sig": {q.Get("sig")}}.Encode()
}

// ticketRating loads the ticket's rating for the ticket page (nil if none).
func (s *Server) ticketRating(ctx context.Context, c *call, t *ticket.Ticket) *satisfaction.Rating {
	if t.SatisfactionScore == "" || t.SatisfactionScore == ticket.ScoreUnoffered {
		return nil
	}
	x, err := satisfaction.ForTicket(ctx, s.db.R(), c.Acct.ID, c.Actor(), t.ID)
	if err != nil {
		return nil
	}
	return x
}
