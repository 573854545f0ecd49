package store_test

import (
	"context"
	"strings"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// Trim empties the writer's page cache and closes the idle readers (SQLite), and Memory
// reports them; on PostgreSQL both do nothing.
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
		if before.Writer.Cache < 100<<10 || before.Reader.Cache < 100<<10 || before.ReadersIdle == 0 {
			t.Fatalf("caches before Trim: %+v", before)
		}
		if after.Writer.Cache >= before.Writer.Cache/4 || after.ReadersIdle != 0 || after.Commits == 0 || after.Reads == 0 {
			t.Fatalf("Trim left the caches: before %+v, after %+v", before, after)
		}
		if s := after.String(); !strings.Contains(s, "writer: cache") || !strings.Contains(s, "readers: ") {
			t.Fatalf("String: %q", s)
		}
	})
}
