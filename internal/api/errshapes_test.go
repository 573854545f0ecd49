package api_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/server"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// wildcard matches a path wildcard of a route pattern ({id}, {uid}, ...).
var wildcard = regexp.MustCompile(`\{[^}]+\}`)

// walkRoutes returns every registered API route as method and a concrete path whose ids
// name no record.
func walkRoutes(t *testing.T, d *testkit.Desk) [][2]string {
	t.Helper()
	var out [][2]string
	for _, p := range d.Srv.API.Routes() {
		method, path, ok := strings.Cut(p, " ")
		if !ok || !strings.HasPrefix(path, "/api/v2/") {
			t.Fatalf("route %q is not METHOD /api/v2/...", p)
		}
		out = append(out, [2]string{method, wildcard.ReplaceAllString(path, "987654321") + ".json"})
	}
	if len(out) < 100 {
		t.Fatalf("only %d routes registered; the walk would miss routes", len(out))
	}
	return out
}

// errShape checks a response of an error status against Zendesk's body shapes
// (docs: zendesk-api.md, 0.6 Errors). It returns "" when the shape is right.
func errShape(path string, r *testkit.Resp) string {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return "Content-Type " + r.Header.Get("Content-Type")
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return "not a JSON object"
	}
	str := func(k string) (string, bool) {
		var v string
		raw, ok := body[k]
		return v, ok && json.Unmarshal(raw, &v) == nil && v != ""
	}
	code, ok := str("error")
	if !ok {
		return "no error string"
	}
	desc, hasDesc := str("description")
	switch r.Status {
	case 401:
		if code != "Couldn't authenticate you" || len(body) != 1 {
			return "want exactly {\"error\":\"Couldn't authenticate you\"}"
		}
		return ""
	case 403:
		if code != "Forbidden" && code != "PlanRequired" {
			return "error " + code
		}
	case 404:
		if code != "RecordNotFound" && code != "InvalidEndpoint" || desc != "Not found" {
			return "want RecordNotFound or InvalidEndpoint with description Not found"
		}
	case 409:
		if code != "UpdateConflict" {
			return "error " + code
		}
	case 429:
		if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 0 {
			return "no Retry-After seconds"
		}
	case 422, 413:
		if r.Status == 422 && strings.HasPrefix(path, "/api/v2/search") && (code == "invalid" || code == "unavailable") {
			break // search's own documented 422 shape
		}
		if code != "RecordInvalid" || desc != "Record validation errors" {
			return fmt.Sprintf("want RecordInvalid / Record validation errors, got %s / %s", code, desc)
		}
		var details map[string][]map[string]json.RawMessage
		if err := json.Unmarshal(body["details"], &details); err != nil || len(details) == 0 {
			return "details is not a map of field to a list of problems"
		}
		for field, list := range details {
			if len(list) == 0 {
				return "details." + field + " is empty"
			}
			for _, p := range list {
				var d, e string
				if json.Unmarshal(p["description"], &d) != nil || json.Unmarshal(p["error"], &e) != nil || d == "" || e == "" || len(p) != 2 {
					return "details." + field + " entries want exactly {description, error}"
				}
			}
		}
	}
	if !hasDesc {
		return "no description"
	}
	return ""
}

var checkedStatus = map[int]bool{401: true, 403: true, 404: true, 409: true, 413: true, 422: true, 429: true}

// TestErrorShapesOnEveryRoute walks every registered API route (sharing agreements
// included) as a stranger with a wrong token, an end user, an admin naming records that
// do not exist, an admin with a body over the limit and an admin over the rate limit, and
// checks every 401, 403, 404, 409, 413, 422 and 429 body against Zendesk's shapes.
func TestErrorShapesOnEveryRoute(t *testing.T) {
	t.Parallel()
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			d := testkit.Start(t, dia, func(c *server.Config) { c.MaxBody = 2048 })
			a := d.Account(t, "shapes", account.Enterprise)
			eu := a.User(t, identity.EndUser, "eu@shapes.test", "End User")
			wrong := a.Admin
			wrong.Token = "not-the-token"
			routes := walkRoutes(t, d)
			seen := map[int]int{}
			check := func(who, method, path string, r *testkit.Resp) {
				t.Helper()
				if r.Status >= 500 {
					t.Errorf("%s %s %s: %d %s", who, method, path, r.Status, r.Body)
					return
				}
				if !checkedStatus[r.Status] {
					return
				}
				seen[r.Status]++
				if msg := errShape(path, r); msg != "" {
					t.Errorf("%s %s %s: %d %s: %s", who, method, path, r.Status, r.Body, msg)
				}
			}
			big := `{"x":"` + strings.Repeat("a", 4096) + `"}`
			for _, rt := range routes {
				method, path := rt[0], rt[1]
				var body any
				if method != "GET" && method != "DELETE" {
					body = `{}`
				}
				r := a.Do(t, wrong, method, path, body)
				if r.Status != 401 {
					t.Errorf("wrong token %s %s: %d, want 401", method, path, r.Status)
				}
				check("wrong token", method, path, r)
				check("end user", method, path, a.Do(t, eu, method, path, body))
				check("admin", method, path, a.Do(t, a.Admin, method, path, body))
				if body != nil {
					check("admin, big body", method, path, a.Do(t, a.Admin, method, path, big))
				}
			}
			// Unknown endpoints, a stale safe_update and a bad search query.
			check("admin", "GET", "/api/v2/tickets/1/nonsense.json", a.Do(t, a.Admin, "GET", "/api/v2/tickets/1/nonsense.json", nil))
			tk := newTicket(t, a, a.Admin, map[string]any{"subject": "s", "comment": map[string]any{"body": "b"}})
			p := fmt.Sprintf("/api/v2/tickets/%d.json", testkit.ID(tk, "id"))
			check("admin", "PUT", p, a.Do(t, a.Admin, "PUT", p, map[string]any{"ticket": map[string]any{
				"subject": "x", "safe_update": true, "updated_stamp": "2001-01-01T00:00:00Z"}}))
			for _, st := range []int{401, 403, 404, 409, 413, 422} {
				if seen[st] == 0 {
					t.Errorf("no route answered %d; the walk checks nothing for it", st)
				}
			}

			// 429 on every route: a desk whose accounts get one request a minute.
			ld := testkit.Start(t, dia, func(c *server.Config) { c.RateLimit = 1 })
			la := ld.Account(t, "limited", account.Enterprise)
			la.Do(t, la.Admin, "GET", "/api/v2/users/me.json", nil)
			for _, rt := range walkRoutes(t, ld) {
				r := la.Do(t, la.Admin, rt[0], rt[1], nil)
				if r.Status != 429 {
					t.Errorf("over the limit %s %s: %d, want 429", rt[0], rt[1], r.Status)
					continue
				}
				check("over the limit", rt[0], rt[1], r)
			}
		})
	}
}
