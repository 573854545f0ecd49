package store_test

import (
	"context"
	"strings"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// Trim closes the writer connection and the idle readers (SQLite), which frees their
// page caches, and Memory reports them; the next write opens the writer again, and
// what was committed before stays there. On PostgreSQL both do nothing.
func TestTrimFreesPageCaches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Some pages for both caches: accounts with long names, written then read.
		name := strings.Repeat("n", 2000)
		err := db.Write(ctx, func(tx *store.Tx) error {
			for i := range 200 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, "trim"+string(rune('a'+i%26))+strings.Repeat("x", i/26), name, "team", 1, 1); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE name LIKE 'n%'`).Scan(&n); err != nil || n != 200 {
			t.Fatalf("count %d, %v", n, err)
		}
		before, err := db.Memory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Trim(ctx); err != nil {
			t.Fatal(err)
		}
		after, err := db.Memory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if db.Dialect != store.SQLite {
			if after != (store.MemoryStats{}) {
				t.Fatalf("PostgreSQL: %+v", after)
			}
			return
		}
		if before.Writer.Cache < 100<<10 || before.Reader.Cache < 100<<10 || before.ReadersIdle == 0 || !before.WriterOpen {
			t.Fatalf("caches before Trim: %+v", before)
		}
		if after.WriterOpen || after.Writer != (store.ConnMemory{}) || after.ReadersIdle != 0 || after.Commits == 0 || after.Reads == 0 {
			t.Fatalf("Trim left the caches: before %+v, after %+v", before, after)
		}
		if s := after.String(); !strings.Contains(s, "writer: closed") || !strings.Contains(s, "readers: ") {
			t.Fatalf("String: %q", s)
		}
		// A second Trim finds nothing to close; the next write opens the writer again.
		if err := db.Trim(ctx); err != nil {
			t.Fatal(err)
		}
		err = db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE accounts SET plan = 'trimmed' WHERE name LIKE 'n%'`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE plan = 'trimmed'`).Scan(&n); err != nil || n != 200 {
			t.Fatalf("after the writer reopened: count %d, %v", n, err)
		}
		again, err := db.Memory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !again.WriterOpen || again.Writer.Schema == 0 || !strings.Contains(again.String(), "writer: cache") {
			t.Fatalf("after a write: %+v", again)
		}
	})
}
