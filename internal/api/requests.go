package api

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/ticket"
)

// The Requests API is the end user's view of tickets: their own requests, plus every
// request of an organization they belong to that shares tickets. Internal notes never
// appear here.

func (s *Server) requestRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/requests", s.h(endUser, s.listRequests))
	mux.HandleFunc("POST /api/v2/requests", s.h(endUser, s.createRequest))
	mux.HandleFunc("GET /api/v2/requests/search", s.h(endUser, s.searchRequests))
	mux.HandleFunc("GET /api/v2/requests/{id}", s.h(endUser, s.showRequest))
	mux.HandleFunc("PUT /api/v2/requests/{id}", s.h(endUser, s.updateRequest))
	mux.HandleFunc("GET /api/v2/requests/{id}/comments", s.h(endUser, s.requestComments))
	mux.HandleFunc("GET /api/v2/requests/{id}/comments/{cid}", s.h(endUser, s.requestComment))
}

func (s *Server) requestJSON(ctx context.Context, c *Call, t *ticket.Ticket, acc ticket.Access) map[string]any {
	fields, _ := s.ticketFieldsOf(ctx, s.db.R(), c.Acct.ID)
	cf := make([]map[string]any, 0, len(fields))
	for _, f := range fields {
		cf = append(cf, map[string]any{"id": f.ID, "value": t.CustomFields[f.ID]})
	}
	status := string(t.Status)
	return map[string]any{
		"url":                 c.URL("/api/v2/requests/" + strconv.FormatInt(int64(t.ID), 10) + ".json"),
		"id":                  int64(t.ID),
		"status":              status,
		"priority":            nullStr(t.Priority),
		"type":                nullStr(t.Type),
		"subject":             t.Subject,
		"description":         t.Description,
		"organization_id":     nullID(t.OrganizationID),
		"via":                 viaJSON(t.Via),
		"custom_fields":       cf,
		"fields":              cf,
		"requester_id":        int64(t.RequesterID),
		"collaborator_ids":    idList(t.CollaboratorIDs),
		"email_cc_ids":        idList(t.EmailCCIDs),
		"is_public":           t.IsPublic,
		"due_at":              ts(t.DueAt),
		"can_be_solved_by_me": acc.Comment && t.Status != ticket.Solved && t.Status != ticket.Closed && t.RequesterID == c.User.ID,
		"created_at":          ts(t.CreatedAt),
		"updated_at":          ts(t.UpdatedAt),
		"recipient":           nullStr(t.Recipient),
		"followup_source_id":  nil,
		"assignee_id":         nullID(t.AssigneeID),
		"ticket_form_id":      nil,
		// Tandem: tell the requester plainly when colleagues can see this request.
		"visible_to_organization": t.OrganizationID != 0 && s.orgSharesTickets(ctx, c, t.OrganizationID),
		"can_comment":             acc.Comment,
	}
}

func (s *Server) orgSharesTickets(ctx context.Context, c *Call, o ids.Org) bool {
	var shared bool
	_ = s.db.R().QueryRowContext(ctx, `SELECT shared_tickets FROM organizations WHERE account_id = ? AND id = ?`, c.Acct.ID, o).Scan(&shared)
	return shared
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request, c *Call) error {
	where, args := "", []any{}
	if st := r.URL.Query().Get("status"); st != "" {
		parts := strings.Split(st, ",")
		where = "t.status IN (" + strings.TrimSuffix(strings.Repeat("?,", len(parts)), ",") + ")"
		for _, p := range parts {
			args = append(args, strings.TrimSpace(p))
		}
	}
	if o := r.URL.Query().Get("organization_id"); o != "" {
		id, err := strconv.ParseInt(o, 10, 64)
		if err != nil {
			return errs.E(errs.BadRequest, "organization_id must be an ID")
		}
		if where != "" {
			where += " AND "
		}
		where += "t.organization_id = ?"
		args = append(args, id)
	}
	return s.listRequestsWhere(w, r, c, where, args...)
}

func (s *Server) listRequestsWhere(w http.ResponseWriter, r *http.Request, c *Call, where string, args ...any) error {
	ctx := r.Context()
	p, err := parsePage(r, false)
	if err != nil {
		return err
	}
	// Staff list the requests they made themselves, whatever their restriction.
	lq := ticket.ListQuery{Account: c.Acct.ID, Viewer: c.Actor(), Unscoped: c.IsStaff(), Where: where, Args: args}
	if c.IsStaff() {
		lq.Where, lq.Args = "t.requester_id = ?", []any{c.User.ID}
		if where != "" {
			lq.Where, lq.Args = lq.Where+" AND "+where, append(lq.Args, args...)
		}
	}
	list, res, err := runTicketList(ctx, s.db.R(), lq, p, nil)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, t := range list {
		acc, err := ticket.AccessFor(ctx, s.db.R(), c.Actor(), t)
		if err != nil {
			return err
		}
		out = append(out, s.requestJSON(ctx, c, t, acc))
	}
	body := map[string]any{"requests": out}
	addPageKeys(body, r, res)
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) searchRequests(w http.ResponseWriter, r *http.Request, c *Call) error {
	q := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("query")))
	if q == "" {
		return s.listRequestsWhere(w, r, c, "")
	}
	like := "%" + strings.NewReplacer("%", "", "_", "").Replace(q) + "%"
	return s.listRequestsWhere(w, r, c, "(LOWER(t.subject) LIKE ? OR LOWER(t.description) LIKE ?)", like, like)
}

// visibleRequest loads a request the caller may see (404 otherwise).
func (s *Server) visibleRequest(r *http.Request, c *Call) (*ticket.Ticket, ticket.Access, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, ticket.Access{}, err
	}
	t, acc, err := ticket.GetVisible(r.Context(), s.db.R(), c.Acct.ID, c.Actor(), ids.Ticket(id))
	if err != nil {
		return nil, acc, err
	}
	if c.IsStaff() && t.RequesterID != c.User.ID && !c.IsAdmin() && c.User.TicketRestriction != "" {
		return nil, acc, errs.NotFoundf("request not found")
	}
	return t, acc, nil
}

func (s *Server) showRequest(w http.ResponseWriter, r *http.Request, c *Call) error {
	t, acc, err := s.visibleRequest(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"request": s.requestJSON(r.Context(), c, t, acc)})
	return nil
}

type requestIn struct {
	Subject      optStr          `json:"subject"`
	Comment      *commentIn      `json:"comment"`
	Priority     optStr          `json:"priority"`
	Type         optStr          `json:"type"`
	CustomFields []customFieldIn `json:"custom_fields"`
	Solved       optBool         `json:"solved"`
	Status       optStr          `json:"status"`
}

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request, c *Call) error {
	var env struct {
		Request *requestIn `json:"request"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	in := env.Request
	if in == nil {
		return errs.Invalidf("request", "BlankValue", "the body must be {\"request\": {...}}")
	}
	tin := &ticketIn{Subject: in.Subject, Priority: in.Priority, Type: in.Type, CustomFields: in.CustomFields, Comment: in.Comment}
	if tin.Comment != nil {
		tin.Comment.Public = optBool{Set: true, Value: true} // end users write public comments
		tin.Comment.AuthorID = optID{}
	}
	p, err := s.toPatch(r.Context(), c, tin, true)
	if err != nil {
		return err
	}
	p.Via = ticket.Ptr(ticket.ViaFor(ticket.ViaAPI))
	res, err := s.tickets.Create(r.Context(), c.Acct, c.Actor(), p)
	if err != nil {
		return err
	}
	acc := ticket.Access{See: true, Comment: true}
	obj := s.requestJSON(r.Context(), c, res.Ticket, acc)
	w.Header().Set("Location", obj["url"].(string))
	writeJSON(w, http.StatusCreated, map[string]any{"request": obj})
	return nil
}

func (s *Server) updateRequest(w http.ResponseWriter, r *http.Request, c *Call) error {
	t, acc, err := s.visibleRequest(r, c)
	if err != nil {
		return err
	}
	var env struct {
		Request *requestIn `json:"request"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	in := env.Request
	if in == nil {
		return errs.Invalidf("request", "BlankValue", "the body must be {\"request\": {...}}")
	}
	p := &ticket.Patch{}
	if in.Comment != nil {
		if !acc.Comment {
			return errs.Forbiddenf("You can view this request but not comment on it: the organization does not allow comments on colleagues' requests.")
		}
		p.Comment = &ticket.CommentInput{Body: in.Comment.Body.Value, HTMLBody: in.Comment.HTMLBody.Value, Public: ticket.Ptr(true), Uploads: in.Comment.Uploads.Value}
	}
	if in.Solved.Value || strings.EqualFold(in.Status.Value, "solved") {
		if t.RequesterID != c.User.ID {
			return errs.Forbiddenf("Only the requester can mark this request as solved.")
		}
		p.Status = ticket.Ptr(ticket.Solved)
	}
	res, err := s.tickets.Update(r.Context(), c.Acct, c.Actor(), t.ID, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"request": s.requestJSON(r.Context(), c, res.Ticket, acc)})
	return nil
}

func (s *Server) requestComments(w http.ResponseWriter, r *http.Request, c *Call) error {
	if _, _, err := s.visibleRequest(r, c); err != nil {
		return err
	}
	return s.listComments(w, r, c, true)
}

func (s *Server) requestComment(w http.ResponseWriter, r *http.Request, c *Call) error {
	t, _, err := s.visibleRequest(r, c)
	if err != nil {
		return err
	}
	cid, err := pathID(r, "cid")
	if err != nil {
		return err
	}
	cm, err := ticket.ScanComment(s.db.R().QueryRowContext(r.Context(), `SELECT `+ticket.CommentCols+` FROM ticket_comments WHERE account_id = ? AND ticket_id = ? AND id = ? AND public = TRUE`, c.Acct.ID, t.ID, cid))
	if errors.Is(err, sql.ErrNoRows) {
		return errs.NotFoundf("comment not found")
	}
	if err != nil {
		return err
	}
	obj := s.commentJSON(cm)
	if err := s.fillAttachments(r.Context(), c, []map[string]any{obj}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"comment": obj})
	return nil
}
