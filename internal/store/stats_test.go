package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"tandem/internal/store"
)

// A fresh database's first open analyzes its nearly empty tables; their statistics
// (one row each) made SQLite join two tables by scanning the inner one for each row of
// the outer, the sender lookup of inbound mail among them. They are dropped, so the
// join is planned on its indexes; statistics of tables of a real size stay.
func TestSmallTablesKeepNoPlannerStatistics(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stats.db")
	db, err := store.OpenNoMigrate(store.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Write(ctx, func(tx *store.Tx) error {
		for _, q := range []string{
			`CREATE TABLE people (id INTEGER PRIMARY KEY, acct INTEGER NOT NULL, name TEXT NOT NULL)`,
			`CREATE INDEX people_name ON people(acct, name)`,
			`CREATE TABLE idents (acct INTEGER NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL, person INTEGER NOT NULL)`,
			`CREATE UNIQUE INDEX idents_value ON idents(acct, type, value)`,
			`CREATE INDEX idents_person ON idents(acct, person)`,
			`CREATE TABLE big (id INTEGER PRIMARY KEY, acct INTEGER NOT NULL, due INTEGER NOT NULL)`,
			`CREATE INDEX big_acct ON big(acct, id)`,
			`CREATE INDEX big_due ON big(acct, due) WHERE due > 0`,
			`WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 500) INSERT INTO big (id, acct, due) SELECT v, 1, 0 FROM n`,
			`ANALYZE big`,
			`INSERT INTO people (id, acct, name) VALUES (1, 1, 'Admin')`,
			`INSERT INTO idents (acct, type, value, person) VALUES (1, 'email', 'admin@acme.test', 1)`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Opening analyzes the tables (never analyzed): one row each.
	db, err = store.OpenNoMigrate(store.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	if n := statRows(t, db); n != 0 {
		t.Errorf("after opening: %d rows of statistics of tables of one row, want none", n)
	}
	// A table of 500 rows keeps its statistics, though its partial index is empty.
	var big int
	if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'big'`).Scan(&big); err != nil {
		t.Fatal(err)
	}
	if big != 2 {
		t.Errorf("after opening: %d rows of statistics of big (500 rows, an empty partial index), want its 2", big)
	}
	plan := queryPlan(t, db, `SELECT p.name FROM people p JOIN idents i ON i.acct = p.acct AND i.person = p.id WHERE i.acct = 1 AND i.type = 'email' AND i.value = 'x@y.test'`)
	if strings.Contains(plan, "SCAN") || !strings.Contains(plan, "idents_value") {
		t.Errorf("the join is planned as\n%s\nwant a search of idents_value, no scan", plan)
	}

	// Once they have grown, the periodic Optimize analyzes them, and they keep their
	// statistics.
	err = db.Write(ctx, func(tx *store.Tx) error {
		for _, q := range []string{
			`WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 1500) INSERT INTO people (id, acct, name) SELECT v + 1, 1, 'P' || v FROM n`,
			`INSERT INTO idents (acct, type, value, person) SELECT 1, 'email', 'p' || id || '@acme.test', id FROM people WHERE id > 1`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if n := statRows(t, db); n == 0 {
		t.Error("after the tables grew to 1,501 rows and Optimize: no statistics, want them analyzed and kept")
	}
}

func statRows(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	err := db.R().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl IN ('people', 'idents')`).Scan(&n)
	if err != nil && !strings.Contains(err.Error(), "no such table") {
		t.Fatal(err)
	}
	return n
}

func queryPlan(t *testing.T, db *store.DB, q string) string {
	t.Helper()
	rows, err := db.R().QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
