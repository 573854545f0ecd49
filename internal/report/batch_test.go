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

// TestBatchedCreatesCountOnce (SQLite): creates that share a group-commit batch leave
// their daily counts to the end of the batch, and a rebuild queued among them in the
// same batch takes the counts of the creates before it in: after the batch the counts
// are what a rebuild computes afresh, each create counted once.
func TestBatchedCreatesCountOnce(t *testing.T) {
	ctx := context.Background()
	desk, a, acct, ag := deskAgent(t, store.SQLite)
	create := func(i int) error {
		_, err := desk.Srv.Tickets.Create(ctx, acct, ag, &ticket.Patch{Subject: ptr(fmt.Sprint("T", i)), AddTags: []string{"batched", fmt.Sprint("t", i%2)},
			Comment: &ticket.CommentInput{Body: "help", AuthorID: ag.UserID}})
		return err
	}
	if err := create(0); err != nil { // the account's aggregates start with its first ticket
		t.Fatal(err)
	}
	// Hold the committer; queue three creates, a rebuild, three creates; let them run.
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
	errs := make([]error, 7)
	queue := func(i int, f func() error) {
		wg.Go(func() { errs[i] = f() })
		for desk.DB.Queued() < i+1 {
			runtime.Gosched()
		}
	}
	for i := range 7 {
		if i == 3 {
			queue(i, func() error { _, err := report.Rebuild(ctx, desk.DB, a.ID); return err })
			continue
		}
		queue(i, func() error { return create(i + 1) })
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
