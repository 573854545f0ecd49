package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/testkit"
)

// TestProblemIncidents: incidents name their problem (problem_id); the problem lists
// them (GET /tickets/{id}/incidents.json) and says has_incidents; triggers, views and
// search use problem_id, declared once in the field registry; another account and end
// users cannot list a problem's incidents.
func TestProblemIncidents(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		ticketOf := func(subject, typ string, problem int64) int64 {
			body := map[string]any{"subject": subject, "comment": map[string]any{"body": subject}, "requester": map[string]any{"name": "Bob Buyer", "email": "bob@example.test"}}
			if typ != "" {
				body["type"] = typ
			}
			if problem != 0 {
				body["problem_id"] = problem
			}
			return testkit.ID(newTicket(t, a, ag, body), "id")
		}
		problem := ticketOf("Checkout is down", "problem", 0)
		// A trigger tags the incidents of this problem as they arrive.
		a.Do(t, a.Admin, "POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{"title": "Outage incidents",
			"conditions": map[string]any{"all": []any{map[string]any{"field": "problem_id", "operator": "is", "value": fmt.Sprint(problem)}}},
			"actions":    []any{map[string]any{"field": "current_tags", "value": "outage"}}}}).Want(t, http.StatusCreated)
		inc1 := ticketOf("Cannot pay", "incident", problem)
		inc2 := ticketOf("Card refused", "incident", problem)
		other := ticketOf("Where is my order", "question", 0)
		show := func(id int64) map[string]any {
			return a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d.json", id), nil).Want(t, http.StatusOK).Obj("ticket")
		}
		if tags := fmt.Sprint(show(inc1)["tags"]); !strings.Contains(tags, "outage") {
			t.Errorf("incident tags = %s, want outage (the problem_id trigger)", tags)
		}
		if tags := fmt.Sprint(show(other)["tags"]); strings.Contains(tags, "outage") {
			t.Errorf("unlinked ticket tagged: %s", tags)
		}
		if show(problem)["has_incidents"] != true || show(other)["has_incidents"] != false {
			t.Errorf("has_incidents: problem %v, other %v", show(problem)["has_incidents"], show(other)["has_incidents"])
		}
		idsOf := func(list []map[string]any) []int64 {
			var out []int64
			for _, x := range list {
				out = append(out, testkit.ID(x, "id"))
			}
			slices.Sort(out)
			return out
		}
		// The problem's incidents, offset and cursor pages.
		path := fmt.Sprintf("/api/v2/tickets/%d/incidents.json", problem)
		if got := idsOf(a.Do(t, ag, "GET", path, nil).Want(t, http.StatusOK).List("tickets")); !slices.Equal(got, []int64{inc1, inc2}) {
			t.Errorf("incidents = %v, want %d and %d", got, inc1, inc2)
		}
		pg := a.Do(t, ag, "GET", path+"?page[size]=1", nil).Want(t, http.StatusOK)
		if len(pg.List("tickets")) != 1 || pg.Obj("meta")["has_more"] != true {
			t.Errorf("first cursor page: %s", pg.Body)
		}
		if n := len(a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d/incidents.json", other), nil).Want(t, http.StatusOK).List("tickets")); n != 0 {
			t.Errorf("a question has %d incidents", n)
		}
		// Views: a condition on problem_id, and the incidents column sorts problems.
		prev := a.Do(t, ag, "POST", "/api/v2/views/preview.json", map[string]any{"view": map[string]any{"all": []any{
			map[string]any{"field": "type", "operator": "is", "value": "incident"},
			map[string]any{"field": "problem_id", "operator": "is", "value": fmt.Sprint(problem)}},
			"output": map[string]any{"columns": []string{"nice_id", "problem"}}}}).Want(t, http.StatusOK)
		if n := len(prev.List("rows")); n != 2 {
			t.Errorf("view on problem_id: %d rows, want 2: %s", n, prev.Body)
		}
		a.Do(t, ag, "POST", "/api/v2/views/preview.json", map[string]any{"view": map[string]any{"all": []any{
			map[string]any{"field": "status", "operator": "less_than", "value": "closed"}},
			"output": map[string]any{"columns": []string{"nice_id", "incidents"}, "sort_by": "incidents", "sort_order": "desc"}}}).Want(t, http.StatusOK)
		// problem_id must name a problem of the account.
		bad := a.Do(t, ag, "POST", "/api/v2/views/preview.json", map[string]any{"view": map[string]any{"all": []any{
			map[string]any{"field": "type", "operator": "is", "value": "incident"},
			map[string]any{"field": "problem_id", "operator": "is", "value": fmt.Sprint(other)}}}}).Want(t, http.StatusUnprocessableEntity)
		if !strings.Contains(string(bad.Body), "conditions.all[1].value") {
			t.Errorf("a question as problem_id: %s", bad.Body)
		}
		// Search: problem_id:N and problem_id:none.
		found := a.Do(t, ag, "GET", searchPath("/api/v2/search.json", fmt.Sprintf("type:ticket problem_id:%d", problem)), nil).Want(t, http.StatusOK)
		if got := idsOf(found.List("results")); !slices.Equal(got, []int64{inc1, inc2}) {
			t.Errorf("search problem_id = %v", got)
		}
		none := a.Do(t, ag, "GET", searchPath("/api/v2/search.json", "type:ticket problem_id:none"), nil).Want(t, http.StatusOK)
		if got := idsOf(none.List("results")); !slices.Equal(got, []int64{problem, other}) {
			t.Errorf("search problem_id:none = %v", got)
		}
		// Another account does not see them; end users do not list incidents.
		g := d.Account(t, "globex", account.Enterprise)
		ticketOfG := testkit.ID(newTicket(t, g, g.Admin, map[string]any{"subject": "Globex", "comment": map[string]any{"body": "x"}}), "id")
		if got := g.Do(t, g.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/incidents.json", ticketOfG), nil).Want(t, http.StatusOK).List("tickets"); len(got) != 0 {
			t.Errorf("globex sees acme's incidents: %v", got)
		}
		g.Do(t, g.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/incidents.json", problem+10), nil).Want(t, http.StatusNotFound)
		end := a.User(t, identity.EndUser, "carol@example.test", "Carol End")
		a.Do(t, end, "GET", path, nil).Want(t, http.StatusForbidden)
	})
}
