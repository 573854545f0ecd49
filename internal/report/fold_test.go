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

// pendingDeltas is how many report count deltas of the account are not folded yet.
func pendingDeltas(t *testing.T, db *store.DB, acct ids.Account) int {
	t.Helper()
	var n int
	if err := db.R().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM report_daily_deltas WHERE account_id = ?`, acct).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// holdFolds holds the fold's lock on a connection of its own, so that no fold (the
// server's worker's, or the test's own Fold) moves deltas, until the returned function
// is called.
func holdFolds(t *testing.T, db *store.DB) (release func()) {
	t.Helper()
	held, done, ended := make(chan error, 1), make(chan struct{}), make(chan error, 1)
	errRollback := fmt.Errorf("rollback")
	go func() {
		err := db.Write(context.Background(), func(tx *store.Tx) error {
			if _, err := tx.ExecContext(context.Background(), `SELECT pg_advisory_xact_lock(hashtext('report_daily_fold'))`); err != nil {
				held <- err
				return err
			}
			held <- nil
			<-done
			return errRollback
		})
		if err == errRollback {
			err = nil
		}
		ended <- err
	}()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(done)
			if err := <-ended; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// foldAll folds until no delta of the account is left (the server's worker may be
// folding at the same moment, when Fold's try-lock lets this one return at once).
func foldAll(t *testing.T, db *store.DB, acct ids.Account) {
	t.Helper()
	testkit.Eventually(t, 20*time.Second, "deltas folded", func() bool {
		if _, err := report.Fold(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		return pendingDeltas(t, db, acct) == 0
	})
}

// createAndSolve creates n tickets of the account, tagged, and solves every other one.
func createAndSolve(ctx context.Context, desk *testkit.Desk, acct *account.Account, ag ticket.Actor, prefix string, n int) error {
	for i := range n {
		res, err := desk.Srv.Tickets.Create(ctx, acct, ag, &ticket.Patch{Subject: ptr(fmt.Sprint(prefix, i)), AddTags: []string{"shared", prefix},
			Comment: &ticket.CommentInput{Body: "help", AuthorID: ag.UserID}})
		if err == nil && i%2 == 0 {
			_, err = desk.Srv.Tickets.Update(ctx, acct, ag, res.Ticket.ID, &ticket.Patch{Status: ptr(ticket.Solved), Comment: &ticket.CommentInput{Body: "done", AuthorID: ag.UserID}})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// reportNow is the account's report over the last week read from the aggregates (which
// it must be), beside the same report computed from the tickets' rows.
func reportNow(t *testing.T, desk *testkit.Desk, acct ids.Account, ag ticket.Actor) (agg, rows *report.Report) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	f := report.Filter{From: now.AddDate(0, 0, -7), To: now.AddDate(0, 0, 1)}
	agg, err := report.Build(ctx, desk.DB.R(), acct, ag, f, now)
	if err != nil {
		t.Fatal(err)
	}
	if !agg.Aggregated {
		t.Fatal("report not read from the aggregates")
	}
	rows, err = report.BuildRows(ctx, desk.DB.R(), acct, ag, f, now)
	if err != nil {
		t.Fatal(err)
	}
	return agg, rows
}

// TestCountsExactBeforeAndAfterFold (PostgreSQL, migration 0064): writes leave their
// report counts as deltas; while no fold runs, the counts and the report read from the
// aggregates already say what the rows say; after a fold moves every delta into the
// totals they say the same.
func TestCountsExactBeforeAndAfterFold(t *testing.T) {
	ctx := context.Background()
	desk, a, acct, ag := postgresAgent(t)
	release := holdFolds(t, desk.DB)
	if err := createAndSolve(ctx, desk, acct, ag, "before", 6); err != nil {
		t.Fatal(err)
	}
	if n := pendingDeltas(t, desk.DB, a.ID); n == 0 {
		t.Fatal("no deltas pending after the writes")
	}
	before := dailyCounts(t, desk.DB, a.ID)
	agg, rows := reportNow(t, desk, a.ID, ag)
	if !reflect.DeepEqual(agg.Days, rows.Days) || !reflect.DeepEqual(agg.Tags, rows.Tags) {
		t.Fatalf("report with deltas pending differs from the rows:%s", diffText(agg, rows))
	}
	// Held: Fold moves nothing.
	if moved, err := report.Fold(ctx, desk.DB); err != nil || moved != 0 {
		t.Fatalf("fold while another holds the fold's lock moved %d: %v", moved, err)
	}
	release()
	foldAll(t, desk.DB, a.ID)
	if after := dailyCounts(t, desk.DB, a.ID); !reflect.DeepEqual(before, after) || len(before) == 0 {
		t.Fatalf("counts changed by the fold:%s", diffText(before, after))
	}
	agg2, _ := reportNow(t, desk, a.ID, ag)
	if !reflect.DeepEqual(agg.Days, agg2.Days) || !reflect.DeepEqual(agg.Tags, agg2.Tags) {
		t.Fatalf("report changed by the fold:%s", diffText(agg, agg2))
	}
}

// TestConcurrentFoldsLoseNothing (PostgreSQL): two stores open on one database, as two
// `serve` processes are, fold while writers write: one through Fold (its try-lock), the
// other running the fold's statement itself with no lock at all, besides the server's
// own worker. Nothing is lost or counted twice: after a last fold every delta is gone,
// the day's created count is every create, and the totals are what a rebuild computes.
func TestConcurrentFoldsLoseNothing(t *testing.T) {
	if !slices.Contains(storetest.Dialects(), store.Postgres) {
		t.Skip("PostgreSQL only")
	}
	ctx := context.Background()
	opt := storetest.Options(t, store.Postgres)
	db1, err := store.Open(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db1.Close() })
	db2, err := store.OpenNoMigrate(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	desk := testkit.StartDB(t, db1)
	a := desk.Account(t, "acme", account.Enterprise)
	acct, err := desk.Srv.Accounts.ByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	agent := a.User(t, identity.Agent, "agent@acme.test", "Agent")
	ag := ticket.Actor{UserID: ids.User(agent.UserID), Role: identity.Agent}

	const writers, each = 6, 6
	stop := make(chan struct{})
	var folders sync.WaitGroup
	var folds [2]int
	foldErrs := make(chan error, 2)
	for i, fold := range []func() error{
		func() error { _, err := report.Fold(ctx, db1); return err },
		func() error {
			return db2.Write(ctx, func(tx *store.Tx) error {
				var moved int64
				return tx.QueryRowContext(ctx, report.FoldSQL, 3).Scan(&moved)
			})
		},
	} {
		folders.Add(1)
		go func() {
			defer folders.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := fold(); err != nil {
					foldErrs <- err
					return
				}
				folds[i]++
			}
		}()
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := createAndSolve(ctx, desk, acct, ag, fmt.Sprint("w", w), each); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(stop)
	folders.Wait()
	close(errs)
	close(foldErrs)
	for err := range errs {
		t.Fatal(err)
	}
	for err := range foldErrs {
		t.Fatal(err)
	}
	if folds[0] == 0 || folds[1] == 0 {
		t.Fatalf("folds run: %v", folds)
	}
	foldAll(t, db2, a.ID)
	written := dailyCounts(t, db2, a.ID)
	var created int64
	for k, n := range written {
		if len(k) > 2 && k[:3] == "a0c" {
			created += n
		}
	}
	if created != writers*each {
		t.Fatalf("created counts add up to %d, want %d: %v", created, writers*each, written)
	}
	if _, err := report.Rebuild(ctx, db1, a.ID); err != nil {
		t.Fatal(err)
	}
	if rebuilt := dailyCounts(t, db1, a.ID); !reflect.DeepEqual(written, rebuilt) {
		t.Fatalf("counts after concurrent folds differ from a rebuild:%s", diffText(written, rebuilt))
	}
}

// TestRebuildWithDeltasPending (PostgreSQL): a rebuild while deltas are pending replaces
// them (none is left to be folded into what it built), and a rebuild that meets a fold
// in progress, which has taken some of the account's deltas but not committed, waits for
// it and counts what it added once: the counts are the same before the rebuild, after
// it, and after the next fold.
func TestRebuildWithDeltasPending(t *testing.T) {
	ctx := context.Background()
	desk, a, acct, ag := postgresAgent(t)
	release := holdFolds(t, desk.DB)
	if err := createAndSolve(ctx, desk, acct, ag, "one", 6); err != nil {
		t.Fatal(err)
	}
	want := dailyCounts(t, desk.DB, a.ID)
	if pendingDeltas(t, desk.DB, a.ID) == 0 {
		t.Fatal("no deltas pending after the writes")
	}
	if _, err := report.Rebuild(ctx, desk.DB, a.ID); err != nil {
		t.Fatal(err)
	}
	if n := pendingDeltas(t, desk.DB, a.ID); n != 0 {
		t.Fatalf("%d deltas left after a rebuild", n)
	}
	if got := dailyCounts(t, desk.DB, a.ID); !reflect.DeepEqual(want, got) {
		t.Fatalf("counts after a rebuild with deltas pending:%s", diffText(want, got))
	}

	// More deltas, and a fold that has taken them and waits before committing.
	if err := createAndSolve(ctx, desk, acct, ag, "two", 4); err != nil {
		t.Fatal(err)
	}
	want = dailyCounts(t, desk.DB, a.ID)
	taken, commit, folded := make(chan int64, 1), make(chan struct{}), make(chan error, 1)
	go func() {
		folded <- desk.DB.Write(ctx, func(tx *store.Tx) error {
			var moved int64
			err := tx.QueryRowContext(ctx, report.FoldSQL, 1000).Scan(&moved)
			taken <- moved
			<-commit
			return err
		})
	}()
	if moved := <-taken; moved == 0 {
		close(commit)
		t.Fatal("the fold took no deltas")
	}
	rebuilt := make(chan error, 1)
	go func() {
		_, err := report.Rebuild(ctx, desk.DB, a.ID)
		rebuilt <- err
	}()
	// The rebuild waits for the fold's rows; the fold commits, then the rebuild ends.
	waitForLockWait(t, desk.DB)
	close(commit)
	if err := <-folded; err != nil {
		t.Fatal(err)
	}
	if err := <-rebuilt; err != nil {
		t.Fatal(err)
	}
	if got := dailyCounts(t, desk.DB, a.ID); !reflect.DeepEqual(want, got) {
		t.Fatalf("counts after a rebuild that met a fold:%s", diffText(want, got))
	}
	release()
	foldAll(t, desk.DB, a.ID)
	if got := dailyCounts(t, desk.DB, a.ID); !reflect.DeepEqual(want, got) {
		t.Fatalf("counts after the next fold:%s", diffText(want, got))
	}
}

// waitForLockWait waits until some backend of this test's database waits for a lock
// (the rebuild, for the fold's rows).
func waitForLockWait(t *testing.T, db *store.DB) {
	t.Helper()
	testkit.Eventually(t, 20*time.Second, "a backend waiting for a lock", func() bool {
		var n int
		err := db.R().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM report_daily_deltas WHERE account_id%'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
}
