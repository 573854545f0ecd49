package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/testkit"
)

func TestAutomationAPI(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Team)
		other := d.Account(t, "globex", account.Team)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		// A new account has Zendesk's default automations.
		list := a.Do(t, ag, "GET", "/api/v2/automations.json", nil).Want(t, http.StatusOK).List("automations")
		if got := ruleTitles(list); len(got) != 3 || !strings.Contains(got[0], "4 days") || !strings.Contains(got[1], "Pending") || !strings.Contains(got[2], "satisfaction") {
			t.Fatalf("default automations = %v", got)
		}
		body := map[string]any{"automation": map[string]any{
			"title": "Nudge on-hold tickets",
			"conditions": map[string]any{"all": []map[string]any{
				{"field": "status", "operator": "is", "value": "hold"}, {"field": "HOLD", "operator": "is", "value": "48"},
			}},
			"actions": []map[string]any{{"field": "priority", "value": "high"}, {"field": "notification_group", "value": []string{"group_id", "On hold", "#{{ticket.id}} waits"}}},
		}}
		cr := a.Do(t, a.Admin, "POST", "/api/v2/automations.json", body).Want(t, http.StatusCreated)
		au := cr.Obj("automation")
		id := testkit.ID(au, "id")
		if cr.Header.Get("Location") == "" || au["active"] != true || testkit.ID(au, "position") != 4 || au["raw_title"] != "Nudge on-hold tickets" {
			t.Fatalf("created automation = %v", au)
		}
		if _, ok := au["category_id"]; ok {
			t.Fatalf("automations have no category: %v", au)
		}
		path := fmt.Sprintf("/api/v2/automations/%d.json", id)
		// Agents read; admins write; other accounts do not see it.
		a.Do(t, ag, "GET", path, nil).Want(t, http.StatusOK)
		a.Do(t, ag, "POST", "/api/v2/automations.json", body).Want(t, http.StatusForbidden)
		a.Do(t, ag, "PUT", path, body).Want(t, http.StatusForbidden)
		a.Do(t, ag, "DELETE", path, nil).Want(t, http.StatusForbidden)
		other.Do(t, other.Admin, "GET", path, nil).Want(t, http.StatusNotFound)
		other.Do(t, other.Admin, "DELETE", path, nil).Want(t, http.StatusNotFound)
		// Update, deactivate with update_many, search, active list.
		up := a.Do(t, a.Admin, "PUT", path, map[string]any{"automation": map[string]any{"title": "Nudge held tickets"}}).Want(t, http.StatusOK).Obj("automation")
		if up["title"] != "Nudge held tickets" || len(up["actions"].([]any)) != 2 {
			t.Fatalf("updated = %v", up)
		}
		many := a.Do(t, a.Admin, "PUT", "/api/v2/automations/update_many.json", map[string]any{"automations": []map[string]any{{"id": id, "active": false, "position": 1}}}).Want(t, http.StatusOK).List("automations")
		if many[0]["active"] != false || testkit.ID(many[0], "position") != 1 {
			t.Fatalf("update_many = %v", many)
		}
		if got := ruleTitles(a.Do(t, ag, "GET", "/api/v2/automations/active.json", nil).Want(t, http.StatusOK).List("automations")); len(got) != 3 {
			t.Fatalf("active = %v", got)
		}
		if got := ruleTitles(a.Do(t, ag, "GET", "/api/v2/automations/search.json?query=held", nil).Want(t, http.StatusOK).List("automations")); len(got) != 1 {
			t.Fatalf("search = %v", got)
		}
		a.Do(t, a.Admin, "DELETE", path, nil).Want(t, http.StatusNoContent)
		a.Do(t, ag, "GET", path, nil).Want(t, http.StatusNotFound)
	})
}

// TestAutomationBadInput: each bad automation answers 422 naming the problem, and
// nothing is stored.
func TestAutomationBadInput(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Team)
		c := func(f, op, v string) map[string]any { return map[string]any{"field": f, "operator": op, "value": v} }
		act := func(f, v string) map[string]any { return map[string]any{"field": f, "value": v} }
		solved := c("status", "is", "solved")
		cases := []struct {
			name string
			all  []map[string]any
			acts []map[string]any
			want string
		}{
			{"no time condition", []map[string]any{solved}, []map[string]any{act("status", "closed")}, "time-based condition"},
			{"nothing nullifies", []map[string]any{solved, c("SOLVED", "greater_than", "24")}, []map[string]any{act("priority", "high")}, "stop firing"},
			{"tag added is not the one tested", []map[string]any{c("status", "is", "pending"), c("PENDING", "greater_than", "24"), c("current_tags", "not_includes", "a")},
				[]map[string]any{act("current_tags", "b")}, "stop firing"},
			{"trigger-only condition", []map[string]any{c("update_type", "is", "Create"), c("NEW", "is", "1")}, []map[string]any{act("priority", "high")}, "cannot be used in an automation"},
			{"changed operator", []map[string]any{c("status", "changed", ""), c("NEW", "is", "1")}, []map[string]any{act("priority", "high")}, "not an operator"},
			{"hours not a number", []map[string]any{solved, c("SOLVED", "greater_than", "four")}, []map[string]any{act("status", "closed")}, "whole number of hours"},
			{"negative hours", []map[string]any{solved, c("SOLVED", "greater_than", "-1")}, []map[string]any{act("status", "closed")}, "whole number of hours"},
			{"unknown time field", []map[string]any{solved, c("SOLVED_AT", "greater_than", "1")}, []map[string]any{act("status", "closed")}, "not a condition field"},
			{"no actions", []map[string]any{solved, c("SOLVED", "is", "1")}, []map[string]any{}, "at least one action"},
			{"bad action value", []map[string]any{solved, c("SOLVED", "is", "1")}, []map[string]any{act("status", "gone")}, "is not a status"},
		}
		for _, tc := range cases {
			r := a.Do(t, a.Admin, "POST", "/api/v2/automations.json", map[string]any{"automation": map[string]any{"title": tc.name, "all": tc.all, "actions": tc.acts}})
			r.Want(t, http.StatusUnprocessableEntity)
			if !strings.Contains(string(r.Body), tc.want) {
				t.Errorf("%s: body %s does not say %q", tc.name, r.Body, tc.want)
			}
		}
		a.Do(t, a.Admin, "POST", "/api/v2/automations.json", map[string]any{"title": "no envelope"}).Want(t, http.StatusUnprocessableEntity)
		if n := len(a.Do(t, a.Admin, "GET", "/api/v2/automations.json", nil).Want(t, http.StatusOK).List("automations")); n != 3 {
			t.Fatalf("%d automations after bad input, want the 3 defaults", n)
		}
	})
}
