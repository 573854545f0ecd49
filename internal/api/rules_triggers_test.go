package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

func ruleTitles(list []map[string]any) []string {
	var out []string
	for _, x := range list {
		out = append(out, fmt.Sprint(x["title"]))
	}
	return out
}

// agreementRow records a sharing agreement of an account directly (the agreements API
// is tested with sharing).
func agreementRow(t *testing.T, a *testkit.Acct, direction string) int64 {
	t.Helper()
	var id int64
	err := a.Desk.DB.Write(t.Context(), func(tx *store.Tx) error {
		now := store.Micros(store.Now())
		return tx.QueryRowContext(t.Context(), `INSERT INTO sharing_agreements (account_id, uuid, access_key, direction, name, remote_url, local_url, status, created_at, updated_at)
			VALUES (?, ?, 'key', ?, 'Partner', 'local://partner/sharing', 'local://me/sharing', 'accepted', ?, ?) RETURNING id`,
			a.ID, fmt.Sprintf("uuid-%s-%d", a.Sub, now), direction, now, now).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestTriggerAPILifecycle(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		// A new account has the default triggers.
		list := a.Do(t, a.Admin, "GET", "/api/v2/triggers.json", nil).Want(t, http.StatusOK)
		if got := ruleTitles(list.List("triggers")); len(got) != len(rules.DefaultTriggers()) || !strings.Contains(got[0], "received request") {
			t.Fatalf("default triggers = %v", got)
		}
		// The rest of the test works with the first two (the requester notifications).
		var extra []string
		for _, tr := range list.List("triggers")[2:] {
			extra = append(extra, fmt.Sprint(testkit.ID(tr, "id")))
		}
		a.Do(t, a.Admin, "DELETE", "/api/v2/triggers/destroy_many.json?ids="+strings.Join(extra, ","), nil).Want(t, http.StatusNoContent)
		list = a.Do(t, a.Admin, "GET", "/api/v2/triggers.json", nil).Want(t, http.StatusOK)
		// Create: Zendesk's top-level "all" form, category id as a number.
		body := map[string]any{"trigger": map[string]any{
			"title": "Tag VIPs", "category_id": 6130869158682,
			"all":     []map[string]any{{"field": "update_type", "operator": "is", "value": "Create"}, {"field": "current_tags", "operator": "includes", "value": "vip"}},
			"actions": []map[string]any{{"field": "priority", "value": "urgent"}, {"field": "notification_user", "value": []string{"assignee_id", "VIP: {{ticket.title}}", "Look at #{{ticket.id}}"}}},
		}}
		cr := a.Do(t, a.Admin, "POST", "/api/v2/triggers.json", body).Want(t, http.StatusCreated)
		tr := cr.Obj("trigger")
		id := testkit.ID(tr, "id")
		if cr.Header.Get("Location") == "" || tr["category_id"] != "6130869158682" || tr["active"] != true || testkit.ID(tr, "position") != 3 {
			t.Fatalf("created trigger = %v", tr)
		}
		conds := tr["conditions"].(map[string]any)
		if len(conds["all"].([]any)) != 2 || len(conds["any"].([]any)) != 0 {
			t.Fatalf("conditions = %v", conds)
		}
		acts := tr["actions"].([]any)
		if v := acts[1].(map[string]any)["value"]; fmt.Sprint(v) != "[assignee_id VIP: {{ticket.title}} Look at #{{ticket.id}}]" {
			t.Fatalf("list action value = %v", v)
		}
		// Agents read triggers; only admins write them.
		a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/triggers/%d", id), nil).Want(t, http.StatusOK)
		a.Do(t, ag, "POST", "/api/v2/triggers", body).Want(t, http.StatusForbidden)
		a.Do(t, ag, "DELETE", fmt.Sprintf("/api/v2/triggers/%d", id), nil).Want(t, http.StatusForbidden)
		// It runs on the write path.
		tk := newTicket(t, a, ag, map[string]any{"subject": "Help", "tags": []string{"vip"}, "comment": map[string]any{"body": "Please"},
			"requester": map[string]any{"name": "Val", "email": "val@example.test"}})
		if tk["priority"] != "urgent" {
			t.Fatalf("priority = %v", tk["priority"])
		}
		audits := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", testkit.ID(tk, "id")), nil).Want(t, http.StatusOK).List("audits")
		var ruleChange, receipt bool
		for _, e := range audits[0]["events"].([]any) {
			ev := e.(map[string]any)
			via, _ := ev["via"].(map[string]any)
			if ev["field_name"] == "priority" && via != nil {
				src := via["source"].(map[string]any)
				from := src["from"].(map[string]any)
				ruleChange = via["channel"] == "rule" && src["rel"] == "trigger" && testkit.ID(from, "id") == id && from["title"] == "Tag VIPs" && from["deleted"] == false
			}
			if ev["type"] == "Notification" && strings.Contains(fmt.Sprint(ev["subject"]), "Re: Help") {
				receipt = true
			}
		}
		if !ruleChange || !receipt {
			t.Fatalf("create audit events = %v", audits[0]["events"])
		}
		// Update replaces conditions wholesale; other keys stay.
		up := a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/triggers/%d.json", id), map[string]any{"trigger": map[string]any{
			"conditions": map[string]any{"any": []map[string]any{{"field": "priority", "operator": "is", "value": "high"}}},
		}}).Want(t, http.StatusOK).Obj("trigger")
		conds = up["conditions"].(map[string]any)
		if len(conds["all"].([]any)) != 0 || len(conds["any"].([]any)) != 1 || up["title"] != "Tag VIPs" || len(up["actions"].([]any)) != 2 {
			t.Fatalf("updated = %v", up)
		}
		// update_many, reorder, active, search, definitions.
		defaults := list.List("triggers")
		order := []int64{testkit.ID(defaults[1], "id"), testkit.ID(defaults[0], "id"), id}
		mixed := a.Do(t, a.Admin, "PUT", "/api/v2/triggers/reorder.json", map[string]any{"trigger_ids": order}).Want(t, http.StatusUnprocessableEntity)
		if !strings.Contains(string(mixed.Body), "LimitOneCategory") {
			t.Fatalf("reorder across categories: %s", mixed.Body)
		}
		a.Do(t, a.Admin, "PUT", "/api/v2/triggers/update_many.json", map[string]any{"triggers": []map[string]any{{"id": id, "active": false, "position": 1, "category_id": nil}}}).Want(t, http.StatusOK)
		if got := ruleTitles(a.Do(t, a.Admin, "GET", "/api/v2/triggers/active.json", nil).List("triggers")); len(got) != 2 {
			t.Fatalf("active triggers = %v", got)
		}
		if got := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/triggers/%d", id), nil).Obj("trigger"); got["active"] != false || testkit.ID(got, "position") != 1 {
			t.Fatalf("after update_many = %v", got)
		}
		re := a.Do(t, a.Admin, "PUT", "/api/v2/triggers/reorder.json", map[string]any{"trigger_ids": order}).Want(t, http.StatusOK).List("triggers")
		if testkit.ID(re[0], "id") != order[0] || testkit.ID(re[2], "id") != id {
			t.Fatalf("after reorder = %v", ruleTitles(re))
		}
		a.Do(t, a.Admin, "PUT", "/api/v2/triggers/reorder.json", map[string]any{"trigger_ids": []int64{id, 999999}}).Want(t, http.StatusNotFound)
		if got := ruleTitles(a.Do(t, a.Admin, "GET", "/api/v2/triggers/search.json?query=vip", nil).List("triggers")); len(got) != 1 {
			t.Fatalf("search = %v", got)
		}
		defs := a.Do(t, ag, "GET", "/api/v2/triggers/definitions.json", nil).Want(t, http.StatusOK).Obj("definitions")
		if !strings.Contains(fmt.Sprint(defs["actions"]), "share_ticket") || !strings.Contains(fmt.Sprint(defs["conditions_all"]), "received_from") {
			t.Fatalf("definitions = %v", defs)
		}
		// Cursor pagination over triggers.
		page := a.Do(t, a.Admin, "GET", "/api/v2/triggers.json?page[size]=2", nil).Want(t, http.StatusOK)
		meta := page.Obj("meta")
		if len(page.List("triggers")) != 2 || meta["has_more"] != true {
			t.Fatalf("cursor page = %s", page.Body)
		}
		next := a.Do(t, a.Admin, "GET", "/api/v2/triggers.json?page[size]=2&page[after]="+fmt.Sprint(meta["after_cursor"]), nil).Want(t, http.StatusOK)
		if l := next.List("triggers"); len(l) != 1 || testkit.ID(l[0], "id") != id {
			t.Fatalf("second page = %s", next.Body)
		}
		// Delete one, then the rest in bulk.
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/triggers/%d", id), nil).Want(t, http.StatusNoContent)
		a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/triggers/%d", id), nil).Want(t, http.StatusNotFound)
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/triggers/destroy_many.json?ids=%d,%d", order[0], order[1]), nil).Want(t, http.StatusNoContent)
		if n := len(a.Do(t, a.Admin, "GET", "/api/v2/triggers.json", nil).List("triggers")); n != 0 {
			t.Fatalf("%d triggers left", n)
		}
		// Another account's triggers are out of reach.
		b := d.Account(t, "globex", account.Enterprise)
		theirs := testkit.ID(b.Do(t, b.Admin, "GET", "/api/v2/triggers.json", nil).List("triggers")[0], "id")
		a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/triggers/%d", theirs), nil).Want(t, http.StatusNotFound)
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/triggers/%d", theirs), map[string]any{"trigger": map[string]any{"title": "Mine"}}).Want(t, http.StatusNotFound)
	})
}

// TestTriggerAPIRefusesBadRules: each bad rule is a 422 naming the field at fault.
func TestTriggerAPIRefusesBadRules(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		b := d.Account(t, "globex", account.Enterprise)
		foreign := agreementRow(t, b, "outbound")
		okCond := map[string]any{"field": "update_type", "operator": "is", "value": "Create"}
		okAct := map[string]any{"field": "priority", "value": "high"}
		trig := func(all []any, acts []any) map[string]any {
			return map[string]any{"trigger": map[string]any{"title": "Bad", "conditions": map[string]any{"all": all, "any": []any{}}, "actions": acts}}
		}
		cases := []struct {
			name  string
			body  any
			field string
		}{
			{"unknown field", trig([]any{map[string]any{"field": "colour", "operator": "is", "value": "red"}}, []any{okAct}), "conditions.all[0].field"},
			{"bad operator", trig([]any{map[string]any{"field": "status", "operator": "roughly", "value": "open"}}, []any{okAct}), "conditions.all[0].operator"},
			{"wrong value type", trig([]any{map[string]any{"field": "status", "operator": "is", "value": map[string]any{"x": 1}}}, []any{okAct}), "conditions.all[0].value"},
			{"value of the wrong kind", trig([]any{map[string]any{"field": "group_id", "operator": "is", "value": "sales"}}, []any{okAct}), "conditions.all[0].value"},
			{"conditions not an object", map[string]any{"trigger": map[string]any{"title": "Bad", "conditions": "all", "actions": []any{okAct}}}, "conditions"},
			{"action value of the wrong type", trig([]any{okCond}, []any{map[string]any{"field": "status", "value": map[string]any{}}}), "actions[0].value"},
			{"agreement of another account", trig([]any{okCond}, []any{map[string]any{"field": "share_ticket", "value": fmt.Sprint(foreign)}}), "actions[0].value"},
			{"condition on another account's agreement", trig([]any{map[string]any{"field": "sent_to", "operator": "is", "value": foreign}}, []any{okAct}), "conditions.all[0].value"},
			{"oversized rule", trig([]any{okCond}, []any{map[string]any{"field": "comment_value", "value": strings.Repeat("lorem ipsum ", 6000)}}), "base"},
			{"missing title", map[string]any{"trigger": map[string]any{"conditions": map[string]any{"all": []any{okCond}}, "actions": []any{okAct}}}, "title"},
			{"missing actions", map[string]any{"trigger": map[string]any{"title": "No actions", "conditions": map[string]any{"all": []any{okCond}}}}, "actions"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := a.Do(t, a.Admin, "POST", "/api/v2/triggers.json", tc.body).Want(t, http.StatusUnprocessableEntity)
				details, _ := r.JSON["details"].(map[string]any)
				if r.JSON["error"] != "RecordInvalid" || details[tc.field] == nil {
					t.Fatalf("want details for %s: %s", tc.field, r.Body)
				}
			})
		}
		// Malformed JSON is a 400, not a 422.
		a.Do(t, a.Admin, "POST", "/api/v2/triggers.json", `{"trigger": {`).Want(t, http.StatusBadRequest)
	})
}

// TestTriggerAPISharePlan: share_ticket needs Enterprise; lower plans get a 403 naming it.
func TestTriggerAPISharePlan(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		pro := d.Account(t, "acme", account.Professional)
		out := agreementRow(t, pro, "outbound")
		body := map[string]any{"trigger": map[string]any{"title": "Share warranty claims",
			"conditions": map[string]any{"all": []any{
				map[string]any{"field": "update_type", "operator": "is", "value": "Create"},
				map[string]any{"field": "current_tags", "operator": "includes", "value": "warranty_claim"}}},
			"actions": []any{map[string]any{"field": "share_ticket", "value": fmt.Sprint(out)}}}}
		r := pro.Do(t, pro.Admin, "POST", "/api/v2/triggers.json", body).Want(t, http.StatusForbidden)
		if r.JSON["error"] != "PlanRequired" || r.JSON["required_plan"] != "enterprise" || !strings.Contains(fmt.Sprint(r.JSON["description"]), "Enterprise") {
			t.Fatalf("body = %s", r.Body)
		}
		ent := d.Account(t, "initech", account.Enterprise)
		entOut := agreementRow(t, ent, "outbound")
		body["trigger"].(map[string]any)["actions"] = []any{map[string]any{"field": "share_ticket", "value": entOut}}
		ent.Do(t, ent.Admin, "POST", "/api/v2/triggers.json", body).Want(t, http.StatusCreated)
	})
}
