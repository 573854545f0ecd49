package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/testkit"
)

// TestDropDownFieldTags: a drop-down (tagger) field and its option's tag move together,
// as in Zendesk, whichever write path changes them: the API's custom_fields, tags,
// additional_tags and remove_tags, a trigger's actions (setting the field, adding a
// tag) and a macro (its preview shows the tag; submitting it stores both). On SQLite
// and PostgreSQL.
func TestDropDownFieldTags(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		field := testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/ticket_fields.json", map[string]any{"ticket_field": map[string]any{
			"type": "tagger", "title": "Product", "custom_field_options": []any{
				map[string]any{"name": "Widget", "value": "widget"}, map[string]any{"name": "Gadget", "value": "gadget"},
				map[string]any{"name": "Gizmo", "value": "gizmo"}}}}).Want(t, http.StatusCreated).Obj("ticket_field"), "id")
		// An option value becomes a tag, so it cannot hold a space.
		a.Do(t, a.Admin, "POST", "/api/v2/ticket_fields.json", map[string]any{"ticket_field": map[string]any{
			"type": "tagger", "title": "Bad", "custom_field_options": []any{map[string]any{"name": "Two words", "value": "two words"}}}}).Want(t, http.StatusUnprocessableEntity)

		// state reads a ticket's tags and the field's value.
		state := func(tk map[string]any) (tags []string, value any) {
			for _, x := range tk["tags"].([]any) {
				tags = append(tags, x.(string))
			}
			for _, cf := range tk["custom_fields"].([]any) {
				if m := cf.(map[string]any); testkit.ID(m, "id") == field {
					value = m["value"]
				}
			}
			return tags, value
		}
		want := func(step string, tk map[string]any, tags []string, value any) {
			t.Helper()
			gotTags, gotValue := state(tk)
			slices.Sort(gotTags)
			slices.Sort(tags)
			if !slices.Equal(gotTags, tags) || gotValue != value {
				t.Errorf("%s: tags %v, field %v; want tags %v, field %v", step, gotTags, gotValue, tags, value)
			}
		}
		update := func(id int64, body map[string]any) map[string]any {
			t.Helper()
			return a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": body}).Want(t, http.StatusOK).Obj("ticket")
		}
		set := func(v any) map[string]any {
			return map[string]any{"custom_fields": []any{map[string]any{"id": field, "value": v}}}
		}

		// The API: set, swap, clear the field; add, replace, remove the tag.
		tk := newTicket(t, a, ag, map[string]any{"subject": "Broken", "comment": map[string]any{"body": "It broke"}, "tags": []string{"vip"},
			"custom_fields": []any{map[string]any{"id": field, "value": "widget"}}})
		id := testkit.ID(tk, "id")
		want("create with the field", tk, []string{"vip", "widget"}, "widget")
		want("swap the field", update(id, set("gadget")), []string{"vip", "gadget"}, "gadget")
		want("clear the field", update(id, set(nil)), []string{"vip"}, nil)
		want("add the tag", update(id, map[string]any{"additional_tags": []string{"gizmo"}}), []string{"vip", "gizmo"}, "gizmo")
		want("another option's tag", update(id, map[string]any{"tags": []string{"vip", "gizmo", "widget"}}), []string{"vip", "widget"}, "widget")
		want("remove the tag", update(id, map[string]any{"remove_tags": []string{"widget"}}), []string{"vip"}, nil)
		want("create with the tag", newTicket(t, a, ag, map[string]any{"subject": "Tagged", "comment": map[string]any{"body": "x"}, "tags": []string{"gadget"}}),
			[]string{"gadget"}, "gadget")

		// A trigger's actions: setting the field adds its tag; adding a tag sets the field.
		a.Do(t, a.Admin, "POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{"title": "Chargers are gizmos",
			"conditions": map[string]any{"all": []any{map[string]any{"field": "subject_includes_word", "operator": "includes", "value": "charger"}}},
			"actions":    []any{map[string]any{"field": fmt.Sprintf("custom_fields_%d", field), "value": "gizmo"}}}}).Want(t, http.StatusCreated)
		a.Do(t, a.Admin, "POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{"title": "Cables are widgets",
			"conditions": map[string]any{"all": []any{map[string]any{"field": "subject_includes_word", "operator": "includes", "value": "cable"}}},
			"actions":    []any{map[string]any{"field": "current_tags", "value": "widget"}}}}).Want(t, http.StatusCreated)
		want("trigger sets the field", newTicket(t, a, ag, map[string]any{"subject": "charger", "comment": map[string]any{"body": "x"}, "tags": []string{"gadget"}}),
			[]string{"gizmo"}, "gizmo")
		want("trigger adds the tag", newTicket(t, a, ag, map[string]any{"subject": "cable", "comment": map[string]any{"body": "x"},
			"custom_fields": []any{map[string]any{"id": field, "value": "gadget"}}}), []string{"widget"}, "widget")

		// A macro: its preview on a ticket shows the tag, and its changes, submitted,
		// store both.
		mac := testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/macros.json", map[string]any{"macro": map[string]any{"title": "It is a gadget",
			"actions": []any{map[string]any{"field": fmt.Sprintf("custom_fields_%d", field), "value": "gadget"}}}}).Want(t, http.StatusCreated).Obj("macro"), "id")
		prev := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d/macros/%d/apply.json", id, mac), nil).Want(t, http.StatusOK)
		res, _ := prev.Obj("result")["ticket"].(map[string]any)
		want("macro preview", res, []string{"vip", "gadget"}, "gadget")
		want("macro submitted", update(id, map[string]any{"custom_fields": res["custom_fields"]}), []string{"vip", "gadget"}, "gadget")
	})
}
