package api_test

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// exportDesk starts a desk whose exports leave nothing out (no one-minute lag) and
// allow limit requests a minute per account.
func exportDesk(t *testing.T, dia store.Dialect, limit int) *testkit.Desk {
	return testkit.Start(t, dia, func(c *server.Config) {
		c.ExportLag = -1
		c.ExportRateLimit = limit
	})
}

// pathOf turns an absolute URL the server returned into the path and query to request.
func pathOf(t *testing.T, raw any) string {
	t.Helper()
	s, _ := raw.(string)
	u, err := url.Parse(s)
	if err != nil || s == "" {
		t.Fatalf("not a URL: %v", raw)
	}
	return u.RequestURI()
}

// walk follows an export from path until end_of_stream, collecting the records under key.
func walk(t *testing.T, a *testkit.Acct, cred testkit.Cred, path, key, next string) []map[string]any {
	t.Helper()
	var all []map[string]any
	for i := 0; ; i++ {
		if i > 50 {
			t.Fatalf("walk of %s did not end", path)
		}
		r := a.Do(t, cred, "GET", path, nil).Want(t, 200)
		all = append(all, r.List(key)...)
		if r.JSON["end_of_stream"] == true {
			return all
		}
		path = pathOf(t, r.JSON[next])
	}
}

func idsOf(list []map[string]any) []int64 {
	var out []int64
	for _, m := range list {
		out = append(out, testkit.ID(m, "id"))
	}
	return out
}

func TestIncrementalExports(t *testing.T) {
	t.Parallel()
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			d := exportDesk(t, dia, 1000)
			a := d.Account(t, "acme", account.Enterprise)
			ag := a.User(t, identity.Agent, "agnes@acme.test", "Agnes Agent")
			eu := a.User(t, identity.EndUser, "eve@acme.test", "Eve End")
			other := d.Account(t, "globex", account.Enterprise)
			foreign := newTicket(t, other, other.Admin, map[string]any{"subject": "Globex secret", "comment": map[string]any{"body": "x"}})

			var tickets []int64
			for i := range 5 {
				tk := newTicket(t, a, ag, map[string]any{"subject": fmt.Sprintf("Ticket %d", i), "comment": map[string]any{"body": "hello"}, "requester_id": eu.UserID})
				tickets = append(tickets, testkit.ID(tk, "id"))
			}
			a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tickets[0]), map[string]any{"ticket": map[string]any{"status": "pending", "comment": map[string]any{"body": "private note", "public": false}}}).Want(t, 200)
			a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/tickets/%d.json", tickets[4]), nil).Want(t, 204)

			t.Run("time-based tickets", func(t *testing.T) {
				r := a.Do(t, a.Admin, "GET", "/api/v2/incremental/tickets.json?start_time=0&per_page=2", nil).Want(t, 200)
				for _, k := range []string{"tickets", "next_page", "count", "end_time", "end_of_stream"} {
					if _, ok := r.JSON[k]; !ok {
						t.Fatalf("no %s in %s", k, r.Body)
					}
				}
				// A page holds per_page tickets, or every ticket of its one second
				// when they all share it (the walk must move on).
				if n := testkit.ID(r.JSON, "count"); n != int64(len(r.List("tickets"))) || n < 2 {
					t.Fatalf("first page: count %v, %d tickets", r.JSON["count"], len(r.List("tickets")))
				}
				all := walk(t, a, a.Admin, "/api/v2/incremental/tickets.json?start_time=0&per_page=2", "tickets", "next_page")
				got := idsOf(all)
				for _, id := range tickets {
					if !slices.Contains(got, id) {
						t.Fatalf("ticket %d missing from %v", id, got)
					}
				}
				for _, m := range all {
					if m["subject"] == foreign["subject"] {
						t.Fatal("another account's ticket in the export")
					}
				}
				last := map[int64]map[string]any{}
				for _, m := range all {
					last[testkit.ID(m, "id")] = m
					if _, ok := m["generated_timestamp"].(float64); !ok {
						t.Fatalf("generated_timestamp not a number: %v", m["generated_timestamp"])
					}
				}
				if last[tickets[4]]["status"] != "deleted" || last[tickets[0]]["status"] != "pending" {
					t.Fatalf("statuses: deleted ticket %v, updated ticket %v", last[tickets[4]]["status"], last[tickets[0]]["status"])
				}
				// Polling again from the last end_time returns no change older than it.
				end := testkit.ID(r.JSON, "end_time")
				r = a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/incremental/tickets.json?start_time=%d", end), nil).Want(t, 200)
				for _, m := range r.List("tickets") {
					if testkit.ID(m, "generated_timestamp") < end {
						t.Fatalf("ticket %v stamped %v before start_time %d", m["id"], m["generated_timestamp"], end)
					}
				}
			})

			t.Run("cursor-based tickets", func(t *testing.T) {
				r := a.Do(t, a.Admin, "GET", "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=2", nil).Want(t, 200)
				for _, k := range []string{"after_cursor", "after_url", "before_cursor", "before_url", "end_of_stream"} {
					if _, ok := r.JSON[k]; !ok {
						t.Fatalf("no %s in %s", k, r.Body)
					}
				}
				if _, ok := r.JSON["count"]; ok {
					t.Fatal("cursor exports have no count")
				}
				all := walk(t, a, a.Admin, "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=2", "tickets", "after_url")
				got := idsOf(all)
				sorted := slices.Clone(got)
				slices.Sort(sorted)
				if !slices.Equal(slices.Compact(sorted), sorted) {
					t.Fatalf("a cursor walk returned a ticket twice: %v", got)
				}
				if !slices.Equal(sorted, tickets) {
					t.Fatalf("cursor walk: %v, want %v", sorted, tickets)
				}
				// exclude_deleted leaves the deleted ticket out.
				all = walk(t, a, a.Admin, "/api/v2/incremental/tickets/cursor.json?start_time=0&exclude_deleted=true", "tickets", "after_url")
				if slices.Contains(idsOf(all), tickets[4]) {
					t.Fatal("exclude_deleted=true still exported the deleted ticket")
				}
				// After the end, the cursor waits for new changes: a ticket updated
				// now is on the next page.
				end := a.Do(t, a.Admin, "GET", "/api/v2/incremental/tickets/cursor.json?start_time=0", nil).Want(t, 200)
				a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tickets[1]), map[string]any{"ticket": map[string]any{"priority": "high"}}).Want(t, 200)
				next := a.Do(t, a.Admin, "GET", pathOf(t, end.JSON["after_url"]), nil).Want(t, 200)
				if got := idsOf(next.List("tickets")); !slices.Equal(got, []int64{tickets[1]}) {
					t.Fatalf("after the end, next page: %v, want [%d]", got, tickets[1])
				}
			})

			t.Run("sideloads", func(t *testing.T) {
				r := a.Do(t, a.Admin, "GET", "/api/v2/incremental/tickets/cursor.json?start_time=0&include=users,groups,organizations", nil).Want(t, 200)
				users := idsOf(r.List("users"))
				if !slices.Contains(users, eu.UserID) || !slices.Contains(users, ag.UserID) {
					t.Fatalf("sideloaded users %v lack requester %d and submitter %d", users, eu.UserID, ag.UserID)
				}
				if _, ok := r.JSON["groups"]; !ok {
					t.Fatal("no groups sideload")
				}
				if _, ok := r.JSON["organizations"]; !ok {
					t.Fatal("no organizations sideload")
				}
			})

			t.Run("users", func(t *testing.T) {
				for _, p := range []string{"/api/v2/incremental/users.json?start_time=0&per_page=1", "/api/v2/incremental/users/cursor.json?start_time=0&per_page=1"} {
					next := "next_page"
					if p[len("/api/v2/incremental/users"):][:1] == "/" {
						next = "after_url"
					}
					got := idsOf(walk(t, a, a.Admin, p, "users", next))
					for _, want := range []int64{a.Admin.UserID, ag.UserID, eu.UserID} {
						if !slices.Contains(got, want) {
							t.Fatalf("%s: user %d missing from %v", p, want, got)
						}
					}
					if slices.Contains(got, other.Admin.UserID) {
						t.Fatalf("%s: another account's user exported", p)
					}
				}
			})

			t.Run("organizations", func(t *testing.T) {
				keep := makeOrg(t, a, "Initech", false, false)
				gone := makeOrg(t, a, "Umbrella", false, false)
				a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/organizations/%d.json", gone), nil).Want(t, 204)
				all := walk(t, a, a.Admin, "/api/v2/incremental/organizations.json?start_time=0", "organizations", "next_page")
				byID := map[int64]map[string]any{}
				for _, m := range all {
					byID[testkit.ID(m, "id")] = m
				}
				if byID[keep]["name"] != "Initech" || byID[keep]["deleted_at"] != nil {
					t.Fatalf("live organization: %v", byID[keep])
				}
				if byID[gone] == nil || byID[gone]["deleted_at"] == nil {
					t.Fatalf("deleted organization not exported with deleted_at: %v", byID[gone])
				}
			})

			t.Run("ticket events", func(t *testing.T) {
				plain := walk(t, a, a.Admin, "/api/v2/incremental/ticket_events.json?start_time=0", "ticket_events", "next_page")
				withComments := walk(t, a, a.Admin, "/api/v2/incremental/ticket_events.json?start_time=0&include=comment_events", "ticket_events", "next_page")
				count := func(list []map[string]any, typ string) int {
					n := 0
					for _, e := range list {
						if e["event_type"] != "Audit" {
							t.Fatalf("event_type %v", e["event_type"])
						}
						for _, c := range e["child_events"].([]any) {
							if c.(map[string]any)["event_type"] == typ {
								n++
							}
						}
					}
					return n
				}
				if count(plain, "Comment") != 0 || count(withComments, "Comment") < 6 {
					t.Fatalf("comment events: %d without include, %d with", count(plain, "Comment"), count(withComments, "Comment"))
				}
				var statusChange bool
				for _, e := range plain {
					if testkit.ID(e, "ticket_id") == tickets[0] {
						for _, c := range e["child_events"].([]any) {
							cm := c.(map[string]any)
							if cm["event_type"] == "Change" && cm["status"] == "pending" && cm["previous_value"] != nil {
								statusChange = true
							}
						}
					}
				}
				if !statusChange {
					t.Fatal("no status change child event for the updated ticket")
				}
			})

			t.Run("access", func(t *testing.T) {
				for _, p := range []string{"/api/v2/incremental/tickets.json?start_time=0", "/api/v2/incremental/tickets/cursor.json?start_time=0", "/api/v2/incremental/users.json?start_time=0",
					"/api/v2/incremental/users/cursor.json?start_time=0", "/api/v2/incremental/organizations.json?start_time=0", "/api/v2/incremental/ticket_events.json?start_time=0"} {
					a.Do(t, ag, "GET", p, nil).Want(t, 403)
					a.Do(t, eu, "GET", p, nil).Want(t, 403)
					a.Do(t, testkit.Anonymous, "GET", p, nil).Want(t, 401)
				}
			})

			t.Run("bad requests", func(t *testing.T) {
				first := a.Do(t, a.Admin, "GET", "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=1", nil).Want(t, 200)
				cur := first.JSON["after_cursor"].(string)
				raw, _ := base64.RawURLEncoding.DecodeString(cur)
				raw[15]++ // the position moved by one change
				forged := base64.RawURLEncoding.EncodeToString(raw)
				// The same position, signed by another account: valid there, not here.
				theirs := other.Do(t, other.Admin, "GET", "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=1", nil).Want(t, 200).JSON["after_cursor"].(string)
				for _, p := range []string{
					"/api/v2/incremental/tickets.json",
					"/api/v2/incremental/tickets.json?start_time=yesterday",
					"/api/v2/incremental/tickets.json?start_time=-5",
					"/api/v2/incremental/tickets.json?start_time=" + strconv.FormatInt(1<<40, 10),
					"/api/v2/incremental/tickets.json?start_time=0&per_page=0",
					"/api/v2/incremental/tickets.json?start_time=0&per_page=many",
					"/api/v2/incremental/tickets/cursor.json",
					"/api/v2/incremental/tickets/cursor.json?cursor=" + forged,
					"/api/v2/incremental/tickets/cursor.json?cursor=" + theirs,
					"/api/v2/incremental/tickets/cursor.json?cursor=bm90IGEgY3Vyc29y",
					"/api/v2/incremental/users/cursor.json?cursor=" + cur,
				} {
					r := a.Do(t, a.Admin, "GET", p, nil).Want(t, 400)
					if r.JSON["error"] != "InvalidRequest" || r.JSON["description"] == "" {
						t.Fatalf("%s: body %s", p, r.Body)
					}
				}
			})

			t.Run("rate limit", func(t *testing.T) {
				lim := exportDesk(t, dia, 3)
				b := lim.Account(t, "initech", account.Team)
				for range 3 {
					b.Do(t, b.Admin, "GET", "/api/v2/incremental/users.json?start_time=0", nil).Want(t, 200)
				}
				r := b.Do(t, b.Admin, "GET", "/api/v2/incremental/tickets/cursor.json?start_time=0", nil).Want(t, 429)
				if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 || n > 60 {
					t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
				}
				if r.JSON["error"] != "TooManyRequests" {
					t.Fatalf("429 body %s", r.Body)
				}
				// Other API calls are not counted against exports, nor blocked by them.
				b.Do(t, b.Admin, "GET", "/api/v2/users/me.json", nil).Want(t, 200)
				// Another account has its own allowance.
				c := lim.Account(t, "hooli", account.Team)
				c.Do(t, c.Admin, "GET", "/api/v2/incremental/users.json?start_time=0", nil).Want(t, 200)
			})
		})
	}
}
