package api

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/people"
)

// Audit logs (admins only): who changed a person's role, suspension or memberships, and
// when, as Zendesk's GET /api/v2/audit_logs answers, filtered by filter[source_type]
// (only "user" is recorded), filter[source_id], filter[actor_id] and filter[action].

type auditLogWire struct {
	URL               string `json:"url"`
	ID                int64  `json:"id"`
	ActorID           int64  `json:"actor_id"`
	ActorName         string `json:"actor_name"`
	SourceID          int64  `json:"source_id"`
	SourceType        string `json:"source_type"`
	SourceLabel       string `json:"source_label"`
	Action            string `json:"action"`
	ActionLabel       string `json:"action_label"`
	Field             string `json:"field"`
	ChangeDescription string `json:"change_description"`
	CreatedAt         any    `json:"created_at"`
}

var auditActionLabels = map[string]string{"create": "Created", "update": "Updated", "destroy": "Deleted"}

func (s *Server) listAuditLogs(w http.ResponseWriter, r *http.Request, c *Call) error {
	q := r.URL.Query()
	spec := listSpec{Cols: people.EventCols, From: "audit_logs", Where: "account_id = ?", Args: []any{c.Acct.ID}, IDCol: "id"}
	if v := q.Get("filter[source_type]"); v != "" {
		spec.Where += " AND source_type = ?"
		spec.Args = append(spec.Args, strings.ToLower(v))
	}
	if v := q.Get("filter[action]"); v != "" {
		spec.Where += " AND action = ?"
		spec.Args = append(spec.Args, strings.ToLower(v))
	}
	for _, f := range []struct{ param, col string }{{"filter[source_id]", "source_id"}, {"filter[actor_id]", "actor_id"}} {
		if v := q.Get(f.param); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return errs.E(errs.BadRequest, "%s must be a number, not %q", f.param, v)
			}
			spec.Where += " AND " + f.col + " = ?"
			spec.Args = append(spec.Args, n)
		}
	}
	list, res, err := peopleList(r.Context(), s.db.R(), r, spec, map[string]string{"id": "id", "created_at": "created_at"}, people.ScanEvent)
	if err != nil {
		return err
	}
	out, err := s.renderAuditLogs(r, c, list)
	if err != nil {
		return err
	}
	writePeopleList(w, r, "audit_logs", out, res, nil)
	return nil
}

func (s *Server) showAuditLog(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := people.ScanEvent(s.db.R().QueryRowContext(r.Context(), `SELECT `+people.EventCols+` FROM audit_logs WHERE account_id = ? AND id = ?`, c.Acct.ID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return errs.NotFoundf("audit log %d not found", id)
	}
	if err != nil {
		return fmt.Errorf("api: audit log: %w", err)
	}
	out, err := s.renderAuditLogs(r, c, []*people.Event{e})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"audit_log": out[0]})
	return nil
}

// renderAuditLogs renders events with the names of the people involved (one query).
func (s *Server) renderAuditLogs(r *http.Request, c *Call, list []*people.Event) ([]auditLogWire, error) {
	var uids []ids.User
	for _, e := range list {
		uids = append(uids, e.ActorID, ids.User(e.SourceID))
	}
	users, err := identity.GetMany(r.Context(), s.db.R(), c.Acct.ID, uids)
	if err != nil {
		return nil, err
	}
	names := map[ids.User]string{0: "System"}
	for _, u := range users {
		names[u.ID] = u.Name
	}
	out := make([]auditLogWire, 0, len(list))
	for _, e := range list {
		out = append(out, auditLogWire{
			URL: c.URL("/api/v2/audit_logs/" + strconv.FormatInt(e.ID, 10) + ".json"), ID: e.ID,
			ActorID: int64(e.ActorID), ActorName: names[e.ActorID],
			SourceID: e.SourceID, SourceType: e.SourceType, SourceLabel: names[ids.User(e.SourceID)],
			Action: e.Action, ActionLabel: auditActionLabels[e.Action], Field: e.Field,
			ChangeDescription: e.Description, CreatedAt: ts(e.CreatedAt),
		})
	}
	return out, nil
}
