package api

import (
	"context"
	"net/http"
	"strconv"

	"tandem/internal/errs"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

func (s *Server) fieldJSON(c *Call, f *ticket.Field) map[string]any {
	opts := make([]map[string]any, len(f.Options))
	for i, o := range f.Options {
		opts[i] = map[string]any{"id": int64(i + 1), "name": o.Name, "raw_name": o.Name, "value": o.Value, "default": false}
	}
	return map[string]any{
		"url": c.URL("/api/v2/ticket_fields/" + strconv.FormatInt(f.ID, 10) + ".json"), "id": f.ID, "type": f.Type,
		"title": f.Title, "raw_title": f.Title, "description": f.Description, "raw_description": f.Description,
		"agent_description": nil, "position": f.Position, "active": f.Active, "required": f.Required,
		"collapsed_for_agents": false, "regexp_for_validation": nil, "title_in_portal": f.Title, "raw_title_in_portal": f.Title,
		"visible_in_portal": false, "editable_in_portal": false, "required_in_portal": false, "tag": nil,
		"created_at": ts(f.CreatedAt), "updated_at": ts(f.UpdatedAt), "removable": true, "key": f.Key,
		"custom_field_options": opts,
	}
}

type fieldIn struct {
	Type        optStr                `json:"type"`
	Title       optStr                `json:"title"`
	Key         optStr                `json:"key"`
	Description optStr                `json:"description"`
	Active      optBool               `json:"active"`
	Required    optBool               `json:"required"`
	Position    optID                 `json:"position"`
	Options     *[]ticket.FieldOption `json:"custom_field_options"`
}

func (s *Server) listTicketFields(w http.ResponseWriter, r *http.Request, c *Call) error {
	fields, err := ticket.Fields(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(fields))
	for i, f := range fields {
		out[i] = s.fieldJSON(c, f)
	}
	body := map[string]any{"ticket_fields": out}
	showManyKeys(body, len(out))
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) showTicketField(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := ticket.GetField(r.Context(), s.db.R(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ticket_field": s.fieldJSON(c, f)})
	return nil
}

func applyFieldIn(f *ticket.Field, in *fieldIn) {
	if in.Title.Set {
		f.Title = in.Title.Value
	}
	if in.Key.Set {
		f.Key = in.Key.Value
	}
	if in.Description.Set {
		f.Description = in.Description.Value
	}
	if in.Active.Set {
		f.Active = in.Active.Value
	}
	if in.Required.Set {
		f.Required = in.Required.Value
	}
	if in.Position.Set {
		f.Position = in.Position.Value
	}
	if in.Options != nil {
		f.Options = *in.Options
	}
}

func (s *Server) createTicketField(w http.ResponseWriter, r *http.Request, c *Call) error {
	var env struct {
		Field *fieldIn `json:"ticket_field"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	if env.Field == nil {
		return errs.Invalidf("ticket_field", "BlankValue", "the body must be {\"ticket_field\": {...}}")
	}
	f := &ticket.Field{AccountID: c.Acct.ID, Type: env.Field.Type.Value, Active: true}
	applyFieldIn(f, env.Field)
	if !env.Field.Active.Set {
		f.Active = true
	}
	if err := s.db.Write(r.Context(), func(tx *store.Tx) error { return ticket.SaveField(r.Context(), tx, f) }); err != nil {
		return err
	}
	obj := s.fieldJSON(c, f)
	w.Header().Set("Location", obj["url"].(string))
	writeJSON(w, http.StatusCreated, map[string]any{"ticket_field": obj})
	return nil
}

func (s *Server) updateTicketField(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var env struct {
		Field *fieldIn `json:"ticket_field"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	if env.Field == nil {
		return errs.Invalidf("ticket_field", "BlankValue", "the body must be {\"ticket_field\": {...}}")
	}
	var f *ticket.Field
	err = s.db.Write(r.Context(), func(tx *store.Tx) error {
		var err error
		if f, err = ticket.GetField(r.Context(), tx, c.Acct.ID, id); err != nil {
			return err
		}
		applyFieldIn(f, env.Field)
		return ticket.SaveField(r.Context(), tx, f)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ticket_field": s.fieldJSON(c, f)})
	return nil
}

func (s *Server) deleteTicketField(w http.ResponseWriter, r *http.Request, c *Call) error {
	return s.removeByPathID(w, r, func(ctx context.Context, tx *store.Tx, id int64) error {
		return ticket.DeleteField(ctx, tx, c.Acct.ID, id)
	})
}
