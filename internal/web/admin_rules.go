package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/org"
	"tandem/internal/rules"
	"tandem/internal/sharing"
	"tandem/internal/ticket"
)

// The admin center's editors for triggers and views: conditions and actions as rows of
// form fields (field, operator, value). The rules package validates and stores them;
// its messages name the row that is wrong.

func (s *Server) rulesRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/rules", s.page(admin, s.rulesPage))
	mux.HandleFunc("GET /admin/triggers/new", s.page(admin, s.newTriggerForm))
	mux.HandleFunc("POST /admin/triggers", s.page(admin, s.createTrigger))
	mux.HandleFunc("GET /admin/triggers/{id}", s.page(admin, s.triggerPage))
	mux.HandleFunc("POST /admin/triggers/{id}", s.page(admin, s.saveTrigger))
	mux.HandleFunc("POST /admin/triggers/{id}/delete", s.page(admin, s.deleteTrigger))
	mux.HandleFunc("GET /admin/views/new", s.page(admin, s.newViewForm))
	mux.HandleFunc("POST /admin/views", s.page(admin, s.createView))
	mux.HandleFunc("GET /admin/views/{id}", s.page(admin, s.viewEditPage))
	mux.HandleFunc("POST /admin/views/{id}", s.page(admin, s.saveView))
	mux.HandleFunc("POST /admin/views/{id}/delete", s.page(admin, s.deleteView))
}

// Labels of condition fields, operators and actions, as people read them.
var (
	conditionLabels = map[string]string{
		"status": "Status", "priority": "Priority", "type": "Type", "group_id": "Group", "assignee_id": "Assignee",
		"requester_id": "Requester", "organization_id": "Organization", "current_tags": "Tags", "via_id": "Channel",
		"current_via_id": "Channel of the update", "ticket_is_public": "Privacy", "received_from": "Received from (sharing agreement)",
		"sent_to": "Sent to (sharing agreement)", "orphaned": "Orphaned (a partner stopped sharing)", "shared_at": "Hours since shared",
		"created_at": "Hours since created", "updated_at": "Hours since updated", "update_type": "Update type",
		"comment_is_public": "Comment is public", "comment_includes_word": "Comment text", "subject_includes_word": "Subject text",
		"role": "Current user role",
	}
	operatorLabels = map[string]string{
		"is": "Is", "is_not": "Is not", "less_than": "Less than", "greater_than": "Greater than", "changed": "Changed",
		"not_changed": "Not changed", "value": "Changed to", "value_previous": "Changed from", "not_value": "Not changed to",
		"not_value_previous": "Not changed from", "includes": "Contains", "not_includes": "Does not contain",
		"present": "Present", "not_present": "Not present",
	}
	operatorOrder = []string{"is", "is_not", "less_than", "greater_than", "includes", "not_includes", "changed", "not_changed",
		"value", "value_previous", "not_value", "not_value_previous", "present", "not_present"}
	actionLabels = map[string]string{
		"status": "Set status", "priority": "Set priority", "type": "Set type", "group_id": "Set group", "assignee_id": "Set assignee",
		"subject": "Set subject", "set_tags": "Set tags", "current_tags": "Add tags", "remove_tags": "Remove tags",
		"comment_value": "Add comment", "comment_value_html": "Add comment (HTML)", "comment_mode_is_public": "Comment is public (true or false)",
		"notification_user": "Notify user", "notification_group": "Notify group", "share_ticket": "Share ticket with", "notification_webhook": "Notify webhook",
	}
	// viewColumns are the columns a view may show, in the editor's order.
	viewColumns = []string{"nice_id", "description", "status", "priority", "type", "requester", "submitter", "assignee", "group", "organization", "created", "updated", "solved", "due_date", "sla_next_breach", "satisfaction_score", "partner_owed"}
)

// option is a choice in a select.
type option struct {
	Value, Label string
}

func labelled(values []string, labels map[string]string) []option {
	out := make([]option, 0, len(values))
	for _, v := range values {
		l := labels[v]
		if l == "" {
			l = titleCase(v)
		}
		out = append(out, option{v, l})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

// ruleRow is one condition or action row of an editor.
type ruleRow struct {
	Field, Operator, Value string
}

// ruleForm is the editor of a trigger or a view.
type ruleForm struct {
	Kind        string // trigger, view
	ID          int64
	New         bool
	Title       string
	Description string
	Active      bool
	All, Any    []ruleRow
	Actions     []ruleRow
	Columns     map[string]bool
	SortBy      string
	SortOrder   string
	Error       string
	Fields      []option
	Operators   []option
	ActionKinds []option
	ColumnOpts  []option
	SortOpts    []option
	Ref         ruleRef
}

// ruleRef lists what values may name: groups, agents and agreements by id.
type ruleRef struct {
	Groups     []*org.Group
	Agents     []*identity.User
	Agreements []*sharing.Agreement
}

func (s *Server) ruleForm(ctx context.Context, c *call, kind rules.Kind) (*ruleForm, error) {
	f := &ruleForm{Kind: kind.String(), Active: true, Columns: map[string]bool{}}
	conds, acts := rules.Definitions(kind)
	var fields []string
	for _, d := range conds {
		fields = append(fields, d.Field)
	}
	f.Fields = labelled(fields, conditionLabels)
	for _, op := range operatorOrder {
		f.Operators = append(f.Operators, option{op, operatorLabels[op]})
	}
	f.ActionKinds = labelled(acts, actionLabels)
	if kind == rules.KindTrigger {
		fields, err := ticket.Fields(ctx, s.db.R(), c.Acct.ID)
		if err != nil {
			return nil, err
		}
		f.ActionKinds = append(f.ActionKinds, customFieldActions(fields)...)
	}
	for _, col := range viewColumns {
		f.ColumnOpts = append(f.ColumnOpts, option{col, columnTitle(col)})
		if rules.Sortable(col) {
			f.SortOpts = append(f.SortOpts, option{col, columnTitle(col)})
		}
	}
	var err error
	if f.Ref.Groups, err = liveGroups(ctx, s.db.R(), c.Acct.ID); err != nil {
		return nil, err
	}
	if f.Ref.Agents, err = staffUsers(ctx, s.db.R(), c.Acct.ID); err != nil {
		return nil, err
	}
	if s.sharing != nil {
		ags, err := sharing.Agreements(ctx, s.db.R(), c.Acct.ID)
		if err != nil {
			return nil, err
		}
		for _, ag := range ags {
			if ag.Status != sharing.Inactive && ag.Status != sharing.Declined {
				f.Ref.Agreements = append(f.Ref.Agreements, ag)
			}
		}
	}
	return f, nil
}

// pad adds blank rows so that the editor has room for more.
func (f *ruleForm) pad() {
	f.All = append(f.All, ruleRow{}, ruleRow{})
	f.Any = append(f.Any, ruleRow{}, ruleRow{})
	if f.Kind == "trigger" {
		f.Actions = append(f.Actions, ruleRow{}, ruleRow{})
	}
}

func condRows(cs []rules.Condition) []ruleRow {
	out := make([]ruleRow, 0, len(cs)+2)
	for _, c := range cs {
		out = append(out, ruleRow{c.Field, c.Operator, c.Value})
	}
	return out
}

func actionRows(as []rules.Action) []ruleRow {
	out := make([]ruleRow, 0, len(as)+2)
	for _, a := range as {
		out = append(out, ruleRow{Field: a.Field, Value: strings.Join(a.Value, "\n")})
	}
	return out
}

// readRows reads the rows of one section (field, operator and value lists of equal
// length); rows without a field are left out.
func readRows(r *http.Request, prefix string) []ruleRow {
	f := r.PostForm
	fields, ops, vals := f[prefix+"_field"], f[prefix+"_op"], f[prefix+"_value"]
	var out []ruleRow
	for i, fd := range fields {
		row := ruleRow{Field: strings.TrimSpace(fd)}
		if i < len(ops) {
			row.Operator = ops[i]
		}
		if i < len(vals) {
			row.Value = strings.TrimSpace(vals[i])
		}
		if row.Field != "" {
			out = append(out, row)
		}
	}
	return out
}

func conditionsOf(rows []ruleRow) []rules.Condition {
	out := []rules.Condition{}
	for _, r := range rows {
		out = append(out, rules.Condition{Field: r.Field, Operator: r.Operator, Value: r.Value})
	}
	return out
}

// actionsOf turns action rows into actions. A notification's value is three lines:
// recipient, subject, then the body.
func actionsOf(rows []ruleRow) []rules.Action {
	out := []rules.Action{}
	for _, r := range rows {
		v := strings.ReplaceAll(r.Value, "\r\n", "\n")
		if strings.HasPrefix(r.Field, "notification_") {
			parts := strings.SplitN(v, "\n", 3)
			for len(parts) < 3 {
				parts = append(parts, "")
			}
			out = append(out, rules.Action{Field: r.Field, Value: parts, List: true})
			continue
		}
		out = append(out, rules.Action{Field: r.Field, Value: []string{v}})
	}
	return out
}

// fromForm reads the editor's common fields.
func (f *ruleForm) fromForm(r *http.Request) {
	p := r.PostForm
	f.Title, f.Description, f.Active = p.Get("title"), p.Get("description"), p.Get("active") == "on"
	f.All, f.Any = readRows(r, "all"), readRows(r, "any")
	if f.Kind == "trigger" {
		f.Actions = readRows(r, "act")
	} else {
		f.Columns = map[string]bool{}
		for _, col := range p["columns"] {
			f.Columns[col] = true
		}
		f.SortBy, f.SortOrder = p.Get("sort_by"), p.Get("sort_order")
	}
}

func (f *ruleForm) output() rules.Output {
	out := rules.Output{SortBy: f.SortBy, SortOrder: f.SortOrder}
	for _, col := range viewColumns {
		if f.Columns[col] {
			out.Columns = append(out.Columns, col)
		}
	}
	return out
}

type rulesList struct {
	Triggers []ruleSummary
	Views    []ruleSummary
}

// ruleSummary is a trigger or view as the list reads it back in words.
type ruleSummary struct {
	ID                 int64
	Position           int64
	Title, Description string
	Active, Restricted bool
	All, Any, Then     []string
}

// rulesPage lists the account's triggers and views.
func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request, c *call) error {
	ts, err := rules.Triggers(r.Context(), s.db.R(), c.Acct.ID, false)
	if err != nil {
		return err
	}
	vs, err := rules.Views(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	names := map[string]string{}
	if s.sharing != nil {
		ags, err := sharing.Agreements(r.Context(), s.db.R(), c.Acct.ID)
		if err != nil {
			return err
		}
		for _, ag := range ags {
			names[fmt.Sprint(ag.ID)] = ag.Name
		}
	}
	words := func(cs []rules.Condition) []string {
		out := make([]string, 0, len(cs))
		for _, cd := range cs {
			out = append(out, conditionText(cd, names))
		}
		return out
	}
	var d rulesList
	for _, t := range ts {
		sum := ruleSummary{ID: t.ID, Position: t.Position, Title: t.Title, Description: t.Description, Active: t.Active, All: words(t.Conditions.All), Any: words(t.Conditions.Any)}
		for _, a := range t.Actions {
			if a.Field == "share_ticket" && names[a.Str()] != "" {
				a = rules.Action{Field: a.Field, Value: []string{names[a.Str()]}}
			}
			sum.Then = append(sum.Then, actionText(a))
		}
		d.Triggers = append(d.Triggers, sum)
	}
	for _, v := range vs {
		d.Views = append(d.Views, ruleSummary{ID: v.ID, Title: v.Title, Description: v.Description, Active: v.Active, Restricted: v.Restriction != nil,
			All: words(v.Conditions.All), Any: words(v.Conditions.Any)})
	}
	return s.render(w, r, c, http.StatusOK, "admin_rules", page{Title: "Triggers and views", Area: "admin", Nav: "rules", Data: d})
}

func (s *Server) renderRuleForm(w http.ResponseWriter, r *http.Request, c *call, status int, f *ruleForm) error {
	f.pad()
	title := f.Title
	if f.New {
		title = "New " + f.Kind
	}
	return s.render(w, r, c, status, "admin_rule", page{Title: title, Area: "admin", Nav: "rules", Data: f})
}

func (s *Server) newTriggerForm(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := s.ruleForm(r.Context(), c, rules.KindTrigger)
	if err != nil {
		return err
	}
	f.New = true
	f.All = []ruleRow{{Field: "update_type", Operator: "is", Value: "Create"}}
	return s.renderRuleForm(w, r, c, http.StatusOK, f)
}

func (s *Server) createTrigger(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := s.ruleForm(r.Context(), c, rules.KindTrigger)
	if err != nil {
		return err
	}
	f.New = true
	f.fromForm(r)
	t := &rules.Trigger{Title: f.Title, Description: f.Description, Active: f.Active,
		Conditions: rules.Conditions{All: conditionsOf(f.All), Any: conditionsOf(f.Any)}, Actions: actionsOf(f.Actions)}
	if err := s.rules.CreateTrigger(r.Context(), c.Acct, t); err != nil {
		return s.ruleError(w, r, c, f, err)
	}
	return redirect(w, r, "/admin/rules", fmt.Sprintf("Trigger “%s” created.", t.Title))
}

// ruleError re-renders an editor with what went wrong, or fails the request.
func (s *Server) ruleError(w http.ResponseWriter, r *http.Request, c *call, f *ruleForm, err error) error {
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.PlanRequired) {
		f.Error = errorText(err)
		return s.renderRuleForm(w, r, c, statusOf(err), f)
	}
	return err
}

func (s *Server) triggerPage(w http.ResponseWriter, r *http.Request, c *call) error {
	t, err := rules.GetTrigger(r.Context(), s.db.R(), c.Acct.ID, pathInt(r, "id"))
	if err != nil {
		return err
	}
	f, err := s.ruleForm(r.Context(), c, rules.KindTrigger)
	if err != nil {
		return err
	}
	f.ID, f.Title, f.Description, f.Active = t.ID, t.Title, t.Description, t.Active
	f.All, f.Any, f.Actions = condRows(t.Conditions.All), condRows(t.Conditions.Any), actionRows(t.Actions)
	return s.renderRuleForm(w, r, c, http.StatusOK, f)
}

func (s *Server) saveTrigger(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := s.ruleForm(r.Context(), c, rules.KindTrigger)
	if err != nil {
		return err
	}
	f.ID = pathInt(r, "id")
	f.fromForm(r)
	_, err = s.rules.UpdateTrigger(r.Context(), c.Acct, f.ID, func(t *rules.Trigger) error {
		t.Title, t.Description, t.Active = f.Title, f.Description, f.Active
		t.Conditions = rules.Conditions{All: conditionsOf(f.All), Any: conditionsOf(f.Any)}
		t.Actions = actionsOf(f.Actions)
		return nil
	})
	if err != nil {
		return s.ruleError(w, r, c, f, err)
	}
	return redirect(w, r, "/admin/rules", fmt.Sprintf("Trigger “%s” saved.", f.Title))
}

func (s *Server) deleteTrigger(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.rules.DeleteTriggers(r.Context(), c.Acct.ID, []int64{pathInt(r, "id")}); err != nil {
		return err
	}
	return redirect(w, r, "/admin/rules", "Trigger deleted.")
}

func (s *Server) newViewForm(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := s.ruleForm(r.Context(), c, rules.KindView)
	if err != nil {
		return err
	}
	f.New = true
	f.All = []ruleRow{{Field: "status", Operator: "less_than", Value: "solved"}}
	for _, col := range rules.DefaultColumns {
		f.Columns[col] = true
	}
	f.SortBy, f.SortOrder = "updated", "desc"
	return s.renderRuleForm(w, r, c, http.StatusOK, f)
}

func (s *Server) createView(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := s.ruleForm(r.Context(), c, rules.KindView)
	if err != nil {
		return err
	}
	f.New = true
	f.fromForm(r)
	v := &rules.View{Title: f.Title, Description: f.Description, Active: f.Active,
		Conditions: rules.Conditions{All: conditionsOf(f.All), Any: conditionsOf(f.Any)}, Output: f.output()}
	if err := s.rules.CreateView(r.Context(), c.Acct, v); err != nil {
		return s.ruleError(w, r, c, f, err)
	}
	return redirect(w, r, "/admin/rules", fmt.Sprintf("View “%s” created. Agents find it in their views sidebar.", v.Title))
}

func (s *Server) viewEditPage(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := rules.GetView(r.Context(), s.db.R(), c.Acct.ID, pathInt(r, "id"))
	if err != nil {
		return err
	}
	f, err := s.ruleForm(r.Context(), c, rules.KindView)
	if err != nil {
		return err
	}
	f.ID, f.Title, f.Description, f.Active = v.ID, v.Title, v.Description, v.Active
	f.All, f.Any = condRows(v.Conditions.All), condRows(v.Conditions.Any)
	for _, col := range v.Output.Columns {
		f.Columns[col] = true
	}
	f.SortBy, f.SortOrder = v.Output.SortBy, v.Output.SortOrder
	return s.renderRuleForm(w, r, c, http.StatusOK, f)
}

func (s *Server) saveView(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := s.ruleForm(r.Context(), c, rules.KindView)
	if err != nil {
		return err
	}
	f.ID = pathInt(r, "id")
	f.fromForm(r)
	_, err = s.rules.UpdateView(r.Context(), c.Acct, f.ID, func(v *rules.View) error {
		v.Title, v.Description, v.Active = f.Title, f.Description, f.Active
		v.Conditions = rules.Conditions{All: conditionsOf(f.All), Any: conditionsOf(f.Any)}
		v.Output = f.output()
		return nil
	})
	if err != nil {
		return s.ruleError(w, r, c, f, err)
	}
	return redirect(w, r, "/admin/rules", fmt.Sprintf("View “%s” saved.", f.Title))
}

func (s *Server) deleteView(w http.ResponseWriter, r *http.Request, c *call) error {
	err := s.rules.DeleteViews(r.Context(), c.Acct.ID, []int64{pathInt(r, "id")}, func(*rules.View) error { return nil })
	if err != nil {
		return err
	}
	return redirect(w, r, "/admin/rules", "View deleted.")
}

// conditionText reads a condition back in words, for the lists: channels by name and
// sharing agreements by the partner's name (agreements maps an id to a name).
func conditionText(cd rules.Condition, agreements map[string]string) string {
	f := conditionLabels[cd.Field]
	if f == "" {
		f = cd.Field
	}
	op := operatorLabels[cd.Operator]
	if op == "" {
		op = cd.Operator
	}
	v := cd.Value
	switch {
	case v == "":
		v = "(none)"
	case cd.Field == "via_id" || cd.Field == "current_via_id":
		v = channelValue(v)
	case (cd.Field == "received_from" || cd.Field == "sent_to") && agreements[v] != "":
		v = agreements[v]
	}
	return f + " " + strings.ToLower(op) + " " + v
}

// actionText reads an action back in words.
func actionText(a rules.Action) string {
	l := actionLabels[a.Field]
	if l == "" {
		l = a.Field
	}
	v := a.Str()
	if len(v) > 60 {
		v = v[:60] + "…"
	}
	return l + ": " + v
}
