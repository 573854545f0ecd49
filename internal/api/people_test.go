package api_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// Tests of the people API: users, identities, API tokens, organizations, groups and
// their memberships. Each scenario runs on a fresh server per dialect.

func peopleDesks(t *testing.T, f func(t *testing.T, d *testkit.Desk)) {
	t.Parallel()
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			f(t, testkit.Start(t, dia))
		})
	}
}

func postObj(t *testing.T, a *testkit.Acct, cred testkit.Cred, path, key string, obj map[string]any) map[string]any {
	t.Helper()
	return a.Do(t, cred, "POST", path, map[string]any{key: obj}).Want(t, 201).Obj(key)
}

// peopleWaitJob polls a job until it completes. (It does not call api.WaitJobs: a
// WaitGroup's Wait racing with another test's Add is a data race.)
func peopleWaitJob(t *testing.T, a *testkit.Acct, id string) map[string]any {
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

func ids64(list []map[string]any, key string) []int64 {
	out := []int64{}
	for _, m := range list {
		out = append(out, testkit.ID(m, key))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// userKeys is every key of Zendesk's user object, in order.
var userKeys = []string{"id", "url", "name", "email", "created_at", "updated_at", "time_zone", "iana_time_zone", "phone",
	"shared_phone_number", "photo", "locale_id", "locale", "organization_id", "role", "verified", "external_id", "tags",
	"alias", "active", "shared", "shared_agent", "last_login_at", "two_factor_auth_enabled", "signature", "details", "notes",
	"role_type", "custom_role_id", "moderator", "ticket_restriction", "only_private_comments", "restricted_agent",
	"suspended", "chat_only", "default_group_id", "report_csv", "user_fields"}

func TestPeopleUserLifecycle(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		// Create: 201, Location, the full object with nulls.
		resp := a.Do(t, a.Admin, "POST", "/api/v2/users.json", map[string]any{"user": map[string]any{
			"name": "  Bea Buyer ", "email": "Bea@Example.test", "external_id": "CRM-1", "tags": []string{"VIP", "vip"},
			"user_fields": map[string]any{"tier": "gold"}, "unknown_key": 1,
		}}).Want(t, 201)
		u := resp.Obj("user")
		id := testkit.ID(u, "id")
		if loc := resp.Header.Get("Location"); !strings.HasSuffix(loc, fmt.Sprintf("/api/v2/users/%d.json", id)) {
			t.Fatalf("Location = %q", loc)
		}
		for _, k := range userKeys {
			if _, ok := u[k]; !ok {
				t.Errorf("user has no %q key", k)
			}
		}
		if u["name"] != "Bea Buyer" || u["email"] != "bea@example.test" || u["role"] != "end-user" || u["verified"] != false ||
			u["active"] != true || u["ticket_restriction"] != "requested" || u["phone"] != nil || u["organization_id"] != nil {
			t.Fatalf("user = %v", u)
		}
		if fmt.Sprint(u["tags"]) != "[vip]" || fmt.Sprint(u["user_fields"]) != "map[tier:gold]" {
			t.Fatalf("tags/user_fields = %v / %v", u["tags"], u["user_fields"])
		}
		if ca, _ := u["created_at"].(string); len(ca) != 20 || !strings.HasSuffix(ca, "Z") {
			t.Fatalf("created_at = %v", u["created_at"])
		}
		// Read with and without .json.
		a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d", id), nil).Want(t, 200)
		// Partial update keeps the rest.
		up := a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d.json", id), map[string]any{"user": map[string]any{"phone": "+33 1 23", "role": "agent"}}).Want(t, 200).Obj("user")
		if up["phone"] != "+33 1 23" || up["role"] != "agent" || up["external_id"] != "CRM-1" || up["ticket_restriction"] != nil {
			t.Fatalf("updated = %v", up)
		}
		// A new email becomes the primary identity; the old one stays as secondary.
		up = a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", id), map[string]any{"user": map[string]any{"email": "bea@new.test", "verified": true}}).Want(t, 200).Obj("user")
		if up["email"] != "bea@new.test" || up["verified"] != true {
			t.Fatalf("email change = %v", up)
		}
		idents := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d/identities.json", id), nil).Want(t, 200).List("identities")
		if len(idents) != 2 || idents[0]["value"] != "bea@new.test" || idents[0]["primary"] != true || idents[1]["primary"] != false {
			t.Fatalf("identities = %v", idents)
		}
		// Duplicate email, in either case, is a 422 DuplicateValue.
		dup := a.Do(t, a.Admin, "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "X", "email": "BEA@new.test"}}).Want(t, 422)
		if !strings.Contains(string(dup.Body), "DuplicateValue") {
			t.Fatalf("duplicate body = %s", dup.Body)
		}
		// The old address is still hers: nobody else may take it either.
		a.Do(t, a.Admin, "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "X", "email": "bea@example.test"}}).Want(t, 422)

		// create_or_update: matches by email (case-insensitively) -> 200; new -> 201.
		cu := a.Do(t, a.Admin, "POST", "/api/v2/users/create_or_update.json", map[string]any{"user": map[string]any{"name": "Bea B.", "email": "BEA@EXAMPLE.TEST"}}).Want(t, 200).Obj("user")
		if testkit.ID(cu, "id") != id || cu["name"] != "Bea B." || cu["email"] != "bea@new.test" {
			t.Fatalf("create_or_update by secondary email = %v", cu)
		}
		cu = a.Do(t, a.Admin, "POST", "/api/v2/users/create_or_update", map[string]any{"user": map[string]any{"name": "Bea C.", "external_id": "crm-1"}}).Want(t, 200).Obj("user")
		if testkit.ID(cu, "id") != id || cu["name"] != "Bea C." {
			t.Fatalf("create_or_update by external_id = %v", cu)
		}
		newResp := a.Do(t, a.Admin, "POST", "/api/v2/users/create_or_update", map[string]any{"user": map[string]any{"name": "Cy", "email": "cy@example.test"}}).Want(t, 201)
		cy := testkit.ID(newResp.Obj("user"), "id")
		if newResp.Header.Get("Location") == "" {
			t.Fatal("create_or_update 201 without Location")
		}

		// show_many, search, autocomplete, count.
		sm := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/show_many.json?ids=%d,%d,999999", id, cy), nil).Want(t, 200)
		if got := ids64(sm.List("users"), "id"); !slices.Equal(got, []int64{id, cy}) || testkit.ID(sm.JSON, "count") != 2 {
			t.Fatalf("show_many = %s", sm.Body)
		}
		sm = a.Do(t, a.Admin, "GET", "/api/v2/users/show_many?external_ids=CRM-1", nil).Want(t, 200)
		if got := ids64(sm.List("users"), "id"); !slices.Equal(got, []int64{id}) {
			t.Fatalf("show_many by external id = %s", sm.Body)
		}
		for q, want := range map[string][]int64{
			"query=bea":                 {id},
			"query=EXAMPLE.test":        {cy},
			"query=role:end-user":       {cy},
			"external_id=crm-1":         {id},
			"email=cy@example.test":     {cy},
			"query=email:cy@example":    {cy},
			"query=nobody-has-this-100": {},
		} {
			got := ids64(a.Do(t, a.Admin, "GET", "/api/v2/users/search.json?"+q, nil).Want(t, 200).List("users"), "id")
			if !slices.Equal(got, want) {
				t.Errorf("search %s = %v, want %v", q, got, want)
			}
		}
		if got := ids64(a.Do(t, a.Admin, "GET", "/api/v2/users/autocomplete?name=be", nil).Want(t, 200).List("users"), "id"); !slices.Equal(got, []int64{id}) {
			t.Fatalf("autocomplete = %v", got)
		}
		count := a.Do(t, a.Admin, "GET", "/api/v2/users/count.json", nil).Want(t, 200).Obj("count")
		if testkit.ID(count, "value") != 3 || count["refreshed_at"] == nil {
			t.Fatalf("count = %v", count)
		}
		// Filters on the list.
		for q, want := range map[string][]int64{
			"role=admin":                      {a.Admin.UserID},
			"role[]=admin&role[]=end-user":    {a.Admin.UserID, cy},
			"role%5B%5D=agent":                {id},
			"external_id=CRM-1":               {id},
			"role=agent&external_id=nothing1": {},
		} {
			got := ids64(a.Do(t, a.Admin, "GET", "/api/v2/users.json?"+q, nil).Want(t, 200).List("users"), "id")
			if !slices.Equal(got, want) {
				t.Errorf("list %s = %v, want %v", q, got, want)
			}
		}

		// Delete is soft: 200 with active false; the user's token stops working.
		tokUser := a.User(t, identity.EndUser, "gone@example.test", "Gone")
		a.Do(t, tokUser, "GET", "/api/v2/users/me", nil).Want(t, 200)
		del := a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/users/%d.json", tokUser.UserID), nil).Want(t, 200).Obj("user")
		if del["active"] != false {
			t.Fatalf("deleted user = %v", del)
		}
		a.Do(t, tokUser, "GET", "/api/v2/users/me", nil).Want(t, 401)
		a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d", tokUser.UserID), nil).Want(t, 200)
		if got := ids64(a.Do(t, a.Admin, "GET", "/api/v2/users", nil).Want(t, 200).List("users"), "id"); slices.Contains(got, tokUser.UserID) {
			t.Fatalf("deleted user still listed: %v", got)
		}
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/users/%d", a.Admin.UserID), nil).Want(t, 403)
	})
}

func TestPeopleSuspendedUserCannotAuthenticate(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Team)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes")
		eu := a.User(t, identity.EndUser, "eu@acme.test", "Eve")
		a.Do(t, ag, "GET", "/api/v2/users/me", nil).Want(t, 200)
		// Admins suspend agents; agents suspend end users.
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", ag.UserID), map[string]any{"user": map[string]any{"suspended": true}}).Want(t, 200)
		r := a.Do(t, ag, "GET", "/api/v2/users/me", nil).Want(t, 401)
		if !strings.Contains(string(r.Body), "Couldn't authenticate you") {
			t.Fatalf("401 body = %s", r.Body)
		}
		a.Do(t, ag, "GET", "/api/v2/users", nil).Want(t, 401)
		ag2 := a.User(t, identity.Agent, "agent2@acme.test", "Abe")
		a.Do(t, ag2, "PUT", fmt.Sprintf("/api/v2/users/%d", eu.UserID), map[string]any{"user": map[string]any{"suspended": true}}).Want(t, 200)
		a.Do(t, eu, "GET", "/api/v2/users/me", nil).Want(t, 401)
		// Unsuspended, the same token works again.
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", ag.UserID), map[string]any{"user": map[string]any{"suspended": false}}).Want(t, 200)
		a.Do(t, ag, "GET", "/api/v2/users/me", nil).Want(t, 200)
		// Nobody suspends themselves.
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", a.Admin.UserID), map[string]any{"user": map[string]any{"suspended": true}}).Want(t, 403)
	})
}

func TestPeopleMeAnonymousAndPasswords(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Team)
		me := a.Do(t, testkit.Anonymous, "GET", "/api/v2/users/me.json", nil).Want(t, 200).Obj("user")
		if v, ok := me["id"]; !ok || v != nil || me["role"] != "anonymous" || me["name"] != "Anonymous user" {
			t.Fatalf("anonymous me = %v", me)
		}
		eu := a.User(t, identity.EndUser, "eu@acme.test", "Eve")
		me = a.Do(t, eu, "GET", "/api/v2/users/me", nil).Want(t, 200).Obj("user")
		if testkit.ID(me, "id") != eu.UserID || me["role"] != "end-user" {
			t.Fatalf("me = %v", me)
		}
		basic := func(email, pw string) int {
			r, err := d.Request("acme", testkit.Anonymous, "GET", "/api/v2/users/me", nil, http.Header{"Authorization": {"Basic " + b64(email+":"+pw)}})
			if err != nil {
				t.Fatal(err)
			}
			return r.Status
		}
		// An admin sets a password; the user then changes it with the previous one.
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d/password.json", eu.UserID), map[string]any{"password": "first-secret-1"}).Want(t, 200)
		if s := basic("eu@acme.test", "first-secret-1"); s != 200 {
			t.Fatalf("password sign-in = %d", s)
		}
		a.Do(t, eu, "PUT", fmt.Sprintf("/api/v2/users/%d/password", eu.UserID), map[string]any{"password": "second-secret-2", "previous_password": "wrong"}).Want(t, 422)
		a.Do(t, eu, "PUT", fmt.Sprintf("/api/v2/users/%d/password", eu.UserID), map[string]any{"password": "short"}).Want(t, 422)
		a.Do(t, eu, "PUT", fmt.Sprintf("/api/v2/users/%d/password", eu.UserID), map[string]any{"password": "second-secret-2", "previous_password": "first-secret-1"}).Want(t, 200)
		if s := basic("eu@acme.test", "second-secret-2"); s != 200 {
			t.Fatalf("changed password sign-in = %d", s)
		}
		if s := basic("eu@acme.test", "first-secret-1"); s != 401 {
			t.Fatalf("old password sign-in = %d", s)
		}
		// Only admins set other people's passwords.
		ag := a.User(t, identity.Agent, "ag@acme.test", "Agnes")
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/users/%d/password", eu.UserID), map[string]any{"password": "third-secret-3"}).Want(t, 403)
		a.Do(t, eu, "PUT", fmt.Sprintf("/api/v2/users/%d/password", ag.UserID), map[string]any{"password": "third-secret-3"}).Want(t, 403)
	})
}

func TestPeopleAPITokens(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Team)
		ag := a.User(t, identity.Agent, "ag@acme.test", "Agnes")
		resp := a.Do(t, a.Admin, "POST", "/api/v2/api_tokens.json", map[string]any{"api_token": map[string]any{"description": "CI", "user_id": ag.UserID}}).Want(t, 201)
		tok := resp.Obj("api_token")
		secret, _ := tok["token"].(string)
		if len(secret) < 40 || resp.Header.Get("Location") == "" {
			t.Fatalf("token = %v", tok)
		}
		// The secret works as the agent's token.
		cred := testkit.Cred{Email: ag.Email, Token: secret}
		if me := a.Do(t, cred, "GET", "/api/v2/users/me", nil).Want(t, 200).Obj("user"); testkit.ID(me, "id") != ag.UserID {
			t.Fatalf("token authenticates as %v", me["id"])
		}
		list := a.Do(t, a.Admin, "GET", "/api/v2/api_tokens", nil).Want(t, 200)
		if strings.Contains(string(list.Body), secret) || len(list.List("api_tokens")) != 3 {
			t.Fatalf("token list = %s", list.Body)
		}
		a.Do(t, ag, "GET", "/api/v2/api_tokens", nil).Want(t, 403)
		a.Do(t, ag, "POST", "/api/v2/api_tokens", map[string]any{"api_token": map[string]any{}}).Want(t, 403)
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/api_tokens/%d.json", testkit.ID(tok, "id")), nil).Want(t, 204)
		a.Do(t, cred, "GET", "/api/v2/users/me", nil).Want(t, 401)
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/api_tokens/%d", testkit.ID(tok, "id")), nil).Want(t, 404)
	})
}

func TestPeopleIdentities(t *testing.T) {
	peopleDesks(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		eu := a.User(t, identity.EndUser, "eu@acme.test", "Eve")
		base := fmt.Sprintf("/api/v2/users/%d/identities", eu.UserID)
		added := postObj(t, a, a.Admin, base+".json", "identity", map[string]any{"type": "email", "value": "Eve@Other.test"})
		if added["value"] != "eve@other.test" || added["primary"] != false || added["verified"] != false {
			t.Fatalf("added identity = %v", added)
		}
		iid := testkit.ID(added, "id")
		// The secondary address signs in the same user and can't be taken by another.
		a.Do(t, a.Admin, "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "X", "email": "eve@other.test"}}).Want(t, 422)
		a.Do(t, a.Admin, "POST", base, map[string]any{"identity": map[string]any{"type": "email", "value": "not-an-email"}}).Want(t, 422)
		a.Do(t, a.Admin, "POST", base, map[string]any{"identity": map[string]any{"type": "twitter", "value": "@eve"}}).Want(t, 422)
		// End users read their own identities but cannot change them.
		if n := len(a.Do(t, eu, "GET", base, nil).Want(t, 200).List("identities")); n != 2 {
			t.Fatalf("%d identities", n)
		}
		a.Do(t, eu, "DELETE", fmt.Sprintf("%s/%d", base, iid), nil).Want(t, 403)
		// Verify, make primary, then the old primary can go; the primary can't.
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("%s/%d/verify", base, iid), nil).Want(t, 200)
		list := a.Do(t, a.Admin, "PUT", fmt.Sprintf("%s/%d/make_primary.json", base, iid), nil).Want(t, 200).List("identities")
		if list[0]["value"] != "eve@other.test" || list[0]["primary"] != true {
			t.Fatalf("after make_primary = %v", list)
		}
		if u := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/users/%d", eu.UserID), nil).Want(t, 200).Obj("user"); u["email"] != "eve@other.test" {
			t.Fatalf("primary email = %v", u["email"])
		}
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("%s/%d", base, iid), nil).Want(t, 422)
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("%s/%d", base, testkit.ID(list[1], "id")), nil).Want(t, 204)
		if n := len(a.Do(t, a.Admin, "GET", base, nil).Want(t, 200).List("identities")); n != 1 {
			t.Fatalf("%d identities after delete", n)
		}
	})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
