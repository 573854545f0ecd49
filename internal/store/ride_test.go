package store_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// insertAccount is an account's insert whose result nobody reads: a rider.
const insertAccount = `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (?, ?, 'team', 1, 1)`

// TestRidersRunAsIfSentAlone: what a write leaves with Ride is in the database for every
// statement after it but its carrier, commits with the write, rolls back with it (or
// with a savepoint taken before it), and fails the write when it fails.
func TestRidersRunAsIfSentAlone(t *testing.T) {
	cases := []struct {
		name string
		// write runs in the write transaction, its accounts' subdomains starting with
		// p; want are those subdomains after it, without p.
		write   func(ctx context.Context, tx *store.Tx, p string) error
		want    []string
		wantErr bool
	}{{
		name: "carried by a statement with a WITH of its own",
		write: func(ctx context.Context, tx *store.Tx, p string) error {
			if err := tx.Ride(ctx, insertAccount, p+"a", "A"); err != nil {
				return err
			}
			q, args := tx.Carry(`WITH v AS (SELECT CAST(? AS TEXT) AS s) INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) SELECT v.s, 'B', 'team', 1, 1 FROM v`, []any{p + "b"})
			_, err := tx.ExecContext(ctx, q, args...)
			return err
		},
		want: []string{"a", "b"},
	}, {
		name: "before a recursive WITH, which does not carry them",
		write: func(ctx context.Context, tx *store.Tx, p string) error {
			if err := tx.Ride(ctx, insertAccount, p+"a", "A"); err != nil {
				return err
			}
			q, args := tx.Carry(`WITH RECURSIVE r (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 2) INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) SELECT ? || n, 'B', 'team', 1, 1 FROM r`, []any{p + "b"})
			_, err := tx.ExecContext(ctx, q, args...)
			return err
		},
		want: []string{"a", "b1", "b2"},
	}, {
		name: "read by the next statement",
		write: func(ctx context.Context, tx *store.Tx, p string) error {
			if err := tx.Ride(ctx, insertAccount, p+"a", "A"); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE subdomain = ?`, p+"a").Scan(&n); err != nil {
				return err
			}
			if n != 1 {
				t.Errorf("the next statement saw %d riders' rows, want 1", n)
			}
			return nil
		},
		want: []string{"a"},
	}, {
		name: "no statement after it",
		write: func(ctx context.Context, tx *store.Tx, p string) error {
			if err := tx.Ride(ctx, insertAccount, p+"a", "A"); err != nil {
				return err
			}
			return tx.Ride(ctx, insertAccount, p+"b", "B")
		},
		want: []string{"a", "b"},
	}, {
		name: "rolled back to a savepoint before it",
		write: func(ctx context.Context, tx *store.Tx, p string) error {
			if _, err := tx.ExecContext(ctx, `SAVEPOINT ride`); err != nil {
				return err
			}
			if err := tx.Ride(ctx, insertAccount, p+"a", "A"); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT ride`); err != nil {
				return err
			}
			return tx.Ride(ctx, insertAccount, p+"b", "B")
		},
		want: []string{"b"},
	}, {
		name: "failing, with the next statement's error not returned",
		write: func(ctx context.Context, tx *store.Tx, p string) error {
			if err := tx.Ride(ctx, insertAccount, p+"a", "A"); err != nil {
				return err
			}
			if err := tx.Ride(ctx, insertAccount, p+"a", "A"); err != nil {
				return err
			}
			var n int
			_ = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n)
			return nil
		},
		wantErr: true,
	}, {
		name: "rolled back with its write",
		write: func(ctx context.Context, tx *store.Tx, p string) error {
			if err := tx.Ride(ctx, insertAccount, p+"a", "A"); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, insertAccount, p+"a", "A")
			return err
		},
		wantErr: true,
	}}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := "ride" + strconv.Itoa(i) + "-"
				err := db.Write(ctx, func(tx *store.Tx) error { return c.write(ctx, tx, p) })
				if c.wantErr {
					if !store.IsUniqueViolation(err) {
						t.Fatalf("write: %v, want the riders' unique violation", err)
					}
				} else if err != nil {
					t.Fatalf("write: %v", err)
				}
				var got []string
				rows, err := db.R().QueryContext(ctx, `SELECT subdomain FROM accounts WHERE subdomain LIKE ? ORDER BY subdomain`, p+"%")
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var s string
					if err := rows.Scan(&s); err != nil {
						t.Fatal(err)
					}
					got = append(got, strings.TrimPrefix(s, p))
				}
				if err := rows.Close(); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, c.want) {
					t.Fatalf("accounts %q, want %q", got, c.want)
				}
			})
		}
	})
}
