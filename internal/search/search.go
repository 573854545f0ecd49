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
	"context"
	"fmt"
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
	// Count asks for the total number of matches.
	Count bool
	// Now is the time relative values (4hours) count back from.
	Now time.Time
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
	// Count is the total number of matches (when asked for).
	Count int
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
		return &postgresSearcher{engine{text: postgresText{}, dialect: store.Postgres}}
	}
	return &sqliteSearcher{engine{text: sqliteText{}, dialect: store.SQLite}}
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
}

// part is the SQL of one kind's matches: SELECT ... FROM from WHERE where.
type part struct {
	kind     Kind
	from     string // table and alias, possibly joined to the matches of a text term
	fromArgs []any
	idCol    string
	where    string // starts with the tenant key
	args     []any
	sort     string // an integer expression
	// text: a text term decides the matches, so the sort cannot follow an index and
	// counting costs as much as sorting.
	text bool
}

func (p part) allArgs() []any { return append(append([]any{}, p.fromArgs...), p.args...) }

// sortSmall is the number of matches up to which a page is sorted from the matches
// rather than read in index order.
const sortSmall = 5000

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
	var parts []part
	for _, k := range kinds {
		p, err := e.compile(k, req, sortBy)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	if len(parts) > 1 && req.After != nil {
		return nil, invalid("Cursor pagination needs one record type")
	}
	res := &Result{}
	// A text search sorts all its matches anyway; counting them in the same pass (a
	// window) halves its cost. Otherwise the count and the page are separate queries, so
	// that the page can follow an index and stop early.
	window := req.Count && req.Limit > 0 && len(parts) == 1 && parts[0].text
	if req.Count && !window {
		for _, p := range parts {
			n, err := count(ctx, q, p)
			if err != nil {
				return nil, err
			}
			res.Count += n
		}
	}
	if req.Limit <= 0 {
		return res, nil
	}
	var query string
	var args []any
	if len(parts) == 1 {
		p := parts[0]
		if window || req.Count && res.Count <= sortSmall {
			// Sort the matches (the unary plus keeps the planners from reading an index in
			// sort order instead): a window needs every match anyway, and with few matches
			// an index walk in sort order until the page is full may read the whole
			// account to find them (SQLite has no statistics to know better).
			p.sort = "+(" + p.sort + ")"
		}
		query, args = pageOne(p, req.After, desc, window)
	} else {
		query, args = pageMixed(parts, desc)
	}
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
		if res.Count, err = count(ctx, q, parts[0]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func count(ctx context.Context, q store.Queryer, p part) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+p.from+" WHERE "+p.where, p.allArgs()...).Scan(&n); err != nil {
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

// pageMixed selects a page over several kinds, ties broken by kind then id.
func pageMixed(parts []part, desc bool) (string, []any) {
	var args []any
	sel := make([]string, len(parts))
	for i, p := range parts {
		sel[i] = fmt.Sprintf("SELECT %d AS k, %s AS id, %s AS s FROM %s WHERE %s", kindIndex(p.kind), p.idCol, p.sort, p.from, p.where)
		args = append(args, p.allArgs()...)
	}
	dir := direction(desc)
	return "SELECT k, id, s, 0 FROM (" + strings.Join(sel, " UNION ALL ") + ") r ORDER BY s" + dir + ", k, id" + dir + " LIMIT ? OFFSET ?", args
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
