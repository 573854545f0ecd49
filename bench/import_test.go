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

// TestExportWalkRuns keeps the export benchmark working on a small account.
func TestExportWalkRuns(t *testing.T) {
	db, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "bench.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, _, err := ExportWalk(db, 1100)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Pages < 2 || res[1].Records != 1100 {
		t.Fatalf("result = %+v", res)
	}
}
