package api

import (
	"net/http"
	"strconv"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/rules"
)

// automationRoutes serves /api/v2/automations in Zendesk's shape: a trigger's object
// without a category. Agents read them, admins change them.
func (a *rulesAPI) automationRoutes(mux *routeMux) {
	s := a.s
	mux.HandleFunc("GET /api/v2/automations", s.h(agent, a.listAutomations(false)))
	mux.HandleFunc("GET /api/v2/automations/active", s.h(agent, a.listAutomations(true)))
	mux.HandleFunc("GET /api/v2/automations/search", s.h(agent, a.searchAutomations))
	mux.HandleFunc("POST /api/v2/automations", s.h(admin, a.createAutomation))
	mux.HandleFunc("PUT /api/v2/automations/update_many", s.h(admin, a.updateManyAutomations))
	mux.HandleFunc("DELETE /api/v2/automations/destroy_many", s.h(admin, deleteMany(a.deleteAutomations)))
	mux.HandleFunc("GET /api/v2/automations/{id}", s.h(agent, a.showAutomation))
	mux.HandleFunc("PUT /api/v2/automations/{id}", s.h(admin, a.updateAutomation))
	mux.HandleFunc("DELETE /api/v2/automations/{id}", s.h(admin, deleteOne(a.deleteAutomations)))
}

func automationJSON(c *Call, x *rules.Automation) map[string]any {
	return map[string]any{
		"url":         c.URL("/api/v2/automations/" + strconv.FormatInt(x.ID, 10) + ".json"),
		"id":          x.ID,
		"title":       x.Title,
		"raw_title":   x.Title,
		"active":      x.Active,
		"updated_at":  ts(x.UpdatedAt),
		"created_at":  ts(x.CreatedAt),
		"default":     x.Default,
		"actions":     actionsJSON(x.Actions),
		"conditions":  conditionsJSON(x.Conditions),
		"description": nullStr(x.Description),
		"position":    x.Position,
	}
}

// applyAutomationIn copies a request body onto an automation; conditions and actions
// are replaced wholesale when sent.
func applyAutomationIn(in *ruleIn, x *rules.Automation, creating bool) error {
	var v errs.Validation
	if in.Title.Set {
		x.Title = in.Title.Value
	}
	if in.Description.Set {
		x.Description = in.Description.Value
	}
	if in.Active.Set {
		x.Active = in.Active.Value
	}
	if in.Position.Set {
		x.Position = in.Position.Value
	}
	if conds, ok := parseConditions(in, &v); ok {
		x.Conditions = conds
	} else if creating {
		v.Add("conditions", "BlankValue", "cannot be blank")
	}
	if present(in.Actions) {
		x.Actions = parseActions(in.Actions, &v)
	} else if creating {
		v.Add("actions", "BlankValue", "cannot be blank")
	}
	return v.Err()
}

func (a *rulesAPI) decodeAutomation(r *http.Request) (*ruleIn, error) {
	return a.decodeRule(r, "automation")
}

func (a *rulesAPI) listAutomationsOf(w http.ResponseWriter, r *http.Request, c *Call, list []*rules.Automation) error {
	return writeRulePage(w, r, c, "automations", list, func(x *rules.Automation) ruleRow {
		return ruleRow{x.ID, x.Position, x.Title, x.CreatedAt, x.UpdatedAt}
	}, automationJSON)
}

// filterAutomations keeps those whose title contains q (any when q is empty) and whose
// active flag is the ?active= asked for.
func (a *rulesAPI) filterAutomations(r *http.Request, c *Call, activeOnly bool, q string) ([]*rules.Automation, error) {
	list, err := rules.Automations(r.Context(), a.s.db.R(), c.Acct.ID, activeOnly)
	if err != nil {
		return nil, err
	}
	active, err := queryBool(r, "active")
	if err != nil {
		return nil, err
	}
	kept := list[:0]
	for _, x := range list {
		if strings.Contains(strings.ToLower(x.Title), q) && (active == nil || x.Active == *active) {
			kept = append(kept, x)
		}
	}
	return kept, nil
}

func (a *rulesAPI) listAutomations(activeOnly bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		list, err := a.filterAutomations(r, c, activeOnly, "")
		if err != nil {
			return err
		}
		return a.listAutomationsOf(w, r, c, list)
	}
}

func (a *rulesAPI) searchAutomations(w http.ResponseWriter, r *http.Request, c *Call) error {
	list, err := a.filterAutomations(r, c, false, strings.ToLower(strings.TrimSpace(r.URL.Query().Get("query"))))
	if err != nil {
		return err
	}
	return a.listAutomationsOf(w, r, c, list)
}

func (a *rulesAPI) showAutomation(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	x, err := rules.GetAutomation(r.Context(), a.s.db.R(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"automation": automationJSON(c, x)})
	return nil
}

func (a *rulesAPI) createAutomation(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := a.decodeAutomation(r)
	if err != nil {
		return err
	}
	x := &rules.Automation{Active: true}
	if err := applyAutomationIn(in, x, true); err != nil {
		return err
	}
	if err := a.svc.CreateAutomation(r.Context(), c.Acct, x); err != nil {
		return err
	}
	writeCreatedRule(w, "automation", automationJSON(c, x))
	return nil
}

func (a *rulesAPI) updateAutomation(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in, err := a.decodeAutomation(r)
	if err != nil {
		return err
	}
	x, err := a.svc.UpdateAutomation(r.Context(), c.Acct, id, func(x *rules.Automation) error { return applyAutomationIn(in, x, false) })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"automation": automationJSON(c, x)})
	return nil
}

func (a *rulesAPI) deleteAutomations(r *http.Request, c *Call, list []int64) error {
	return a.svc.DeleteAutomations(r.Context(), c.Acct.ID, list)
}

func (a *rulesAPI) updateManyAutomations(w http.ResponseWriter, r *http.Request, c *Call) error {
	var in struct {
		Automations []struct {
			ID       optID   `json:"id"`
			Position optID   `json:"position"`
			Active   optBool `json:"active"`
		} `json:"automations"`
	}
	if err := a.s.decode(r, &in); err != nil {
		return err
	}
	if len(in.Automations) == 0 {
		return errs.Invalidf("automations", "BlankValue", "list the automations to update")
	}
	if len(in.Automations) > 100 {
		return errs.E(errs.TooMany, "Parameter automations cannot specify more than 100 values")
	}
	changes := make([]rules.AutomationChange, len(in.Automations))
	for i, x := range in.Automations {
		ch := rules.AutomationChange{ID: x.ID.Value}
		if x.Position.Set {
			ch.Position = &x.Position.Value
		}
		if x.Active.Set {
			ch.Active = &x.Active.Value
		}
		changes[i] = ch
	}
	list, err := a.svc.UpdateManyAutomations(r.Context(), c.Acct, changes)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(list))
	for i, x := range list {
		out[i] = automationJSON(c, x)
	}
	writeJSON(w, http.StatusOK, map[string]any{"automations": out})
	return nil
}
