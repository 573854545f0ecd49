package sharing

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/sharing/wire"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestKnownPartnerActorWaitsForNoLock: a partner's person already mapped to a local user
// is found without the find-or-create lock, so the updates a receiver applies for one
// partner's agent do not wait for one another. On PostgreSQL another transaction holds
// the actor's lock (as a receiver applying another update did until it committed); the
// lookup must not wait for it.
func TestKnownPartnerActorWaitsForNoLock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		ag := &Agreement{ID: 7, AccountID: 1, UUID: "ag-7", Name: "Globex"}
		err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO sharing_actors (account_id, agreement_id, actor_uuid, user_id) VALUES (1, 7, 'actor-1', 42)`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// Bounded so that a lookup that waits for the held lock fails instead of hanging.
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var uid ids.User
		lookup := func() error {
			return db.Write(lctx, func(tx *store.Tx) error {
				var err error
				uid, err = partnerUser(lctx, tx, ag, &wire.Actor{UUID: "actor-1", Name: "Ann"})
				return err
			})
		}
		if db.Dialect == store.SQLite {
			err = lookup()
		} else {
			err = db.PgConn(ctx, func(c *pgx.Conn) error {
				tx, err := c.Begin(ctx)
				if err != nil {
					return err
				}
				defer tx.Rollback(ctx)
				if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "sharing-actor:7:actor-1"); err != nil {
					return err
				}
				return lookup()
			})
		}
		if err != nil {
			t.Fatalf("lookup of a known actor: %v (did it wait for the lock?)", err)
		}
		if uid != 42 {
			t.Fatalf("known actor mapped to user %d, want 42", uid)
		}
	})
}

// TestHurryOnlyWhenRowsMayWait: a successful delivery hurries its agreement's waiting
// rows when it was a retry, when this process recorded a retry since its last hurry, or
// when it has not hurried for hurryEvery; otherwise it skips the transaction.
func TestHurryOnlyWhenRowsMayWait(t *testing.T) {
	s := &Service{hurries: map[int64]hurryState{}}
	job := func(agreement int64, attempts int) outboxJob {
		return outboxJob{Attempts: attempts, Item: outboxRow{agreementID: agreement}}
	}
	if !s.hurryDue(job(1, 0)) {
		t.Fatal("the first success of an agreement did not hurry")
	}
	if s.hurryDue(job(1, 0)) {
		t.Fatal("a second success right after hurried again")
	}
	if !s.hurryDue(job(2, 0)) {
		t.Fatal("another agreement's first success did not hurry")
	}
	if !s.hurryDue(job(1, 3)) {
		t.Fatal("a successful retry (the partner answers again) did not hurry")
	}
	s.hurries[1] = hurryState{last: time.Now(), retried: true}
	if !s.hurryDue(job(1, 0)) {
		t.Fatal("a success after a recorded retry did not hurry")
	}
	if s.hurryDue(job(1, 0)) {
		t.Fatal("the recorded retry was not cleared by the hurry")
	}
	s.hurries[1] = hurryState{last: time.Now().Add(-hurryEvery - time.Millisecond)}
	if !s.hurryDue(job(1, 0)) {
		t.Fatal("no hurry after hurryEvery")
	}
}

// TestHurriesForgetOldAgreements: the hurry map keeps only the agreements hurried within
// hurryEvery (it grew by one entry for every agreement a process ever delivered for),
// and forgetting the others changes no decision: their next success hurries either way.
func TestHurriesForgetOldAgreements(t *testing.T) {
	s := &Service{hurries: map[int64]hurryState{}}
	old := time.Now().Add(-2 * hurryEvery)
	for id := range int64(1000) {
		s.hurries[id+100] = hurryState{last: old, retried: id%2 == 0}
	}
	s.hurries[7] = hurryState{last: time.Now()} // hurried just now: still remembered
	job := func(agreement int64) outboxJob { return outboxJob{Item: outboxRow{agreementID: agreement}} }
	if !s.hurryDue(job(5000)) {
		t.Fatal("a new agreement's first success did not hurry")
	}
	if len(s.hurries) != 2 {
		t.Fatalf("%d agreements remembered after the sweep, want 2 (the two hurried within hurryEvery)", len(s.hurries))
	}
	if s.hurryDue(job(7)) {
		t.Fatal("an agreement hurried just now was forgotten: its success hurried again")
	}
	if !s.hurryDue(job(150)) {
		t.Fatal("a forgotten agreement's success did not hurry")
	}
}

// TestSeededActorsAsRead: the users a write's caller already read (ticket.Patch.
// ReadUsers) describe the payload's actors as a read of them does; a partner's person
// (whose uuid is the partner's, read from sharing_actors), a user of another account
// and an actor already known are left as they are.
func TestSeededActorsAsRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		agent := &identity.User{ID: 5, AccountID: 1, Name: "Ann Agent", Role: identity.Agent}
		requester := &identity.User{ID: 6, AccountID: 1, Name: "Rob", Role: identity.EndUser}
		partner := &identity.User{ID: 7, AccountID: 1, Name: "Pat", Role: identity.EndUser, Shared: true, SharedAgent: true}
		other := &identity.User{ID: 8, AccountID: 2, Name: "Elsewhere", Role: identity.Admin}
		known := &wire.Actor{UUID: "kept", Name: "Kept"}
		err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO sharing_actors (account_id, agreement_id, actor_uuid, user_id) VALUES (1, 3, 'partner-pat', 7)`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.Write(ctx, func(tx *store.Tx) error {
			m := actors{9: known}
			m.seed(1, []*identity.User{agent, requester, partner, other, nil, {ID: 9, AccountID: 1, Name: "Not kept"}})
			for _, u := range []*identity.User{agent, requester} {
				if got, want := *m[u.ID], *userActor(ctx, tx, 1, u); got != want {
					t.Fatalf("user %d seeded as %+v, read as %+v", u.ID, got, want)
				}
			}
			if _, ok := m[partner.ID]; ok {
				t.Fatal("a partner's person was seeded without its partner's uuid")
			}
			if _, ok := m[other.ID]; ok {
				t.Fatal("a user of another account was seeded")
			}
			if m[9] != known {
				t.Fatalf("a known actor was replaced: %+v", m[9])
			}
			if got := userActor(ctx, tx, 1, partner); got.UUID != "partner-pat" || got.Role != "agent" {
				t.Fatalf("partner's person read as %+v", got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
