package search

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// TestSearchMigrationIndexesExistingRows: tickets, comments and custom field values
// written before migrations 0004 and 0010 are searchable once they have run, and
// (SQLite) VACUUM leaves the index valid.
func TestSearchMigrationIndexesExistingRows(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db, err := store.OpenNoMigrate(storetest.Options(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// Every migration but the search indexes (and 0029, which moves their
			// indexing to commit time, 0034, which adds PostgreSQL's field vectors
			// with 0004's function, 0045, which indexes the word pairs of 0004's
			// vectors, 0048, which replaces 0045's function, 0049 and 0059, which
			// index the vectors for walks, 0057, which replaces 0048's function, and
			// 0066, which replaces 0004's tickets_created and drops 0034's
			// description index, PostgreSQL's 0070, which drops 0034's description
			// vector, SQLite's 0072, which configures 0004's FTS5 indexes, and
			// PostgreSQL's 0074, which replaces 0004's vector functions), recorded as
			// applied.
			storetest.MigrateOnly(t, db, func(v int) bool {
				return !slices.Contains([]int{4, 10, 29, 34, 45, 48, 49, 57, 59, 66, 70, 72, 74}, v)
			})
			r := rand.New(rand.NewPCG(1, 2))
			now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
			w := newWorld(r, "acme", 60, now)
			build(t, db, r, w)
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			check := func() {
				t.Helper()
				checkIndex(t, db)
				s := New(db)
				admin := ticket.Actor{UserID: 1, Role: identity.Admin}
				for _, text := range slices.Concat(vocabulary[:12], []string{`"printer printing"`, "subject:net*", "description:refund*",
					"custom_field_9001:gold", "custom_field_9001:blue", "custom_field_9001:true", "custom_field_9002:gold"}) {
					q, err := Parse(text)
					if err != nil {
						t.Fatal(err)
					}
					req := Request{Account: w.acct, Actor: admin, Query: q, Kind: Tickets, Now: now, Limit: 1000, Count: true}
					want, _ := w.expect(req)
					res, err := s.Search(ctx, db.R(), req)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(res.Hits, want) {
						t.Fatalf("%q after migration: %v, want %v", text, brief(res.Hits), brief(want))
					}
				}
			}
			check()
			if d == store.SQLite {
				// tickets_fts points at tickets by rowid; VACUUM must keep them.
				mutate(t, db, r, w)
				if _, err := db.R().ExecContext(ctx, `VACUUM`); err != nil {
					t.Fatal(err)
				}
				check()
			}
		})
	}
}

// TestSearchSQLInjection: the query text never reaches SQL or FTS syntax.
func TestSearchSQLInjection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := rand.New(rand.NewPCG(3, 4))
		now := time.Now()
		w := newWorld(r, "acme", 20, now)
		build(t, db, r, w)
		s := New(db)
		admin := ticket.Actor{UserID: 1, Role: identity.Admin}
		for _, text := range []string{
			`'; DROP TABLE tickets; --`, `" OR 1=1 --`, `printer" OR "fire`, `NEAR(printer fire)`, `printer AND fire`, `{subject}: printer`,
			`subject:"x" OR subject:"y"`, `tags:'vip'`, `tags:%`, `tags:_ip`, `organization:%`, `assignee:"a' OR '1'='1"`, `custom_field_1:' OR 1=1`,
			`email:%@%`, `name:"' OR 1=1 --"`, `printer:*`, `\`, `'`, `:*`, `a & b | c`, `!printer`, `printer <-> fire`, `$1`, `??`,
		} {
			q, err := Parse(text)
			if err != nil {
				continue
			}
			for _, k := range []Kind{"", Tickets, Users, Organizations, Groups} {
				req := Request{Account: w.acct, Actor: admin, Query: q, Kind: k, Now: now, Limit: 100, Count: true}
				want, werr := w.expect(req)
				res, err := s.Search(ctx, db.R(), req)
				if werr != nil {
					continue
				}
				if err != nil {
					t.Fatalf("%q (%s): %v", text, k, err)
				}
				if !slices.Equal(res.Hits, want) {
					t.Fatalf("%q (%s): %v, want %v", text, k, brief(res.Hits), brief(want))
				}
			}
		}
		var n int
		if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets`).Scan(&n); err != nil || n != 20 {
			t.Fatalf("tickets after hostile queries: %d, %v", n, err)
		}
	})
}
