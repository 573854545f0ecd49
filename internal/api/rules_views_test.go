package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// viewByTitle finds a view the caller sees.
func viewByTitle(t *testing.T, a *testkit.Acct, cred testkit.Cred, title string) int64 {
	t.Helper()
	for _, v := range a.Do(t, cred, "GET", "/api/v2/views.json", nil).Want(t, http.StatusOK).List("views") {
		if v["title"] == title {
			return testkit.ID(v, "id")
		}
	}
	t.Fatalf("no view %q", title)
	return 0
}

// viewTicketIDs executes a view and returns its ticket ids in order.
func viewTicketIDs(t *testing.T, a *testkit.Acct, cred testkit.Cred, id int64) []int64 {
	t.Helper()
	var out []int64
	for _, tk := range a.Do(t, cred, "GET", fmt.Sprintf("/api/v2/views/%d/tickets.json", id), nil).Want(t, http.StatusOK).List("tickets") {
		out = append(out, testkit.ID(tk, "id"))
	}
	return out
}

func TestViewAPI(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		other := a.User(t, identity.Agent, "other@acme.test", "Otto Other")
		// The defaults, sharing views included.
		views := a.Do(t, ag, "GET", "/api/v2/views.json", nil).Want(t, http.StatusOK)
		want := []string{"Your unsolved tickets", "Unassigned tickets", "All unsolved tickets", "Recently updated tickets", "Pending tickets",
			"Tickets shared with partners", "Tickets received from partners", "Shared in the last 24 hours", "Orphaned tickets", "Waiting on partners", "Unsolved tickets by next breach"}
		if got := ruleTitles(views.List("views")); !slices.Equal(got, want) || testkit.ID(views.JSON, "count") != 11 {
			t.Fatalf("default views = %v", got)
		}
		// Tickets: two assigned to the agent, one unassigned, one solved, one tagged.
		mk := func(subject string, extra map[string]any) int64 {
			body := map[string]any{"subject": subject, "comment": map[string]any{"body": subject}, "requester": map[string]any{"name": "Rita", "email": "rita@example.test"}}
			for k, v := range extra {
				body[k] = v
			}
			return testkit.ID(newTicket(t, a, ag, body), "id")
		}
		t1 := mk("Mine 1", map[string]any{"assignee_id": ag.UserID, "priority": "low"})
		t2 := mk("Mine 2", map[string]any{"assignee_id": ag.UserID, "priority": "urgent", "tags": []string{"vip"}})
		t3 := mk("Nobody's", nil)
		t4 := mk("Done", map[string]any{"assignee_id": ag.UserID, "status": "solved"})
		mine := viewByTitle(t, a, ag, "Your unsolved tickets")
		if got := viewTicketIDs(t, a, ag, mine); !slices.Equal(got, []int64{t2, t1}) { // updated, newest first
			t.Fatalf("your unsolved = %v", got)
		}
		if got := viewTicketIDs(t, a, other, mine); len(got) != 0 {
			t.Fatalf("another agent's 'your unsolved' = %v", got)
		}
		if got := viewTicketIDs(t, a, ag, viewByTitle(t, a, ag, "Unassigned tickets")); !slices.Equal(got, []int64{t3}) {
			t.Fatalf("unassigned = %v", got)
		}
		// Execute: rows with the columns, and offset pagination keys.
		ex := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/views/%d/execute.json?per_page=1", mine), nil).Want(t, http.StatusOK)
		rows := ex.List("rows")
		if len(rows) != 1 || testkit.ID(rows[0], "requester_id") == 0 || rows[0]["subject"] != "Mine 2" || testkit.ID(ex.JSON, "count") != 2 || ex.JSON["next_page"] == nil {
			t.Fatalf("execute = %s", ex.Body)
		}
		if cols := ex.List("columns"); len(cols) != 6 || cols[1]["title"] != "Subject" {
			t.Fatalf("columns = %v", cols)
		}
		// Sorting by a column, with cursor pages.
		sorted := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/views/%d/tickets.json?sort_by=priority&sort_order=asc", mine), nil).Want(t, http.StatusOK)
		if l := sorted.List("tickets"); len(l) != 2 || testkit.ID(l[0], "id") != t1 {
			t.Fatalf("sorted by priority = %s", sorted.Body)
		}
		all := viewByTitle(t, a, ag, "All unsolved tickets")
		p1 := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/views/%d/tickets.json?page[size]=2", all), nil).Want(t, http.StatusOK)
		meta := p1.Obj("meta")
		p2 := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/views/%d/tickets.json?page[size]=2&page[after]=%s", all, meta["after_cursor"]), nil).Want(t, http.StatusOK)
		if len(p1.List("tickets")) != 2 || meta["has_more"] != true || len(p2.List("tickets")) != 1 || p2.Obj("meta")["has_more"] != false {
			t.Fatalf("cursor pages: %s / %s", p1.Body, p2.Body)
		}
		// Counts.
		cnt := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/views/%d/count.json", all), nil).Want(t, http.StatusOK).Obj("view_count")
		if testkit.ID(cnt, "value") != 3 || testkit.ID(cnt, "view_id") != all || cnt["fresh"] != true {
			t.Fatalf("count = %v", cnt)
		}
		many := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/views/count_many.json?ids=%d,%d", all, mine), nil).Want(t, http.StatusOK).List("view_counts")
		if len(many) != 2 || testkit.ID(many[1], "value") != 2 {
			t.Fatalf("count_many = %v", many)
		}
		// A shared view needs an admin; an agent may keep personal views.
		shared := map[string]any{"view": map[string]any{"title": "VIPs", "all": []any{
			map[string]any{"field": "status", "operator": "less_than", "value": "closed"},
			map[string]any{"field": "current_tags", "operator": "includes", "value": "vip"}},
			"output": map[string]any{"columns": []string{"nice_id", "description", "priority"}, "sort_by": "created", "sort_order": "desc"}}}
		a.Do(t, ag, "POST", "/api/v2/views.json", shared).Want(t, http.StatusForbidden)
		vip := a.Do(t, a.Admin, "POST", "/api/v2/views.json", shared).Want(t, http.StatusCreated).Obj("view")
		exec := vip["execution"].(map[string]any)
		if exec["sort_by"] != "created" || len(exec["columns"].([]any)) != 3 {
			t.Fatalf("created view = %v", vip)
		}
		if got := viewTicketIDs(t, a, ag, testkit.ID(vip, "id")); !slices.Equal(got, []int64{t2}) {
			t.Fatalf("vip view = %v", got)
		}
		personal := map[string]any{"view": map[string]any{"title": "My urgent", "restriction": map[string]any{"type": "User", "id": ag.UserID},
			"conditions": map[string]any{"all": []any{map[string]any{"field": "assignee_id", "operator": "is", "value": "current_user"}},
				"any": []any{map[string]any{"field": "priority", "operator": "is", "value": "urgent"}}}}}
		pv := testkit.ID(a.Do(t, ag, "POST", "/api/v2/views.json", personal).Want(t, http.StatusCreated).Obj("view"), "id")
		a.Do(t, other, "GET", fmt.Sprintf("/api/v2/views/%d", pv), nil).Want(t, http.StatusNotFound)
		a.Do(t, other, "DELETE", fmt.Sprintf("/api/v2/views/%d", pv), nil).Want(t, http.StatusNotFound)
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/views/%d", pv), map[string]any{"view": map[string]any{"title": "My urgent ones"}}).Want(t, http.StatusOK)
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/views/%d", pv), map[string]any{"view": map[string]any{"restriction": nil}}).Want(t, http.StatusForbidden)
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/views/%d", all), map[string]any{"view": map[string]any{"title": "Mine now"}}).Want(t, http.StatusForbidden)
		if got := viewTicketIDs(t, a, ag, pv); !slices.Equal(got, []int64{t2}) {
			t.Fatalf("personal view = %v", got)
		}
		// A group's view: its members see it, others do not.
		var group int64
		if err := a.Desk.DB.Write(t.Context(), func(tx *store.Tx) error {
			now := store.Micros(store.Now())
			if err := tx.QueryRowContext(t.Context(), `INSERT INTO groups (account_id, name, created_at, updated_at) VALUES (?, 'Tier 2', ?, ?) RETURNING id`, a.ID, now, now).Scan(&group); err != nil {
				return err
			}
			_, err := tx.ExecContext(t.Context(), `INSERT INTO group_memberships (account_id, user_id, group_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, a.ID, ag.UserID, group, now, now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		gv := a.Do(t, a.Admin, "POST", "/api/v2/views.json", map[string]any{"view": map[string]any{"title": "Tier 2 queue",
			"restriction": map[string]any{"type": "Group", "ids": []int64{group}},
			"all":         []any{map[string]any{"field": "status", "operator": "is", "value": "open"}}}}).Want(t, http.StatusCreated).Obj("view")
		if r := gv["restriction"].(map[string]any); r["type"] != "Group" || testkit.ID(r, "id") != group {
			t.Fatalf("group restriction = %v", r)
		}
		a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/views/%d", testkit.ID(gv, "id")), nil).Want(t, http.StatusOK)
		a.Do(t, other, "GET", fmt.Sprintf("/api/v2/views/%d/execute", testkit.ID(gv, "id")), nil).Want(t, http.StatusNotFound)
		// Preview and preview count, without saving.
		prev := a.Do(t, ag, "POST", "/api/v2/views/preview.json", map[string]any{"view": map[string]any{
			"all": []any{map[string]any{"field": "status", "operator": "is", "value": "solved"}}, "output": map[string]any{"columns": []string{"nice_id", "status"}}}}).Want(t, http.StatusOK)
		if r := prev.List("rows"); len(r) != 1 || testkit.ID(r[0], "nice_id") != t4 {
			t.Fatalf("preview = %s", prev.Body)
		}
		pc := a.Do(t, ag, "POST", "/api/v2/views/preview/count.json", map[string]any{"view": map[string]any{
			"all": []any{map[string]any{"field": "assignee_id", "operator": "is", "value": ""}}}}).Want(t, http.StatusOK).Obj("view_count")
		if testkit.ID(pc, "value") != 1 {
			t.Fatalf("preview count = %v", pc)
		}
		// Bad views: 422 with the field named.
		bad := a.Do(t, a.Admin, "POST", "/api/v2/views.json", map[string]any{"view": map[string]any{"title": "Bad", "all": []any{
			map[string]any{"field": "update_type", "operator": "is", "value": "Create"}}}}).Want(t, http.StatusUnprocessableEntity)
		if !strings.Contains(string(bad.Body), "conditions.all[0].field") {
			t.Fatalf("bad view: %s", bad.Body)
		}
		// update_many and destroy_many check each view as the single calls do, all or none:
		// an agent may not touch a shared view, nor see another agent's personal one.
		a.Do(t, ag, "PUT", "/api/v2/views/update_many.json", map[string]any{"views": []any{
			map[string]any{"id": pv, "position": 9}, map[string]any{"id": testkit.ID(vip, "id"), "active": false}}}).Want(t, http.StatusForbidden)
		a.Do(t, other, "PUT", "/api/v2/views/update_many.json", map[string]any{"views": []any{map[string]any{"id": pv, "active": false}}}).Want(t, http.StatusNotFound)
		a.Do(t, other, "DELETE", fmt.Sprintf("/api/v2/views/destroy_many.json?ids=%d", pv), nil).Want(t, http.StatusNotFound)
		a.Do(t, ag, "DELETE", fmt.Sprintf("/api/v2/views/destroy_many.json?ids=%d,%d", pv, testkit.ID(vip, "id")), nil).Want(t, http.StatusForbidden)
		if got := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/views/%d", pv), nil).Want(t, http.StatusOK).Obj("view"); got["active"] != true || testkit.ID(got, "position") == 9 {
			t.Fatalf("personal view after refused bulk calls = %v", got)
		}
		a.Do(t, a.Admin, "PUT", "/api/v2/views/update_many.json", map[string]any{"views": []any{map[string]any{"id": testkit.ID(vip, "id"), "active": false}}}).Want(t, http.StatusOK)
		if got := ruleTitles(a.Do(t, a.Admin, "GET", "/api/v2/views/active.json", nil).List("views")); slices.Contains(got, "VIPs") {
			t.Fatalf("inactive view listed as active: %v", got)
		}
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/views/destroy_many.json?ids=%d,%d", testkit.ID(vip, "id"), pv), nil).Want(t, http.StatusNoContent)
		a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/views/%d", pv), nil).Want(t, http.StatusNotFound)
	})
}

// TestViewRespectsTicketRestriction: an agent restricted to assigned tickets sees only
// those in every view.
func TestViewRespectsTicketRestriction(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		limited := a.User(t, identity.Agent, "limited@acme.test", "Lim Ited")
		if err := a.Desk.DB.Write(t.Context(), func(tx *store.Tx) error {
			_, err := tx.ExecContext(t.Context(), `UPDATE users SET ticket_restriction = 'assigned' WHERE id = ?`, limited.UserID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var theirs int64
		for i := range 3 {
			body := map[string]any{"subject": fmt.Sprint("T", i), "comment": map[string]any{"body": "x"}}
			if i == 1 {
				body["assignee_id"] = limited.UserID
			}
			tk := newTicket(t, a, ag, body)
			if i == 1 {
				theirs = testkit.ID(tk, "id")
			}
		}
		all := viewByTitle(t, a, limited, "All unsolved tickets")
		if got := viewTicketIDs(t, a, limited, all); !slices.Equal(got, []int64{theirs}) {
			t.Fatalf("restricted agent sees %v", got)
		}
		if n := testkit.ID(a.Do(t, limited, "GET", fmt.Sprintf("/api/v2/views/%d/count", all), nil).Obj("view_count"), "value"); n != 1 {
			t.Fatalf("restricted count = %d", n)
		}
		if n := len(viewTicketIDs(t, a, ag, all)); n != 3 {
			t.Fatalf("unrestricted agent sees %d", n)
		}
	})
}

// TestViewSharingScenario: the seed guide's sharing views and automatic sharing, on one
// server: Acme's trigger shares new warranty claims with Globex; Acme's "shared with
// partners" and "shared in the last 24 hours" views list the ticket, Globex's "received
// from partners" lists its copy, and after Acme unshares, Globex's "orphaned" lists it.
func TestViewSharingScenario(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		acme := d.Account(t, "acme", account.Enterprise)
		globex := d.Account(t, "globex", account.Enterprise)
		inv := acme.Do(t, acme.Admin, "POST", "/api/v2/sharing_agreements.json", map[string]any{"sharing_agreement": map[string]any{"remote_subdomain": "globex"}}).Want(t, http.StatusCreated).Obj("sharing_agreement")
		agA := testkit.ID(inv, "id")
		agB := testkit.ID(globex.Do(t, globex.Admin, "GET", "/api/v2/sharing_agreements.json", nil).List("sharing_agreements")[0], "id")
		globex.Do(t, globex.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", agB), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}).Want(t, http.StatusOK)
		acme.Do(t, acme.Admin, "POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{
			"title": "Warranty claims to Globex",
			"conditions": map[string]any{"all": []any{
				map[string]any{"field": "update_type", "operator": "is", "value": "Create"},
				map[string]any{"field": "current_tags", "operator": "includes", "value": "warranty_claim"}}},
			"actions": []any{map[string]any{"field": "share_ticket", "value": fmt.Sprint(agA)}}}}).Want(t, http.StatusCreated)
		// Partner updates run triggers too: on both sides, "update via ticket sharing" (31).
		viaSharing := func(a *testkit.Acct, title, updateType, tag string) {
			a.Do(t, a.Admin, "POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{"title": title,
				"conditions": map[string]any{"all": []any{
					map[string]any{"field": "update_type", "operator": "is", "value": updateType},
					map[string]any{"field": "current_via_id", "operator": "is", "value": 31}}},
				"actions": []any{map[string]any{"field": "current_tags", "value": tag}}}}).Want(t, http.StatusCreated)
		}
		viaSharing(globex, "Mark copies from partners", "Create", "from_partner")
		viaSharing(acme, "Mark partner replies", "Change", "partner_replied")
		claim := testkit.ID(newTicket(t, acme, acme.Admin, map[string]any{"subject": "Blender warranty", "tags": []string{"warranty_claim"},
			"comment": map[string]any{"body": "It stopped"}, "requester": map[string]any{"name": "Rita", "email": "rita@example.test"}}), "id")
		newTicket(t, acme, acme.Admin, map[string]any{"subject": "Plain question", "comment": map[string]any{"body": "Hello"}})
		if got := viewTicketIDs(t, acme, acme.Admin, viewByTitle(t, acme, acme.Admin, "Tickets shared with partners")); !slices.Equal(got, []int64{claim}) {
			t.Fatalf("acme shared view = %v", got)
		}
		if got := viewTicketIDs(t, acme, acme.Admin, viewByTitle(t, acme, acme.Admin, "Shared in the last 24 hours")); !slices.Equal(got, []int64{claim}) {
			t.Fatalf("acme shared-today view = %v", got)
		}
		received := viewByTitle(t, globex, globex.Admin, "Tickets received from partners")
		var copyID int64
		testkit.Eventually(t, 10*time.Second, "globex's copy in its received view", func() bool {
			got := viewTicketIDs(t, globex, globex.Admin, received)
			if len(got) == 1 {
				copyID = got[0]
			}
			return len(got) == 1
		})
		if tags := fmt.Sprint(globex.Do(t, globex.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d", copyID), nil).Obj("ticket")["tags"]); !strings.Contains(tags, "from_partner") {
			t.Fatalf("the copy's create did not run globex's trigger: tags %s", tags)
		}
		globex.Do(t, globex.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", copyID), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "Replacement approved"}}}).Want(t, http.StatusOK)
		testkit.Eventually(t, 10*time.Second, "acme's trigger on the partner's reply", func() bool {
			tags := fmt.Sprint(acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d", claim), nil).Obj("ticket")["tags"])
			return strings.Contains(tags, "partner_replied")
		})
		// A view condition on the one agreement, as the guide suggests.
		pc := globex.Do(t, globex.Admin, "POST", "/api/v2/views/preview/count.json", map[string]any{"view": map[string]any{"all": []any{
			map[string]any{"field": "status", "operator": "less_than", "value": "closed"},
			map[string]any{"field": "received_from", "operator": "is", "value": fmt.Sprint(agB)}}}}).Want(t, http.StatusOK).Obj("view_count")
		if testkit.ID(pc, "value") != 1 {
			t.Fatalf("received_from %d count = %v", agB, pc)
		}
		// Acme unshares: Globex's copy becomes an orphan.
		acme.Do(t, acme.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", claim), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{}}}).Want(t, http.StatusOK)
		orphaned := viewByTitle(t, globex, globex.Admin, "Orphaned tickets")
		testkit.Eventually(t, 10*time.Second, "the orphan in globex's orphaned view", func() bool {
			return slices.Equal(viewTicketIDs(t, globex, globex.Admin, orphaned), []int64{copyID})
		})
		if got := viewTicketIDs(t, acme, acme.Admin, viewByTitle(t, acme, acme.Admin, "Tickets shared with partners")); len(got) != 0 {
			t.Fatalf("acme still lists the unshared ticket: %v", got)
		}
	})
}
