package api_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// searchPath builds a search URL with its parameters encoded as clients encode them.
func searchPath(path, query string, kv ...string) string {
	v := url.Values{}
	if query != "" {
		v.Set("query", query)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return path + "?" + v.Encode()
}

// resultIDs lists the ids of results of one type, in order.
func resultIDs(r *testkit.Resp, typ string) []int64 {
	var out []int64
	for _, m := range r.List("results") {
		if m["result_type"] == typ {
			out = append(out, testkit.ID(m, "id"))
		}
	}
	return out
}

func sqlExec(t *testing.T, a *testkit.Acct, q string, args ...any) {
	t.Helper()
	ctx := context.Background()
	err := a.Desk.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSearchAPI(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		ag := a.User(t, identity.Agent, "agnes@acme.test", "Agnes Agent")
		jane := a.User(t, identity.EndUser, "jane.doe@initech.test", "Jane Doe")
		initech := makeOrg(t, a, "Initech", false, false, jane.UserID)
		t1 := newTicket(t, a, ag, map[string]any{"subject": "Printer on fire", "priority": "urgent", "tags": []string{"hardware"},
			"comment": map[string]any{"body": "The printer in room 4 is burning"}, "requester_id": jane.UserID})
		t2 := newTicket(t, a, ag, map[string]any{"subject": "Printing is slow", "priority": "low", "assignee_id": ag.UserID,
			"comment": map[string]any{"body": "Pages take minutes"}})
		t3 := newTicket(t, a, ag, map[string]any{"subject": "Refund please", "status": "solved", "assignee_id": ag.UserID,
			"comment": map[string]any{"body": "I was charged twice for the printer"}})
		id1, id2, id3 := testkit.ID(t1, "id"), testkit.ID(t2, "id"), testkit.ID(t3, "id")

		// Full ticket objects, Zendesk's envelope.
		r := a.Do(t, ag, "GET", searchPath("/api/v2/search.json", "type:ticket printer"), nil).Want(t, 200)
		if got := resultIDs(r, "ticket"); !slices.Equal(got, []int64{id3, id1}) {
			t.Fatalf("printer = %v, want [%d %d] (latest update first): %s", got, id3, id1, r.Body)
		}
		first := r.List("results")[0]
		for _, k := range []string{"url", "subject", "description", "status", "requester_id", "custom_fields", "tags", "via"} {
			if _, ok := first[k]; !ok {
				t.Errorf("result lacks %s: %v", k, first)
			}
		}
		if v, ok := r.JSON["facets"]; !ok || v != nil || r.JSON["next_page"] != nil || r.JSON["previous_page"] != nil || testkit.ID(r.JSON, "count") != 2 {
			t.Fatalf("envelope = %s", r.Body)
		}

		cases := []struct {
			query string
			want  []int64
		}{
			{"printer status<solved", []int64{id1}},
			{"print*", []int64{id3, id2, id1}},
			{`"on fire"`, []int64{id1}},
			{`"fire on"`, nil},
			{"printer -fire", []int64{id3}},
			{"priority>normal", []int64{id1}},
			{"tags:hardware", []int64{id1}},
			{"assignee:me", []int64{id3, id2}},
			{"assignee:none", []int64{id1}},
			{`assignee:"agnes agent"`, []int64{id3, id2}},
			{"requester:jane.doe@initech.test", []int64{id1}},
			{fmt.Sprintf("organization:%d", initech), []int64{id1}},
			{"organization:initech", []int64{id1}},
			{"subject:printer", []int64{id1}},
			{"description:minutes", []int64{id2}},
			{"via:api created>1hour", []int64{id3, id2, id1}},
			{"created<2001-01-01", nil},
			{fmt.Sprint(id2), []int64{id2}},
			{"status:solved status:new printer", []int64{id3, id1}},
			{"printer order_by:created sort:asc", []int64{id1, id3}},
		}
		for _, c := range cases {
			r := a.Do(t, ag, "GET", searchPath("/api/v2/search", c.query), nil).Want(t, 200)
			if got := resultIDs(r, "ticket"); !slices.Equal(got, c.want) {
				t.Errorf("%q = %v, want %v", c.query, got, c.want)
			}
		}
		// sort_by / sort_order parameters.
		r = a.Do(t, ag, "GET", searchPath("/api/v2/search", "type:ticket", "sort_by", "priority", "sort_order", "asc"), nil).Want(t, 200)
		if got := resultIDs(r, "ticket"); !slices.Equal(got, []int64{id3, id2, id1}) {
			t.Errorf("sort by priority asc = %v", got)
		}

		// Offset pages with next and previous links.
		r = a.Do(t, ag, "GET", searchPath("/api/v2/search.json", "print*", "per_page", "2"), nil).Want(t, 200)
		next, _ := r.JSON["next_page"].(string)
		if len(r.List("results")) != 2 || testkit.ID(r.JSON, "count") != 3 || !strings.Contains(next, "page=2") {
			t.Fatalf("page 1 = %s", r.Body)
		}
		u, _ := url.Parse(next)
		r = a.Do(t, ag, "GET", u.RequestURI(), nil).Want(t, 200)
		if got := resultIDs(r, "ticket"); !slices.Equal(got, []int64{id1}) || r.JSON["next_page"] != nil || r.JSON["previous_page"] == nil {
			t.Fatalf("page 2 = %s", r.Body)
		}

		// Users, organizations and groups; mixed results say what they are.
		a.Do(t, a.Admin, "POST", "/api/v2/groups", map[string]any{"group": map[string]any{"name": "Printer Squad"}}).Want(t, 201)
		r = a.Do(t, ag, "GET", searchPath("/api/v2/search", "type:user jane"), nil).Want(t, 200)
		if got := resultIDs(r, "user"); !slices.Equal(got, []int64{jane.UserID}) || r.List("results")[0]["email"] != "jane.doe@initech.test" {
			t.Fatalf("type:user jane = %s", r.Body)
		}
		r = a.Do(t, ag, "GET", searchPath("/api/v2/search", "type:user email:jane.doe@initech.test"), nil).Want(t, 200)
		if got := resultIDs(r, "user"); !slices.Equal(got, []int64{jane.UserID}) {
			t.Fatalf("email: = %s", r.Body)
		}
		r = a.Do(t, ag, "GET", searchPath("/api/v2/search", "type:organization initech"), nil).Want(t, 200)
		if got := resultIDs(r, "organization"); !slices.Equal(got, []int64{initech}) {
			t.Fatalf("type:organization initech = %s", r.Body)
		}
		r = a.Do(t, ag, "GET", searchPath("/api/v2/search", "printer"), nil).Want(t, 200)
		var types []string
		for _, m := range r.List("results") {
			types = append(types, m["result_type"].(string))
		}
		slices.Sort(types)
		if got := strings.Join(types, ","); got != "group,ticket,ticket" {
			t.Fatalf("mixed printer = %s (%s)", got, r.Body)
		}

		// Sideloads for ticket results.
		r = a.Do(t, ag, "GET", searchPath("/api/v2/search", "fire", "include", "users"), nil).Want(t, 200)
		if len(r.List("users")) == 0 {
			t.Fatalf("include=users = %s", r.Body)
		}

		// Count (the group counts too without type:).
		r = a.Do(t, ag, "GET", searchPath("/api/v2/search/count.json", "print*"), nil).Want(t, 200)
		if testkit.ID(r.JSON, "count") != 4 || r.JSON["count_capped"] != false {
			t.Fatalf("count = %s", r.Body)
		}

		// Bad queries and pages: 422 {"error":"invalid"} with a description.
		bad := []struct{ path, want string }{
			{searchPath("/api/v2/search", "status:bogus"), "status must be one of"},
			{searchPath("/api/v2/search", ""), "nothing to search for"},
			{searchPath("/api/v2/search", `"unclosed`), "never closed"},
			{searchPath("/api/v2/search", "type:user status:open"), "status: is not a property of users"},
			{searchPath("/api/v2/search", "printer", "page", "11"), "limited to the first 1000"},
			{searchPath("/api/v2/search", "printer", "page", "101", "per_page", "10"), "limited to the first 1000"},
			{searchPath("/api/v2/search", "printer", "sort_by", "colour"), "sort_by must be one of"},
			{searchPath("/api/v2/search/count", "created>soon"), "write a date"},
			{searchPath("/api/v2/search/export", "printer"), "filter[type] is required"},
			{searchPath("/api/v2/search/export", "type:ticket printer", "filter[type]", "ticket"), "cannot use type:"},
		}
		for _, b := range bad {
			r := a.Do(t, ag, "GET", b.path, nil)
			if r.Status != 422 || r.JSON["error"] != "invalid" || !strings.Contains(fmt.Sprint(r.JSON["description"]), b.want) {
				t.Errorf("GET %s = %d %s, want 422 invalid %q", b.path, r.Status, r.Body, b.want)
			}
		}
		// Page 10 of 100 is the last allowed.
		a.Do(t, ag, "GET", searchPath("/api/v2/search", "printer", "page", "10"), nil).Want(t, 200)
		// Cursor parameters belong to the export endpoint.
		a.Do(t, ag, "GET", searchPath("/api/v2/search", "printer", "page[size]", "10"), nil).Want(t, 400)
	})
}

func TestSearchExport(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		var want []int64
		for i := range 7 {
			tk := newTicket(t, a, a.Admin, map[string]any{"subject": fmt.Sprintf("Export me %d", i), "comment": map[string]any{"body": "walk"}})
			want = append(want, testkit.ID(tk, "id"))
		}
		newTicket(t, a, a.Admin, map[string]any{"subject": "Not this one", "comment": map[string]any{"body": "stay"}})
		var got []int64
		path := searchPath("/api/v2/search/export.json", "walk", "filter[type]", "ticket", "page[size]", "3")
		for pages := 0; path != ""; pages++ {
			if pages > 5 {
				t.Fatal("export never ends")
			}
			r := a.Do(t, a.Admin, "GET", path, nil).Want(t, 200)
			got = append(got, resultIDs(r, "ticket")...)
			meta, links := r.Obj("meta"), r.Obj("links")
			if _, ok := r.JSON["count"]; ok || links["prev"] != nil || meta["before_cursor"] != nil {
				t.Fatalf("export page = %s", r.Body)
			}
			path = ""
			if meta["has_more"] == true {
				u, _ := url.Parse(links["next"].(string))
				path = u.RequestURI()
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("export walked %v, want %v", got, want)
		}
		// Users through the same walk.
		r := a.Do(t, a.Admin, "GET", searchPath("/api/v2/search/export", "admin", "filter[type]", "user"), nil).Want(t, 200)
		if got := resultIDs(r, "user"); !slices.Equal(got, []int64{a.Admin.UserID}) {
			t.Fatalf("user export = %s", r.Body)
		}
		a.Do(t, a.Admin, "GET", searchPath("/api/v2/search/export", "walk", "filter[type]", "ticket", "page[after]", "!!"), nil).Want(t, 400)
	})
}

// TestSearchWriteIsSearchableAtOnce: every write is in the index when its response
// arrives; nothing waits for an indexer.
func TestSearchWriteIsSearchableAtOnce(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		ag := a.User(t, identity.Agent, "agnes@acme.test", "Agnes")
		find := func(q string) []int64 {
			t.Helper()
			return resultIDs(a.Do(t, ag, "GET", searchPath("/api/v2/search", q), nil).Want(t, 200), "ticket")
		}
		tk := newTicket(t, a, ag, map[string]any{"subject": "Zanzibar outage", "comment": map[string]any{"body": "Everything is down"}})
		id := testkit.ID(tk, "id")
		if got := find("zanzibar"); !slices.Equal(got, []int64{id}) {
			t.Fatalf("new ticket not found at once: %v", got)
		}
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "A quokka chewed the cable", "public": false}}}).Want(t, 200)
		if got := find("quokka"); !slices.Equal(got, []int64{id}) {
			t.Fatalf("new comment not found at once: %v", got)
		}
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"subject": "Madagascar outage"}}).Want(t, 200)
		if got := find("subject:zanzibar"); len(got) != 0 {
			t.Fatalf("old subject still found: %v", got)
		}
		if got := find("madagascar"); !slices.Equal(got, []int64{id}) {
			t.Fatalf("new subject not found at once: %v", got)
		}
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"status": "pending", "additional_tags": []string{"cable"}}}).Want(t, 200)
		if got := find("status:pending tags:cable quokka"); !slices.Equal(got, []int64{id}) {
			t.Fatalf("status and tags not found at once: %v", got)
		}
		a.Do(t, ag, "DELETE", fmt.Sprintf("/api/v2/tickets/%d", id), nil).Want(t, 204)
		for _, q := range []string{"madagascar", "quokka", fmt.Sprint(id)} {
			if got := find(q); len(got) != 0 {
				t.Fatalf("deleted ticket still found by %q: %v", q, got)
			}
		}
	})
}

func TestSearchTenantIsolation(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		b := d.Account(t, "globex", account.Enterprise)
		// The same ticket numbers, words and names exist in both accounts.
		for _, acct := range []*testkit.Acct{a, b} {
			acct.User(t, identity.EndUser, "pat@"+acct.Sub+".test", "Pat "+acct.Sub)
			makeOrg(t, acct, "Shared Name "+acct.Sub, false, false)
			newTicket(t, acct, acct.Admin, map[string]any{"subject": "Common printer trouble " + acct.Sub, "comment": map[string]any{"body": "same words"}})
		}
		newTicket(t, b, b.Admin, map[string]any{"subject": "Globex merger plans", "tags": []string{"secret"}, "comment": map[string]any{"body": "Only globex may read this"}})
		for _, q := range []string{"merger", "globex", "tags:secret", "2", "type:user globex", "type:user pat", "type:organization shared", "type:group support", "printer", "same words"} {
			r := a.Do(t, a.Admin, "GET", searchPath("/api/v2/search", q), nil).Want(t, 200)
			if strings.Contains(strings.ToLower(string(r.Body)), "globex") {
				t.Errorf("account A's search for %q shows B's records: %s", q, r.Body)
			}
		}
		r := a.Do(t, a.Admin, "GET", searchPath("/api/v2/search/count", "merger"), nil).Want(t, 200)
		if testkit.ID(r.JSON, "count") != 0 {
			t.Errorf("A counts B's tickets: %s", r.Body)
		}
		for _, typ := range []string{"ticket", "user", "organization", "group"} {
			r := a.Do(t, a.Admin, "GET", searchPath("/api/v2/search/export", "globex", "filter[type]", typ), nil).Want(t, 200)
			if len(r.List("results")) != 0 {
				t.Errorf("A's %s export shows B's records: %s", typ, r.Body)
			}
		}
		// B finds its own.
		r = b.Do(t, b.Admin, "GET", searchPath("/api/v2/search", "merger"), nil).Want(t, 200)
		if len(resultIDs(r, "ticket")) != 1 {
			t.Errorf("B's own search = %s", r.Body)
		}
	})
}

func TestSearchPermissions(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		alice := a.User(t, identity.EndUser, "alice@initech.test", "Alice")
		restricted := a.User(t, identity.Agent, "ray@acme.test", "Ray Restricted")
		sqlExec(t, a, `UPDATE users SET ticket_restriction = 'assigned' WHERE id = ?`, restricted.UserID)
		mine := testkit.ID(newTicket(t, a, a.Admin, map[string]any{"subject": "Router blinking", "assignee_id": restricted.UserID, "comment": map[string]any{"body": "lights"}}), "id")
		other := testkit.ID(newTicket(t, a, a.Admin, map[string]any{"subject": "Router smoking", "requester_id": alice.UserID, "comment": map[string]any{"body": "lights"}}), "id")

		for _, p := range []string{"/api/v2/search", "/api/v2/search/count", "/api/v2/search/export"} {
			path := searchPath(p, "router", "filter[type]", "ticket")
			a.Do(t, alice, "GET", path, nil).Want(t, 403)
			a.Do(t, testkit.Anonymous, "GET", path, nil).Want(t, 401)
		}
		r := a.Do(t, restricted, "GET", searchPath("/api/v2/search", "router"), nil).Want(t, 200)
		if got := resultIDs(r, "ticket"); !slices.Equal(got, []int64{mine}) || testkit.ID(r.JSON, "count") != 1 {
			t.Fatalf("restricted agent sees %s", r.Body)
		}
		r = a.Do(t, restricted, "GET", searchPath("/api/v2/search/count", "lights"), nil).Want(t, 200)
		if testkit.ID(r.JSON, "count") != 1 {
			t.Fatalf("restricted agent counts %s", r.Body)
		}
		r = a.Do(t, restricted, "GET", searchPath("/api/v2/search/export", "lights", "filter[type]", "ticket"), nil).Want(t, 200)
		if got := resultIDs(r, "ticket"); !slices.Equal(got, []int64{mine}) {
			t.Fatalf("restricted agent exports %s", r.Body)
		}
		r = a.Do(t, a.Admin, "GET", searchPath("/api/v2/search", "router"), nil).Want(t, 200)
		if got := resultIDs(r, "ticket"); len(got) != 2 || !slices.Contains(got, other) {
			t.Fatalf("admin sees %s", r.Body)
		}
	})
}
