package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/people"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// eachDesk runs f on a fresh server per dialect.
func eachDesk(t *testing.T, f func(t *testing.T, d *testkit.Desk)) {
	t.Parallel()
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			f(t, testkit.Start(t, dia))
		})
	}
}

func newTicket(t *testing.T, a *testkit.Acct, cred testkit.Cred, body map[string]any) map[string]any {
	t.Helper()
	r := a.Do(t, cred, "POST", "/api/v2/tickets.json", map[string]any{"ticket": body}).Want(t, 201)
	return r.Obj("ticket")
}

// makeOrg creates an organization and adds members directly (the people API is tested elsewhere).
func makeOrg(t *testing.T, a *testkit.Acct, name string, shared, comments bool, members ...int64) int64 {
	t.Helper()
	ctx := context.Background()
	acct, err := a.Desk.Srv.Accounts.ByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	err = a.Desk.DB.Write(ctx, func(tx *store.Tx) error {
		now := store.Micros(store.Now())
		if err := tx.QueryRowContext(ctx, `INSERT INTO organizations (account_id, name, name_lower, shared_tickets, shared_comments, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.ID, name, strings.ToLower(name), shared, comments, now, now).Scan(&id); err != nil {
			return err
		}
		for _, m := range members {
			if _, err := people.AddMembership(ctx, tx, acct, people.System, ids.User(m), ids.Org(id), false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestTicketLifecycle(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		tk := newTicket(t, a, ag, map[string]any{
			"subject": "Printer on fire", "priority": "urgent", "tags": []string{"Hardware", "fire"},
			"comment":   map[string]any{"body": "It is <b>burning</b>.\n\nPlease help."},
			"requester": map[string]any{"name": "Bob Buyer", "email": "Bob@Example.test"},
		})
		id := testkit.ID(tk, "id")
		if id != 1 {
			t.Fatalf("first ticket of the account is #%d, want #1", id)
		}
		if tk["status"] != "new" || tk["priority"] != "urgent" || tk["description"] != "It is <b>burning</b>.\n\nPlease help." {
			t.Fatalf("ticket = %v", tk)
		}
		if tags := fmt.Sprint(tk["tags"]); tags != "[hardware fire]" {
			t.Fatalf("tags = %s", tags)
		}
		for _, k := range []string{"external_id", "assignee_id", "group_id", "organization_id", "due_at", "type"} {
			if v, ok := tk[k]; !ok || v != nil {
				t.Errorf("%s = %v (present %v), want null", k, v, ok)
			}
		}
		// The requester was created as an end user.
		reqID := testkit.ID(tk, "requester_id")
		if reqID == ag.UserID {
			t.Fatal("requester object ignored")
		}
		// .json and plain paths answer the same.
		a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d", id), nil).Want(t, 200)
		// Update: assign, reply privately, add a tag.
		up := a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{
			"status": "open", "assignee_id": ag.UserID, "additional_tags": []string{"escalated"},
			"comment": map[string]any{"body": "Calling the fire brigade", "public": false},
		}}).Want(t, 200)
		audit := up.Obj("audit")
		var kinds []string
		for _, e := range audit["events"].([]any) {
			ev := e.(map[string]any)
			kinds = append(kinds, fmt.Sprintf("%v:%v", ev["type"], ev["field_name"]))
			if ev["field_name"] == "status" && (ev["previous_value"] != "new" || ev["value"] != "open") {
				t.Errorf("status event = %v", ev)
			}
			if ev["field_name"] == "assignee_id" && ev["value"] != fmt.Sprint(ag.UserID) {
				t.Errorf("assignee event value must be a string id: %v", ev)
			}
		}
		if got := strings.Join(kinds, ","); got != "Comment:<nil>,Change:status,Change:assignee_id,Change:tags" {
			t.Fatalf("events = %s", got)
		}
		// Audits: one for create, one for the update.
		audits := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", id), nil).Want(t, 200)
		if n := len(audits.List("audits")); n != 2 {
			t.Fatalf("%d audits, want 2", n)
		}
		// Each audit shows its own comment, in the list and alone.
		for i, want := range []string{"It is <b>burning</b>.\n\nPlease help.", "Calling the fire brigade"} {
			au := audits.List("audits")[i]
			one := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits/%d", id, testkit.ID(au, "id")), nil).Want(t, 200).Obj("audit")
			for _, obj := range []map[string]any{au, one} {
				var bodies []any
				for _, e := range obj["events"].([]any) {
					if ev := e.(map[string]any); ev["type"] == "Comment" {
						bodies = append(bodies, ev["body"])
					}
				}
				if len(bodies) != 1 || bodies[0] != want {
					t.Fatalf("audit %d's comments = %v, want [%q]", i, bodies, want)
				}
			}
		}
		// Comments: both, with html escaped.
		cs := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", id), nil).Want(t, 200).List("comments")
		if len(cs) != 2 || cs[1]["public"] != false {
			t.Fatalf("comments = %v", cs)
		}
		if h := cs[0]["html_body"].(string); strings.Contains(h, "<b>") || !strings.Contains(h, "&lt;b&gt;") {
			t.Fatalf("plain-text body must be escaped in html_body: %s", h)
		}
		// Tags endpoints: replace, add, remove.
		a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/tickets/%d/tags.json", id), map[string]any{"tags": []string{"a", "b"}}).Want(t, 201)
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d/tags", id), map[string]any{"tags": []string{"c"}}).Want(t, 200)
		tags := a.Do(t, ag, "DELETE", fmt.Sprintf("/api/v2/tickets/%d/tags", id), map[string]any{"tags": []string{"a"}}).Want(t, 200)
		if got := fmt.Sprint(tags.JSON["tags"]); got != "[b c]" {
			t.Fatalf("tags = %s", got)
		}
		// safe_update with a stale stamp: 409.
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{
			"subject": "x", "safe_update": true, "updated_stamp": "2001-01-01T00:00:00Z"}}).Want(t, 409)
		// Solve then close: a closed ticket cannot be updated.
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"status": "closed"}}).Want(t, 200)
		r := a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"subject": "reopen"}}).Want(t, 422)
		if !strings.Contains(string(r.Body), "closed prevents ticket update") {
			t.Fatalf("body = %s", r.Body)
		}
		// Delete is soft: gone from lookups.
		id2 := testkit.ID(newTicket(t, a, ag, map[string]any{"comment": map[string]any{"body": "dup"}}), "id")
		if id2 != 2 {
			t.Fatalf("second ticket is #%d", id2)
		}
		a.Do(t, ag, "DELETE", fmt.Sprintf("/api/v2/tickets/%d", id2), nil).Want(t, 204)
		a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d", id2), nil).Want(t, 404)
	})
}

func TestTicketRolesAndEndUserVisibility(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes")
		alice := a.User(t, identity.EndUser, "alice@initech.test", "Alice")
		bob := a.User(t, identity.EndUser, "bob@initech.test", "Bob")
		carol := a.User(t, identity.EndUser, "carol@umbrella.test", "Carol")
		dave := a.User(t, identity.EndUser, "dave@umbrella.test", "Dave")
		initech := makeOrg(t, a, "Initech", true, false, alice.UserID, bob.UserID)
		makeOrg(t, a, "Umbrella", false, false, carol.UserID, dave.UserID)

		// Alice opens a request; it lands in her organization.
		req := a.Do(t, alice, "POST", "/api/v2/requests.json", map[string]any{"request": map[string]any{"subject": "VPN down", "comment": map[string]any{"body": "Since 9am"}}}).Want(t, 201).Obj("request")
		rid := testkit.ID(req, "id")
		if testkit.ID(req, "organization_id") != initech || req["visible_to_organization"] != true {
			t.Fatalf("request = %v", req)
		}
		// An agent adds an internal note and a public reply.
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d", rid), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "SECRET-NOTE internal", "public": false}}}).Want(t, 200)
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d", rid), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "We are on it"}}}).Want(t, 200)
		// Carol's request, in an organization that does not share.
		creq := a.Do(t, carol, "POST", "/api/v2/requests", map[string]any{"request": map[string]any{"subject": "Printer", "comment": map[string]any{"body": "jam"}}}).Want(t, 201).Obj("request")
		cid := testkit.ID(creq, "id")

		cases := []struct {
			name   string
			cred   testkit.Cred
			method string
			path   string
			body   any
			status int
			must   []string
			mustNo []string
		}{
			{"anonymous cannot list tickets", testkit.Anonymous, "GET", "/api/v2/tickets.json", nil, 401, []string{"Couldn't authenticate you"}, nil},
			{"end user cannot use the tickets API", alice, "GET", "/api/v2/tickets.json", nil, 403, nil, nil},
			{"end user cannot create via tickets API", alice, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "x"}}}, 403, nil, nil},
			{"agent lists all", ag, "GET", "/api/v2/tickets.json", nil, 200, []string{"VPN down", "Printer"}, nil},
			{"admin lists all", a.Admin, "GET", "/api/v2/tickets.json", nil, 200, []string{"VPN down"}, nil},
			{"alice sees own request", alice, "GET", fmt.Sprintf("/api/v2/requests/%d.json", rid), nil, 200, []string{"VPN down"}, nil},
			{"bob sees colleague's request (shared org)", bob, "GET", fmt.Sprintf("/api/v2/requests/%d.json", rid), nil, 200, []string{"VPN down"}, nil},
			{"bob lists it", bob, "GET", "/api/v2/requests.json", nil, 200, []string{"VPN down"}, []string{"Printer"}},
			{"bob cannot comment without shared_comments", bob, "PUT", fmt.Sprintf("/api/v2/requests/%d.json", rid), map[string]any{"request": map[string]any{"comment": map[string]any{"body": "me too"}}}, 403, nil, nil},
			{"dave cannot see carol's request (unshared org)", dave, "GET", fmt.Sprintf("/api/v2/requests/%d.json", cid), nil, 404, nil, nil},
			{"dave's list excludes it", dave, "GET", "/api/v2/requests.json", nil, 200, nil, []string{"Printer", "VPN"}},
			{"carol cannot see initech's request", carol, "GET", fmt.Sprintf("/api/v2/requests/%d", rid), nil, 404, nil, nil},
			{"end users never see internal notes", bob, "GET", fmt.Sprintf("/api/v2/requests/%d/comments.json", rid), nil, 200, []string{"We are on it", "Since 9am"}, []string{"SECRET-NOTE"}},
			{"requester never sees internal notes either", alice, "GET", fmt.Sprintf("/api/v2/requests/%d/comments", rid), nil, 200, []string{"We are on it"}, []string{"SECRET-NOTE"}},
			{"agent sees internal notes", ag, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments", rid), nil, 200, []string{"SECRET-NOTE"}, nil},
			{"alice replies", alice, "PUT", fmt.Sprintf("/api/v2/requests/%d", rid), map[string]any{"request": map[string]any{"comment": map[string]any{"body": "still down"}}}, 200, nil, nil},
			{"bob cannot solve alice's request", bob, "PUT", fmt.Sprintf("/api/v2/requests/%d", rid), map[string]any{"request": map[string]any{"solved": true}}, 403, nil, nil},
			{"end user cannot read audits", alice, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits", rid), nil, 403, nil, nil},
			{"anonymous cannot create requests", testkit.Anonymous, "POST", "/api/v2/requests", map[string]any{"request": map[string]any{"subject": "x", "comment": map[string]any{"body": "y"}}}, 401, nil, nil},
			{"agent ticket count", ag, "GET", "/api/v2/tickets/count.json", nil, 200, []string{`"value":2`}, nil},
			{"non-admin cannot create ticket fields", ag, "POST", "/api/v2/ticket_fields", map[string]any{"ticket_field": map[string]any{"type": "text", "title": "Order"}}, 403, nil, nil},
		}
		for _, tc := range cases {
			r := a.Do(t, tc.cred, tc.method, tc.path, tc.body)
			if r.Status != tc.status {
				t.Errorf("%s: status %d, want %d: %s", tc.name, r.Status, tc.status, r.Body)
				continue
			}
			for _, m := range tc.must {
				if !strings.Contains(string(r.Body), m) {
					t.Errorf("%s: body lacks %q: %s", tc.name, m, r.Body)
				}
			}
			for _, m := range tc.mustNo {
				if strings.Contains(string(r.Body), m) {
					t.Errorf("%s: body must not contain %q: %s", tc.name, m, r.Body)
				}
			}
		}
		// With shared_comments, a colleague may comment.
		a.Desk.DB.Write(context.Background(), func(tx *store.Tx) error {
			_, err := tx.ExecContext(context.Background(), `UPDATE organizations SET shared_comments = TRUE WHERE id = ?`, initech)
			return err
		})
		a.Do(t, bob, "PUT", fmt.Sprintf("/api/v2/requests/%d", rid), map[string]any{"request": map[string]any{"comment": map[string]any{"body": "me too"}}}).Want(t, 200)
	})
}

// An update is answered "not found" for a missing or deleted ticket before its body is
// judged, whether or not the caller sees every ticket (an admin's update has no read
// before its write, so the write's own read answers it).
func TestUpdateMissingTicketNotFoundBeforeBody(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		gone := testkit.ID(newTicket(t, a, a.Admin, map[string]any{"subject": "Gone", "comment": map[string]any{"body": "x"}}), "id")
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/tickets/%d", gone), nil).Want(t, 204)
		live := testkit.ID(newTicket(t, a, a.Admin, map[string]any{"subject": "Live", "comment": map[string]any{"body": "x"}}), "id")
		bad := map[string]any{"ticket": map[string]any{"status": nil}}
		good := map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "hello"}}}
		for _, c := range []struct {
			id   int64
			body map[string]any
			want int
		}{
			{gone, bad, 404}, {gone, good, 404}, {live + 100, bad, 404}, {live + 100, good, 404},
			{live, bad, 422}, {live, good, 200},
		} {
			r := a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", c.id), c.body)
			if r.Status != c.want {
				t.Errorf("PUT ticket %d %v: %d, want %d: %s", c.id, c.body, r.Status, c.want, r.Body)
			}
		}
	})
}

func TestTenantIsolationTickets(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		b := d.Account(t, "globex", account.Enterprise)
		bt := newTicket(t, b, b.Admin, map[string]any{"subject": "Globex secret", "comment": map[string]any{"body": "B-ONLY"}})
		bid := testkit.ID(bt, "id")
		// Account A has no tickets; every id-taking endpoint for B's ticket must 404 for A.
		paths := []struct{ method, path string }{
			{"GET", "/api/v2/tickets/%d"}, {"PUT", "/api/v2/tickets/%d"}, {"DELETE", "/api/v2/tickets/%d"},
			{"GET", "/api/v2/tickets/%d/comments"}, {"GET", "/api/v2/tickets/%d/audits"}, {"GET", "/api/v2/tickets/%d/tags"},
			{"POST", "/api/v2/tickets/%d/tags"}, {"GET", "/api/v2/requests/%d"}, {"PUT", "/api/v2/requests/%d"},
			{"GET", "/api/v2/tickets/%d/comments/count"}, {"GET", "/api/v2/users/%d/tickets/requested"}, {"GET", "/api/v2/organizations/%d/tickets"},
		}
		body := map[string]any{"ticket": map[string]any{"subject": "pwned", "comment": map[string]any{"body": "pwned"}}, "tags": []string{"pwned"}, "request": map[string]any{"comment": map[string]any{"body": "pwned"}}}
		for _, p := range paths {
			id := bid
			if strings.Contains(p.path, "users") {
				id = b.Admin.UserID
			}
			r := a.Do(t, a.Admin, p.method, fmt.Sprintf(p.path, id), body)
			if r.Status != 404 {
				t.Errorf("%s %s with A's admin: %d, want 404: %s", p.method, p.path, r.Status, r.Body)
			}
		}
		// show_many silently omits B's ticket; lists show nothing of B.
		r := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/show_many?ids=%d", bid), nil).Want(t, 200)
		if strings.Contains(string(r.Body), "Globex") {
			t.Fatal("show_many leaked another account's ticket")
		}
		// A's token does not authenticate on B's host.
		if r := b.Do(t, a.Admin, "GET", "/api/v2/tickets", nil); r.Status != 401 {
			t.Fatalf("A's token on B: %d", r.Status)
		}
		// B's ticket is unchanged.
		after := b.Do(t, b.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d", bid), nil).Want(t, 200).Obj("ticket")
		if after["subject"] != "Globex secret" || len(after["tags"].([]any)) != 0 || after["updated_at"] != bt["updated_at"] {
			t.Fatalf("B's ticket changed: %v", after)
		}
		// Ticket numbers are per account.
		if id := testkit.ID(newTicket(t, a, a.Admin, map[string]any{"comment": map[string]any{"body": "first at A"}}), "id"); id != 1 {
			t.Fatalf("A's first ticket is #%d", id)
		}
	})
}

func TestTicketBadInput(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		tk := newTicket(t, a, a.Admin, map[string]any{"subject": "Original", "comment": map[string]any{"body": "hello"}})
		id := testkit.ID(tk, "id")
		path := fmt.Sprintf("/api/v2/tickets/%d.json", id)
		cases := []struct {
			name   string
			method string
			path   string
			body   any
			status int
			must   string
		}{
			{"malformed JSON", "PUT", path, `{"ticket": {"subject": "x"`, 400, "not valid JSON"},
			{"not an object", "PUT", path, `[1,2]`, 422, ""},
			{"empty body", "PUT", path, ``, 400, "empty"},
			{"trailing garbage", "PUT", path, `{"ticket":{}} xyz`, 400, "after the JSON"},
			{"wrong type subject", "PUT", path, `{"ticket": {"subject": 42}}`, 422, `"subject"`},
			{"wrong type tags", "PUT", path, `{"ticket": {"tags": "a b"}}`, 422, `"tags"`},
			{"wrong type assignee", "PUT", path, `{"ticket": {"assignee_id": "abc"}}`, 422, "assignee_id"},
			{"invalid status", "PUT", path, `{"ticket": {"status": "exploded"}}`, 422, "status"},
			{"invalid priority", "PUT", path, `{"ticket": {"priority": "meh"}}`, 422, "priority"},
			{"unknown assignee", "PUT", path, `{"ticket": {"assignee_id": 999999}}`, 422, "assignee_id"},
			{"unknown group", "PUT", path, `{"ticket": {"group_id": 999999}}`, 422, "group_id"},
			{"overlong subject", "PUT", path, map[string]any{"ticket": map[string]any{"subject": strings.Repeat("x", 300)}}, 422, "TooLong"},
			{"overlong comment", "PUT", path, map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": strings.Repeat("x", 70000)}}}, 422, "TooLong"},
			{"oversized body", "PUT", path, map[string]any{"ticket": map[string]any{"subject": strings.Repeat("x", 2<<20)}}, 413, "limit"},
			{"non-UTF-8", "PUT", path, []byte("{\"ticket\": {\"subject\": \"\xff\xfe\"}}"), 400, "UTF-8"},
			{"missing envelope", "PUT", path, `{"subject": "x"}`, 422, "ticket"},
			{"create without comment", "POST", "/api/v2/tickets", `{"ticket": {"subject": "no body"}}`, 422, "description"},
			{"create with bad requester email", "POST", "/api/v2/tickets", `{"ticket": {"comment": {"body": "x"}, "requester": {"email": "not-an-email"}}}`, 422, "requester"},
			{"status back to new", "PUT", path, `{"ticket": {"status": "new"}}`, 200, ""},
			{"bad id in path", "GET", "/api/v2/tickets/abc", nil, 404, "RecordNotFound"},
			{"unknown path", "GET", "/api/v2/no_such_thing", nil, 404, `{"error":"InvalidEndpoint","description":"Not found"}`},
			{"unknown path under a resource", "GET", "/api/v2/tickets/1/nonsense.json", nil, 404, `{"error":"InvalidEndpoint","description":"Not found"}`},
			{"unknown POST path under a resource", "POST", "/api/v2/tickets/1/nonsense", `{}`, 404, `{"error":"InvalidEndpoint","description":"Not found"}`},
			{"unknown path outside v2", "GET", "/api/v3/tickets.json", nil, 404, `{"error":"InvalidEndpoint","description":"Not found"}`},
			{"missing record", "GET", "/api/v2/tickets/987654321.json", nil, 404, `{"error":"RecordNotFound","description":"Not found"}`},
			{"wrong method", "PATCH", "/api/v2/tickets/count.json", nil, 405, "GET"},
			{"show_many over 100", "GET", "/api/v2/tickets/show_many?ids=" + strings.Repeat("1,", 101) + "1", nil, 400, "TooManyValues"},
			{"bad page size", "GET", "/api/v2/tickets?page[size]=zero", nil, 400, "page[size]"},
			{"bad cursor", "GET", "/api/v2/tickets?page[after]=!!!", nil, 400, "cursor"},
			{"offset past 10000", "GET", "/api/v2/tickets?page=101&per_page=100", nil, 400, "cursor pagination"},
		}
		for _, tc := range cases {
			r := a.Do(t, a.Admin, tc.method, tc.path, tc.body)
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.must) {
				t.Errorf("%s: %d %s, want %d containing %q", tc.name, r.Status, truncate(r.Body), tc.status, tc.must)
			}
		}
		// Unknown fields are ignored.
		a.Do(t, a.Admin, "PUT", path, `{"ticket": {"subject": "Renamed", "no_such_field": {"x": 1}}}`).Want(t, 200)
		after := a.Do(t, a.Admin, "GET", path, nil).Want(t, 200).Obj("ticket")
		if after["subject"] != "Renamed" || after["status"] != "new" {
			t.Fatalf("data changed by bad input: %v", after)
		}
		var audits int
		a.Desk.DB.R().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM ticket_audits`).Scan(&audits)
		if audits != 2 {
			t.Fatalf("%d audits after bad input, want 2 (create + rename)", audits)
		}
	})
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

func TestPaginationBothModes(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		for i := 0; i < 7; i++ {
			newTicket(t, a, a.Admin, map[string]any{"subject": fmt.Sprintf("T%d", i+1), "comment": map[string]any{"body": "x"}})
		}
		// Offset.
		r := a.Do(t, a.Admin, "GET", "/api/v2/tickets.json?per_page=3&page=2", nil).Want(t, 200)
		if testkit.ID(r.JSON, "count") != 7 || len(r.List("tickets")) != 3 || r.JSON["next_page"] == nil || r.JSON["previous_page"] == nil {
			t.Fatalf("offset page = %s", r.Body)
		}
		// Cursor: walk forward, then back.
		var seen []string
		next := "/api/v2/tickets.json?page[size]=3"
		var lastBefore string
		for next != "" {
			r := a.Do(t, a.Admin, "GET", next, nil).Want(t, 200)
			if _, has := r.JSON["count"]; has {
				t.Fatal("cursor responses carry no count")
			}
			for _, tk := range r.List("tickets") {
				seen = append(seen, tk["subject"].(string))
			}
			meta := r.Obj("meta")
			lastBefore, _ = meta["before_cursor"].(string)
			next = ""
			if meta["has_more"] == true {
				next = "/api/v2/tickets.json?page[size]=3&page[after]=" + meta["after_cursor"].(string)
			}
		}
		if got := strings.Join(seen, ","); got != "T1,T2,T3,T4,T5,T6,T7" {
			t.Fatalf("cursor walk = %s", got)
		}
		back := a.Do(t, a.Admin, "GET", "/api/v2/tickets.json?page[size]=3&page[before]="+lastBefore, nil).Want(t, 200)
		var subj []string
		for _, tk := range back.List("tickets") {
			subj = append(subj, tk["subject"].(string))
		}
		if got := strings.Join(subj, ","); got != "T4,T5,T6" {
			t.Fatalf("before page = %s", got)
		}
		desc := a.Do(t, a.Admin, "GET", "/api/v2/tickets.json?page[size]=2&sort=-created_at", nil).Want(t, 200).List("tickets")
		if desc[0]["subject"] != "T7" {
			t.Fatalf("sort=-created_at first = %v", desc[0]["subject"])
		}
	})
}

func TestBulkTicketsJobs(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		var list []map[string]any
		for i := 0; i < 12; i++ {
			list = append(list, map[string]any{"subject": fmt.Sprintf("bulk %d", i), "comment": map[string]any{"body": "x"}})
		}
		list[5] = map[string]any{"subject": "bad", "priority": "meh", "comment": map[string]any{"body": "x"}}
		job := a.Do(t, a.Admin, "POST", "/api/v2/tickets/create_many.json", map[string]any{"tickets": list}).Want(t, 200).Obj("job_status")
		js := waitJob(t, a, job["id"].(string))
		results := js["results"].([]any)
		if len(results) != 12 {
			t.Fatalf("results = %v", results)
		}
		if bad := results[5].(map[string]any); bad["error"] == nil {
			t.Fatalf("bad row result = %v", bad)
		}
		count := a.Do(t, a.Admin, "GET", "/api/v2/tickets/count", nil).Want(t, 200).Obj("count")
		if testkit.ID(count, "value") != 11 {
			t.Fatalf("count = %v", count)
		}
		up := a.Do(t, a.Admin, "PUT", "/api/v2/tickets/update_many.json?ids=1,2,3", map[string]any{"ticket": map[string]any{"status": "solved"}}).Want(t, 200).Obj("job_status")
		waitJob(t, a, up["id"].(string))
		tk := a.Do(t, a.Admin, "GET", "/api/v2/tickets/2", nil).Want(t, 200).Obj("ticket")
		if tk["status"] != "solved" {
			t.Fatalf("status after update_many = %v", tk["status"])
		}
		over := make([]map[string]any, 101)
		a.Do(t, a.Admin, "POST", "/api/v2/tickets/create_many", map[string]any{"tickets": over}).Want(t, 400)
	})
}

func waitJob(t *testing.T, a *testkit.Acct, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		js := a.Do(t, a.Admin, "GET", "/api/v2/job_statuses/"+id+".json", nil).Want(t, 200).Obj("job_status")
		if js["status"] == "completed" {
			return js
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("job %s never completed", id)
	return nil
}

func TestCustomFieldsStringValues(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		f := a.Do(t, a.Admin, "POST", "/api/v2/ticket_fields.json", map[string]any{"ticket_field": map[string]any{"type": "integer", "title": "Order number"}}).Want(t, 201).Obj("ticket_field")
		fid := testkit.ID(f, "id")
		if f["key"] != "order_number" {
			t.Fatalf("key = %v", f["key"])
		}
		tk := newTicket(t, a, a.Admin, map[string]any{"comment": map[string]any{"body": "x"}, "custom_fields": []any{map[string]any{"id": fid, "value": 1234}}})
		cf := tk["custom_fields"].([]any)[0].(map[string]any)
		if cf["value"] != "1234" {
			t.Fatalf("integer field value must be serialised as a string: %#v", cf["value"])
		}
		r := a.Do(t, a.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "x"}, "custom_fields": []any{map[string]any{"id": fid, "value": "twelve"}}}}).Want(t, 422)
		if !strings.Contains(string(r.Body), "whole number") {
			t.Fatalf("body = %s", r.Body)
		}
	})
}

func TestGroupMappingAndDefaultOrganization(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		alice := a.User(t, identity.EndUser, "alice@initech.test", "Alice")
		ctx := context.Background()
		var gid int64
		a.Desk.DB.Write(ctx, func(tx *store.Tx) error {
			now := store.Micros(store.Now())
			return tx.QueryRowContext(ctx, `INSERT INTO groups (account_id, name, created_at, updated_at) VALUES (?, 'Premium', ?, ?) RETURNING id`, a.ID, now, now).Scan(&gid)
		})
		oid := makeOrg(t, a, "Initech", false, false, alice.UserID)
		a.Desk.DB.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE organizations SET group_id = ? WHERE id = ?`, gid, oid)
			return err
		})
		tk := newTicket(t, a, a.Admin, map[string]any{"requester_id": alice.UserID, "comment": map[string]any{"body": "help"}})
		if testkit.ID(tk, "organization_id") != oid || testkit.ID(tk, "group_id") != gid {
			t.Fatalf("org/group = %v/%v, want %d/%d", tk["organization_id"], tk["group_id"], oid, gid)
		}
	})
}

// TestConcurrentCreatesSameNewRequester: several clients open tickets for the same new
// requester at once; every create succeeds and the requester exists once.
func TestConcurrentCreatesSameNewRequester(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		const n = 12
		statuses := make(chan int, n)
		for i := 0; i < n; i++ {
			go func() {
				r, err := a.Try(a.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{
					"comment": map[string]any{"body": fmt.Sprint("race ", i)}, "requester": map[string]any{"name": "Nina New", "email": "nina@new.test"}}})
				if err != nil {
					statuses <- 0
					return
				}
				statuses <- r.Status
			}()
		}
		for i := 0; i < n; i++ {
			if s := <-statuses; s != 201 {
				t.Fatalf("a concurrent create answered %d", s)
			}
		}
		var users int
		d.DB.R().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM users WHERE email = 'nina@new.test'`).Scan(&users)
		if users != 1 {
			t.Fatalf("%d users for one new requester", users)
		}
	})
}

// TestWriteResponseWithoutRereads: the response to a create or an update renders the
// account's active fields as the write read them, a new ticket's sharing as empty and a
// new comment's attachments as none, without reading any of them again; the response
// must show what a read of the ticket shows.
func TestWriteResponseWithoutRereads(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		field := func(title string) int64 {
			f := a.Do(t, a.Admin, "POST", "/api/v2/ticket_fields.json", map[string]any{"ticket_field": map[string]any{"type": "text", "title": title}}).Want(t, 201).Obj("ticket_field")
			return testkit.ID(f, "id")
		}
		kept, gone := field("Order"), field("Old field")
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/ticket_fields/%d.json", gone), map[string]any{"ticket_field": map[string]any{"active": false}}).Want(t, 200)
		check := func(what string, tk map[string]any, want any) {
			t.Helper()
			cf := tk["custom_fields"].([]any)
			if len(cf) != 1 || testkit.ID(cf[0].(map[string]any), "id") != kept || cf[0].(map[string]any)["value"] != want {
				t.Fatalf("%s: custom_fields = %v, want only field %d = %v", what, cf, kept, want)
			}
			if ids, ok := tk["sharing_agreement_ids"].([]any); !ok || len(ids) != 0 {
				t.Fatalf("%s: sharing_agreement_ids = %#v", what, tk["sharing_agreement_ids"])
			}
			if sh, ok := tk["sharing"].([]any); !ok || len(sh) != 0 {
				t.Fatalf("%s: sharing = %#v", what, tk["sharing"])
			}
		}
		attachments := func(what string, r *testkit.Resp) {
			t.Helper()
			for _, e := range r.Obj("audit")["events"].([]any) {
				ev := e.(map[string]any)
				if ev["type"] != "Comment" {
					continue
				}
				if atts, ok := ev["attachments"].([]any); !ok || len(atts) != 0 {
					t.Fatalf("%s: comment attachments = %#v", what, ev["attachments"])
				}
				return
			}
			t.Fatalf("%s: no Comment event in %v", what, r.Obj("audit"))
		}
		// Tags and a field value: the write reads the fields.
		r := a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "s", "tags": []string{"x"},
			"comment": map[string]any{"body": "hello"}, "custom_fields": []any{map[string]any{"id": kept, "value": "A-1"}}}}).Want(t, 201)
		tk := r.Obj("ticket")
		check("create with fields", tk, "A-1")
		attachments("create with fields", r)
		id := testkit.ID(tk, "id")
		check("show", a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d.json", id), nil).Want(t, 200).Obj("ticket"), "A-1")
		// Neither tags nor fields: the response reads the fields.
		r = a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "s", "comment": map[string]any{"body": "hello"}}}).Want(t, 201)
		check("create without fields", r.Obj("ticket"), nil)
		// An update reads the ticket's shares.
		r = a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "again"}, "additional_tags": []string{"y"}}}).Want(t, 200)
		check("update", r.Obj("ticket"), "A-1")
		attachments("update", r)
		// A comment alone: the write takes the fields this process keeps at its settings
		// version, and a field added since is shown (the kept copy is not taken).
		r = a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "once more"}}}).Want(t, 200)
		check("update with a comment", r.Obj("ticket"), "A-1")
		added := field("Added")
		r = a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "after a new field"}}}).Want(t, 200)
		if cf := r.Obj("ticket")["custom_fields"].([]any); len(cf) != 2 || testkit.ID(cf[1].(map[string]any), "id") != added {
			t.Fatalf("update after a field was added: custom_fields = %v, want %d and %d", cf, kept, added)
		}
	})
}
