package account_test

import (
	"context"
	"testing"

	"tandem/internal/account"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestByIDCached: an account read by id through the cache is the stored one; a change
// made behind the store's back is not seen until Forget (or a plan change through the
// store, which forgets), and an unknown id is not found.
func TestByIDCached(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var a *account.Account
		if err := db.Write(ctx, func(tx *store.Tx) error {
			var err error
			a, err = account.Create(ctx, tx, "acme", "Acme", account.Team)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		s := account.NewStore(db)
		got, err := s.ByIDCached(ctx, a.ID)
		if err != nil || got.Name != "Acme" || got.Plan != account.Team {
			t.Fatalf("ByIDCached = %+v, %v", got, err)
		}
		if err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE accounts SET name = 'Acme Corp' WHERE id = ?`, a.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ByIDCached(ctx, a.ID); got.Name != "Acme" {
			t.Errorf("cached name = %q, want the cached Acme", got.Name)
		}
		s.Forget()
		if got, _ := s.ByIDCached(ctx, a.ID); got.Name != "Acme Corp" {
			t.Errorf("name after Forget = %q, want Acme Corp", got.Name)
		}
		if err := s.SetPlan(ctx, a.ID, account.Enterprise); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ByIDCached(ctx, a.ID); got.Plan != account.Enterprise {
			t.Errorf("plan after SetPlan = %q, want enterprise", got.Plan)
		}
		if _, err := s.ByIDCached(ctx, a.ID+1000); err == nil {
			t.Error("an unknown account was found")
		}
	})
}
