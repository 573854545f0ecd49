package api

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"

	"tandem/internal/errs"
	"tandem/internal/store"
	"tandem/internal/ticket"
	"tandem/internal/ticket/tfield"
)

// Pagination: offset (page, per_page; Zendesk's default) and cursor (page[size],
// page[after], page[before]). Every list endpoint supports both.

const (
	maxPerPage    = 100
	maxOffsetRows = 10000
)

type pageReq struct {
	cursor  bool
	size    int
	page    int    // offset mode, 1-based
	after   string // cursor mode
	before  string
	desc    bool // requested order
	sortKey string
}

func parsePage(r *http.Request, defaultDesc bool) (pageReq, error) {
	q := r.URL.Query()
	p := pageReq{size: maxPerPage, page: 1, desc: defaultDesc}
	if v := q.Get("page[size]"); v != "" || q.Has("page[after]") || q.Has("page[before]") {
		p.cursor = true
		if v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return p, errs.E(errs.BadRequest, "page[size] must be a whole number from 1 to %d", maxPerPage)
			}
			p.size = min(n, maxPerPage)
		}
		p.after, p.before = q.Get("page[after]"), q.Get("page[before]")
		if s := q.Get("sort"); s != "" {
			p.sortKey = s
			p.desc = s[0] == '-'
			if p.desc {
				p.sortKey = s[1:]
			}
		}
		return p, nil
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, errs.E(errs.BadRequest, "per_page must be a whole number from 1 to %d", maxPerPage)
		}
		p.size = min(n, maxPerPage)
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, errs.E(errs.BadRequest, "page must be a whole number of at least 1")
		}
		p.page = n
	}
	if (p.page-1)*p.size >= maxOffsetRows {
		return p, errs.E(errs.BadRequest, "Offset pagination is limited to the first %d records; use cursor pagination (page[size]) to go further", maxOffsetRows)
	}
	switch q.Get("sort_order") {
	case "desc":
		p.desc = true
	case "asc":
		p.desc = false
	}
	p.sortKey = q.Get("sort_by")
	return p, nil
}

// cursorPos is the position a cursor encodes: the sort value and id of a row.
type cursorPos struct {
	S int64 `json:"s"`
	I int64 `json:"i"`
}

func encodeCursor(c cursorPos) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursorPos, error) {
	var c cursorPos
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return c, errs.E(errs.BadRequest, "The page cursor is not valid")
	}
	return c, nil
}

// listSpec describes a tenant-scoped list query. Where must start with the tenant key.
type listSpec struct {
	Cols    string
	From    string
	Where   string
	Args    []any
	SortCol string // an integer column; rows are ordered by (SortCol, IDCol)
	IDCol   string
	// Count, when set, answers the total for offset pagination instead of COUNT(*).
	Count func(ctx context.Context) (int, error)
}

// listResult carries what pagination keys need.
type listResult struct {
	count    int
	hasMore  bool
	first    cursorPos
	last     cursorPos
	hasPrev  bool
	empty    bool
	cursor   bool
	page     int
	size     int
	nextPage bool
}

// runList runs spec with the page request. scan reads one row and returns the row's
// (sort value, id) for cursors.
func runList(ctx context.Context, q store.Queryer, spec listSpec, p pageReq, scan func(*sql.Rows) (cursorPos, error)) (listResult, error) {
	if spec.IDCol == "" {
		spec.IDCol = "id"
	}
	if spec.SortCol == "" {
		spec.SortCol = spec.IDCol
	}
	res := listResult{cursor: p.cursor, page: p.page, size: p.size}
	where := spec.Where
	args := append([]any{}, spec.Args...)
	desc := p.desc
	reverse := false
	if p.cursor {
		cmp := ">"
		if desc {
			cmp = "<"
		}
		if p.before != "" {
			c, err := decodeCursor(p.before)
			if err != nil {
				return res, err
			}
			// Walk backwards from the cursor, then flip the rows into the requested order.
			reverse = true
			desc = !desc
			if cmp == ">" {
				cmp = "<"
			} else {
				cmp = ">"
			}
			where += " AND (" + spec.SortCol + " " + cmp + " ? OR (" + spec.SortCol + " = ? AND " + spec.IDCol + " " + cmp + " ?))"
			args = append(args, c.S, c.S, c.I)
			res.hasPrev = true
		} else if p.after != "" {
			c, err := decodeCursor(p.after)
			if err != nil {
				return res, err
			}
			where += " AND (" + spec.SortCol + " " + cmp + " ? OR (" + spec.SortCol + " = ? AND " + spec.IDCol + " " + cmp + " ?))"
			args = append(args, c.S, c.S, c.I)
			res.hasPrev = true
		}
	} else if spec.Count != nil {
		n, err := spec.Count(ctx)
		if err != nil {
			return res, err
		}
		res.count = n
	} else {
		if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+spec.From+" WHERE "+spec.Where, spec.Args...).Scan(&res.count); err != nil {
			return res, err
		}
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	query := "SELECT " + spec.Cols + " FROM " + spec.From + " WHERE " + where + " ORDER BY " + spec.SortCol + dir + ", " + spec.IDCol + dir + " LIMIT ?"
	args = append(args, p.size+1)
	if !p.cursor {
		query += " OFFSET ?"
		args = append(args, (p.page-1)*p.size)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return res, err
	}
	defer rows.Close()
	var positions []cursorPos
	n := 0
	for rows.Next() {
		n++
		if n > p.size {
			res.hasMore = true
			break
		}
		pos, err := scan(rows)
		if err != nil {
			return res, err
		}
		positions = append(positions, pos)
	}
	if err := rows.Err(); err != nil {
		return res, err
	}
	if reverse {
		// Rows came newest-first from the cursor; the caller reverses its slice via flip.
		res.hasMore, res.hasPrev = true, res.hasMore
		for i, j := 0, len(positions)-1; i < j; i, j = i+1, j-1 {
			positions[i], positions[j] = positions[j], positions[i]
		}
	}
	if len(positions) > 0 {
		res.first, res.last = positions[0], positions[len(positions)-1]
	} else {
		res.empty = true
	}
	res.nextPage = !p.cursor && p.page*p.size < res.count
	return res, nil
}

// runTicketList runs a ticket list (ticket.List: condition, scope and order) with the
// page request, sorted by the request's sort key (created_at, updated_at, else id).
// count, when set, answers the total for offset pagination instead of counting.
func runTicketList(ctx context.Context, q store.Queryer, lq ticket.ListQuery, p pageReq, count func(ctx context.Context) (int, error)) ([]*ticket.Ticket, listResult, error) {
	res := listResult{cursor: p.cursor, page: p.page, size: p.size}
	// The registry's sort keys; a ticket's id is the tie-break.
	lq.Order = []ticket.SortKey{{Expr: "t.id", Desc: p.desc}}
	if key := p.sortKey; key == "created_at" || key == "updated_at" {
		lq.Order = append([]ticket.SortKey{{Expr: tfield.ByName(key).Sort, Desc: p.desc}}, lq.Order...)
	}
	keys := func(c cursorPos) []int64 {
		if len(lq.Order) == 1 {
			return []int64{c.I}
		}
		return []int64{c.S, c.I}
	}
	lq.Size = p.size
	switch {
	case p.cursor && p.before != "":
		c, err := decodeCursor(p.before)
		if err != nil {
			return nil, res, err
		}
		lq.Before = keys(c)
	case p.cursor && p.after != "":
		c, err := decodeCursor(p.after)
		if err != nil {
			return nil, res, err
		}
		lq.After = keys(c)
	case p.cursor:
	case count != nil:
		n, err := count(ctx)
		if err != nil {
			return nil, res, err
		}
		res.count = n
	default:
		n, err := ticket.CountList(ctx, q, lq)
		if err != nil {
			return nil, res, err
		}
		res.count = int(n)
	}
	if !p.cursor {
		lq.Offset = (p.page - 1) * p.size
	}
	rows, more, err := ticket.List(ctx, q, lq)
	if err != nil {
		return nil, res, err
	}
	res.hasMore, res.hasPrev = more, lq.After != nil
	if lq.Before != nil {
		// The page came walking backwards from the cursor: rows follow it.
		res.hasMore, res.hasPrev = true, more
	}
	list := make([]*ticket.Ticket, len(rows))
	for i, r := range rows {
		list[i] = r.Ticket
	}
	if len(rows) > 0 {
		pos := func(r ticket.ListRow) cursorPos { return cursorPos{S: r.Keys[0], I: r.Keys[len(r.Keys)-1]} }
		res.first, res.last = pos(rows[0]), pos(rows[len(rows)-1])
	} else {
		res.empty = true
	}
	res.nextPage = !p.cursor && p.page*p.size < res.count
	return list, res, nil
}

// reverseIfBefore flips a slice built in cursor-before order back into requested order.
func reverseIfBefore[T any](p pageReq, items []T) {
	if p.cursor && p.before != "" {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
}

// addPageKeys adds the pagination keys of the mode in use to a response body.
func addPageKeys(body map[string]any, r *http.Request, res listResult) {
	u := *r.URL
	u.Scheme, u.Host = "", ""
	base := baseURL(r)
	if res.cursor {
		after, before := "", ""
		if !res.empty {
			after, before = encodeCursor(res.last), encodeCursor(res.first)
		}
		meta := map[string]any{"has_more": res.hasMore, "after_cursor": nullStr(after), "before_cursor": nullStr(before)}
		links := map[string]any{"next": nil, "prev": nil}
		if after != "" {
			q := u.Query()
			q.Del("page[before]")
			q.Set("page[after]", after)
			q.Set("page[size]", strconv.Itoa(res.size))
			links["next"] = base + r.URL.Path + ".json?" + q.Encode()
			q.Del("page[after]")
			q.Set("page[before]", before)
			links["prev"] = base + r.URL.Path + ".json?" + q.Encode()
		}
		body["meta"] = meta
		body["links"] = links
		return
	}
	body["count"] = res.count
	body["next_page"] = nil
	body["previous_page"] = nil
	mk := func(page int) string {
		q := u.Query()
		q.Set("page", strconv.Itoa(page))
		q.Set("per_page", strconv.Itoa(res.size))
		return base + r.URL.Path + ".json?" + q.Encode()
	}
	if res.nextPage {
		body["next_page"] = mk(res.page + 1)
	}
	if res.page > 1 {
		body["previous_page"] = mk(res.page - 1)
	}
}

// showManyRecords loads the records a users or organizations show_many call names:
// by ids (byIDs, in one query; they win when both are given) or by external_ids
// (byExternal, unknown ones skipped).
func showManyRecords[ID ~int64, T any](r *http.Request, byIDs func([]ID) ([]T, error), byExternal func(string) (T, error)) ([]T, error) {
	targets, err := bulkTargets(r)
	if err != nil {
		return nil, err
	}
	var typed []ID
	for _, t := range targets {
		if t.id != 0 {
			typed = append(typed, ID(t.id))
		}
	}
	if len(typed) > 0 {
		return byIDs(typed)
	}
	if len(targets) == 0 {
		return nil, errs.E(errs.BadRequest, "Parameter ids or external_ids is required")
	}
	var out []T
	for _, t := range targets {
		rec, err := byExternal(t.ext)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// showManyKeys are the OBP keys show_many endpoints carry.
func showManyKeys(body map[string]any, n int) {
	body["next_page"] = nil
	body["previous_page"] = nil
	body["count"] = n
}
