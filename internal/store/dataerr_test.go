package store_test

import (
	"context"
	"errors"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestIsDataException: a value the database refuses (a NUL in text on PostgreSQL) is a
// data exception; other errors are not.
func TestIsDataException(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var got string
		err := db.R().QueryRowContext(ctx, `SELECT CAST(? AS TEXT)`, "a\x00b").Scan(&got)
		if db.Dialect == store.Postgres && !store.IsDataException(err) {
			t.Fatalf("NUL in text on PostgreSQL: %v, want a data exception", err)
		}
		if db.Dialect == store.SQLite && store.IsDataException(err) {
			t.Fatalf("SQLite: %v is not a data exception", err)
		}
		if store.IsDataException(errors.New("SQLSTATE 22021")) || store.IsDataException(nil) {
			t.Fatal("only database errors are data exceptions")
		}
	})
}
