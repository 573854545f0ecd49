package store_test

import (
	"context"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

func TestRebind(t *testing.T) {
	db := &store.DB{Dialect: store.Postgres}
	cases := map[string]string{
		"SELECT 1":                              "SELECT 1",
		"a = ? AND b = ?":                       "a = $1 AND b = $2",
		"x = '?' AND y = ?":                     "x = '?' AND y = $1",
		"IN (?,?,?) AND z LIKE 'a?b' AND w = ?": "IN ($1,$2,$3) AND z LIKE 'a?b' AND w = $4",
	}
	for in, want := range cases {
		if got := db.Rebind(in); got != want {
			t.Errorf("Rebind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMigrateIsIdempotentAndTransactional(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		applied, err := db.MigrateReport(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Fatalf("second migrate applied %d migrations, want 0", len(applied))
		}
		// A failing write transaction leaves nothing behind.
		err = db.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, "x", "X", "team", 1, 1); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, "x", "X", "team", 1, 1)
			return err
		})
		if !store.IsUniqueViolation(err) {
			t.Fatalf("want unique violation, got %v", err)
		}
		var n int
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("rolled-back transaction left %d accounts", n)
		}
	})
}
