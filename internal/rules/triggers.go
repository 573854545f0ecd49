package rules

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// TriggerCols is the trigger column list matching ScanTrigger.
const TriggerCols = `id, account_id, title, description, active, position, category_id, conditions, actions, is_default, created_at, updated_at`

// ScanTrigger reads one trigger row selected with TriggerCols.
func ScanTrigger(row interface{ Scan(...any) error }) (*Trigger, error) {
	var t Trigger
	var cat sql.NullString
	var conds, acts string
	var c, u int64
	if err := row.Scan(&t.ID, &t.AccountID, &t.Title, &t.Description, &t.Active, &t.Position, &cat, &conds, &acts, &t.Default, &c, &u); err != nil {
		return nil, err
	}
	t.CategoryID = cat.String
	t.CreatedAt, t.UpdatedAt = store.Time(c), store.Time(u)
	if err := json.Unmarshal([]byte(conds), &t.Conditions); err != nil {
		return nil, fmt.Errorf("rules: trigger %d conditions: %w", t.ID, err)
	}
	t.Conditions = t.Conditions.normalized()
	if err := json.Unmarshal([]byte(acts), &t.Actions); err != nil {
		return nil, fmt.Errorf("rules: trigger %d actions: %w", t.ID, err)
	}
	if t.Actions == nil {
		t.Actions = []Action{}
	}
	return &t, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkBasics validates what every rule has: a title, a description and a size.
func checkBasics(v *errs.Validation, title, description string, body ...any) {
	if strings.TrimSpace(title) == "" {
		v.Blank("title")
	} else if utf8.RuneCountInString(title) > MaxTitle {
		v.Add("title", "TooLong", fmt.Sprintf("is too long (maximum is %d characters)", MaxTitle))
	}
	size := len(title) + len(description)
	for _, b := range body {
		size += len(jsonText(b))
	}
	if size > MaxRuleBytes {
		v.Add("base", "TooLong", fmt.Sprintf("the rule is %d bytes; a rule must be smaller than %d bytes", size, MaxRuleBytes))
	}
}

// requireSharingPlan refuses share_ticket actions on plans without automatic sharing,
// naming the plan that has it.
func requireSharingPlan(acct *account.Account, acts []Action) error {
	for _, a := range acts {
		if strings.TrimSpace(a.Field) == "share_ticket" {
			return acct.Require(account.TriggerSharing)
		}
	}
	return nil
}

// validateTrigger checks a trigger against the account's data and normalizes it. The
// plan check comes first; an inactive trigger escapes it only when editing (so that an
// account that moved to a lower plan can still switch its sharing triggers off).
func validateTrigger(ctx context.Context, q store.Queryer, acct *account.Account, t *Trigger, editing bool) error {
	if t.Active || !editing {
		if err := requireSharingPlan(acct, t.Actions); err != nil {
			return err
		}
	}
	t.Title = strings.TrimSpace(t.Title)
	t.Conditions = t.Conditions.normalized()
	if t.Actions == nil {
		t.Actions = []Action{}
	}
	c := newChecker(ctx, q, acct)
	checkBasics(&c.v, t.Title, t.Description, t.Conditions, t.Actions)
	if c.v.Has() {
		return c.v.Err() // an oversized rule is not worth reading further
	}
	c.actions(KindTrigger, t.Actions)
	if len(t.Actions) == 0 {
		c.v.Add("actions", "BlankValue", "a trigger needs at least one action")
	}
	if len(t.Conditions.All)+len(t.Conditions.Any) == 0 {
		c.v.Add("conditions", "BlankValue", "a trigger needs at least one condition")
	}
	c.conditions(KindTrigger, &t.Conditions)
	return c.v.Err()
}

// bumpTriggers marks the account's triggers changed, for every process's cache.
func bumpTriggers(ctx context.Context, tx *store.Tx, acct ids.Account) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO rule_versions (account_id, triggers) VALUES (?, 1) ON CONFLICT (account_id) DO UPDATE SET triggers = rule_versions.triggers + 1`, acct)
	if err != nil {
		return fmt.Errorf("rules: bump trigger version: %w", err)
	}
	return nil
}

func countActiveTriggers(ctx context.Context, q store.Queryer, acct ids.Account) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM triggers WHERE account_id = ? AND active = TRUE`, acct).Scan(&n)
	return n, err
}

// InsertTrigger validates and adds a trigger inside tx. A trigger without a position
// goes last.
func InsertTrigger(ctx context.Context, tx *store.Tx, acct *account.Account, t *Trigger) error {
	if err := validateTrigger(ctx, tx, acct, t, false); err != nil {
		return err
	}
	if t.Active {
		n, err := countActiveTriggers(ctx, tx, acct.ID)
		if err != nil {
			return err
		}
		if n >= MaxActiveTriggers {
			return errs.Invalidf("active", "TooMany", "an account can have at most %d active triggers", MaxActiveTriggers)
		}
	}
	if t.Position <= 0 {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) + 1 FROM triggers WHERE account_id = ?`, acct.ID).Scan(&t.Position); err != nil {
			return fmt.Errorf("rules: next trigger position: %w", err)
		}
	}
	now := store.Now()
	t.AccountID, t.CreatedAt, t.UpdatedAt = acct.ID, now, now
	err := tx.QueryRowContext(ctx, `INSERT INTO triggers (account_id, title, description, active, position, category_id, conditions, actions, is_default, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		acct.ID, t.Title, t.Description, t.Active, t.Position, nullStr(t.CategoryID), jsonText(t.Conditions), jsonText(t.Actions), t.Default, store.Micros(now), store.Micros(now)).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("rules: insert trigger: %w", err)
	}
	return bumpTriggers(ctx, tx, acct.ID)
}

func saveTrigger(ctx context.Context, tx *store.Tx, t *Trigger) error {
	t.UpdatedAt = store.Now()
	_, err := tx.ExecContext(ctx, `UPDATE triggers SET title = ?, description = ?, active = ?, position = ?, category_id = ?, conditions = ?, actions = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		t.Title, t.Description, t.Active, t.Position, nullStr(t.CategoryID), jsonText(t.Conditions), jsonText(t.Actions), store.Micros(t.UpdatedAt), t.AccountID, t.ID)
	if err != nil {
		return fmt.Errorf("rules: save trigger: %w", err)
	}
	return bumpTriggers(ctx, tx, t.AccountID)
}

// GetTrigger loads one trigger of the account.
func GetTrigger(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*Trigger, error) {
	t, err := ScanTrigger(q.QueryRowContext(ctx, `SELECT `+TriggerCols+` FROM triggers WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("trigger %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("rules: get trigger: %w", err)
	}
	return t, nil
}

// Triggers lists the account's triggers in position order.
func Triggers(ctx context.Context, q store.Queryer, acct ids.Account, activeOnly bool) ([]*Trigger, error) {
	query := `SELECT ` + TriggerCols + ` FROM triggers WHERE account_id = ?`
	if activeOnly {
		query += ` AND active = TRUE`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY position, id`, acct)
	out, err := store.ScanAll(rows, err, ScanTrigger)
	if err != nil {
		return nil, fmt.Errorf("rules: list triggers: %w", err)
	}
	return out, nil
}

// CreateTrigger validates and adds a trigger.
func (s *Service) CreateTrigger(ctx context.Context, acct *account.Account, t *Trigger) error {
	return s.db.Write(ctx, func(tx *store.Tx) error { return InsertTrigger(ctx, tx, acct, t) })
}

// UpdateTrigger loads a trigger, lets edit change it, validates and saves it.
func (s *Service) UpdateTrigger(ctx context.Context, acct *account.Account, id int64, edit func(t *Trigger) error) (*Trigger, error) {
	var out *Trigger
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		t, err := GetTrigger(ctx, tx, acct.ID, id)
		if err != nil {
			return err
		}
		wasActive := t.Active
		if err := edit(t); err != nil {
			return err
		}
		if err := validateTrigger(ctx, tx, acct, t, true); err != nil {
			return err
		}
		if t.Active && !wasActive {
			if n, err := countActiveTriggers(ctx, tx, acct.ID); err != nil {
				return err
			} else if n >= MaxActiveTriggers {
				return errs.Invalidf("active", "TooMany", "an account can have at most %d active triggers", MaxActiveTriggers)
			}
		}
		out = t
		return saveTrigger(ctx, tx, t)
	})
	return out, err
}

// DeleteTriggers deletes triggers; every id must name one of the account's.
func (s *Service) DeleteTriggers(ctx context.Context, acct ids.Account, list []int64) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		for _, id := range list {
			res, err := tx.ExecContext(ctx, `DELETE FROM triggers WHERE account_id = ? AND id = ?`, acct, id)
			if err != nil {
				return fmt.Errorf("rules: delete trigger: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errs.NotFoundf("trigger %d not found", id)
			}
		}
		return bumpTriggers(ctx, tx, acct)
	})
}

// ReorderTriggers gives the triggers positions 1, 2, ... in the order listed. They must
// all be in one category (Zendesk's rule).
func (s *Service) ReorderTriggers(ctx context.Context, acct ids.Account, order []int64) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		cats := map[string]bool{}
		list := make([]*Trigger, 0, len(order))
		for _, id := range order {
			t, err := GetTrigger(ctx, tx, acct, id)
			if err != nil {
				return err
			}
			cats[t.CategoryID] = true
			list = append(list, t)
		}
		if len(cats) > 1 {
			return errs.Invalidf("trigger_ids", "LimitOneCategory", "triggers of more than one category cannot be reordered together")
		}
		for i, t := range list {
			t.Position = int64(i + 1)
			if err := saveTrigger(ctx, tx, t); err != nil {
				return err
			}
		}
		return nil
	})
}

// TriggerChange is one row of update_many: only these keys may change.
type TriggerChange struct {
	ID         int64
	Position   *int64
	Active     *bool
	CategoryID *string
}

// UpdateManyTriggers applies update_many changes in one transaction.
func (s *Service) UpdateManyTriggers(ctx context.Context, acct *account.Account, changes []TriggerChange) ([]*Trigger, error) {
	var out []*Trigger
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		active, err := countActiveTriggers(ctx, tx, acct.ID)
		if err != nil {
			return err
		}
		for _, c := range changes {
			t, err := GetTrigger(ctx, tx, acct.ID, c.ID)
			if err != nil {
				return err
			}
			if c.Position != nil {
				t.Position = *c.Position
			}
			if c.Active != nil && *c.Active != t.Active {
				if *c.Active {
					if err := requireSharingPlan(acct, t.Actions); err != nil {
						return err
					}
					active++
				} else {
					active--
				}
				t.Active = *c.Active
			}
			if c.CategoryID != nil {
				t.CategoryID = *c.CategoryID
			}
			if active > MaxActiveTriggers {
				return errs.Invalidf("active", "TooMany", "an account can have at most %d active triggers", MaxActiveTriggers)
			}
			if err := saveTrigger(ctx, tx, t); err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// activeTriggers returns the account's active triggers, compiled, in position order,
// cached behind the account's settings version (store.SettingsCache): the triggers'
// version (rule_versions) is one of the settings it follows, so a change made by any
// process is seen by the next ticket write everywhere.
func (s *Service) activeTriggers(ctx context.Context, tx *store.Tx, acct ids.Account) ([]*compiled, error) {
	return s.triggers.Get(ctx, tx, int64(acct), func() ([]*compiled, error) {
		ts, err := Triggers(ctx, tx, acct, true)
		if err != nil {
			return nil, err
		}
		list := make([]*compiled, 0, len(ts))
		for _, t := range ts {
			ct, err := compileTrigger(t)
			if err != nil {
				s.log.WarnContext(ctx, "rules: skipping a trigger that does not compile", "account", acct, "trigger", t.ID, "err", err)
				continue
			}
			list = append(list, ct)
		}
		return list, nil
	})
}
