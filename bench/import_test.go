package bench

import (
	"context"
	"path/filepath"
	"testing"

	"tandem/internal/store"
)

// TestImportUsersRuns keeps the import benchmark working (timings are the bench tool's
// business, not a test's).
func TestImportUsersRuns(t *testing.T) {
	db, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "bench.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := ImportUsers(db, 1200, 10)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 1200 || res.Unchanged != 1200 || res.Bytes == 0 {
		t.Fatalf("result = %+v", res)
	}
}
