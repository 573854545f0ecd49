package delivery

import (
	"context"
	"sync"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestOutcomeRunAgainAfterDeadlock: two deliveries' outcomes deadlock (each locks the
// other's row after its own, in its Recorded hook, which runs before the outcome's update), so PostgreSQL ends one of them. The
// loser is run again: both rows are recorded delivered, each attempt counted once, no
// lease left behind. Before, the loser's rows stayed leased for the lease's 40 s.
func TestOutcomeRunAgainAfterDeadlock(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	var rows [2]int64
	err := db.Write(ctx, func(tx *store.Tx) error {
		for i := range rows {
			err := tx.QueryRowContext(ctx, `INSERT INTO sharing_outbox (account_id, agreement_id, share_id, kind, method, url, body, status, next_attempt_at, lease_owner, lease_until, created_at)
				VALUES (1, 1, ?, 'update', 'PUT', 'http://partner.test/sharing', '', 'pending', 0, 'me', 1, 0) RETURNING id`, i+1).Scan(&rows[i])
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	holds := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	var mu sync.Mutex
	recorded := map[int64]int{}
	q := New(db, Spec[struct{}]{Name: "test", Table: "sharing_outbox", Lane: []string{"agreement_id", "share_id"},
		Recorded: func(ctx context.Context, tx *store.Tx, j Job[struct{}], _ string) error {
			i := 0
			if j.ID == rows[1] {
				i = 1
			}
			mu.Lock()
			recorded[j.ID]++
			first := recorded[j.ID] == 1
			mu.Unlock()
			if !first {
				return nil // run again: the other outcome has committed or is waiting for this one
			}
			// Recorded runs before the outcome's UPDATE: lock this outcome's own row, then,
			// once the other holds its own too, the other's.
			if _, err := tx.ExecContext(ctx, `SELECT id FROM sharing_outbox WHERE id = ? FOR UPDATE`, rows[i]); err != nil {
				return err
			}
			close(holds[i])
			<-holds[1-i]
			_, err := tx.ExecContext(ctx, `SELECT id FROM sharing_outbox WHERE id = ? FOR UPDATE`, rows[1-i])
			return err
		}}, Config{}, discard())
	var wg sync.WaitGroup
	for _, id := range rows {
		wg.Add(1)
		go func() { defer wg.Done(); q.finish(ctx, Job[struct{}]{ID: id, AccountID: 1}, "delivered", "", 0) }()
	}
	wg.Wait()
	for _, id := range rows {
		var status, owner string
		var attempts, lease int64
		if err := db.R().QueryRowContext(ctx, `SELECT status, attempts, lease_owner, lease_until FROM sharing_outbox WHERE id = ?`, id).Scan(&status, &attempts, &owner, &lease); err != nil {
			t.Fatal(err)
		}
		if status != "delivered" || attempts != 1 || owner != "" || lease != 0 {
			t.Errorf("row %d after the deadlock: status %s, %d attempts, lease %q until %d; want delivered, 1, none", id, status, attempts, owner, lease)
		}
	}
	if db.Retries() != 1 || recorded[rows[0]]+recorded[rows[1]] != 3 {
		t.Fatalf("%d retries, Recorded ran %v: want one outcome run again", db.Retries(), recorded)
	}
}
