package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/testkit"
)

// TestScheduleChoice: a ticket's SLA targets count in the schedule a trigger's
// set_schedule chose, else its organization's default, else the account's first.
func TestScheduleChoice(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Team)
		other := d.Account(t, "globex", account.Team)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes")
		sched := func(name string, ivs []map[string]any) int64 {
			return testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/business_hours/schedules.json", map[string]any{"schedule": map[string]any{
				"name": name, "time_zone": "UTC", "intervals": ivs}}).Want(t, http.StatusCreated).Obj("schedule"), "id")
		}
		always := sched("Always", []map[string]any{{"start_time": 0, "end_time": 10080}})
		slow := sched("One minute a week", []map[string]any{{"start_time": 0, "end_time": 1}})
		a.Do(t, a.Admin, "POST", "/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{"title": "All",
			"policy_metrics": []map[string]any{{"priority": "normal", "metric": "first_reply_time", "target": 60, "business_hours": true}}}}).Want(t, http.StatusCreated)
		orgID := testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/organizations.json", map[string]any{"organization": map[string]any{"name": "Initech"}}).Want(t, http.StatusCreated).Obj("organization"), "id")
		path := fmt.Sprintf("/api/v2/organizations/%d/schedule.json", orgID)
		// Bad input and roles: nothing changes.
		a.Do(t, a.Admin, "PUT", path, map[string]any{"schedule_id": 987654}).Want(t, http.StatusUnprocessableEntity)
		a.Do(t, a.Admin, "PUT", path, map[string]any{"schedule_id": -1}).Want(t, http.StatusUnprocessableEntity)
		a.Do(t, ag, "PUT", path, map[string]any{"schedule_id": slow}).Want(t, http.StatusForbidden)
		other.Do(t, other.Admin, "PUT", path, map[string]any{"schedule_id": slow}).Want(t, http.StatusNotFound)
		other.Do(t, other.Admin, "GET", path, nil).Want(t, http.StatusNotFound)
		if got := a.Do(t, ag, "GET", path, nil).Want(t, http.StatusOK).JSON; got["schedule_id"] != nil {
			t.Fatalf("after refused changes: %v", got)
		}
		if got := a.Do(t, a.Admin, "PUT", path, map[string]any{"schedule_id": slow}).Want(t, http.StatusOK).JSON; testkit.ID(got, "schedule_id") != slow {
			t.Fatalf("org schedule = %v", got)
		}
		a.Do(t, a.Admin, "POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{"title": "bad",
			"conditions": map[string]any{"all": []map[string]any{{"field": "update_type", "operator": "is", "value": "Create"}}},
			"actions":    []map[string]any{{"field": "set_schedule", "value": "abc"}}}}).Want(t, http.StatusUnprocessableEntity)
		a.Do(t, a.Admin, "POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{"title": "VIPs get round-the-clock hours",
			"conditions": map[string]any{"all": []map[string]any{{"field": "current_tags", "operator": "includes", "value": "vip"}}},
			"actions":    []map[string]any{{"field": "set_schedule", "value": fmt.Sprint(always)}}}}).Want(t, http.StatusCreated)

		breach := func(body map[string]any) (int64, time.Duration) {
			body["comment"] = map[string]any{"body": "help"}
			body["priority"] = "normal"
			id := testkit.ID(a.Do(t, ag, "POST", "/api/v2/tickets.json", map[string]any{"ticket": body}).Want(t, http.StatusCreated).Obj("ticket"), "id")
			tk := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d.json?include=slas", id), nil).Want(t, http.StatusOK).Obj("ticket")
			pm := tk["slas"].(map[string]any)["policy_metrics"].([]any)
			at, err := time.Parse(time.RFC3339, pm[0].(map[string]any)["breach_at"].(string))
			if err != nil {
				t.Fatal(err)
			}
			return id, time.Until(at)
		}
		if _, left := breach(map[string]any{"subject": "plain"}); left > 61*time.Minute {
			t.Fatalf("account default schedule: breach in %v, want an hour", left)
		}
		if _, left := breach(map[string]any{"subject": "org", "organization_id": orgID}); left < 30*24*time.Hour {
			t.Fatalf("organization's schedule (a minute a week): breach in %v, want months", left)
		}
		id, left := breach(map[string]any{"subject": "vip", "organization_id": orgID, "tags": []string{"vip"}})
		if left > 61*time.Minute {
			t.Fatalf("set_schedule: breach in %v, want an hour", left)
		}
		audits := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", id), nil).Want(t, http.StatusOK).List("audits")
		if ev := fmt.Sprint(audits[0]["events"]); !strings.Contains(ev, "schedule_id") {
			t.Fatalf("the schedule is not in the audit: %s", ev)
		}
		// Removing the organization's default returns its tickets to the account's.
		a.Do(t, a.Admin, "PUT", path, map[string]any{"schedule_id": nil}).Want(t, http.StatusOK)
		if _, left := breach(map[string]any{"subject": "org again", "organization_id": orgID}); left > 61*time.Minute {
			t.Fatalf("after removing the org default: breach in %v", left)
		}
	})
}
