package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/microcosm-cc/bluemonday"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/rules"
	"tandem/internal/ticket"
)

func macroJSON(c *Call, m *rules.Macro) map[string]any {
	return map[string]any{
		"url":         c.URL("/api/v2/macros/" + strconv.FormatInt(m.ID, 10) + ".json"),
		"id":          m.ID,
		"title":       m.Title,
		"raw_title":   m.Title,
		"description": nullStr(m.Description),
		"active":      m.Active,
		"position":    m.Position,
		"default":     m.Default,
		"actions":     actionsJSON(m.Actions),
		"restriction": restrictionJSON(m.Restriction),
		"created_at":  ts(m.CreatedAt),
		"updated_at":  ts(m.UpdatedAt),
	}
}

func applyMacroIn(in *ruleIn, m *rules.Macro, creating bool) error {
	var v errs.Validation
	if in.Title.Set {
		m.Title = in.Title.Value
	}
	if in.Description.Set {
		m.Description = in.Description.Value
	}
	if in.Active.Set {
		m.Active = in.Active.Value
	}
	if in.Position.Set {
		m.Position = in.Position.Value
	}
	if present(in.Restriction) {
		m.Restriction = parseRestriction(in.Restriction, &v)
	}
	if present(in.Actions) {
		m.Actions = parseActions(in.Actions, &v)
	} else if creating {
		v.Add("actions", "BlankValue", "cannot be blank")
	}
	return v.Err()
}

func (a *rulesAPI) decodeMacro(r *http.Request) (*ruleIn, error) {
	return a.decodeRule(r, "macro")
}

func (a *rulesAPI) visibleMacros(ctx context.Context, c *Call) ([]*rules.Macro, error) {
	aud, err := a.audience(ctx, c)
	if err != nil {
		return nil, err
	}
	list, err := rules.Macros(ctx, a.s.db.R(), c.Acct.ID)
	if err != nil {
		return nil, err
	}
	kept := list[:0]
	for _, m := range list {
		if aud.Sees(m.Restriction) {
			kept = append(kept, m)
		}
	}
	return kept, nil
}

func (a *rulesAPI) visibleMacro(ctx context.Context, c *Call, id int64) (*rules.Macro, rules.Audience, error) {
	aud, err := a.audience(ctx, c)
	if err != nil {
		return nil, aud, err
	}
	m, err := rules.GetMacro(ctx, a.s.db.R(), c.Acct.ID, id)
	if err != nil {
		return nil, aud, err
	}
	if !aud.Sees(m.Restriction) {
		return nil, aud, errs.NotFoundf("macro %d not found", id)
	}
	return m, aud, nil
}

func (a *rulesAPI) listMacros(activeOnly bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		list, err := a.visibleMacros(r.Context(), c)
		if err != nil {
			return err
		}
		active, err := queryBool(r, "active")
		if err != nil {
			return err
		}
		if activeOnly {
			t := true
			active = &t
		}
		q := r.URL.Query()
		access := q.Get("access")
		group, _ := strconv.ParseInt(q.Get("group_id"), 10, 64)
		query := strings.ToLower(strings.TrimSpace(q.Get("query")))
		kept := list[:0]
		for _, m := range list {
			rs := m.Restriction
			switch {
			case active != nil && m.Active != *active,
				access == "personal" && (rs == nil || rs.Type != "User"),
				access == "shared" && (rs == nil || rs.Type != "Group"),
				access == "account" && rs != nil,
				group != 0 && (rs == nil || rs.Type != "Group" || !containsID(rs.IDs, group)),
				query != "" && !strings.Contains(strings.ToLower(m.Title), query):
				continue
			}
			kept = append(kept, m)
		}
		return writeRulePage(w, r, c, "macros", kept, func(m *rules.Macro) ruleRow {
			return ruleRow{m.ID, m.Position, m.Title, m.CreatedAt, m.UpdatedAt}
		}, macroJSON)
	}
}

func (a *rulesAPI) searchMacros(w http.ResponseWriter, r *http.Request, c *Call) error {
	return a.listMacros(false)(w, r, c)
}

func (a *rulesAPI) showMacro(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	m, _, err := a.visibleMacro(r.Context(), c, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"macro": macroJSON(c, m)})
	return nil
}

func (a *rulesAPI) createMacro(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := a.decodeMacro(r)
	if err != nil {
		return err
	}
	m := &rules.Macro{Active: true}
	if err := applyMacroIn(in, m, true); err != nil {
		return err
	}
	aud, err := a.audience(r.Context(), c)
	if err != nil {
		return err
	}
	if !aud.Edits(m.Restriction) {
		return editDenied("macros")
	}
	if err := a.svc.CreateMacro(r.Context(), c.Acct, m); err != nil {
		return err
	}
	writeCreatedRule(w, "macro", macroJSON(c, m))
	return nil
}

func (a *rulesAPI) updateMacro(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	_, aud, err := a.visibleMacro(r.Context(), c, id)
	if err != nil {
		return err
	}
	in, err := a.decodeMacro(r)
	if err != nil {
		return err
	}
	m, err := a.svc.UpdateMacro(r.Context(), c.Acct, id, func(m *rules.Macro) error {
		if !aud.Edits(m.Restriction) {
			return editDenied("macros")
		}
		if err := applyMacroIn(in, m, false); err != nil {
			return err
		}
		if !aud.Edits(m.Restriction) {
			return editDenied("macros")
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"macro": macroJSON(c, m)})
	return nil
}

func (a *rulesAPI) deleteMacrosChecked(r *http.Request, c *Call, list []int64) error {
	aud, err := a.audience(r.Context(), c)
	if err != nil {
		return err
	}
	return a.svc.DeleteMacros(r.Context(), c.Acct.ID, list, guardListed[*rules.Macro](aud, "macro"))
}

func (a *rulesAPI) updateManyMacros(w http.ResponseWriter, r *http.Request, c *Call) error {
	changes, err := a.positionChanges(r, "macros")
	if err != nil {
		return err
	}
	aud, err := a.audience(r.Context(), c)
	if err != nil {
		return err
	}
	list, err := a.svc.UpdateManyMacros(r.Context(), c.Acct.ID, changes, guardListed[*rules.Macro](aud, "macro"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(list))
	for i, m := range list {
		out[i] = macroJSON(c, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"macros": out})
	return nil
}

// macroHTML sanitises a macro's HTML comment for the preview (the write path sanitises
// again when the comment is submitted).
var macroHTML = bluemonday.UGCPolicy()

// changesJSON renders the fields a macro sets as a ticket update body, so a client can
// PUT it as is.
func changesJSON(p *ticket.Patch) map[string]any {
	out := map[string]any{}
	if p.Status != nil {
		out["status"] = string(*p.Status)
	}
	if p.Priority != nil {
		out["priority"] = nullStr(*p.Priority)
	}
	if p.Type != nil {
		out["type"] = nullStr(*p.Type)
	}
	if p.Subject != nil {
		out["subject"] = *p.Subject
	}
	if p.GroupID != nil {
		out["group_id"] = nullID(*p.GroupID)
	}
	if p.AssigneeID != nil {
		out["assignee_id"] = nullID(*p.AssigneeID)
	}
	if p.Tags != nil {
		out["tags"] = strList(*p.Tags)
	}
	if len(p.AddTags) > 0 {
		out["additional_tags"] = p.AddTags
	}
	if len(p.RemoveTags) > 0 {
		out["remove_tags"] = p.RemoveTags
	}
	if len(p.CustomFields) > 0 {
		var cf []map[string]any
		for id, v := range p.CustomFields {
			cf = append(cf, map[string]any{"id": id, "value": v})
		}
		out["custom_fields"] = cf
	}
	return out
}

func macroCommentJSON(c *ticket.CommentInput) any {
	if c == nil {
		return nil
	}
	public := c.Public == nil || *c.Public
	if c.HTMLBody != "" {
		h := macroHTML.Sanitize(c.HTMLBody)
		body := c.Body
		if body == "" {
			body = ticket.PlainText(h)
		}
		return map[string]any{"body": body, "html_body": h, "public": public, "scoped_body": [][]string{{"channel:all", body}}}
	}
	return map[string]any{"body": c.Body, "html_body": ticket.TextToHTML(c.Body), "public": public, "scoped_body": [][]string{{"channel:all", c.Body}}}
}

func (a *rulesAPI) applyMacro(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	m, _, err := a.visibleMacro(r.Context(), c, id)
	if err != nil {
		return err
	}
	res := rules.ApplyMacro(r.Context(), a.s.db.R(), c.Acct, m, nil, c.User.ID, nil)
	result := map[string]any{"ticket": changesJSON(&res.Changes)}
	if res.Comment != nil {
		result["comment"] = macroCommentJSON(res.Comment)
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": result})
	return nil
}

func (a *rulesAPI) applyMacroToTicket(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	tid, err := pathID(r, "tid")
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := a.s.db.R()
	t, _, err := ticket.GetVisible(ctx, q, c.Acct.ID, c.Actor(), ids.Ticket(tid))
	if err != nil {
		return err
	}
	m, _, err := a.visibleMacro(ctx, c, id)
	if err != nil {
		return err
	}
	res := rules.ApplyMacro(ctx, q, c.Acct, m, t, c.User.ID, func(_ *account.Account, id ids.Ticket) string {
		return c.URL("/agent/tickets/" + strconv.FormatInt(int64(id), 10))
	})
	obj, err := a.s.renderTicket(ctx, q, c, res.Ticket, false)
	if err != nil {
		return err
	}
	result := map[string]any{"ticket": obj}
	if res.Comment != nil {
		result["comment"] = macroCommentJSON(res.Comment)
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": result})
	return nil
}
