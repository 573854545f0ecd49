package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/rules"
)

func triggerJSON(c *Call, t *rules.Trigger) map[string]any {
	return map[string]any{
		"url":         c.URL("/api/v2/triggers/" + strconv.FormatInt(t.ID, 10) + ".json"),
		"id":          t.ID,
		"title":       t.Title,
		"raw_title":   t.Title,
		"active":      t.Active,
		"updated_at":  ts(t.UpdatedAt),
		"created_at":  ts(t.CreatedAt),
		"default":     t.Default,
		"actions":     actionsJSON(t.Actions),
		"conditions":  conditionsJSON(t.Conditions),
		"description": nullStr(t.Description),
		"position":    t.Position,
		"category_id": nullStr(t.CategoryID),
	}
}

// categoryText reads category_id, which Zendesk keeps as a string (numbers accepted).
func categoryText(raw json.RawMessage, v *errs.Validation) string {
	s, ok := scalarText(raw)
	if !ok {
		v.Bad("category_id", "must be a string")
	}
	return strings.TrimSpace(s)
}

// applyTriggerIn copies a request body onto a trigger. Conditions and actions are
// replaced wholesale when sent, as Zendesk does.
func applyTriggerIn(in *ruleIn, t *rules.Trigger, creating bool) error {
	var v errs.Validation
	if in.Title.Set {
		t.Title = in.Title.Value
	}
	if in.Description.Set {
		t.Description = in.Description.Value
	}
	if in.Active.Set {
		t.Active = in.Active.Value
	}
	if in.Position.Set {
		t.Position = in.Position.Value
	}
	if present(in.CategoryID) {
		t.CategoryID = categoryText(in.CategoryID, &v)
	}
	if conds, ok := parseConditions(in, &v); ok {
		t.Conditions = conds
	} else if creating {
		v.Add("conditions", "BlankValue", "cannot be blank")
	}
	if present(in.Actions) {
		t.Actions = parseActions(in.Actions, &v)
	} else if creating {
		v.Add("actions", "BlankValue", "cannot be blank")
	}
	return v.Err()
}

func (a *rulesAPI) decodeTrigger(r *http.Request) (*ruleIn, error) {
	return a.decodeRule(r, "trigger")
}

func (a *rulesAPI) listTriggersOf(w http.ResponseWriter, r *http.Request, c *Call, list []*rules.Trigger) error {
	return writeRulePage(w, r, c, "triggers", list, func(t *rules.Trigger) ruleRow {
		return ruleRow{t.ID, t.Position, t.Title, t.CreatedAt, t.UpdatedAt}
	}, triggerJSON)
}

func (a *rulesAPI) listTriggers(activeOnly bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		list, err := rules.Triggers(r.Context(), a.s.db.R(), c.Acct.ID, activeOnly)
		if err != nil {
			return err
		}
		active, err := queryBool(r, "active")
		if err != nil {
			return err
		}
		cat := r.URL.Query().Get("category_id")
		kept := list[:0]
		for _, t := range list {
			if (active == nil || t.Active == *active) && (cat == "" || t.CategoryID == cat) {
				kept = append(kept, t)
			}
		}
		return a.listTriggersOf(w, r, c, kept)
	}
}

func (a *rulesAPI) searchTriggers(w http.ResponseWriter, r *http.Request, c *Call) error {
	q := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("query")))
	list, err := rules.Triggers(r.Context(), a.s.db.R(), c.Acct.ID, false)
	if err != nil {
		return err
	}
	active, err := queryBool(r, "active")
	if err != nil {
		return err
	}
	kept := list[:0]
	for _, t := range list {
		if strings.Contains(strings.ToLower(t.Title), q) && (active == nil || t.Active == *active) {
			kept = append(kept, t)
		}
	}
	return a.listTriggersOf(w, r, c, kept)
}

func (a *rulesAPI) triggerDefinitions(w http.ResponseWriter, r *http.Request, c *Call) error {
	conds, acts := rules.Definitions(rules.KindTrigger)
	cj := make([]map[string]any, len(conds))
	for i, d := range conds {
		ops := make([]map[string]any, len(d.Operators))
		for j, op := range d.Operators {
			ops[j] = map[string]any{"value": op, "title": strings.ReplaceAll(op, "_", " "), "terminal": op == "changed" || op == "not_changed" || op == "present" || op == "not_present"}
		}
		cj[i] = map[string]any{"subject": d.Field, "title": d.Field, "type": "list", "operators": ops, "nullable": false, "repeatable": true}
	}
	aj := make([]map[string]any, len(acts))
	for i, f := range acts {
		aj[i] = map[string]any{"subject": f, "title": f, "type": "text", "nullable": false, "repeatable": f == "notification_user" || f == "notification_group" || f == "share_ticket"}
	}
	writeJSON(w, http.StatusOK, map[string]any{"definitions": map[string]any{"actions": aj, "conditions_all": cj, "conditions_any": cj}})
	return nil
}

func (a *rulesAPI) showTrigger(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := rules.GetTrigger(r.Context(), a.s.db.R(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"trigger": triggerJSON(c, t)})
	return nil
}

func (a *rulesAPI) createTrigger(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := a.decodeTrigger(r)
	if err != nil {
		return err
	}
	t := &rules.Trigger{Active: true}
	if err := applyTriggerIn(in, t, true); err != nil {
		return err
	}
	if err := a.svc.CreateTrigger(r.Context(), c.Acct, t); err != nil {
		return err
	}
	writeCreatedRule(w, "trigger", triggerJSON(c, t))
	return nil
}

func (a *rulesAPI) updateTrigger(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in, err := a.decodeTrigger(r)
	if err != nil {
		return err
	}
	t, err := a.svc.UpdateTrigger(r.Context(), c.Acct, id, func(t *rules.Trigger) error { return applyTriggerIn(in, t, false) })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"trigger": triggerJSON(c, t)})
	return nil
}

// deleteTriggers deletes triggers (admins only, by route).
func (a *rulesAPI) deleteTriggers(r *http.Request, c *Call, list []int64) error {
	return a.svc.DeleteTriggers(r.Context(), c.Acct.ID, list)
}

func (a *rulesAPI) reorderTriggers(w http.ResponseWriter, r *http.Request, c *Call) error {
	var in struct {
		TriggerIDs []optID `json:"trigger_ids"`
	}
	if err := a.s.decode(r, &in); err != nil {
		return err
	}
	if len(in.TriggerIDs) == 0 {
		return errs.Invalidf("trigger_ids", "BlankValue", "list the triggers in their new order")
	}
	order := make([]int64, len(in.TriggerIDs))
	seen := map[int64]bool{}
	for i, x := range in.TriggerIDs {
		if seen[x.Value] {
			return errs.Invalidf("trigger_ids", "InvalidValue", "trigger %d is listed twice", x.Value)
		}
		seen[x.Value] = true
		order[i] = x.Value
	}
	if err := a.svc.ReorderTriggers(r.Context(), c.Acct.ID, order); err != nil {
		return err
	}
	list, err := rules.Triggers(r.Context(), a.s.db.R(), c.Acct.ID, false)
	if err != nil {
		return err
	}
	return a.listTriggersOf(w, r, c, list)
}

func (a *rulesAPI) updateManyTriggers(w http.ResponseWriter, r *http.Request, c *Call) error {
	var in struct {
		Triggers []struct {
			ID         optID           `json:"id"`
			Position   optID           `json:"position"`
			Active     optBool         `json:"active"`
			CategoryID json.RawMessage `json:"category_id"`
		} `json:"triggers"`
	}
	if err := a.s.decode(r, &in); err != nil {
		return err
	}
	if len(in.Triggers) == 0 {
		return errs.Invalidf("triggers", "BlankValue", "list the triggers to update")
	}
	if len(in.Triggers) > 100 {
		return errs.E(errs.TooMany, "Parameter triggers cannot specify more than 100 values")
	}
	var v errs.Validation
	changes := make([]rules.TriggerChange, len(in.Triggers))
	for i, t := range in.Triggers {
		ch := rules.TriggerChange{ID: t.ID.Value}
		if t.Position.Set {
			ch.Position = &t.Position.Value
		}
		if t.Active.Set {
			ch.Active = &t.Active.Value
		}
		if present(t.CategoryID) {
			s := categoryText(t.CategoryID, &v)
			ch.CategoryID = &s
		}
		changes[i] = ch
	}
	if err := v.Err(); err != nil {
		return err
	}
	list, err := a.svc.UpdateManyTriggers(r.Context(), c.Acct, changes)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(list))
	for i, t := range list {
		out[i] = triggerJSON(c, t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"triggers": out})
	return nil
}
