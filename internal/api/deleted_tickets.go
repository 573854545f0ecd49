package api

import (
	"net/http"

	"tandem/internal/identity"
	"tandem/internal/ticket"
)

// listDeletedTickets answers GET /deleted_tickets in Zendesk's shape: who deleted each
// ticket, when, and its status before. Both come from the ticket's last audit, the one
// the delete wrote (a deleted ticket takes no further change).
func (s *Server) listDeletedTickets(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	q := s.db.R()
	p, err := parsePage(r, false)
	if err != nil {
		return err
	}
	lq := ticket.ListQuery{Account: c.Acct.ID, Viewer: c.Actor(), Deleted: true}
	list, res, err := runTicketList(ctx, q, lq, p, nil)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, t := range list {
		a, err := ticket.LastAudit(ctx, q, c.Acct.ID, t.ID)
		if err != nil {
			return err
		}
		// Tickets deleted before deletes were audited have no such audit: actor unknown.
		var actor, previous any
		for _, e := range a.Events {
			if e["field_name"] == "status" && e["value"] == "deleted" {
				who := map[string]any{"id": int64(a.AuthorID), "name": nil}
				if u, err := identity.Get(ctx, q, c.Acct.ID, a.AuthorID); err == nil {
					who["name"] = u.Name
				}
				actor, previous = who, e["previous_value"]
			}
		}
		out = append(out, map[string]any{"id": int64(t.ID), "subject": t.Subject, "description": t.Description,
			"actor": actor, "deleted_at": ts(t.DeletedAt), "previous_state": previous})
	}
	body := map[string]any{"deleted_tickets": out}
	addPageKeys(body, r, res)
	writeJSON(w, http.StatusOK, body)
	return nil
}
