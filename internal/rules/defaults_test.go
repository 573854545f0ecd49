package rules_test

import (
	"context"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestApplyDefaults: accounts created before issue 18's defaults get them once; an
// account that has one keeps a single copy; a default an admin deleted (on an account
// that recorded its version, or one created after the default existed) never comes back;
// a second run adds nothing.
func TestApplyDefaults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		old := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		mk := func(sub string, created time.Time, provision bool) *account.Account {
			var a *account.Account
			err := db.Write(ctx, func(tx *store.Tx) error {
				var err error
				if a, err = account.Create(ctx, tx, sub, sub, account.Enterprise); err != nil {
					return err
				}
				if provision {
					if err := rules.Provision(ctx, tx, a); err != nil {
						return err
					}
				}
				_, err = tx.ExecContext(ctx, `UPDATE accounts SET created_at = ? WHERE id = ?`, store.Micros(created), a.ID)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		exec := func(q string, args ...any) {
			if err := db.Write(ctx, func(tx *store.Tx) error { _, err := tx.ExecContext(ctx, q, args...); return err }); err != nil {
				t.Fatal(err)
			}
		}
		count := func(a *account.Account, table, title string) int {
			var n int
			if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE account_id = ? AND title = ?`, a.ID, title).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		const closeAuto, csat, partners = "Close ticket 4 days after status is set to solved", "Request customer satisfaction rating", "Waiting on partners"

		// An account from before the defaults, with none of them.
		bare := mk("bare", old, false)
		// One from before that was given the close automation by hand already.
		some := mk("some", old, false)
		err := db.Write(ctx, func(tx *store.Tx) error { return rules.InsertAutomation(ctx, tx, some, rules.DefaultAutomations()[0]) })
		if err != nil {
			t.Fatal(err)
		}
		// A new account (version recorded) whose admin deleted a default view.
		recorded := mk("recorded", time.Now(), true)
		exec(`DELETE FROM views WHERE account_id = ? AND title = ?`, recorded.ID, partners)
		// An account created after the defaults existed but before versions were
		// recorded, whose admin deleted a default automation.
		unrecorded := mk("unrecorded", time.Now(), true)
		exec(`DELETE FROM account_defaults WHERE account_id = ?`, unrecorded.ID)
		exec(`DELETE FROM automations WHERE account_id = ? AND title = ?`, unrecorded.ID, csat)

		added, err := rules.ApplyDefaults(ctx, db, nil)
		if err != nil {
			t.Fatal(err)
		}
		if added != 5+4 {
			t.Fatalf("added %d rules, want 9 (5 to bare, 4 to some)", added)
		}
		for _, c := range []struct {
			a            *account.Account
			table, title string
			want         int
		}{
			{bare, "automations", closeAuto, 1}, {bare, "automations", csat, 1}, {bare, "views", partners, 1},
			{bare, "views", "Unsolved tickets by next breach", 1}, {bare, "automations", "Pending notification 24 hours", 1},
			{some, "automations", closeAuto, 1}, {some, "automations", csat, 1}, {some, "views", partners, 1},
			{recorded, "views", partners, 0}, {recorded, "automations", csat, 1},
			{unrecorded, "automations", csat, 0}, {unrecorded, "views", partners, 1},
		} {
			if n := count(c.a, c.table, c.title); n != c.want {
				t.Errorf("%s: %d %s %q, want %d", c.a.Subdomain, n, c.table, c.title, c.want)
			}
		}
		// Once given, never again, even when deleted.
		exec(`DELETE FROM automations WHERE account_id = ? AND title = ?`, bare.ID, csat)
		if added, err := rules.ApplyDefaults(ctx, db, nil); err != nil || added != 0 {
			t.Fatalf("second run: added %d, %v", added, err)
		}
		if n := count(bare, "automations", csat); n != 0 {
			t.Fatalf("a deleted default came back")
		}
	})
}
