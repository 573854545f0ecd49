package api

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Bulk endpoints (create_many, update_many, destroy_many, imports) run as jobs: the call
// answers at once with a job_status, the work runs in the background one item per
// transaction (a bad item never stops or corrupts the rest), and progress is stored so
// any server process can answer GET /job_statuses/{id}.

func (s *Server) jobRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v2/job_statuses", s.h(agent, s.listJobs))
	mux.HandleFunc("GET /api/v2/job_statuses/show_many", s.h(agent, s.showManyJobs))
	mux.HandleFunc("GET /api/v2/job_statuses/{id}", s.h(agent, s.showJob))
}

// jobWork does item i of a job and returns its result entry.
type jobWork func(ctx context.Context, i int) map[string]any

// WaitJobs blocks until every background job of this server has finished; the server
// calls it at shutdown, after it stopped taking requests (so no job starts meanwhile).
func (s *Server) WaitJobs() { s.jobs.Wait() }

// StartJob records a queued job and runs work for items 0..total-1 in the background.
// It returns the job_status object to answer with.
func (s *Server) StartJob(c *Call, jobType string, total int, work jobWork) (map[string]any, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := "V3-" + hex.EncodeToString(b[:])
	now := store.Micros(store.Now())
	ctx := context.Background()
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO job_statuses (id, account_id, user_id, job_type, status, total, progress, message, results, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, 0, NULL, NULL, ?, ?)`,
			id, c.Acct.ID, c.User.ID, jobType, total, now, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("api: record job: %w", err)
	}
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		s.runJob(id, total, work)
	}()
	return s.jobJSON(c, id, "queued", int64(total), 0, "", nil), nil
}

func (s *Server) runJob(id string, total int, work jobWork) {
	ctx := context.Background()
	update := func(status string, progress int, message string, results []map[string]any) {
		var res any
		if results != nil {
			b, _ := json.Marshal(results)
			res = string(b)
		}
		_ = s.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE job_statuses SET status = ?, progress = ?, message = ?, results = ?, updated_at = ? WHERE id = ?`,
				status, progress, nullStr(message), res, store.Micros(store.Now()), id)
			return err
		})
	}
	update("working", 0, "", nil)
	results := make([]map[string]any, 0, total)
	for i := 0; i < total; i++ {
		r := func() (r map[string]any) {
			defer func() {
				if p := recover(); p != nil {
					s.log.Error("job item panicked", "job", id, "index", i, "panic", p)
					r = map[string]any{"index": i, "error": "InternalError", "details": "unexpected failure"}
				}
			}()
			return work(ctx, i)
		}()
		results = append(results, r)
		if (i+1)%10 == 0 && i+1 < total {
			update("working", i+1, fmt.Sprintf("Completed %d of %d", i+1, total), nil)
		}
	}
	update("completed", total, fmt.Sprintf("Completed at %s", store.Now().Format("2006-01-02 15:04:05 +0000")), results)
}

func (s *Server) jobJSON(c *Call, id, status string, total, progress int64, message string, results any) map[string]any {
	return map[string]any{
		"id": id, "url": c.URL("/api/v2/job_statuses/" + id + ".json"), "job_type": nil,
		"total": total, "progress": progress, "status": status, "message": nullStr(message), "results": results,
	}
}

const jobCols = `id, status, total, progress, message, results`

func (s *Server) scanJob(c *Call, row interface{ Scan(...any) error }) (map[string]any, error) {
	var id, status string
	var total, progress sql.NullInt64
	var message, results sql.NullString
	if err := row.Scan(&id, &status, &total, &progress, &message, &results); err != nil {
		return nil, err
	}
	var res any
	if results.Valid {
		var list []map[string]any
		_ = json.Unmarshal([]byte(results.String), &list)
		res = list
	}
	return s.jobJSON(c, id, status, total.Int64, progress.Int64, message.String, res), nil
}

func (s *Server) showJob(w http.ResponseWriter, r *http.Request, c *Call) error {
	job, err := s.scanJob(c, s.db.R().QueryRowContext(r.Context(), `SELECT `+jobCols+` FROM job_statuses WHERE account_id = ? AND id = ?`, c.Acct.ID, r.PathValue("id")))
	if errors.Is(err, sql.ErrNoRows) {
		return errs.NotFoundf("job not found")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_status": job})
	return nil
}

func (s *Server) showManyJobs(w http.ResponseWriter, r *http.Request, c *Call) error {
	raw := strings.Split(r.URL.Query().Get("ids"), ",")
	if len(raw) > 100 {
		return errs.E(errs.TooMany, "Parameter ids cannot specify more than 100 values")
	}
	out := []map[string]any{}
	for _, id := range raw {
		job, err := s.scanJob(c, s.db.R().QueryRowContext(r.Context(), `SELECT `+jobCols+` FROM job_statuses WHERE account_id = ? AND id = ?`, c.Acct.ID, strings.TrimSpace(id)))
		if err == nil {
			out = append(out, job)
		}
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
	spec := listSpec{Cols: jobCols + ", created_at", From: "job_statuses", Where: "account_id = ?", Args: []any{c.Acct.ID}, SortCol: "created_at", IDCol: "created_at"}
	var out []map[string]any
	res, err := runList(r.Context(), s.db.R(), spec, p, func(rows *sql.Rows) (cursorPos, error) {
		var at int64
		var id, status string
		var total, progress sql.NullInt64
		var message, results sql.NullString
		if err := rows.Scan(&id, &status, &total, &progress, &message, &results, &at); err != nil {
			return cursorPos{}, err
		}
		job, _ := s.scanJob(c, rowOf{id, status, total, progress, message, results})
		out = append(out, job)
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

// rowOf replays scanned values through scanJob.
type rowOf struct {
	id, status      string
	total, progress sql.NullInt64
	message, result sql.NullString
}

func (r rowOf) Scan(dst ...any) error {
	*dst[0].(*string), *dst[1].(*string) = r.id, r.status
	*dst[2].(*sql.NullInt64), *dst[3].(*sql.NullInt64) = r.total, r.progress
	*dst[4].(*sql.NullString), *dst[5].(*sql.NullString) = r.message, r.result
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
