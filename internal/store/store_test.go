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
