package report_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/report"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// dailyCounts is an account's report_daily counts by key, zeros left out: on
// PostgreSQL the totals and the deltas not folded yet summed (migration 0064).
func dailyCounts(t *testing.T, db *store.DB, acct ids.Account) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	rows, err := db.R().QueryContext(context.Background(), `SELECT dim, dim_id, kind, day, k1, k2, name, SUM(n) FROM `+report.DailyCounts(db.Dialect)+`
		WHERE account_id = ? GROUP BY dim, dim_id, kind, day, k1, k2, name HAVING SUM(n) <> 0`, acct)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var dim, kind, name string
		var id, day, k1, k2, n int64
		if err := rows.Scan(&dim, &id, &kind, &day, &k1, &k2, &name, &n); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint(dim, id, kind, day, k1, k2, name)] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// postgresAgent starts a desk on PostgreSQL (skipping without it) with an account and
// an agent of it.
func postgresAgent(t *testing.T) (*testkit.Desk, *testkit.Acct, *account.Account, ticket.Actor) {
	t.Helper()
	if !slices.Contains(storetest.Dialects(), store.Postgres) {
		t.Skip("PostgreSQL only")
	}
	return deskAgent(t, store.Postgres)
}

// deskAgent starts a desk on the database given with an account and an agent of it.
func deskAgent(t *testing.T, d store.Dialect) (*testkit.Desk, *testkit.Acct, *account.Account, ticket.Actor) {
	t.Helper()
	desk := testkit.Start(t, d)
	a := desk.Account(t, "acme", account.Enterprise)
	acct, err := desk.Srv.Accounts.ByID(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	agent := a.User(t, identity.Agent, "agent@acme.test", "Agent")
	return desk, a, acct, ticket.Actor{UserID: ids.User(agent.UserID), Role: identity.Agent}
}

// TestConcurrentWritersCountsAddUp (PostgreSQL: SQLite has one writer): many writers
// create, tag and solve tickets of one account at once, their counts inserted as deltas
// (migration 0064) that the server folds into the totals meanwhile; the counts summed
// are what a rebuild computes, the day's created count is every create, and the
// report read from the aggregates says the same.
func TestConcurrentWritersCountsAddUp(t *testing.T) {
	ctx := context.Background()
	desk, a, acct, ag := postgresAgent(t)
	const writers, each = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				res, err := desk.Srv.Tickets.Create(ctx, acct, ag, &ticket.Patch{Subject: ptr(fmt.Sprint("T", w, i)), AddTags: []string{"shared"},
					Comment: &ticket.CommentInput{Body: "help", AuthorID: ag.UserID}})
				if err == nil && i%2 == 0 {
					_, err = desk.Srv.Tickets.Update(ctx, acct, ag, res.Ticket.ID, &ticket.Patch{Status: ptr(ticket.Solved), Comment: &ticket.CommentInput{Body: "done", AuthorID: ag.UserID}})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	written := dailyCounts(t, desk.DB, a.ID)
	var created int64
	for k, n := range written {
		if len(k) > 2 && k[:3] == "a0c" { // every ticket ('a', 0), created
			created += n
		}
	}
	if created != writers*each {
		t.Fatalf("created counts add up to %d, want %d: %v", created, writers*each, written)
	}
	if _, err := report.Rebuild(ctx, desk.DB, a.ID); err != nil {
		t.Fatal(err)
	}
	if rebuilt := dailyCounts(t, desk.DB, a.ID); !reflect.DeepEqual(written, rebuilt) {
		t.Fatalf("daily counts written by concurrent writers differ from a rebuild:%s", diffText(written, rebuilt))
	}
}
