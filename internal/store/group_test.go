package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestConcurrentWritesFailAlone: writes running at the same time (batched into shared
// transactions on SQLite) commit or fail one by one: a failing write, even one that
// panics or violates a constraint half-way, leaves nothing behind and takes no other
// write with it; after-commit callbacks run exactly for the writes that committed.
func TestConcurrentWritesFailAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const n = 300
		var wg sync.WaitGroup
		var committed atomic.Int64
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = db.Write(ctx, func(tx *store.Tx) error {
					sub := fmt.Sprintf("acct-%03d", i)
					if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (?, ?, 'team', 1, 1)`, sub, sub); err != nil {
						return err
					}
					tx.AfterCommit(func() { committed.Add(1) })
					switch i % 10 {
					case 3:
						return errors.New("refused") // after a successful insert
					case 5:
						// A constraint violation after a successful insert.
						_, err := tx.ExecContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (?, ?, 'team', 1, 1)`, sub, sub)
						return err
					case 7:
						panic("boom")
					}
					return nil
				})
			}()
		}
		wg.Wait()
		want := 0
		for i, err := range errs {
			bad := i%10 == 3 || i%10 == 5 || i%10 == 7
			if bad != (err != nil) {
				t.Fatalf("write %d: err = %v", i, err)
			}
			if !bad {
				want++
			}
		}
		var got int
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want || int(committed.Load()) != want {
			t.Fatalf("%d rows and %d after-commit callbacks, want %d of each", got, committed.Load(), want)
		}
		var leaked int
		db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE subdomain LIKE '%3' OR subdomain LIKE '%5' OR subdomain LIKE '%7'`).Scan(&leaked)
		if leaked != 0 {
			t.Fatalf("%d failed writes left rows behind", leaked)
		}
	})
}

// TestCancelledWriterDoesNotAbortOthers: a caller whose context is cancelled while its
// write is queued gets its context error; the others are unaffected.
func TestCancelledWriterDoesNotAbortOthers(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := ctx
			if i%2 == 0 {
				cc, cancel := context.WithCancel(ctx)
				cancel()
				c = cc
			}
			_ = db.Write(c, func(tx *store.Tx) error {
				_, err := tx.ExecContext(c, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (?, ?, 'team', 1, 1)`, fmt.Sprint("c", i), "x")
				return err
			})
		}()
	}
	wg.Wait()
	var odd int
	db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE CAST(substr(subdomain, 2) AS INTEGER) % 2 = 1`).Scan(&odd)
	if odd != 25 {
		t.Fatalf("%d of the 25 uncancelled writes committed", odd)
	}
}
