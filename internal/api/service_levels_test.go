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

// TestServiceLevelsAPI: a schedule and a policy make new tickets carry SLA targets, shown
// with include=slas, moved by replies and status changes, and sorted on by the
// "Unsolved tickets by next breach" view; another account sees none of it.
func TestServiceLevelsAPI(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Team)
		other := d.Account(t, "globex", account.Team)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		week := []map[string]any{}
		for day := 0; day < 7; day++ { // open around the clock: business time is calendar time here
			week = append(week, map[string]any{"start_time": day * 1440, "end_time": (day + 1) * 1440})
		}
		sc := a.Do(t, a.Admin, "POST", "/api/v2/business_hours/schedules.json", map[string]any{"schedule": map[string]any{
			"name": "Always", "time_zone": "Europe/Paris", "intervals": week}}).Want(t, http.StatusCreated).Obj("schedule")
		sid := testkit.ID(sc, "id")
		a.Do(t, a.Admin, "POST", fmt.Sprintf("/api/v2/business_hours/schedules/%d/holidays.json", sid), map[string]any{"holiday": map[string]any{
			"name": "Christmas", "start_date": "2026-12-25", "end_date": "2026-12-26"}}).Want(t, http.StatusCreated)
		if h := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/business_hours/schedules/%d/holidays.json", sid), nil).Want(t, http.StatusOK).List("holidays"); len(h) != 1 {
			t.Fatalf("holidays = %v", h)
		}
		other.Do(t, other.Admin, "GET", fmt.Sprintf("/api/v2/business_hours/schedules/%d.json", sid), nil).Want(t, http.StatusNotFound)
		a.Do(t, ag, "POST", "/api/v2/business_hours/schedules.json", map[string]any{"schedule": map[string]any{"name": "x", "time_zone": "UTC"}}).Want(t, http.StatusForbidden)

		pol := a.Do(t, a.Admin, "POST", "/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{
			"title":  "Urgent",
			"filter": map[string]any{"all": []map[string]any{{"field": "priority", "operator": "is", "value": "urgent"}}, "any": []any{}},
			"policy_metrics": []map[string]any{
				{"priority": "urgent", "metric": "first_reply_time", "target": 60, "business_hours": true},
				{"priority": "urgent", "metric": "agent_work_time", "target": 240, "business_hours": false},
			},
		}}).Want(t, http.StatusCreated).Obj("sla_policy")
		if testkit.ID(pol, "position") != 1 || len(pol["policy_metrics"].([]any)) != 2 {
			t.Fatalf("policy = %v", pol)
		}
		other.Do(t, other.Admin, "GET", fmt.Sprintf("/api/v2/slas/policies/%d.json", testkit.ID(pol, "id")), nil).Want(t, http.StatusNotFound)

		mk := func(prio string) int64 {
			r := a.Do(t, ag, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": prio, "priority": prio,
				"comment": map[string]any{"body": "help"}, "requester": map[string]any{"name": "Val", "email": "val@example.test"}}}).Want(t, http.StatusCreated)
			return testkit.ID(r.Obj("ticket"), "id")
		}
		urgent, low := mk("urgent"), mk("low")
		slas := func(id int64) []map[string]any {
			tk := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d.json?include=slas", id), nil).Want(t, http.StatusOK).Obj("ticket")
			var out []map[string]any
			for _, m := range tk["slas"].(map[string]any)["policy_metrics"].([]any) {
				out = append(out, m.(map[string]any))
			}
			return out
		}
		got := slas(urgent)
		if len(got) != 2 || got[0]["metric"] != "first_reply_time" || got[0]["stage"] != "active" || got[1]["metric"] != "agent_work_time" {
			t.Fatalf("urgent ticket slas = %v", got)
		}
		breach, err := time.Parse(time.RFC3339, got[0]["breach_at"].(string))
		if err != nil || breach.Before(time.Now().Add(58*time.Minute)) || breach.After(time.Now().Add(61*time.Minute)) {
			t.Fatalf("first reply breach_at = %v, want about an hour from now", got[0]["breach_at"])
		}
		if got := slas(low); len(got) != 0 {
			t.Fatalf("low ticket slas = %v", got)
		}
		// The view of unsolved tickets by next breach puts the urgent ticket first.
		var viewID int64
		for _, v := range a.Do(t, ag, "GET", "/api/v2/views.json", nil).Want(t, http.StatusOK).List("views") {
			if v["title"] == "Unsolved tickets by next breach" {
				viewID = testkit.ID(v, "id")
			}
		}
		list := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/views/%d/tickets.json?include=slas", viewID), nil).Want(t, http.StatusOK).List("tickets")
		if len(list) != 2 || testkit.ID(list[0], "id") != urgent {
			t.Fatalf("view by next breach = %v", list)
		}
		// A public agent reply achieves the first reply target; pending pauses agent work.
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", urgent), map[string]any{"ticket": map[string]any{"status": "pending",
			"comment": map[string]any{"body": "Looking", "public": true}}}).Want(t, http.StatusOK)
		got = slas(urgent)
		if got[0]["stage"] != "achieved" || got[1]["stage"] != "paused" || got[1]["breach_at"] != nil {
			t.Fatalf("after the reply and pending: %v", got)
		}
		// Ticket metrics: one reply, answered within the minute, now waiting on the requester.
		tm := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d/metrics.json", urgent), nil).Want(t, http.StatusOK).Obj("ticket_metric")
		if tm["replies"] != float64(1) || tm["reply_time_in_minutes"].(map[string]any)["calendar"] != float64(0) || tm["full_resolution_time_in_minutes"].(map[string]any)["calendar"] != nil {
			t.Fatalf("ticket metrics = %v", tm)
		}
		if ms := a.Do(t, ag, "GET", "/api/v2/ticket_metrics.json", nil).Want(t, http.StatusOK).List("ticket_metrics"); len(ms) != 2 || testkit.ID(ms[0], "ticket_id") != low {
			t.Fatalf("ticket_metrics = %v", ms)
		}
		other.Do(t, other.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/metrics.json", urgent), nil).Want(t, http.StatusNotFound)
		// The list API serves include=slas too.
		tl := a.Do(t, ag, "GET", "/api/v2/tickets.json?include=slas", nil).Want(t, http.StatusOK).List("tickets")
		if _, ok := tl[0]["slas"]; !ok {
			t.Fatalf("list without slas: %v", tl[0])
		}
	})
}

// TestServiceLevelsBadInput: bad schedules and policies answer 422 naming the problem.
func TestServiceLevelsBadInput(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Team)
		cases := []struct {
			path string
			body map[string]any
			want string
		}{
			{"/api/v2/business_hours/schedules.json", map[string]any{"schedule": map[string]any{"name": "x", "time_zone": "Mars/Olympus"}}, "not a time zone"},
			{"/api/v2/business_hours/schedules.json", map[string]any{"schedule": map[string]any{"name": "x", "time_zone": "UTC",
				"intervals": []map[string]any{{"start_time": 540, "end_time": 1020}, {"start_time": 1000, "end_time": 1100}}}}, "overlap"},
			{"/api/v2/business_hours/schedules.json", map[string]any{"schedule": map[string]any{"name": "x", "time_zone": "UTC",
				"intervals": []map[string]any{{"start_time": 600, "end_time": 500}}}}, "must satisfy"},
			{"/api/v2/business_hours/schedules.json", map[string]any{"schedule": map[string]any{"time_zone": "UTC"}}, "name"},
			{"/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{"title": "x",
				"policy_metrics": []map[string]any{{"priority": "urgent", "metric": "first_reply_time", "target": 0}}}}, "1 to"},
			{"/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{"title": "x",
				"policy_metrics": []map[string]any{{"priority": "urgent", "metric": "first_reply_time", "target": -5}}}}, "is not a target"},
			{"/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{"title": "x",
				"policy_metrics": []map[string]any{{"priority": "soon", "metric": "first_reply_time", "target": 5}}}}, "not a priority"},
			{"/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{"title": "x",
				"policy_metrics": []map[string]any{{"priority": "low", "metric": "fastness", "target": 5}}}}, "not a metric"},
			{"/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{"title": "x",
				"filter": map[string]any{"all": []map[string]any{{"field": "NEW", "operator": "greater_than", "value": "1"}}}}}, "time condition"},
			{"/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{"title": "x",
				"filter": map[string]any{"all": []map[string]any{{"field": "group_id", "operator": "is", "value": "999"}}}}}, "does not exist"},
		}
		for _, tc := range cases {
			r := a.Do(t, a.Admin, "POST", tc.path, tc.body)
			r.Want(t, http.StatusUnprocessableEntity)
			if !strings.Contains(string(r.Body), tc.want) {
				t.Errorf("%v: %s does not say %q", tc.body, r.Body, tc.want)
			}
		}
		if n := len(a.Do(t, a.Admin, "GET", "/api/v2/slas/policies.json", nil).Want(t, http.StatusOK).List("sla_policies")); n != 0 {
			t.Fatalf("%d policies stored from bad input", n)
		}
	})
}
