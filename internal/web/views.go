package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/rules"
	"tandem/internal/sharing"
	"tandem/internal/ticket"
)

// The views sidebar shows the account's views (business rules: each compiled to SQL
// from the field registry by the rules package, with the agent's visibility scope). An
// account without any sees the default views, unsaved. The default views also stay
// reachable by key (/agent/views/orphaned) as permanent links, whatever the account
// saved.

// linkViews are the views reachable by key: the default views, and recently solved
// tickets (a permanent link of the agent pages, not a default view).
func linkViews() []*rules.View {
	solved := &rules.View{Key: "solved", Title: "Recently solved", Active: true,
		Conditions: rules.Conditions{All: []rules.Condition{{Field: "status", Operator: "greater_than", Value: "hold"}}},
		Output:     rules.Output{Columns: listColumns, SortBy: "updated", SortOrder: "desc"}}
	return append(rules.DefaultViews(), solved)
}

// viewKey is how the agent pages link a view: a saved view by id, a default one by key.
func viewKey(v *rules.View) string {
	if v.Key != "" && v.ID == 0 {
		return v.Key
	}
	return strconv.FormatInt(v.ID, 10)
}

// viewByKey finds the view a link names, if the agent may see it.
func (s *Server) viewByKey(ctx context.Context, c *call, key string) (*rules.View, error) {
	id, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		for _, v := range linkViews() {
			if v.Key == key {
				return v, nil
			}
		}
		return nil, errs.NotFoundf("There is no view %q.", key)
	}
	v, err := rules.GetView(ctx, s.db.R(), c.Acct.ID, id)
	if err != nil {
		return nil, err
	}
	aud, err := rules.AudienceOf(ctx, s.db.R(), c.User)
	if err != nil {
		return nil, err
	}
	if !aud.Sees(v.Restriction) {
		return nil, errs.NotFoundf("view %d not found", id)
	}
	return v, nil
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

// accountViews lists the active views the agent may see (the default views, unsaved,
// when the account has none).
func (s *Server) accountViews(ctx context.Context, c *call) ([]*rules.View, error) {
	all, err := rules.Views(ctx, s.db.R(), c.Acct.ID)
	if err != nil {
		return nil, err
	}
	aud, err := rules.AudienceOf(ctx, s.db.R(), c.User)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return rules.DefaultViews(), nil
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
	now := time.Now()
	for _, v := range vs {
		if _, err := rules.CompileView(s.db.Dialect, c.Acct.ID, c.Actor(), v.Conditions, v.Output, now); err != nil {
			s.log.Warn("view does not compile", "account", c.Acct.ID, "view", v.ID, "err", err)
			continue
		}
		// The rules service's cached count: fresh unless the account changed since,
		// in which case the previous count shows while a recount runs.
		n, err := s.rules.CountView(ctx, c.Acct.ID, c.Actor(), v.Conditions, v.Output)
		if err != nil {
			return nil, err
		}
		sb.Items = append(sb.Items, sidebarItem{Key: viewKey(v), Title: v.Title, Count: n.N, Sharing: isSharingView(v)})
	}
	return sb, nil
}

// listColumns are the columns of lists that do not say otherwise (rules' column ids).
var listColumns = []string{"nice_id", "description", "requester", "status", "priority", "assignee", "updated"}

// viewSortable are the columns a rules view may be re-sorted by from its header (the
// rules package sorts people and groups by id, which means nothing to a reader).
var viewSortable = map[string]bool{"nice_id": true, "status": true, "priority": true, "type": true, "created": true, "updated": true, "solved": true, "due_date": true, "sla_next_breach": true,
	"satisfaction_score": true, "partner_owed": true, "problem": true, "incidents": true}

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

// viewPage shows a view: one of the account's (by id) or a default one (by key).
func (s *Server) viewPage(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	key := r.PathValue("view")
	v, err := s.viewByKey(ctx, c, key)
	if err != nil {
		return err
	}
	d := &listData{Key: key, BaseURL: "/agent/views/" + key}
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
		return fmt.Errorf("web: compile view %q: %w", key, err)
	}
	n, err := s.rules.CountView(ctx, c.Acct.ID, c.Actor(), v.Conditions, out)
	if err != nil {
		return err
	}
	rows, _, err := q.Tickets(ctx, s.db.R(), rules.Page{Size: d.List.PerPage, Offset: (d.List.Page - 1) * d.List.PerPage})
	if err != nil {
		return err
	}
	list := make([]*ticket.Ticket, len(rows))
	for i, row := range rows {
		list[i] = row.Ticket
	}
	d.sortable = func(col string) bool { return viewSortable[col] }
	if d.Rows, err = s.rows(ctx, c, list, d.Columns); err != nil {
		return err
	}
	d.Total = int(n.N)
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
	var owed map[ids.Ticket]time.Time
	if slices.Contains(cols, "partner_owed") {
		if owed, err = sharing.OwedSince(ctx, q, c.Acct.ID, tids); err != nil {
			return nil, err
		}
	}
	var incidents map[ids.Ticket]int
	if slices.Contains(cols, "incidents") {
		if incidents, err = ticket.IncidentCounts(ctx, q, c.Acct.ID, tids); err != nil {
			return nil, err
		}
	}
	name := func(u ids.User) string {
		if x := users[u]; x != nil {
			return x.Name
		}
		return ""
	}
	watched, unread, err := s.liveMarks(ctx, c, tids)
	if err != nil {
		return nil, err
	}
	out := make([]row, 0, len(list))
	for _, t := range list {
		rw := row{T: t, Badges: badgesOf(shares[t.ID]), Watched: watched[t.ID], Unread: unread[t.ID]}
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
			case "sla_next_breach":
				cl.Time = t.SLABreachAt
			case "satisfaction_score":
				cl.Text = satisfactionLabel(t.SatisfactionScore)
			case "partner_owed":
				cl.Time = owed[t.ID]
			case "problem":
				if t.ProblemID != 0 {
					cl.Text = "#" + strconv.FormatInt(int64(t.ProblemID), 10)
				}
			case "incidents":
				if t.Type == "problem" {
					cl.Text = strconv.Itoa(incidents[t.ID])
				}
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
