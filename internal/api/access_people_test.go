package api_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/testkit"
)

// peopleFixture is an account with one of everything the people API manages.
type peopleFixture struct {
	a                   *testkit.Acct
	agent, agent2       testkit.Cred
	eu, eu2, eu3, eu4   testkit.Cred
	org, org2, org3     int64
	group, group2       int64
	orgMem, orgMem2     int64 // eu in org, eu2 in org
	orgMemThrow         int64 // eu4 in org2
	grpMem, grpMemThrow int64 // agent in group, agent2 in group2
}

func newPeopleFixture(t *testing.T, d *testkit.Desk, sub string) *peopleFixture {
	t.Helper()
	a := d.Account(t, sub, account.Enterprise)
	f := &peopleFixture{a: a}
	f.agent = a.User(t, identity.Agent, "agent@"+sub+".test", "Agnes Agent")
	f.agent2 = a.User(t, identity.Agent, "agent2@"+sub+".test", "Abe Agent")
	f.eu = a.User(t, identity.EndUser, "eve@"+sub+".test", "Eve Enduser")
	f.eu2 = a.User(t, identity.EndUser, "otto@"+sub+".test", "Otto Other")
	f.eu3 = a.User(t, identity.EndUser, "una@"+sub+".test", "Una Promoted")
	f.eu4 = a.User(t, identity.EndUser, "del@"+sub+".test", "Dee Deleted")
	a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", f.eu.UserID), map[string]any{"user": map[string]any{"notes": "secret-note", "external_id": "ext-" + sub}}).Want(t, 200)
	f.org = testkit.ID(postObj(t, a, a.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "Org One", "notes": "org-secret", "external_id": "org-" + sub}), "id")
	f.org2 = testkit.ID(postObj(t, a, a.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "Org Two"}), "id")
	f.org3 = testkit.ID(postObj(t, a, a.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "Org Three"}), "id")
	f.group = testkit.ID(postObj(t, a, a.Admin, "/api/v2/groups", "group", map[string]any{"name": "Group One"}), "id")
	f.group2 = testkit.ID(postObj(t, a, a.Admin, "/api/v2/groups", "group", map[string]any{"name": "Group Two"}), "id")
	om := func(u testkit.Cred, o int64) int64 {
		return testkit.ID(postObj(t, a, a.Admin, "/api/v2/organization_memberships", "organization_membership", map[string]any{"user_id": u.UserID, "organization_id": o}), "id")
	}
	f.orgMem, f.orgMem2, f.orgMemThrow = om(f.eu, f.org), om(f.eu2, f.org), om(f.eu4, f.org2)
	gm := func(u testkit.Cred, g int64) int64 {
		return testkit.ID(postObj(t, a, a.Admin, "/api/v2/group_memberships", "group_membership", map[string]any{"user_id": u.UserID, "group_id": g}), "id")
	}
	f.grpMem, f.grpMemThrow = gm(f.agent, f.group), gm(f.agent2, f.group2)
	return f
}

type roleRow struct {
	who           string // admin, agent, end, anon
	method, path  string
	body          any
	status        int
	must, mustNot string
}

// all4 expands one request into a row per role with the statuses admin, agent, end user,
// anonymous.
func all4(method, path string, body any, want [4]int) []roleRow {
	var out []roleRow
	for i, who := range []string{"admin", "agent", "end", "anon"} {
		out = append(out, roleRow{who: who, method: method, path: path, body: body, status: want[i]})
	}
	return out
}

func TestPeopleRoles(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		f := newPeopleFixture(t, d, "acme")
		a := f.a
		creds := map[string]testkit.Cred{"admin": a.Admin, "agent": f.agent, "end": f.eu, "anon": testkit.Anonymous}
		p := func(format string, args ...any) string { return fmt.Sprintf(format, args...) }
		var (
			read     = [4]int{200, 200, 403, 401}
			readSelf = [4]int{200, 200, 200, 401}
			adminW   = [4]int{201, 403, 403, 401}
			adminDel = [4]int{204, 403, 403, 401}
		)
		var rows []roleRow
		add := func(rs ...roleRow) { rows = append(rows, rs...) }
		// Users.
		add(all4("GET", "/api/v2/users.json", nil, read)...)
		add(all4("GET", p("/api/v2/users/%d", f.eu.UserID), nil, readSelf)...)
		add(all4("GET", p("/api/v2/users/%d.json", f.eu2.UserID), nil, read)...)
		add(all4("GET", "/api/v2/users/me", nil, [4]int{200, 200, 200, 200})...)
		add(all4("GET", "/api/v2/users/count", nil, read)...)
		add(all4("GET", p("/api/v2/users/show_many?ids=%d", f.eu.UserID), nil, read)...)
		add(all4("GET", "/api/v2/users/search?query=eve", nil, read)...)
		add(all4("GET", "/api/v2/users/autocomplete?name=ev", nil, read)...)
		add(all4("POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "No Email"}}, [4]int{201, 201, 403, 401})...)
		add(all4("POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "New Agent", "role": "agent"}}, adminW)...)
		add(all4("POST", "/api/v2/users/create_or_update", map[string]any{"user": map[string]any{"name": "Cou", "external_id": "cou-row"}}, [4]int{201, 200, 403, 401})...)
		add(all4("PUT", p("/api/v2/users/%d", f.eu2.UserID), map[string]any{"user": map[string]any{"notes": "n"}}, [4]int{200, 200, 403, 401})...)
		add(all4("PUT", p("/api/v2/users/%d", f.eu.UserID), map[string]any{"user": map[string]any{"name": "Eve Enduser"}}, [4]int{200, 200, 200, 401})...)
		add(all4("PUT", p("/api/v2/users/%d", f.eu3.UserID), map[string]any{"user": map[string]any{"role": "admin"}}, [4]int{200, 403, 403, 401})...)
		add(all4("PUT", p("/api/v2/users/%d", f.agent.UserID), map[string]any{"user": map[string]any{"phone": "123"}}, [4]int{200, 200, 403, 401})...)
		add(all4("PUT", p("/api/v2/users/%d", f.agent2.UserID), map[string]any{"user": map[string]any{"phone": "123"}}, [4]int{200, 403, 403, 401})...)
		add(all4("DELETE", p("/api/v2/users/%d", f.eu4.UserID), nil, [4]int{200, 403, 403, 401})...)
		add(all4("GET", p("/api/v2/users/%d/organizations", f.eu.UserID), nil, readSelf)...)
		add(all4("GET", p("/api/v2/users/%d/organizations", f.eu2.UserID), nil, read)...)
		add(all4("GET", p("/api/v2/users/%d/organization_memberships", f.eu.UserID), nil, readSelf)...)
		add(all4("GET", p("/api/v2/users/%d/group_memberships", f.agent.UserID), nil, read)...)
		add(all4("GET", p("/api/v2/users/%d/groups", f.agent.UserID), nil, read)...)
		add(all4("GET", p("/api/v2/users/%d/identities", f.eu.UserID), nil, readSelf)...)
		add(all4("GET", p("/api/v2/users/%d/identities", f.eu2.UserID), nil, read)...)
		add(all4("GET", "/api/v2/api_tokens", nil, [4]int{200, 403, 403, 401})...)
		add(all4("POST", "/api/v2/api_tokens", map[string]any{"api_token": map[string]any{"description": "row"}}, adminW)...)
		add(
			roleRow{who: "admin", method: "POST", path: p("/api/v2/users/%d/identities", f.eu.UserID), body: map[string]any{"identity": map[string]any{"type": "email", "value": "eve.admin@acme.test"}}, status: 201},
			roleRow{who: "agent", method: "POST", path: p("/api/v2/users/%d/identities", f.eu.UserID), body: map[string]any{"identity": map[string]any{"type": "email", "value": "eve.agent@acme.test"}}, status: 201},
			roleRow{who: "agent", method: "POST", path: p("/api/v2/users/%d/identities", f.agent2.UserID), body: map[string]any{"identity": map[string]any{"type": "email", "value": "abe2@acme.test"}}, status: 403},
			roleRow{who: "end", method: "POST", path: p("/api/v2/users/%d/identities", f.eu.UserID), body: map[string]any{"identity": map[string]any{"type": "email", "value": "eve.self@acme.test"}}, status: 403},
			roleRow{who: "anon", method: "POST", path: p("/api/v2/users/%d/identities", f.eu.UserID), body: map[string]any{"identity": map[string]any{"type": "email", "value": "x@acme.test"}}, status: 401},
			roleRow{who: "admin", method: "PUT", path: p("/api/v2/users/%d/password", f.eu.UserID), body: map[string]any{"password": "role-table-pw1"}, status: 200},
			roleRow{who: "agent", method: "PUT", path: p("/api/v2/users/%d/password", f.eu.UserID), body: map[string]any{"password": "role-table-pw2"}, status: 403},
			roleRow{who: "end", method: "PUT", path: p("/api/v2/users/%d/password", f.eu.UserID), body: map[string]any{"password": "role-table-pw3", "previous_password": "role-table-pw1"}, status: 200},
			roleRow{who: "anon", method: "PUT", path: p("/api/v2/users/%d/password", f.eu.UserID), body: map[string]any{"password": "role-table-pw4"}, status: 401},
			// What each role may see of a user.
			roleRow{who: "agent", method: "GET", path: p("/api/v2/users/%d", f.eu.UserID), status: 200, must: "secret-note"},
			roleRow{who: "end", method: "GET", path: p("/api/v2/users/%d", f.eu.UserID), status: 200, must: `"email":"eve@acme.test"`, mustNot: "secret-note"},
			roleRow{who: "end", method: "GET", path: "/api/v2/users/me", status: 200, must: `"role":"end-user"`, mustNot: "secret-note"},
			roleRow{who: "anon", method: "GET", path: "/api/v2/users/me", status: 200, must: `"role":"anonymous"`, mustNot: "eve@acme.test"},
			roleRow{who: "end", method: "GET", path: p("/api/v2/users/%d/organizations", f.eu.UserID), status: 200, must: "Org One", mustNot: "org-secret"},
			roleRow{who: "admin", method: "GET", path: "/api/v2/api_tokens", status: 200, must: `"api_tokens"`, mustNot: a.Admin.Token},
			roleRow{who: "end", method: "PUT", path: p("/api/v2/users/%d", f.eu.UserID), body: map[string]any{"user": map[string]any{"role": "admin"}}, status: 403, mustNot: `"role":"admin"`},
			roleRow{who: "end", method: "PUT", path: p("/api/v2/users/%d", f.eu.UserID), body: map[string]any{"user": map[string]any{"verified": false}}, status: 403},
			roleRow{who: "end", method: "PUT", path: p("/api/v2/users/me"), body: map[string]any{"user": map[string]any{"phone": "555", "locale": "fr-FR", "time_zone": "Europe/Paris"}}, status: 200, must: `"locale":"fr-FR"`},
			roleRow{who: "agent", method: "PUT", path: p("/api/v2/users/%d", f.agent.UserID), body: map[string]any{"user": map[string]any{"role": "admin"}}, status: 403},
			roleRow{who: "admin", method: "PUT", path: p("/api/v2/users/%d", a.Admin.UserID), body: map[string]any{"user": map[string]any{"role": "agent"}}, status: 403},
		)
		// Identities of the end user: read by staff and themselves, managed by staff.
		idents := a.Do(t, a.Admin, "GET", p("/api/v2/users/%d/identities", f.eu.UserID), nil).Want(t, 200).List("identities")
		primary := testkit.ID(idents[0], "id")
		second := testkit.ID(postObj(t, a, a.Admin, p("/api/v2/users/%d/identities", f.eu.UserID), "identity", map[string]any{"value": "eve.second@acme.test"}), "id")
		third := testkit.ID(postObj(t, a, a.Admin, p("/api/v2/users/%d/identities", f.eu.UserID), "identity", map[string]any{"value": "eve.third@acme.test"}), "id")
		add(all4("GET", p("/api/v2/users/%d/identities/%d", f.eu.UserID, primary), nil, readSelf)...)
		add(all4("PUT", p("/api/v2/users/%d/identities/%d/verify", f.eu.UserID, second), nil, [4]int{200, 200, 403, 401})...)
		add(all4("PUT", p("/api/v2/users/%d/identities/%d/make_primary", f.eu.UserID, primary), nil, [4]int{200, 200, 403, 401})...)
		add(
			roleRow{who: "end", method: "DELETE", path: p("/api/v2/users/%d/identities/%d", f.eu.UserID, second), status: 403},
			roleRow{who: "anon", method: "DELETE", path: p("/api/v2/users/%d/identities/%d", f.eu.UserID, second), status: 401},
			roleRow{who: "agent", method: "DELETE", path: p("/api/v2/users/%d/identities/%d", f.eu.UserID, second), status: 204},
			roleRow{who: "admin", method: "DELETE", path: p("/api/v2/users/%d/identities/%d", f.eu.UserID, third), status: 204},
			roleRow{who: "admin", method: "DELETE", path: p("/api/v2/users/%d/identities/%d", f.eu.UserID, primary), status: 422},
		)
		// API token details.
		tok := testkit.ID(postObj(t, a, a.Admin, "/api/v2/api_tokens", "api_token", map[string]any{"description": "row token"}), "id")
		add(all4("GET", p("/api/v2/api_tokens/%d", tok), nil, [4]int{200, 403, 403, 401})...)
		add(all4("DELETE", p("/api/v2/api_tokens/%d", tok), nil, adminDel)...)
		// Organizations.
		add(all4("GET", "/api/v2/organizations", nil, read)...)
		add(all4("GET", p("/api/v2/organizations/%d", f.org), nil, read)...)
		add(all4("GET", "/api/v2/organizations/count", nil, read)...)
		add(all4("GET", p("/api/v2/organizations/show_many?ids=%d", f.org), nil, read)...)
		add(all4("GET", "/api/v2/organizations/autocomplete?name=org", nil, read)...)
		add(all4("GET", "/api/v2/organizations/search?name=org%20one", nil, read)...)
		add(all4("GET", p("/api/v2/organizations/%d/users", f.org), nil, read)...)
		add(all4("GET", p("/api/v2/organizations/%d/related", f.org), nil, read)...)
		add(all4("GET", p("/api/v2/organizations/%d/organization_memberships", f.org), nil, read)...)
		add(all4("POST", "/api/v2/organizations", map[string]any{"organization": map[string]any{"name": "Row Org"}}, adminW)...)
		add(all4("POST", "/api/v2/organizations/create_or_update", map[string]any{"organization": map[string]any{"name": "Cou Org", "external_id": "cou"}}, adminW)...)
		add(all4("POST", "/api/v2/organizations/create_many", map[string]any{"organizations": []any{map[string]any{"name": "Many Org"}}}, [4]int{200, 403, 403, 401})...)
		add(all4("PUT", p("/api/v2/organizations/%d", f.org), map[string]any{"organization": map[string]any{"notes": "org-secret"}}, [4]int{200, 200, 403, 401})...)
		add(
			roleRow{who: "admin", method: "PUT", path: p("/api/v2/organizations/%d", f.org), body: map[string]any{"organization": map[string]any{"shared_tickets": true}}, status: 200, must: `"shared_tickets":true`},
			roleRow{who: "agent", method: "PUT", path: p("/api/v2/organizations/%d", f.org), body: map[string]any{"organization": map[string]any{"shared_tickets": false}}, status: 403},
			roleRow{who: "agent", method: "PUT", path: p("/api/v2/organizations/%d", f.org), body: map[string]any{"organization": map[string]any{"name": "Org One", "shared_tickets": true, "notes": "agent note"}}, status: 200, must: "agent note"},
			roleRow{who: "end", method: "PUT", path: p("/api/v2/organizations/%d", f.org), body: map[string]any{"organization": map[string]any{"notes": "x"}}, status: 403},
		)
		add(all4("DELETE", p("/api/v2/organizations/%d", f.org3), nil, adminDel)...)
		// Organization memberships.
		add(all4("GET", "/api/v2/organization_memberships", nil, readSelf)...)
		add(all4("GET", p("/api/v2/organization_memberships/%d", f.orgMem), nil, readSelf)...)
		add(all4("GET", p("/api/v2/organization_memberships/%d", f.orgMem2), nil, read)...)
		add(all4("POST", "/api/v2/organization_memberships", map[string]any{"organization_membership": map[string]any{"user_id": f.eu2.UserID, "organization_id": f.org2}}, adminW)...)
		add(all4("POST", "/api/v2/organization_memberships/create_many", map[string]any{"organization_memberships": []any{map[string]any{"user_id": f.eu3.UserID, "organization_id": f.org2}}}, [4]int{200, 403, 403, 401})...)
		add(all4("DELETE", p("/api/v2/organization_memberships/%d", f.orgMemThrow), nil, adminDel)...)
		add(all4("PUT", p("/api/v2/users/%d/organization_memberships/%d/make_default", f.eu.UserID, f.orgMem), nil, readSelf)...)
		add(all4("PUT", p("/api/v2/users/%d/organization_memberships/%d/make_default", f.eu2.UserID, f.orgMem2), nil, read)...)
		add(all4("PUT", p("/api/v2/users/%d/organizations/%d/make_default", f.eu.UserID, f.org), nil, readSelf)...)
		add(all4("PUT", p("/api/v2/users/%d/organizations/%d/make_default", f.eu2.UserID, f.org), nil, read)...)
		add(all4("DELETE", p("/api/v2/users/%d/organizations/%d", f.eu2.UserID, f.org2), nil, adminDel)...)
		add(roleRow{who: "end", method: "GET", path: "/api/v2/organization_memberships", status: 200, must: fmt.Sprintf(`"user_id":%d`, f.eu.UserID), mustNot: fmt.Sprintf(`"user_id":%d`, f.eu2.UserID)})
		// Groups and group memberships.
		for _, path := range []string{"/api/v2/groups", "/api/v2/groups/assignable", "/api/v2/groups/count", p("/api/v2/groups/%d", f.group),
			p("/api/v2/groups/%d/users", f.group), p("/api/v2/groups/%d/memberships", f.group), "/api/v2/group_memberships",
			"/api/v2/group_memberships/assignable", p("/api/v2/group_memberships/%d", f.grpMem)} {
			add(all4("GET", path, nil, read)...)
		}
		add(all4("POST", "/api/v2/groups", map[string]any{"group": map[string]any{"name": "Row Group"}}, adminW)...)
		add(all4("PUT", p("/api/v2/groups/%d", f.group), map[string]any{"group": map[string]any{"description": "d"}}, [4]int{200, 403, 403, 401})...)
		add(all4("POST", "/api/v2/group_memberships", map[string]any{"group_membership": map[string]any{"user_id": f.agent2.UserID, "group_id": f.group}}, adminW)...)
		add(all4("POST", "/api/v2/group_memberships/create_many", map[string]any{"group_memberships": []any{map[string]any{"user_id": a.Admin.UserID, "group_id": f.group}}}, [4]int{200, 403, 403, 401})...)
		add(all4("PUT", p("/api/v2/users/%d/group_memberships/%d/make_default", f.agent.UserID, f.grpMem), nil, read)...)
		add(all4("DELETE", p("/api/v2/group_memberships/%d", f.grpMemThrow), nil, adminDel)...)
		add(all4("DELETE", p("/api/v2/groups/%d", f.group2), nil, adminDel)...)

		for _, row := range rows {
			r := a.Do(t, creds[row.who], row.method, row.path, row.body)
			body := string(r.Body)
			name := fmt.Sprintf("%s %s %s", row.who, row.method, row.path)
			if r.Status != row.status {
				t.Errorf("%s: status %d, want %d; body %s", name, r.Status, row.status, truncatePeople(body))
				continue
			}
			switch r.Status {
			case 401:
				if !strings.Contains(body, "Couldn't authenticate you") {
					t.Errorf("%s: 401 body %s", name, body)
				}
			case 403:
				if !strings.Contains(body, `"error":"Forbidden"`) {
					t.Errorf("%s: 403 body %s", name, body)
				}
			}
			if row.must != "" && !strings.Contains(body, row.must) {
				t.Errorf("%s: body lacks %q: %s", name, row.must, truncatePeople(body))
			}
			if row.mustNot != "" && strings.Contains(body, row.mustNot) {
				t.Errorf("%s: body contains %q: %s", name, row.mustNot, truncatePeople(body))
			}
		}
		// Jobs started by the table finish before the server stops.
		peopleWaitJobsDone(t, a)
	})
}

func truncatePeople(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}

// peopleWaitJobsDone waits for every job of the account to complete.
func peopleWaitJobsDone(t *testing.T, a *testkit.Acct) {
	t.Helper()
	for _, js := range a.Do(t, a.Admin, "GET", "/api/v2/job_statuses", nil).Want(t, 200).List("job_statuses") {
		peopleWaitJob(t, a, js["id"].(string))
	}
}

// TestPeopleTenantIsolation tries every id-taking endpoint of account B with account A's
// admin: each answers 404 (or 422 for ids inside a body) and B's data is unchanged.
func TestPeopleTenantIsolation(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		fa := newPeopleFixture(t, d, "alpha")
		fb := newPeopleFixture(t, d, "beta")
		a, b := fa.a, fb.a
		bIdent := testkit.ID(postObj(t, b, b.Admin, fmt.Sprintf("/api/v2/users/%d/identities", fb.eu.UserID), "identity", map[string]any{"type": "email", "value": "eve2@beta.test"}), "id")
		bTok := testkit.ID(postObj(t, b, b.Admin, "/api/v2/api_tokens", "api_token", map[string]any{"description": "beta"}), "id")

		snapshot := func() string {
			var parts []string
			for _, path := range []string{
				"/api/v2/users?per_page=100", "/api/v2/organizations", "/api/v2/groups", "/api/v2/organization_memberships",
				"/api/v2/group_memberships", "/api/v2/api_tokens", fmt.Sprintf("/api/v2/users/%d/identities", fb.eu.UserID),
			} {
				parts = append(parts, string(b.Do(t, b.Admin, "GET", path, nil).Want(t, 200).Body))
			}
			return strings.Join(parts, "\n")
		}
		before := snapshot()
		p := func(format string, args ...any) string { return fmt.Sprintf(format, args...) }
		user, ag, o, g := fb.eu.UserID, fb.agent.UserID, fb.org, fb.group
		notFound := []struct {
			method, path string
			body         any
		}{
			{"GET", p("/api/v2/users/%d", user), nil},
			{"PUT", p("/api/v2/users/%d", user), map[string]any{"user": map[string]any{"name": "Pwned"}}},
			{"DELETE", p("/api/v2/users/%d", user), nil},
			{"GET", p("/api/v2/users/%d/organizations", user), nil},
			{"GET", p("/api/v2/users/%d/organization_memberships", user), nil},
			{"GET", p("/api/v2/users/%d/group_memberships", ag), nil},
			{"GET", p("/api/v2/users/%d/groups", ag), nil},
			{"GET", p("/api/v2/users/%d/identities", user), nil},
			{"POST", p("/api/v2/users/%d/identities", user), map[string]any{"identity": map[string]any{"type": "email", "value": "pwned@alpha.test"}}},
			{"GET", p("/api/v2/users/%d/identities/%d", user, bIdent), nil},
			{"DELETE", p("/api/v2/users/%d/identities/%d", user, bIdent), nil},
			{"PUT", p("/api/v2/users/%d/identities/%d/make_primary", user, bIdent), nil},
			{"PUT", p("/api/v2/users/%d/identities/%d/verify", user, bIdent), nil},
			{"PUT", p("/api/v2/users/%d/password", user), map[string]any{"password": "pwned-password"}},
			{"GET", p("/api/v2/api_tokens/%d", bTok), nil},
			{"DELETE", p("/api/v2/api_tokens/%d", bTok), nil},
			{"GET", p("/api/v2/organizations/%d", o), nil},
			{"PUT", p("/api/v2/organizations/%d", o), map[string]any{"organization": map[string]any{"name": "Pwned"}}},
			{"DELETE", p("/api/v2/organizations/%d", o), nil},
			{"GET", p("/api/v2/organizations/%d/users", o), nil},
			{"GET", p("/api/v2/organizations/%d/related", o), nil},
			{"GET", p("/api/v2/organizations/%d/organization_memberships", o), nil},
			{"GET", p("/api/v2/organization_memberships/%d", fb.orgMem), nil},
			{"DELETE", p("/api/v2/organization_memberships/%d", fb.orgMem), nil},
			{"PUT", p("/api/v2/users/%d/organization_memberships/%d/make_default", user, fb.orgMem), nil},
			{"PUT", p("/api/v2/users/%d/organizations/%d/make_default", user, o), nil},
			{"DELETE", p("/api/v2/users/%d/organizations/%d", user, o), nil},
			{"GET", p("/api/v2/groups/%d", g), nil},
			{"PUT", p("/api/v2/groups/%d", g), map[string]any{"group": map[string]any{"name": "Pwned"}}},
			{"DELETE", p("/api/v2/groups/%d", g), nil},
			{"GET", p("/api/v2/groups/%d/users", g), nil},
			{"GET", p("/api/v2/groups/%d/memberships", g), nil},
			{"GET", p("/api/v2/group_memberships/%d", fb.grpMem), nil},
			{"DELETE", p("/api/v2/group_memberships/%d", fb.grpMem), nil},
			{"PUT", p("/api/v2/users/%d/group_memberships/%d/make_default", ag, fb.grpMem), nil},
			// A's own user with B's membership ids.
			{"PUT", p("/api/v2/users/%d/organization_memberships/%d/make_default", fa.eu.UserID, fb.orgMem), nil},
			{"PUT", p("/api/v2/users/%d/group_memberships/%d/make_default", fa.agent.UserID, fb.grpMem), nil},
		}
		for _, c := range notFound {
			r := a.Do(t, a.Admin, c.method, c.path, c.body)
			if r.Status != 404 || !strings.Contains(string(r.Body), "RecordNotFound") {
				t.Errorf("%s %s: %d %s, want 404", c.method, c.path, r.Status, truncatePeople(string(r.Body)))
			}
		}
		// B's ids inside A's bodies are invalid values, not found records of A.
		invalid := []struct {
			method, path string
			body         any
			field        string
		}{
			{"POST", "/api/v2/organization_memberships", map[string]any{"organization_membership": map[string]any{"user_id": user, "organization_id": fa.org}}, "user_id"},
			{"POST", "/api/v2/organization_memberships", map[string]any{"organization_membership": map[string]any{"user_id": fa.eu3.UserID, "organization_id": o}}, "organization_id"},
			{"POST", "/api/v2/group_memberships", map[string]any{"group_membership": map[string]any{"user_id": ag, "group_id": fa.group}}, "user_id"},
			{"POST", "/api/v2/group_memberships", map[string]any{"group_membership": map[string]any{"user_id": fa.agent2.UserID, "group_id": g}}, "group_id"},
			{"PUT", p("/api/v2/users/%d", fa.eu3.UserID), map[string]any{"user": map[string]any{"organization_id": o}}, "organization_id"},
			{"POST", "/api/v2/organizations", map[string]any{"organization": map[string]any{"name": "Routed", "group_id": g}}, "group_id"},
			{"POST", "/api/v2/api_tokens", map[string]any{"api_token": map[string]any{"user_id": user}}, "user_id"},
		}
		for _, c := range invalid {
			r := a.Do(t, a.Admin, c.method, c.path, c.body)
			if r.Status != 422 || !strings.Contains(string(r.Body), c.field) {
				t.Errorf("%s %s %v: %d %s, want 422 naming %s", c.method, c.path, c.body, r.Status, truncatePeople(string(r.Body)), c.field)
			}
		}
		// Lookups by B's ids and external ids find nothing in A.
		for _, path := range []string{
			p("/api/v2/users/show_many?ids=%d,%d", user, ag), "/api/v2/users/show_many?external_ids=ext-beta",
			"/api/v2/users/search?external_id=ext-beta", "/api/v2/users/search?query=beta.test", "/api/v2/users?external_id=ext-beta",
			p("/api/v2/organizations/show_many?ids=%d", o), "/api/v2/organizations/search?external_id=org-beta",
		} {
			r := a.Do(t, a.Admin, "GET", path, nil).Want(t, 200)
			if l := append(r.List("users"), r.List("organizations")...); len(l) != 0 {
				t.Errorf("%s found %d of B's records", path, len(l))
			}
		}
		// create_or_update with B's external ids creates in A rather than touching B.
		a.Do(t, a.Admin, "POST", "/api/v2/users/create_or_update", map[string]any{"user": map[string]any{"name": "Same ext", "external_id": "ext-beta"}}).Want(t, 201)
		a.Do(t, a.Admin, "POST", "/api/v2/organizations/create_or_update", map[string]any{"organization": map[string]any{"id": o, "name": "Same id"}}).Want(t, 201)
		// B's token does not open A.
		bCred := testkit.Cred{Email: b.Admin.Email, Token: b.Admin.Token}
		a.Do(t, bCred, "GET", "/api/v2/users/me", nil).Want(t, 401)

		if after := snapshot(); after != before {
			t.Fatalf("account B changed:\nbefore %s\nafter  %s", before, after)
		}
	})
}

func TestPeopleBadInput(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		eu := a.User(t, identity.EndUser, "eu@acme.test", "Eve")
		postObj(t, a, a.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "Taken"})
		postObj(t, a, a.Admin, "/api/v2/groups", "group", map[string]any{"name": "First"})
		long := strings.Repeat("é", 256)
		huge := strings.Repeat("x", 70000)
		cases := []struct {
			name, method, path string
			body               any
			status             int
			must               []string
		}{
			{"malformed JSON", "POST", "/api/v2/users", `{"user": {"name": `, 400, []string{"InvalidRequest"}},
			{"trailing garbage", "POST", "/api/v2/users", `{"user": {"name": "x"}} {}`, 400, nil},
			{"empty body", "POST", "/api/v2/organizations", ``, 400, nil},
			{"non-UTF-8", "POST", "/api/v2/users", []byte("{\"user\": {\"name\": \"\xff\xfe\"}}"), 400, []string{"UTF-8"}},
			{"oversized", "POST", "/api/v2/users", `{"user": {"name": "` + strings.Repeat("a", 2<<20) + `"}}`, 413, nil},
			{"no envelope", "POST", "/api/v2/users", map[string]any{"name": "Flat"}, 400, []string{`\"user\"`}},
			{"name not a string", "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": 5}}, 422, []string{`"name"`, "InvalidValue"}},
			{"verified not a bool", "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "x", "verified": "yes"}}, 422, []string{`"verified"`}},
			{"tags not a list", "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "x", "tags": "a b"}}, 422, []string{`"tags"`}},
			{"user_fields not an object", "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "x", "user_fields": []int{1}}}, 422, []string{`"user_fields"`}},
			{"organization_id not an id", "PUT", fmt.Sprintf("/api/v2/users/%d", eu.UserID), map[string]any{"user": map[string]any{"organization_id": "abc"}}, 422, []string{`"organization_id"`}},
			{"shared_tickets not a bool", "POST", "/api/v2/organizations", map[string]any{"organization": map[string]any{"name": "x", "shared_tickets": "x"}}, 422, []string{`"shared_tickets"`}},
			{"group name a list", "POST", "/api/v2/groups", map[string]any{"group": map[string]any{"name": []string{"a"}}}, 422, []string{`"name"`}},
			{"membership user_id a float", "POST", "/api/v2/organization_memberships", map[string]any{"organization_membership": map[string]any{"user_id": 1.5, "organization_id": 1}}, 422, []string{`"user_id"`}},
			{"invalid role", "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "x", "role": "superuser"}}, 422, []string{`"role"`, "end-user, agent, admin"}},
			{"invalid restriction", "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "x", "role": "agent", "ticket_restriction": "everything"}}, 422, []string{`"ticket_restriction"`}},
			{"invalid email", "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "x", "email": "not an email"}}, 422, []string{`"email"`}},
			{"invalid locale", "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "x", "locale": "<script>"}}, 422, []string{`"locale"`}},
			{"missing user name", "POST", "/api/v2/users", map[string]any{"user": map[string]any{"email": "nameless@acme.test"}}, 422, []string{`"name"`, "BlankValue"}},
			{"blank user name", "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "   "}}, 422, []string{"BlankValue"}},
			{"missing org name", "POST", "/api/v2/organizations", map[string]any{"organization": map[string]any{"notes": "n"}}, 422, []string{`"name"`, "BlankValue"}},
			{"missing group name", "POST", "/api/v2/groups", map[string]any{"group": map[string]any{}}, 422, []string{`"name"`}},
			{"overlong user name", "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": long}}, 422, []string{"TooLong", "255"}},
			{"overlong org notes", "POST", "/api/v2/organizations", map[string]any{"organization": map[string]any{"name": "Long", "notes": huge}}, 422, []string{`"notes"`, "TooLong"}},
			{"overlong group name", "POST", "/api/v2/groups", map[string]any{"group": map[string]any{"name": long}}, 422, []string{"TooLong"}},
			{"overlong external id", "PUT", fmt.Sprintf("/api/v2/users/%d", eu.UserID), map[string]any{"user": map[string]any{"external_id": long}}, 422, []string{`"external_id"`}},
			{"bad domain", "POST", "/api/v2/organizations", map[string]any{"organization": map[string]any{"name": "Dom", "domain_names": []string{"example!.com", "ok.test"}}}, 422, []string{`"domain_names"`, "example!.com"}},
			{"duplicate email", "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "x", "email": "EU@acme.test"}}, 422, []string{"DuplicateValue", `"email"`}},
			{"duplicate org name", "POST", "/api/v2/organizations", map[string]any{"organization": map[string]any{"name": " taken "}}, 422, []string{"DuplicateValue", `"name"`}},
			{"removing the email", "PUT", fmt.Sprintf("/api/v2/users/%d", eu.UserID), map[string]any{"user": map[string]any{"email": nil}}, 422, []string{`"email"`}},
			{"show_many over 100", "GET", "/api/v2/users/show_many?ids=" + strings.TrimSuffix(strings.Repeat("1,", 101), ","), nil, 400, []string{"TooManyValues"}},
			{"show_many external over 100", "GET", "/api/v2/organizations/show_many?external_ids=" + strings.TrimSuffix(strings.Repeat("a,", 101), ","), nil, 400, []string{"TooManyValues"}},
			{"show_many without ids", "GET", "/api/v2/users/show_many", nil, 400, nil},
			{"bad role filter", "GET", "/api/v2/users?role=king", nil, 400, nil},
			{"bad page size", "GET", "/api/v2/users?page[size]=abc", nil, 400, nil},
			{"bad cursor", "GET", "/api/v2/groups?page[after]=@@@", nil, 400, nil},
			{"search without terms", "GET", "/api/v2/users/search", nil, 400, nil},
			{"create_many over 100", "POST", "/api/v2/organization_memberships/create_many", map[string]any{"organization_memberships": make([]map[string]any, 101)}, 400, []string{"TooManyValues"}},
			{"create_many empty", "POST", "/api/v2/group_memberships/create_many", map[string]any{"group_memberships": []any{}}, 422, nil},
			{"non-numeric id", "GET", "/api/v2/users/abc", nil, 404, nil},
			{"unknown field ignored", "POST", "/api/v2/groups", map[string]any{"group": map[string]any{"name": "Fine", "flavour": "mint", "default": true}}, 201, []string{`"default":false`}},
		}
		for _, c := range cases {
			r := a.Do(t, a.Admin, c.method, c.path, c.body)
			if r.Status != c.status {
				t.Errorf("%s: status %d, want %d; body %s", c.name, r.Status, c.status, truncatePeople(string(r.Body)))
				continue
			}
			for _, m := range c.must {
				if !strings.Contains(string(r.Body), m) {
					t.Errorf("%s: body lacks %q: %s", c.name, m, truncatePeople(string(r.Body)))
				}
			}
		}
		// Nothing invalid was written.
		if n := testkit.ID(a.Do(t, a.Admin, "GET", "/api/v2/users/count", nil).Want(t, 200).Obj("count"), "value"); n != 2 {
			t.Fatalf("%d users after bad input, want 2", n)
		}
		if n := testkit.ID(a.Do(t, a.Admin, "GET", "/api/v2/organizations/count", nil).Want(t, 200).Obj("count"), "value"); n != 1 {
			t.Fatalf("%d organizations after bad input, want 1", n)
		}
	})
}

func TestPeoplePaginationAndSideloads(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		for i := 0; i < 5; i++ {
			postObj(t, a, a.Admin, "/api/v2/users", "user", map[string]any{"name": fmt.Sprintf("User %d", i)})
			postObj(t, a, a.Admin, "/api/v2/organizations", "organization", map[string]any{"name": fmt.Sprintf("Org %d", i)})
			postObj(t, a, a.Admin, "/api/v2/groups", "group", map[string]any{"name": fmt.Sprintf("Group %d", i)})
		}
		for _, list := range []struct{ path, key string }{{"/api/v2/users", "users"}, {"/api/v2/organizations", "organizations"}, {"/api/v2/groups", "groups"}} {
			total := len(a.Do(t, a.Admin, "GET", list.path, nil).Want(t, 200).List(list.key))
			// Offset: count, next_page and previous_page URLs.
			var seen []int64
			next := list.path + ".json?per_page=2"
			for pages := 0; next != ""; pages++ {
				if pages > 10 {
					t.Fatalf("%s: offset pagination does not end", list.path)
				}
				r := a.Do(t, a.Admin, "GET", next, nil).Want(t, 200)
				if testkit.ID(r.JSON, "count") != int64(total) {
					t.Fatalf("%s count = %v, want %d", list.path, r.JSON["count"], total)
				}
				seen = append(seen, ids64(r.List(list.key), "id")...)
				next = ""
				if u, ok := r.JSON["next_page"].(string); ok {
					pu, err := url.Parse(u)
					if err != nil {
						t.Fatal(err)
					}
					next = pu.RequestURI()
				}
				if pages > 0 && r.JSON["previous_page"] == nil {
					t.Fatalf("%s page %d has no previous_page", list.path, pages+1)
				}
			}
			if len(seen) != total || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != total {
				t.Fatalf("%s offset pages gave %v (total %d)", list.path, seen, total)
			}
			// Cursor: meta and links, forward to the end, then one page back.
			var cseen []int64
			r := a.Do(t, a.Admin, "GET", list.path+"?page[size]=2", nil).Want(t, 200)
			if _, ok := r.JSON["count"]; ok {
				t.Fatalf("%s: cursor pages carry no count", list.path)
			}
			for pages := 0; ; pages++ {
				meta := r.Obj("meta")
				cseen = append(cseen, ids64(r.List(list.key), "id")...)
				if meta["has_more"] != true {
					break
				}
				if pages > 10 {
					t.Fatalf("%s: cursor pagination does not end", list.path)
				}
				r = a.Do(t, a.Admin, "GET", list.path+"?page[size]=2&page[after]="+url.QueryEscape(meta["after_cursor"].(string)), nil).Want(t, 200)
			}
			if !slices.Equal(cseen, seen) {
				t.Fatalf("%s cursor pages %v, offset pages %v", list.path, cseen, seen)
			}
			back := a.Do(t, a.Admin, "GET", list.path+"?page[size]=2&page[before]="+url.QueryEscape(r.Obj("meta")["before_cursor"].(string)), nil).Want(t, 200)
			if got := ids64(back.List(list.key), "id"); len(got) != 2 || got[1] >= ids64(r.List(list.key), "id")[0] {
				t.Fatalf("%s: page before %v = %v", list.path, ids64(r.List(list.key), "id"), got)
			}
			desc := ids64(a.Do(t, a.Admin, "GET", list.path+"?page[size]=100&sort=-id", nil).Want(t, 200).List(list.key), "id")
			if len(desc) != total {
				t.Fatalf("%s sorted = %v", list.path, desc)
			}
		}
		// Sideloads.
		ag := a.User(t, identity.Agent, "ag@acme.test", "Agnes")
		o := testkit.ID(postObj(t, a, a.Admin, "/api/v2/organizations", "organization", map[string]any{"name": "Side"}), "id")
		g := testkit.ID(postObj(t, a, a.Admin, "/api/v2/groups", "group", map[string]any{"name": "Side Group"}), "id")
		postObj(t, a, a.Admin, "/api/v2/organization_memberships", "organization_membership", map[string]any{"user_id": ag.UserID, "organization_id": o})
		postObj(t, a, a.Admin, "/api/v2/group_memberships", "group_membership", map[string]any{"user_id": ag.UserID, "group_id": g})
		r := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d.json?include=organizations,groups,identities,bogus", ag.UserID), nil).Want(t, 200)
		if ids64(r.List("organizations"), "id")[0] != o || ids64(r.List("groups"), "id")[0] != g || len(r.List("identities")) != 1 {
			t.Fatalf("user sideloads = %s", r.Body)
		}
		r = a.Do(t, a.Admin, "GET", "/api/v2/users?role=agent&include=organizations", nil).Want(t, 200)
		if got := ids64(r.List("organizations"), "id"); !slices.Equal(got, []int64{o}) {
			t.Fatalf("users list sideloaded organizations = %v", got)
		}
		r = a.Do(t, a.Admin, "GET", "/api/v2/organization_memberships?include=users,organizations", nil).Want(t, 200)
		if len(r.List("users")) != 1 || len(r.List("organizations")) != 1 {
			t.Fatalf("membership sideloads = %s", r.Body)
		}
		r = a.Do(t, a.Admin, "GET", "/api/v2/group_memberships.json?include=users,groups", nil).Want(t, 200)
		if len(r.List("users")) != 1 || len(r.List("groups")) != 1 {
			t.Fatalf("group membership sideloads = %s", r.Body)
		}
		if r := a.Do(t, a.Admin, "GET", "/api/v2/users/me", nil).Want(t, 200); r.JSON["organizations"] != nil {
			t.Fatalf("no include, no sideload: %s", r.Body)
		}
	})
}
