package api

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strconv"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

func (s *Server) ticketRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/tickets", s.h(agent, s.listTickets))
	mux.HandleFunc("POST /api/v2/tickets", s.h(agent, s.createTicket))
	mux.HandleFunc("GET /api/v2/tickets/count", s.h(agent, s.countTickets))
	mux.HandleFunc("GET /api/v2/tickets/show_many", s.h(agent, s.showManyTickets))
	mux.HandleFunc("POST /api/v2/tickets/create_many", s.h(agent, s.createManyTickets))
	mux.HandleFunc("PUT /api/v2/tickets/update_many", s.h(agent, s.updateManyTickets))
	mux.HandleFunc("DELETE /api/v2/tickets/destroy_many", s.h(agent, s.destroyManyTickets))
	mux.HandleFunc("GET /api/v2/tickets/{id}", s.h(agent, s.showTicket))
	mux.HandleFunc("PUT /api/v2/tickets/{id}", s.h(agent, s.updateTicket))
	mux.HandleFunc("DELETE /api/v2/tickets/{id}", s.h(agent, s.deleteTicket))
	mux.HandleFunc("GET /api/v2/tickets/{id}/tags", s.h(agent, s.ticketTags))
	mux.HandleFunc("GET /api/v2/tickets/{id}/incidents", s.h(agent, s.problemIncidents))
	mux.HandleFunc("POST /api/v2/tickets/{id}/tags", s.h(agent, s.ticketTags))
	mux.HandleFunc("PUT /api/v2/tickets/{id}/tags", s.h(agent, s.ticketTags))
	mux.HandleFunc("DELETE /api/v2/tickets/{id}/tags", s.h(agent, s.ticketTags))
	mux.HandleFunc("GET /api/v2/tickets/{id}/comments", s.h(agent, s.ticketComments))
	mux.HandleFunc("GET /api/v2/tickets/{id}/comments/count", s.h(agent, s.ticketChildCount("ticket_comments")))
	mux.HandleFunc("PUT /api/v2/tickets/{id}/comments/{cid}/make_private", s.h(agent, s.makePrivate))
	mux.HandleFunc("GET /api/v2/deleted_tickets", s.h(agent, s.listDeletedTickets))
	mux.HandleFunc("GET /api/v2/tickets/{id}/audits", s.h(agent, s.ticketAudits))
	mux.HandleFunc("GET /api/v2/tickets/{id}/audits/count", s.h(agent, s.ticketChildCount("ticket_audits")))
	mux.HandleFunc("GET /api/v2/tickets/{id}/audits/{aid}", s.h(agent, s.ticketAudit))
	mux.HandleFunc("GET /api/v2/organizations/{id}/tickets", s.h(agent, s.orgTickets))
	mux.HandleFunc("GET /api/v2/users/{id}/tickets/requested", s.h(agent, s.userTickets("requester_id")))
	mux.HandleFunc("GET /api/v2/users/{id}/tickets/assigned", s.h(agent, s.userTickets("assignee_id")))
	mux.HandleFunc("GET /api/v2/users/{id}/tickets/ccd", s.h(agent, s.userTicketsCCd))
	mux.HandleFunc("GET /api/v2/ticket_fields", s.h(agent, s.listTicketFields))
	mux.HandleFunc("POST /api/v2/ticket_fields", s.h(admin, s.createTicketField))
	mux.HandleFunc("GET /api/v2/ticket_fields/{id}", s.h(agent, s.showTicketField))
	mux.HandleFunc("PUT /api/v2/ticket_fields/{id}", s.h(admin, s.updateTicketField))
	mux.HandleFunc("DELETE /api/v2/ticket_fields/{id}", s.h(admin, s.deleteTicketField))
}

// listTicketsWhere runs a ticket list with the caller's scope and extra conditions.
func (s *Server) listTicketsWhere(w http.ResponseWriter, r *http.Request, c *Call, key string, where string, args ...any) error {
	ctx := r.Context()
	p, err := parsePage(r, false)
	if err != nil {
		return err
	}
	lq := ticket.ListQuery{Account: c.Acct.ID, Viewer: c.Actor(), Where: where, Args: args}
	var count func(ctx context.Context) (int, error)
	if scope, _ := ticket.Scope(s.db.Dialect, c.Acct.ID, c.Actor()); where == "" && scope == "1=1" {
		// The caller sees the whole account: the maintained count answers at once.
		count = func(ctx context.Context) (int, error) { return ticket.LiveCount(ctx, s.db.R(), c.Acct.ID) }
	}
	var facts pageFacts
	facts.selectWith(&lq)
	q := s.db.R()
	list, res, err := runTicketList(ctx, q, lq, p, count)
	if err != nil {
		return err
	}
	rendered, err := s.renderTicketPage(ctx, q, c, r, list, &facts)
	if err != nil {
		return err
	}
	body := map[string]any{key: rendered}
	addPageKeys(body, r, res)
	if err := s.sideload(ctx, q, c, r, body, list); err != nil {
		return err
	}
	writeJSONPage(w, http.StatusOK, body, key)
	return nil
}

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request, c *Call) error {
	if ext := r.URL.Query().Get("external_id"); ext != "" {
		return s.listTicketsWhere(w, r, c, "tickets", "t.external_id = ?", ext)
	}
	return s.listTicketsWhere(w, r, c, "tickets", "")
}

// problemIncidents lists the incidents of a problem ticket that the caller may see.
func (s *Server) problemIncidents(w http.ResponseWriter, r *http.Request, c *Call) error {
	t, _, err := s.visibleTicket(r.Context(), s.db.R(), c, r)
	if err != nil {
		return err
	}
	return s.listTicketsWhere(w, r, c, "tickets", "t.problem_id = ?", t.ID)
}

func (s *Server) orgTickets(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var n int
	if err := s.db.R().QueryRowContext(r.Context(), `SELECT COUNT(*) FROM organizations WHERE account_id = ? AND id = ?`, c.Acct.ID, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.NotFoundf("organization not found")
	}
	return s.listTicketsWhere(w, r, c, "tickets", "t.organization_id = ?", id)
}

func (s *Server) userTickets(col string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := s.userExists(r.Context(), c, id); err != nil {
			return err
		}
		return s.listTicketsWhere(w, r, c, "tickets", "t."+col+" = ?", id)
	}
}

func (s *Server) userTicketsCCd(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.userExists(r.Context(), c, id); err != nil {
		return err
	}
	// The id lists are JSON arrays: match the id as a whole element.
	pat := "%," + strconv.FormatInt(id, 10) + ",%"
	return s.listTicketsWhere(w, r, c, "tickets", "((',' || REPLACE(REPLACE(t.collaborator_ids, '[', ''), ']', '') || ',') LIKE ? OR (',' || REPLACE(REPLACE(t.email_cc_ids, '[', ''), ']', '') || ',') LIKE ?)", pat, pat)
}

func (s *Server) userExists(ctx context.Context, c *Call, id int64) error {
	var n int
	if err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE account_id = ? AND id = ?`, c.Acct.ID, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.NotFoundf("user not found")
	}
	return nil
}

func (s *Server) countTickets(w http.ResponseWriter, r *http.Request, c *Call) error {
	scope, sargs := ticket.Scope(s.db.Dialect, c.Acct.ID, c.Actor())
	var n int
	var err error
	if scope == "1=1" {
		n, err = ticket.LiveCount(r.Context(), s.db.R(), c.Acct.ID)
	} else {
		err = s.db.R().QueryRowContext(r.Context(), `SELECT COUNT(*) FROM tickets t WHERE t.account_id = ? AND t.deleted_at = 0 AND `+scope, append([]any{c.Acct.ID}, sargs...)...).Scan(&n)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": map[string]any{"value": n, "refreshed_at": ts(store.Now())}})
	return nil
}

// visibleTicket loads a ticket the caller may see (404 otherwise).
func (s *Server) visibleTicket(ctx context.Context, q store.Queryer, c *Call, r *http.Request) (*ticket.Ticket, ticket.Access, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, ticket.Access{}, err
	}
	return ticket.GetVisible(ctx, q, c.Acct.ID, c.Actor(), ids.Ticket(id))
}

func (s *Server) showTicket(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	q := s.db.R()
	t, _, err := s.visibleTicket(ctx, q, c, r)
	if err != nil {
		return err
	}
	obj, err := s.renderTicket(ctx, q, c, t, peopleIncludes(r)["slas"])
	if err != nil {
		return err
	}
	body := map[string]any{"ticket": obj}
	if err := s.sideload(ctx, q, c, r, body, []*ticket.Ticket{t}); err != nil {
		return err
	}
	writeJSONPage(w, http.StatusOK, body, "ticket")
	return nil
}

func (s *Server) showManyTickets(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	list, err := queryIDs(r, "ids", 100)
	if err != nil {
		return err
	}
	tids := make([]ids.Ticket, len(list))
	for i, x := range list {
		tids[i] = ids.Ticket(x)
	}
	q := s.db.R()
	ts, err := ticket.GetMany(ctx, q, c.Acct.ID, tids)
	if err != nil {
		return err
	}
	visible := ts[:0]
	for _, t := range ts {
		if acc, err := ticket.AccessFor(ctx, q, c.Actor(), t); err == nil && acc.See {
			visible = append(visible, t)
		}
	}
	rendered, err := s.renderTicketPage(ctx, q, c, r, visible, nil)
	if err != nil {
		return err
	}
	body := map[string]any{"tickets": rendered}
	showManyKeys(body, len(visible))
	if err := s.sideload(ctx, q, c, r, body, visible); err != nil {
		return err
	}
	writeJSONPage(w, http.StatusOK, body, "tickets")
	return nil
}

type ticketEnvelope struct {
	Ticket *ticketIn `json:"ticket"`
}

func (s *Server) createTicket(w http.ResponseWriter, r *http.Request, c *Call) error {
	var env ticketEnvelope
	if err := s.decode(r, &env); err != nil {
		return err
	}
	if env.Ticket == nil {
		return errs.Invalidf("ticket", "BlankValue", "the body must be {\"ticket\": {...}}")
	}
	p, err := s.toPatch(r.Context(), c, env.Ticket, true)
	if err != nil {
		return err
	}
	// The caller as this request's authentication read it: the requester when the body
	// names no other, so the write does not read the user again (a create ignores it
	// for any other requester).
	p.RequesterUser = c.User
	res, err := s.tickets.Create(r.Context(), c.Acct, c.Actor(), p)
	if err != nil {
		return err
	}
	return s.writeTicketResult(w, r, c, res, http.StatusCreated)
}

func (s *Server) writeTicketResult(w http.ResponseWriter, r *http.Request, c *Call, res *ticket.Result, status int) error {
	ctx := r.Context()
	q := s.db.R()
	// The write took the account's fields (this process's copy at its settings version,
	// read then only when there was none): the response shows those, without reading
	// them again.
	var fields []*ticket.Field
	if loaded := res.Change.LoadedFields(); loaded != nil {
		fields = activeFields(loaded)
	} else {
		var err error
		if fields, err = s.ticketFieldsOf(ctx, q, c.Acct.ID); err != nil {
			return err
		}
	}
	// A ticket just created is shared only through the shares this write started; an
	// update's sharing hook says when it found the ticket shared with nobody.
	started, _ := res.Change.Sharing()
	readShares := (!res.Change.Created || len(started) > 0) && !res.Change.Unshared
	p, err := s.ticketPageOf(ctx, q, c, []*ticket.Ticket{res.Ticket}, fields, readShares)
	if err != nil {
		return err
	}
	obj, err := p.ticketJSON(res.Ticket)
	if err != nil {
		return err
	}
	body := map[string]any{"ticket": obj}
	if res.Audit != nil {
		byUUID := map[string]*ticket.Comment{}
		uploads := false
		for _, cm := range res.Comments {
			byUUID[cm.UUID] = cm
			uploads = uploads || len(cm.Uploads) > 0
		}
		audit := s.auditJSON(res.Audit, byUUID, false)
		body["audit"] = audit
		// The write's comments are new: through the API, a file reaches one only as an
		// upload token it was written with.
		if uploads {
			if err := s.fillAuditAttachments(ctx, c, audit); err != nil {
				return err
			}
		}
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", p.ticketURL(res.Ticket.ID))
	}
	writeJSONPage(w, status, body, "ticket")
	return nil
}

func (s *Server) updateTicket(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var env ticketEnvelope
	if err := s.decode(r, &env); err != nil {
		return err
	}
	if env.Ticket == nil {
		return errs.Invalidf("ticket", "BlankValue", "the body must be {\"ticket\": {...}}")
	}
	// Whoever sees every ticket of the account is answered by the write's own read under
	// the ticket's lock, which finds no missing or deleted ticket in the same words as
	// GetVisible: the read before it is for the others (a statement less on every update
	// an admin or unrestricted agent makes), and for them only when the body is invalid,
	// so that a missing ticket is still not found before its body is judged.
	seesAll := ticket.SeesAll(c.Actor())
	if !seesAll {
		if _, _, err := ticket.GetVisible(r.Context(), s.db.R(), c.Acct.ID, c.Actor(), ids.Ticket(id)); err != nil {
			return err
		}
	}
	p, err := s.toPatch(r.Context(), c, env.Ticket, false)
	if err != nil {
		if seesAll {
			if _, gerr := ticket.Get(r.Context(), s.db.R(), c.Acct.ID, ids.Ticket(id)); gerr != nil {
				return gerr
			}
		}
		return err
	}
	// The caller as the authentication read it: a shared ticket's payload names it
	// without reading it again under the ticket's lock.
	p.ReadUsers = []*identity.User{c.User}
	res, err := s.tickets.Update(r.Context(), c.Acct, c.Actor(), ids.Ticket(id), p)
	if err != nil {
		return err
	}
	return s.writeTicketResult(w, r, c, res, http.StatusOK)
}

func (s *Server) deleteTicket(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	t, _, err := s.visibleTicket(ctx, s.db.R(), c, r)
	if err != nil {
		return err
	}
	if _, err := s.tickets.Update(ctx, c.Acct, c.Actor(), t.ID, &ticket.Patch{Delete: true}); err != nil {
		return err
	}
	noContent(w)
	return nil
}

func (s *Server) ticketTags(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	t, _, err := s.visibleTicket(ctx, s.db.R(), c, r)
	if err != nil {
		return err
	}
	if r.Method != http.MethodGet {
		var body struct {
			Tags optStrings `json:"tags"`
		}
		if err := s.decode(r, &body); err != nil {
			return err
		}
		if !body.Tags.Set {
			return errs.Invalidf("tags", "BlankValue", "cannot be blank")
		}
		p := &ticket.Patch{}
		switch r.Method {
		case http.MethodPost:
			p.Tags = &body.Tags.Value
		case http.MethodPut:
			p.AddTags = body.Tags.Value
		case http.MethodDelete:
			p.RemoveTags = body.Tags.Value
		}
		res, err := s.tickets.Update(ctx, c.Acct, c.Actor(), t.ID, p)
		if err != nil {
			return err
		}
		t = res.Ticket
	}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"tags": strList(t.Tags)})
	return nil
}

func (s *Server) ticketComments(w http.ResponseWriter, r *http.Request, c *Call) error {
	return s.listComments(w, r, c, false)
}

// listComments lists a ticket's comments; publicOnly hides internal notes (end users).
func (s *Server) listComments(w http.ResponseWriter, r *http.Request, c *Call, publicOnly bool) error {
	ctx := r.Context()
	q := s.db.R()
	t, _, err := s.visibleTicket(ctx, q, c, r)
	if err != nil {
		return err
	}
	p, err := parsePage(r, false)
	if err != nil {
		return err
	}
	spec := listSpec{Cols: ticket.CommentCols, From: "ticket_comments", Where: "account_id = ? AND ticket_id = ?", Args: []any{c.Acct.ID, t.ID}}
	if publicOnly || !c.IsStaff() {
		spec.Where += " AND public = TRUE"
	}
	var out []map[string]any
	var authors []ids.User
	res, err := runList(ctx, q, spec, p, func(rows *sql.Rows) (cursorPos, error) {
		cm, err := ticket.ScanComment(rows)
		if err != nil {
			return cursorPos{}, err
		}
		out = append(out, s.commentJSON(cm))
		authors = append(authors, cm.AuthorID)
		return cursorPos{S: int64(cm.ID), I: int64(cm.ID)}, nil
	})
	if err != nil {
		return err
	}
	reverseIfBefore(p, out)
	if err := s.fillAttachments(ctx, c, out); err != nil {
		return err
	}
	if out == nil {
		out = []map[string]any{}
	}
	body := map[string]any{"comments": out}
	addPageKeys(body, r, res)
	if err := s.sideloadUsers(ctx, q, c, r, body, authors); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// ticketChildCount answers /tickets/{id}/comments/count and /audits/count.
func (s *Server) ticketChildCount(table string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		ctx := r.Context()
		t, _, err := s.visibleTicket(ctx, s.db.R(), c, r)
		if err != nil {
			return err
		}
		var n int64
		if err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE account_id = ? AND ticket_id = ?`, c.Acct.ID, t.ID).Scan(&n); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": map[string]any{"value": n, "refreshed_at": ts(store.Now())}})
		return nil
	}
}

func (s *Server) makePrivate(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	t, _, err := s.visibleTicket(ctx, s.db.R(), c, r)
	if err != nil {
		return err
	}
	cid, err := pathID(r, "cid")
	if err != nil {
		return err
	}
	if _, err := s.tickets.Update(ctx, c.Acct, c.Actor(), t.ID, &ticket.Patch{MakePrivate: []ids.Comment{ids.Comment(cid)}}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{})
	return nil
}

func (s *Server) ticketAudits(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	q := s.db.R()
	t, _, err := s.visibleTicket(ctx, q, c, r)
	if err != nil {
		return err
	}
	p, err := parsePage(r, false)
	if err != nil {
		return err
	}
	spec := listSpec{Cols: ticket.AuditCols, From: "ticket_audits", Where: "account_id = ? AND ticket_id = ?", Args: []any{c.Acct.ID, t.ID}}
	var audits []*ticket.Audit
	res, err := runList(ctx, q, spec, p, func(rows *sql.Rows) (cursorPos, error) {
		a, err := ticket.ScanAudit(rows)
		if err != nil {
			return cursorPos{}, err
		}
		audits = append(audits, a)
		return cursorPos{S: int64(a.ID), I: int64(a.ID)}, nil
	})
	if err != nil {
		return err
	}
	reverseIfBefore(p, audits)
	comments, err := ticket.CommentsByAudit(ctx, q, c.Acct.ID, audits)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(audits))
	for i, a := range audits {
		out[i] = s.auditJSON(a, comments, !c.IsStaff())
	}
	if err := s.fillAuditAttachments(ctx, c, out...); err != nil {
		return err
	}
	body := map[string]any{"audits": out}
	addPageKeys(body, r, res)
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) ticketAudit(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	q := s.db.R()
	t, _, err := s.visibleTicket(ctx, q, c, r)
	if err != nil {
		return err
	}
	aid, err := pathID(r, "aid")
	if err != nil {
		return err
	}
	a, err := ticket.ScanAudit(q.QueryRowContext(ctx, `SELECT `+ticket.AuditCols+` FROM ticket_audits WHERE account_id = ? AND ticket_id = ? AND id = ?`, c.Acct.ID, t.ID, aid))
	if errors.Is(err, sql.ErrNoRows) {
		return errs.NotFoundf("audit not found")
	}
	if err != nil {
		return err
	}
	comments, err := ticket.CommentsByAudit(ctx, q, c.Acct.ID, []*ticket.Audit{a})
	if err != nil {
		return err
	}
	obj := s.auditJSON(a, comments, !c.IsStaff())
	if err := s.fillAuditAttachments(ctx, c, obj); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"audit": obj})
	return nil
}
