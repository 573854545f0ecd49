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
	"tandem/internal/ticket"
)

// MacroCols is the macro column list matching ScanMacro.
const MacroCols = `id, account_id, title, description, active, position, restriction_type, restriction_id, restriction_ids, actions, is_default, created_at, updated_at`

// ScanMacro reads one macro row selected with MacroCols.
func ScanMacro(row interface{ Scan(...any) error }) (*Macro, error) {
	var m Macro
	var rtype sql.NullString
	var rid sql.NullInt64
	var rids, acts string
	var c, u int64
	if err := row.Scan(&m.ID, &m.AccountID, &m.Title, &m.Description, &m.Active, &m.Position, &rtype, &rid, &rids, &acts, &m.Default, &c, &u); err != nil {
		return nil, err
	}
	var err error
	if m.Restriction, err = scanRestriction(rtype, rid, rids); err != nil {
		return nil, fmt.Errorf("rules: macro %d: %w", m.ID, err)
	}
	m.CreatedAt, m.UpdatedAt = store.Time(c), store.Time(u)
	if err := json.Unmarshal([]byte(acts), &m.Actions); err != nil {
		return nil, fmt.Errorf("rules: macro %d actions: %w", m.ID, err)
	}
	if m.Actions == nil {
		m.Actions = []Action{}
	}
	return &m, nil
}

// ValidateMacro checks a macro against the account's data and normalizes it.
func ValidateMacro(ctx context.Context, q store.Queryer, acct *account.Account, m *Macro) error {
	m.Title = strings.TrimSpace(m.Title)
	if m.Actions == nil {
		m.Actions = []Action{}
	}
	c := newChecker(ctx, q, acct)
	checkBasics(&c.v, m.Title, m.Description, m.Actions)
	if c.v.Has() {
		return c.v.Err()
	}
	if len(m.Actions) == 0 {
		c.v.Add("actions", "BlankValue", "a macro needs at least one action")
	}
	c.actions(KindMacro, m.Actions)
	c.restriction(m.Restriction)
	return c.v.Err()
}

// InsertMacro validates and adds a macro inside tx (last unless it has a position).
func InsertMacro(ctx context.Context, tx *store.Tx, acct *account.Account, m *Macro) error {
	if err := ValidateMacro(ctx, tx, acct, m); err != nil {
		return err
	}
	if m.Position <= 0 {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) + 1 FROM macros WHERE account_id = ?`, acct.ID).Scan(&m.Position); err != nil {
			return fmt.Errorf("rules: next macro position: %w", err)
		}
	}
	now := store.Now()
	m.AccountID, m.CreatedAt, m.UpdatedAt = acct.ID, now, now
	rt, rid, rids := restrictionCols(m.Restriction)
	err := tx.QueryRowContext(ctx, `INSERT INTO macros (account_id, title, description, active, position, restriction_type, restriction_id, restriction_ids, actions, is_default, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		acct.ID, m.Title, m.Description, m.Active, m.Position, rt, rid, rids, jsonText(m.Actions), m.Default, store.Micros(now), store.Micros(now)).Scan(&m.ID)
	if err != nil {
		return fmt.Errorf("rules: insert macro: %w", err)
	}
	return nil
}

func saveMacro(ctx context.Context, tx *store.Tx, m *Macro) error {
	m.UpdatedAt = store.Now()
	rt, rid, rids := restrictionCols(m.Restriction)
	_, err := tx.ExecContext(ctx, `UPDATE macros SET title = ?, description = ?, active = ?, position = ?, restriction_type = ?, restriction_id = ?, restriction_ids = ?, actions = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		m.Title, m.Description, m.Active, m.Position, rt, rid, rids, jsonText(m.Actions), store.Micros(m.UpdatedAt), m.AccountID, m.ID)
	if err != nil {
		return fmt.Errorf("rules: save macro: %w", err)
	}
	return nil
}

// GetMacro loads one macro of the account.
func GetMacro(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*Macro, error) {
	m, err := ScanMacro(q.QueryRowContext(ctx, `SELECT `+MacroCols+` FROM macros WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("macro %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("rules: get macro: %w", err)
	}
	return m, nil
}

// Macros lists the account's macros in position order.
func Macros(ctx context.Context, q store.Queryer, acct ids.Account) ([]*Macro, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+MacroCols+` FROM macros WHERE account_id = ? ORDER BY position, id`, acct)
	out, err := store.ScanAll(rows, err, ScanMacro)
	if err != nil {
		return nil, fmt.Errorf("rules: list macros: %w", err)
	}
	return out, nil
}

// CreateMacro validates and adds a macro.
func (s *Service) CreateMacro(ctx context.Context, acct *account.Account, m *Macro) error {
	return s.db.Write(ctx, func(tx *store.Tx) error { return InsertMacro(ctx, tx, acct, m) })
}

// UpdateMacro loads a macro, lets edit change it (and refuse), validates and saves it.
func (s *Service) UpdateMacro(ctx context.Context, acct *account.Account, id int64, edit func(m *Macro) error) (*Macro, error) {
	return updateListed(ctx, s, macroKind, acct, id, edit)
}

// DeleteMacros deletes macros after allow approves each.
func (s *Service) DeleteMacros(ctx context.Context, acct ids.Account, list []int64, allow func(m *Macro) error) error {
	return deleteListed(ctx, s, macroKind, acct, list, allow)
}

// UpdateManyMacros changes positions and active flags in one transaction.
func (s *Service) UpdateManyMacros(ctx context.Context, acct ids.Account, changes []PositionChange, allow func(m *Macro) error) ([]*Macro, error) {
	return arrangeListed(ctx, s, macroKind, acct, changes, allow)
}

// queryResolver checks what actions name against the database (macro previews).
type queryResolver struct {
	ctx    context.Context
	q      store.Queryer
	acct   ids.Account
	fields []*ticket.Field
}

func (r *queryResolver) groupOK(id ids.Group) bool {
	g, err := org.GetGroup(r.ctx, r.q, r.acct, id)
	return err == nil && !g.Deleted
}

func (r *queryResolver) agentOK(id ids.User) bool {
	u, err := identity.Get(r.ctx, r.q, r.acct, id)
	return err == nil && u.Active && u.Role.IsStaff()
}

func (r *queryResolver) ticketField(id int64) *ticket.Field {
	if r.fields == nil {
		r.fields, _ = ticket.Fields(r.ctx, r.q, r.acct)
	}
	for _, f := range r.fields {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// MacroResult is what applying a macro would do; nothing is written (Zendesk's apply is
// a preview the client then submits as a ticket update).
type MacroResult struct {
	// Ticket is the ticket as it would be (nil when no ticket was given).
	Ticket *ticket.Ticket
	// Changes are the fields the macro sets. Without a ticket, tag actions appear as
	// Tags (set_tags), AddTags and RemoveTags.
	Changes ticket.Patch
	// Comment is the comment the macro adds, its placeholders filled (nil if none).
	Comment *ticket.CommentInput
}

// ApplyMacro works out what a macro would do to a ticket (t may be nil) when actor
// applies it. Placeholders in its comment are filled from the ticket.
func ApplyMacro(ctx context.Context, q store.Queryer, acct *account.Account, m *Macro, t *ticket.Ticket, actor ids.User, ticketURL func(*account.Account, ids.Ticket) string) *MacroResult {
	res := &MacroResult{}
	base := t
	if base == nil {
		base = &ticket.Ticket{AccountID: acct.ID, Status: ticket.Open, Tags: []string{}, CustomFields: map[int64]any{}}
	}
	plan := planActions(m.Actions, base, actor, &queryResolver{ctx: ctx, q: q, acct: acct.ID})
	res.Changes = plan.patch
	if t == nil {
		// No ticket to apply tag actions to: report them as the operations they are.
		res.Changes.Tags = nil
		for _, a := range m.Actions {
			tags := ticket.NormalizeTags(a.Value)
			switch a.Field {
			case "set_tags":
				res.Changes.Tags = &tags
			case "current_tags":
				res.Changes.AddTags = append(res.Changes.AddTags, tags...)
			case "remove_tags":
				res.Changes.RemoveTags = append(res.Changes.RemoveTags, tags...)
			}
		}
	} else {
		res.Ticket = applyInMemory(t, &plan.patch)
		if fields, err := ticket.Fields(ctx, q, acct.ID); err == nil {
			ticket.SyncTaggers(fields, t, res.Ticket, plan.patch.CustomFields)
		}
	}
	if plan.comment != nil {
		c := *plan.comment
		if t != nil {
			r := &renderer{ctx: ctx, q: q, acct: acct, t: res.Ticket, actor: actor, ticketURL: ticketURL}
			c.Body, c.HTMLBody = r.render(c.Body), r.render(c.HTMLBody)
		}
		res.Comment = &c
	}
	return res
}

// applyInMemory returns a copy of t with the patch's field changes.
func applyInMemory(t *ticket.Ticket, p *ticket.Patch) *ticket.Ticket {
	out := t.Clone()
	if p.Status != nil {
		out.Status = *p.Status
	}
	if p.Priority != nil {
		out.Priority = *p.Priority
	}
	if p.Type != nil {
		out.Type = *p.Type
	}
	if p.Subject != nil {
		out.Subject = *p.Subject
	}
	if p.GroupID != nil {
		out.GroupID = *p.GroupID
	}
	if p.AssigneeID != nil {
		out.AssigneeID = *p.AssigneeID
	}
	if p.Tags != nil {
		out.Tags = append([]string{}, *p.Tags...)
	}
	for k, v := range p.CustomFields {
		if v == nil {
			delete(out.CustomFields, k)
		} else {
			out.CustomFields[k] = v
		}
	}
	return out
}
