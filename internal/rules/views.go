package rules

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/store"
	"tandem/internal/ticket/tfield"
)

// Columns a view may show, with their titles (Zendesk's output column ids).
var columnTitles = map[string]string{
	"nice_id": "ID", "description": "Subject", "subject": "Subject", "status": "Status", "priority": "Priority",
	"type": "Type", "requester": "Requester", "submitter": "Submitter", "assignee": "Assignee", "group": "Group",
	"organization": "Organization", "created": "Requested", "updated": "Updated", "solved": "Solved",
	"due_date": "Due date", "sla_next_breach": "Next SLA breach", "assigned": "Assigned", "updated_assignee": "Assignee updated",
	"updated_requester": "Requester updated", "updated_by_type": "Latest update", "satisfaction_score": "Satisfaction", "partner_owed": "Partner owes an answer since",
	"problem": "Problem", "incidents": "Incidents", "locale_id": "Language", "ticket_form": "Ticket form", "brand": "Brand", "custom_status_id": "Ticket status",
}

// ColumnTitle is the title of a view column ("" if unknown).
func ColumnTitle(id string) string { return columnTitles[id] }

// DefaultColumns are shown when a view names none.
var DefaultColumns = []string{"status", "description", "requester", "created", "updated", "assignee"}

// Sortable reports whether a view may sort or group by the column: the registry
// declares each column's sort key, an integer expression over tickets t (so that rows
// can be paged by key). People and groups sort by id.
func Sortable(col string) bool { return tfield.SortExpr(col) != "" }

// viewNeeds are the fields of which a view must test at least one in "all" (Zendesk's rule).
var viewNeeds = []string{"status", "type", "group_id", "assignee_id", "requester_id"}

// ViewCols is the view column list matching ScanView.
const ViewCols = `id, account_id, title, description, active, position, restriction_type, restriction_id, restriction_ids, conditions, output, is_default, created_at, updated_at`

// ScanView reads one view row selected with ViewCols.
func ScanView(row interface{ Scan(...any) error }) (*View, error) {
	var v View
	var rtype sql.NullString
	var rid sql.NullInt64
	var rids, conds, out string
	var c, u int64
	if err := row.Scan(&v.ID, &v.AccountID, &v.Title, &v.Description, &v.Active, &v.Position, &rtype, &rid, &rids, &conds, &out, &v.Default, &c, &u); err != nil {
		return nil, err
	}
	var err error
	if v.Restriction, err = scanRestriction(rtype, rid, rids); err != nil {
		return nil, fmt.Errorf("rules: view %d: %w", v.ID, err)
	}
	v.CreatedAt, v.UpdatedAt = store.Time(c), store.Time(u)
	if err := json.Unmarshal([]byte(conds), &v.Conditions); err != nil {
		return nil, fmt.Errorf("rules: view %d conditions: %w", v.ID, err)
	}
	v.Conditions = v.Conditions.normalized()
	if err := json.Unmarshal([]byte(out), &v.Output); err != nil {
		return nil, fmt.Errorf("rules: view %d output: %w", v.ID, err)
	}
	if len(v.Output.Columns) == 0 {
		v.Output.Columns = append([]string{}, DefaultColumns...)
	}
	return &v, nil
}

func scanRestriction(rtype sql.NullString, rid sql.NullInt64, rids string) (*Restriction, error) {
	if !rtype.Valid || rtype.String == "" {
		return nil, nil
	}
	r := &Restriction{Type: rtype.String, ID: rid.Int64}
	if err := json.Unmarshal([]byte(rids), &r.IDs); err != nil {
		return nil, fmt.Errorf("restriction_ids: %w", err)
	}
	return r, nil
}

func restrictionCols(r *Restriction) (any, any, string) {
	if r == nil {
		return nil, nil, "[]"
	}
	list := r.IDs
	if list == nil {
		list = []int64{}
	}
	return r.Type, r.ID, jsonText(list)
}

// restriction validates a view's or macro's restriction.
func (c *checker) restriction(r *Restriction) {
	if r == nil {
		return
	}
	switch strings.ToLower(r.Type) {
	case "user":
		r.Type, r.IDs = "User", nil
		if u := c.user(r.ID); u == nil || !u.Role.IsStaff() {
			c.bad("restriction", "user %d is not an agent of this account", r.ID)
		}
	case "group":
		r.Type = "Group"
		if len(r.IDs) == 0 && r.ID != 0 {
			r.IDs = []int64{r.ID}
		}
		if len(r.IDs) == 0 {
			c.bad("restriction", "a group restriction names at least one group")
		}
		for _, g := range r.IDs {
			if !c.groupExists(g) {
				c.bad("restriction", "group %d does not exist", g)
			}
		}
		if len(r.IDs) > 0 {
			r.ID = r.IDs[0]
		}
	default:
		c.bad("restriction", "type must be User or Group, not %q", r.Type)
	}
}

// validateViewConditions checks a view's conditions (saved views and previews).
func validateViewConditions(c *checker, conds *Conditions) {
	*conds = conds.normalized()
	c.conditions(KindView, conds)
	for _, cond := range conds.All {
		if oneOf(cond.Field, viewNeeds) {
			return
		}
	}
	c.v.Add("conditions", "InvalidValue", "a view needs at least one \"all\" condition on status, type, group_id, assignee_id or requester_id")
}

func (c *checker) output(o *Output) {
	if len(o.Columns) == 0 {
		o.Columns = append([]string{}, DefaultColumns...)
	}
	if len(o.Columns) > MaxViewColumns {
		c.v.Add("output.columns", "TooLong", fmt.Sprintf("a view shows at most %d columns", MaxViewColumns))
	}
	for i, col := range o.Columns {
		if columnTitles[col] != "" {
			continue
		}
		if id, ok := parseID(col); ok && c.field(id) != nil {
			continue
		}
		c.bad(fmt.Sprintf("output.columns[%d]", i), "%q is not a column", col)
	}
	for _, k := range []struct {
		path string
		col  *string
		ord  *string
	}{{"output.sort_by", &o.SortBy, &o.SortOrder}, {"output.group_by", &o.GroupBy, &o.GroupOrder}} {
		if *k.col != "" && !Sortable(*k.col) {
			c.bad(k.path, "%q cannot be sorted or grouped by", *k.col)
		}
		switch strings.ToLower(*k.ord) {
		case "", "asc":
			*k.ord = "asc"
		case "desc":
			*k.ord = "desc"
		default:
			c.bad(strings.Replace(k.path, "_by", "_order", 1), "%q must be asc or desc", *k.ord)
		}
		if *k.col == "" {
			*k.ord = ""
		}
	}
}

// ValidateView checks a view against the account's data and normalizes it.
func ValidateView(ctx context.Context, q store.Queryer, acct *account.Account, v *View) error {
	v.Title = strings.TrimSpace(v.Title)
	c := newChecker(ctx, q, acct)
	checkBasics(&c.v, v.Title, v.Description, v.Conditions, v.Output)
	if c.v.Has() {
		return c.v.Err()
	}
	validateViewConditions(c, &v.Conditions)
	c.output(&v.Output)
	c.restriction(v.Restriction)
	return c.v.Err()
}

// ValidatePreview checks the conditions and output of an ad-hoc view.
func ValidatePreview(ctx context.Context, q store.Queryer, acct *account.Account, conds *Conditions, out *Output) error {
	c := newChecker(ctx, q, acct)
	checkBasics(&c.v, "preview", "", conds, out)
	if c.v.Has() {
		return c.v.Err()
	}
	validateViewConditions(c, conds)
	c.output(out)
	return c.v.Err()
}

// InsertView validates and adds a view inside tx (last unless it has a position).
func InsertView(ctx context.Context, tx *store.Tx, acct *account.Account, v *View) error {
	if err := ValidateView(ctx, tx, acct, v); err != nil {
		return err
	}
	if v.Position <= 0 {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) + 1 FROM views WHERE account_id = ?`, acct.ID).Scan(&v.Position); err != nil {
			return fmt.Errorf("rules: next view position: %w", err)
		}
	}
	now := store.Now()
	v.AccountID, v.CreatedAt, v.UpdatedAt = acct.ID, now, now
	rt, rid, rids := restrictionCols(v.Restriction)
	err := tx.QueryRowContext(ctx, `INSERT INTO views (account_id, title, description, active, position, restriction_type, restriction_id, restriction_ids, conditions, output, is_default, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		acct.ID, v.Title, v.Description, v.Active, v.Position, rt, rid, rids, jsonText(v.Conditions), jsonText(v.Output), v.Default, store.Micros(now), store.Micros(now)).Scan(&v.ID)
	if err != nil {
		return fmt.Errorf("rules: insert view: %w", err)
	}
	return nil
}

func saveView(ctx context.Context, tx *store.Tx, v *View) error {
	v.UpdatedAt = store.Now()
	rt, rid, rids := restrictionCols(v.Restriction)
	_, err := tx.ExecContext(ctx, `UPDATE views SET title = ?, description = ?, active = ?, position = ?, restriction_type = ?, restriction_id = ?, restriction_ids = ?, conditions = ?, output = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		v.Title, v.Description, v.Active, v.Position, rt, rid, rids, jsonText(v.Conditions), jsonText(v.Output), store.Micros(v.UpdatedAt), v.AccountID, v.ID)
	if err != nil {
		return fmt.Errorf("rules: save view: %w", err)
	}
	return nil
}

// GetView loads one view of the account.
func GetView(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*View, error) {
	v, err := ScanView(q.QueryRowContext(ctx, `SELECT `+ViewCols+` FROM views WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("view %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("rules: get view: %w", err)
	}
	return v, nil
}

// Views lists the account's views in position order.
func Views(ctx context.Context, q store.Queryer, acct ids.Account) ([]*View, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+ViewCols+` FROM views WHERE account_id = ? ORDER BY position, id`, acct)
	out, err := store.ScanAll(rows, err, ScanView)
	if err != nil {
		return nil, fmt.Errorf("rules: list views: %w", err)
	}
	return out, nil
}

// Audience is who is looking at views and macros: a user and their groups.
type Audience struct {
	User   *identity.User
	Groups map[int64]bool
}

// AudienceOf loads a user's groups.
func AudienceOf(ctx context.Context, q store.Queryer, u *identity.User) (Audience, error) {
	a := Audience{User: u, Groups: map[int64]bool{}}
	if u == nil {
		return a, nil
	}
	ms, err := org.UserGroupMemberships(ctx, q, u.AccountID, u.ID)
	if err != nil {
		return a, err
	}
	for _, m := range ms {
		a.Groups[int64(m.GroupID)] = true
	}
	return a, nil
}

// Sees reports whether the audience may see and use a rule with the restriction: admins
// see everything; agents see shared rules, their own, and their groups'.
func (a Audience) Sees(r *Restriction) bool {
	switch {
	case a.User == nil || !a.User.Role.IsStaff():
		return false
	case a.User.Role == identity.Admin, r == nil:
		return true
	case r.Type == "User":
		return r.ID == int64(a.User.ID)
	}
	for _, g := range r.IDs {
		if a.Groups[g] {
			return true
		}
	}
	return false
}

// Edits reports whether the audience may create, change or delete a rule with the
// restriction: admins any, agents only their personal ones.
func (a Audience) Edits(r *Restriction) bool {
	switch {
	case a.User == nil || !a.User.Role.IsStaff():
		return false
	case a.User.Role == identity.Admin:
		return true
	}
	return r != nil && r.Type == "User" && r.ID == int64(a.User.ID)
}

// CreateView validates and adds a view.
func (s *Service) CreateView(ctx context.Context, acct *account.Account, v *View) error {
	return s.db.Write(ctx, func(tx *store.Tx) error { return InsertView(ctx, tx, acct, v) })
}

// UpdateView loads a view, lets edit change it (and refuse), validates and saves it.
func (s *Service) UpdateView(ctx context.Context, acct *account.Account, id int64, edit func(v *View) error) (*View, error) {
	return updateListed(ctx, s, viewKind, acct, id, edit)
}

// DeleteViews deletes views after allow approves each.
func (s *Service) DeleteViews(ctx context.Context, acct ids.Account, list []int64, allow func(v *View) error) error {
	return deleteListed(ctx, s, viewKind, acct, list, allow)
}

// PositionChange is one row of a views or macros update_many.
type PositionChange struct {
	ID       int64
	Position *int64
	Active   *bool
}

// UpdateManyViews changes positions and active flags in one transaction.
func (s *Service) UpdateManyViews(ctx context.Context, acct ids.Account, changes []PositionChange, allow func(v *View) error) ([]*View, error) {
	return arrangeListed(ctx, s, viewKind, acct, changes, allow)
}
