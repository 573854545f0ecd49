package search

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

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

// probeLimit bounds the matches counted to choose the term to walk (and, on
// PostgreSQL, how to read it).
const probeLimit = 2000

// walkTerm chooses the text term a ticket search walks: of its positive text terms, the
// one with the fewest matches (counted up to probeLimit, in the text index alone), the
// first on a tie; -1 when there is none. The others are checked on each candidate.
// counts are the chosen term's counts for each of its walk sources, when it was
// chosen among several (nil otherwise).
func (e *engine) walkTerm(ctx context.Context, q store.Queryer, req Request) (best int, counts []int, err error) {
	var cands []int
	for i, t := range req.Query.Terms {
		if !t.Neg && isText(t) {
			cands = append(cands, i)
		}
	}
	if len(cands) <= 1 {
		if len(cands) == 0 {
			return -1, nil, nil
		}
		return cands[0], nil, nil
	}
	best, bestN := -1, 0
	for _, i := range cands {
		t := req.Query.Terms[i]
		n := 0
		var ms []int
		for _, src := range e.text.walkSources(req.Account, t.Key, t.Words, t.Prefix) {
			m, err := e.probeCount(ctx, q, src)
			if err != nil {
				return -1, nil, err
			}
			n += m
			ms = append(ms, m)
		}
		if best < 0 || n < bestN {
			best, bestN, counts = i, n, ms
		}
	}
	return best, counts, nil
}

// probeCount returns a walk source's matches counted up to e.probe. On PostgreSQL they
// are the planner's estimate (EXPLAIN, capped at e.probe): of a word, from the column's
// statistics (counting read a common word's whole GIN entry, or walked the account
// until e.probe rows had it, for each word and each source: four such counts were a
// quarter of two common words' search at 100,000 tickets); of a phrase, of the rows
// holding its word pairs, from the pair index's statistics (counting visited the heap
// page of each of them, up to e.probe for each source). The figure only chooses the
// term to walk and whether to read a source whole (readWhole); the matches are the same
// either way.
func (e *engine) probeCount(ctx context.Context, q store.Queryer, src walkSource) (int, error) {
	args := append(append([]any{}, src.probeArgs...), e.probe)
	if e.dialect == store.Postgres {
		plan, err := explain(ctx, q, src.probe, args)
		return int(min(plan.limited(), float64(e.probe))), err
	}
	var m int
	if err := q.QueryRowContext(ctx, src.probe, args...).Scan(&m); err != nil {
		return 0, fmt.Errorf("search: probe: %w", err)
	}
	return m, nil
}

// candidate is a ticket a walk reached: its id and the column having reads (ref).
type candidate struct{ id, ref int64 }

// walkRow is one row of a walk: the matching text's position in write order, its
// ticket, the ticket's sort value, the time the text was written and the ticket's ref.
type walkRow struct {
	pos, id, sort, key, ref int64
}

// maxBatch bounds the rows one query of a walk reads.
const maxBatch = 16384

// walk returns a walked part's hits (at most e.cap, in no order) and whether more
// than e.cap tickets match. The part's other text terms (p.checks) are checked on each
// batch of candidates at once (see check): as SQL conditions, SQLite read the whole
// set of a common word's matches for every batch, and PostgreSQL probed each
// candidate's comments one by one inside the walk.
func (e *engine) walk(ctx context.Context, q store.Queryer, p part, req Request) ([]ranked, bool, error) {
	t := p.walk
	if e.drive > 0 && (p.scoped || slices.ContainsFunc(req.Query.Terms, func(t Term) bool { return !isText(t) })) {
		few, err := e.fewByFilters(ctx, q, p, req)
		if err != nil {
			return nil, false, err
		}
		if few {
			return e.byFilters(ctx, q, p, req)
		}
	}
	where, whereArgs := p.walkCond()
	type cand struct{ sort, key int64 }
	found := map[int64]cand{}
	// passed holds the checks' verdict on each ticket met so far (any source).
	passed := map[int64]bool{}
	over := false
	for si, src := range e.text.walkSources(req.Account, t.Key, t.Words, t.Prefix) {
		seen := map[int64]bool{}
		read := 0
		// add adds a row to found if it passed the checks; it reports whether more
		// than e.cap tickets of this source have matched.
		add := func(r walkRow) bool {
			read++
			if len(p.checks) > 0 && !passed[r.id] {
				return false
			}
			if !seen[r.id] {
				seen[r.id] = true
				if len(seen) > e.cap {
					return true
				}
			}
			c := cand{sort: r.sort, key: r.key}
			if old, ok := found[r.id]; ok {
				c.key = max(c.key, old.key)
			}
			found[r.id] = c
			return false
		}
		// take checks a batch of rows, newest first, and adds them.
		take := func(rows []walkRow) (bool, error) {
			if err := e.check(ctx, q, p, req, rows, passed); err != nil {
				return false, err
			}
			// add each row until one passes the cap.
			return slices.ContainsFunc(rows, add), nil
		}
		// takeAll orders rows read in any order newest first and takes them.
		takeAll := func(rows []walkRow) (bool, error) {
			slices.SortFunc(rows, newestFirst)
			return take(rows)
		}
		readAll, err := e.readWhole(ctx, q, p, si, src)
		if err != nil {
			return nil, false, err
		}
		var cur *pairCursor
		if !readAll {
			if cur, err = e.pairCursor(ctx, q, src); err != nil {
				return nil, false, err
			}
		}
		if cur != nil {
			// Few rows hold the phrase's word pairs: they are read at their positions,
			// newest first, in batches sized as a walk's (to the positions read so far
			// per ticket that passed), until more than e.cap tickets have the phrase.
			// Read whole, "blender warranty" read 8,016 comments at a million tickets
			// to keep the newest 1,001 tickets. The positions come from the newest
			// windows of positions first, as many as the batch needs (pairCursor), not
			// all at once. When a batch would take the rest (few of the rows have the
			// phrase itself, as subject:"printer refund", whose pairs are mostly in
			// descriptions), the rest is read whole through the pair index instead (one
			// heap page a row, where a read by id descends an index for each), and the
			// rows already taken are dropped here: with a bound on the position in SQL
			// the planner walked the account's rows, computing the pairs of each.
			cols := fmt.Sprintf("SELECT %s, t.id, %s, %s, %s FROM %s WHERE ", src.atPos, p.sort, src.atKey, e.text.rowRef(), src.at)
			var pos []int64
			used, more := 0, false
			for !more {
				n := e.batch(e.cap+1-len(seen), used, len(seen))
				for len(pos) <= n && !cur.done() {
					got, err := cur.next(ctx, q, n+1-len(pos))
					if err != nil {
						return nil, false, err
					}
					pos = append(pos, got...)
				}
				if len(pos) == 0 {
					break
				}
				query, args := cols+src.atPos+" = ANY(?) AND "+src.exact+" AND "+where, append([]any{pos[:min(n, len(pos))]}, src.exactArgs...)
				whole := n >= len(pos)
				if whole {
					query, args = cols+src.whole+" AND "+where, append(e.walkArgs(src), src.wholeArgs...)
				}
				rows, err := walkBatch(ctx, q, query, append(args, whereArgs...))
				if err != nil {
					return nil, false, err
				}
				if whole {
					top := pos[0]
					rows, n = slices.DeleteFunc(rows, func(r walkRow) bool { return r.pos > top }), len(pos)
				}
				pos, used = pos[n:], used+n
				if more, err = takeAll(rows); err != nil {
					return nil, false, err
				}
			}
			over = over || more
			continue
		}
		few, fewAll, err := e.fewRows(ctx, q, p, si, src, where, whereArgs)
		if err != nil {
			return nil, false, err
		}
		if fewAll {
			more, err := takeAll(few)
			if err != nil {
				return nil, false, err
			}
			over = over || more
			continue
		}
		if readAll {
			// Few matches (fewer than e.probe): read them all through the GIN index and
			// order them here. With ORDER BY and LIMIT the planner may walk the account's
			// rows backwards instead, and a rare word is where its statistics know least
			// (a walk of every comment for a word in 0.05 % of them).
			rows, err := walkBatch(ctx, q, fmt.Sprintf("SELECT %s, t.id, %s, %s, %s FROM %s WHERE %s AND %s",
				src.pos, p.sort, src.key, e.text.rowRef(), src.from, src.match, where), append(append(e.walkArgs(src), src.args...), whereArgs...))
			if err != nil {
				return nil, false, err
			}
			more, err := takeAll(rows)
			if err != nil {
				return nil, false, err
			}
			over = over || more
			continue
		}
		query := e.walkQuery(p, src, where)
		pos := int64(math.MaxInt64)
		for len(seen) <= e.cap {
			// Batches of rows, continued after the last position: a comment search reads
			// several rows for one ticket, and PostgreSQL plans a walk for a LIMIT.
			need := e.cap + 1 - len(seen)
			args := append(e.walkArgs(src), src.args...)
			args = append(append(args, pos), whereArgs...)
			// Each batch is as large as the rows read so far per ticket that passed say
			// is needed, the first one a little more than the tickets needed:
			// PostgreSQL computes every row of a LIMIT before the first comes back, so a
			// batch of twice the need made every walk read twice the rows it used.
			// SQLite steps only as far as the rows are read, so a walk without checks
			// there keeps its larger batches (fewer statements for tickets with several
			// matching comments).
			batch := e.batch(need, read, len(seen))
			if len(p.checks) == 0 && e.dialect != store.Postgres {
				batch = 2*need + e.slack
			}
			if len(p.checks) == 0 {
				// Rows are added as they come, up to the one that passes the cap.
				n, more := 0, false
				err := walkRows(ctx, q, query, append(args, batch), func(r walkRow) bool {
					n, pos = n+1, r.pos
					more = add(r)
					return !more
				})
				if err != nil {
					return nil, false, err
				}
				if more {
					over = true
				}
				if more || n < batch {
					break
				}
				continue
			}
			// With checks, a whole batch is read before it is checked.
			rows, err := walkBatch(ctx, q, query, append(args, batch))
			if err != nil {
				return nil, false, err
			}
			if len(rows) == 0 {
				break
			}
			pos = rows[len(rows)-1].pos
			more, err := take(rows)
			if err != nil {
				return nil, false, err
			}
			if more {
				over = true
				break
			}
			if len(rows) < batch {
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

// newestFirst orders walk rows by their position, newest first.
func newestFirst(a, b walkRow) int { return cmp.Compare(b.pos, a.pos) }

// walkQuery is the statement that walks source src of part p newest first, its rows'
// tickets meeting where: its arguments are src.args, the position to continue before,
// where's arguments and a LIMIT.
func (e *engine) walkQuery(p part, src walkSource, where string) string {
	order := src.pos + " DESC"
	if src.order != "" {
		order = src.order
	}
	return fmt.Sprintf("SELECT %s, t.id, %s, %s, %s FROM %s WHERE %s AND %s < ? AND %s ORDER BY %s LIMIT ?",
		src.pos, p.sort, src.key, e.text.rowRef(), src.from, src.match, src.pos, where, order)
}

// walkArgs starts the arguments of source src's walk statement: on PostgreSQL, for a
// source planned with its arguments each time (walkSource.custom), pgx's
// QueryExecModeExec, which runs the statement unnamed, so that PostgreSQL plans it with
// the arguments bound (database/sql passes it through to pgx, which takes it out of
// the arguments).
func (e *engine) walkArgs(src walkSource) []any {
	if e.dialect == store.Postgres && src.custom {
		return []any{pgx.QueryExecModeExec}
	}
	return nil
}

// batchSlack is added to each batch of a walk beyond the rows it is expected to need.
const batchSlack = 64

// batch is the size of a walk's next batch, when need more tickets must match and read
// rows (or positions) have given seen tickets so far: need and a little more at first,
// then as many as the rows per ticket so far say are needed, and a quarter more.
func (e *engine) batch(need, read, seen int) int {
	if read == 0 {
		return need + e.slack
	}
	return min(maxBatch, need*read/max(seen, 1)*5/4+e.slack)
}

// pairLimit bounds the matches of a phrase's word pairs (migration 0045) counted to
// choose between reading them all through the pair index and walking. Reading costs a
// row per match; a walk about CountCap rows divided by the share of rows that match, so
// the two meet near the square root of CountCap times the rows walked (31,000 at a
// million): below 20,000 matches the index is read.
const pairLimit = 20000

// readWhole reports whether source si of a walked part is read whole through its
// words' index rather than walked or read at its word pairs' positions (PostgreSQL):
// when the term was chosen among several and this source had fewer than e.probe
// matches, or when the source is direct (a subject: phrase) and the planner expects
// fewer than e.pairs matches (EXPLAIN of its probe; the estimate only chooses how to
// read). A lone word is not counted first: the count reads a common word's whole GIN
// entry. subject:"printer refund" at a million tickets read the ~8,500 tickets holding
// its pairs, mostly in descriptions, for its 438 matches; 1,250 tickets have both words
// in their subject.
func (e *engine) readWhole(ctx context.Context, q store.Queryer, p part, si int, src walkSource) (bool, error) {
	if e.dialect != store.Postgres || src.pairs != "" && !src.direct {
		return false, nil
	}
	if si < len(p.walkCounts) && p.walkCounts[si] < e.probe {
		return true, nil
	}
	if !src.direct {
		return false, nil
	}
	plan, err := explain(ctx, q, src.probe, append(append([]any{}, src.probeArgs...), e.pairs))
	return plan.limited() < float64(e.pairs), err
}

// pairCursor (PostgreSQL) returns a cursor over the positions (pos) of the rows of
// source src that hold its phrase's word pairs (src.pairs), newest first, when the
// planner expects fewer than e.pairs of them (nil otherwise): the phrase is then read at those
// positions rather than walked. The estimate (the pair index's statistics, read with
// EXPLAIN) only chooses how to read; the rows read and taken are the same either way.
// Counting them first visited the heap page of every row with the pairs (the pair index
// is not account-leading, and a GIN index gives no ids): 8,400 pages for each of the
// tickets and the comments of "blender warranty" at a million tickets, most of the
// search, where the newest 1,065 rows were all it used.
func (e *engine) pairCursor(ctx context.Context, q store.Queryer, src walkSource) (*pairCursor, error) {
	if src.pairs == "" {
		return nil, nil
	}
	plan, err := explain(ctx, q, src.pairs, append(append([]any{}, src.pairArgs...), e.pairs))
	if err != nil {
		return nil, err
	}
	est := plan.limited()
	if est >= float64(e.pairs) {
		return nil, nil
	}
	c := &pairCursor{src: src, est: max(est, 1)}
	var lo, hi int64
	if err := q.QueryRowContext(ctx, src.span, src.pairArgs[0]).Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("search: probe: %w", err)
	}
	c.lo, c.hi = lo, hi+1
	return c, nil
}

// pairCursor reads the positions of a source's rows holding a phrase's word pairs in
// windows of positions, newest first: each window of the positions between lo and hi is
// one statement through the pair index, ANDed with an index of the position (a
// BitmapAnd), so that only the rows in the window are visited.
type pairCursor struct {
	src walkSource
	// est is the planner's estimate of the rows with the pairs; lo and hi bound the
	// positions not read yet (lo the account's first, hi past the last left).
	est    float64
	lo, hi int64
	// read is the width of the windows read so far, found the positions they held.
	read, found int64
}

// done reports whether every position has been read.
func (c *pairCursor) done() bool { return c.hi <= c.lo }

// minSpan is the narrowest window of positions a pairCursor reads, maxSpan the widest
// (beyond it the rest is read at once).
const minSpan, maxSpan = 1024, 1 << 18

// next reads the next window of positions, newest first, sized to hold about want
// rows (and a quarter more): by the share of positions holding the pairs in the
// windows read so far, or, for the first, by half the planner's estimate (which was
// half the rows for "blender warranty"; a first window too narrow costs a statement, one
// too wide the heap pages of rows not needed). A window that held nothing is followed
// by one twice as wide.
func (c *pairCursor) next(ctx context.Context, q store.Queryer, want int) ([]int64, error) {
	var span int64
	switch {
	case c.read == 0:
		span = int64(math.Ceil(float64(want) * 5 / 8 * float64(c.hi-c.lo) / c.est))
	case c.found == 0:
		span = 2 * c.read
	default:
		span = int64(math.Ceil(float64(want) * 5 / 4 * float64(c.read) / float64(c.found)))
	}
	span = max(span, minSpan)
	lo := max(c.lo, c.hi-span)
	query, args := c.src.pairsIn, append(append([]any{}, c.src.pairArgs...), lo, c.hi)
	if span > maxSpan || c.src.pairsIn == "" {
		// A wide window's bitmap of ids turns lossy, and PostgreSQL then computes the
		// pairs of every row of its pages (subject:"printer refund", 0.7 s): the rest
		// is read through the pair index alone (every row, whatever the estimate said),
		// as all of it was before, and the positions already read are dropped below.
		lo, query, args = c.lo, c.src.pairs, append(append([]any{}, c.src.pairArgs...), int64(math.MaxInt64))
	}
	// Planned with its bounds each time (pgx's QueryExecModeExec, as walkArgs): the
	// generic plan of a prepared statement, which PostgreSQL adopts after five runs,
	// knows no window's width, took one for a row or two, and walked the primary key
	// over the window computing every row's pairs: at 1,000 tickets, where the first
	// window is the whole account, 210–300 ms a statement instead of under 1 ms
	// through the pair index (auto_explain, docs/BENCHMARKS.md, "PostgreSQL phrase
	// windows planned with their bounds").
	rows, err := q.QueryContext(ctx, query, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("search: probe: %w", err)
	}
	defer rows.Close()
	var pos []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("search: probe: %w", err)
		}
		if id < c.hi {
			pos = append(pos, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: probe: %w", err)
	}
	c.read, c.found, c.hi = c.read+c.hi-lo, c.found+int64(len(pos)), lo
	slices.SortFunc(pos, func(a, b int64) int { return cmp.Compare(b, a) })
	return pos, nil
}

// fewRows (SQLite) reads a source's matches in the text index's own order, oldest
// first and rowids alone, up to e.cap+1 of them; when there are no more than e.cap,
// those are all of them, and it returns their walk rows (read at those positions, with
// the part's conditions where, without the text index) and true. A walk newest first
// reads FTS5's doclists backwards, which costs about 40 % more than forwards, and it
// cannot stop before e.cap+1 tickets, so a source with at most e.cap matches is read
// to its end either way: a rare phrase of common words ("blender warranty invoice", in
// 110 of 1,000,000 tickets) reads every word's doclist to the end. A source with more
// matches is walked after this read of its oldest e.cap+1, and so is at once one whose
// count (walkTerm, a term chosen among several) was over e.cap.
func (e *engine) fewRows(ctx context.Context, q store.Queryer, p part, si int, src walkSource, where string, whereArgs []any) ([]walkRow, bool, error) {
	if src.few == "" || si < len(p.walkCounts) && p.walkCounts[si] > e.cap {
		return nil, false, nil
	}
	rows, err := q.QueryContext(ctx, src.few, append(append([]any{}, src.probeArgs...), e.cap+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("search: probe: %w", err)
	}
	var pos []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("search: probe: %w", err)
		}
		pos = append(pos, id)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, false, fmt.Errorf("search: probe: %w", err)
	}
	if len(pos) > e.cap {
		return nil, false, nil
	}
	var out []walkRow
	for len(pos) > 0 {
		chunk := pos[:min(len(pos), inChunk)]
		pos = pos[len(chunk):]
		got, err := walkBatch(ctx, q, fmt.Sprintf("SELECT %s, t.id, %s, %s, %s FROM %s WHERE %s IN (%s) AND %s",
			src.atPos, p.sort, src.atKey, e.text.rowRef(), src.at, src.atPos, store.In(len(chunk)), where), append(append([]any{}, chunk...), whereArgs...))
		if err != nil {
			return nil, false, err
		}
		out = append(out, got...)
	}
	return out, true, nil
}

// driveLimit is the number of tickets up to which a text search's other terms
// (status:open, assignee:5, tags:vip...) and the caller's access (an end user's own and
// organization's tickets, a restricted agent's) choose the candidates instead of its
// text: an end user's search for a common word read every match of it in the account.
const driveLimit = 4000

// fewByFilters reports whether a walked part's other conditions and the caller's
// access match fewer than e.drive tickets, counted up to e.drive. On PostgreSQL the
// planner's estimate is asked first: a set of tickets (tags:vip, a custom field) in an
// IN (subquery) made the count hash every ticket of the set before the first match
// (30,000 tags, 150 ms at 100,000 tickets), so a set the planner puts at many times
// e.drive is walked without counting. The estimate only chooses how to search; the
// answer is the same either way.
func (e *engine) fewByFilters(ctx context.Context, q store.Queryer, p part, req Request) (bool, error) {
	if e.dialect == store.Postgres {
		est, err := estimateRows(ctx, q, p)
		if err != nil {
			return false, err
		}
		if est > estimateMargin*float64(e.drive) {
			return false, nil
		}
	}
	if many, err := e.manyTagged(ctx, q, p, req); many || err != nil {
		return false, err
	}
	n, err := e.countFilters(ctx, q, p, req)
	return n < e.drive, err
}

// manyTagged (SQLite) reports whether a walked part whose only condition besides its
// text is one tag (refund tags:vip), searched by a caller who sees the whole account,
// has at least e.drive rows of that tag, counted in the tag's index alone. Those rows
// bound the tickets countFilters would count from above (a ticket has a tag once; the
// rows of deleted tickets are among them), so the count is skipped: it read a ticket
// row for each of the e.drive tag rows, a third of the CPU of "refund tags:vip" at a
// million tickets, only to learn what the index says. With a further condition or a
// narrower access the tickets may be fewer than the rows, and they are counted.
func (e *engine) manyTagged(ctx context.Context, q store.Queryer, p part, req Request) (bool, error) {
	tag, ok := drivingTag(req.Query.Terms)
	if e.dialect != store.SQLite || !ok || p.scoped || p.walkWhere == "" {
		return false, nil
	}
	for _, t := range req.Query.Terms {
		if !isText(t) && (t.Key != "tags" || t.Neg || len(strings.Fields(t.Value)) != 1) {
			return false, nil
		}
	}
	var n int
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM ticket_tags dt WHERE dt.account_id = ? AND dt.tag = ? LIMIT ?) n",
		req.Account, tag, e.drive).Scan(&n); err != nil {
		return false, fmt.Errorf("search: count tag: %w", err)
	}
	return n >= e.drive, nil
}

// estimateMargin is how many times driveLimit the planner must expect before a walk
// skips counting its filters' tickets: its estimates of a common tag or status are
// within a few percent, those of a caller's own tickets far below the margin.
const estimateMargin = 4

// estimateRows returns the PostgreSQL planner's estimate of a part's rows.
func estimateRows(ctx context.Context, q store.Queryer, p part) (float64, error) {
	plan, err := explain(ctx, q, "SELECT 1 FROM "+p.from+" WHERE "+p.where, p.allArgs())
	return plan.Rows, err
}

// planNode is a node of EXPLAIN (FORMAT JSON)'s plan.
type planNode struct {
	Type  string     `json:"Node Type"`
	Rows  float64    `json:"Plan Rows"`
	Plans []planNode `json:"Plans"`
}

// limited is the estimate of the rows under the plan's first LIMIT (those a COUNT of a
// LIMIT subquery would count without it), or of the plan's when it has none.
func (n planNode) limited() float64 {
	for m := n; len(m.Plans) > 0; m = m.Plans[0] {
		if m.Type == "Limit" {
			return m.Plans[0].Rows
		}
	}
	return n.Rows
}

// explain returns the PostgreSQL planner's plan of query (EXPLAIN plans it without
// running it).
func explain(ctx context.Context, q store.Queryer, query string, args []any) (planNode, error) {
	var plan string
	if err := q.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&plan); err != nil {
		return planNode{}, fmt.Errorf("search: estimate: %w", err)
	}
	var out []struct{ Plan planNode }
	if err := json.Unmarshal([]byte(plan), &out); err != nil || len(out) == 0 {
		return planNode{}, fmt.Errorf("search: estimate: %q: %v", plan, err)
	}
	return out[0].Plan, nil
}

// countFilters counts, up to e.drive, the tickets a walked part's other conditions and
// the caller's access match (countUpTo). On SQLite, when one of them is a tag (tags:vip,
// not ORed with another), the count reads that tag's tickets from its index and checks
// the rest on each (the walk's form of the conditions), stopping at e.drive: as
// t.id IN (subquery), SQLite first built the set of every ticket with the tag, 300,000
// of them for a tag on 30 % of a million tickets (most of the 150 ms of CPU that
// "refund tags:vip" cost). A ticket has a tag once, so each row is one ticket.
func (e *engine) countFilters(ctx context.Context, q store.Queryer, p part, req Request) (int, error) {
	tag, ok := drivingTag(req.Query.Terms)
	if e.dialect != store.SQLite || p.walkWhere == "" || !ok {
		return countUpTo(ctx, q, p, e.drive)
	}
	where, args := p.walkCond()
	query := "SELECT COUNT(*) FROM (SELECT 1 FROM ticket_tags dt CROSS JOIN tickets t ON t.account_id = dt.account_id AND t.id = dt.ticket_id WHERE dt.account_id = ? AND dt.tag = ? AND " + where + " LIMIT ?) n"
	var n int
	if err := q.QueryRowContext(ctx, query, append(append([]any{req.Account, tag}, args...), e.drive)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("search: count tickets: %w", err)
	}
	return n, nil
}

// drivingTag returns a tag every match must have: that of the query's only positive
// tags: term (several are ORed), its first when it names several (tags:"a b" asks for
// all of them).
func drivingTag(terms []Term) (string, bool) {
	tag, n := "", 0
	for _, t := range terms {
		if t.Key != "tags" || t.Neg {
			continue
		}
		n++
		if f := strings.Fields(t.Value); t.Op == Eq && !t.Prefix && t.Value != "none" && len(f) > 0 {
			tag = f[0]
		}
	}
	return tag, n == 1 && tag != ""
}

// byFilters answers a walked part whose other conditions match fewer than e.drive
// tickets: it reads them all and checks every text term on them (textIndex.having),
// where a walk of a common word would read its matches until it had met enough of
// those few tickets, or all of its matches when fewer than e.cap pass. Beyond e.cap
// it keeps the most recently created.
func (e *engine) byFilters(ctx context.Context, q store.Queryer, p part, req Request) ([]ranked, bool, error) {
	rows, err := walkBatch(ctx, q, fmt.Sprintf("SELECT 0, t.id, %s, t.created_at, %s FROM %s WHERE %s", p.sort, e.text.rowRef(), p.from, p.where), p.allArgs())
	if err != nil {
		return nil, false, err
	}
	p.checks = append([]Term{*p.walk}, p.checks...)
	passed := map[int64]bool{}
	if err := e.check(ctx, q, p, req, rows, passed); err != nil {
		return nil, false, err
	}
	rows = slices.DeleteFunc(rows, func(r walkRow) bool { return !passed[r.id] })
	over := len(rows) > e.cap
	if over {
		slices.SortFunc(rows, func(a, b walkRow) int {
			if c := cmp.Compare(b.key, a.key); c != 0 {
				return c
			}
			return cmp.Compare(b.id, a.id)
		})
		rows = rows[:e.cap]
	}
	hits := make([]ranked, len(rows))
	for i, r := range rows {
		hits[i] = ranked{k: kindIndex(Tickets), id: r.id, sort: r.sort}
	}
	return hits, over, nil
}

// walkRows runs a walk's query and calls fn with each row until fn returns false.
func walkRows(ctx context.Context, q store.Queryer, query string, args []any, fn func(walkRow) bool) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r walkRow
		if err := rows.Scan(&r.pos, &r.id, &r.sort, &r.key, &r.ref); err != nil {
			return fmt.Errorf("search: scan: %w", err)
		}
		if !fn(r) {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	return nil
}

// walkBatch reads every row of a query of walk rows.
func walkBatch(ctx context.Context, q store.Queryer, query string, args []any) ([]walkRow, error) {
	var out []walkRow
	err := walkRows(ctx, q, query, args, func(r walkRow) bool {
		out = append(out, r)
		return true
	})
	return out, err
}

// check records in passed whether each ticket of rows not judged yet has every
// positive text term of p.checks and none of the negated ones. Each term is asked
// about the whole batch at once, positive terms first, each only about the tickets
// the terms before it kept.
func (e *engine) check(ctx context.Context, q store.Queryer, p part, req Request, rows []walkRow, passed map[int64]bool) error {
	if len(p.checks) == 0 {
		return nil
	}
	var cands []candidate
	for _, r := range rows {
		if _, ok := passed[r.id]; !ok {
			passed[r.id] = false
			cands = append(cands, candidate{id: r.id, ref: r.ref})
		}
	}
	terms := slices.Clone(p.checks)
	slices.SortStableFunc(terms, func(a, b Term) int {
		if a.Neg == b.Neg {
			return 0
		}
		if b.Neg {
			return -1
		}
		return 1
	})
	for _, t := range terms {
		if len(cands) == 0 {
			return nil
		}
		has, err := e.text.having(ctx, q, req.Account, t.Key, t.Words, t.Prefix, cands)
		if err != nil {
			return err
		}
		cands = slices.DeleteFunc(cands, func(c candidate) bool { return has[c.id] == t.Neg })
	}
	for _, c := range cands {
		passed[c.id] = true
	}
	return nil
}
