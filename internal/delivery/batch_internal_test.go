package delivery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestOutcomesFinishedTogetherShareATransaction: outcomes that workers finish while
// another is being recorded are recorded together, in one transaction, each with its
// own status and the client's Recorded for each; and a job whose Recorded fails fails
// alone: the batch is recorded again one outcome a transaction.
func TestOutcomesFinishedTogetherShareATransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Run("all recorded", func(t *testing.T) { outcomesTogether(t, db, false) })
		t.Run("one refused", func(t *testing.T) { outcomesTogether(t, db, true) })
	})
}

// outcomesTogether finishes six jobs, the last five while the first is being recorded;
// with refuse, the client's Recorded fails for the last.
func outcomesTogether(t *testing.T, db *store.DB, refuse bool) {
	ctx := context.Background()
	const n = 6
	var rows []int64
	err := db.Write(ctx, func(tx *store.Tx) error {
		for i := range n {
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO sharing_outbox (account_id, agreement_id, share_id, kind, method, url, body, status, next_attempt_at, lease_owner, lease_until, created_at)
				VALUES (1, 1, ?, 'update', 'PUT', 'http://partner.test/sharing', '', 'pending', 0, 'me', 1, 0) RETURNING id`, i+1).Scan(&id); err != nil {
				return err
			}
			rows = append(rows, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	refused := int64(-1)
	if refuse {
		refused = rows[n-1]
	}
	var mu sync.Mutex
	open := map[*store.Tx][]int64{} // jobs recorded in each open transaction
	var committed [][]int64
	recorded := map[int64]int{}
	release := make(chan struct{})
	var q *Queue[struct{}]
	q = New(db, Spec[struct{}]{Name: "test", Table: "sharing_outbox", Lane: []string{"agreement_id", "share_id"},
		Recorded: func(ctx context.Context, tx *store.Tx, j Job[struct{}], status string) error {
			if j.ID == rows[0] {
				<-release // the first outcome's transaction lasts until the others wait
			}
			if j.ID == refused {
				return errors.New("refused")
			}
			mu.Lock()
			defer mu.Unlock()
			if _, ok := open[tx]; !ok {
				tx.AfterCommit(func() {
					mu.Lock()
					committed = append(committed, open[tx])
					delete(open, tx)
					mu.Unlock()
				})
			}
			open[tx] = append(open[tx], j.ID)
			recorded[j.ID]++
			return nil
		}}, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		q.finish(ctx, Job[struct{}]{ID: rows[0], AccountID: 1}, "delivered", "", 0)
	}()
	for !q.isRecording() {
		runtime.Gosched()
	}
	for i, id := range rows[1:] {
		status := "delivered"
		if i == 0 {
			status = "dead"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.finish(ctx, Job[struct{}]{ID: id, AccountID: 1}, status, "", 0)
		}()
	}
	for q.waitingCount() < n-1 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	// The first outcome alone, then the five together; when one is refused, that
	// transaction fails and the five are recorded again each alone.
	want := []int{1, n - 1}
	if refuse {
		want = []int{1, 1, 1, 1, 1}
	}
	var got []int
	for _, c := range committed {
		got = append(got, len(c))
	}
	if !slices.Equal(got, want) {
		t.Errorf("jobs in each committed outcome transaction: %v, want %v", got, want)
	}
	for i, id := range rows {
		var status, owner string
		if err := db.R().QueryRowContext(ctx, `SELECT status, lease_owner FROM sharing_outbox WHERE id = ?`, id).Scan(&status, &owner); err != nil {
			t.Fatal(err)
		}
		want, wantOwner := "delivered", ""
		switch {
		case i == 1:
			want = "dead"
		case id == refused:
			want, wantOwner = "pending", "me" // its outcome was not recorded; the lease expires
		}
		if status != want || owner != wantOwner {
			t.Errorf("row %d: status %q lease %q, want %q %q", i, status, owner, want, wantOwner)
		}
		if id != refused && recorded[id] == 0 {
			t.Errorf("row %d: Recorded not run", i)
		}
	}
}

func (q *Queue[T]) isRecording() bool {
	q.omu.Lock()
	defer q.omu.Unlock()
	return q.recording
}

func (q *Queue[T]) waitingCount() int {
	q.omu.Lock()
	defer q.omu.Unlock()
	return len(q.waiting)
}
