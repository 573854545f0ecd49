package identity_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/limit"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

const goodPassword = "correct horse battery"

// guarded is an account with one user who has a password, and a guard over it.
func guarded(t *testing.T, db *store.DB, cfg identity.GuardConfig) (ids.Account, *identity.Guard) {
	t.Helper()
	acct := newAccount(t, db)
	u := &identity.User{AccountID: acct, Name: "Olive Owner", Email: "olive@acme.test", Role: identity.Agent, Verified: true}
	insert(t, db, u)
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *store.Tx) error { return identity.SetPassword(ctx, tx, acct, u.ID, goodPassword) }); err != nil {
		t.Fatal(err)
	}
	return acct, identity.NewGuard(limit.New(db), cfg)
}

func throttled(err error) bool {
	var th *identity.Throttled
	return errors.As(err, &th) && !th.Busy && errs.Is(err, errs.RateLimited) && th.RetryAfter() > 0
}

// TestGuardCountsBeforeHashing: 20 concurrent wrong guesses from one address cannot all
// be checked: the attempt is counted before the slow hash, so only the first five are.
func TestGuardCountsBeforeHashing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		acct, g := guarded(t, db, identity.GuardConfig{QueueWait: time.Minute}) // slow hashes under -race
		var mu sync.Mutex
		var checked, refused int
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := g.ByPassword(context.Background(), db.R(), acct, "olive@acme.test", "wrong guess", "198.51.100.1")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errs.Is(err, errs.Unauthorized):
					checked++
				case throttled(err):
					refused++
				default:
					t.Errorf("unexpected %v", err)
				}
			}()
		}
		wg.Wait()
		if checked != 5 || refused != 15 {
			t.Fatalf("%d guesses checked and %d refused, want 5 and 15", checked, refused)
		}
		// The right password from that address waits too.
		if _, err := g.ByPassword(context.Background(), db.R(), acct, "Olive@acme.test", goodPassword, "198.51.100.1"); !throttled(err) {
			t.Fatalf("right password from the guessing address: %v, want throttled", err)
		}
	})
}

// TestGuardNoLockoutAsAWeapon: guessing from other addresses does not keep the owner
// out. Past the per-email threshold, unknown addresses get one attempt per step, while
// the owner's usual address is not slowed at all.
func TestGuardNoLockoutAsAWeapon(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		acct, g := guarded(t, db, identity.GuardConfig{SlowAfter: 8, SlowStep: time.Hour, QueueWait: time.Minute})
		ctx := context.Background()
		try := func(pw, addr string) error {
			_, err := g.ByPassword(ctx, db.R(), acct, "olive@acme.test", pw, addr)
			return err
		}
		// The owner signs in from home once; the address is known from then on.
		if err := try(goodPassword, "203.0.113.10"); err != nil {
			t.Fatal(err)
		}
		// An attacker spreads guesses over addresses, under each address's limit.
		var checked, slowed int
		for i := range 12 {
			err := try("wrong guess", "198.51.100."+string(rune('a'+i)))
			switch {
			case errs.Is(err, errs.Unauthorized):
				checked++
			case throttled(err):
				slowed++
			default:
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		// Seven guesses under the threshold (the owner's sign-in was the first
		// attempt), then one per step.
		if checked != 8 || slowed != 4 {
			t.Fatalf("spread-out guesses: %d checked, %d slowed; want 8 and 4", checked, slowed)
		}
		// The owner from home is not slowed, and can sign in again and again.
		for range 3 {
			if err := try(goodPassword, "203.0.113.10"); err != nil {
				t.Fatalf("owner from a known address: %v", err)
			}
		}
		// From a new address the owner waits for a step, like everyone else.
		if err := try(goodPassword, "203.0.113.99"); !throttled(err) {
			t.Fatalf("new address during an attack: %v, want slowed", err)
		}
	})
}

// TestGuardBoundsHashing: with every hashing slot taken, a check waits at most the queue
// wait, then is refused as busy (503 with a retry time), without hashing.
func TestGuardBoundsHashing(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	acct, g := guarded(t, db, identity.GuardConfig{Slots: 1, QueueWait: 50 * time.Millisecond})
	release := identity.HoldSlotsForTest(g)
	_, err := g.ByPassword(context.Background(), db.R(), acct, "olive@acme.test", goodPassword, "203.0.113.10")
	var th *identity.Throttled
	if !errors.As(err, &th) || !th.Busy || !errs.Is(err, errs.Unavailable) || th.RetryAfter() < 1 {
		t.Fatalf("all slots busy: %v, want a busy refusal", err)
	}
	release()
	if _, err := g.ByPassword(context.Background(), db.R(), acct, "olive@acme.test", goodPassword, "203.0.113.10"); err != nil {
		t.Fatalf("with a free slot: %v", err)
	}
}
