package report_test

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"testing"

	"tandem/internal/report"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// TestBatchedCreatesCountOnce (SQLite): writes that share a group-commit batch leave
// their daily counts and facts to the end of the batch; a write that reads the facts (an
// update, a create and update in one transaction) and a rebuild queued among them see
// what the writes before them left: after the batch the counts are what a rebuild
// computes afresh, each ticket counted once.
func TestBatchedCreatesCountOnce(t *testing.T) {
	ctx := context.Background()
	desk, a, acct, ag := deskAgent(t, store.SQLite)
	newTicket := func(i int) *ticket.Patch {
		return &ticket.Patch{Subject: ptr(fmt.Sprint("T", i)), AddTags: []string{"batched", fmt.Sprint("t", i%2)},
			Comment: &ticket.CommentInput{Body: "help", AuthorID: ag.UserID}}
	}
	solved := func() *ticket.Patch {
		return &ticket.Patch{Status: ptr(ticket.Solved), AddTags: []string{"done"}, Comment: &ticket.CommentInput{Body: "done", AuthorID: ag.UserID}}
	}
	create := func(i int) error {
		_, err := desk.Srv.Tickets.Create(ctx, acct, ag, newTicket(i))
		return err
	}
	first, err := desk.Srv.Tickets.Create(ctx, acct, ag, newTicket(0)) // the account's aggregates start with its first ticket
	if err != nil {
		t.Fatal(err)
	}
	writes := []func() error{
		func() error { return create(1) },
		func() error { return create(2) },
		func() error { _, err := report.Rebuild(ctx, desk.DB, a.ID); return err },
		func() error { return create(4) },
		func() error {
			_, err := desk.Srv.Tickets.Update(ctx, acct, ag, first.Ticket.ID, solved())
			return err
		},
		// A write that solves the ticket it created: its second write reads the facts
		// its first left.
		func() error {
			return desk.DB.Write(ctx, func(tx *store.Tx) error {
				res, err := desk.Srv.Tickets.Write(ctx, tx, acct, ag, 0, newTicket(3))
				if err == nil {
					_, err = desk.Srv.Tickets.Write(ctx, tx, acct, ag, res.Ticket.ID, solved())
				}
				return err
			})
		},
		func() error { return create(5) },
	}
	// Hold the committer, queue the writes in their order, and let them run as one batch.
	holding, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- desk.DB.Write(ctx, func(*store.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	var wg sync.WaitGroup
	errs := make([]error, len(writes))
	for i, f := range writes {
		wg.Go(func() { errs[i] = f() })
		for desk.DB.Queued() < i+1 {
			runtime.Gosched()
		}
	}
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	written := dailyCounts(t, desk.DB, a.ID)
	if _, err := report.Rebuild(ctx, desk.DB, a.ID); err != nil {
		t.Fatal(err)
	}
	if rebuilt := dailyCounts(t, desk.DB, a.ID); !reflect.DeepEqual(written, rebuilt) || len(written) == 0 {
		t.Fatalf("daily counts after the batch differ from a rebuild:%s", diffText(written, rebuilt))
	}
	agg, rows := reportNow(t, desk, a.ID, ag)
	if !reflect.DeepEqual(agg.Days, rows.Days) || !reflect.DeepEqual(agg.Tags, rows.Tags) {
		t.Fatalf("report from the aggregates differs from the rows:%s", diffText(agg, rows))
	}
}
