package search

import (
	"context"
	"slices"
	"testing"

	"tandem/internal/store"
	"tandem/internal/ticket"
)

// TestSearchWindowsMatchWalk (SQLite): reading a phrase's matches in windows of FTS5
// rowids, newest first (ftsCursor), gives exactly what the walk of the same source
// gives (engine.windows off: fewRows, then a walk newest first): the same hits in the
// same order, the same count and cap flag, on every page, for the outside suite's kinds
// of query (a common word, two, a common and a rare one, a rare phrase of common words,
// subject:, a status, a tag, a negated word, oldest first), phrases with each of them,
// and random queries, as an admin and another actor, with the cap at 12 and windows
// from 1 rowid wide, so that a few hundred tickets take many windows. The windowed
// answers are also checked against the reference.
func TestSearchWindowsMatchWalk(t *testing.T) {
	const capN = 12
	db, s, r, a := cappedWorld(t, store.SQLite, 8, 300, capN)
	ctx := context.Background()
	walked := withCap(New(db), capN)
	engineOf(walked).windows = false
	queries := []string{"printer", "printer error", `printer "404"`, `"printer error refund"`, `"printer error"`,
		"subject:printer", `subject:"printer error"`, "printer status:open", "printer tags:vip", "printer -error",
		"printer order_by:created_at sort:asc", "print*", `"printer err"*`, "café", "nosuchword", "description:login",
		`"error printer" -refund`, "printer error -login tags:vip", "login password", "subject:printer error",
		`"printer error" status:open`, `"printer error" tags:vip`, `"login password" printer`, `printer -"printer error"`,
		`"printer error" order_by:created_at sort:asc`, `description:"printer error"`, `"printer error" "login password"`}
	spans, pages := []int64{1, 64}, []struct{ offset, limit int }{{0, 1000}, {0, 5}, {10, 5}}
	random := 15
	if raceEnabled || testing.Short() {
		spans, pages, random = spans[:1], pages[1:], 3
	}
	for range random {
		queries = append(queries, a.randomQuery(r))
	}
	const window = " AND rowid >= ? AND rowid < ?"
	count := &countingQ{Queryer: db.R(), n: map[string]int{window: 0}}
	searches, most := 0, 0
	for _, span := range spans {
		engineOf(s).minSpan = span
		for i, text := range queries {
			q, err := Parse(text)
			if err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			// An admin and another actor (restricted agents and end users among them).
			for _, actor := range []ticket.Actor{a.actors()[0], pick(r, a.actors()[1:])} {
				sortBy := pick(r, []string{"", "id", "created_at", "updated_at", "priority", "status"})
				desc := r.IntN(2) == 0
				for _, page := range pages {
					req := Request{Account: a.acct, Actor: actor, Query: q, Now: a.now, Offset: page.offset, Limit: page.limit, Count: true, SortBy: sortBy, Desc: desc}
					searches++
					before := count.n[window]
					got, err := s.Search(ctx, count, req)
					most = max(most, count.n[window]-before)
					want, werr := walked.Search(ctx, db.R(), req)
					if err != nil || werr != nil {
						// A random query may be invalid (a property of no record type).
						if err == nil || werr == nil || err.Error() != werr.Error() {
							t.Fatalf("%q: error %v, walked: %v", text, err, werr)
						}
						continue
					}
					if got.Count != want.Count || got.Capped != want.Capped || got.More != want.More || !slices.Equal(got.Hits, want.Hits) {
						t.Fatalf("%q as %s/%s (windows of at least %d, page %d+%d): count %d capped %v more %v hits %v; walked: count %d capped %v more %v hits %v",
							text, actor.Role, actor.Restriction, span, page.offset, page.limit, got.Count, got.Capped, got.More, brief(got.Hits), want.Count, want.Capped, want.More, brief(want.Hits))
					}
				}
			}
			if span == 1 {
				req := Request{Account: a.acct, Actor: a.actors()[0], Now: a.now, Limit: 1000, Count: true}
				checkCapped(t, db, s, a, r, i, text, req, capN)
			}
		}
	}
	// With windows of one rowid and upwards, searches read many windows.
	if most < 4 {
		t.Fatalf("at most %d window statements in a search: the test no longer tests windows", most)
	}
	t.Logf("%d searches, %d window statements, at most %d in one search", searches, count.n[window], most)
}
