package search

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"tandem/internal/store"
)

// A text search at a million tickets may match half of them; sorting and counting every
// match took seconds. Instead a ticket search with text walks the matches of one text
// term newest first, in the full-text index's own order (FTS5 rowids, or the ids of
// tickets and comments on PostgreSQL), checking each candidate ticket against the rest
// of the query, and stops at the CountCap+1th matching ticket. So:
//
//   - up to CountCap matches, the search returns and counts every one, exactly;
//   - beyond, it returns the CountCap tickets whose matching text was written last (the
//     newest ticket subjects and descriptions and the newest comments, by the time each
//     row was written) and reports Count = CountCap with Capped;
//
// and in both cases orders them by the requested sort (updated_at by default). The
// export (Request.All) reads every match instead.

// probeLimit bounds the matches counted to choose the term to walk.
const probeLimit = 2000

// walkTerm chooses the text term a ticket search walks: of its positive text terms, the
// one with the fewest matches (counted up to probeLimit, in the text index alone), the
// first on a tie; -1 when there is none. The others are checked on each candidate.
func (e *engine) walkTerm(ctx context.Context, q store.Queryer, req Request) (int, error) {
	var cands []int
	for i, t := range req.Query.Terms {
		if !t.Neg && isText(t) {
			cands = append(cands, i)
		}
	}
	if len(cands) <= 1 {
		if len(cands) == 0 {
			return -1, nil
		}
		return cands[0], nil
	}
	best, bestN := -1, 0
	for _, i := range cands {
		t := req.Query.Terms[i]
		n := 0
		for _, src := range e.text.walkSources(req.Account, t.Key, t.Words, t.Prefix) {
			var m int
			if err := q.QueryRowContext(ctx, src.probe, append(append([]any{}, src.probeArgs...), probeLimit)...).Scan(&m); err != nil {
				return -1, fmt.Errorf("search: probe: %w", err)
			}
			n += m
		}
		if best < 0 || n < bestN {
			best, bestN = i, n
		}
	}
	return best, nil
}

// walk returns a walked part's hits (at most e.cap, in no order) and whether more
// than e.cap tickets match.
func (e *engine) walk(ctx context.Context, q store.Queryer, p part, req Request) ([]ranked, bool, error) {
	t := p.walk
	type cand struct{ sort, key int64 }
	found := map[int64]cand{}
	over := false
	for _, src := range e.text.walkSources(req.Account, t.Key, t.Words, t.Prefix) {
		query := fmt.Sprintf("SELECT %s, t.id, %s, %s FROM %s WHERE %s AND %s < ? AND %s ORDER BY %s DESC LIMIT ?",
			src.pos, p.sort, src.key, src.from, src.match, src.pos, p.where, src.pos)
		seen := map[int64]bool{}
		pos := int64(math.MaxInt64)
	batches:
		for len(seen) <= e.cap {
			// Batches of rows, continued after the last position: a comment search reads
			// several rows for one ticket, and PostgreSQL plans a walk for a LIMIT.
			batch := 2*(e.cap+1-len(seen)) + 64
			args := append(append(append([]any{}, src.args...), pos), p.args...)
			rows, err := q.QueryContext(ctx, query, append(args, batch)...)
			if err != nil {
				return nil, false, fmt.Errorf("search: %w", err)
			}
			n := 0
			for rows.Next() {
				var id int64
				var c cand
				if err := rows.Scan(&pos, &id, &c.sort, &c.key); err != nil {
					rows.Close()
					return nil, false, fmt.Errorf("search: scan: %w", err)
				}
				n++
				if !seen[id] {
					seen[id] = true
					if len(seen) > e.cap {
						over = true
						rows.Close()
						break batches
					}
				}
				if old, ok := found[id]; ok {
					c.key = max(c.key, old.key)
				}
				found[id] = c
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, false, fmt.Errorf("search: %w", err)
			}
			if n < batch {
				break
			}
		}
	}
	hits := make([]ranked, 0, len(found))
	keys := make(map[int64]int64, len(found))
	k := kindIndex(Tickets)
	for id, c := range found {
		hits = append(hits, ranked{k: k, id: id, sort: c.sort})
		keys[id] = c.key
	}
	if len(hits) > e.cap {
		over = true
	}
	if over {
		// Keep the CountCap newest: each source gave its CountCap newest, so these are
		// the newest of all.
		slices.SortFunc(hits, func(a, b ranked) int {
			if c := cmp.Compare(keys[b.id], keys[a.id]); c != 0 {
				return c
			}
			return cmp.Compare(b.id, a.id)
		})
		hits = hits[:min(len(hits), e.cap)]
	}
	return hits, over, nil
}
