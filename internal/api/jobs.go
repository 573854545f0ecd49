package api

import (
	"context"
	"database/sql"
	"net/http"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/jobs"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Bulk endpoints (create_many, update_many, destroy_many, imports) run as jobs (package
// jobs): the call answers at once with a job_status, the work runs in the background one
// item per transaction (a bad item never stops or corrupts the rest), and progress is
// stored so any server process can answer GET /job_statuses/{id}.

func (s *Server) jobRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/job_statuses", s.h(agent, s.listJobs))
	mux.HandleFunc("GET /api/v2/job_statuses/show_many", s.h(agent, s.showManyJobs))
	mux.HandleFunc("GET /api/v2/job_statuses/{id}", s.h(agent, s.showJob))
}

// jobWork does item i of a job and returns its result entry.
type jobWork func(ctx context.Context, i int) map[string]any

// StartJob records a queued job and runs work for items 0..total-1 in the background
// (jobs.Items: one item at a time, stopped between items at shutdown). It returns the
// job_status object to answer with.
func (s *Server) StartJob(c *Call, jobType string, total int, work jobWork) (map[string]any, error) {
	st, err := s.jobs.Start(c.r.Context(), jobs.Spec{Account: c.Acct.ID, User: c.User.ID, Type: jobType, Total: total}, jobs.Items(total, work))
	if err != nil {
		return nil, err
	}
	return jobJSON(c, st), nil
}

func jobJSON(c *Call, st *jobs.Status) map[string]any {
	var results any
	if st.Results != nil {
		results = st.Results
	}
	return map[string]any{
		"id": st.ID, "url": c.URL("/api/v2/job_statuses/" + st.ID + ".json"), "job_type": nil,
		"total": st.Total, "progress": st.Progress, "status": st.State, "message": nullStr(st.Message), "results": results,
	}
}

func (s *Server) showJob(w http.ResponseWriter, r *http.Request, c *Call) error {
	st, err := jobs.Get(r.Context(), s.db.R(), c.Acct.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_status": jobJSON(c, st)})
	return nil
}

func (s *Server) showManyJobs(w http.ResponseWriter, r *http.Request, c *Call) error {
	raw := strings.Split(r.URL.Query().Get("ids"), ",")
	if len(raw) > 100 {
		return errs.E(errs.TooMany, "Parameter ids cannot specify more than 100 values")
	}
	out := []map[string]any{}
	for _, id := range raw {
		st, err := jobs.Get(r.Context(), s.db.R(), c.Acct.ID, strings.TrimSpace(id))
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		out = append(out, jobJSON(c, st))
	}
	body := map[string]any{"job_statuses": out}
	showManyKeys(body, len(out))
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, c *Call) error {
	p, err := parsePage(r, true)
	if err != nil {
		return err
	}
	spec := listSpec{Cols: jobs.Cols, From: "job_statuses", Where: "account_id = ?", Args: []any{c.Acct.ID}, SortCol: "created_at", IDCol: "created_at"}
	var out []map[string]any
	res, err := runList(r.Context(), s.db.R(), spec, p, func(rows *sql.Rows) (cursorPos, error) {
		st, err := jobs.Scan(rows)
		if err != nil {
			return cursorPos{}, err
		}
		out = append(out, jobJSON(c, st))
		at := store.Micros(st.CreatedAt)
		return cursorPos{S: at, I: at}, nil
	})
	if err != nil {
		return err
	}
	reverseIfBefore(p, out)
	if out == nil {
		out = []map[string]any{}
	}
	body := map[string]any{"job_statuses": out}
	addPageKeys(body, r, res)
	writeJSON(w, http.StatusOK, body)
	return nil
}

// itemError renders a failed job item as Zendesk does.
func itemError(i int, id any, err error) map[string]any {
	code, details := "InternalError", "unexpected failure"
	if e, ok := errs.As(err); ok {
		code, details = string(e.Code), e.Error()
		switch e.Code {
		case errs.Invalid:
			code = "RecordInvalid"
		case errs.NotFound:
			code = "TicketNotFound"
		}
	}
	m := map[string]any{"index": i, "error": code, "details": details, "success": false}
	if id != nil {
		m["id"] = id
	}
	return m
}

// Ticket bulk endpoints.

func (s *Server) createManyTickets(w http.ResponseWriter, r *http.Request, c *Call) error {
	var body struct {
		Tickets []*ticketIn `json:"tickets"`
	}
	if err := s.decode(r, &body); err != nil {
		return err
	}
	if len(body.Tickets) == 0 {
		return errs.Invalidf("tickets", "BlankValue", "cannot be blank")
	}
	if len(body.Tickets) > 100 {
		return errs.E(errs.TooMany, "Parameter tickets cannot specify more than 100 values")
	}
	actor, acct := c.Actor(), c.Acct
	job, err := s.StartJob(c, "bulk_create_tickets", len(body.Tickets), func(ctx context.Context, i int) map[string]any {
		in := body.Tickets[i]
		if in == nil {
			return itemError(i, nil, errs.Invalidf("ticket", "BlankValue", "cannot be null"))
		}
		p, err := s.toPatch(ctx, c, in, true)
		if err != nil {
			return itemError(i, nil, err)
		}
		res, err := s.tickets.Create(ctx, acct, actor, p)
		if err != nil {
			return itemError(i, nil, err)
		}
		return map[string]any{"index": i, "id": int64(res.Ticket.ID), "account_id": int64(acct.ID)}
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_status": job})
	return nil
}

func (s *Server) updateManyTickets(w http.ResponseWriter, r *http.Request, c *Call) error {
	var body struct {
		Ticket  *ticketIn   `json:"ticket"`
		Tickets []*ticketIn `json:"tickets"`
	}
	if err := s.decode(r, &body); err != nil {
		return err
	}
	type item struct {
		id ids.Ticket
		in *ticketIn
	}
	var items []item
	if body.Ticket != nil {
		list, err := queryIDs(r, "ids", 100)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return errs.Invalidf("ids", "BlankValue", "give ?ids=1,2,3 with a single ticket body")
		}
		for _, id := range list {
			items = append(items, item{ids.Ticket(id), body.Ticket})
		}
	} else {
		if len(body.Tickets) > 100 {
			return errs.E(errs.TooMany, "Parameter tickets cannot specify more than 100 values")
		}
		for _, in := range body.Tickets {
			if in == nil {
				continue
			}
			items = append(items, item{ids.Ticket(in.ID.Value), in})
		}
	}
	if len(items) == 0 {
		return errs.Invalidf("tickets", "BlankValue", "cannot be blank")
	}
	actor, acct := c.Actor(), c.Acct
	job, err := s.StartJob(c, "bulk_update_tickets", len(items), func(ctx context.Context, i int) map[string]any {
		it := items[i]
		if it.id == 0 {
			return itemError(i, nil, errs.Invalidf("id", "BlankValue", "every ticket needs an id"))
		}
		if _, _, err := ticket.GetVisible(ctx, s.db.R(), acct.ID, actor, it.id); err != nil {
			return itemError(i, int64(it.id), err)
		}
		p, err := s.toPatch(ctx, c, it.in, false)
		if err != nil {
			return itemError(i, int64(it.id), err)
		}
		if _, err := s.tickets.Update(ctx, acct, actor, it.id, p); err != nil {
			return itemError(i, int64(it.id), err)
		}
		return map[string]any{"action": "update", "id": int64(it.id), "status": "Updated", "success": true}
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_status": job})
	return nil
}

func (s *Server) destroyManyTickets(w http.ResponseWriter, r *http.Request, c *Call) error {
	list, err := queryIDs(r, "ids", 100)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return errs.Invalidf("ids", "BlankValue", "cannot be blank")
	}
	actor, acct := c.Actor(), c.Acct
	job, err := s.StartJob(c, "bulk_delete_tickets", len(list), func(ctx context.Context, i int) map[string]any {
		id := ids.Ticket(list[i])
		if _, _, err := ticket.GetVisible(ctx, s.db.R(), acct.ID, actor, id); err != nil {
			return itemError(i, int64(id), err)
		}
		if _, err := s.tickets.Update(ctx, acct, actor, id, &ticket.Patch{Delete: true}); err != nil {
			return itemError(i, int64(id), err)
		}
		return map[string]any{"action": "delete", "id": int64(id), "status": "Deleted", "success": true}
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_status": job})
	return nil
}
