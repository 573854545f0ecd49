package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/search"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// The unified search API: /search (offset pages, at most 1,000 results), /search/count
// and /search/export (cursor pages over one record type, no limit). Search is for staff,
// as Zendesk's is; end users search their requests through the help center. Counts are
// exact up to search.CountCap (1,000) and say 1,000 with "count_capped": true beyond
// (docs/SEARCH.md).

const (
	searchMaxResults    = 1000
	searchExportSize    = 100
	searchMaxExportSize = 1000 // largest page[size] of /search/export
)

// searchAPI serves the search endpoints, answered by sr.
type searchAPI struct {
	s  *Server
	sr search.Searcher
}

func (a *searchAPI) routes(mux *routeMux) {
	s := a.s
	mux.HandleFunc("GET /api/v2/search", s.h(agent, a.search))
	mux.HandleFunc("GET /api/v2/search/count", s.h(agent, a.count))
	mux.HandleFunc("GET /api/v2/search/export", s.h(agent, a.export))
}

// searchInvalid answers a bad query or page the way Zendesk's search does: 422 with
// {"error":"invalid","description":...}. Other errors go to the common mapping.
func searchInvalid(w http.ResponseWriter, err error) error {
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		writeJSON(w, http.StatusUnprocessableEntity, errBody{Error: "invalid", Description: e.Message})
		return nil
	}
	return err
}

// searchRequest reads the query and sort parameters common to the endpoints.
func searchRequest(r *http.Request, c *Call) (search.Request, error) {
	v := r.URL.Query()
	req := search.Request{Account: c.Acct.ID, Actor: c.Actor(), Now: time.Now(), Desc: true}
	q, err := search.Parse(v.Get("query"))
	if err != nil {
		return req, err
	}
	req.Query = q
	if sb := v.Get("sort_by"); sb != "" {
		key, ok := search.SortKey(sb)
		if !ok {
			return req, errs.E(errs.Invalid, "sort_by must be one of created_at, updated_at, priority, status or ticket_type, not %q", sb)
		}
		req.SortBy = key
	}
	switch so := v.Get("sort_order"); so {
	case "", "desc":
	case "asc":
		req.Desc = false
	default:
		return req, errs.E(errs.Invalid, "sort_order must be asc or desc, not %q", so)
	}
	return req, nil
}

func (a *searchAPI) search(w http.ResponseWriter, r *http.Request, c *Call) error {
	v := r.URL.Query()
	if v.Has("page[size]") || v.Has("page[after]") || v.Has("page[before]") {
		return errs.E(errs.BadRequest, "The search API pages with page and per_page; use /api/v2/search/export for cursor pagination")
	}
	page, perPage := 1, maxPerPage
	if s := v.Get("per_page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return errs.E(errs.BadRequest, "per_page must be a whole number from 1 to %d", maxPerPage)
		}
		perPage = min(n, maxPerPage)
	}
	if s := v.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return errs.E(errs.BadRequest, "page must be a whole number of at least 1")
		}
		page = n
	}
	offset := (page - 1) * perPage
	if offset >= searchMaxResults {
		return searchInvalid(w, errs.E(errs.Invalid, "Search results are limited to the first %d; narrow the query, or use /api/v2/search/export to read them all", searchMaxResults))
	}
	req, err := searchRequest(r, c)
	if err != nil {
		return searchInvalid(w, err)
	}
	req.Offset, req.Limit, req.Count = offset, min(perPage, searchMaxResults-offset), true
	body := map[string]any{"facets": nil}
	var res *search.Result
	ctx := r.Context()
	err = a.s.db.ReadHeavy(ctx, func(tx *store.Tx) error {
		var err error
		if res, err = a.sr.Search(ctx, tx, req); err != nil {
			return err
		}
		return a.results(ctx, tx, c, r, res.Hits, body)
	})
	if err != nil {
		return searchInvalid(w, err)
	}
	body["count"], body["count_capped"] = res.Count, res.Capped
	body["next_page"], body["previous_page"] = nil, nil
	pageURL := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		q.Set("per_page", strconv.Itoa(perPage))
		return baseURL(r) + r.URL.Path + ".json?" + q.Encode()
	}
	if res.More && page*perPage < searchMaxResults {
		body["next_page"] = pageURL(page + 1)
	}
	if page > 1 {
		body["previous_page"] = pageURL(page - 1)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (a *searchAPI) count(w http.ResponseWriter, r *http.Request, c *Call) error {
	req, err := searchRequest(r, c)
	if err != nil {
		return searchInvalid(w, err)
	}
	req.Count = true
	done, err := a.s.db.Heavy(r.Context())
	if err != nil {
		return err
	}
	res, err := a.sr.Search(r.Context(), a.s.db.R(), req)
	done()
	if err != nil {
		return searchInvalid(w, err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": res.Count, "count_capped": res.Capped})
	return nil
}

// export walks every match of one record type in id order, which updates cannot change,
// so a walk neither skips nor repeats records, and which the primary keys serve.
func (a *searchAPI) export(w http.ResponseWriter, r *http.Request, c *Call) error {
	v := r.URL.Query()
	kind, ok := search.ParseKind(v.Get("filter[type]"))
	if !ok {
		return searchInvalid(w, errs.E(errs.Invalid, "filter[type] is required: ticket, user, organization or group"))
	}
	size := searchExportSize
	if s := v.Get("page[size]"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return errs.E(errs.BadRequest, "page[size] must be a whole number from 1 to %d", searchMaxExportSize)
		}
		size = min(n, searchMaxExportSize)
	}
	req, err := searchRequest(r, c)
	if err != nil {
		return searchInvalid(w, err)
	}
	if req.Query.Kind != "" {
		return searchInvalid(w, errs.E(errs.Invalid, "Export queries cannot use type:; use filter[type] instead"))
	}
	req.Kind, req.SortBy, req.Desc, req.Limit, req.All = kind, "id", false, size, true
	if after := v.Get("page[after]"); after != "" {
		pos, err := decodeCursor(after)
		if err != nil {
			return err
		}
		req.After = &search.Hit{Kind: kind, Sort: pos.S, ID: pos.I}
	}
	body := map[string]any{"facets": nil}
	var res *search.Result
	ctx := r.Context()
	err = a.s.db.ReadHeavy(ctx, func(tx *store.Tx) error {
		var err error
		if res, err = a.sr.Search(ctx, tx, req); err != nil {
			return err
		}
		return a.results(ctx, tx, c, r, res.Hits, body)
	})
	if err != nil {
		return searchInvalid(w, err)
	}
	var afterCursor any
	links := map[string]any{"next": nil, "prev": nil}
	if n := len(res.Hits); n > 0 {
		last := res.Hits[n-1]
		cur := encodeCursor(cursorPos{S: last.Sort, I: last.ID})
		afterCursor = cur
		if res.More {
			q := r.URL.Query()
			q.Set("page[after]", cur)
			q.Set("page[size]", strconv.Itoa(size))
			links["next"] = baseURL(r) + r.URL.Path + ".json?" + q.Encode()
		}
	}
	body["meta"] = map[string]any{"has_more": res.More, "after_cursor": afterCursor, "before_cursor": nil}
	body["links"] = links
	writeJSON(w, http.StatusOK, body)
	return nil
}

// searchUser, searchOrg and searchGroup are people results: the object plus its type.
type searchUser struct {
	userWire
	ResultType string `json:"result_type"`
}

type searchOrg struct {
	orgWire
	ResultType string `json:"result_type"`
}

type searchGroup struct {
	groupWire
	ResultType string `json:"result_type"`
}

// results loads and renders the records of hits, in order, into body["results"], with
// include= sideloads for the tickets among them.
func (a *searchAPI) results(ctx context.Context, tx *store.Tx, c *Call, r *http.Request, hits []search.Hit, body map[string]any) error {
	acct := c.Acct.ID
	var tids []ids.Ticket
	var uids []ids.User
	var oids []ids.Org
	var gids []ids.Group
	for _, h := range hits {
		switch h.Kind {
		case search.Tickets:
			tids = append(tids, ids.Ticket(h.ID))
		case search.Users:
			uids = append(uids, ids.User(h.ID))
		case search.Organizations:
			oids = append(oids, ids.Org(h.ID))
		case search.Groups:
			gids = append(gids, ids.Group(h.ID))
		}
	}
	objs := map[search.Kind]map[int64]any{search.Tickets: {}, search.Users: {}, search.Organizations: {}, search.Groups: {}}
	tickets, err := ticket.GetMany(ctx, tx, acct, tids)
	if err != nil {
		return err
	}
	rendered, err := a.s.ticketObjectsJSON(ctx, tx, c, tickets, "ticket")
	if err != nil {
		return err
	}
	for i, t := range tickets {
		objs[search.Tickets][int64(t.ID)] = rendered[i]
	}
	users, err := identity.GetMany(ctx, tx, acct, uids)
	if err != nil {
		return err
	}
	for _, u := range users {
		objs[search.Users][int64(u.ID)] = searchUser{renderUser(c, u), "user"}
	}
	orgs, err := org.GetOrgs(ctx, tx, acct, oids)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		objs[search.Organizations][int64(o.ID)] = searchOrg{renderOrg(c, o), "organization"}
	}
	groups, err := org.GetGroups(ctx, tx, acct, gids)
	if err != nil {
		return err
	}
	for _, g := range groups {
		objs[search.Groups][int64(g.ID)] = searchGroup{renderGroup(c, g), "group"}
	}
	results := make([]any, 0, len(hits))
	for _, h := range hits {
		if o, ok := objs[h.Kind][h.ID]; ok {
			results = append(results, o)
		}
	}
	body["results"] = results
	return a.s.sideload(ctx, tx, c, r, body, tickets)
}
