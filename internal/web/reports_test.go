package web_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// csvRows parses a CSV download.
func csvRows(t *testing.T, p page) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(p.Body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v: %s", err, p.Body)
	}
	return rows
}

// TestReportsPage: the reports page draws SVG charts from the account's tickets; each
// section downloads as CSV with formula-like text neutralised; filters narrow it; a
// restricted agent counts only what they may see; end users are refused; another
// account sees none of it; bad filters answer 422.
func TestReportsPage(t *testing.T) {
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			desk := testkit.Start(t, dia)
			a := desk.Account(t, "acme", account.Team)
			other := desk.Account(t, "globex", account.Team)
			agent := a.User(t, identity.Agent, "agent@acme.test", "Sam Agent")
			mine := a.User(t, identity.Agent, "mine@acme.test", "Rita Restricted")
			val := a.User(t, identity.EndUser, "val@example.test", "Val")
			a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d.json", mine.UserID), map[string]any{"user": map[string]any{"ticket_restriction": "assigned"}}).Want(t, http.StatusOK)
			group := testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/groups.json", map[string]any{"group": map[string]any{"name": "Billing"}}).Want(t, http.StatusCreated).Obj("group"), "id")
			mk := func(body map[string]any) int64 {
				body["requester_id"] = val.UserID
				body["comment"] = map[string]any{"body": "help"}
				return testkit.ID(a.Do(t, agent, "POST", "/api/v2/tickets.json", map[string]any{"ticket": body}).Want(t, http.StatusCreated).Obj("ticket"), "id")
			}
			t1 := mk(map[string]any{"subject": "one", "tags": []string{"=1+1", "billing"}, "group_id": group})
			mk(map[string]any{"subject": "two", "tags": []string{"billing"}, "assignee_id": mine.UserID})
			mk(map[string]any{"subject": "three"})
			a.Do(t, agent, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", t1), map[string]any{"ticket": map[string]any{"status": "solved",
				"comment": map[string]any{"body": "Fixed", "public": true}}}).Want(t, http.StatusOK)
			a.Do(t, val, "POST", fmt.Sprintf("/api/v2/tickets/%d/satisfaction_rating.json", t1), map[string]any{"satisfaction_rating": map[string]any{"score": "bad"}}).Want(t, http.StatusCreated)
			other.Do(t, other.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "globex's", "tags": []string{"secret"}, "comment": map[string]any{"body": "x"}}}).Want(t, http.StatusCreated)

			for _, u := range []int64{a.Admin.UserID, mine.UserID, val.UserID} {
				setPassword(t, desk, ids.Account(a.ID), u)
			}
			setPassword(t, desk, ids.Account(other.ID), other.Admin.UserID)
			admin := newClient(t, desk, "acme")
			admin.signIn(a.Admin.Email, password)
			admin.get("/agent/reports").want(t, http.StatusOK).has(t, "<svg", "Tickets created and solved per day", "Backlog", "SLA achievement", "0% good", "Download CSV")
			today := time.Now().UTC().Format("2006-01-02")
			daily := csvRows(t, admin.get("/agent/reports/daily.csv").want(t, http.StatusOK))
			last := daily[len(daily)-1]
			if daily[0][0] != "date" || last[0] != today || last[1] != "3" || last[2] != "1" || last[3] != "2" {
				t.Fatalf("daily.csv last row = %v, want %s created 3 solved 1 backlog 2", last, today)
			}
			tags := admin.get("/agent/reports/tags.csv").want(t, http.StatusOK).Body
			if !strings.Contains(tags, "billing,2") || !strings.Contains(tags, "'=1+1,1") || strings.Contains(tags, "secret") {
				t.Fatalf("tags.csv = %q (a formula must be quoted, another account's tags absent)", tags)
			}
			if sat := csvRows(t, admin.get("/agent/reports/satisfaction.csv").want(t, http.StatusOK)); sat[1][1] != "1" || sat[1][3] != "0.0" {
				t.Fatalf("satisfaction.csv = %v", sat)
			}
			if tm := csvRows(t, admin.get("/agent/reports/times.csv").want(t, http.StatusOK)); tm[1][1] != "1" || tm[2][1] != "1" {
				t.Fatalf("times.csv = %v, want one first reply and one resolution", tm)
			}
			// The group filter narrows every part.
			byGroup := csvRows(t, admin.get(fmt.Sprintf("/agent/reports/daily.csv?group_id=%d", group)).want(t, http.StatusOK))
			if l := byGroup[len(byGroup)-1]; l[1] != "1" || l[3] != "0" {
				t.Fatalf("daily.csv of the group = %v", l)
			}
			// A restricted agent counts only the ticket assigned to them.
			rc := newClient(t, desk, "acme")
			rc.signIn(mine.Email, password)
			rd := csvRows(t, rc.get("/agent/reports/daily.csv").want(t, http.StatusOK))
			if l := rd[len(rd)-1]; l[1] != "1" {
				t.Fatalf("restricted agent's daily.csv = %v", l)
			}
			// End users are refused; another account sees only its own ticket.
			ec := newClient(t, desk, "acme")
			ec.signIn(val.Email, password)
			ec.get("/agent/reports").want(t, http.StatusForbidden)
			ec.get("/agent/reports/daily.csv").want(t, http.StatusForbidden)
			newClient(t, desk, "acme").get("/agent/reports/daily.csv").want(t, http.StatusSeeOther)
			oc := newClient(t, desk, "globex")
			oc.signIn(other.Admin.Email, password)
			od := csvRows(t, oc.get("/agent/reports/daily.csv").want(t, http.StatusOK))
			if l := od[len(od)-1]; l[1] != "1" {
				t.Fatalf("globex's daily.csv = %v", l)
			}
			// Bad filters: 422 naming the problem; unknown sections 404.
			for q, want := range map[string]string{
				"from=31/12/2026":               "must be a date",
				"from=2026-03-10&to=2026-03-01": "after the start date",
				"from=2020-01-01&to=2026-01-01": "at most 366 days",
				"group_id=abc":                  "chosen from the list",
				"agreement_id=-3":               "chosen from the list",
			} {
				admin.get("/agent/reports?"+q).want(t, http.StatusUnprocessableEntity).has(t, want)
			}
			admin.get("/agent/reports/passwords.csv").want(t, http.StatusNotFound)
		})
	}
}
