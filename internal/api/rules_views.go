package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

func viewJSON(c *Call, v *rules.View) map[string]any {
	cols := make([]map[string]any, len(v.Output.Columns))
	for i, col := range v.Output.Columns {
		cols[i] = map[string]any{"id": columnID(col), "title": rules.ColumnTitle(col), "filterable": rules.Sortable(col), "sortable": rules.Sortable(col)}
	}
	keyed := func(col, order string) any {
		if col == "" {
			return nil
		}
		return map[string]any{"id": col, "title": rules.ColumnTitle(col), "order": order}
	}
	return map[string]any{
		"url":         c.URL("/api/v2/views/" + strconv.FormatInt(v.ID, 10) + ".json"),
		"id":          v.ID,
		"title":       v.Title,
		"raw_title":   v.Title,
		"description": nullStr(v.Description),
		"active":      v.Active,
		"default":     v.Default,
		"position":    v.Position,
		"restriction": restrictionJSON(v.Restriction),
		"conditions":  conditionsJSON(v.Conditions),
		"execution": map[string]any{
			"group_by": nullStr(v.Output.GroupBy), "group_order": nullStr(v.Output.GroupOrder),
			"sort_by": nullStr(v.Output.SortBy), "sort_order": nullStr(v.Output.SortOrder),
			"group": keyed(v.Output.GroupBy, v.Output.GroupOrder), "sort": keyed(v.Output.SortBy, v.Output.SortOrder),
			"columns": cols, "fields": cols, "custom_fields": []any{},
		},
		"created_at": ts(v.CreatedAt),
		"updated_at": ts(v.UpdatedAt),
	}
}

// columnID renders a column id: custom field columns are numbers.
func columnID(col string) any {
	if n, err := strconv.ParseInt(col, 10, 64); err == nil {
		return n
	}
	return col
}

// parseOutput reads {"columns", "group_by", "group_order", "sort_by", "sort_order"}.
func parseOutput(raw json.RawMessage, v *errs.Validation) (rules.Output, bool) {
	var out rules.Output
	if !present(raw) || isNull(raw) {
		return out, false
	}
	var in struct {
		Columns    []json.RawMessage `json:"columns"`
		GroupBy    optStr            `json:"group_by"`
		GroupOrder optStr            `json:"group_order"`
		SortBy     optStr            `json:"sort_by"`
		SortOrder  optStr            `json:"sort_order"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		v.Bad("output", "must be an object {\"columns\": [...], \"sort_by\": ..., \"group_by\": ...}")
		return out, true
	}
	for _, c := range in.Columns {
		s, ok := scalarText(c)
		if !ok {
			v.Bad("output.columns", "column ids are strings (or custom field ids)")
			continue
		}
		out.Columns = append(out.Columns, s)
	}
	out.GroupBy, out.GroupOrder, out.SortBy, out.SortOrder = in.GroupBy.Value, in.GroupOrder.Value, in.SortBy.Value, in.SortOrder.Value
	return out, true
}

// applyViewIn copies a request body onto a view (conditions replaced when sent).
func applyViewIn(in *ruleIn, v *rules.View, creating bool) error {
	var val errs.Validation
	if in.Title.Set {
		v.Title = in.Title.Value
	}
	if in.Description.Set {
		v.Description = in.Description.Value
	}
	if in.Active.Set {
		v.Active = in.Active.Value
	}
	if in.Position.Set {
		v.Position = in.Position.Value
	}
	if present(in.Restriction) {
		v.Restriction = parseRestriction(in.Restriction, &val)
	}
	if conds, ok := parseConditions(in, &val); ok {
		v.Conditions = conds
	} else if creating {
		val.Add("conditions", "BlankValue", "cannot be blank")
	}
	if out, ok := parseOutput(in.Output, &val); ok {
		v.Output = out
	}
	return val.Err()
}

func (a *rulesAPI) audience(ctx context.Context, c *Call) (rules.Audience, error) {
	return rules.AudienceOf(ctx, a.s.db.R(), c.User)
}

// visibleViews lists the views the caller may see.
func (a *rulesAPI) visibleViews(ctx context.Context, c *Call) ([]*rules.View, rules.Audience, error) {
	aud, err := a.audience(ctx, c)
	if err != nil {
		return nil, aud, err
	}
	list, err := rules.Views(ctx, a.s.db.R(), c.Acct.ID)
	if err != nil {
		return nil, aud, err
	}
	kept := list[:0]
	for _, v := range list {
		if aud.Sees(v.Restriction) {
			kept = append(kept, v)
		}
	}
	return kept, aud, nil
}

// visibleView loads a view the caller may see (others are not found).
func (a *rulesAPI) visibleView(ctx context.Context, c *Call, r *http.Request) (*rules.View, rules.Audience, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, rules.Audience{}, err
	}
	aud, err := a.audience(ctx, c)
	if err != nil {
		return nil, aud, err
	}
	v, err := rules.GetView(ctx, a.s.db.R(), c.Acct.ID, id)
	if err != nil {
		return nil, aud, err
	}
	if !aud.Sees(v.Restriction) {
		return nil, aud, errs.NotFoundf("view %d not found", id)
	}
	return v, aud, nil
}

// deleteOne is DELETE /{id} of triggers, views or macros, with del deleting after its checks.
func deleteOne(del func(*http.Request, *Call, []int64) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := del(r, c, []int64{id}); err != nil {
			return err
		}
		noContent(w)
		return nil
	}
}

// deleteMany is DELETE /destroy_many?ids=... of triggers, views or macros: all or none.
func deleteMany(del func(*http.Request, *Call, []int64) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		list, err := idsParam(r)
		if err != nil {
			return err
		}
		if err := del(r, c, list); err != nil {
			return err
		}
		noContent(w)
		return nil
	}
}

// guardListed returns the check a call that changes views or macros (noun: "view" or
// "macro") runs on each: the ones the caller may not see are not found, and only admins
// change shared ones.
func guardListed[T rules.Listed](aud rules.Audience, noun string) func(T) error {
	return func(r T) error {
		if !aud.Sees(r.Restricted()) {
			return errs.NotFoundf("%s %d not found", noun, r.ListedID())
		}
		if !aud.Edits(r.Restricted()) {
			return editDenied(noun + "s")
		}
		return nil
	}
}

func editDenied(what string) error {
	return errs.Forbiddenf("Only admins manage shared %s; agents may manage their personal ones (restriction {\"type\": \"User\", \"id\": <their id>}).", what)
}

func (a *rulesAPI) writeViews(w http.ResponseWriter, r *http.Request, c *Call, list []*rules.View) error {
	return writeRulePage(w, r, c, "views", list, func(v *rules.View) ruleRow {
		return ruleRow{v.ID, v.Position, v.Title, v.CreatedAt, v.UpdatedAt}
	}, viewJSON)
}

// filterViews applies the list filters: active, access (personal, shared, account) and
// group_id.
func filterViews(r *http.Request, list []*rules.View, activeOnly bool) ([]*rules.View, error) {
	active, err := queryBool(r, "active")
	if err != nil {
		return nil, err
	}
	if activeOnly {
		t := true
		active = &t
	}
	q := r.URL.Query()
	access := q.Get("access")
	group, _ := strconv.ParseInt(q.Get("group_id"), 10, 64)
	query := strings.ToLower(strings.TrimSpace(q.Get("query")))
	kept := list[:0]
	for _, v := range list {
		rs := v.Restriction
		switch {
		case active != nil && v.Active != *active,
			access == "personal" && (rs == nil || rs.Type != "User"),
			access == "shared" && (rs == nil || rs.Type != "Group"),
			access == "account" && rs != nil,
			group != 0 && (rs == nil || rs.Type != "Group" || !containsID(rs.IDs, group)),
			query != "" && !strings.Contains(strings.ToLower(v.Title), query):
			continue
		}
		kept = append(kept, v)
	}
	return kept, nil
}

func containsID(list []int64, id int64) bool {
	for _, x := range list {
		if x == id {
			return true
		}
	}
	return false
}

func (a *rulesAPI) listViews(activeOnly bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		list, _, err := a.visibleViews(r.Context(), c)
		if err != nil {
			return err
		}
		if list, err = filterViews(r, list, activeOnly); err != nil {
			return err
		}
		return a.writeViews(w, r, c, list)
	}
}

func (a *rulesAPI) searchViews(w http.ResponseWriter, r *http.Request, c *Call) error {
	return a.listViews(false)(w, r, c)
}

func (a *rulesAPI) compactViews(w http.ResponseWriter, r *http.Request, c *Call) error {
	list, _, err := a.visibleViews(r.Context(), c)
	if err != nil {
		return err
	}
	if list, err = filterViews(r, list, true); err != nil {
		return err
	}
	out := make([]map[string]any, len(list))
	for i, v := range list {
		out[i] = viewJSON(c, v)
	}
	body := map[string]any{"views": out}
	showManyKeys(body, len(out))
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (a *rulesAPI) countViews(w http.ResponseWriter, r *http.Request, c *Call) error {
	list, _, err := a.visibleViews(r.Context(), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": map[string]any{"value": len(list), "refreshed_at": ts(store.Now())}})
	return nil
}

func (a *rulesAPI) showManyViews(w http.ResponseWriter, r *http.Request, c *Call) error {
	want, err := idsParam(r)
	if err != nil {
		return err
	}
	list, _, err := a.visibleViews(r.Context(), c)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, v := range list {
		if containsID(want, v.ID) {
			out = append(out, viewJSON(c, v))
		}
	}
	body := map[string]any{"views": out}
	showManyKeys(body, len(out))
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (a *rulesAPI) showView(w http.ResponseWriter, r *http.Request, c *Call) error {
	v, _, err := a.visibleView(r.Context(), c, r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"view": viewJSON(c, v)})
	return nil
}

func (a *rulesAPI) decodeView(r *http.Request) (*ruleIn, error) {
	return a.decodeRule(r, "view")
}

func (a *rulesAPI) createView(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := a.decodeView(r)
	if err != nil {
		return err
	}
	v := &rules.View{Active: true}
	if err := applyViewIn(in, v, true); err != nil {
		return err
	}
	aud, err := a.audience(r.Context(), c)
	if err != nil {
		return err
	}
	if !aud.Edits(v.Restriction) {
		return editDenied("views")
	}
	if err := a.svc.CreateView(r.Context(), c.Acct, v); err != nil {
		return err
	}
	writeCreatedRule(w, "view", viewJSON(c, v))
	return nil
}

func (a *rulesAPI) updateView(w http.ResponseWriter, r *http.Request, c *Call) error {
	cur, aud, err := a.visibleView(r.Context(), c, r)
	if err != nil {
		return err
	}
	in, err := a.decodeView(r)
	if err != nil {
		return err
	}
	v, err := a.svc.UpdateView(r.Context(), c.Acct, cur.ID, func(v *rules.View) error {
		if !aud.Edits(v.Restriction) {
			return editDenied("views")
		}
		if err := applyViewIn(in, v, false); err != nil {
			return err
		}
		if !aud.Edits(v.Restriction) {
			return editDenied("views")
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"view": viewJSON(c, v)})
	return nil
}

func (a *rulesAPI) deleteViewsChecked(r *http.Request, c *Call, list []int64) error {
	aud, err := a.audience(r.Context(), c)
	if err != nil {
		return err
	}
	return a.svc.DeleteViews(r.Context(), c.Acct.ID, list, guardListed[*rules.View](aud, "view"))
}

// positionChanges reads update_many rows {id, position, active} under a plural key.
func (a *rulesAPI) positionChanges(r *http.Request, key string) ([]rules.PositionChange, error) {
	var in map[string][]struct {
		ID       optID   `json:"id"`
		Position optID   `json:"position"`
		Active   optBool `json:"active"`
	}
	if err := a.s.decode(r, &in); err != nil {
		return nil, err
	}
	rows := in[key]
	if len(rows) == 0 {
		return nil, errs.Invalidf(key, "BlankValue", "list the %s to update", key)
	}
	if len(rows) > 100 {
		return nil, errs.E(errs.TooMany, "Parameter %s cannot specify more than 100 values", key)
	}
	out := make([]rules.PositionChange, len(rows))
	for i, x := range rows {
		out[i].ID = x.ID.Value
		if x.Position.Set {
			out[i].Position = &x.Position.Value
		}
		if x.Active.Set {
			out[i].Active = &x.Active.Value
		}
	}
	return out, nil
}

func (a *rulesAPI) updateManyViews(w http.ResponseWriter, r *http.Request, c *Call) error {
	changes, err := a.positionChanges(r, "views")
	if err != nil {
		return err
	}
	aud, err := a.audience(r.Context(), c)
	if err != nil {
		return err
	}
	list, err := a.svc.UpdateManyViews(r.Context(), c.Acct.ID, changes, guardListed[*rules.View](aud, "view"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(list))
	for i, v := range list {
		out[i] = viewJSON(c, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"views": out})
	return nil
}

// View execution.

func encodeKeys(keys []int64) string {
	b, _ := json.Marshal(keys)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeKeys(s string) ([]int64, error) {
	var keys []int64
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &keys)
	}
	if err != nil || len(keys) == 0 {
		return nil, errs.E(errs.BadRequest, "The page cursor is not valid")
	}
	return keys, nil
}

// viewRun is one page of a view (or preview) with its pagination facts.
type viewRun struct {
	rows    []rules.Row
	more    bool
	count   rules.ViewCount
	p       pageReq
	out     rules.Output
	tickets []*ticket.Ticket
}

// runView compiles conditions and output for the caller and reads one page. Sorting may
// be overridden with sort_by/sort_order (or sort in cursor mode).
func (a *rulesAPI) runView(r *http.Request, c *Call, conds rules.Conditions, out rules.Output) (*viewRun, error) {
	ctx := r.Context()
	p, err := parsePage(r, false)
	if err != nil {
		return nil, err
	}
	if p.sortKey != "" {
		if !rules.Sortable(p.sortKey) {
			return nil, errs.E(errs.BadRequest, "A view cannot be sorted by %q", p.sortKey)
		}
		out.SortBy, out.SortOrder = p.sortKey, "asc"
		if p.desc {
			out.SortOrder = "desc"
		}
	}
	q, err := rules.CompileView(a.s.db.Dialect, c.Acct.ID, c.Actor(), conds, out, store.Now())
	if err != nil {
		return nil, err
	}
	page := rules.Page{Size: p.size}
	if p.cursor {
		switch {
		case p.before != "":
			if page.Before, err = decodeKeys(p.before); err != nil {
				return nil, err
			}
		case p.after != "":
			if page.After, err = decodeKeys(p.after); err != nil {
				return nil, err
			}
		}
		if n := max(len(page.Before), len(page.After)); n > 0 && n != len(q.Order) {
			return nil, errs.E(errs.BadRequest, "The page cursor is not valid for this view's order")
		}
	} else {
		page.Offset = (p.page - 1) * p.size
	}
	db := a.s.db.R()
	run := &viewRun{p: p, out: out}
	if run.rows, run.more, err = q.Tickets(ctx, db, page); err != nil {
		return nil, err
	}
	if !p.cursor {
		if run.count, err = a.svc.CountView(ctx, c.Acct.ID, c.Actor(), conds, out); err != nil {
			return nil, err
		}
	}
	for _, row := range run.rows {
		run.tickets = append(run.tickets, row.Ticket)
	}
	return run, nil
}

// pageKeys adds the pagination keys of the mode in use.
func (run *viewRun) pageKeys(body map[string]any, r *http.Request) {
	p := run.p
	base := baseURL(r) + r.URL.Path + ".json?"
	if !p.cursor {
		body["count"] = run.count.N
		body["next_page"], body["previous_page"] = nil, nil
		mk := func(page int) string {
			q := r.URL.Query()
			q.Set("page", strconv.Itoa(page))
			q.Set("per_page", strconv.Itoa(p.size))
			return base + q.Encode()
		}
		if run.more {
			body["next_page"] = mk(p.page + 1)
		}
		if p.page > 1 {
			body["previous_page"] = mk(p.page - 1)
		}
		return
	}
	hasMore := run.more
	if p.before != "" {
		hasMore = true // we came from the rows after this page
	}
	meta := map[string]any{"has_more": hasMore, "after_cursor": nil, "before_cursor": nil}
	links := map[string]any{"next": nil, "prev": nil}
	if n := len(run.rows); n > 0 {
		after, before := encodeKeys(run.rows[n-1].Keys), encodeKeys(run.rows[0].Keys)
		meta["after_cursor"], meta["before_cursor"] = after, before
		q := r.URL.Query()
		q.Del("page[before]")
		q.Set("page[after]", after)
		q.Set("page[size]", strconv.Itoa(p.size))
		links["next"] = base + q.Encode()
		q.Del("page[after]")
		q.Set("page[before]", before)
		links["prev"] = base + q.Encode()
	}
	body["meta"], body["links"] = meta, links
}

// columnValue is a row's value for a view column, as execute renders it.
func columnValue(col string, t *ticket.Ticket) (string, any) {
	switch col {
	case "nice_id":
		return "nice_id", int64(t.ID)
	case "description", "subject":
		return "subject", t.Subject
	case "status":
		return "status", string(t.Status)
	case "priority":
		return "priority", nullStr(t.Priority)
	case "type":
		return "type", nullStr(t.Type)
	case "requester":
		return "requester_id", int64(t.RequesterID)
	case "submitter":
		return "submitter_id", int64(t.SubmitterID)
	case "assignee":
		return "assignee_id", nullID(t.AssigneeID)
	case "group":
		return "group_id", nullID(t.GroupID)
	case "organization":
		return "organization_id", nullID(t.OrganizationID)
	case "created":
		return "created", ts(t.CreatedAt)
	case "updated":
		return "updated", ts(t.UpdatedAt)
	case "solved":
		return "solved", ts(t.SolvedAt)
	case "due_date":
		return "due_date", ts(t.DueAt)
	case "sla_next_breach":
		return "sla_next_breach", ts(t.SLABreachAt)
	case "satisfaction_score":
		return "satisfaction_score", satisfactionScore(t)
	}
	if id, err := strconv.ParseInt(col, 10, 64); err == nil {
		return col, t.CustomFields[id]
	}
	return col, nil
}

// writeExecute answers execute and preview: rows with the output's columns.
func (a *rulesAPI) writeExecute(w http.ResponseWriter, r *http.Request, c *Call, v *rules.View, run *viewRun) error {
	ctx := r.Context()
	q := a.s.db.R()
	rendered, err := a.s.ticketObjectsJSON(ctx, q, c, run.tickets, "")
	if err != nil {
		return err
	}
	fields, err := a.s.ticketFieldsOf(ctx, q, c.Acct.ID)
	if err != nil {
		return err
	}
	fieldTitle := map[string]string{}
	for _, f := range fields {
		fieldTitle[strconv.FormatInt(f.ID, 10)] = f.Title
	}
	owed, err := partnerOwedColumn(ctx, q, c, run.tickets, run.out.Columns)
	if err != nil {
		return err
	}
	rows := make([]map[string]any, len(run.tickets))
	var groups []map[string]any
	for i, t := range run.tickets {
		row := map[string]any{"ticket": rendered[i]}
		for _, col := range run.out.Columns {
			k, val := columnValue(col, t)
			if col == "partner_owed" {
				k, val = col, owed(t)
			}
			row[k] = val
		}
		rows[i] = row
		if g := run.out.GroupBy; g != "" {
			_, val := columnValue(g, t)
			if n := len(groups); n == 0 || groups[n-1]["id"] != val {
				groups = append(groups, map[string]any{"id": val, "title": rules.ColumnTitle(g), "ticket_ids": []int64{}})
			}
			last := groups[len(groups)-1]
			last["ticket_ids"] = append(last["ticket_ids"].([]int64), int64(t.ID))
		}
	}
	cols := make([]map[string]any, len(run.out.Columns))
	for i, col := range run.out.Columns {
		title := rules.ColumnTitle(col)
		if title == "" {
			title = fieldTitle[col]
		}
		cols[i] = map[string]any{"id": columnID(col), "title": title}
	}
	if groups == nil {
		groups = []map[string]any{}
	}
	viewObj := map[string]any{"id": nil, "url": nil}
	if v != nil {
		viewObj = map[string]any{"id": v.ID, "url": c.URL("/api/v2/views/" + strconv.FormatInt(v.ID, 10) + ".json")}
	}
	body := map[string]any{"view": viewObj, "rows": rows, "columns": cols, "groups": groups}
	run.pageKeys(body, r)
	if err := a.s.sideload(ctx, q, c, r, body, run.tickets); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (a *rulesAPI) executeView(w http.ResponseWriter, r *http.Request, c *Call) error {
	v, _, err := a.visibleView(r.Context(), c, r)
	if err != nil {
		return err
	}
	run, err := a.runView(r, c, v.Conditions, v.Output)
	if err != nil {
		return err
	}
	return a.writeExecute(w, r, c, v, run)
}

func (a *rulesAPI) viewTickets(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	v, _, err := a.visibleView(ctx, c, r)
	if err != nil {
		return err
	}
	run, err := a.runView(r, c, v.Conditions, v.Output)
	if err != nil {
		return err
	}
	q := a.s.db.R()
	rendered, err := a.s.renderTicketPage(ctx, q, c, r, run.tickets, nil)
	if err != nil {
		return err
	}
	body := map[string]any{"tickets": rendered}
	run.pageKeys(body, r)
	if err := a.s.sideload(ctx, q, c, r, body, run.tickets); err != nil {
		return err
	}
	writeJSONPage(w, http.StatusOK, body, "tickets")
	return nil
}

// countOf is the view's count as the caller sees it, from the rules service's cache of
// counts (fresh = false: the account changed since, and a recount is running).
func (a *rulesAPI) countOf(ctx context.Context, c *Call, conds rules.Conditions, out rules.Output) (rules.ViewCount, error) {
	return a.svc.CountView(ctx, c.Acct.ID, c.Actor(), conds, out)
}

func viewCountJSON(c *Call, v *rules.View, n rules.ViewCount) map[string]any {
	out := map[string]any{"view_id": nil, "url": nil, "value": n.N, "pretty": strconv.FormatInt(n.N, 10), "fresh": n.Fresh}
	if v != nil {
		out["view_id"] = v.ID
		out["url"] = c.URL("/api/v2/views/" + strconv.FormatInt(v.ID, 10) + "/count.json")
	}
	return out
}

func (a *rulesAPI) viewCount(w http.ResponseWriter, r *http.Request, c *Call) error {
	v, _, err := a.visibleView(r.Context(), c, r)
	if err != nil {
		return err
	}
	n, err := a.countOf(r.Context(), c, v.Conditions, v.Output)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"view_count": viewCountJSON(c, v, n)})
	return nil
}

func (a *rulesAPI) countManyViews(w http.ResponseWriter, r *http.Request, c *Call) error {
	want, err := queryIDs(r, "ids", 20)
	if err != nil {
		return err
	}
	if len(want) == 0 {
		return errs.Invalidf("ids", "BlankValue", "name at least one view")
	}
	list, _, err := a.visibleViews(r.Context(), c)
	if err != nil {
		return err
	}
	byID := map[int64]*rules.View{}
	for _, v := range list {
		byID[v.ID] = v
	}
	out := []map[string]any{}
	for _, id := range want {
		v := byID[id]
		if v == nil {
			continue
		}
		n, err := a.countOf(r.Context(), c, v.Conditions, v.Output)
		if err != nil {
			return err
		}
		out = append(out, viewCountJSON(c, v, n))
	}
	writeJSON(w, http.StatusOK, map[string]any{"view_counts": out})
	return nil
}

// decodePreview reads {"view": {"all", "any", "output"}} and validates it.
func (a *rulesAPI) decodePreview(r *http.Request, c *Call) (rules.Conditions, rules.Output, error) {
	in, err := a.decodeView(r)
	if err != nil {
		return rules.Conditions{}, rules.Output{}, err
	}
	var v errs.Validation
	conds, _ := parseConditions(in, &v)
	out, _ := parseOutput(in.Output, &v)
	if err := v.Err(); err != nil {
		return conds, out, err
	}
	if err := rules.ValidatePreview(r.Context(), a.s.db.R(), c.Acct, &conds, &out); err != nil {
		return conds, out, err
	}
	return conds, out, nil
}

func (a *rulesAPI) previewView(w http.ResponseWriter, r *http.Request, c *Call) error {
	conds, out, err := a.decodePreview(r, c)
	if err != nil {
		return err
	}
	run, err := a.runView(r, c, conds, out)
	if err != nil {
		return err
	}
	return a.writeExecute(w, r, c, nil, run)
}

func (a *rulesAPI) previewViewCount(w http.ResponseWriter, r *http.Request, c *Call) error {
	conds, out, err := a.decodePreview(r, c)
	if err != nil {
		return err
	}
	n, err := a.countOf(r.Context(), c, conds, out)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"view_count": viewCountJSON(c, nil, n)})
	return nil
}
