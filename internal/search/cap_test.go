package search

import (
	"cmp"
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

// withCap returns s with a count cap of n, so that a few hundred generated tickets
// exercise what a million do with CountCap (and with driveLimit at 4n and probeLimit at
// 3n, so that some filters choose the candidates and others do not, and PostgreSQL
// reads some words whole and walks others; on SQLite, index ranges of at most 8 rowids,
// so that a batch of candidates takes several).
func withCap(s Searcher, n int) Searcher {
	switch v := s.(type) {
	case *sqliteSearcher:
		v.cap, v.drive, v.probe = n, 4*n, 3*n
		v.text = sqliteText{gap: 8}
	case *postgresSearcher:
		v.cap, v.drive, v.probe, v.pairs = n, 4*n, 3*n, 6*n
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
			db, s, r, a := cappedWorld(t, d, 2, 150, capN)
			now := a.now
			actors := a.actors()
			capped := 0
			defer func() { t.Logf("%d queries, %d over the cap", queries, capped) }()
			for i := range queries {
				text := a.randomQuery(r)
				req := Request{Account: a.acct, Actor: pick(r, actors), Now: now, Limit: 1000, Count: true,
					SortBy: pick(r, []string{"", "id", "created_at", "updated_at", "priority", "status"}), Desc: r.IntN(2) == 0}
				if checkCapped(t, db, s, a, r, i, text, req, capN) {
					capped++
				}
			}
		})
	}
}

// TestSearchCapMultiWord checks searches with several text terms (common words
// together, a common word with a rare one, subject: with a word, words with negated
// words and with filters) against the reference with a cap of 12, as
// TestSearchCapMatchesBruteForce does, in an account where most of them match more
// than the cap. SQLite reads the index in ranges of at most 8 rowids, so a batch of
// candidates takes many ranges.
func TestSearchCapMultiWord(t *testing.T) {
	const capN = 12
	queries := []string{
		"printer error", "error printer", "printer error refund", "print* error", "printer err*",
		`"printer error" refund`, "printer café", "subject:printer error", "error subject:printer",
		"description:login printer", "subject:printer subject:error", "printer -error", "printer -error -login",
		"printer error status<solved", "printer error -status:closed", "printer login tags:vip",
		"printer error priority>=normal", "printer error assignee:none", "login password -tags:vip",
		"printer error order_by:created sort:asc", "type:ticket printer error", "printer error created>3months",
	}
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db, s, r, a := cappedWorld(t, d, 3, 200, capN)
			now := a.now
			actors := a.actors()
			capped, searches := 0, 0
			for i, text := range queries {
				// The first actor is an admin; under -race, one searcher a query.
				as := []ticket.Actor{actors[0], pick(r, actors)}
				if raceEnabled || testing.Short() {
					as = as[i%2 : i%2+1]
				}
				for _, actor := range as {
					searches++
					req := Request{Account: a.acct, Actor: actor, Now: now, Limit: 1000, Count: true,
						SortBy: pick(r, []string{"", "id", "created_at", "updated_at", "priority", "status"}), Desc: r.IntN(2) == 0}
					if checkCapped(t, db, s, a, r, i, text, req, capN) {
						capped++
					}
				}
			}
			t.Logf("%d searches, %d over the cap", searches, capped)
			if capped < searches/3 {
				t.Fatalf("only %d of %d searches over the cap: the test no longer tests capped walks", capped, searches)
			}
		})
	}
}

// cappedWorld builds two accounts, acme with n tickets (changed after writing) and
// globex with 60, and returns a searcher of acme's world capped at capN.
func cappedWorld(t *testing.T, d store.Dialect, stream uint64, n, capN int) (*store.DB, Searcher, *rand.Rand, *world) {
	t.Helper()
	db := storetest.Open(t, d)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, stream))
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	a := newWorld(r, "acme", n, now)
	b := newWorld(r, "globex", 60, now)
	build(t, db, r, a, b)
	mutate(t, db, r, a)
	return db, withCap(New(db), capN), r, a
}

// checkCapped runs the query text as req (its Query set here) on s, whose cap is capN,
// and checks the answer against the reference of world a; it reports whether more than
// capN records match.
func checkCapped(t *testing.T, db *store.DB, s Searcher, a *world, r *rand.Rand, i int, text string, req Request, capN int) bool {
	t.Helper()
	ctx := context.Background()
	q, err := Parse(text)
	if err != nil {
		t.Fatalf("generated query %q does not parse: %v", text, err)
	}
	req.Query = q
	want, werr := a.expect(req)
	res, err := s.Search(ctx, db.R(), req)
	if werr != nil || err != nil {
		if werr == nil || err == nil || werr.Error() != err.Error() {
			t.Fatalf("query %d %q: error %v, reference error %v", i, text, err, werr)
		}
		return false
	}
	if len(want) <= capN {
		if res.Count != len(want) || res.Capped || !slices.Equal(res.Hits, want) {
			t.Fatalf("query %q (%d matches, under the cap): got count %d capped %v hits %v, want %v", text, len(want), res.Count, res.Capped, brief(res.Hits), brief(want))
		}
		return false
	}
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
	return true
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

// TestSearchCapEveryActor runs common words, alone and with tags (which a walk checks
// on each ticket it reaches, on SQLite) or another word, as every searcher of the world:
// admins, agents restricted in each way and end users, whose searches read the tickets
// they may see when those are few (driveLimit) rather than walk the word. Each answer is
// checked against the reference as in TestSearchCapMatchesBruteForce, and each hit must
// be a ticket of the searcher's account that the searcher may see.
func TestSearchCapEveryActor(t *testing.T) {
	const capN = 12
	queries := []string{"printer", "error", "printer tags:vip", "printer -tags:vip", "error tags:vip tags:refund",
		"printer tags:vip -tags:beta", "printer error", "subject:printer tags:hard*", "error status<solved tags:vip"}
	if raceEnabled || testing.Short() {
		queries = queries[:5]
	}
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db, s, r, a := cappedWorld(t, d, 4, 200, capN)
			for i, text := range queries {
				for _, actor := range a.actors() {
					req := Request{Account: a.acct, Actor: actor, Now: a.now, Limit: 1000, Count: true, Desc: true}
					checkCapped(t, db, s, a, r, i, text, req, capN)
					q, _ := Parse(text)
					req.Query = q
					res, err := s.Search(context.Background(), db.R(), req)
					if err != nil {
						t.Fatal(err)
					}
					for _, h := range res.Hits {
						i := slices.IndexFunc(a.tickets, func(tk *refTicket) bool { return tk.id == h.ID })
						if i < 0 || !a.visible(a.tickets[i], actor) {
							t.Fatalf("%q as %s/%s (user %d) finds ticket %d, which is not one of the account's it may see", text, actor.Role, actor.Restriction, actor.UserID, h.ID)
						}
					}
				}
			}
		})
	}
}

// TestSearchTagCount checks the count that chooses between walking a text search's
// matches and reading the tickets its filters match (countFilters): on SQLite, with a
// tag among the filters, it reads that tag's tickets; it must count what countUpTo
// counts, for every searcher, and the searches must still match the reference.
func TestSearchTagCount(t *testing.T) {
	const capN = 12
	queries := []string{
		"printer tags:vip", "printer tags:refund status<solved", `error tags:"vip refund"`, "login tags:beta assignee:none",
		"printer tags:vip -tags:refund", "printer tags:vip tags:beta", "printer tags:vip*", "printer tags:none", "printer -tags:vip",
		"subject:printer tags:hardware", `"printer error" tags:vip`, "printer error tags:urgent-ish", "printer tags:nosuchtag",
	}
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db, s, r, a := cappedWorld(t, d, 4, 200, capN)
			// A tag is on about 40 of the 200 tickets: some counts stop at drive, others
			// end below it.
			e := engineOf(s)
			e.drive = 25
			ctx := context.Background()
			stopped, under := 0, 0
			defer func() {
				if !t.Failed() && (stopped == 0 || under == 0) {
					t.Errorf("%d counts stopped at the limit, %d under it: the test no longer tests both", stopped, under)
				}
			}()
			for i, text := range queries {
				q, err := Parse(text)
				if err != nil {
					t.Fatal(err)
				}
				for _, actor := range a.actors() {
					req := Request{Account: a.acct, Actor: actor, Now: a.now, Query: q, perTicket: true}
					p, err := e.compile(ctx, db.R(), Tickets, req, "")
					if err != nil {
						t.Fatal(err)
					}
					got, err := e.countFilters(ctx, db.R(), p, req)
					if err != nil {
						t.Fatalf("%q: %v", text, err)
					}
					want, err := countUpTo(ctx, db.R(), p, e.drive)
					if err != nil {
						t.Fatal(err)
					}
					if got != want {
						t.Fatalf("%q as %s/%s: countFilters %d, countUpTo %d", text, actor.Role, actor.Restriction, got, want)
					}
					if got == e.drive {
						stopped++
					} else {
						under++
					}
				}
				req := Request{Account: a.acct, Actor: a.actors()[0], Now: a.now, Limit: 1000, Count: true}
				checkCapped(t, db, s, a, r, i, text, req, capN)
			}
		})
	}
}

// engineOf is a Searcher's engine.
func engineOf(s Searcher) *engine {
	if v, ok := s.(*sqliteSearcher); ok {
		return &v.engine
	}
	return &s.(*postgresSearcher).engine
}

// TestSearchFewRows checks fewRows (SQLite), which reads a source of a walk whole, in the
// index's order, when it has at most the cap of matches: it must return exactly the
// rows a read of the source through its text index returns (the matches that meet the
// part's conditions), and nothing for a source with more matches, which is walked.
func TestSearchFewRows(t *testing.T) {
	const capN = 12
	db, s, _, a := cappedWorld(t, store.SQLite, 5, 200, capN)
	e := engineOf(s)
	ctx := context.Background()
	queries := []string{"printer", `"printer error"`, "café", "subject:printer", `subject:"printer error"`, "description:login",
		"login tags:vip", "printer status:open", `"error printer" -refund`, "print*", "nosuchword", "printer error"}
	whole, walked := 0, 0
	for _, text := range queries {
		q, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		for _, actor := range a.actors() {
			req := Request{Account: a.acct, Actor: actor, Now: a.now, Query: q, perTicket: true}
			p, err := e.compile(ctx, db.R(), Tickets, req, "")
			if err != nil {
				t.Fatal(err)
			}
			where, args := p.walkCond()
			for si, src := range e.text.walkSources(req.Account, p.walk.Key, p.walk.Words, p.walk.Prefix) {
				got, all, err := e.fewRows(ctx, db.R(), p, si, src, where, args)
				if err != nil {
					t.Fatalf("%q: %v", text, err)
				}
				var n int
				if err := db.R().QueryRowContext(ctx, src.probe, append(append([]any{}, src.probeArgs...), 1000)...).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if all != (n <= capN) && !(si < len(p.walkCounts) && p.walkCounts[si] > capN) {
					t.Fatalf("%q source %d: %d matches, read whole %v", text, si, n, all)
				}
				if !all {
					walked++
					continue
				}
				whole++
				want, err := walkBatch(ctx, db.R(), "SELECT "+src.pos+", t.id, "+p.sort+", "+src.key+", t.rowid FROM "+src.from+" WHERE "+src.match+" AND "+where,
					append(append([]any{}, src.args...), args...))
				if err != nil {
					t.Fatal(err)
				}
				byPos := func(a, b walkRow) int { return cmp.Compare(a.pos, b.pos) }
				slices.SortFunc(got, byPos)
				slices.SortFunc(want, byPos)
				if !slices.Equal(got, want) {
					t.Fatalf("%q as %s/%s, source %d: fewRows %v, want %v", text, actor.Role, actor.Restriction, si, got, want)
				}
			}
		}
	}
	if whole == 0 || walked == 0 {
		t.Fatalf("%d sources read whole, %d walked: the test no longer tests both", whole, walked)
	}
}

// TestSearchManyTagged checks manyTagged (SQLite): a walked search whose only filter is
// one tag, by a caller who sees the whole account, is walked without counting the tag's
// tickets when its index holds at least driveLimit rows of the tag; with a further
// filter, a negated or second tag, or a narrower access, the tickets are counted as
// before. The answers stay the reference's either way.
func TestSearchManyTagged(t *testing.T) {
	const capN = 12
	db, s, r, a := cappedWorld(t, store.SQLite, 5, 200, capN)
	e := engineOf(s)
	e.drive = 25 // a tag is on about 40 of the 200 tickets
	ctx := context.Background()
	var vip int
	if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM ticket_tags WHERE account_id = ? AND tag = 'vip'`, a.acct).Scan(&vip); err != nil {
		t.Fatal(err)
	}
	if vip < e.drive {
		t.Fatalf("%d rows of vip, want at least %d for the test", vip, e.drive)
	}
	var admin ticket.Actor
	for _, x := range a.actors() {
		if x.Role == identity.Admin {
			admin = x
		}
	}
	for _, c := range []struct {
		query string
		many  bool
	}{
		{"printer tags:vip", true},
		{"printer error tags:vip", true},
		{"printer -error tags:vip", true},
		{"printer tags:nosuchtag", false},
		{"printer tags:vip status<solved", false},
		{"printer tags:vip -tags:refund", false},
		{`printer tags:"vip refund"`, false},
		{"printer tags:vip tags:beta", false},
		{"printer -tags:vip", false},
	} {
		q, err := Parse(c.query)
		if err != nil {
			t.Fatal(err)
		}
		for _, actor := range a.actors() {
			req := Request{Account: a.acct, Actor: actor, Now: a.now, Query: q, perTicket: true}
			p, err := e.compile(ctx, db.R(), Tickets, req, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.manyTagged(ctx, db.R(), p, req)
			if err != nil {
				t.Fatal(err)
			}
			if want := c.many && !p.scoped; got != want {
				t.Fatalf("%q as %s/%s: manyTagged %v, want %v", c.query, actor.Role, actor.Restriction, got, want)
			}
		}
		req := Request{Account: a.acct, Actor: admin, Now: a.now, Limit: 1000, Count: true}
		checkCapped(t, db, s, a, r, 0, c.query, req, capN)
	}
}
