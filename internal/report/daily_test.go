package report_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/report"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// TestAggregatesMatchRows: random ticket histories written through the write path (on
// both databases); the report read from the daily aggregates equals the report computed
// from the rows, for every filter and range, in the account's time zone; so does it
// after a rebuild, after rows are changed behind the write path's back and rebuilt, and
// after the account's zone changes (rows until the startup backfill rebuilds it).
func TestAggregatesMatchRows(t *testing.T) {
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			desk, a, acct := acmeDesk(t, dia)
			// Days in New York (the first schedule's zone), before any ticket.
			sched := testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/business_hours/schedules.json", map[string]any{"schedule": map[string]any{
				"name": "NY", "time_zone": "America/New_York", "intervals": []map[string]any{{"start_time": 1980, "end_time": 2460}}}}).Want(t, http.StatusCreated).Obj("schedule"), "id")
			a.Do(t, a.Admin, "POST", "/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{"title": "Urgent",
				"filter": map[string]any{"all": []map[string]any{{"field": "priority", "operator": "is", "value": "urgent"}}, "any": []any{}},
				"policy_metrics": []map[string]any{{"priority": "urgent", "metric": "first_reply_time", "target": 30, "business_hours": false},
					{"priority": "urgent", "metric": "requester_wait_time", "target": 600, "business_hours": false}}}}).Want(t, http.StatusCreated)
			var groups []ids.Group
			var orgs []ids.Org
			for i := range 3 {
				groups = append(groups, ids.Group(testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/groups.json", map[string]any{"group": map[string]any{"name": fmt.Sprintf("G%d", i)}}).Want(t, http.StatusCreated).Obj("group"), "id")))
				orgs = append(orgs, ids.Org(testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/organizations.json", map[string]any{"organization": map[string]any{"name": fmt.Sprintf("O%d", i)}}).Want(t, http.StatusCreated).Obj("organization"), "id")))
			}
			agent := a.User(t, identity.Agent, "agent@acme.test", "Agent")
			var users []testkit.Cred
			for i := range 4 {
				users = append(users, a.User(t, identity.EndUser, fmt.Sprintf("u%d@example.test", i), fmt.Sprintf("U%d", i)))
			}
			var agreements []int64
			for i := range 2 {
				agreements = append(agreements, outboundAgreement(t, desk, a.ID, i))
			}

			rng := rand.New(rand.NewPCG(18, uint64(len(dia))))
			pick := func(n int) int { return rng.IntN(n) }
			ag := ticket.Actor{UserID: ids.User(agent.UserID), Role: identity.Agent}
			now := time.Now()
			var tickets []ids.Ticket
			requester := map[ids.Ticket]testkit.Cred{}
			for i := range 50 {
				u := users[pick(len(users))]
				p := &ticket.Patch{Subject: ptr(fmt.Sprintf("T%d", i)), RequesterID: ptr(ids.User(u.UserID)), Comment: &ticket.CommentInput{Body: "help", AuthorID: ids.User(u.UserID)},
					CreatedAt: now.Add(-time.Duration(pick(50*24*60)) * time.Minute)}
				if pick(2) == 0 {
					p.GroupID = ptr(groups[pick(len(groups))])
				}
				if pick(2) == 0 {
					p.OrganizationID = ptr(orgs[pick(len(orgs))])
				}
				if pick(3) == 0 {
					p.Priority = ptr("urgent")
				}
				if pick(2) == 0 {
					p.Tags = ptr([]string{fmt.Sprintf("t%d", pick(12)), fmt.Sprintf("t%d", pick(12))})
				}
				res, err := desk.Srv.Tickets.Create(ctx, acct, ag, p)
				if err != nil {
					t.Fatal(err)
				}
				tickets = append(tickets, res.Ticket.ID)
				requester[res.Ticket.ID] = u
			}
			// Shares as the sharing protocol records them (in the write that shares), ended
			// ('unshared') so that the ticket's later writes are not sent to partners that
			// do not exist.
			nshares := 0
			shareAndWrite := func(id ids.Ticket, agreement int64, shared, answered int64, dir string, p *ticket.Patch) error {
				nshares++
				return desk.DB.Write(ctx, func(tx *store.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO ticket_shares (account_id, ticket_id, agreement_id, uuid, direction, state, shared_at, updated_at, first_answer_at) VALUES (?, ?, ?, ?, ?, 'unshared', ?, ?, ?)`,
						a.ID, id, agreement, fmt.Sprintf("s-%d", nshares), dir, shared, shared, answered)
					if err != nil {
						return err
					}
					_, err = desk.Srv.Tickets.Write(ctx, tx, acct, ag, id, p)
					return err
				})
			}
			// Random updates: replies, status changes, tags, group and organization moves,
			// ratings, shares (rows the sharing protocol would write, then a write of the
			// ticket), deletions.
			for range 180 {
				id := tickets[pick(len(tickets))]
				var p ticket.Patch
				actor := ag
				switch pick(9) {
				case 0, 1:
					p.Comment = &ticket.CommentInput{Body: "reply", AuthorID: ag.UserID}
				case 2:
					p.Status = ptr(ticket.Solved)
					if pick(2) == 0 {
						p.Comment = &ticket.CommentInput{Body: "solved", AuthorID: ag.UserID}
					}
				case 3:
					p.Status = ptr([]ticket.Status{ticket.Open, ticket.Pending, ticket.Hold}[pick(3)])
				case 4:
					p.AddTags, p.RemoveTags = []string{fmt.Sprintf("t%d", pick(12))}, []string{fmt.Sprintf("t%d", pick(12))}
				case 5:
					p.GroupID, p.OrganizationID = ptr(groups[pick(len(groups))]), ptr(orgs[pick(len(orgs))])
				case 6:
					u := requester[id]
					actor = ticket.Actor{UserID: ids.User(u.UserID), Role: identity.EndUser}
					p.Satisfaction = &ticket.Satisfaction{Score: []string{ticket.ScoreGood, ticket.ScoreBad}[pick(2)]}
				case 7:
					shared := store.Micros(now.Add(-time.Duration(pick(40*24*60)) * time.Minute))
					var answered int64
					if pick(2) == 0 {
						answered = shared + int64(pick(3000))*60e6
					}
					p.Comment = &ticket.CommentInput{Body: "shared", AuthorID: ag.UserID, Public: ptr(false)}
					_ = shareAndWrite(id, agreements[pick(len(agreements))], shared, answered, []string{"out", "in"}[pick(2)], &p)
					continue
				case 8:
					if pick(4) == 0 {
						p.Delete = true
					} else {
						p.Priority = ptr("urgent")
					}
				}
				if _, err := desk.Srv.Tickets.Update(ctx, acct, actor, id, &p); err != nil {
					_ = err // refused (rating an unsolved ticket, writing a deleted one): nothing changed
				}
			}
			admin := ticket.Actor{UserID: ids.User(a.Admin.UserID), Role: identity.Admin}
			check := func(stage string, wantAggregated bool) {
				t.Helper()
				loc, err := report.Location(ctx, desk.DB.R(), a.ID)
				if err != nil {
					t.Fatal(err)
				}
				y, m, d := time.Now().In(loc).Date()
				end := time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
				filters := []report.Filter{{}, {GroupID: groups[0]}, {OrgID: orgs[1]}, {AgreementID: agreements[0]}, {GroupID: groups[1], OrgID: orgs[0]}}
				for _, days := range []int{1, 7, 30, 365} {
					for _, f := range filters {
						f.From, f.To = end.AddDate(0, 0, -days), end
						got, err := report.Build(ctx, desk.DB.R(), a.ID, admin, f, now)
						if err != nil {
							t.Fatal(err)
						}
						want, err := report.BuildRows(ctx, desk.DB.R(), a.ID, admin, f, now)
						if err != nil {
							t.Fatal(err)
						}
						single := f.GroupID == 0 || f.OrgID == 0
						if got.Aggregated != (wantAggregated && single) {
							t.Fatalf("%s: %d days %+v: aggregated %v", stage, days, f, got.Aggregated)
						}
						got.Aggregated = false
						if !reflect.DeepEqual(got, want) {
							gv, wv := reflect.ValueOf(*got), reflect.ValueOf(*want)
							for i := range gv.NumField() {
								if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
									t.Errorf("%s: %s", gv.Type().Field(i).Name, diffText(gv.Field(i).Interface(), wv.Field(i).Interface()))
								}
							}
							t.Fatalf("%s: %d days %+v: the aggregates' report differs from the rows'", stage, days, f)
						}
					}
				}
				// The 30-day report holds something of every part, or the test proves little.
				f := report.Filter{From: end.AddDate(0, 0, -60), To: end}
				r, _ := report.Build(ctx, desk.DB.R(), a.ID, admin, f, now)
				if r.FirstReply.Count == 0 || r.Resolution.Count == 0 || len(r.SLAByPolicy) == 0 || len(r.Tags) == 0 || len(r.SLAByGroup) < 2 || len(r.Partners) == 0 || r.Satisfaction.Good+r.Satisfaction.Bad == 0 {
					t.Fatalf("%s: a part of the report is empty: %+v", stage, r)
				}
			}
			check("write path", true)

			if _, err := report.Rebuild(ctx, desk.DB, a.ID); err != nil {
				t.Fatal(err)
			}
			check("rebuilt", true)

			// Rows changed behind the write path's back (as an import or a seed would),
			// including tickets solved before they were created and ratings and solves on
			// other days: wrong until rebuilt, equal after.
			err := desk.DB.Write(ctx, func(tx *store.Tx) error {
				for _, id := range tickets {
					off := int64(pick(60*24*60)-30*24*60) * 60e6
					if _, err := tx.ExecContext(ctx, `UPDATE tickets SET solved_at = created_at + ? WHERE account_id = ? AND id = ? AND status IN ('solved', 'closed')`, off, a.ID, id); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, `UPDATE satisfaction_ratings SET updated_at = updated_at - ? WHERE account_id = ? AND ticket_id = ?`, int64(pick(20*24))*3600e6, a.ID, id); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := report.Rebuild(ctx, desk.DB, a.ID); err != nil {
				t.Fatal(err)
			}
			check("changed rows, rebuilt", true)

			// Another zone: the reports read rows until the backfill builds it again.
			a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/business_hours/schedules/%d.json", sched), map[string]any{"schedule": map[string]any{"time_zone": "Asia/Kolkata"}}).Want(t, http.StatusOK)
			check("zone changed", false)
			if err := report.Backfill(ctx, desk.DB, nil); err != nil {
				t.Fatal(err)
			}
			check("zone changed, backfilled", true)

			// A restricted agent reads rows (their scope), never the aggregates.
			mine := a.User(t, identity.Agent, "mine@acme.test", "Restricted")
			a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d.json", mine.UserID), map[string]any{"user": map[string]any{"ticket_restriction": "assigned"}}).Want(t, http.StatusOK)
			r, err := report.Build(ctx, desk.DB.R(), a.ID, ticket.Actor{UserID: ids.User(mine.UserID), Role: identity.Agent, Restriction: identity.RestrictAssigned}, report.Filter{From: now.AddDate(0, 0, -60), To: now.AddDate(0, 0, 1)}, now)
			if err != nil || r.Aggregated || r.FirstReply.Count != 0 {
				t.Fatalf("restricted agent: %v aggregated %v first replies %d", err, r != nil && r.Aggregated, r.FirstReply.Count)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// acmeDesk starts a desk on the dialect with the enterprise account "acme".
func acmeDesk(t *testing.T, dia store.Dialect) (*testkit.Desk, *testkit.Acct, *account.Account) {
	t.Helper()
	desk := testkit.Start(t, dia)
	a := desk.Account(t, "acme", account.Enterprise)
	acct, err := desk.Srv.Accounts.ByID(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return desk, a, acct
}

// outboundAgreement records the account's i-th accepted outbound sharing agreement, with
// a partner that does not exist, and returns its id.
func outboundAgreement(t *testing.T, desk *testkit.Desk, acct ids.Account, i int) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := desk.DB.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO sharing_agreements (account_id, uuid, access_key, direction, name, remote_url, local_url, status, promised_minutes, created_at, updated_at)
			VALUES (?, ?, 'k', 'outbound', ?, 'local://p', 'local://acme', 'accepted', 240, 1, 1) RETURNING id`, acct, fmt.Sprintf("ag-%d", i), fmt.Sprintf("Partner %d", i)).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// diffText shows two values whose difference a test reports.
func diffText(aggregates, rows any) string {
	return fmt.Sprintf("\naggregates %+v\nrows       %+v", aggregates, rows)
}

// TestWritesShareDailyRowsUntilCommit (PostgreSQL: SQLite has one writer): two
// transactions that solve and tag tickets of one account on the same day, both adding to
// the account's daily counts (solved that day, the tag), run their whole write path while the other is still open
// (each inserts its own deltas, migration 0064), and the aggregates after both commit
// are what a rebuild computes.
func TestWritesShareDailyRowsUntilCommit(t *testing.T) {
	ctx := context.Background()
	desk, a, acct, ag := postgresAgent(t)
	var tickets []ids.Ticket
	for i := range 2 {
		res, err := desk.Srv.Tickets.Create(ctx, acct, ag, &ticket.Patch{Subject: ptr(fmt.Sprint("T", i)), Comment: &ticket.CommentInput{Body: "help", AuthorID: ag.UserID}})
		if err != nil {
			t.Fatal(err)
		}
		tickets = append(tickets, res.Ticket.ID)
	}
	solve := func(ctx context.Context, tx *store.Tx, id ids.Ticket) error {
		p := &ticket.Patch{Status: ptr(ticket.Solved), AddTags: []string{"shared"}, Comment: &ticket.CommentInput{Body: "done", AuthorID: ag.UserID}}
		_, err := desk.Srv.Tickets.Write(ctx, tx, acct, ag, id, p)
		return err
	}
	firstWritten, secondDone := make(chan struct{}), make(chan struct{})
	firstErr := make(chan error, 1)
	go func() {
		firstErr <- desk.DB.Write(ctx, func(tx *store.Tx) error {
			if err := solve(ctx, tx, tickets[0]); err != nil {
				close(firstWritten)
				return err
			}
			close(firstWritten)
			<-secondDone
			return nil
		})
	}()
	<-firstWritten
	// Bounded, so that a wait on the first transaction's locks fails the test, not hangs it.
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	err := desk.DB.Write(wctx, func(tx *store.Tx) error { return solve(wctx, tx, tickets[1]) })
	cancel()
	close(secondDone)
	if err != nil {
		t.Fatalf("second write while the first is open: %v", err)
	}
	if err := <-firstErr; err != nil {
		t.Fatal(err)
	}
	daily := func() map[string]int64 { return dailyCounts(t, desk.DB, a.ID) }
	written := daily()
	if _, err := report.Rebuild(ctx, desk.DB, a.ID); err != nil {
		t.Fatal(err)
	}
	if rebuilt := daily(); !reflect.DeepEqual(written, rebuilt) || len(written) == 0 {
		t.Fatalf("daily counts written at commit differ from a rebuild:%s", diffText(written, rebuilt))
	}
}
