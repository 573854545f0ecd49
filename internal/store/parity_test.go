package store_test

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// dialectOnly is a schema object that exists on one dialect only, on purpose.
type dialectOnly struct {
	dialect store.Dialect
	// object is "table", "table.column" or "table.index:NAME"; path.Match patterns allowed.
	object string
	why    string
}

// dialectOnlyObjects is the whole list of deliberate differences between the SQLite and
// the PostgreSQL schema. Anything else that differs is drift. Sequences (PostgreSQL) and
// SQLite's own sqlite_* tables are not compared at all: they are how each database
// numbers rows and keeps statistics, not part of Tandem's schema. Indexes that back a
// PRIMARY KEY or UNIQUE constraint are compared through their columns, not by name: each
// database names them its own way (accounts_pkey, sqlite_autoindex_accounts_1).
var dialectOnlyObjects = []dialectOnly{
	{store.SQLite, "tickets_fts", "full-text search: SQLite's FTS5 index of ticket subjects and descriptions (PostgreSQL: tickets.search_tsv)"},
	{store.SQLite, "tickets_fts_*", "FTS5's shadow tables, which hold tickets_fts's tokens"},
	{store.SQLite, "ticket_comments_fts", "full-text search: SQLite's FTS5 index of comment bodies (PostgreSQL: ticket_comments.search_tsv)"},
	{store.SQLite, "ticket_comments_fts_*", "FTS5's shadow tables, which hold ticket_comments_fts's tokens"},
	{store.SQLite, "fts_pending", "rows waiting to be full-text indexed when their transaction commits (SQLite; migration 0029, internal/store/ftsqueue.go)"},
	{store.SQLite, "tickets.index:tickets_report_created", "PostgreSQL's tickets_created holds live tickets only and carries this index's other columns (INCLUDE, which SQLite lacks; migration 0066 there)"},
	{store.Postgres, "tickets.index:tickets_status", "SQLite's tickets_live_status carries this index's updated_at: its entries deduplicate nothing, where PostgreSQL's two-key partial index is five times smaller than three keys (migration 0067 on SQLite, 0066 on PostgreSQL)"},
	{store.SQLite, "ticket_comments.index:ticket_comments_fts_key", "maps FTS5 comment matches to tickets without reading comment rows; PostgreSQL's GIN index sits on the row itself"},
	{store.Postgres, "tickets.search_tsv", "full-text search: the stored tsvector PostgreSQL searches (SQLite: tickets_fts)"},
	{store.Postgres, "ticket_comments.search_tsv", "full-text search: the stored tsvector of comment bodies (SQLite: ticket_comments_fts)"},
	{store.Postgres, "tickets.index:tickets_search", "the GIN index over tickets.search_tsv"},
	{store.Postgres, "ticket_comments.index:ticket_comments_search", "the GIN index over ticket_comments.search_tsv"},
	{store.Postgres, "tickets.subject_tsv", "subject: searches read a vector of the subject alone (migration 0034; SQLite's FTS5 has a subject column)"},
	{store.Postgres, "tickets.index:tickets_search_subject", "the GIN index over tickets.subject_tsv"},
	{store.Postgres, "ticket_comments.index:ticket_comments_account", "search walks an account's comments newest first (migration 0034); SQLite walks FTS5 rowids instead"},
	{store.Postgres, "live_events.xid", "the recording transaction's id: PostgreSQL may commit events out of id order (migration 0039, internal/live); SQLite commits in id order"},
	{store.Postgres, "live_events.snap", "the snapshot the recording transaction saw, which tells what may commit after the event (migration 0039, internal/live)"},
	{store.Postgres, "tickets.index:tickets_search_pairs", "phrases: a GIN index of the neighbouring word pairs of tickets.search_tsv (migration 0045); FTS5 keeps positions in its index"},
	{store.Postgres, "ticket_comments.index:ticket_comments_search_pairs", "phrases: a GIN index of the neighbouring word pairs of ticket_comments.search_tsv (migration 0045)"},
	{store.Postgres, "tickets.index:tickets_search_walk", "search walks a common word's tickets newest first as an index-only scan of their vectors and the columns filters read (migrations 0049, 0059); SQLite walks FTS5 rowids instead"},
	{store.Postgres, "tickets.index:tickets_subject_walk", "subject: walks tickets newest first as an index-only scan of their subjects' vectors and the columns filters read (migrations 0049, 0059)"},
	{store.Postgres, "report_daily_deltas", "report count differences a PostgreSQL write inserts (one row a write since migration 0084) instead of updating the account's shared total rows, folded into report_daily_shards in the background (migration 0064, report.Fold); SQLite has one writer and updates report_daily"},
	{store.Postgres, "report_daily_shards", "report_daily's totals on PostgreSQL (migration 0038; since migration 0064 all in shard 0, written by the fold and Rebuild), read with report_daily_deltas (report.DailyCounts); inserts into report_daily go there; SQLite has one writer"},
	{store.Postgres, "live_ticket_deltas", "live ticket count differences a PostgreSQL create or delete inserts instead of updating the account row, folded into accounts.live_tickets now and then (migration 0044, ticket.LiveCount); SQLite has one writer and updates the row"},
}

// schema is what the parity test compares: tables, their columns, and their indexes.
type schema struct {
	tables map[string]*tableShape
}

type tableShape struct {
	columns map[string]column
	indexes map[string]bool // explicit index name -> unique
	uniques map[string]bool // column lists that a PRIMARY KEY or UNIQUE constraint keeps unique
}

type column struct{ notNull bool }

// objects lists every compared object in the allow-list's notation, with a description.
func (s schema) objects() map[string]string {
	out := map[string]string{}
	for tn, tb := range s.tables {
		out[tn] = "table"
		for cn, c := range tb.columns {
			out[tn+"."+cn] = fmt.Sprintf("column (not null: %v)", c.notNull)
		}
		for in, u := range tb.indexes {
			out[tn+".index:"+in] = fmt.Sprintf("index (unique: %v)", u)
		}
		for cols := range tb.uniques {
			out[tn+".unique:"+cols] = "primary key or unique constraint"
		}
	}
	return out
}

// TestMigrationParity migrates a fresh SQLite and a fresh PostgreSQL database and compares
// what the migrations made: the same tables, the same columns (and NOT NULL) per table,
// the same index names (and uniqueness), the same primary keys and UNIQUE constraints,
// apart from dialectOnlyObjects. It is generic: new migrations are compared as they come.
func TestMigrationParity(t *testing.T) {
	ctx := context.Background()
	lite := readSQLiteSchema(t, ctx, storetest.Open(t, store.SQLite))
	pg := readPostgresSchema(t, ctx, storetest.Open(t, store.Postgres)) // skips, saying why, without PostgreSQL
	if len(lite.tables) == 0 || len(pg.tables) == 0 {
		t.Fatalf("read no tables (sqlite %d, postgres %d)", len(lite.tables), len(pg.tables))
	}
	used := map[int]bool{}
	allowed := func(d store.Dialect, obj string) bool {
		for i, a := range dialectOnlyObjects {
			if a.dialect != d {
				continue
			}
			if ok, _ := path.Match(a.object, obj); ok {
				used[i] = true
				return true
			}
			// A dialect-only table brings its columns, indexes and constraints with it.
			if ok, _ := path.Match(a.object, strings.SplitN(obj, ".", 2)[0]); ok && strings.Contains(obj, ".") {
				used[i] = true
				return true
			}
		}
		return false
	}
	lo, po := lite.objects(), pg.objects()
	t.Logf("compared %d SQLite and %d PostgreSQL objects (tables, columns, indexes, keys)", len(lo), len(po))
	var drift []string
	for _, side := range []struct {
		d           store.Dialect
		mine, other map[string]string
	}{{store.SQLite, lo, po}, {store.Postgres, po, lo}} {
		for obj, desc := range side.mine {
			other, ok := side.other[obj]
			switch {
			case !ok && !allowed(side.d, obj):
				drift = append(drift, fmt.Sprintf("%s only on %s: %s", obj, side.d, desc))
			case ok && side.d == store.SQLite && desc != other:
				drift = append(drift, fmt.Sprintf("%s differs: sqlite %s, postgres %s", obj, desc, other))
			}
		}
	}
	slices.Sort(drift)
	for _, d := range drift {
		t.Error(d)
	}
	if len(drift) > 0 {
		t.Log("the two migration trees (internal/store/migrations/{sqlite,postgres}) must make the same schema; a deliberate difference belongs in dialectOnlyObjects with its reason")
	}
	for i, a := range dialectOnlyObjects {
		if !used[i] {
			t.Errorf("dialectOnlyObjects: %s %q matches nothing any more; remove it", a.dialect, a.object)
		}
	}
}

func readSQLiteSchema(t *testing.T, ctx context.Context, db *store.DB) schema {
	t.Helper()
	s := schema{tables: map[string]*tableShape{}}
	for _, name := range storetest.Strings(t, ctx, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`) {
		s.tables[name] = &tableShape{columns: map[string]column{}, indexes: map[string]bool{}, uniques: map[string]bool{}}
	}
	for name, tb := range s.tables {
		rows, err := db.R().QueryContext(ctx, `SELECT name, "notnull", pk FROM pragma_table_info(?)`, name)
		if err != nil {
			t.Fatal(err)
		}
		var pk []string
		for rows.Next() {
			var col string
			var notNull bool
			var pkPos int
			if err := rows.Scan(&col, &notNull, &pkPos); err != nil {
				t.Fatal(err)
			}
			// A PRIMARY KEY column is never NULL on PostgreSQL; on SQLite an INTEGER PRIMARY
			// KEY is the rowid, never NULL either, though table_info says nothing.
			tb.columns[col] = column{notNull: notNull || pkPos > 0}
			if pkPos > 0 {
				pk = append(pk, fmt.Sprintf("%d:%s", pkPos, col))
			}
		}
		closeRows(t, rows)
		if len(pk) > 0 {
			slices.Sort(pk)
			for i := range pk {
				_, pk[i], _ = strings.Cut(pk[i], ":")
			}
			tb.uniques[strings.Join(pk, ",")] = true
		}
		rows, err = db.R().QueryContext(ctx, `SELECT name, "unique", origin FROM pragma_index_list(?)`, name)
		if err != nil {
			t.Fatal(err)
		}
		var constraintIndexes []string
		for rows.Next() {
			var idx, origin string
			var unique bool
			if err := rows.Scan(&idx, &unique, &origin); err != nil {
				t.Fatal(err)
			}
			switch origin {
			case "c": // CREATE INDEX
				tb.indexes[idx] = unique
			case "u": // a UNIQUE constraint (a primary key is read from table_info)
				constraintIndexes = append(constraintIndexes, idx)
			}
		}
		closeRows(t, rows)
		for _, idx := range constraintIndexes {
			cols := storetest.Strings(t, ctx, db, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, idx)
			tb.uniques[strings.Join(cols, ",")] = true
		}
	}
	return s
}

func readPostgresSchema(t *testing.T, ctx context.Context, db *store.DB) schema {
	t.Helper()
	s := schema{tables: map[string]*tableShape{}}
	for _, name := range storetest.Strings(t, ctx, db, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`) {
		s.tables[name] = &tableShape{columns: map[string]column{}, indexes: map[string]bool{}, uniques: map[string]bool{}}
	}
	rows, err := db.R().QueryContext(ctx, `SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tn, cn, nullable string
		if err := rows.Scan(&tn, &cn, &nullable); err != nil {
			t.Fatal(err)
		}
		if tb := s.tables[tn]; tb != nil { // views have columns too
			tb.columns[cn] = column{notNull: nullable == "NO"}
		}
	}
	closeRows(t, rows)
	// Every index of the schema, with whether a PRIMARY KEY or UNIQUE constraint owns it
	// and the columns it covers, in order.
	rows, err = db.R().QueryContext(ctx, `
		SELECT t.relname, i.relname, x.indisunique,
		       EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype IN ('p', 'u')),
		       COALESCE((SELECT string_agg(a.attname, ',' ORDER BY k.n)
		                 FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
		                 JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum), '')
		FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class t ON t.oid = x.indrelid
		WHERE t.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tn, idx, cols string
		var unique, constraint bool
		if err := rows.Scan(&tn, &idx, &unique, &constraint, &cols); err != nil {
			t.Fatal(err)
		}
		tb := s.tables[tn]
		if tb == nil {
			continue
		}
		if constraint {
			tb.uniques[cols] = true
		} else {
			tb.indexes[idx] = unique
		}
	}
	closeRows(t, rows)
	return s
}

func closeRows(t *testing.T, rows interface {
	Err() error
	Close() error
}) {
	t.Helper()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
}
