package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"tandem/internal/store"
)

// sqliteTemplate is a migrated SQLite database that sqliteCopy copies for each test:
// under the race detector, migrating a new SQLite file (the pure-Go driver runs
// instrumented) costs far more than copying one. Like the PostgreSQL template it is
// named after the migrations' contents and shared by the test binaries of every package
// (and by later runs), in the temporary directory.
var sqliteTemplate struct {
	once sync.Once
	dir  string // holds template.db (and its -wal file, if closing left one)
	err  error
}

// sqliteCopy returns options for a new SQLite file copied from the migrated template,
// in the test's temporary directory.
func sqliteCopy(t testing.TB) store.Options {
	t.Helper()
	sqliteTemplate.once.Do(func() { sqliteTemplate.dir, sqliteTemplate.err = sqliteTemplateDir() })
	if sqliteTemplate.err != nil {
		t.Fatalf("sqlite template database: %v", sqliteTemplate.err)
	}
	return store.Options{Path: copySQLite(t, filepath.Join(sqliteTemplate.dir, "template.db"))}
}

// OpenCopy returns a copy of the closed SQLite database at path (a fixture a test
// binary built once), in the test's temporary directory, closed at cleanup.
func OpenCopy(t testing.TB, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{Path: copySQLite(t, path)})
	if err != nil {
		t.Fatalf("open a copy of %s: %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// copySQLite copies the SQLite file at src (and its -wal file, if any) into the test's
// temporary directory and returns the copy's path.
func copySQLite(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "tandem.db")
	for _, suffix := range []string{"", "-wal"} {
		err := copyFile(src+suffix, dst+suffix)
		if suffix != "" && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatalf("copy the sqlite database %s: %v", src, err)
		}
	}
	return dst
}

// sqliteTemplateDir returns the directory of the template for the current migrations,
// building it if it is missing. It is built in a directory of its own and renamed into
// place when complete, so no test binary ever copies a half-migrated template.
func sqliteTemplateDir() (string, error) {
	hash, err := migrationsHash(store.SQLite)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(os.TempDir(), "tandem-sqlite-template-"+hash)
	if _, err := os.Stat(filepath.Join(dir, "template.db")); err == nil {
		return dir, nil
	}
	building, err := os.MkdirTemp(os.TempDir(), "tandem-sqlite-template-building-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(building) // gone once renamed
	db, err := store.Open(context.Background(), store.Options{Path: filepath.Join(building, "template.db")})
	if err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	if err := db.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(building, dir); err != nil {
		// Another test binary renamed its template into place first: use that one.
		if _, serr := os.Stat(filepath.Join(dir, "template.db")); serr == nil {
			return dir, nil
		}
		return "", err
	}
	// Templates of other migrations are left from earlier runs or belong to another
	// checkout's tests: remove those made more than a day ago.
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "tandem-sqlite-template-*"))
	for _, o := range old {
		if fi, err := os.Stat(o); err == nil && o != dir && time.Since(fi.ModTime()) > 24*time.Hour {
			_ = os.RemoveAll(o)
		}
	}
	return dir, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
