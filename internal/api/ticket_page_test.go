package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// rawTickets splits a response's list of tickets under key into each ticket's bytes
// as the server wrote them, by ticket id, in order.
func rawTickets(t *testing.T, body []byte, key string) (order []int64, byID map[int64]string) {
	t.Helper()
	var page map[string]json.RawMessage
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(page[key], &list); err != nil {
		t.Fatalf("%s: %v in %.200s", key, err, body)
	}
	byID = map[int64]string{}
	for _, raw := range list {
		var one struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(raw, &one); err != nil {
			t.Fatal(err)
		}
		order = append(order, one.ID)
		byID[one.ID] = string(raw)
	}
	return order, byID
}

// varied is what variedTickets made: two partner accounts, acme's agent and
// organization, a problem ticket and the tickets created with subjects (in order).
type varied struct {
	acme, globex *testkit.Acct
	ag           testkit.Cred
	org, problem int64
	agreement    int64 // acme's agreement with globex
	subjects     []string
	created      []int64
	field        map[string]int64 // custom field ids by type
}

// variedTickets makes tickets with custom fields of every type (set, cleared, never
// set), HTML-hostile and non-ASCII text, tags, CCs, due dates, a problem with
// incidents, a ticket shared with a partner account and the partner's copy of it.
func variedTickets(t *testing.T, d *testkit.Desk) *varied {
	t.Helper()
	acme := d.Account(t, "acme", account.Enterprise)
	globex := d.Account(t, "globex", account.Enterprise)
	ag := acme.User(t, identity.Agent, "agent@acme.test", "Agnes <Agent> & \"co\"")
	inv := acme.Do(t, acme.Admin, "POST", "/api/v2/sharing_agreements.json", map[string]any{"sharing_agreement": map[string]any{"remote_subdomain": "globex"}}).Want(t, http.StatusCreated).Obj("sharing_agreement")
	agA := testkit.ID(inv, "id")
	agB := testkit.ID(globex.Do(t, globex.Admin, "GET", "/api/v2/sharing_agreements.json", nil).List("sharing_agreements")[0], "id")
	globex.Do(t, globex.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", agB), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}).Want(t, http.StatusOK)

	field := map[string]int64{}
	for _, f := range []map[string]any{
		{"type": "text", "title": "Text"}, {"type": "textarea", "title": "Area"}, {"type": "checkbox", "title": "Check"},
		{"type": "date", "title": "Date"}, {"type": "integer", "title": "Int"}, {"type": "decimal", "title": "Dec"},
		{"type": "regexp", "title": "Re", "regexp_for_validation": "^[A-Z]+$"},
		{"type": "tagger", "title": "Product", "custom_field_options": []any{map[string]any{"name": "Widget", "value": "widget"}, map[string]any{"name": "Gadget", "value": "gadget"}}},
		{"type": "multiselect", "title": "Parts", "custom_field_options": []any{map[string]any{"name": "Cog", "value": "cog"}, map[string]any{"name": "Gear", "value": "gear"}}},
	} {
		field[f["type"].(string)] = testkit.ID(acme.Do(t, acme.Admin, "POST", "/api/v2/ticket_fields.json", map[string]any{"ticket_field": f}).Want(t, http.StatusCreated).Obj("ticket_field"), "id")
	}
	cfs := func(kv ...any) []any {
		var out []any
		for i := 0; i < len(kv); i += 2 {
			out = append(out, map[string]any{"id": field[kv[i].(string)], "value": kv[i+1]})
		}
		return out
	}
	org := testkit.ID(acme.Do(t, acme.Admin, "POST", "/api/v2/organizations.json", map[string]any{"organization": map[string]any{"name": "Ünïcorp <Ltd>"}}).Want(t, http.StatusCreated).Obj("organization"), "id")
	problem := testkit.ID(newTicket(t, acme, acme.Admin, map[string]any{"subject": "Printers down", "type": "problem", "comment": map[string]any{"body": "All of them"}}), "id")
	subjects := []string{
		`<script>alert("x")</script>`, "Tom & Jerry's \"cheese\" \\ path", "ünïcödé Ελληνικά 日本語 🎫",
		"line\u2028sep\u2029para", "tab\tand\nnewline", "", "plain subject",
	}
	var created []int64
	for i, s := range subjects {
		body := map[string]any{"subject": s, "comment": map[string]any{"body": "Body of " + s + fmt.Sprint(i)}}
		switch i % 4 {
		case 0:
			body["custom_fields"] = cfs("text", s, "textarea", "multi\nline <p>", "checkbox", true, "date", "2026-12-24",
				"integer", "42", "decimal", "-3.25", "regexp", "ABC", "tagger", "widget", "multiselect", []string{"cog", "gear"})
			body["tags"] = []string{"vip", "émoji🎫"}
			body["priority"] = "urgent"
			body["external_id"] = "ext-" + s
			body["organization_id"] = org
		case 1:
			body["custom_fields"] = cfs("checkbox", false, "tagger", "gadget", "multiselect", []string{})
			body["type"] = "incident"
			body["problem_id"] = problem
			body["email_ccs"] = []any{map[string]any{"user_email": "cc@example.test", "user_name": "C <C>"}}
			body["assignee_id"] = ag.UserID
		case 2:
			body["type"] = "task"
			body["due_at"] = "2027-01-02T03:04:05Z"
			body["requester"] = map[string]any{"name": "Rita \"R\"", "email": "rita@example.test"}
		}
		created = append(created, testkit.ID(newTicket(t, acme, acme.Admin, body), "id"))
	}
	// Clear a field once set, and share one ticket with Globex.
	acme.Do(t, acme.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", created[0]), map[string]any{"ticket": map[string]any{"custom_fields": cfs("text", nil)}}).Want(t, http.StatusOK)
	acme.Do(t, acme.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", created[2]), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{agA}}}).Want(t, http.StatusOK)
	testkit.Eventually(t, 20*time.Second, "globex receives the shared copy", func() bool {
		return len(globex.Do(t, globex.Admin, "GET", "/api/v2/tickets.json", nil).Want(t, http.StatusOK).List("tickets")) == 1
	})
	return &varied{acme: acme, globex: globex, ag: ag, org: org, problem: problem, agreement: agA, subjects: subjects, created: created, field: field}
}

// TestTicketListsWriteShowManyBytes: every ticket list served by the typed renderer
// (the ticket list and its cursor pages, external_id, an organization's and a user's
// tickets, incidents, a view's tickets, with and without include=users, a view's
// execute rows) writes each ticket byte for byte as show_many writes it through
// encoding/json, and search writes the same with its result_type — for tickets with custom fields of every type (set,
// cleared, never set), HTML-hostile and non-ASCII text, tags, CCs, due dates, problems
// with incidents, shares, and a copy received from a partner. On SQLite and PostgreSQL.
func TestTicketListsWriteShowManyBytes(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		v := variedTickets(t, d)
		acme, globex, ag, org, problem, subjects, created := v.acme, v.globex, v.ag, v.org, v.problem, v.subjects, v.created

		// same checks that each ticket on the page at path is what show_many writes.
		same := func(a *testkit.Acct, cred testkit.Cred, path string, wantAtLeast int) {
			t.Helper()
			order, got := rawTickets(t, a.Do(t, cred, "GET", path, nil).Want(t, http.StatusOK).Body, "tickets")
			if len(order) < wantAtLeast {
				t.Fatalf("%s: %d tickets, want at least %d", path, len(order), wantAtLeast)
			}
			idList := strings.Trim(strings.ReplaceAll(fmt.Sprint(order), " ", ","), "[]")
			_, want := rawTickets(t, a.Do(t, cred, "GET", "/api/v2/tickets/show_many.json?ids="+url.QueryEscape(idList), nil).Want(t, http.StatusOK).Body, "tickets")
			for _, id := range order {
				if got[id] != want[id] {
					t.Errorf("%s: ticket %d\n got %s\nwant %s", path, id, got[id], want[id])
				}
			}
		}
		// sameSearch checks that each ticket among the search results at path is what
		// show_many writes, with its result_type.
		sameSearch := func(a *testkit.Acct, path string, wantAtLeast int) {
			t.Helper()
			order, got := rawTickets(t, a.Do(t, a.Admin, "GET", path, nil).Want(t, http.StatusOK).Body, "results")
			if len(order) < wantAtLeast {
				t.Fatalf("%s: %d results, want at least %d", path, len(order), wantAtLeast)
			}
			idList := strings.Trim(strings.ReplaceAll(fmt.Sprint(order), " ", ","), "[]")
			_, want := rawTickets(t, a.Do(t, a.Admin, "GET", "/api/v2/tickets/show_many.json?ids="+url.QueryEscape(idList), nil).Want(t, http.StatusOK).Body, "tickets")
			for _, id := range order {
				w := strings.Replace(want[id], `,"satisfaction_rating":`, `,"result_type":"ticket","satisfaction_rating":`, 1)
				if got[id] != w {
					t.Errorf("%s: ticket %d\n got %s\nwant %s", path, id, got[id], w)
				}
			}
		}
		// sameRows checks that each row's ticket of a view's execute at path is what
		// show_many writes.
		sameRows := func(a *testkit.Acct, path string, wantAtLeast int) {
			t.Helper()
			var page struct {
				Rows []struct {
					Ticket json.RawMessage `json:"ticket"`
				} `json:"rows"`
			}
			if err := json.Unmarshal(a.Do(t, a.Admin, "GET", path, nil).Want(t, http.StatusOK).Body, &page); err != nil {
				t.Fatal(err)
			}
			if len(page.Rows) < wantAtLeast {
				t.Fatalf("%s: %d rows, want at least %d", path, len(page.Rows), wantAtLeast)
			}
			for _, row := range page.Rows {
				var one struct {
					ID int64 `json:"id"`
				}
				if err := json.Unmarshal(row.Ticket, &one); err != nil {
					t.Fatal(err)
				}
				_, want := rawTickets(t, a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/show_many.json?ids=%d", one.ID), nil).Want(t, http.StatusOK).Body, "tickets")
				if string(row.Ticket) != want[one.ID] {
					t.Errorf("%s: ticket %d\n got %s\nwant %s", path, one.ID, row.Ticket, want[one.ID])
				}
			}
		}
		all := len(created) + 1
		same(acme, acme.Admin, "/api/v2/tickets.json", all)
		same(acme, acme.Admin, "/api/v2/tickets.json?include=users,organizations,groups", all)
		same(acme, acme.Admin, "/api/v2/tickets.json?page[size]=3", 3)
		same(acme, acme.Admin, "/api/v2/tickets.json?page=2&per_page=3", 3)
		same(acme, ag, "/api/v2/tickets.json", all)
		same(acme, acme.Admin, "/api/v2/tickets.json?external_id="+url.QueryEscape("ext-"+subjects[0]), 1)
		same(acme, acme.Admin, fmt.Sprintf("/api/v2/organizations/%d/tickets.json", org), 2)
		same(acme, acme.Admin, fmt.Sprintf("/api/v2/users/%d/tickets/assigned.json", ag.UserID), 2)
		same(acme, acme.Admin, fmt.Sprintf("/api/v2/tickets/%d/incidents.json", problem), 2)
		same(acme, acme.Admin, fmt.Sprintf("/api/v2/views/%d/tickets.json", viewByTitle(t, acme, acme.Admin, "All unsolved tickets")), all)
		sameRows(acme, fmt.Sprintf("/api/v2/views/%d/execute.json", viewByTitle(t, acme, acme.Admin, "All unsolved tickets")), all)
		sameRows(globex, fmt.Sprintf("/api/v2/views/%d/execute.json", viewByTitle(t, globex, globex.Admin, "All unsolved tickets")), 1)
		sameSearch(acme, "/api/v2/search.json?query=type:ticket", all)
		sameSearch(acme, "/api/v2/search.json?query="+url.QueryEscape("type:ticket status<solved")+"&include=users", all)
		sameSearch(acme, "/api/v2/search/export.json?filter[type]=ticket&query=Body", len(created))
		sameSearch(globex, "/api/v2/search.json?query=type:ticket", 1)
		same(globex, globex.Admin, "/api/v2/tickets.json", 1)
		same(globex, globex.Admin, fmt.Sprintf("/api/v2/views/%d/tickets.json", viewByTitle(t, globex, globex.Admin, "All unsolved tickets")), 1)
	})
}

// TestListFieldsSeeOtherProcess: a ticket list takes the account's custom fields from
// its process's copy at the settings version the page's own statement read, so a field
// another process (another server on the same database) adds or deactivates shows in
// the next page of the list, and a value set shows at once.
func TestListFieldsSeeOtherProcess(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			desks := twoProcesses(t, d)
			a := desks[0].Account(t, "acme", account.Enterprise)
			b := &testkit.Acct{Desk: desks[1], Sub: a.Sub, ID: a.ID, Admin: a.Admin}
			tk := int64(a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Printer", "comment": map[string]any{"body": "It jams."}}}).Want(t, 201).Obj("ticket")["id"].(float64))
			fields := func(step string, want string) {
				t.Helper()
				list := a.Do(t, a.Admin, "GET", "/api/v2/tickets.json?page[size]=100", nil).Want(t, 200).List("tickets")
				if len(list) != 1 {
					t.Fatalf("%s: %d tickets", step, len(list))
				}
				var got []string
				for _, f := range list[0]["custom_fields"].([]any) {
					f := f.(map[string]any)
					got = append(got, fmt.Sprintf("%v=%v", f["id"], f["value"]))
				}
				if fmt.Sprint(got) != want {
					t.Fatalf("%s: custom_fields %v, want %s", step, got, want)
				}
			}
			fields("no field", "[]")
			field := func(title string) int64 {
				return int64(b.Do(t, b.Admin, "POST", "/api/v2/ticket_fields.json", map[string]any{"ticket_field": map[string]any{"type": "text", "title": title}}).Want(t, 201).Obj("ticket_field")["id"].(float64))
			}
			serial := field("Serial")
			fields("a field added by the other process", fmt.Sprintf("[%d=<nil>]", serial))
			fields("again", fmt.Sprintf("[%d=<nil>]", serial))
			model := field("Model")
			b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tk), map[string]any{"ticket": map[string]any{"custom_fields": []map[string]any{{"id": model, "value": "LX-2"}}}}).Want(t, 200)
			fields("a second field and a value", fmt.Sprintf("[%d=<nil> %d=LX-2]", serial, model))
			b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/ticket_fields/%d.json", serial), map[string]any{"ticket_field": map[string]any{"active": false}}).Want(t, 200)
			fields("the first deactivated", fmt.Sprintf("[%d=LX-2]", model))
		})
	}
}

// twoProcesses starts two servers on one new database, as two `serve` processes share
// one.
func twoProcesses(t *testing.T, d store.Dialect, opts ...testkit.Option) []*testkit.Desk {
	t.Helper()
	dbOpts := storetest.Options(t, d)
	var desks []*testkit.Desk
	for range 2 {
		db, err := store.Open(context.Background(), dbOpts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		desks = append(desks, testkit.StartDB(t, db, opts...))
	}
	return desks
}
