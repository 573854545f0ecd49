package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/importer"
	"tandem/internal/testkit"
)

// runJob posts a bulk request as cred, checks the answer is a job_status, and returns
// the completed job's results.
func runJob(t *testing.T, a *testkit.Acct, cred testkit.Cred, method, path string, body any) []map[string]any {
	t.Helper()
	js := a.Do(t, cred, method, path, body).Want(t, 200).Obj("job_status")
	id, _ := js["id"].(string)
	if !strings.HasPrefix(id, "V3-") || js["status"] != "queued" || !strings.HasSuffix(fmt.Sprint(js["url"]), "/api/v2/job_statuses/"+id+".json") {
		t.Fatalf("%s %s: job_status = %v", method, path, js)
	}
	done := peopleWaitJob(t, a, id)
	if testkit.ID(done, "progress") != testkit.ID(done, "total") {
		t.Errorf("completed job progress %v of %v", done["progress"], done["total"])
	}
	raw, _ := done["results"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, x := range raw {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

// wantResults compares job results with wants: each want is key=value pairs that the
// result must have ("-key" means the key must be absent).
func wantResults(t *testing.T, what string, got []map[string]any, wants ...string) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("%s: %d results, want %d: %v", what, len(got), len(wants), got)
	}
	for i, w := range wants {
		for _, kv := range strings.Fields(w) {
			k, v, _ := strings.Cut(kv, "=")
			if name, absent := strings.CutPrefix(k, "-"); absent {
				if _, ok := got[i][name]; ok {
					t.Errorf("%s: result %d has %s: %v", what, i, name, got[i])
				}
				continue
			}
			if fmt.Sprint(got[i][k]) != v {
				t.Errorf("%s: result %d: %s = %v, want %s (%v)", what, i, k, got[i][k], v, got[i])
			}
		}
	}
}

// userUpdatedAt reads a user's updated_at as stored (to the microsecond).
func userUpdatedAt(t *testing.T, a *testkit.Acct, id int64) int64 {
	t.Helper()
	var at int64
	if err := a.Desk.DB.R().QueryRowContext(context.Background(), `SELECT updated_at FROM users WHERE account_id = ? AND id = ?`, a.ID, id).Scan(&at); err != nil {
		t.Fatal(err)
	}
	return at
}

func TestBulkUsers(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		agent := a.User(t, identity.Agent, "agent@acme.test", "Agnes")
		eu := a.User(t, identity.EndUser, "eve@acme.test", "Eve")

		// create_many: each item alone; a bad one fails with its reason.
		res := runJob(t, a, a.Admin, "POST", "/api/v2/users/create_many.json", map[string]any{"users": []any{
			map[string]any{"name": "Ann", "email": "ann@acme.test", "external_id": "ANN"},
			map[string]any{"name": "Eve Again", "email": "EVE@acme.test"},
			map[string]any{"name": "Bad", "email": "nope"},
			map[string]any{"name": "Ada", "email": "ada@acme.test", "role": "admin"},
		}})
		wantResults(t, "create_many", res,
			"index=0 status=Created email=ann@acme.test external_id=ANN",
			"index=1 error=DuplicateValue success=false",
			"index=2 error=InvalidValue success=false",
			"index=3 status=Created")
		ann := testkit.ID(res[0], "id")

		// Agents may create end users, not staff.
		res = runJob(t, a, agent, "POST", "/api/v2/users/create_many", map[string]any{"users": []any{
			map[string]any{"name": "Bo", "email": "bo@acme.test"},
			map[string]any{"name": "Boss", "email": "boss@acme.test", "role": "admin"},
		}})
		wantResults(t, "agent create_many", res, "status=Created", "error=Forbidden")
		a.Do(t, eu, "POST", "/api/v2/users/create_many", map[string]any{"users": []any{map[string]any{"name": "X"}}}).Want(t, 403)

		// create_or_update_many: an identical item writes nothing.
		res = runJob(t, a, a.Admin, "POST", "/api/v2/users/create_or_update_many", map[string]any{"users": []any{
			map[string]any{"name": "Ann", "email": "ann@acme.test"},
			map[string]any{"external_id": "ANN", "notes": "likes tea"},
			map[string]any{"name": "Cy", "email": "cy@acme.test"},
		}})
		wantResults(t, "create_or_update_many", res,
			fmt.Sprintf("status=Updated id=%d unchanged=true", ann),
			fmt.Sprintf("status=Updated id=%d -unchanged", ann),
			"status=Created -unchanged")
		u := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d", ann), nil).Want(t, 200).Obj("user")
		if u["notes"] != "likes tea" || u["name"] != "Ann" {
			t.Errorf("ann after create_or_update_many = %v", u)
		}
		stamp := userUpdatedAt(t, a, ann)
		again := runJob(t, a, a.Admin, "POST", "/api/v2/users/create_or_update_many", map[string]any{"users": []any{map[string]any{"external_id": "ANN", "notes": "likes tea"}}})
		wantResults(t, "identical create_or_update_many", again, "unchanged=true")
		if got := userUpdatedAt(t, a, ann); got != stamp {
			t.Errorf("an unchanged item moved updated_at from %v to %v", stamp, got)
		}
		// An agent cannot update an admin through it, nor make an end user an admin.
		res = runJob(t, a, agent, "POST", "/api/v2/users/create_or_update_many", map[string]any{"users": []any{
			map[string]any{"email": "ada@acme.test", "notes": "agent was here"},
			map[string]any{"email": "eve@acme.test", "role": "admin"},
			map[string]any{"email": "eve@acme.test", "notes": "agent note"},
		}})
		wantResults(t, "agent create_or_update_many", res, "error=Forbidden", "error=Forbidden", "status=Updated")

		// update_many: one body for ?ids= or ?external_ids=, or a list.
		res = runJob(t, a, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/update_many?ids=%d,%d,999999", ann, eu.UserID), map[string]any{"user": map[string]any{"tags": []string{"vip"}}})
		wantResults(t, "update_many ids", res,
			fmt.Sprintf("action=update id=%d status=Updated success=true", ann),
			fmt.Sprintf("id=%d status=Updated", eu.UserID),
			"id=999999 error=RecordNotFound success=false")
		res = runJob(t, a, a.Admin, "PUT", "/api/v2/users/update_many?external_ids=ANN", map[string]any{"user": map[string]any{"tags": []string{"vip"}}})
		wantResults(t, "update_many external_ids unchanged", res, fmt.Sprintf("id=%d unchanged=true", ann))
		res = runJob(t, a, agent, "PUT", "/api/v2/users/update_many", map[string]any{"users": []any{
			map[string]any{"id": eu.UserID, "phone": "123"},
			map[string]any{"external_id": "ANN", "role": "agent"},
			map[string]any{"name": "nobody"},
		}})
		wantResults(t, "agent update_many list", res, "status=Updated", "error=Forbidden id=ANN", "error=BlankValue")

		// destroy_many: admins only; nobody deletes themselves.
		a.Do(t, agent, "DELETE", fmt.Sprintf("/api/v2/users/destroy_many?ids=%d", ann), nil).Want(t, 403)
		res = runJob(t, a, a.Admin, "DELETE", fmt.Sprintf("/api/v2/users/destroy_many?ids=%d,%d", ann, a.Admin.UserID), nil)
		wantResults(t, "destroy_many", res, fmt.Sprintf("action=delete id=%d status=Deleted success=true", ann), "error=Forbidden")
		if u := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d", ann), nil).Want(t, 200).Obj("user"); u["active"] != false {
			t.Errorf("destroyed user = %v", u)
		}

		// At most 100 items or IDs a call.
		many := make([]map[string]any, 101)
		for i := range many {
			many[i] = map[string]any{"name": fmt.Sprint(i)}
		}
		for _, c := range []struct{ method, path string }{
			{"POST", "/api/v2/users/create_many"}, {"POST", "/api/v2/users/create_or_update_many"}, {"PUT", "/api/v2/users/update_many"},
		} {
			r := a.Do(t, a.Admin, c.method, c.path, map[string]any{"users": many}).Want(t, 400)
			if r.JSON["error"] != "TooManyValues" {
				t.Errorf("%s over 100 = %s", c.path, r.Body)
			}
		}
		ids101 := strings.TrimSuffix(strings.Repeat("1,", 101), ",")
		a.Do(t, a.Admin, "DELETE", "/api/v2/users/destroy_many?ids="+ids101, nil).Want(t, 400)
		a.Do(t, a.Admin, "PUT", "/api/v2/users/update_many?ids="+ids101, map[string]any{"user": map[string]any{"notes": "x"}}).Want(t, 400)
	})
}

func TestBulkOrganizations(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		agent := a.User(t, identity.Agent, "agent@acme.test", "Agnes")
		res := runJob(t, a, a.Admin, "POST", "/api/v2/organizations/create_or_update_many", map[string]any{"organizations": []any{
			map[string]any{"name": "One", "external_id": "O-1"},
			map[string]any{"name": "Two", "external_id": "O-2", "notes": "n"},
			map[string]any{"name": "one"},
		}})
		wantResults(t, "create_or_update_many", res, "status=Created", "status=Created", "error=DuplicateValue")
		one, two := testkit.ID(res[0], "id"), testkit.ID(res[1], "id")
		res = runJob(t, a, a.Admin, "POST", "/api/v2/organizations/create_or_update_many", map[string]any{"organizations": []any{
			map[string]any{"external_id": "O-1", "name": "One"},
			map[string]any{"id": two, "details": "d"},
		}})
		wantResults(t, "create_or_update_many again", res, fmt.Sprintf("id=%d status=Updated unchanged=true", one), fmt.Sprintf("id=%d status=Updated -unchanged", two))
		a.Do(t, agent, "POST", "/api/v2/organizations/create_or_update_many", map[string]any{"organizations": []any{map[string]any{"name": "X"}}}).Want(t, 403)

		// update_many: agents may change notes only, as on PUT /organizations/{id}.
		res = runJob(t, a, agent, "PUT", fmt.Sprintf("/api/v2/organizations/update_many?ids=%d,%d", one, two), map[string]any{"organization": map[string]any{"notes": "n"}})
		wantResults(t, "agent update_many notes", res, fmt.Sprintf("action=update id=%d status=Updated success=true", one), fmt.Sprintf("id=%d unchanged=true", two))
		res = runJob(t, a, agent, "PUT", "/api/v2/organizations/update_many", map[string]any{"organizations": []any{
			map[string]any{"external_id": "O-1", "shared_tickets": true},
		}})
		wantResults(t, "agent update_many shared_tickets", res, "error=Forbidden id=O-1")
		res = runJob(t, a, a.Admin, "PUT", "/api/v2/organizations/update_many?external_ids=O-1,nope", map[string]any{"organization": map[string]any{"shared_tickets": true}})
		wantResults(t, "admin update_many", res, fmt.Sprintf("id=%d status=Updated", one), "id=nope error=RecordNotFound")
		if o := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/organizations/%d", one), nil).Want(t, 200).Obj("organization"); o["shared_tickets"] != true || o["notes"] != "n" {
			t.Errorf("organization after update_many = %v", o)
		}

		a.Do(t, agent, "DELETE", fmt.Sprintf("/api/v2/organizations/destroy_many?ids=%d", one), nil).Want(t, 403)
		res = runJob(t, a, a.Admin, "DELETE", fmt.Sprintf("/api/v2/organizations/destroy_many.json?ids=%d,999999", one), nil)
		wantResults(t, "destroy_many", res, fmt.Sprintf("action=delete id=%d status=Deleted", one), "id=999999 error=RecordNotFound")
		a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/organizations/%d", one), nil).Want(t, 404)
		a.Do(t, a.Admin, "POST", "/api/v2/organizations/create_or_update_many", map[string]any{"organizations": make([]map[string]any, 101)}).Want(t, 400)
	})
}

func TestBulkPeopleTenantIsolation(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		b := d.Account(t, "globex", account.Enterprise)
		bu := b.User(t, identity.EndUser, "bob@globex.test", "Bob")
		bo := testkit.ID(postObj(t, b, b.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "Globex Org", "external_id": "G-1"}), "id")
		b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", bu.UserID), map[string]any{"user": map[string]any{"external_id": "B-1"}}).Want(t, 200)
		bobBefore := b.Do(t, b.Admin, "GET", fmt.Sprintf("/api/v2/users/%d", bu.UserID), nil).Want(t, 200).Body

		res := runJob(t, a, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/update_many?ids=%d", bu.UserID), map[string]any{"user": map[string]any{"name": "Hijacked"}})
		wantResults(t, "update another account's user", res, "error=RecordNotFound")
		res = runJob(t, a, a.Admin, "DELETE", fmt.Sprintf("/api/v2/users/destroy_many?ids=%d&external_ids=B-1", bu.UserID), nil)
		wantResults(t, "delete another account's user", res, "error=RecordNotFound", "error=RecordNotFound")
		res = runJob(t, a, a.Admin, "POST", "/api/v2/users/create_or_update_many", map[string]any{"users": []any{map[string]any{"name": "Acme Bob", "email": "bob@globex.test", "external_id": "B-1"}}})
		wantResults(t, "same email and external id in acme", res, "status=Created")
		res = runJob(t, a, a.Admin, "DELETE", fmt.Sprintf("/api/v2/organizations/destroy_many?ids=%d", bo), nil)
		wantResults(t, "delete another account's organization", res, "error=RecordNotFound")
		res = runJob(t, a, a.Admin, "POST", "/api/v2/organizations/create_or_update_many", map[string]any{"organizations": []any{map[string]any{"id": bo, "external_id": "G-1", "name": "Acme's own"}}})
		wantResults(t, "create_or_update_many with another account's ids", res, "status=Created")

		if after := b.Do(t, b.Admin, "GET", fmt.Sprintf("/api/v2/users/%d", bu.UserID), nil).Want(t, 200).Body; string(after) != string(bobBefore) {
			t.Errorf("globex's user changed:\n%s\n%s", bobBefore, after)
		}
		if o := b.Do(t, b.Admin, "GET", fmt.Sprintf("/api/v2/organizations/%d", bo), nil).Want(t, 200).Obj("organization"); o["name"] != "Globex Org" {
			t.Errorf("globex's organization = %v", o)
		}
	})
}

// TestEndUserInManyOrganizations: a user in 300 organizations (Professional) sees the
// shared tickets of every one of them, the 301st membership is refused with a clear
// error, and any of the 300 can be made the default.
func TestEndUserInManyOrganizations(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "pro", account.Professional)
		eu := a.User(t, identity.EndUser, "eve@pro.test", "Eve")
		colleague := a.User(t, identity.EndUser, "cole@pro.test", "Cole")
		acct, err := d.Srv.Accounts.ByID(context.Background(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var orgs, names strings.Builder
		orgs.WriteString("name,shared_tickets\n")
		for i := 1; i <= 301; i++ {
			fmt.Fprintf(&orgs, "Org %03d,%v\n", i, i != 2)
			if i <= 300 {
				if i > 1 {
					names.WriteString("|")
				}
				fmt.Fprintf(&names, "Org %03d", i)
			}
		}
		ctx := context.Background()
		if rep, err := importer.ImportOrganizations(ctx, d.DB, acct, strings.NewReader(orgs.String()), importer.Options{}, nil); err != nil || rep.Created != 301 {
			t.Fatalf("import organizations: %v %+v", err, rep)
		}
		rep, err := importer.ImportUsers(ctx, d.DB, acct, strings.NewReader("email,organization\neve@pro.test,"+names.String()+"\ncole@pro.test,Org 300|Org 001|Org 002\n"), importer.Options{}, nil)
		if err != nil || rep.Updated != 2 {
			t.Fatalf("import users: %v %+v", err, rep.Rows)
		}
		ms := a.Do(t, eu, "GET", fmt.Sprintf("/api/v2/users/%d/organization_memberships?per_page=100&page=3", eu.UserID), nil).Want(t, 200)
		if ms.JSON["count"] != float64(300) {
			t.Fatalf("eve's memberships count = %v", ms.JSON["count"])
		}
		orgID := func(name string) int64 {
			list := a.Do(t, a.Admin, "GET", "/api/v2/organizations/search?name="+strings.ReplaceAll(name, " ", "%20"), nil).Want(t, 200).List("organizations")
			if len(list) != 1 {
				t.Fatalf("organization %s: %v", name, list)
			}
			return testkit.ID(list[0], "id")
		}
		// Cole's tickets in the first, second (not sharing) and 300th organizations.
		var tickets []int64
		for _, o := range []string{"Org 001", "Org 002", "Org 300"} {
			tk := postObj(t, a, a.Admin, "/api/v2/tickets", "ticket", map[string]any{"subject": "In " + o, "requester_id": colleague.UserID,
				"organization_id": orgID(o), "comment": map[string]any{"body": "hello"}})
			tickets = append(tickets, testkit.ID(tk, "id"))
		}
		seen := ids64(a.Do(t, eu, "GET", "/api/v2/requests.json", nil).Want(t, 200).List("requests"), "id")
		if fmt.Sprint(seen) != fmt.Sprint([]int64{tickets[0], tickets[2]}) {
			t.Errorf("eve sees requests %v; want %v (Org 002 does not share tickets)", seen, []int64{tickets[0], tickets[2]})
		}
		a.Do(t, eu, "GET", fmt.Sprintf("/api/v2/requests/%d", tickets[2]), nil).Want(t, 200)
		a.Do(t, eu, "GET", fmt.Sprintf("/api/v2/requests/%d", tickets[1]), nil).Want(t, 404)

		r := a.Do(t, a.Admin, "POST", "/api/v2/organization_memberships", map[string]any{"organization_membership": map[string]any{"user_id": eu.UserID, "organization_id": orgID("Org 301")}}).Want(t, 422)
		if !strings.Contains(string(r.Body), "at most 300 organizations") || !strings.Contains(string(r.Body), "TooManyOrganizations") {
			t.Errorf("301st membership = %s", r.Body)
		}
		m := a.Do(t, eu, "PUT", fmt.Sprintf("/api/v2/users/%d/organizations/%d/make_default", eu.UserID, orgID("Org 300")), nil).Want(t, 200).Obj("organization_membership")
		if m["default"] != true {
			t.Errorf("make_default = %v", m)
		}
		if got := testkit.ID(a.Do(t, eu, "GET", "/api/v2/users/me", nil).Want(t, 200).Obj("user"), "organization_id"); got != orgID("Org 300") {
			t.Errorf("eve's organization_id = %d after make_default", got)
		}
	})
}
