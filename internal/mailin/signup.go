package mailin

import (
	"context"
	"fmt"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// The account setting "users must sign up" (Zendesk's "anyone can submit tickets",
// unticked): mail from an address that is not a user of the account is suspended
// ("Submitted by unregistered user") instead of creating an end user and a ticket. An
// agent can recover it, which creates both.

// SignupRequired reports whether the account takes mail only from its users.
func SignupRequired(ctx context.Context, q store.Queryer, acct ids.Account) (bool, error) {
	var v bool
	if err := q.QueryRowContext(ctx, `SELECT signup_required FROM accounts WHERE id = ?`, acct).Scan(&v); err != nil {
		return false, fmt.Errorf("mailin: signup setting: %w", err)
	}
	return v, nil
}

// SetSignupRequired changes the setting.
func (s *Service) SetSignupRequired(ctx context.Context, acct ids.Account, v bool) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET signup_required = ? WHERE id = ?`, v, acct)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("account not found")
		}
		return nil
	})
}

// signupRequired is the setting as ingest reads it: Config.SignupRequired when a caller
// gave one, else the account's stored setting.
func (s *Service) signupRequired(ctx context.Context, acct *account.Account) (bool, error) {
	if s.cfg.SignupRequired != nil {
		return s.cfg.SignupRequired(ctx, acct), nil
	}
	return SignupRequired(ctx, s.db.R(), acct.ID)
}
