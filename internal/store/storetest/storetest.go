// Package storetest gives tests fresh, real databases: a temporary SQLite file always, and
// on the PostgreSQL server TANDEM_TEST_POSTGRES names, a private database copied from a
// migrated template (Open) or a private empty schema (Options).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"tandem/internal/store"
)

// PostgresURL returns the admin URL of the test PostgreSQL server, or "".
func PostgresURL() string { return os.Getenv("TANDEM_TEST_POSTGRES") }

// inCI reports whether the tests run in CI, where nothing may be skipped for want of a
// database (the browser tests treat a missing Chromium the same way).
func inCI() bool { return os.Getenv("CI") != "" }

// Dialects lists the dialects tests run on: SQLite, plus PostgreSQL when configured. When
// PostgreSQL is not configured it says so once per test binary, so that a run that left
// out half the matrix does not look like one that ran it all; in CI it lists PostgreSQL
// anyway, and Options then fails the test.
func Dialects() []store.Dialect {
	if PostgresURL() != "" || inCI() {
		return []store.Dialect{store.SQLite, store.Postgres}
	}
	sayPostgresSkipped()
	return []store.Dialect{store.SQLite}
}

// PostgresSkipped is the line printed when a package's tests leave PostgreSQL out.
const PostgresSkipped = "storetest: TANDEM_TEST_POSTGRES not set: PostgreSQL tests NOT run, SQLite only"

// skipNotice prints PostgresSkipped once per test binary (one binary is one package).
var skipNotice sync.Once

func sayPostgresSkipped() {
	skipNotice.Do(func() { fmt.Fprintln(os.Stderr, PostgresSkipped) })
}

// Each runs f once per dialect as a subtest, each with a fresh migrated database.
func Each(t *testing.T, f func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f(t, Open(t, d))
		})
	}
}

// Open returns a fresh migrated database of the dialect, closed and removed at cleanup.
// It is a copy of a template database migrated once per set of migrations: on
// PostgreSQL CREATE DATABASE ... TEMPLATE takes a fraction of a second where migrating a
// new schema takes one to two; on SQLite the file is copied (sqlite_template.go).
func Open(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	var opt store.Options
	if d == store.Postgres {
		opt = migratedCopy(t)
	} else {
		opt = sqliteCopy(t)
	}
	db, err := store.Open(context.Background(), opt)
	if err != nil {
		t.Fatalf("open %s test database: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Options returns connection options for a fresh, empty database of the dialect (a temp
// SQLite file, or a new PostgreSQL schema dropped at cleanup). Without TANDEM_TEST_POSTGRES
// a PostgreSQL test is skipped, saying so, or fails in CI. Several processes may open
// the same options, as a multi-process test does.
func Options(t testing.TB, d store.Dialect) store.Options {
	t.Helper()
	if d == store.SQLite {
		return store.Options{Path: filepath.Join(t.TempDir(), "tandem.db")}
	}
	base := PostgresURL()
	if base == "" {
		if inCI() {
			t.Fatal("storetest: CI is set but TANDEM_TEST_POSTGRES is not: in CI the tests must run on PostgreSQL too")
		}
		sayPostgresSkipped()
		t.Skip(PostgresSkipped)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TANDEM_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Test sessions do not wait for PostgreSQL's WAL flush at each commit: what the tests
	// check is Tandem's behaviour, and a crash test kills Tandem, not the database server
	// (which keeps every committed transaction it acknowledged while it runs). The
	// product's own connections keep PostgreSQL's durable default.
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return store.Options{URL: u.String(), MaxConns: 10}
}

// Strings runs q on db's read pool and returns its one text column, failing the test on
// any error.
func Strings(t testing.TB, ctx context.Context, db *store.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.R().QueryContext(ctx, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// MigrateOnly applies the dialect's migrations that keep keeps, in order and in one
// transaction, and records them as applied: a database as a build without the others
// left it, for a test that then runs db.Migrate to apply them over its rows.
func MigrateOnly(t testing.TB, db *store.DB, keep func(version int) bool) {
	t.Helper()
	ctx := context.Background()
	ms, err := store.Migrations(db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
			return err
		}
		for _, m := range ms {
			if !keep(m.Version) {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)`, m.Version, m.Name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
