package report_test

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestMigrationKeepsPendingDeltas (PostgreSQL, migration 0084): the deltas a database
// holds when 0084 changes report_daily_deltas to one row a write, not folded yet, are
// in the counts after it, added to the totals once, and the table is left empty.
func TestMigrationKeepsPendingDeltas(t *testing.T) {
	if !slices.Contains(storetest.Dialects(), store.Postgres) {
		t.Skip("PostgreSQL only")
	}
	ctx := context.Background()
	db, err := store.OpenNoMigrate(storetest.Options(t, store.Postgres))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The migrations before 0084, recorded as applied, and the counts of one account as
	// a fold left them: a total, and deltas since (two of the total's key, a new key,
	// and a key whose deltas cancel out).
	storetest.MigrateOnly(t, db, func(v int) bool { return v < 84 })
	err = db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_daily_shards (account_id, dim, dim_id, kind, day, k1, k2, name, shard, n)
			VALUES (7, 'account', 0, 'c', 20000, 0, 0, '', 0, 5)`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO report_daily_deltas (account_id, dim, dim_id, kind, day, k1, k2, name, n) VALUES
			(7, 'account', 0, 'c', 20000, 0, 0, '', 2), (7, 'account', 0, 'c', 20000, 0, 0, '', 1),
			(7, 'tag', 0, 't', 20000, 0, 0, 'refund', 1),
			(7, 'account', 0, 's', 20000, 0, 0, '', 1), (7, 'account', 0, 's', 20000, 0, 0, '', -1)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"account0c20000 0 0": 8, "tag0t20000 0 0refund": 1}
	if got := dailyCounts(t, db, 7); !reflect.DeepEqual(want, got) {
		t.Fatalf("counts after the migration:%s", diffText(want, got))
	}
	if n := pendingDeltas(t, db, 7); n != 0 {
		t.Fatalf("%d delta rows left after the migration, want them in the totals", n)
	}
}
