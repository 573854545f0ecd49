package web_test

import (
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

// TestPartnerPromise: an agreement carries the partner's promised response time; the
// sharing panel says how long the partner has owed an answer against it; the partner's
// reply answers it (and counts as its response time in the reports); a local public
// reply makes it owe again. Bad promises answer 422; the receiving side cannot set one.
func TestPartnerPromise(t *testing.T) {
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			desk := testkit.Start(t, dia)
			a := desk.Account(t, "acme", account.Enterprise)
			b := desk.Account(t, "globex", account.Enterprise)
			inv := a.Do(t, a.Admin, "POST", "/api/v2/sharing_agreements.json", map[string]any{"sharing_agreement": map[string]any{
				"remote_subdomain": "globex", "promised_response_minutes": 240}}).Want(t, http.StatusCreated).Obj("sharing_agreement")
			agA := testkit.ID(inv, "id")
			if testkit.ID(inv, "promised_response_minutes") != 240 {
				t.Fatalf("agreement = %v", inv)
			}
			agB := testkit.ID(b.Do(t, b.Admin, "GET", "/api/v2/sharing_agreements.json", nil).Want(t, http.StatusOK).List("sharing_agreements")[0], "id")
			b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", agB), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}).Want(t, http.StatusOK)
			// Bad promises and the receiving side: refused, nothing changed.
			for _, m := range []int64{-5, 366*24*60 + 1} {
				a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", agA), map[string]any{"sharing_agreement": map[string]any{"promised_response_minutes": m}}).Want(t, http.StatusUnprocessableEntity)
			}
			a.Do(t, a.Admin, "POST", "/api/v2/sharing_agreements.json", map[string]any{"sharing_agreement": map[string]any{"remote_subdomain": "globex", "promised_response_minutes": -1}}).Want(t, http.StatusUnprocessableEntity)
			b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", agB), map[string]any{"sharing_agreement": map[string]any{"promised_response_minutes": 60}}).Want(t, http.StatusNotFound)
			agent := a.User(t, identity.Agent, "agent@acme.test", "Agnes")
			a.Do(t, agent, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", agA), map[string]any{"sharing_agreement": map[string]any{"promised_response_minutes": 60}}).Want(t, http.StatusForbidden)
			if got := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", agA), nil).Want(t, http.StatusOK).Obj("sharing_agreement"); testkit.ID(got, "promised_response_minutes") != 240 {
				t.Fatalf("after refused changes: %v", got)
			}

			id := testkit.ID(a.Do(t, agent, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Warranty claim",
				"comment": map[string]any{"body": "Broken hinge"}, "requester": map[string]any{"name": "Rita", "email": "rita@example.test"}}}).Want(t, http.StatusCreated).Obj("ticket"), "id")
			a.Do(t, agent, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{agA}}}).Want(t, http.StatusOK)
			setPassword(t, desk, ids.Account(a.ID), agent.UserID)
			ac := newClient(t, desk, "acme")
			ac.signIn(agent.Email, password)
			ac.get(fmt.Sprintf("/agent/tickets/%d", id)).want(t, http.StatusOK).has(t, "Waiting on Globex for under a minute (promised 4 h)")
			// The default view "Waiting on partners" lists it, with since when.
			var viewID int64
			for _, v := range a.Do(t, agent, "GET", "/api/v2/views.json", nil).Want(t, http.StatusOK).List("views") {
				if v["title"] == "Waiting on partners" {
					viewID = testkit.ID(v, "id")
				}
			}
			waiting := func() []map[string]any {
				return a.Do(t, agent, "GET", fmt.Sprintf("/api/v2/views/%d/execute.json", viewID), nil).Want(t, http.StatusOK).List("rows")
			}
			if rows := waiting(); len(rows) != 1 || rows[0]["partner_owed"] == nil {
				t.Fatalf("waiting on partners = %v", rows)
			}
			ac.get(fmt.Sprintf("/agent/views/%d", viewID)).want(t, http.StatusOK).has(t, "Warranty claim", "Partner owes an answer since")

			var copyID int64
			testkit.Eventually(t, 10*time.Second, "globex's copy", func() bool {
				for _, tk := range b.Do(t, b.Admin, "GET", "/api/v2/tickets.json", nil).List("tickets") {
					copyID = testkit.ID(tk, "id")
				}
				return copyID != 0
			})
			b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", copyID), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "Replacement sent", "public": true}}}).Want(t, http.StatusOK)
			testkit.Eventually(t, 10*time.Second, "globex's answer to reach acme", func() bool {
				return strings.Contains(ac.get(fmt.Sprintf("/agent/tickets/%d", id)).Body, "Globex has answered.")
			})
			if rows := waiting(); len(rows) != 0 {
				t.Fatalf("waiting on partners after the answer = %v", rows)
			}
			rows := csvRows(t, ac.get("/agent/reports/partners.csv").want(t, http.StatusOK))
			if len(rows) != 2 || rows[1][0] != "Globex" || rows[1][1] != "1" || rows[1][3] != "1" || rows[1][6] != "240.0" || rows[1][7] != "0" {
				t.Fatalf("partners.csv = %v", rows)
			}
			a.Do(t, agent, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "Thanks, any news on the invoice?", "public": true}}}).Want(t, http.StatusOK)
			ac.get(fmt.Sprintf("/agent/tickets/%d", id)).want(t, http.StatusOK).has(t, "Waiting on Globex for under a minute (promised 4 h)")
			if rows := csvRows(t, ac.get("/agent/reports/partners.csv").want(t, http.StatusOK)); rows[1][7] != "1" {
				t.Fatalf("partners.csv after the new question = %v", rows)
			}
		})
	}
}
