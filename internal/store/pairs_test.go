package store_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// pairsByJoin is tandem_pairs as migrations 0045 and 0048 computed it: the pairs index
// of every existing database was built with it, so any newer body must agree with it on
// every vector.
const pairsByJoin = `SELECT array_to_tsvector(COALESCE(array_agg(DISTINCT a.l || ' ' || b.l), '{}'))
	FROM (SELECT u.lexeme AS l, p FROM unnest(?::tsvector) u, unnest(u.positions) p) a
	JOIN (SELECT u.lexeme AS l, p FROM unnest(?::tsvector) u, unnest(u.positions) p) b ON b.p = a.p + 1`

// TestPairsMatchTheJoin checks that tandem_pairs (migration 0057) computes, for vectors
// made as Tandem makes them and for the odd ones (empty, without positions, past the
// last position PostgreSQL stores, where several words share position 16,383), the same
// vector as the body the pair indexes were built with.
func TestPairsMatchTheJoin(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.PostgresSkipped)
	}
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	vectors := map[string]string{
		"empty":           `SELECT ''::tsvector`,
		"no positions":    `SELECT strip(tandem_comment_tsv('printer refund printer'))`,
		"one word":        `SELECT tandem_comment_tsv('refund')`,
		"repeated words":  `SELECT tandem_comment_tsv('the printer, the printer; the refund of the printer')`,
		"ticket":          `SELECT tandem_ticket_tsv('Blender warranty', 'My blender broke: warranty claim #4711, refund please.')`,
		"empty subject":   `SELECT tandem_ticket_tsv('', 'only a description here')`,
		"past 16,383":     `SELECT tandem_comment_tsv((SELECT string_agg('w' || i, ' ') FROM generate_series(1, 16390) i))`,
		"description cut": `SELECT tandem_ticket_tsv((SELECT string_agg('s' || i, ' ') FROM generate_series(1, 16382) i), 'x y z')`,
	}
	for name, q := range vectors {
		var v string
		if err := db.R().QueryRowContext(ctx, q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var want, got string
		if err := db.R().QueryRowContext(ctx, pairsByJoin, v, v).Scan(&want); err != nil {
			t.Fatalf("%s: the join: %v", name, err)
		}
		if err := db.R().QueryRowContext(ctx, `SELECT tandem_pairs(?::tsvector)`, v).Scan(&got); err != nil {
			t.Fatalf("%s: tandem_pairs: %v", name, err)
		}
		if got != want {
			t.Errorf("%s: tandem_pairs = %.200s, the join gives %.200s", name, got, want)
		}
	}
	// Words past position 16,383 share it: the word before pairs with each of them.
	var all bool
	err := db.R().QueryRowContext(ctx, `SELECT tsvector_to_array(tandem_pairs(tandem_comment_tsv((SELECT string_agg('w' || i, ' ') FROM generate_series(1, 16390) i))))
		@> ARRAY['w16382 w16383', 'w16382 w16390']`).Scan(&all)
	if err != nil || !all {
		t.Errorf("pairs of the shared last position: %v, %v", all, err)
	}
}

// TestVectorsMatchTheSQLBodies checks that tandem_ticket_tsv and tandem_comment_tsv
// (PL/pgSQL since migration 0074) compute, for text as users write it and for the odd
// inputs (NULL, empty, punctuation only, other scripts, past the last position), the
// same vectors as the LANGUAGE sql bodies of migration 0004, with which every stored
// vector and its GIN index were computed.
func TestVectorsMatchTheSQLBodies(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.PostgresSkipped)
	}
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	const (
		ticketBody  = `setweight(to_tsvector('simple'::regconfig, regexp_replace(CAST(? AS TEXT), '[^[:alnum:]]+', ' ', 'g')), 'A') || setweight(to_tsvector('simple'::regconfig, regexp_replace(CAST(? AS TEXT), '[^[:alnum:]]+', ' ', 'g')), 'B')`
		commentBody = `to_tsvector('simple'::regconfig, regexp_replace(CAST(? AS TEXT), '[^[:alnum:]]+', ' ', 'g'))`
	)
	long := strings.Repeat("word ", 16390)
	texts := []*string{nil, ptr(""), ptr("!!! --- ???"), ptr("Printer refund, ASAP! Order #4711 (v1.2) bob@example.com"),
		ptr("Mein Drucker druckt nicht: Rückerstattung? ünïcödé, 日本語のテキスト, Ελληνικά"), ptr("it's the printer's fault\tand\nthe blender's"), ptr(long)}
	for i, a := range texts {
		for _, b := range []*string{texts[3], a} {
			var got, want sql.NullString
			if err := db.R().QueryRowContext(ctx, `SELECT CAST(tandem_ticket_tsv(?, ?) AS TEXT), CAST(`+ticketBody+` AS TEXT)`, a, b, a, b).Scan(&got, &want); err != nil {
				t.Fatalf("text %d: %v", i, err)
			}
			if got != want {
				t.Errorf("text %d: tandem_ticket_tsv = %.200v, the SQL body gives %.200v", i, got, want)
			}
		}
		var got, want sql.NullString
		if err := db.R().QueryRowContext(ctx, `SELECT CAST(tandem_comment_tsv(?) AS TEXT), CAST(`+commentBody+` AS TEXT)`, a, a).Scan(&got, &want); err != nil {
			t.Fatalf("text %d: %v", i, err)
		}
		if got != want {
			t.Errorf("text %d: tandem_comment_tsv = %.200v, the SQL body gives %.200v", i, got, want)
		}
	}
}

func ptr(s string) *string { return &s }
