package report_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/report"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// TestCreatesRecordTheFactsARebuildFinds: the report hook reads no SLA target, rating or
// share of a ticket its write creates when the write can have made none (no rating
// given, no share started, an account that never had an SLA policy). Creates with each
// of those, before and after the account's first SLA policy, record the facts a rebuild
// computes from the rows.
func TestCreatesRecordTheFactsARebuildFinds(t *testing.T) {
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			desk, a, acct := acmeDesk(t, dia)
			agent := a.User(t, identity.Agent, "agent@acme.test", "Agent")
			user := a.User(t, identity.EndUser, "u@example.test", "U")
			agreement := outboundAgreement(t, desk, a.ID, 0)
			// A create whose subject asks for it is shared as it is created (as a trigger's
			// share_ticket action would).
			desk.Srv.Tickets.Before(func(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
				if ch.Created && strings.HasPrefix(ch.Ticket.Subject, "share") {
					ch.ShareWith(agreement)
				}
				return nil
			})
			ag := ticket.Actor{UserID: ids.User(agent.UserID), Role: identity.Agent}
			requester := ticket.Actor{UserID: ids.User(user.UserID), Role: identity.EndUser}
			create := func(actor ticket.Actor, p ticket.Patch) {
				t.Helper()
				p.RequesterID = ptr(ids.User(user.UserID))
				p.Comment = &ticket.CommentInput{Body: "help", AuthorID: ids.User(user.UserID)}
				p.Priority = ptr("urgent")
				if _, err := desk.Srv.Tickets.Create(ctx, acct, actor, &p); err != nil {
					t.Fatal(err)
				}
			}
			creates := func(round string) {
				create(ag, ticket.Patch{Subject: ptr("plain " + round)})
				create(ag, ticket.Patch{Subject: ptr("share " + round)})
				create(requester, ticket.Patch{Subject: ptr("rated " + round), Status: ptr(ticket.Solved),
					Satisfaction: &ticket.Satisfaction{Score: ticket.ScoreGood}})
			}
			creates("before any SLA policy")
			a.Do(t, a.Admin, "POST", "/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{"title": "Urgent",
				"filter":         map[string]any{"all": []map[string]any{{"field": "priority", "operator": "is", "value": "urgent"}}, "any": []any{}},
				"policy_metrics": []map[string]any{{"priority": "urgent", "metric": "first_reply_time", "target": 30, "business_hours": false}}}}).Want(t, http.StatusCreated)
			creates("with an SLA policy")

			facts := func() map[int64]string {
				t.Helper()
				out := map[int64]string{}
				rows, err := desk.DB.R().QueryContext(ctx, `SELECT ticket_id, facts FROM report_ticket_facts WHERE account_id = ?`, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				for rows.Next() {
					var id int64
					var f string
					if err := rows.Scan(&id, &f); err != nil {
						t.Fatal(err)
					}
					out[id] = f
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				return out
			}
			written := facts()
			if _, err := report.Rebuild(ctx, desk.DB, a.ID); err != nil {
				t.Fatal(err)
			}
			rebuilt := facts()
			if len(rebuilt) != 6 {
				t.Fatalf("%d tickets with facts after the rebuild, want 6", len(rebuilt))
			}
			for id, want := range rebuilt {
				if written[id] != want {
					t.Errorf("ticket %d: the write recorded %s, the rebuild %s", id, written[id], want)
				}
			}
			// The rows the shortcut must not miss are in the facts: the shares, the ratings
			// (tickets 3 and 6) and the SLA target of the solved ticket of the second round.
			shared := 0
			for _, f := range rebuilt {
				if strings.Contains(f, fmt.Sprintf(`"p":[%d]`, agreement)) {
					shared++
				}
			}
			if shared != 2 {
				t.Errorf("%d tickets' facts name the agreement, want 2: %v", shared, rebuilt)
			}
			if !strings.Contains(rebuilt[3], `"n":"good"`) || !strings.Contains(rebuilt[6], `"n":"good"`) || !strings.Contains(rebuilt[6], `"k":"S"`) {
				t.Errorf("the rated tickets' facts lack their rating, or the SLA ticket's its target: %v", rebuilt)
			}
		})
	}
}
