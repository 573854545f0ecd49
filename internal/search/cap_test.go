package search

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"tandem/internal/store/storetest"
)

// withCap returns s with a count cap of n, so that a few hundred generated tickets
// exercise what a million do with CountCap.
func withCap(s Searcher, n int) Searcher {
	switch v := s.(type) {
	case *sqliteSearcher:
		v.cap = n
	case *postgresSearcher:
		v.cap = n
	}
	return s
}

// TestSearchCapMatchesBruteForce runs random queries as random searchers (two accounts,
// restricted agents and end users among them) against a searcher whose cap is 12 and
// checks the capped answers against the reference: up to the cap, exactly the
// reference; beyond it, a count of the cap flagged Capped and hits that are the
// reference's (never another account's or a ticket the searcher may not see) in the
// reference's order, a text search's exactly the cap of them, pages that are slices of
// the first page, and with All every match again.
func TestSearchCapMatchesBruteForce(t *testing.T) {
	const capN = 12
	queries := 120
	if testing.Short() || raceEnabled {
		queries = 40
	}
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, d)
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			r := rand.New(rand.NewPCG(seed, 2))
			now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
			a := newWorld(r, "acme", 150, now)
			b := newWorld(r, "globex", 60, now)
			build(t, db, r, a, b)
			mutate(t, db, r, a)
			s := withCap(New(db), capN)
			ctx := context.Background()
			actors := a.actors()
			capped := 0
			defer func() { t.Logf("%d queries, %d over the cap", queries, capped) }()
			for i := range queries {
				text := a.randomQuery(r)
				q, err := Parse(text)
				if err != nil {
					t.Fatalf("generated query %q does not parse: %v", text, err)
				}
				req := Request{Account: a.acct, Actor: pick(r, actors), Query: q, Now: now, Limit: 1000, Count: true,
					SortBy: pick(r, []string{"", "id", "created_at", "updated_at", "priority", "status"}), Desc: r.IntN(2) == 0}
				want, werr := a.expect(req)
				res, err := s.Search(ctx, db.R(), req)
				if werr != nil || err != nil {
					if werr == nil || err == nil || werr.Error() != err.Error() {
						t.Fatalf("query %d %q: error %v, reference error %v", i, text, err, werr)
					}
					continue
				}
				if len(want) <= capN {
					if res.Count != len(want) || res.Capped || !slices.Equal(res.Hits, want) {
						t.Fatalf("query %q (%d matches, under the cap): got count %d capped %v hits %v, want %v", text, len(want), res.Count, res.Capped, brief(res.Hits), brief(want))
					}
					continue
				}
				capped++
				if res.Count != capN || !res.Capped {
					t.Fatalf("query %q (%d matches): count %d capped %v, want %d capped", text, len(want), res.Count, res.Capped, capN)
				}
				if !subsequence(res.Hits, want) {
					t.Fatalf("query %q as %s/%s: hits %v are not the reference's in its order %v\nextra %v", text, req.Actor.Role, req.Actor.Restriction, brief(res.Hits), brief(want), brief(minus(res.Hits, want)))
				}
				ks, _ := KindsFor(q, "")
				if len(ks) == 1 && ks[0] == Tickets && driver(q.Terms) >= 0 && len(res.Hits) != capN {
					t.Fatalf("text query %q: %d hits, want the cap of %d", text, len(res.Hits), capN)
				}
				// Pages of the capped search are slices of its whole.
				page := req
				page.Count, page.Limit = false, 1+r.IntN(4)
				var got []Hit
				for page.Offset = 0; page.Offset <= len(res.Hits); page.Offset += page.Limit {
					p, err := s.Search(ctx, db.R(), page)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, p.Hits...)
					if !p.More {
						break
					}
				}
				if !slices.Equal(got[:min(len(got), len(res.Hits))], res.Hits) {
					t.Fatalf("query %q in pages of %d: %v, want %v", text, page.Limit, brief(got), brief(res.Hits))
				}
				// All reads every match.
				all := req
				all.All = true
				res, err = s.Search(ctx, db.R(), all)
				if err != nil {
					t.Fatal(err)
				}
				if res.Count != len(want) || res.Capped || !slices.Equal(res.Hits, want) {
					t.Fatalf("query %q with All: count %d capped %v hits %v, want %d: %v", text, res.Count, res.Capped, brief(res.Hits), len(want), brief(want))
				}
			}
		})
	}
}

// subsequence reports whether every hit of sub is in all, in the same order.
func subsequence(sub, all []Hit) bool {
	i := 0
	for _, h := range sub {
		for i < len(all) && all[i] != h {
			i++
		}
		if i == len(all) {
			return false
		}
		i++
	}
	return true
}
