package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestUniqueViolationByCode: a unique index, a column UNIQUE and a primary key are each
// recognised as unique violations on both databases, and UniqueConstraint names what was
// violated; other constraint failures and other errors are not unique violations.
func TestUniqueViolationByCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const acct = `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`
		const user = `INSERT INTO users (account_id, name, email, external_id, external_id_lower, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'end-user', 1, 1)`
		var id int64
		if err := db.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, acct, "acme", "Acme", "team", 1, 1); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT id FROM accounts WHERE subdomain = 'acme'`).Scan(&id); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, user, id, "Ann", "ann@example.test", "X-1", "x-1")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		exec := func(q string, args ...any) error {
			return db.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, q, args...)
				return err
			})
		}
		for _, c := range []struct {
			what string
			err  error
			// want is a part of the name both dialects report: PostgreSQL gives the
			// index or constraint name, SQLite the violated columns.
			want string
		}{
			{"column UNIQUE", exec(acct, "acme", "Acme again", "team", 1, 1), "subdomain"},
			{"unique index", exec(user, id, "Ann two", "ann2@example.test", "Y", "x-1"), "external_id"},
			{"unique index, first column", exec(user, id, "Ann three", "ann@example.test", "Z", "z"), "email"},
			{"primary key", exec(`INSERT INTO accounts (id, subdomain, name, plan, created_at, updated_at) VALUES (?, 'other', 'O', 'team', 1, 1)`, id), "accounts"},
		} {
			if !store.IsUniqueViolation(c.err) {
				t.Errorf("%s: IsUniqueViolation(%v) = false", c.what, c.err)
				continue
			}
			name, ok := store.UniqueConstraint(c.err)
			t.Logf("%s: %q", c.what, name)
			if !ok || !strings.Contains(name, c.want) {
				t.Errorf("%s: UniqueConstraint = %q, %v; want a name containing %q (error: %v)", c.what, name, ok, c.want, c.err)
			}
			// Wrapping keeps the answer: callers wrap with %w on the way up.
			if !store.IsUniqueViolation(fmt.Errorf("x: %w", c.err)) {
				t.Errorf("%s: a wrapped violation is not recognised", c.what)
			}
		}
		notUnique := map[string]error{
			"NOT NULL":   exec(`INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (NULL, 'n', 'team', 1, 1)`),
			"syntax":     exec(`INSERT INTO nowhere VALUES (1)`),
			"plain":      errors.New("UNIQUE constraint failed: duplicate key value (SQLSTATE 23505)"),
			"no error":   nil,
			"no rows":    store.ErrNoRows,
			"wrapped no": fmt.Errorf("wrapped: %w", store.ErrNoRows),
		}
		for what, err := range notUnique {
			if store.IsUniqueViolation(err) {
				t.Errorf("%s: IsUniqueViolation(%v) = true", what, err)
			}
			if name, ok := store.UniqueConstraint(err); ok {
				t.Errorf("%s: UniqueConstraint(%v) = %q, true", what, err, name)
			}
		}
	})
}
