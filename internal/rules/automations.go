package rules

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket/tfield"
)

// MaxActiveAutomations is Zendesk's limit on an account's active automations.
const MaxActiveAutomations = 500

// Automation is a time-based rule: every automation pass, it runs on the account's
// tickets whose times fall in its window and whose conditions it matches, with the
// triggers' actions. It fires at most once on a ticket until the ticket changes again.
type Automation struct {
	ID          int64
	AccountID   ids.Account
	Title       string
	Description string
	Active      bool
	Position    int64
	Conditions  Conditions
	Actions     []Action
	Default     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// AutomationCols is the automation column list matching ScanAutomation.
const AutomationCols = `id, account_id, title, description, active, position, conditions, actions, is_default, created_at, updated_at`

// ScanAutomation reads one automation row selected with AutomationCols.
func ScanAutomation(row interface{ Scan(...any) error }) (*Automation, error) {
	var a Automation
	var conds, acts string
	var c, u int64
	if err := row.Scan(&a.ID, &a.AccountID, &a.Title, &a.Description, &a.Active, &a.Position, &conds, &acts, &a.Default, &c, &u); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = store.Time(c), store.Time(u)
	if err := json.Unmarshal([]byte(conds), &a.Conditions); err != nil {
		return nil, fmt.Errorf("rules: automation %d conditions: %w", a.ID, err)
	}
	a.Conditions = a.Conditions.normalized()
	if err := json.Unmarshal([]byte(acts), &a.Actions); err != nil {
		return nil, fmt.Errorf("rules: automation %d actions: %w", a.ID, err)
	}
	if a.Actions == nil {
		a.Actions = []Action{}
	}
	return &a, nil
}

// validateAutomation checks an automation as Zendesk does: the triggers' rules for
// conditions and actions, a time-based condition in conditions.all (which also bounds
// the pass to the tickets in its window), and a way to stop firing: a condition true
// only once (an hours condition with "is") or an action that makes a condition false.
func validateAutomation(ctx context.Context, q store.Queryer, acct *account.Account, a *Automation, editing bool) error {
	if a.Active || !editing {
		if err := requireSharingPlan(acct, a.Actions); err != nil {
			return err
		}
	}
	a.Title = strings.TrimSpace(a.Title)
	a.Conditions = a.Conditions.normalized()
	if a.Actions == nil {
		a.Actions = []Action{}
	}
	c := newChecker(ctx, q, acct)
	checkBasics(&c.v, a.Title, a.Description, a.Conditions, a.Actions)
	if c.v.Has() {
		return c.v.Err()
	}
	c.actions(KindAutomation, a.Actions)
	if len(a.Actions) == 0 {
		c.v.Add("actions", "BlankValue", "an automation needs at least one action")
	}
	c.conditions(KindAutomation, &a.Conditions)
	if c.v.Has() {
		return c.v.Err()
	}
	timed := slices.ContainsFunc(a.Conditions.All, func(cd Condition) bool { f := lookupCond(cd.Field); return f != nil && f.timed })
	if !timed {
		c.v.Add("conditions", "InvalidValue", "an automation needs a time-based condition in conditions.all (hours since "+strings.Join(timeFieldNames(), ", ")+")")
	} else if !nullified(a) {
		c.v.Add("conditions", "InvalidValue", "an automation must stop firing once it has acted: give it a condition true only once (an hours condition with \"is\"), "+
			"or an action that makes one of its conditions false (for example status is solved and the action status closed; tags not including reminded and the action adding the tag reminded)")
	}
	return c.v.Err()
}

func timeFieldNames() []string {
	var out []string
	for _, f := range tfield.All(tfield.TimeCondition) {
		out = append(out, f.Name)
	}
	return append(out, "updated_at", "created_at", "sla_last_breach_at", "partner_owed_at")
}

// nullified reports whether an automation stops matching a ticket once it has acted on
// it: an "is N hours" condition in all (true for one hour, and the pass fires once an
// hour at most), or an action that turns one of the conditions in all false.
func nullified(a *Automation) bool {
	for _, cd := range a.Conditions.All {
		if f := lookupCond(cd.Field); f != nil && f.timed && cd.Operator == opIs {
			return true
		}
		for _, act := range a.Actions {
			if falsifies(act, cd) {
				return true
			}
		}
	}
	return false
}

// falsifies reports whether doing act leaves condition cd false.
func falsifies(act Action, cd Condition) bool {
	if cd.Field == "current_tags" {
		tags := strings.Fields(cd.Value)
		switch {
		case cd.Operator == opIncludes && act.Field == "remove_tags":
			return containsAll(act.Value, tags)
		case cd.Operator == opIncludes && act.Field == "set_tags":
			return !containsAny(act.Value, tags)
		case cd.Operator == opNotIncludes && (act.Field == "current_tags" || act.Field == "set_tags"):
			return containsAny(act.Value, tags)
		}
		return false
	}
	f := tfield.ByName(cd.Field)
	if f == nil || act.Field != cd.Field || f.Set == nil {
		return false
	}
	v := act.Str()
	switch cd.Operator {
	case opIs:
		return v != cd.Value
	case opIsNot:
		return v == cd.Value
	case opLess:
		return f.Rank(v) >= f.Rank(cd.Value)
	case opGreater:
		return f.Rank(v) <= f.Rank(cd.Value)
	}
	return false
}

func containsAll(list []string, want []string) bool {
	have := strings.Fields(strings.Join(list, " "))
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func containsAny(list []string, want []string) bool {
	have := strings.Fields(strings.Join(list, " "))
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

func countActiveAutomations(ctx context.Context, q store.Queryer, acct ids.Account) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM automations WHERE account_id = ? AND active = TRUE`, acct).Scan(&n)
	return n, err
}

func checkActiveAutomations(ctx context.Context, q store.Queryer, acct ids.Account, adding int) error {
	n, err := countActiveAutomations(ctx, q, acct)
	if err != nil {
		return err
	}
	if n+adding > MaxActiveAutomations {
		return errs.Invalidf("active", "TooMany", "an account can have at most %d active automations", MaxActiveAutomations)
	}
	return nil
}

// InsertAutomation validates and adds an automation inside tx; without a position it
// goes last.
func InsertAutomation(ctx context.Context, tx *store.Tx, acct *account.Account, a *Automation) error {
	if err := validateAutomation(ctx, tx, acct, a, false); err != nil {
		return err
	}
	if a.Active {
		if err := checkActiveAutomations(ctx, tx, acct.ID, 1); err != nil {
			return err
		}
	}
	if a.Position <= 0 {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) + 1 FROM automations WHERE account_id = ?`, acct.ID).Scan(&a.Position); err != nil {
			return fmt.Errorf("rules: next automation position: %w", err)
		}
	}
	now := store.Now()
	a.AccountID, a.CreatedAt, a.UpdatedAt = acct.ID, now, now
	err := tx.QueryRowContext(ctx, `INSERT INTO automations (account_id, title, description, active, position, conditions, actions, is_default, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		acct.ID, a.Title, a.Description, a.Active, a.Position, jsonText(a.Conditions), jsonText(a.Actions), a.Default, store.Micros(now), store.Micros(now)).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("rules: insert automation: %w", err)
	}
	return nil
}

func saveAutomation(ctx context.Context, tx *store.Tx, a *Automation) error {
	a.UpdatedAt = store.Now()
	_, err := tx.ExecContext(ctx, `UPDATE automations SET title = ?, description = ?, active = ?, position = ?, conditions = ?, actions = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		a.Title, a.Description, a.Active, a.Position, jsonText(a.Conditions), jsonText(a.Actions), store.Micros(a.UpdatedAt), a.AccountID, a.ID)
	if err != nil {
		return fmt.Errorf("rules: save automation: %w", err)
	}
	return nil
}

// GetAutomation loads one automation of the account.
func GetAutomation(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*Automation, error) {
	a, err := ScanAutomation(q.QueryRowContext(ctx, `SELECT `+AutomationCols+` FROM automations WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("automation %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("rules: get automation: %w", err)
	}
	return a, nil
}

// Automations lists the account's automations in position order.
func Automations(ctx context.Context, q store.Queryer, acct ids.Account, activeOnly bool) ([]*Automation, error) {
	query := `SELECT ` + AutomationCols + ` FROM automations WHERE account_id = ?`
	if activeOnly {
		query += ` AND active = TRUE`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY position, id`, acct)
	out, err := store.ScanAll(rows, err, ScanAutomation)
	if err != nil {
		return nil, fmt.Errorf("rules: list automations: %w", err)
	}
	return out, nil
}

// CreateAutomation validates and adds an automation.
func (s *Service) CreateAutomation(ctx context.Context, acct *account.Account, a *Automation) error {
	return s.db.Write(ctx, func(tx *store.Tx) error { return InsertAutomation(ctx, tx, acct, a) })
}

// UpdateAutomation loads an automation, lets edit change it, validates and saves it.
func (s *Service) UpdateAutomation(ctx context.Context, acct *account.Account, id int64, edit func(a *Automation) error) (*Automation, error) {
	var out *Automation
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		a, err := GetAutomation(ctx, tx, acct.ID, id)
		if err != nil {
			return err
		}
		wasActive := a.Active
		if err := edit(a); err != nil {
			return err
		}
		if err := validateAutomation(ctx, tx, acct, a, true); err != nil {
			return err
		}
		if a.Active && !wasActive {
			if err := checkActiveAutomations(ctx, tx, acct.ID, 1); err != nil {
				return err
			}
		}
		out = a
		return saveAutomation(ctx, tx, a)
	})
	return out, err
}

// DeleteAutomations deletes automations; every id must name one of the account's.
func (s *Service) DeleteAutomations(ctx context.Context, acct ids.Account, list []int64) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		for _, id := range list {
			res, err := tx.ExecContext(ctx, `DELETE FROM automations WHERE account_id = ? AND id = ?`, acct, id)
			if err != nil {
				return fmt.Errorf("rules: delete automation: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errs.NotFoundf("automation %d not found", id)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM automation_fires WHERE account_id = ? AND automation_id = ?`, acct, id); err != nil {
				return fmt.Errorf("rules: delete automation fires: %w", err)
			}
		}
		return nil
	})
}

// AutomationChange is one row of update_many: only these keys may change.
type AutomationChange struct {
	ID       int64
	Position *int64
	Active   *bool
}

// UpdateManyAutomations applies update_many changes (positions, active) in one
// transaction.
func (s *Service) UpdateManyAutomations(ctx context.Context, acct *account.Account, changes []AutomationChange) ([]*Automation, error) {
	var out []*Automation
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		for _, c := range changes {
			a, err := GetAutomation(ctx, tx, acct.ID, c.ID)
			if err != nil {
				return err
			}
			if c.Position != nil {
				a.Position = *c.Position
			}
			if c.Active != nil && *c.Active && !a.Active {
				if err := requireSharingPlan(acct, a.Actions); err != nil {
					return err
				}
			}
			if c.Active != nil {
				a.Active = *c.Active
			}
			if err := saveAutomation(ctx, tx, a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return checkActiveAutomations(ctx, tx, acct.ID, 0)
	})
	return out, err
}

// DefaultAutomations are the automations a new account starts with, as Zendesk's: close
// solved tickets after 4 days (96 hours), and remind the requester of a ticket pending
// for a day that it waits for them (once: the action tags it), and ask the requester of
// a ticket solved a day ago for a satisfaction rating (once: the offer nullifies it).
func DefaultAutomations() []*Automation {
	return []*Automation{
		{
			Title: "Close ticket 4 days after status is set to solved", Active: true, Default: true,
			Description: "Solved tickets close after 96 hours; a closed ticket can no longer be reopened.",
			Conditions:  Conditions{All: []Condition{cond("status", opIs, "solved"), cond("SOLVED", opGreater, "96")}, Any: []Condition{}},
			Actions:     []Action{act("status", "closed")},
		},
		{
			Title: "Pending notification 24 hours", Active: true, Default: true,
			Description: "Reminds the requester, once, that a ticket pending for a day waits for their answer.",
			Conditions: Conditions{All: []Condition{
				cond("status", opIs, "pending"), cond("PENDING", opGreater, "24"), cond("current_tags", opNotIncludes, "pending_reminder_sent"),
			}, Any: []Condition{}},
			Actions: []Action{
				act("current_tags", "pending_reminder_sent"),
				act("notification_user", "requester_id", "[{{ticket.account}}] Waiting for your reply: {{ticket.title}}",
					"Your request ({{ticket.id}}) is waiting for your reply. Reply to this email, or visit {{ticket.url}}, to tell us more."),
			},
		},
		{
			Title: "Request customer satisfaction rating", Active: true, Default: true,
			Description: "A day after a ticket is solved, asks its requester, once, to rate the support received (a signed link, no sign-in needed).",
			Conditions: Conditions{All: []Condition{
				cond("status", opIs, "solved"), cond("SOLVED", opGreater, "24"), cond("satisfaction_score", opIs, "unoffered"),
			}, Any: []Condition{}},
			Actions: []Action{
				act("satisfaction_score", "offered_to_requester"),
				act("notification_user", "requester_id", "[{{ticket.account}}] How did we do? {{ticket.title}}",
					"Your request ({{ticket.id}}) \"{{ticket.title}}\" was solved.\n\n{{satisfaction.rating_section}}\n\nOne click on the page rates it; you can add a comment."),
			},
		},
	}
}
