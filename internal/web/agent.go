package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/rules"
	"tandem/internal/search"
	"tandem/internal/sharing"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

func (s *Server) agentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /agent", s.page(staff, func(w http.ResponseWriter, r *http.Request, c *call) error {
		http.Redirect(w, r, "/agent/views/unsolved", http.StatusSeeOther)
		return nil
	}))
	mux.HandleFunc("GET /agent/views/{view}", s.page(staff, s.viewPage))
	mux.HandleFunc("GET /agent/counts", s.page(staff, s.counts))
	mux.HandleFunc("GET /agent/search", s.page(staff, s.search))
	mux.HandleFunc("GET /agent/tickets/new", s.page(staff, s.newTicketForm))
	mux.HandleFunc("POST /agent/tickets", s.page(staff, s.createTicket))
	mux.HandleFunc("GET /agent/tickets/{id}", s.page(staff, s.ticketPage))
	mux.HandleFunc("GET /agent/tickets/{id}/sharing", s.page(staff, s.sharingBox))
	mux.HandleFunc("POST /agent/tickets/{id}", s.page(staff, s.updateTicket))
	mux.HandleFunc("POST /agent/tickets/{id}/share", s.page(staff, s.shareTicket))
	mux.HandleFunc("POST /agent/tickets/{id}/unshare", s.page(staff, s.unshareTicket))
}

// row is a ticket in a list, with its sharing badges and the cells of the list's columns.
type row struct {
	T      *ticket.Ticket
	Badges []badge
	Cells  []cell
	// Watched is how many people have the ticket open; Unread marks a ticket someone
	// else updated since the agent last looked (live updates).
	Watched int
	Unread  bool
}

// badge is a small label: Outbound, Inbound, Orphaned, delivery states.
type badge struct {
	Kind  string // outbound, inbound, orphaned, failed
	Label string
	Title string // longer text for the tooltip and screen readers
}

// badgesOf describes a ticket's sharing in badges.
func badgesOf(shares []sharing.ShareInfo) []badge {
	var out []badge
	active := false
	for _, sh := range shares {
		if sh.State == sharing.ShareActive {
			active = true
		}
	}
	for _, sh := range shares {
		switch {
		case sh.State == sharing.ShareActive && sh.Direction == sharing.Outbound:
			out = append(out, badge{"outbound", "Outbound", "Shared with " + sh.Partner})
		case sh.State == sharing.ShareActive:
			out = append(out, badge{"inbound", "Inbound", "Received from " + sh.Partner})
		case sh.State == sharing.ShareOrphaned && !active:
			out = append(out, badge{"orphaned", "Orphaned", sh.Partner + " stopped sharing this ticket; it is no longer synced"})
		case sh.State == sharing.ShareFailed:
			out = append(out, badge{"failed", "Sharing failed", "Sharing with " + sh.Partner + " failed: " + sh.StateReason})
		}
	}
	return out
}

// sharingOf loads the shares of tickets (none when sharing is off).
func sharingOf(ctx context.Context, s *Server, c *call, tids []ids.Ticket) (map[ids.Ticket][]sharing.ShareInfo, error) {
	return sharing.SharingOf(ctx, s.db.R(), c.Acct.ID, tids)
}

// listData is a ticket list page: a view or search results.
type listData struct {
	Key         string // the view's key or id ("" for search)
	Title       string
	Description string
	Hint        string // what an empty list means
	Query       string
	Error       string
	Rows        []row
	Total       int
	TotalCapped bool // more than Total match (search counts up to search.CountCap)
	List        listQuery
	Pages       int
	BaseURL     string
	Columns     []string
	Heads       []column
	sortable    func(col string) bool
}

// column is a list column header, with its sort link when it sorts.
type column struct {
	Key, Title string
	URL        string
	Sorted     string // "", "ascending", "descending"
}

// columnTitle names a list column.
func columnTitle(col string) string {
	switch col {
	case "nice_id":
		return "ID"
	case "description":
		return "Subject"
	}
	if t := rules.ColumnTitle(col); t != "" {
		return t
	}
	return titleCase(col)
}

func (d *listData) build() {
	d.Pages = max((d.Total+d.List.PerPage-1)/d.List.PerPage, 1)
	for _, col := range d.Columns {
		cl := column{Key: col, Title: columnTitle(col)}
		if d.sortable != nil && d.sortable(col) {
			dir := "desc"
			switch {
			case col == d.List.Sort && d.List.Desc:
				cl.Sorted, dir = "descending", "asc"
			case col == d.List.Sort:
				cl.Sorted = "ascending"
			case col == "description" || col == "nice_id":
				dir = "asc"
			}
			cl.URL = d.url(col, dir, 1)
		}
		d.Heads = append(d.Heads, cl)
	}
}

func (d *listData) url(sort, dir string, page int) string {
	sep := "?"
	if strings.Contains(d.BaseURL, "?") {
		sep = "&"
	}
	u := d.BaseURL + sep + "page=" + strconv.Itoa(page)
	if sort != "" {
		u += "&sort=" + sort + "&dir=" + dir
	}
	return u
}

// PageURL is the URL of another page of the list, in the same order.
func (d *listData) PageURL(page int) string {
	dir := "asc"
	if d.List.Desc {
		dir = "desc"
	}
	return d.url(d.List.Sort, dir, page)
}

// counts is the views sidebar alone, which the workspace refreshes every few seconds.
func (s *Server) counts(w http.ResponseWriter, r *http.Request, c *call) error {
	sb, err := s.sidebar(r, c, r.URL.Query().Get("active"))
	if err != nil {
		return err
	}
	return s.renderBlock(w, c, "view", "views-sidebar", sb)
}

// search answers the search box: a ticket number opens the ticket; anything else is a
// Zendesk-style query ("stove status<solved tags:warranty") over the tickets the agent
// may see, through the full-text search of the search package.
func (s *Server) search(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if n, err := strconv.ParseInt(strings.TrimPrefix(q, "#"), 10, 64); err == nil && n > 0 {
		if _, _, err := ticket.GetVisible(ctx, s.db.R(), c.Acct.ID, c.Actor(), ids.Ticket(n)); err == nil {
			http.Redirect(w, r, "/agent/tickets/"+strconv.FormatInt(n, 10), http.StatusSeeOther)
			return nil
		}
	}
	if len(q) > 500 {
		// Cut on a character boundary: half a UTF-8 character is not a query.
		cut := 500
		for cut > 0 && !utf8.RuneStart(q[cut]) {
			cut--
		}
		q = q[:cut]
	}
	d := &listData{Title: "Search results", Query: q, Columns: listColumns, BaseURL: "/agent/search?q=" + urlQueryEscape(q)}
	d.List = parseList(r, func(string) bool { return false })
	var list []*ticket.Ticket
	if q != "" {
		parsed, err := search.Parse(q)
		if err != nil {
			d.Error = errorText(err)
		} else {
			req := search.Request{Account: c.Acct.ID, Actor: c.Actor(), Query: parsed, Kind: search.Tickets, Desc: true, Now: time.Now(),
				Offset: (d.List.Page - 1) * d.List.PerPage, Limit: d.List.PerPage, Count: true}
			err = s.db.ReadHeavy(ctx, func(tx *store.Tx) error {
				res, err := s.searcher.Search(ctx, tx, req)
				if err != nil {
					return err
				}
				d.Total, d.TotalCapped = res.Count, res.Capped
				byID := make([]ids.Ticket, 0, len(res.Hits))
				for _, h := range res.Hits {
					byID = append(byID, ids.Ticket(h.ID))
				}
				got, err := ticket.GetMany(ctx, tx, c.Acct.ID, byID)
				if err != nil {
					return err
				}
				index := map[ids.Ticket]*ticket.Ticket{}
				for _, t := range got {
					index[t.ID] = t
				}
				for _, id := range byID { // in the order of the hits
					if t := index[id]; t != nil {
						list = append(list, t)
					}
				}
				return nil
			})
			if errs.Is(err, errs.Invalid) || errs.Is(err, errs.BadRequest) {
				d.Error, err = errorText(err), nil
			}
			if err != nil {
				return err
			}
		}
	}
	var err error
	if d.Rows, err = s.rows(ctx, c, list, d.Columns); err != nil {
		return err
	}
	d.build()
	return s.render(w, r, c, http.StatusOK, "view", page{Title: "Search: " + q, Area: "agent", Nav: "search", Data: d})
}

// pathTicket loads the ticket named in the path, if the agent may see it.
func (s *Server) pathTicket(r *http.Request, c *call) (*ticket.Ticket, ticket.Access, error) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		return nil, ticket.Access{}, errs.NotFoundf("There is no ticket %q.", r.PathValue("id"))
	}
	return ticket.GetVisible(r.Context(), s.db.R(), c.Acct.ID, c.Actor(), ids.Ticket(n))
}

func ticketURL(id ids.Ticket) string { return "/agent/tickets/" + strconv.FormatInt(int64(id), 10) }

func atoiDefault(s string, d int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return d
	}
	return n
}

func parseID(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
