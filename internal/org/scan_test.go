package org_test

import (
	"context"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/org"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestScannersRefuseCorruptJSON: a user or organization whose JSON column does not decode
// reads back as an error naming the row and the column, not as empty tags or fields.
func TestScannersRefuseCorruptJSON(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		acct, users := setup(t, db, account.Enterprise, "ann@example.test")
		o := &org.Organization{AccountID: acct.ID, Name: "Initech"}
		if err := db.Write(ctx, func(tx *store.Tx) error { return org.CreateOrg(ctx, tx, acct, o) }); err != nil {
			t.Fatal(err)
		}
		corrupt := func(q string, args ...any) {
			t.Helper()
			if err := db.Write(ctx, func(tx *store.Tx) error { _, err := tx.ExecContext(ctx, q, args...); return err }); err != nil {
				t.Fatal(err)
			}
		}
		corrupt(`UPDATE users SET user_fields = '{"a":' WHERE id = ?`, users[0].ID)
		if _, err := identity.Get(ctx, db.R(), acct.ID, users[0].ID); err == nil || !strings.Contains(err.Error(), "user_fields") {
			t.Errorf("user with corrupt user_fields: err = %v", err)
		}
		corrupt(`UPDATE organizations SET domain_names = 'initech.test' WHERE id = ?`, o.ID)
		if _, err := org.GetOrg(ctx, db.R(), acct.ID, o.ID); err == nil || !strings.Contains(err.Error(), "domain_names") {
			t.Errorf("organization with corrupt domain_names: err = %v", err)
		}
	})
}
