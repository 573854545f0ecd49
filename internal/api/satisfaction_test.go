package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/testkit"
)

// TestSatisfactionRatingsAPI: the requester rates a solved ticket (and only the
// requester, only once solved); agents list and read ratings of the tickets they may
// see; other accounts see none; bad input answers 422 and changes nothing.
func TestSatisfactionRatingsAPI(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Team)
		other := d.Account(t, "globex", account.Team)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		val := a.User(t, identity.EndUser, "val@example.test", "Val")
		eve := a.User(t, identity.EndUser, "eve@example.test", "Eve")
		mine := a.User(t, identity.Agent, "mine@acme.test", "Restricted Agent")
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d.json", mine.UserID), map[string]any{"user": map[string]any{"ticket_restriction": "assigned"}}).Want(t, http.StatusOK)
		id := testkit.ID(a.Do(t, ag, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Broken", "requester_id": val.UserID,
			"assignee_id": ag.UserID, "comment": map[string]any{"body": "help"}}}).Want(t, http.StatusCreated).Obj("ticket"), "id")
		path := fmt.Sprintf("/api/v2/tickets/%d/satisfaction_rating.json", id)
		rate := func(score string, extra map[string]any) map[string]any {
			m := map[string]any{"score": score}
			for k, v := range extra {
				m[k] = v
			}
			return map[string]any{"satisfaction_rating": m}
		}
		// Not solved yet: refused, with the reason.
		if r := a.Do(t, val, "POST", path, rate("good", nil)).Want(t, http.StatusUnprocessableEntity); !strings.Contains(string(r.Body), "once it is solved") {
			t.Fatalf("rating an open ticket: %s", r.Body)
		}
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"status": "solved"}}).Want(t, http.StatusOK)
		for _, tc := range []struct {
			body map[string]any
			want string
		}{
			{rate("great", nil), "score must be good or bad"},
			{rate("bad", map[string]any{"reason_code": 42}), "not a satisfaction reason"},
			{rate("good", map[string]any{"reason_code": 5}), "bad rating only"},
			{rate("bad", map[string]any{"comment": strings.Repeat("x", 4001)}), "at most 4000"},
			{map[string]any{"score": "good"}, "satisfaction_rating"},
		} {
			if r := a.Do(t, val, "POST", path, tc.body).Want(t, http.StatusUnprocessableEntity); !strings.Contains(string(r.Body), tc.want) {
				t.Errorf("%v: %s does not say %q", tc.body, r.Body, tc.want)
			}
		}
		a.Do(t, ag, "POST", path, rate("good", nil)).Want(t, http.StatusForbidden) // agents do not rate
		a.Do(t, eve, "POST", path, rate("good", nil)).Want(t, http.StatusNotFound) // another end user's ticket
		other.Do(t, other.Admin, "POST", path, rate("good", nil)).Want(t, http.StatusNotFound)
		if n := len(a.Do(t, ag, "GET", "/api/v2/satisfaction_ratings.json?score=received", nil).Want(t, http.StatusOK).List("satisfaction_ratings")); n != 0 {
			t.Fatalf("%d ratings stored from refused input", n)
		}

		r := a.Do(t, val, "POST", path, rate("bad", map[string]any{"comment": "Slow", "reason_code": 5})).Want(t, http.StatusCreated).Obj("satisfaction_rating")
		if r["score"] != "bad" || r["comment"] != "Slow" || testkit.ID(r, "ticket_id") != id || testkit.ID(r, "assignee_id") != ag.UserID {
			t.Fatalf("rating = %v", r)
		}
		rid := testkit.ID(r, "id")
		// A new rating replaces the last (one per ticket), and is audited.
		r = a.Do(t, val, "POST", path, rate("good", map[string]any{"comment": "Fixed after all"})).Want(t, http.StatusCreated).Obj("satisfaction_rating")
		if testkit.ID(r, "id") != rid || r["score"] != "good" || r["reason"] != nil {
			t.Fatalf("second rating = %v", r)
		}
		audits := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", id), nil).Want(t, http.StatusOK).List("audits")
		if ev := fmt.Sprint(audits[len(audits)-1]["events"]); !strings.Contains(ev, "SatisfactionRating") || !strings.Contains(ev, "Fixed after all") {
			t.Fatalf("rating audit events = %s", ev)
		}

		a.Do(t, ag, "GET", path, nil).Want(t, http.StatusOK)
		a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/satisfaction_ratings/%d.json", rid), nil).Want(t, http.StatusOK)
		if list := a.Do(t, a.Admin, "GET", "/api/v2/satisfaction_ratings.json?score=good", nil).Want(t, http.StatusOK).List("satisfaction_ratings"); len(list) != 1 {
			t.Fatalf("good ratings = %v", list)
		}
		if list := a.Do(t, ag, "GET", "/api/v2/satisfaction_ratings.json?score=bad", nil).Want(t, http.StatusOK).List("satisfaction_ratings"); len(list) != 0 {
			t.Fatalf("bad ratings = %v", list)
		}
		if rs := a.Do(t, ag, "GET", "/api/v2/satisfaction_reasons.json", nil).Want(t, http.StatusOK).List("reasons"); len(rs) != 6 {
			t.Fatalf("reasons = %v", rs)
		}
		// A restricted agent sees only the ratings of tickets assigned to them.
		if list := a.Do(t, mine, "GET", "/api/v2/satisfaction_ratings.json", nil).Want(t, http.StatusOK).List("satisfaction_ratings"); len(list) != 0 {
			t.Fatalf("restricted agent sees %v", list)
		}
		a.Do(t, mine, "GET", fmt.Sprintf("/api/v2/satisfaction_ratings/%d.json", rid), nil).Want(t, http.StatusNotFound)
		a.Do(t, mine, "GET", path, nil).Want(t, http.StatusNotFound)
		// End users and other accounts read no ratings.
		a.Do(t, val, "GET", "/api/v2/satisfaction_ratings.json", nil).Want(t, http.StatusForbidden)
		a.Do(t, testkit.Anonymous, "GET", "/api/v2/satisfaction_ratings.json", nil).Want(t, http.StatusUnauthorized)
		other.Do(t, other.Admin, "GET", fmt.Sprintf("/api/v2/satisfaction_ratings/%d.json", rid), nil).Want(t, http.StatusNotFound)
		if list := other.Do(t, other.Admin, "GET", "/api/v2/satisfaction_ratings.json", nil).Want(t, http.StatusOK).List("satisfaction_ratings"); len(list) != 0 {
			t.Fatalf("another account lists %v", list)
		}
		for _, q := range []string{"score=meh", "start_time=yesterday", "page[size]=0"} {
			a.Do(t, ag, "GET", "/api/v2/satisfaction_ratings.json?"+q, nil).Want(t, http.StatusUnprocessableEntity)
		}
		// Closing keeps the rating open to change (Zendesk lets a closed ticket be rated).
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"status": "closed"}}).Want(t, http.StatusOK)
		a.Do(t, val, "POST", path, rate("bad", nil)).Want(t, http.StatusCreated)
	})
}
