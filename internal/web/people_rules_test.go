package web_test

import (
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// The rules of the people service, driven through both surfaces that write people (the
// REST API and the admin center's forms) and the CSV import, on each database.

// eachFixture runs f on a fresh fixture per database.
func eachFixture(t *testing.T, f func(t *testing.T, fx *fixture)) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f(t, newFixture(t, d))
		})
	}
}

// apiDetail returns the description of the first problem an API 422 names on field.
func apiDetail(t *testing.T, r *testkit.Resp, field string) string {
	t.Helper()
	details, _ := r.JSON["details"].(map[string]any)
	list, _ := details[field].([]any)
	if len(list) == 0 {
		t.Fatalf("no %s detail in %s", field, r.Body)
	}
	d, _ := list[0].(map[string]any)
	s, _ := d["description"].(string)
	return s
}

// importDone uploads a CSV file and waits for its report.
func importDone(t *testing.T, c *client, kind, csv string) page {
	t.Helper()
	p := upload(t, c, kind, csv).want(t, http.StatusSeeOther)
	var status page
	testkit.Eventually(t, 20*time.Second, "the import to finish", func() bool {
		status = c.do("GET", p.Location, nil, http.Header{"HX-Request": {"true"}})
		return strings.Contains(status.Body, "Import finished") || strings.Contains(status.Body, "Import stopped")
	})
	return status
}

// userByEmail reads a user through the API.
func userByEmail(t *testing.T, fx *fixture, email string) map[string]any {
	t.Helper()
	list := fx.acct.Do(t, fx.admin, "GET", "/api/v2/users/search.json?email="+url.QueryEscape(email), nil).Want(t, 200).List("users")
	if len(list) != 1 {
		t.Fatalf("users with email %s: %v", email, list)
	}
	return list[0]
}

// TestSharedCommentsNeedSharedTicketsOnEverySurface: the API refuses shared_comments
// without shared_tickets exactly as the web form does, on create and on update, and
// stores nothing.
func TestSharedCommentsNeedSharedTicketsOnEverySurface(t *testing.T) {
	t.Parallel()
	eachFixture(t, func(t *testing.T, fx *fixture) {
		a, c := fx.acct, fx.signedIn(t, fx.admin)
		apiCreate := apiDetail(t, a.Do(t, fx.admin, "POST", "/api/v2/organizations.json",
			map[string]any{"organization": map[string]any{"name": "Talkative", "shared_tickets": false, "shared_comments": true}}).Want(t, 422), "shared_comments")
		webCreate := c.post("/admin/organizations", url.Values{"name": {"Talkative"}, "shared_comments": {"on"}}).want(t, http.StatusUnprocessableEntity)
		// Initech shares tickets and comments; turning tickets off alone is refused.
		apiUpdate := apiDetail(t, a.Do(t, fx.admin, "PUT", fmt.Sprintf("/api/v2/organizations/%d.json", fx.initech),
			map[string]any{"organization": map[string]any{"shared_tickets": false}}).Want(t, 422), "shared_comments")
		webUpdate := c.post(fmt.Sprintf("/admin/organizations/%d", fx.initech), url.Values{"name": {"Initech"}, "shared_comments": {"on"}}).want(t, http.StatusUnprocessableEntity)
		if !strings.Contains(apiCreate, "requires shared_tickets") || apiUpdate != apiCreate {
			t.Fatalf("API: create %q, update %q", apiCreate, apiUpdate)
		}
		webCreate.has(t, html.EscapeString(apiCreate))
		webUpdate.has(t, html.EscapeString(apiCreate))
		if n := len(a.Do(t, fx.admin, "GET", "/api/v2/organizations/search.json?name=Talkative", nil).Want(t, 200).List("organizations")); n != 0 {
			t.Fatalf("%d organizations named Talkative stored", n)
		}
		o := a.Do(t, fx.admin, "GET", fmt.Sprintf("/api/v2/organizations/%d.json", fx.initech), nil).Want(t, 200).Obj("organization")
		if o["shared_tickets"] != true || o["shared_comments"] != true {
			t.Fatalf("Initech after the refusals: %v", o)
		}
	})
}

// TestNewUserJoinsTheOrganizationOfTheirDomain: a new user whose email domain belongs to
// an organization joins it, whichever way they are created, verified or not.
func TestNewUserJoinsTheOrganizationOfTheirDomain(t *testing.T) {
	t.Parallel()
	eachFixture(t, func(t *testing.T, fx *fixture) {
		a, c := fx.acct, fx.signedIn(t, fx.admin)
		hooli := testkit.ID(a.Do(t, fx.admin, "POST", "/api/v2/organizations.json",
			map[string]any{"organization": map[string]any{"name": "Hooli", "domain_names": []string{"hooli.test"}}}).Want(t, 201).Obj("organization"), "id")
		// The API, without saying the email is verified.
		u := a.Do(t, fx.admin, "POST", "/api/v2/users.json", map[string]any{"user": map[string]any{"name": "Api Person", "email": "api@hooli.test"}}).Want(t, 201).Obj("user")
		if testkit.ID(u, "organization_id") != hooli || u["verified"] != false {
			t.Errorf("API-created user = %v, want organization %d", u, hooli)
		}
		// A ticket's requester object, and an agent doing it.
		agent := a.User(t, identity.Agent, "nina@acme.test", "Nina Agent")
		tk := a.Do(t, agent, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Hello", "comment": map[string]any{"body": "Hi"},
			"requester": map[string]any{"name": "Req Person", "email": "req@hooli.test"}}}).Want(t, 201).Obj("ticket")
		req := a.Do(t, fx.admin, "GET", fmt.Sprintf("/api/v2/users/%d.json", testkit.ID(tk, "requester_id")), nil).Want(t, 200).Obj("user")
		if testkit.ID(req, "organization_id") != hooli || testkit.ID(tk, "organization_id") != hooli {
			t.Errorf("requester %v of ticket %v, want organization %d", req, tk, hooli)
		}
		// The admin center's form.
		c.post("/admin/users", url.Values{"name": {"Web Person"}, "email": {"web@hooli.test"}, "role": {"end-user"}}).want(t, http.StatusSeeOther)
		if got := testkit.ID(userByEmail(t, fx, "web@hooli.test"), "organization_id"); got != hooli {
			t.Errorf("web-created user in organization %d, want %d", got, hooli)
		}
		// The CSV import.
		importDone(t, c, "users", "name,email\nImported Person,imp@hooli.test\n").has(t, "1 created")
		if got := testkit.ID(userByEmail(t, fx, "imp@hooli.test"), "organization_id"); got != hooli {
			t.Errorf("imported user in organization %d, want %d", got, hooli)
		}
	})
}

// TestDemotionLeavesGroupsOnEverySurface: an agent made an end user leaves every group,
// through the API, the admin form and the import alike, and the audit log says so.
func TestDemotionLeavesGroupsOnEverySurface(t *testing.T) {
	t.Parallel()
	eachFixture(t, func(t *testing.T, fx *fixture) {
		a, c := fx.acct, fx.signedIn(t, fx.admin)
		agent := func(email string) int64 {
			u := a.Do(t, fx.admin, "POST", "/api/v2/users.json", map[string]any{"user": map[string]any{"name": email, "email": email, "role": "agent", "default_group_id": fx.group}}).Want(t, 201).Obj("user")
			return testkit.ID(u, "id")
		}
		groups := func(id int64) int {
			return len(a.Do(t, fx.admin, "GET", fmt.Sprintf("/api/v2/users/%d/group_memberships.json", id), nil).Want(t, 200).List("group_memberships"))
		}
		viaAPI, viaWeb, viaImport := agent("api@acme.test"), agent("web@acme.test"), agent("imp@acme.test")
		for _, id := range []int64{viaAPI, viaWeb, viaImport} {
			if n := groups(id); n != 1 {
				t.Fatalf("agent %d in %d groups before, want 1", id, n)
			}
		}
		a.Do(t, fx.admin, "PUT", fmt.Sprintf("/api/v2/users/%d.json", viaAPI), map[string]any{"user": map[string]any{"role": "end-user"}}).Want(t, 200)
		c.get(fmt.Sprintf("/admin/users/%d", viaWeb))
		c.post(fmt.Sprintf("/admin/users/%d", viaWeb), url.Values{"name": {"web@acme.test"}, "email": {"web@acme.test"}, "role": {"end-user"}}).want(t, http.StatusSeeOther)
		importDone(t, c, "users", "email,role\nimp@acme.test,end-user\n").has(t, "1 updated")
		for name, id := range map[string]int64{"API": viaAPI, "web form": viaWeb, "import": viaImport} {
			if n := groups(id); n != 0 {
				t.Errorf("demoted through the %s: still in %d groups", name, n)
			}
			logs := a.Do(t, fx.admin, "GET", fmt.Sprintf("/api/v2/audit_logs.json?filter[source_id]=%d", id), nil).Want(t, 200).Body
			for _, want := range []string{"Role changed from agent to end-user", "Removed from group Support (no longer an agent)"} {
				if !strings.Contains(string(logs), want) {
					t.Errorf("demoted through the %s: audit log lacks %q: %s", name, want, logs)
				}
			}
		}
	})
}

// basicPassword is an API request authenticated with an email and password.
func basicPassword(t *testing.T, fx *fixture, email string) int {
	t.Helper()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+password))
	r, err := fx.desk.Request(fx.acct.Sub, testkit.Anonymous, "GET", "/api/v2/users/me.json", nil, http.Header{"Authorization": {auth}})
	if err != nil {
		t.Fatal(err)
	}
	return r.Status
}

// TestSuspensionEndsSessions: suspending a user, through the API or the admin form,
// ends their live web session (it does not come back when they are unsuspended) and
// refuses their password on the API while it lasts.
func TestSuspensionEndsSessions(t *testing.T) {
	t.Parallel()
	eachFixture(t, func(t *testing.T, fx *fixture) {
		a, c := fx.acct, fx.signedIn(t, fx.admin)
		alice, carol := fx.signedIn(t, fx.alice), fx.signedIn(t, fx.carol)
		alice.get("/hc/requests").want(t, http.StatusOK)
		carol.get("/hc/requests").want(t, http.StatusOK)
		if s := basicPassword(t, fx, fx.alice.Email); s != 200 {
			t.Fatalf("password auth before suspension: %d", s)
		}
		suspend := func(on bool) {
			a.Do(t, fx.admin, "PUT", fmt.Sprintf("/api/v2/users/%d.json", fx.alice.UserID), map[string]any{"user": map[string]any{"suspended": on}}).Want(t, 200)
			form := url.Values{"name": {"Carol Diaz"}, "email": {fx.carol.Email}, "role": {"end-user"}}
			if on {
				form.Set("suspended", "on")
			}
			c.get(fmt.Sprintf("/admin/users/%d", fx.carol.UserID))
			c.post(fmt.Sprintf("/admin/users/%d", fx.carol.UserID), form).want(t, http.StatusSeeOther)
		}
		suspend(true)
		if s := basicPassword(t, fx, fx.alice.Email); s != http.StatusUnauthorized {
			t.Errorf("password auth of a suspended user: %d, want 401", s)
		}
		suspend(false)
		if s := basicPassword(t, fx, fx.alice.Email); s != 200 {
			t.Errorf("password auth after unsuspension: %d", s)
		}
		for name, cl := range map[string]*client{"alice (API)": alice, "carol (web form)": carol} {
			if p := cl.get("/hc/requests"); p.Status == http.StatusOK {
				t.Errorf("%s: the session from before the suspension still works", name)
			}
		}
	})
}

// TestNobodyDemotesOrSuspendsThemselves: the same 403 and words on the API and the form.
func TestNobodyDemotesOrSuspendsThemselves(t *testing.T) {
	t.Parallel()
	eachFixture(t, func(t *testing.T, fx *fixture) {
		a, c := fx.acct, fx.signedIn(t, fx.admin)
		self := fmt.Sprintf("/api/v2/users/%d.json", fx.admin.UserID)
		const words = "change your own role or suspend yourself"
		for _, change := range []map[string]any{{"role": "agent"}, {"suspended": true}} {
			r := a.Do(t, fx.admin, "PUT", self, map[string]any{"user": change}).Want(t, http.StatusForbidden)
			if !strings.Contains(string(r.Body), words) {
				t.Errorf("API %v: %s", change, r.Body)
			}
		}
		for _, form := range []url.Values{
			{"name": {"Admin"}, "email": {fx.admin.Email}, "role": {"agent"}},
			{"name": {"Admin"}, "email": {fx.admin.Email}, "role": {"admin"}, "suspended": {"on"}},
		} {
			c.get(fmt.Sprintf("/admin/users/%d", fx.admin.UserID))
			c.post(fmt.Sprintf("/admin/users/%d", fx.admin.UserID), form).want(t, http.StatusForbidden).has(t, words)
		}
		me := a.Do(t, fx.admin, "GET", self, nil).Want(t, 200).Obj("user")
		if me["role"] != "admin" || me["suspended"] != false {
			t.Fatalf("admin after the refusals: %v", me)
		}
	})
}

// TestDomainBelongsToOneOrganization: a domain another organization has is refused on
// the API, the form and the import, naming the domain and the other organization.
func TestDomainBelongsToOneOrganization(t *testing.T) {
	t.Parallel()
	eachFixture(t, func(t *testing.T, fx *fixture) {
		a, c := fx.acct, fx.signedIn(t, fx.admin)
		a.Do(t, fx.admin, "POST", "/api/v2/organizations.json", map[string]any{"organization": map[string]any{"name": "Hooli", "domain_names": []string{"hooli.test"}}}).Want(t, 201)
		r := a.Do(t, fx.admin, "POST", "/api/v2/organizations.json", map[string]any{"organization": map[string]any{"name": "Copycat", "domain_names": []string{"copy.test", "HOOLI.test"}}}).Want(t, 422)
		msg := apiDetail(t, r, "domain_names")
		if !strings.Contains(msg, "hooli.test") || !strings.Contains(msg, "Hooli") {
			t.Fatalf("API message %q names neither the domain nor the organization", msg)
		}
		upd := a.Do(t, fx.admin, "PUT", fmt.Sprintf("/api/v2/organizations/%d.json", fx.umbrella), map[string]any{"organization": map[string]any{"domain_names": []string{"hooli.test"}}}).Want(t, 422)
		if got := apiDetail(t, upd, "domain_names"); got != msg {
			t.Errorf("update says %q, create %q", got, msg)
		}
		c.post("/admin/organizations", url.Values{"name": {"Copycat"}, "domains": {"hooli.test"}}).want(t, http.StatusUnprocessableEntity).has(t, html.EscapeString(msg))
		importDone(t, c, "organizations", "name,domain_names\nCopycat,hooli.test\n").has(t, "1 with errors", html.EscapeString(msg))
	})
}

// TestAuditLogs: role and membership changes are recorded with who made them, readable
// by the account's admins only, through the API and on the admin user page.
func TestAuditLogs(t *testing.T) {
	t.Parallel()
	eachFixture(t, func(t *testing.T, fx *fixture) {
		a, c := fx.acct, fx.signedIn(t, fx.admin)
		a.Do(t, fx.admin, "PUT", fmt.Sprintf("/api/v2/users/%d.json", fx.agent.UserID), map[string]any{"user": map[string]any{"role": "admin"}}).Want(t, 200)
		c.get(fmt.Sprintf("/admin/users/%d", fx.carol.UserID))
		c.post(fmt.Sprintf("/admin/users/%d/organizations", fx.carol.UserID), url.Values{"organization_id": {fmt.Sprint(fx.initech)}}).want(t, http.StatusSeeOther)

		list := a.Do(t, fx.admin, "GET", fmt.Sprintf("/api/v2/audit_logs.json?filter[source_id]=%d", fx.agent.UserID), nil).Want(t, 200).List("audit_logs")
		if len(list) != 1 || list[0]["change_description"] != "Role changed from agent to admin" || testkit.ID(list[0], "actor_id") != fx.admin.UserID ||
			list[0]["field"] != "role" || list[0]["source_type"] != "user" || list[0]["created_at"] == nil {
			t.Fatalf("audit log of the promoted agent = %v", list)
		}
		one := a.Do(t, fx.admin, "GET", fmt.Sprintf("/api/v2/audit_logs/%d.json", testkit.ID(list[0], "id")), nil).Want(t, 200).Obj("audit_log")
		if one["change_description"] != list[0]["change_description"] {
			t.Errorf("show = %v", one)
		}
		carolLog := a.Do(t, fx.admin, "GET", fmt.Sprintf("/api/v2/audit_logs.json?filter[source_id]=%d", fx.carol.UserID), nil).Want(t, 200).Body
		if !strings.Contains(string(carolLog), "Joined organization Initech") {
			t.Errorf("carol's audit log = %s", carolLog)
		}
		c.get(fmt.Sprintf("/admin/users/%d", fx.agent.UserID)).want(t, http.StatusOK).has(t, "History", "Role changed from agent to admin")

		// Admins only, and each account its own.
		agent := a.User(t, identity.Agent, "riley@acme.test", "Riley Agent")
		endUser := a.User(t, identity.EndUser, "eve@example.test", "Eve")
		a.Do(t, agent, "GET", "/api/v2/audit_logs.json", nil).Want(t, http.StatusForbidden)
		a.Do(t, endUser, "GET", "/api/v2/audit_logs.json", nil).Want(t, http.StatusForbidden)
		globex := fx.desk.Account(t, "globex", account.Enterprise)
		for _, e := range globex.Do(t, globex.Admin, "GET", "/api/v2/audit_logs.json", nil).Want(t, 200).List("audit_logs") {
			if testkit.ID(e, "source_id") != globex.Admin.UserID {
				t.Errorf("another account's admin reads %v", e)
			}
		}
		globex.Do(t, globex.Admin, "GET", fmt.Sprintf("/api/v2/audit_logs/%d.json", testkit.ID(list[0], "id")), nil).Want(t, http.StatusNotFound)
	})
}
