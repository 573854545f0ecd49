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

func TestMacroAPI(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		other := a.User(t, identity.Agent, "other@acme.test", "Otto Other")
		body := map[string]any{"macro": map[string]any{"title": "Close and thank", "actions": []any{
			map[string]any{"field": "status", "value": "solved"},
			map[string]any{"field": "assignee_id", "value": "current_user"},
			map[string]any{"field": "current_tags", "value": "thanked"},
			map[string]any{"field": "comment_value", "value": "Thanks {{ticket.requester.first_name}}, ticket #{{ticket.id}} is solved."},
			map[string]any{"field": "comment_mode_is_public", "value": "true"},
		}}}
		a.Do(t, ag, "POST", "/api/v2/macros.json", body).Want(t, http.StatusForbidden) // shared macros: admins
		m := a.Do(t, a.Admin, "POST", "/api/v2/macros.json", body).Want(t, http.StatusCreated).Obj("macro")
		id := testkit.ID(m, "id")
		if len(m["actions"].([]any)) != 5 || m["restriction"] != nil || m["active"] != true {
			t.Fatalf("macro = %v", m)
		}
		if got := ruleTitles(a.Do(t, ag, "GET", "/api/v2/macros/active.json", nil).Want(t, http.StatusOK).List("macros")); len(got) != 1 {
			t.Fatalf("active macros = %v", got)
		}
		// Apply without a ticket: the changes, as a ticket update body, and the comment.
		res := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/macros/%d/apply.json", id), nil).Want(t, http.StatusOK).Obj("result")
		tk := res["ticket"].(map[string]any)
		if tk["status"] != "solved" || testkit.ID(tk, "assignee_id") != ag.UserID || fmt.Sprint(tk["additional_tags"]) != "[thanked]" {
			t.Fatalf("apply result = %v", res)
		}
		// Apply to a ticket: the whole ticket as it would be; nothing is written.
		tid := testkit.ID(newTicket(t, a, ag, map[string]any{"subject": "Where is my order", "tags": []string{"order"}, "comment": map[string]any{"body": "Late"},
			"requester": map[string]any{"name": "Rita Requester", "email": "rita@example.test"}}), "id")
		res = a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d/macros/%d/apply.json", tid, id), nil).Want(t, http.StatusOK).Obj("result")
		tk = res["ticket"].(map[string]any)
		cm := res["comment"].(map[string]any)
		if tk["status"] != "solved" || fmt.Sprint(tk["tags"]) != "[order thanked]" || testkit.ID(tk, "id") != tid || tk["subject"] != "Where is my order" {
			t.Fatalf("applied ticket = %v", tk)
		}
		if cm["body"] != fmt.Sprintf("Thanks Rita, ticket #%d is solved.", tid) || cm["public"] != true || !strings.Contains(fmt.Sprint(cm["html_body"]), "Thanks Rita") {
			t.Fatalf("applied comment = %v", cm)
		}
		if st := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d", tid), nil).Obj("ticket")["status"]; st != "new" {
			t.Fatalf("apply wrote the ticket: status %v", st)
		}
		// Personal macros: an agent's own, invisible to others.
		pm := testkit.ID(a.Do(t, ag, "POST", "/api/v2/macros.json", map[string]any{"macro": map[string]any{"title": "Mine",
			"restriction": map[string]any{"type": "User", "id": ag.UserID}, "actions": []any{map[string]any{"field": "priority", "value": "high"}}}}).Want(t, http.StatusCreated).Obj("macro"), "id")
		a.Do(t, other, "GET", fmt.Sprintf("/api/v2/macros/%d", pm), nil).Want(t, http.StatusNotFound)
		a.Do(t, other, "GET", fmt.Sprintf("/api/v2/tickets/%d/macros/%d/apply", tid, pm), nil).Want(t, http.StatusNotFound)
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/macros/%d", pm), map[string]any{"macro": map[string]any{"title": "Mine, renamed"}}).Want(t, http.StatusOK)
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/macros/%d", id), map[string]any{"macro": map[string]any{"title": "Hijacked"}}).Want(t, http.StatusForbidden)
		// Bad macros: trigger-only actions, statuses macros cannot set, unknown fields.
		for field, value := range map[string]any{"share_ticket": "1", "notification_user": []string{"requester_id", "s", "b"}, "status": "closed", "launch": "now"} {
			r := a.Do(t, a.Admin, "POST", "/api/v2/macros.json", map[string]any{"macro": map[string]any{"title": "Bad", "actions": []any{map[string]any{"field": field, "value": value}}}}).Want(t, http.StatusUnprocessableEntity)
			if !strings.Contains(string(r.Body), "actions[0]") {
				t.Fatalf("%s: %s", field, r.Body)
			}
		}
		// Delete.
		a.Do(t, ag, "DELETE", fmt.Sprintf("/api/v2/macros/%d", pm), nil).Want(t, http.StatusNoContent)
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/macros/destroy_many?ids=%d", id), nil).Want(t, http.StatusNoContent)
		if n := len(a.Do(t, a.Admin, "GET", "/api/v2/macros.json", nil).List("macros")); n != 0 {
			t.Fatalf("%d macros left", n)
		}
	})
}
