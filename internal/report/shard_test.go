package report_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
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

// dailyCounts is an account's report_daily counts by key, its shards (PostgreSQL,
// migration 0038) summed, zeros left out.
func dailyCounts(t *testing.T, db *store.DB, acct ids.Account) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	rows, err := db.R().QueryContext(context.Background(), `SELECT dim, dim_id, kind, day, k1, k2, name, SUM(n) FROM `+report.DailyTable(db.Dialect)+`
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
	desk := testkit.Start(t, store.Postgres)
	a := desk.Account(t, "acme", account.Enterprise)
	acct, err := desk.Srv.Accounts.ByID(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	agent := a.User(t, identity.Agent, "agent@acme.test", "Agent")
	return desk, a, acct, ticket.Actor{UserID: ids.User(agent.UserID), Role: identity.Agent}
}

// TestConcurrentWritersCountsAddUp (PostgreSQL: SQLite has one writer): many writers
// create, tag and solve tickets of one account at once, their counts settling into the
// shards of the account's shared daily rows (migration 0038); the counts summed over the
// shards are what a rebuild computes, the day's created count is every create, and the
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

// TestCommitSettlesIntoAFreeShard (PostgreSQL, migration 0062): while another
// transaction is adding to the shard of a writer's backend (it holds the shard's lock and
// the account's rows of that shard, as a commit in progress does), the writer's create
// commits without waiting for it, into another shard, and the counts summed over the
// shards are what a rebuild computes. Before 0062 the writer always added to its
// backend's shard and waited there until the other transaction ended.
func TestCommitSettlesIntoAFreeShard(t *testing.T) {
	ctx := context.Background()
	desk, a, acct, ag := postgresAgent(t)
	create := func(ctx context.Context, tx *store.Tx, subject string) error {
		_, err := desk.Srv.Tickets.Write(ctx, tx, acct, ag, 0, &ticket.Patch{Subject: ptr(subject), AddTags: []string{"shared"},
			Comment: &ticket.CommentInput{Body: "help", AuthorID: ag.UserID}})
		return err
	}
	// The day's keys exist, so that the holder below has rows of them to hold.
	if err := desk.DB.Write(ctx, func(tx *store.Tx) error { return create(ctx, tx, "first") }); err != nil {
		t.Fatal(err)
	}
	pids, held, done := make(chan int, 1), make(chan struct{}), make(chan struct{})
	holderErr := make(chan error, 1)
	errRollback := fmt.Errorf("rollback")
	go func() {
		var pid int
		select {
		case pid = <-pids:
		case <-done:
			holderErr <- nil
			return
		}
		err := desk.DB.Write(ctx, func(tx *store.Tx) error {
			shard := pid % 16
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('report_daily_shards'), ?)`, shard); err != nil {
				return err
			}
			// The account's keys in the writer's shard, inserted or locked, uncommitted.
			if _, err := tx.ExecContext(ctx, `INSERT INTO report_daily_shards AS r (account_id, dim, dim_id, kind, day, k1, k2, name, shard, n)
				SELECT DISTINCT account_id, dim, dim_id, kind, day, k1, k2, name, ?::SMALLINT, 0 FROM report_daily_shards WHERE account_id = ?
				ON CONFLICT (account_id, dim, dim_id, kind, day, k1, k2, name, shard) DO UPDATE SET n = r.n`, shard, a.ID); err != nil {
				return err
			}
			close(held)
			<-done
			return errRollback
		})
		if err == errRollback {
			err = nil
		}
		holderErr <- err
	}()
	// Bounded, so that a wait on the holder's rows fails the test, not hangs it.
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	err := desk.DB.Write(wctx, func(tx *store.Tx) error {
		var pid int
		if err := tx.QueryRowContext(wctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			return err
		}
		pids <- pid
		select {
		case <-held:
		case err := <-holderErr:
			holderErr <- err
			return fmt.Errorf("holder: %v", err)
		}
		return create(wctx, tx, "second")
	})
	cancel()
	close(done)
	if err != nil {
		t.Fatalf("create while another transaction holds its backend's shard: %v", err)
	}
	if err := <-holderErr; err != nil {
		t.Fatal(err)
	}
	written := dailyCounts(t, desk.DB, a.ID)
	if _, err := report.Rebuild(ctx, desk.DB, a.ID); err != nil {
		t.Fatal(err)
	}
	if rebuilt := dailyCounts(t, desk.DB, a.ID); !reflect.DeepEqual(written, rebuilt) || len(written) == 0 {
		t.Fatalf("daily counts differ from a rebuild:%s", diffText(written, rebuilt))
	}
}
