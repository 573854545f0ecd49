package api_test

import (
	"fmt"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/testkit"
)

// Every id in a ticket write body is resolved inside the account: another account's
// user, group, organization or ticket, and an id that names nothing, answer 422 naming
// the field, on create and on update, and nothing is stored.
func TestTicketWriteIDsResolvedInAccount(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		g := d.Account(t, "globex", account.Enterprise)
		agent := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		gAgent := g.User(t, identity.Agent, "agent@globex.test", "Gus Agent")
		gGroup := testkit.ID(postObj(t, g, g.Admin, "/api/v2/groups", "group", map[string]any{"name": "Globex only"}), "id")
		gOrg := makeOrg(t, g, "Globex Org", false, false)
		gTicket := testkit.ID(newTicket(t, g, g.Admin, map[string]any{"subject": "Globex's", "comment": map[string]any{"body": "x"}}), "id")
		// Acme's own tickets are #1..#2, so Globex's ticket number must be one Acme lacks.
		for gTicket <= 5 {
			gTicket = testkit.ID(newTicket(t, g, g.Admin, map[string]any{"subject": "Globex's", "comment": map[string]any{"body": "x"}}), "id")
		}
		tk := newTicket(t, a, agent, map[string]any{"subject": "Target", "comment": map[string]any{"body": "hello"}})
		id := testkit.ID(tk, "id")
		const missing = 987654321
		cases := []struct {
			field string
			value any
		}{
			{"requester_id", gAgent.UserID}, {"requester_id", missing},
			{"submitter_id", gAgent.UserID}, {"submitter_id", missing},
			{"assignee_id", gAgent.UserID}, {"assignee_id", missing},
			{"group_id", gGroup}, {"group_id", missing},
			{"organization_id", gOrg}, {"organization_id", missing},
			{"problem_id", gTicket}, {"problem_id", missing},
			{"collaborator_ids", []int64{gAgent.UserID}}, {"collaborator_ids", []int64{missing}},
			{"follower_ids", []int64{gAgent.UserID}}, {"follower_ids", []int64{missing}},
			{"email_cc_ids", []int64{gAgent.UserID}}, {"email_cc_ids", []int64{missing}},
		}
		before := a.Do(t, a.Admin, "GET", "/api/v2/tickets/count", nil).Want(t, 200).Obj("count")
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s=%v", c.field, c.value), func(t *testing.T) {
				for _, write := range []struct{ method, path string }{{"POST", "/api/v2/tickets.json"}, {"PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id)}} {
					body := map[string]any{c.field: c.value, "comment": map[string]any{"body": "with a foreign id"}}
					r := a.Do(t, a.Admin, write.method, write.path, map[string]any{"ticket": body}).Want(t, 422)
					if !strings.Contains(string(r.Body), `"`+c.field+`"`) {
						t.Fatalf("%s: the error does not name %s: %s", write.method, c.field, r.Body)
					}
				}
			})
		}
		// Comment authors too.
		r := a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "ghost", "author_id": gAgent.UserID}}}).Want(t, 422)
		if !strings.Contains(string(r.Body), "comment") {
			t.Fatalf("foreign comment author: %s", r.Body)
		}
		after := a.Do(t, a.Admin, "GET", "/api/v2/tickets/count", nil).Want(t, 200).Obj("count")
		if testkit.ID(before, "value") != testkit.ID(after, "value") {
			t.Fatalf("a refused create stored a ticket: %v -> %v", before, after)
		}
		got := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d.json", id), nil).Want(t, 200).Obj("ticket")
		if testkit.ID(got, "submitter_id") != agent.UserID || got["problem_id"] != nil || len(got["collaborator_ids"].([]any)) != 0 {
			t.Fatalf("a refused update changed the ticket: %v", got)
		}
		if n := len(a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", id), nil).List("comments")); n != 1 {
			t.Fatalf("a refused update stored a comment: %d comments", n)
		}
		// The account's own ids are taken.
		mine := testkit.ID(newTicket(t, a, agent, map[string]any{"subject": "Problem", "type": "problem", "comment": map[string]any{"body": "p"}}), "id")
		up := a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"submitter_id": a.Admin.UserID, "problem_id": mine}}).Want(t, 200).Obj("ticket")
		if testkit.ID(up, "submitter_id") != a.Admin.UserID || testkit.ID(up, "problem_id") != mine {
			t.Fatalf("own ids refused: %v", up)
		}
		created := newTicket(t, a, a.Admin, map[string]any{"subject": "On behalf", "submitter_id": agent.UserID, "comment": map[string]any{"body": "x"}})
		if testkit.ID(created, "submitter_id") != agent.UserID {
			t.Fatalf("submitter_id on create = %v", created["submitter_id"])
		}
	})
}
