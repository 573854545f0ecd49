package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// The views sidebar shows the account's views (business rules: each compiled to SQL
// from a whitelist by the rules package, with the agent's visibility scope). An account
// without any falls back to the built-in set below, whose conditions are fixed SQL over
// tickets t. The built-in views also stay reachable by key (/agent/views/orphaned) as
// permanent links.
type view struct {
	Key   string
	Title string
	// cond returns the SQL condition and its arguments for the signed-in agent.
	cond func(acct ids.Account, me ids.User) (string, []any)
}

const unsolved = `t.status IN ('new', 'open', 'pending', 'hold')`

// shareExists is a condition on the ticket's shares (alias s).
func shareExists(cond string) string {
	return `EXISTS (SELECT 1 FROM ticket_shares s WHERE s.account_id = t.account_id AND s.ticket_id = t.id AND ` + cond + `)`
}

var views = []view{
	{"mine", "Your unsolved tickets", func(_ ids.Account, me ids.User) (string, []any) {
		return `t.assignee_id = ? AND ` + unsolved, []any{me}
	}},
	{"unassigned", "Unassigned tickets", func(ids.Account, ids.User) (string, []any) {
		return `t.assignee_id IS NULL AND ` + unsolved, nil
	}},
	{"unsolved", "All unsolved tickets", func(ids.Account, ids.User) (string, []any) { return unsolved, nil }},
	{"pending", "Pending tickets", func(ids.Account, ids.User) (string, []any) { return `t.status = 'pending'`, nil }},
	{"solved", "Recently solved", func(ids.Account, ids.User) (string, []any) {
		return `t.status IN ('solved', 'closed')`, nil
	}},
	{"shared", "Shared with partners", func(ids.Account, ids.User) (string, []any) {
		return shareExists(`s.direction = 'out' AND s.state = 'active'`) + ` AND t.status <> 'closed'`, nil
	}},
	{"received", "Received from partners", func(ids.Account, ids.User) (string, []any) {
		return shareExists(`s.direction = 'in' AND s.state = 'active'`) + ` AND t.status <> 'closed'`, nil
	}},
	{"orphaned", "Orphaned tickets", func(ids.Account, ids.User) (string, []any) {
		return shareExists(`s.direction = 'in' AND s.state = 'orphaned'`) + ` AND NOT ` + shareExists(`s.state = 'active'`) + ` AND t.status <> 'closed'`, nil
	}},
}

func viewByKey(k string) *view {
	for i := range views {
		if views[i].Key == k {
			return &views[i]
		}
	}
	return nil
}

// where builds the full condition of a built-in view for the agent: tenant, not
// deleted, the view's condition and the agent's scope.
func where(d store.Dialect, c *call, v *view) (string, []any) {
	cond, args := v.cond(c.Acct.ID, c.User.ID)
	scope, sargs := ticket.Scope(d, c.Acct.ID, c.Actor())
	all := append([]any{c.Acct.ID}, args...)
	all = append(all, sargs...)
	return `t.account_id = ? AND t.deleted_at = 0 AND (` + cond + `) AND (` + scope + `)`, all
}

// sidebar is the views list with live counts.
type sidebar struct {
	Active string
	Items  []sidebarItem
}

// HasSharing reports whether some views are about ticket sharing.
func (sb *sidebar) HasSharing() bool {
	for _, it := range sb.Items {
		if it.Sharing {
			return true
		}
	}
	return false
}

type sidebarItem struct {
	Key, Title string
	Count      int64
	Sharing    bool // a view about ticket sharing, listed under its own heading
}

// sharingFields are the view conditions about ticket sharing.
var sharingFields = map[string]bool{"received_from": true, "sent_to": true, "orphaned": true, "shared_at": true}

func isSharingView(v *rules.View) bool {
	for _, list := range [][]rules.Condition{v.Conditions.All, v.Conditions.Any} {
		for _, cd := range list {
			if sharingFields[cd.Field] {
				return true
			}
		}
	}
	return false
}

// accountViews lists the active views the agent may see.
func (s *Server) accountViews(ctx context.Context, c *call) ([]*rules.View, error) {
	all, err := rules.Views(ctx, s.db.R(), c.Acct.ID)
	if err != nil {
		return nil, err
	}
	aud, err := rules.AudienceOf(ctx, s.db.R(), c.User)
	if err != nil {
		return nil, err
	}
	var out []*rules.View
	for _, v := range all {
		if v.Active && aud.Sees(v.Restriction) {
			out = append(out, v)
		}
	}
	return out, nil
}

func (s *Server) sidebar(r *http.Request, c *call, active string) (*sidebar, error) {
	ctx := r.Context()
	sb := &sidebar{Active: active}
	vs, err := s.accountViews(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(vs) > 0 {
		now := time.Now()
		for _, v := range vs {
			q, err := rules.CompileView(s.db.Dialect, c.Acct.ID, c.Actor(), v.Conditions, v.Output, now)
			if err != nil {
				s.log.Warn("view does not compile", "account", c.Acct.ID, "view", v.ID, "err", err)
				continue
			}
			n, err := q.Count(ctx, s.db.R())
			if err != nil {
				return nil, err
			}
			sb.Items = append(sb.Items, sidebarItem{Key: strconv.FormatInt(v.ID, 10), Title: v.Title, Count: n, Sharing: isSharingView(v)})
		}
		return sb, nil
	}
	for i := range views {
		v := &views[i]
		cond, args := where(s.db.Dialect, c, v)
		var n int64
		if err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets t WHERE `+cond, args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("web: count view %s: %w", v.Key, err)
		}
		sb.Items = append(sb.Items, sidebarItem{Key: v.Key, Title: v.Title, Count: n, Sharing: v.Key == "shared" || v.Key == "received" || v.Key == "orphaned"})
	}
	return sb, nil
}

// listColumns are the columns of lists that do not say otherwise (rules' column ids).
var listColumns = []string{"nice_id", "description", "requester", "status", "priority", "assignee", "updated"}

// sortKeys are the columns a built-in list may be sorted by, mapped to SQL (a whitelist).
var sortKeys = map[string]string{
	"nice_id":     "t.id",
	"description": "t.subject",
	"status":      "CASE t.status WHEN 'new' THEN 0 WHEN 'open' THEN 1 WHEN 'pending' THEN 2 WHEN 'hold' THEN 3 WHEN 'solved' THEN 4 ELSE 5 END",
	"priority":    "CASE t.priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'normal' THEN 2 WHEN 'low' THEN 1 ELSE 0 END",
	"updated":     "t.updated_at",
	"created":     "t.created_at",
}

// viewSortable are the columns a rules view may be re-sorted by from its header (the
// rules package sorts people and groups by id, which means nothing to a reader).
var viewSortable = map[string]bool{"nice_id": true, "status": true, "priority": true, "type": true, "created": true, "updated": true, "solved": true, "due_date": true}

// listQuery is a page of a ticket list and its order.
type listQuery struct {
	Sort    string // a column id; "" = the list's own order
	Desc    bool
	Page    int
	PerPage int
}

func parseList(r *http.Request, sortable func(string) bool) listQuery {
	q := r.URL.Query()
	lq := listQuery{Sort: q.Get("sort"), Desc: q.Get("dir") != "asc", Page: atoiDefault(q.Get("page"), 1), PerPage: 25}
	if !sortable(lq.Sort) {
		lq.Sort = ""
	}
	lq.Page = min(max(lq.Page, 1), 10000)
	return lq
}

func (lq listQuery) orderBy() string {
	sort, desc := lq.Sort, lq.Desc
	if sort == "" {
		sort, desc = "updated", true
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	return sortKeys[sort] + dir + ", t.id" + dir
}

// listTickets returns a page of the tickets matching cond, and their total count.
func (s *Server) listTickets(ctx context.Context, cond string, args []any, lq listQuery) ([]*ticket.Ticket, int, error) {
	var total int
	if err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets t WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("web: count tickets: %w", err)
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+ticket.ColsT+` FROM tickets t WHERE `+cond+` ORDER BY `+lq.orderBy()+` LIMIT ? OFFSET ?`,
		append(args, lq.PerPage, (lq.Page-1)*lq.PerPage)...)
	if err != nil {
		return nil, 0, fmt.Errorf("web: list tickets: %w", err)
	}
	defer rows.Close()
	var out []*ticket.Ticket
	for rows.Next() {
		t, err := ticket.Scan(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, t)
	}
	return out, total, rows.Err()
}

// viewPage shows a view: one of the account's (by id) or a built-in one (by key).
func (s *Server) viewPage(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	key := r.PathValue("view")
	d := &listData{Key: key, BaseURL: "/agent/views/" + key}
	var list []*ticket.Ticket
	var total int
	if id, err := strconv.ParseInt(key, 10, 64); err == nil {
		v, err := rules.GetView(ctx, s.db.R(), c.Acct.ID, id)
		if err != nil {
			return err
		}
		aud, err := rules.AudienceOf(ctx, s.db.R(), c.User)
		if err != nil {
			return err
		}
		if !aud.Sees(v.Restriction) {
			return errs.NotFoundf("view %d not found", id)
		}
		d.Title, d.Description, d.Columns = v.Title, v.Description, v.Output.Columns
		d.Hint = hintFor(v)
		d.List = parseList(r, func(col string) bool { return viewSortable[col] })
		out := v.Output
		if d.List.Sort != "" {
			out.GroupBy, out.GroupOrder, out.SortBy, out.SortOrder = "", "", d.List.Sort, "asc"
			if d.List.Desc {
				out.SortOrder = "desc"
			}
		}
		q, err := rules.CompileView(s.db.Dialect, c.Acct.ID, c.Actor(), v.Conditions, out, time.Now())
		if err != nil {
			return fmt.Errorf("web: compile view %d: %w", v.ID, err)
		}
		n, err := q.Count(ctx, s.db.R())
		if err != nil {
			return err
		}
		rows, _, err := q.Tickets(ctx, s.db.R(), rules.Page{Size: d.List.PerPage, Offset: (d.List.Page - 1) * d.List.PerPage})
		if err != nil {
			return err
		}
		for _, row := range rows {
			list = append(list, row.Ticket)
		}
		total = int(n)
		d.sortable = func(col string) bool { return viewSortable[col] }
	} else {
		v := viewByKey(key)
		if v == nil {
			return errs.NotFoundf("There is no view %q.", key)
		}
		d.Title, d.Columns, d.Hint = v.Title, listColumns, builtinHints[v.Key]
		d.List = parseList(r, func(col string) bool { _, ok := sortKeys[col]; return ok })
		cond, args := where(s.db.Dialect, c, v)
		var err error
		if list, total, err = s.listTickets(ctx, cond, args, d.List); err != nil {
			return err
		}
		d.sortable = func(col string) bool { _, ok := sortKeys[col]; return ok }
	}
	var err error
	if d.Rows, err = s.rows(ctx, c, list, d.Columns); err != nil {
		return err
	}
	d.Total = total
	sb, err := s.sidebar(r, c, key)
	if err != nil {
		return err
	}
	d.build()
	return s.render(w, r, c, http.StatusOK, "view", page{Title: d.Title, Area: "agent", Nav: "views", Views: sb, Data: d})
}

var builtinHints = map[string]string{
	"orphaned": "When a partner stops sharing a ticket with you, your copy stays and shows up here, so nothing is lost.",
	"received": "Tickets that partner help desks share with you arrive here. An administrator accepts their invitations in Admin center › Ticket sharing.",
	"shared":   "Share a ticket with a partner from the sharing panel of the ticket page.",
}

// hintFor explains an empty sharing view.
func hintFor(v *rules.View) string {
	for _, cd := range v.Conditions.All {
		switch cd.Field {
		case "orphaned":
			return builtinHints["orphaned"]
		case "received_from":
			return builtinHints["received"]
		case "sent_to":
			return builtinHints["shared"]
		}
	}
	return ""
}

// cell is one column of a ticket row.
type cell struct {
	Col      string
	Text     string
	Time     time.Time
	Status   ticket.Status
	Priority string
}

// rows decorates tickets with their sharing badges and the cells of the columns.
func (s *Server) rows(ctx context.Context, c *call, list []*ticket.Ticket, cols []string) ([]row, error) {
	q := s.db.R()
	var uids []ids.User
	var gids []ids.Group
	var oids []ids.Org
	tids := make([]ids.Ticket, 0, len(list))
	for _, t := range list {
		uids = append(uids, t.RequesterID, t.AssigneeID, t.SubmitterID)
		tids = append(tids, t.ID)
		if t.GroupID != 0 {
			gids = append(gids, t.GroupID)
		}
		if t.OrganizationID != 0 {
			oids = append(oids, t.OrganizationID)
		}
	}
	users, err := usersByID(ctx, q, c.Acct.ID, uids)
	if err != nil {
		return nil, err
	}
	groups := map[ids.Group]string{}
	orgs := map[ids.Org]string{}
	if gs, err := org.GetGroups(ctx, q, c.Acct.ID, gids); err == nil {
		for _, g := range gs {
			groups[g.ID] = g.Name
		}
	} else {
		return nil, err
	}
	if os, err := org.GetOrgs(ctx, q, c.Acct.ID, oids); err == nil {
		for _, o := range os {
			orgs[o.ID] = o.Name
		}
	} else {
		return nil, err
	}
	shares, err := sharingOf(ctx, s, c, tids)
	if err != nil {
		return nil, err
	}
	name := func(u ids.User) string {
		if x := users[u]; x != nil {
			return x.Name
		}
		return ""
	}
	out := make([]row, 0, len(list))
	for _, t := range list {
		rw := row{T: t, Badges: badgesOf(shares[t.ID])}
		for _, col := range cols {
			cl := cell{Col: col}
			switch col {
			case "status":
				cl.Status = t.Status
			case "priority":
				cl.Priority = t.Priority
			case "type":
				cl.Text = titleCase(t.Type)
			case "requester":
				cl.Text = name(t.RequesterID)
			case "submitter":
				cl.Text = name(t.SubmitterID)
			case "assignee":
				cl.Text = name(t.AssigneeID)
			case "group":
				cl.Text = groups[t.GroupID]
			case "organization":
				cl.Text = orgs[t.OrganizationID]
			case "created":
				cl.Time = t.CreatedAt
			case "updated":
				cl.Time = t.UpdatedAt
			case "solved":
				cl.Time = t.SolvedAt
			case "due_date":
				cl.Time = t.DueAt
			}
			rw.Cells = append(rw.Cells, cl)
		}
		out = append(out, rw)
	}
	return out, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
