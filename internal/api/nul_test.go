package api_test

import (
	"fmt"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/testkit"
)

// TestNULRefused: a NUL character in any text of a request is a 422 naming the field, on
// both databases (PostgreSQL cannot store it; SQLite could, but one rule holds for both),
// and nothing is written.
func TestNULRefused(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		tk := newTicket(t, a, a.Admin, map[string]any{"subject": "fine", "comment": map[string]any{"body": "fine"}})
		id := testkit.ID(tk, "id")
		orgID := testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/organizations.json", `{"organization":{"name":"Globex"}}`).Want(t, 201).Obj("organization"), "id")
		for _, tc := range []struct {
			method, path, body, field string
		}{
			{"POST", "/api/v2/tickets.json", `{"ticket":{"subject":"a\u0000b","comment":{"body":"x"}}}`, "subject"},
			{"PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), `{"ticket":{"comment":{"body":"x\u0000"}}}`, "comment.body"},
			{"PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), `{"ticket":{"tags":["ok","b\u0000d"]}}`, "tags[1]"},
			{"POST", "/api/v2/users.json", `{"user":{"name":"N\u0000ul","email":"nul@acme.test"}}`, "name"},
			{"PUT", fmt.Sprintf("/api/v2/organizations/%d.json", orgID), `{"organization":{"notes":"\u0000"}}`, "notes"},
			{"GET", "/api/v2/users/search.json?query=a%00b", "", "query"},
			{"GET", "/api/v2/search.json?query=a%00b", "", "query"},
		} {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := a.Do(t, a.Admin, tc.method, tc.path, body)
			if r.Status != 422 || !strings.Contains(string(r.Body), `"`+tc.field+`"`) || !strings.Contains(string(r.Body), "NUL") {
				t.Errorf("%s %s: %d %s; want 422 naming %s", tc.method, tc.path, r.Status, r.Body, tc.field)
			}
		}
		got := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d.json", id), nil).Want(t, 200).Obj("ticket")
		if fmt.Sprint(got["tags"]) != "[]" || got["subject"] != "fine" {
			t.Fatalf("a refused update was written: %v", got)
		}
		if n := len(a.Do(t, a.Admin, "GET", "/api/v2/tickets.json", nil).Want(t, 200).List("tickets")); n != 1 {
			t.Fatalf("%d tickets, want 1", n)
		}
	})
}
