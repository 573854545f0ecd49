// Package search answers Zendesk-style search queries ("printer status<solved
// assignee:me tags:vip") over tickets, users, organizations and groups.
//
// A query is parsed into terms (Parse), checked against a whitelist of properties, and
// compiled to SQL in which user text only ever travels as bind parameters: the values
// of structured terms, LIKE patterns, and full-text query strings built from words the
// parser has reduced to letters and digits and quoted for the engine. Full-text
// matching uses the database's own engine, one Searcher per dialect: SQLite FTS5
// tables and PostgreSQL expression GIN indexes (migration 0004_search). Both are
// written by the database inside the writing transaction, so a ticket or comment is
// searchable as soon as it commits.
//
// Every query starts from the tenant key, and tickets are limited to what the searcher
// may see (ticket.Scope).
package search

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Request is one search.
type Request struct {
	Account ids.Account
	// Actor is who searches: tickets are limited to those they may see, and only staff
	// find users, organizations and groups.
	Actor ticket.Actor
	Query *Query
	// Kind limits the search to one record type (the export API's filter[type]); ""
	// searches the type the query names, or every type its terms apply to.
	Kind Kind
	// SortBy is created_at, updated_at, priority, status, ticket_type, id or ""
	// (updated_at); the query's order_by: and sort: win over SortBy and Desc.
	SortBy string
	Desc   bool
	// Offset and Limit select a page of hits; Limit 0 asks for none (a count only).
	Offset, Limit int
	// After continues a walk in sort order after this hit (cursor pagination; one kind).
	After *Hit
	// Count asks for the number of matches: exact up to CountCap, CountCap beyond it
	// (Result.Capped).
	Count bool
	// All asks for every match in sort order, however many there are (the export API's
	// walk). Without it, a text search returns at most CountCap tickets: the newest
	// matches (see walk.go).
	All bool
	// Now is the time relative values (4hours) count back from.
	Now time.Time

	// perTicket: text terms other than the walked one are checked on the candidate
	// tickets (checks, or ticketHas when no term is walked), not sets of ids.
	perTicket bool
}

// Hit is one matching record, with its sort value (for cursors).
type Hit struct {
	Kind Kind
	ID   int64
	Sort int64
}

// Result is a page of hits.
type Result struct {
	Hits []Hit
	// Count is the number of matches (when asked for), exact up to CountCap; Capped
	// reports that more than CountCap match and Count is CountCap.
	Count  int
	Capped bool
	// More reports that hits follow this page.
	More bool
}

// Searcher runs searches. Search runs on q, normally a read transaction, so that the
// hits and the records the caller then loads for them come from one snapshot.
type Searcher interface {
	Search(ctx context.Context, q store.Queryer, req Request) (*Result, error)
}

// New returns the Searcher for the database's dialect.
func New(db *store.DB) Searcher {
	if db.Dialect == store.Postgres {
		return &postgresSearcher{engine{text: postgresText{}, dialect: store.Postgres, cap: CountCap, drive: driveLimit, probe: probeLimit, pairs: pairLimit, slack: batchSlack}}
	}
	return &sqliteSearcher{engine{text: sqliteText{gap: rangeGap}, dialect: store.SQLite, cap: CountCap, drive: driveLimit, probe: probeLimit, slack: batchSlack}}
}

// sqliteSearcher matches text with the FTS5 tables tickets_fts and ticket_comments_fts.
type sqliteSearcher struct{ engine }

// postgresSearcher matches text with the tsvector columns tickets.search_tsv and
// ticket_comments.search_tsv.
type postgresSearcher struct{ engine }

// textIndex is what differs between the dialects: full-text matching and reading JSON
// columns.
type textIndex interface {
	// ticketMatches returns a query of the ids of the account's tickets in which the
	// words appear, in order (the last one possibly a prefix), in field ("subject",
	// "description", or "" for either of those or any comment).
	ticketMatches(acct ids.Account, field string, words []string, prefix bool) (string, []any)
	// drives reports whether a text search should start from its matches (joined to
	// tickets) rather than filter tickets with them.
	drives() bool
	// walkSources returns the queries that walk a text term's matches newest first.
	walkSources(acct ids.Account, field string, words []string, prefix bool) []walkSource
	// ticketHas returns a condition on the ticket t: the words appear in field (for a
	// ticket search that walks no text term).
	ticketHas(acct ids.Account, field string, words []string, prefix bool) (string, []any)
	// rowRef is the column of t that having takes as a candidate's ref.
	rowRef() string
	// having returns the ids of the candidate tickets (a batch of a walk) in which the
	// words appear in field, reading only the index entries near the candidates.
	having(ctx context.Context, q store.Queryer, acct ids.Account, field string, words []string, prefix bool, cands []candidate) (map[int64]bool, error)
	// jsonHasString returns a condition: the JSON array of strings in col has an element
	// equal to value (or starting with it), ignoring case.
	jsonHasString(col, value string, prefix bool) (string, []any)
	// jsonEmpty returns a condition: the JSON array in col is empty.
	jsonEmpty(col string) string
}

// engine is the dialect-independent part of a Searcher.
type engine struct {
	text    textIndex
	dialect store.Dialect
	// cap is CountCap (smaller in tests).
	cap int
	// drive is driveLimit, probe probeLimit, pairs pairLimit and slack batchSlack
	// (smaller in tests).
	drive, probe, pairs, slack int
}

// part is the SQL of one kind's matches: SELECT ... FROM from WHERE where.
type part struct {
	kind     Kind
	from     string // table and alias, possibly joined to the matches of a text term
	fromArgs []any
	idCol    string
	where    string // starts with the tenant key
	args     []any
	// walkWhere and walkArgs, when set, are where and args in the form the statements
	// of a walk use (SQLite: sets of tickets checked on each row; compile).
	walkWhere string
	walkArgs  []any
	sort      string // an integer expression
	// text: a text term decides the matches, so the sort cannot follow an index and
	// counting costs as much as sorting.
	text bool
	// walk is the text term whose matches are walked newest first (nil: the part is
	// one SQL query).
	walk *Term
	// checks are the other text terms of a walked part (positive or negated), checked
	// on each batch of the walk's candidates (textIndex.having), not in SQL.
	checks []Term
	// scoped: the caller sees only some of the account's tickets (ticket.Scope), which
	// may be few enough to read them rather than walk the text (walk, byFilters).
	scoped bool
	// walkCounts are the walked term's matches in each of its walk sources, counted up
	// to probeLimit when it was chosen among several text terms (nil otherwise).
	walkCounts []int
}

func (p part) allArgs() []any { return append(append([]any{}, p.fromArgs...), p.args...) }

// walkCond returns the condition (and its arguments) that a walk's statements put on
// their rows' tickets.
func (p part) walkCond() (string, []any) {
	if p.walkWhere != "" {
		return p.walkWhere, p.walkArgs
	}
	return p.where, p.args
}

// sortSmall is the number of matches up to which a page is sorted from the matches
// rather than read in index order.
const sortSmall = 5000

// CountCap is where counts stop being exact, as Zendesk's search stops at 1,000
// results: a search counts its matches up to CountCap and reports CountCap with
// Result.Capped beyond it, so a word in half the account costs no more to count than one
// in a thousand tickets (docs/SEARCH.md).
const CountCap = 1000

// Search implements Searcher.
func (e *engine) Search(ctx context.Context, q store.Queryer, req Request) (*Result, error) {
	kinds, err := KindsFor(req.Query, req.Kind)
	if err != nil {
		return nil, err
	}
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	sortBy, desc := req.SortBy, req.Desc
	if req.Query.OrderBy != "" {
		sortBy = req.Query.OrderBy
	}
	if req.Query.Sort != "" {
		desc = req.Query.Sort == "desc"
	}
	req.perTicket = !req.All
	var parts []part
	for _, k := range kinds {
		p, err := e.compile(ctx, q, k, req, sortBy)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	if len(parts) > 1 && req.After != nil {
		return nil, invalid("Cursor pagination needs one record type")
	}
	if len(parts) == 1 && parts[0].walk == nil {
		return e.searchOne(ctx, q, parts[0], req, desc)
	}
	// Several kinds, or a text search walked newest first: each part gives its first
	// Offset+Limit+1 hits in sort order, and the page is merged here.
	res := &Result{}
	var hits []ranked
	for _, p := range parts {
		var got []ranked
		var n int
		var over bool
		if p.walk != nil {
			if got, over, err = e.walk(ctx, q, p, req); err != nil {
				return nil, err
			}
			n = len(got)
		} else {
			if req.Count {
				limit := e.cap + 1
				if req.All {
					limit = 0
				}
				if n, err = countUpTo(ctx, q, p, limit); err != nil {
					return nil, err
				}
				over = n > e.cap && !req.All
			}
			if req.Limit > 0 {
				if got, err = firstHits(ctx, q, p, desc, req.Offset+req.Limit+1); err != nil {
					return nil, err
				}
			}
		}
		res.Count += n
		res.Capped = res.Capped || over
		hits = append(hits, got...)
	}
	if res.Count > e.cap && !req.All {
		res.Count, res.Capped = e.cap, true
	}
	if !req.Count {
		res.Count, res.Capped = 0, false
	}
	slices.SortFunc(hits, func(a, b ranked) int { return a.compare(b, desc) })
	if req.After != nil {
		at := ranked{k: kindIndex(req.After.Kind), id: req.After.ID, sort: req.After.Sort}
		i := 0
		for i < len(hits) && hits[i].compare(at, desc) <= 0 {
			i++
		}
		hits = hits[i:]
	}
	hits = hits[min(req.Offset, len(hits)):]
	if req.Limit <= 0 {
		return res, nil
	}
	if len(hits) > req.Limit {
		hits, res.More = hits[:req.Limit], true
	}
	for _, h := range hits {
		res.Hits = append(res.Hits, Hit{Kind: AllKinds[h.k], ID: h.id, Sort: h.sort})
	}
	return res, nil
}

// ranked is a hit with what orders it: its sort value, then its kind (always in
// AllKinds order), then its id (the sort value and id in the sort's direction).
type ranked struct {
	k        int
	id, sort int64
}

func (a ranked) compare(b ranked, desc bool) int {
	dir := 1
	if desc {
		dir = -1
	}
	if c := cmp.Compare(a.sort, b.sort); c != 0 {
		return dir * c
	}
	if c := cmp.Compare(a.k, b.k); c != 0 {
		return c
	}
	return dir * cmp.Compare(a.id, b.id)
}

// searchOne answers a search of one kind that is one SQL query (no walked text term).
func (e *engine) searchOne(ctx context.Context, q store.Queryer, p part, req Request, desc bool) (*Result, error) {
	res := &Result{}
	// An exported text search (All) sorts all its matches anyway; counting them in the
	// same pass (a window) halves its cost. Otherwise the count and the page are separate
	// queries, so that the page can follow an index and stop early.
	window := req.Count && req.Limit > 0 && p.text
	n := 0
	if req.Count && !window {
		// Counted a little past the cap, to choose the page's plan below.
		limit := max(e.cap, sortSmall) + 1
		if req.All {
			limit = 0
		}
		var err error
		if n, err = countUpTo(ctx, q, p, limit); err != nil {
			return nil, err
		}
		res.Count = n
		if !req.All && n > e.cap {
			res.Count, res.Capped = e.cap, true
		}
	}
	if req.Limit <= 0 {
		return res, nil
	}
	if window || req.Count && n <= sortSmall {
		// Sort the matches (the unary plus keeps the planners from reading an index in
		// sort order instead): a window needs every match anyway, and with few matches
		// an index walk in sort order until the page is full may read the whole
		// account to find them (SQLite has no statistics to know better).
		p.sort = "+(" + p.sort + ")"
	}
	query, args := pageOne(p, req.After, desc, window)
	args = append(args, req.Limit+1, req.Offset)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	seen := false
	for rows.Next() {
		var k, total int
		var h Hit
		if err := rows.Scan(&k, &h.ID, &h.Sort, &total); err != nil {
			return nil, fmt.Errorf("search: scan: %w", err)
		}
		seen = true
		if window {
			res.Count = total
		}
		if len(res.Hits) == req.Limit {
			res.More = true
			break
		}
		h.Kind = AllKinds[k]
		res.Hits = append(res.Hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if window && !seen && req.Offset > 0 {
		// A page past the end has no row to carry the count.
		if res.Count, err = countUpTo(ctx, q, p, 0); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// firstHits reads the first n hits of a part in sort order.
func firstHits(ctx context.Context, q store.Queryer, p part, desc bool, n int) ([]ranked, error) {
	query, args := pageOne(p, nil, desc, false)
	rows, err := q.QueryContext(ctx, query, append(args, n, 0)...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var out []ranked
	for rows.Next() {
		var r ranked
		var total int
		if err := rows.Scan(&r.k, &r.id, &r.sort, &total); err != nil {
			return nil, fmt.Errorf("search: scan: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return out, nil
}

// countUpTo counts a part's matches, stopping at limit (0: every match).
func countUpTo(ctx context.Context, q store.Queryer, p part, limit int) (int, error) {
	query := "SELECT COUNT(*) FROM " + p.from + " WHERE " + p.where
	args := p.allArgs()
	if limit > 0 {
		query = "SELECT COUNT(*) FROM (SELECT 1 FROM " + p.from + " WHERE " + p.where + " LIMIT ?) n"
		args = append(args, limit)
	}
	var n int
	if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("search: count %ss: %w", p.kind, err)
	}
	return n, nil
}

func direction(desc bool) string {
	if desc {
		return " DESC"
	}
	return " ASC"
}

// pageOne selects (kind, id, sort value, total) for one kind's page, after a cursor
// position if given; the caller appends LIMIT and OFFSET arguments.
func pageOne(p part, after *Hit, desc, window bool) (string, []any) {
	where, args := p.where, p.allArgs()
	if after != nil {
		cmp := ">"
		if desc {
			cmp = "<"
		}
		where += " AND (" + p.sort + " " + cmp + " ? OR (" + p.sort + " = ? AND " + p.idCol + " " + cmp + " ?))"
		args = append(args, after.Sort, after.Sort, after.ID)
	}
	total := "0"
	if window {
		total = "COUNT(*) OVER ()"
	}
	dir := direction(desc)
	return fmt.Sprintf("SELECT %d, %s, %s, %s FROM %s WHERE %s ORDER BY 3%s, 2%s LIMIT ? OFFSET ?",
		kindIndex(p.kind), p.idCol, p.sort, total, p.from, where, dir, dir), args
}

func kindIndex(k Kind) int {
	for i, x := range AllKinds {
		if x == k {
			return i
		}
	}
	return 0
}

// KindsFor returns the record types a query searches: the one it (or filter) names,
// checked against its terms, or every type all its terms apply to.
func KindsFor(q *Query, filter Kind) ([]Kind, error) {
	k := q.Kind
	if filter != "" {
		if k != "" && k != filter {
			return nil, invalid("The query searches for %ss but the filter asks for %ss", k, filter)
		}
		k = filter
	}
	if k != "" {
		for _, t := range q.Terms {
			if !t.appliesTo(k) {
				return nil, invalid("%s is not a property of %ss", termKey(t), k)
			}
		}
		return []Kind{k}, nil
	}
	var out []Kind
	for _, k := range AllKinds {
		ok := true
		for _, t := range q.Terms {
			ok = ok && t.appliesTo(k)
		}
		if ok {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		var names []string
		for _, t := range q.Terms {
			if t.Key != "" {
				names = append(names, termKey(t))
			}
		}
		return nil, invalid("No record type has all of %s; search one type at a time", strings.Join(names, ", "))
	}
	return out, nil
}

func termKey(t Term) string {
	if t.Key == "id" {
		return "a ticket number"
	}
	return t.Key + ":"
}
