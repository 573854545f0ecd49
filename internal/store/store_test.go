package store_test

import (
	"context"
	"fmt"
	"strings"
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

// FuzzRebind checks that Rebind never panics and only ever replaces the question marks
// outside single-quoted literals, numbering them $1, $2, ... in order; the rest of the
// query is left byte for byte. The seed corpus is in testdata/fuzz/FuzzRebind.
func FuzzRebind(f *testing.F) {
	f.Add("SELECT id FROM t WHERE a = ? AND b = '?' AND c IN (?,?)")
	f.Fuzz(func(t *testing.T, q string) {
		if (&store.DB{Dialect: store.SQLite}).Rebind(q) != q {
			t.Fatalf("SQLite Rebind changed %q", q)
		}
		out := (&store.DB{Dialect: store.Postgres}).Rebind(q)
		// Walk both: each byte of q is copied, except an unquoted ? which becomes $n.
		j, n, inQuote := 0, 0, false
		for i := 0; i < len(q); i++ {
			c := q[i]
			if c == '?' && !inQuote {
				n++
				want := fmt.Sprintf("$%d", n)
				if !strings.HasPrefix(out[j:], want) {
					t.Fatalf("Rebind(%q) = %q: placeholder %d is not %s", q, out, n, want)
				}
				j += len(want)
				continue
			}
			if c == '\'' {
				inQuote = !inQuote
			}
			if j >= len(out) || out[j] != c {
				t.Fatalf("Rebind(%q) = %q: byte %d changed", q, out, i)
			}
			j++
		}
		if j != len(out) {
			t.Fatalf("Rebind(%q) = %q: %d bytes left over", q, out, len(out)-j)
		}
	})
}

// TestTicketNeedsItsAccount: a ticket cannot name an account that does not exist, and an
// account that has tickets cannot be deleted or renumbered. SQLite keeps this with its
// foreign key; PostgreSQL with migration 0068's triggers, which replaced the foreign key
// so that concurrent creates of one account share no row lock.
func TestTicketNeedsItsAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var acct int64
		err := db.Write(ctx, func(tx *store.Tx) error {
			return tx.QueryRowContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES ('kept', 'Kept', 'team', 1, 1) RETURNING id`).Scan(&acct)
		})
		if err != nil {
			t.Fatal(err)
		}
		insert := func(account int64) error {
			return db.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO tickets (account_id, id, status, requester_id, submitter_id, created_at, updated_at) VALUES (?, 1, 'new', 1, 1, 1, 1)`, account)
				return err
			})
		}
		if err := insert(acct + 1000); err == nil {
			t.Fatal("a ticket of an account that does not exist was written")
		}
		if err := insert(acct); err != nil {
			t.Fatalf("a ticket of an existing account: %v", err)
		}
		for _, q := range []string{`DELETE FROM accounts WHERE id = ?`, `UPDATE accounts SET id = id + 1000 WHERE id = ?`} {
			err := db.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, q, acct)
				return err
			})
			if err == nil {
				t.Errorf("%s: an account with a ticket changed", q)
			}
		}
		var n int
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets t JOIN accounts a ON a.id = t.account_id`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%d tickets with their account, want 1", n)
		}
		// Changing an account's other columns is still allowed.
		if err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE accounts SET name = 'Still kept' WHERE id = ?`, acct)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
}
