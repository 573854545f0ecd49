package api_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/people"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// orgKeys is every key of Zendesk's organization object.
var orgKeys = []string{"url", "id", "name", "shared_tickets", "shared_comments", "external_id", "created_at", "updated_at",
	"domain_names", "details", "notes", "group_id", "tags", "organization_fields"}

func userOrgID(t *testing.T, a *testkit.Acct, user int64) any {
	t.Helper()
	return a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d", user), nil).Want(t, 200).Obj("user")["organization_id"]
}

func TestPeopleOrganizations(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		g := postObj(t, a, a.Admin, "/api/v2/groups.json", "group", map[string]any{"name": "Support"})
		resp := a.Do(t, a.Admin, "POST", "/api/v2/organizations.json", map[string]any{"organization": map[string]any{
			"name": " Acme Corp ", "domain_names": []string{"Acme.test", "acme.test", "@other.test"}, "shared_tickets": true,
			"group_id": testkit.ID(g, "id"), "tags": []string{"Gold"}, "notes": "pays late", "external_id": "ORG-1",
			"organization_fields": map[string]any{"region": "emea"},
		}}).Want(t, 201)
		o := resp.Obj("organization")
		oid := testkit.ID(o, "id")
		if !strings.HasSuffix(resp.Header.Get("Location"), fmt.Sprintf("/api/v2/organizations/%d.json", oid)) {
			t.Fatalf("Location = %q", resp.Header.Get("Location"))
		}
		for _, k := range orgKeys {
			if _, ok := o[k]; !ok {
				t.Errorf("organization has no %q", k)
			}
		}
		if o["name"] != "Acme Corp" || fmt.Sprint(o["domain_names"]) != "[acme.test other.test]" || o["shared_tickets"] != true ||
			o["shared_comments"] != false || testkit.ID(o, "group_id") != testkit.ID(g, "id") || o["details"] != nil || fmt.Sprint(o["tags"]) != "[gold]" {
			t.Fatalf("organization = %v", o)
		}
		// Names are unique case-insensitively; the group must exist.
		r := a.Do(t, a.Admin, "POST", "/api/v2/organizations", map[string]any{"organization": map[string]any{"name": "ACME corp"}}).Want(t, 422)
		if !strings.Contains(string(r.Body), "DuplicateValue") || !strings.Contains(string(r.Body), `"name"`) {
			t.Fatalf("duplicate name body = %s", r.Body)
		}
		r = a.Do(t, a.Admin, "POST", "/api/v2/organizations", map[string]any{"organization": map[string]any{"name": "Other", "group_id": 999999}}).Want(t, 422)
		if !strings.Contains(string(r.Body), "group_id") {
			t.Fatalf("bad group body = %s", r.Body)
		}
		// domain_names replaces the whole list, and the lookup rows follow.
		up := a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/organizations/%d", oid), map[string]any{"organization": map[string]any{"domain_names": []string{"new.test"}}}).Want(t, 200).Obj("organization")
		if fmt.Sprint(up["domain_names"]) != "[new.test]" || up["notes"] != "pays late" {
			t.Fatalf("after domain update = %v", up)
		}
		if got := domainRows(t, a); got != fmt.Sprintf("new.test:%d", oid) {
			t.Fatalf("organization_domains rows = %s", got)
		}
		// Lookups.
		beta := postObj(t, a, a.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "Beta Ltd", "external_id": "ORG-2"})
		bid := testkit.ID(beta, "id")
		checks := map[string][]int64{
			fmt.Sprintf("show_many?ids=%d,%d", oid, bid): {oid, bid},
			"show_many.json?external_ids=org-2":          {bid},
			"autocomplete?name=ac":                       {oid},
			"autocomplete?name=BET":                      {bid},
			"search?name=beta%20ltd":                     {bid},
			"search?name=beta":                           {},
			"search?external_id=ORG-1":                   {oid},
		}
		for q, want := range checks {
			got := ids64(a.Do(t, a.Admin, "GET", "/api/v2/organizations/"+q, nil).Want(t, 200).List("organizations"), "id")
			if !slices.Equal(got, want) {
				t.Errorf("%s = %v, want %v", q, got, want)
			}
		}
		if n := testkit.ID(a.Do(t, a.Admin, "GET", "/api/v2/organizations/count", nil).Want(t, 200).Obj("count"), "value"); n != 2 {
			t.Fatalf("count = %d", n)
		}
		// create_or_update matches external_id (not name).
		cu := a.Do(t, a.Admin, "POST", "/api/v2/organizations/create_or_update", map[string]any{"organization": map[string]any{"external_id": "org-2", "notes": "updated"}}).Want(t, 200).Obj("organization")
		if testkit.ID(cu, "id") != bid || cu["notes"] != "updated" || cu["name"] != "Beta Ltd" {
			t.Fatalf("create_or_update existing = %v", cu)
		}
		cu = a.Do(t, a.Admin, "POST", "/api/v2/organizations/create_or_update", map[string]any{"organization": map[string]any{"id": bid, "details": "by id"}}).Want(t, 200).Obj("organization")
		if testkit.ID(cu, "id") != bid || cu["details"] != "by id" {
			t.Fatalf("create_or_update by id = %v", cu)
		}
		a.Do(t, a.Admin, "POST", "/api/v2/organizations/create_or_update", map[string]any{"organization": map[string]any{"name": "Gamma", "external_id": "ORG-3"}}).Want(t, 201)

		// Agents: read, change notes only (when unrestricted).
		ag := a.User(t, identity.Agent, "ag@acme.test", "Agnes")
		a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/organizations/%d", oid), nil).Want(t, 200)
		if n := a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/organizations/%d", oid), map[string]any{"organization": map[string]any{"notes": "agent note"}}).Want(t, 200).Obj("organization"); n["notes"] != "agent note" {
			t.Fatalf("agent notes = %v", n)
		}
		// Sending the object back unchanged with new notes is fine; changing the name is not.
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/organizations/%d", oid), map[string]any{"organization": map[string]any{"name": "Acme Corp", "domain_names": []string{"NEW.test"}, "notes": "again"}}).Want(t, 200)
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/organizations/%d", oid), map[string]any{"organization": map[string]any{"name": "Hijacked"}}).Want(t, 403)
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", ag.UserID), map[string]any{"user": map[string]any{"ticket_restriction": "assigned"}}).Want(t, 200)
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/organizations/%d", oid), map[string]any{"organization": map[string]any{"notes": "restricted"}}).Want(t, 403)

		// create_many: a job; one bad item does not stop the others.
		job := a.Do(t, a.Admin, "POST", "/api/v2/organizations/create_many.json", map[string]any{"organizations": []map[string]any{
			{"name": "Many 1"}, {"name": "acme corp"}, {"name": "Many 3", "domain_names": []string{"many.test"}},
		}}).Want(t, 200).Obj("job_status")
		if !strings.HasPrefix(fmt.Sprint(job["id"]), "V3-") || job["status"] != "queued" || testkit.ID(job, "total") != 3 {
			t.Fatalf("job = %v", job)
		}
		js := peopleWaitJob(t, a, job["id"].(string))
		res, _ := js["results"].([]any)
		if len(res) != 3 {
			t.Fatalf("results = %v", js["results"])
		}
		r0, r1, r2 := res[0].(map[string]any), res[1].(map[string]any), res[2].(map[string]any)
		if r0["status"] != "Created" || r0["id"] == nil || r1["error"] != "DuplicateValue" || r2["status"] != "Created" {
			t.Fatalf("results = %v", res)
		}
		if n := testkit.ID(a.Do(t, a.Admin, "GET", "/api/v2/organizations/count", nil).Want(t, 200).Obj("count"), "value"); n != 5 {
			t.Fatalf("count after create_many = %d", n)
		}
		a.Do(t, a.Admin, "POST", "/api/v2/organizations/create_many", map[string]any{"organizations": make([]map[string]any, 101)}).Want(t, 400)

		// Delete: 204; memberships go; members' default organization is cleared.
		eu := a.User(t, identity.EndUser, "eu@acme.test", "Eve")
		postObj(t, a, a.Admin, "/api/v2/organization_memberships", "organization_membership", map[string]any{"user_id": eu.UserID, "organization_id": oid})
		rel := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/organizations/%d/related.json", oid), nil).Want(t, 200).Obj("organization_related")
		// The admin (admin@acme.test) joined while acme.test was a domain, and left with it.
		if testkit.ID(rel, "users_count") != 1 || testkit.ID(rel, "tickets_count") != 0 {
			t.Fatalf("related = %v", rel)
		}
		if got := ids64(a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/organizations/%d/users", oid), nil).Want(t, 200).List("users"), "id"); !slices.Equal(got, []int64{eu.UserID}) {
			t.Fatalf("org users = %v", got)
		}
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/organizations/%d.json", oid), nil).Want(t, 204)
		a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/organizations/%d", oid), nil).Want(t, 404)
		if v := userOrgID(t, a, eu.UserID); v != nil {
			t.Fatalf("user's organization after delete = %v", v)
		}
		if n := len(a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d/organization_memberships", eu.UserID), nil).Want(t, 200).List("organization_memberships")); n != 0 {
			t.Fatalf("%d memberships left", n)
		}
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/organizations/%d", oid), nil).Want(t, 404)
	})
}

func domainRows(t *testing.T, a *testkit.Acct) string {
	t.Helper()
	rows, err := a.Desk.DB.R().QueryContext(context.Background(), `SELECT domain, organization_id FROM organization_domains WHERE account_id = ? ORDER BY domain`, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		var o int64
		if err := rows.Scan(&d, &o); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s:%d", d, o))
	}
	return strings.Join(out, ",")
}

func TestPeopleOrgMemberships(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		o1 := testkit.ID(postObj(t, a, a.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "One", "shared_tickets": true}), "id")
		o2 := testkit.ID(postObj(t, a, a.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "Two"}), "id")
		eu := a.User(t, identity.EndUser, "eu@acme.test", "Eve")
		other := a.User(t, identity.EndUser, "other@acme.test", "Otto")
		m1 := postObj(t, a, a.Admin, "/api/v2/organization_memberships.json", "organization_membership", map[string]any{"user_id": eu.UserID, "organization_id": o1})
		if m1["default"] != true || m1["organization_name"] != "One" || m1["view_tickets"] != true || testkit.ID(m1, "user_id") != eu.UserID {
			t.Fatalf("first membership = %v", m1)
		}
		if v := userOrgID(t, a, eu.UserID); testkit.ID(map[string]any{"v": v}, "v") != o1 {
			t.Fatalf("user organization_id = %v, want %d", v, o1)
		}
		r := a.Do(t, a.Admin, "POST", "/api/v2/organization_memberships", map[string]any{"organization_membership": map[string]any{"user_id": eu.UserID, "organization_id": o1}}).Want(t, 422)
		if !strings.Contains(string(r.Body), "DuplicateValue") {
			t.Fatalf("duplicate membership = %s", r.Body)
		}
		a.Do(t, a.Admin, "POST", "/api/v2/organization_memberships", map[string]any{"organization_membership": map[string]any{"user_id": eu.UserID, "organization_id": 999999}}).Want(t, 422)
		a.Do(t, a.Admin, "POST", "/api/v2/organization_memberships", map[string]any{"organization_membership": map[string]any{"organization_id": o1}}).Want(t, 422)
		m2 := postObj(t, a, a.Admin, "/api/v2/organization_memberships", "organization_membership", map[string]any{"user_id": eu.UserID, "organization_id": o2})
		if m2["default"] != false {
			t.Fatalf("second membership = %v", m2)
		}
		mo := postObj(t, a, a.Admin, "/api/v2/organization_memberships", "organization_membership", map[string]any{"user_id": other.UserID, "organization_id": o2})
		// End users see only their own memberships.
		own := a.Do(t, eu, "GET", "/api/v2/organization_memberships.json", nil).Want(t, 200)
		if got := ids64(own.List("organization_memberships"), "user_id"); !slices.Equal(got, []int64{eu.UserID, eu.UserID}) {
			t.Fatalf("end user's memberships = %s", own.Body)
		}
		a.Do(t, eu, "GET", fmt.Sprintf("/api/v2/organization_memberships/%d", testkit.ID(mo, "id")), nil).Want(t, 403)
		a.Do(t, eu, "GET", fmt.Sprintf("/api/v2/users/%d/organizations", eu.UserID), nil).Want(t, 200)
		if n := len(a.Do(t, a.Admin, "GET", "/api/v2/organization_memberships", nil).Want(t, 200).List("organization_memberships")); n != 3 {
			t.Fatalf("%d memberships in the account", n)
		}
		if got := ids64(a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/organizations/%d/organization_memberships", o2), nil).Want(t, 200).List("organization_memberships"), "user_id"); !slices.Equal(got, []int64{eu.UserID, other.UserID}) {
			t.Fatalf("org 2 memberships = %v", got)
		}
		// make_default answers with the user's memberships.
		list := a.Do(t, eu, "PUT", fmt.Sprintf("/api/v2/users/%d/organization_memberships/%d/make_default.json", eu.UserID, testkit.ID(m2, "id")), nil).Want(t, 200).List("organization_memberships")
		for _, m := range list {
			if (testkit.ID(m, "id") == testkit.ID(m2, "id")) != (m["default"] == true) {
				t.Fatalf("after make_default = %v", list)
			}
		}
		if v := userOrgID(t, a, eu.UserID); testkit.ID(map[string]any{"v": v}, "v") != o2 {
			t.Fatalf("organization_id after make_default = %v", v)
		}
		// Someone else's membership through my user path: not found.
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d/organization_memberships/%d/make_default", eu.UserID, testkit.ID(mo, "id")), nil).Want(t, 404)
		// Removing the default membership promotes the other one; removing the last clears it.
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/organization_memberships/%d.json", testkit.ID(m2, "id")), nil).Want(t, 204)
		if v := userOrgID(t, a, eu.UserID); testkit.ID(map[string]any{"v": v}, "v") != o1 {
			t.Fatalf("organization_id after removing the default = %v", v)
		}
		if m := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/organization_memberships/%d", testkit.ID(m1, "id")), nil).Want(t, 200).Obj("organization_membership"); m["default"] != true {
			t.Fatalf("remaining membership = %v", m)
		}
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/users/%d/organizations/%d", eu.UserID, o1), nil).Want(t, 204)
		if v := userOrgID(t, a, eu.UserID); v != nil {
			t.Fatalf("organization_id after removing the last = %v", v)
		}
		// organization_id on the user adds a default membership (several allowed here).
		up := a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", eu.UserID), map[string]any{"user": map[string]any{"organization_id": o1}}).Want(t, 200).Obj("user")
		if testkit.ID(up, "organization_id") != o1 {
			t.Fatalf("user = %v", up)
		}
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", eu.UserID), map[string]any{"user": map[string]any{"organization_id": o2}}).Want(t, 200)
		if n := len(a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d/organization_memberships", eu.UserID), nil).Want(t, 200).List("organization_memberships")); n != 2 {
			t.Fatalf("%d memberships after setting organization_id twice", n)
		}
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", eu.UserID), map[string]any{"user": map[string]any{"organization_id": 999999}}).Want(t, 422)
		// create_many: per-item results.
		job := a.Do(t, a.Admin, "POST", "/api/v2/organization_memberships/create_many", map[string]any{"organization_memberships": []map[string]any{
			{"user_id": other.UserID, "organization_id": o1}, {"user_id": other.UserID, "organization_id": 999999}, {"user_id": other.UserID, "organization_id": o2},
		}}).Want(t, 200).Obj("job_status")
		res := peopleWaitJob(t, a, job["id"].(string))["results"].([]any)
		if res[0].(map[string]any)["status"] != "Created" || res[1].(map[string]any)["error"] == nil || res[2].(map[string]any)["error"] != "DuplicateValue" {
			t.Fatalf("create_many results = %v", res)
		}
	})
}

func TestPeopleOrgMembershipPlanLimits(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		for _, plan := range []account.Plan{account.Team, account.Growth} {
			a := d.Account(t, string(plan), plan)
			o1 := testkit.ID(postObj(t, a, a.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "One"}), "id")
			o2 := testkit.ID(postObj(t, a, a.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "Two"}), "id")
			eu := a.User(t, identity.EndUser, "eu@"+string(plan)+".test", "Eve")
			postObj(t, a, a.Admin, "/api/v2/organization_memberships", "organization_membership", map[string]any{"user_id": eu.UserID, "organization_id": o1})
			r := a.Do(t, a.Admin, "POST", "/api/v2/organization_memberships", map[string]any{"organization_membership": map[string]any{"user_id": eu.UserID, "organization_id": o2}}).Want(t, 403)
			if r.JSON["error"] != "PlanRequired" || r.JSON["required_plan"] != "professional" || !strings.Contains(fmt.Sprint(r.JSON["description"]), "Professional") {
				t.Fatalf("%s: second organization = %s", plan, r.Body)
			}
			// Setting organization_id on a one-organization plan moves the user instead.
			a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", eu.UserID), map[string]any{"user": map[string]any{"organization_id": o2}}).Want(t, 200)
			ms := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d/organization_memberships", eu.UserID), nil).Want(t, 200).List("organization_memberships")
			if len(ms) != 1 || testkit.ID(ms[0], "organization_id") != o2 {
				t.Fatalf("%s: memberships after moving = %v", plan, ms)
			}
		}

		// Professional: up to 300. The first 300 go straight into the database.
		a := d.Account(t, "pro", account.Professional)
		eu := a.User(t, identity.EndUser, "eu@pro.test", "Eve")
		ctx := context.Background()
		acct, err := d.Srv.Accounts.ByID(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		err = d.DB.Write(ctx, func(tx *store.Tx) error {
			now := store.Micros(store.Now())
			for i := 0; i < 300; i++ {
				var id int64
				name := fmt.Sprintf("Org %03d", i)
				if err := tx.QueryRowContext(ctx, `INSERT INTO organizations (account_id, name, name_lower, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
					a.ID, name, strings.ToLower(name), now, now).Scan(&id); err != nil {
					return err
				}
				if _, err := people.AddMembership(ctx, tx, acct, people.System, ids.User(eu.UserID), ids.Org(id), false); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		last := testkit.ID(postObj(t, a, a.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "The 301st"}), "id")
		r := a.Do(t, a.Admin, "POST", "/api/v2/organization_memberships", map[string]any{"organization_membership": map[string]any{"user_id": eu.UserID, "organization_id": last}}).Want(t, 422)
		if !strings.Contains(string(r.Body), "at most 300 organizations") {
			t.Fatalf("301st membership = %s", r.Body)
		}
		// Another user is not affected.
		other := a.User(t, identity.EndUser, "other@pro.test", "Otto")
		postObj(t, a, a.Admin, "/api/v2/organization_memberships", "organization_membership", map[string]any{"user_id": other.UserID, "organization_id": last})
	})
}

func TestPeopleDomainMapping(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		// Existing users before the organization exists.
		verifiedOld := a.User(t, identity.EndUser, "old@example.com", "Old Verified")
		unverifiedOld := testkit.ID(postObj(t, a, a.Admin, "/api/v2/users", "user", map[string]any{"name": "Old Unverified", "email": "unv@example.com"}), "id")
		elsewhere := a.User(t, identity.EndUser, "someone@elsewhere.com", "Elsewhere")
		o := postObj(t, a, a.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "Example", "domain_names": []string{"example.com"}})
		oid := testkit.ID(o, "id")
		members := func() []int64 {
			return ids64(a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/organizations/%d/users", oid), nil).Want(t, 200).List("users"), "id")
		}
		if got := members(); !slices.Equal(got, []int64{verifiedOld.UserID}) {
			t.Fatalf("members after creating the organization = %v (want only the verified user %d)", got, verifiedOld.UserID)
		}
		// A new user with an email in the domain joins at once, verified or not (as
		// Zendesk maps new users; only a domain added later asks for verified emails).
		nu := postObj(t, a, a.Admin, "/api/v2/users", "user", map[string]any{"name": "New", "email": "new@EXAMPLE.com", "verified": true})
		if testkit.ID(nu, "organization_id") != oid {
			t.Fatalf("new verified user = %v", nu)
		}
		nv := postObj(t, a, a.Admin, "/api/v2/users", "user", map[string]any{"name": "New Unverified", "email": "nv@example.com"})
		if testkit.ID(nv, "organization_id") != oid {
			t.Fatalf("new unverified user did not join: %v", nv)
		}
		// Verifying the user keeps them there.
		v := a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", testkit.ID(nv, "id")), map[string]any{"user": map[string]any{"verified": true}}).Want(t, 200).Obj("user")
		if testkit.ID(v, "organization_id") != oid {
			t.Fatalf("verified user = %v", v)
		}
		// Changing an email into the domain (verified) maps too.
		ch := a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", elsewhere.UserID), map[string]any{"user": map[string]any{"email": "moved@example.com", "verified": true}}).Want(t, 200).Obj("user")
		if testkit.ID(ch, "organization_id") != oid {
			t.Fatalf("moved user = %v", ch)
		}
		if got := members(); slices.Contains(got, unverifiedOld) || len(got) != 4 {
			t.Fatalf("members = %v", got)
		}
		// A domain added later joins the existing verified users of that domain only.
		late := a.User(t, identity.EndUser, "late@late.test", "Late Verified")
		lateUnv := testkit.ID(postObj(t, a, a.Admin, "/api/v2/users", "user", map[string]any{"name": "Late Unverified", "email": "unv@late.test"}), "id")
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/organizations/%d", oid), map[string]any{"organization": map[string]any{"domain_names": []string{"example.com", "late.test"}}}).Want(t, 200)
		got := members()
		if !slices.Contains(got, late.UserID) || slices.Contains(got, lateUnv) {
			t.Fatalf("members after adding late.test = %v", got)
		}
		// Removing a domain removes the users it brought in, and only those.
		manual := a.User(t, identity.EndUser, "manual@late.test", "Manual Member")
		postObj(t, a, a.Admin, "/api/v2/organization_memberships", "organization_membership", map[string]any{"user_id": manual.UserID, "organization_id": oid})
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/organizations/%d", oid), map[string]any{"organization": map[string]any{"domain_names": []string{"example.com"}}}).Want(t, 200)
		got = members()
		if slices.Contains(got, late.UserID) || !slices.Contains(got, manual.UserID) || len(got) != 5 {
			t.Fatalf("members after removing late.test = %v", got)
		}
		if v := userOrgID(t, a, late.UserID); v != nil {
			t.Fatalf("late user's organization after the domain went = %v", v)
		}

		// On a one-organization plan, a user already in an organization is left alone.
		tm := d.Account(t, "team", account.Team)
		first := testkit.ID(postObj(t, tm, tm.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "First"}), "id")
		busy := tm.User(t, identity.EndUser, "busy@corp.test", "Busy")
		postObj(t, tm, tm.Admin, "/api/v2/organization_memberships", "organization_membership", map[string]any{"user_id": busy.UserID, "organization_id": first})
		free := tm.User(t, identity.EndUser, "free@corp.test", "Free")
		corp := testkit.ID(postObj(t, tm, tm.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "Corp", "domain_names": []string{"corp.test"}}), "id")
		if got := ids64(tm.Do(t, tm.Admin, "GET", fmt.Sprintf("/api/v2/organizations/%d/users", corp), nil).Want(t, 200).List("users"), "id"); !slices.Equal(got, []int64{free.UserID}) {
			t.Fatalf("corp members on Team = %v", got)
		}
		if v := userOrgID(t, tm, busy.UserID); testkit.ID(map[string]any{"v": v}, "v") != first {
			t.Fatalf("busy user's organization = %v", v)
		}
	})
}

func TestPeopleGroups(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		resp := a.Do(t, a.Admin, "POST", "/api/v2/groups.json", map[string]any{"group": map[string]any{"name": "Support", "description": "first line"}}).Want(t, 201)
		support := resp.Obj("group")
		sid := testkit.ID(support, "id")
		if resp.Header.Get("Location") == "" || support["default"] != true || support["deleted"] != false || support["is_public"] != true || support["description"] != "first line" {
			t.Fatalf("group = %v", support)
		}
		billing := postObj(t, a, a.Admin, "/api/v2/groups", "group", map[string]any{"name": "Billing", "is_public": false})
		bid := testkit.ID(billing, "id")
		if billing["default"] != false || billing["description"] != "" || billing["is_public"] != false {
			t.Fatalf("second group = %v", billing)
		}
		a.Do(t, a.Admin, "POST", "/api/v2/groups", map[string]any{"group": map[string]any{"name": "support"}}).Want(t, 422)
		if g := a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/groups/%d", bid), map[string]any{"group": map[string]any{"name": "Billing & Refunds"}}).Want(t, 200).Obj("group"); g["name"] != "Billing & Refunds" || g["is_public"] != false {
			t.Fatalf("updated group = %v", g)
		}
		ag := a.User(t, identity.Agent, "ag@acme.test", "Agnes")
		ag2 := a.User(t, identity.Agent, "ag2@acme.test", "Abe")
		eu := a.User(t, identity.EndUser, "eu@acme.test", "Eve")
		m1 := postObj(t, a, a.Admin, "/api/v2/group_memberships.json", "group_membership", map[string]any{"user_id": ag.UserID, "group_id": sid})
		if m1["default"] != true {
			t.Fatalf("first group membership = %v", m1)
		}
		m2 := postObj(t, a, a.Admin, "/api/v2/group_memberships", "group_membership", map[string]any{"user_id": ag.UserID, "group_id": bid})
		postObj(t, a, a.Admin, "/api/v2/group_memberships", "group_membership", map[string]any{"user_id": ag2.UserID, "group_id": bid})
		// End users can't be members; duplicates are refused.
		r := a.Do(t, a.Admin, "POST", "/api/v2/group_memberships", map[string]any{"group_membership": map[string]any{"user_id": eu.UserID, "group_id": sid}}).Want(t, 422)
		if !strings.Contains(string(r.Body), "user_id") || !strings.Contains(string(r.Body), "agents and admins") {
			t.Fatalf("end user membership = %s", r.Body)
		}
		a.Do(t, a.Admin, "POST", "/api/v2/group_memberships", map[string]any{"group_membership": map[string]any{"user_id": ag.UserID, "group_id": sid}}).Want(t, 422)
		if u := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d", ag.UserID), nil).Want(t, 200).Obj("user"); testkit.ID(u, "default_group_id") != sid {
			t.Fatalf("default_group_id = %v", u["default_group_id"])
		}
		lists := map[string][]int64{
			"/api/v2/groups":                                             {sid, bid},
			"/api/v2/groups/assignable":                                  {sid, bid},
			fmt.Sprintf("/api/v2/users/%d/groups", ag.UserID):            {sid, bid},
			fmt.Sprintf("/api/v2/groups/%d/users.json", bid):             {ag.UserID, ag2.UserID},
			fmt.Sprintf("/api/v2/groups/%d/memberships", bid):            {testkit.ID(m2, "id"), testkit.ID(m2, "id") + 1},
			fmt.Sprintf("/api/v2/users/%d/group_memberships", ag.UserID): {testkit.ID(m1, "id"), testkit.ID(m2, "id")},
		}
		for path, want := range lists {
			r := a.Do(t, ag, "GET", path, nil).Want(t, 200)
			var got []int64
			for _, k := range []string{"groups", "users", "group_memberships"} {
				if l := r.List(k); len(l) > 0 {
					got = ids64(l, "id")
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s = %v, want %v", path, got, want)
			}
		}
		if n := testkit.ID(a.Do(t, ag, "GET", "/api/v2/groups/count", nil).Want(t, 200).Obj("count"), "value"); n != 2 {
			t.Fatalf("group count = %d", n)
		}
		// make_default: agents for themselves only.
		a.Do(t, ag2, "PUT", fmt.Sprintf("/api/v2/users/%d/group_memberships/%d/make_default", ag.UserID, testkit.ID(m2, "id")), nil).Want(t, 403)
		ms := a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/users/%d/group_memberships/%d/make_default.json", ag.UserID, testkit.ID(m2, "id")), nil).Want(t, 200).List("group_memberships")
		if len(ms) != 2 || ms[0]["default"] != true || testkit.ID(ms[0], "id") != testkit.ID(m2, "id") {
			t.Fatalf("after make_default = %v", ms)
		}
		// Deleting the user's default group moves the default; the group stays, marked deleted.
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/groups/%d.json", bid), nil).Want(t, 204)
		if g := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/groups/%d", bid), nil).Want(t, 200).Obj("group"); g["deleted"] != true {
			t.Fatalf("deleted group = %v", g)
		}
		if u := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d", ag.UserID), nil).Want(t, 200).Obj("user"); testkit.ID(u, "default_group_id") != sid {
			t.Fatalf("default_group_id after delete = %v", u["default_group_id"])
		}
		if u := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d", ag2.UserID), nil).Want(t, 200).Obj("user"); u["default_group_id"] != nil {
			t.Fatalf("ag2 default_group_id after delete = %v", u["default_group_id"])
		}
		if got := ids64(a.Do(t, ag, "GET", "/api/v2/groups/assignable", nil).Want(t, 200).List("groups"), "id"); !slices.Equal(got, []int64{sid}) {
			t.Fatalf("assignable after delete = %v", got)
		}
		if got := ids64(a.Do(t, ag, "GET", "/api/v2/groups?exclude_deleted=true", nil).Want(t, 200).List("groups"), "id"); !slices.Equal(got, []int64{sid}) {
			t.Fatalf("exclude_deleted = %v", got)
		}
		if n := testkit.ID(a.Do(t, ag, "GET", "/api/v2/groups/count", nil).Want(t, 200).Obj("count"), "value"); n != 1 {
			t.Fatalf("group count after delete = %d", n)
		}
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/groups/%d", bid), map[string]any{"group": map[string]any{"name": "Zombie"}}).Want(t, 404)
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/groups/%d", bid), nil).Want(t, 404)
		a.Do(t, a.Admin, "POST", "/api/v2/group_memberships", map[string]any{"group_membership": map[string]any{"user_id": ag2.UserID, "group_id": bid}}).Want(t, 422)
		// Deleting a membership, and demoting an agent, empty their groups.
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/group_memberships/%d", testkit.ID(m1, "id")), nil).Want(t, 204)
		postObj(t, a, a.Admin, "/api/v2/group_memberships", "group_membership", map[string]any{"user_id": ag2.UserID, "group_id": sid})
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", ag2.UserID), map[string]any{"user": map[string]any{"role": "end-user"}}).Want(t, 200)
		if n := len(a.Do(t, a.Admin, "GET", "/api/v2/group_memberships", nil).Want(t, 200).List("group_memberships")); n != 0 {
			t.Fatalf("%d group memberships left", n)
		}
		// create_many for group memberships.
		job := a.Do(t, a.Admin, "POST", "/api/v2/group_memberships/create_many", map[string]any{"group_memberships": []map[string]any{
			{"user_id": ag.UserID, "group_id": sid}, {"user_id": eu.UserID, "group_id": sid},
		}}).Want(t, 200).Obj("job_status")
		res := peopleWaitJob(t, a, job["id"].(string))["results"].([]any)
		if res[0].(map[string]any)["status"] != "Created" || res[1].(map[string]any)["error"] != "InvalidValue" {
			t.Fatalf("group membership create_many = %v", res)
		}
		// default_group_id on an agent adds a membership.
		ag3 := a.User(t, identity.Agent, "ag3@acme.test", "Ada")
		if u := a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", ag3.UserID), map[string]any{"user": map[string]any{"default_group_id": sid}}).Want(t, 200).Obj("user"); testkit.ID(u, "default_group_id") != sid {
			t.Fatalf("default_group_id = %v", u["default_group_id"])
		}
	})
}
