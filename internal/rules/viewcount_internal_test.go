package rules

import (
	"context"
	"errors"
	"testing"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestChangeVersionUnsettledMidCommit: on PostgreSQL a change version read while a
// writer of the account holds its export lock (between its change number and the end
// of its commit, migration 0041) is not settled, so a count taken at it is never served
// as fresh later; before and after, it is. Reading it never waits for the writer.
func TestChangeVersionUnsettledMidCommit(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	const acct = ids.Account(424242)
	settled := func() bool {
		t.Helper()
		_, ok, err := changeVersion(ctx, db.R(), acct)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !settled() {
		t.Fatal("unsettled with no writer")
	}
	err := db.Write(ctx, func(tx *store.Tx) error {
		// What export_stamp takes at COMMIT, held here while the version is read.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared(41, 424242)`); err != nil {
			return err
		}
		if settled() {
			return errors.New("settled while a writer of the account was committing")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !settled() {
		t.Fatal("unsettled after the writer committed")
	}
}
