package rules

import (
	"context"
	"fmt"

	"tandem/internal/account"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Listed is what views and macros share: an id, a place in the account's ordered list,
// an active flag and a visibility restriction.
type Listed interface {
	ListedID() int64
	Restricted() *Restriction
	arrange(PositionChange)
}

// ListedID implements Listed.
func (v *View) ListedID() int64 { return v.ID }

// Restricted implements Listed.
func (v *View) Restricted() *Restriction { return v.Restriction }

// ListedID implements Listed.
func (m *Macro) ListedID() int64 { return m.ID }

// Restricted implements Listed.
func (m *Macro) Restricted() *Restriction { return m.Restriction }

func (v *View) arrange(c PositionChange)  { place(&v.Position, &v.Active, c) }
func (m *Macro) arrange(c PositionChange) { place(&m.Position, &m.Active, c) }

func place(position *int64, active *bool, c PositionChange) {
	if c.Position != nil {
		*position = *c.Position
	}
	if c.Active != nil {
		*active = *c.Active
	}
}

// listKind is one table of listed rules, for the operations views and macros share.
type listKind[T Listed] struct {
	table    string
	get      func(context.Context, store.Queryer, ids.Account, int64) (T, error)
	validate func(context.Context, store.Queryer, *account.Account, T) error
	save     func(context.Context, *store.Tx, T) error
}

var (
	viewKind  = listKind[*View]{"views", GetView, ValidateView, saveView}
	macroKind = listKind[*Macro]{"macros", GetMacro, ValidateMacro, saveMacro}
)

// updateListed loads a rule, lets edit change it (and refuse), validates and saves it.
func updateListed[T Listed](ctx context.Context, s *Service, k listKind[T], acct *account.Account, id int64, edit func(T) error) (T, error) {
	var out T
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		r, err := k.get(ctx, tx, acct.ID, id)
		if err != nil {
			return err
		}
		if err := edit(r); err != nil {
			return err
		}
		if err := k.validate(ctx, tx, acct, r); err != nil {
			return err
		}
		out = r
		return k.save(ctx, tx, r)
	})
	return out, err
}

// deleteListed deletes rules after allow approves each, all or none.
func deleteListed[T Listed](ctx context.Context, s *Service, k listKind[T], acct ids.Account, list []int64, allow func(T) error) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		for _, id := range list {
			r, err := k.get(ctx, tx, acct, id)
			if err != nil {
				return err
			}
			if err := allow(r); err != nil {
				return err
			}
			// k.table is one of two constants above, never input.
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+k.table+` WHERE account_id = ? AND id = ?`, acct, id); err != nil {
				return fmt.Errorf("rules: delete from %s: %w", k.table, err)
			}
		}
		return nil
	})
}

// arrangeListed changes positions and active flags in one transaction, after allow
// approves each rule.
func arrangeListed[T Listed](ctx context.Context, s *Service, k listKind[T], acct ids.Account, changes []PositionChange, allow func(T) error) ([]T, error) {
	var out []T
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		for _, c := range changes {
			r, err := k.get(ctx, tx, acct, c.ID)
			if err != nil {
				return err
			}
			if err := allow(r); err != nil {
				return err
			}
			r.arrange(c)
			if err := k.save(ctx, tx, r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
