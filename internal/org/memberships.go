package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Membership says a user belongs to an organization; one of a user's memberships is the
// default, mirrored in the user's organization_id.
type Membership struct {
	ID        int64
	AccountID ids.Account
	UserID    ids.User
	OrgID     ids.Org
	Default   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MembershipCols is the column list matching ScanMembership.
const MembershipCols = `id, account_id, user_id, organization_id, is_default, created_at, updated_at`

// ScanMembership reads one row selected with MembershipCols.
func ScanMembership(row interface{ Scan(...any) error }) (*Membership, error) {
	var m Membership
	var c, u int64
	if err := row.Scan(&m.ID, &m.AccountID, &m.UserID, &m.OrgID, &m.Default, &c, &u); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = store.Time(c), store.Time(u)
	return &m, nil
}

// GetMembership loads an organization membership of the account.
func GetMembership(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*Membership, error) {
	m, err := ScanMembership(q.QueryRowContext(ctx, `SELECT `+MembershipCols+` FROM organization_memberships WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("organization membership %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("org: get membership: %w", err)
	}
	return m, nil
}

// FindMembership loads the membership of a user in an organization.
func FindMembership(ctx context.Context, q store.Queryer, acct ids.Account, user ids.User, o ids.Org) (*Membership, error) {
	m, err := ScanMembership(q.QueryRowContext(ctx, `SELECT `+MembershipCols+` FROM organization_memberships WHERE account_id = ? AND user_id = ? AND organization_id = ?`, acct, user, o))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("user %d is not a member of organization %d", user, o)
	}
	if err != nil {
		return nil, fmt.Errorf("org: find membership: %w", err)
	}
	return m, nil
}

// UserMemberships lists a user's organization memberships, the default first.
func UserMemberships(ctx context.Context, q store.Queryer, acct ids.Account, user ids.User) ([]*Membership, error) {
	return scanMemberships(q.QueryContext(ctx, `SELECT `+MembershipCols+` FROM organization_memberships WHERE account_id = ? AND user_id = ? ORDER BY is_default DESC, id`, acct, user))
}

// OrgMemberships lists an organization's memberships, oldest first.
func OrgMemberships(ctx context.Context, q store.Queryer, acct ids.Account, o ids.Org) ([]*Membership, error) {
	return scanMemberships(q.QueryContext(ctx, `SELECT `+MembershipCols+` FROM organization_memberships WHERE account_id = ? AND organization_id = ? ORDER BY id`, acct, o))
}

func scanMemberships(rows *sql.Rows, err error) ([]*Membership, error) {
	if err != nil {
		return nil, fmt.Errorf("org: list memberships: %w", err)
	}
	defer rows.Close()
	var out []*Membership
	for rows.Next() {
		m, err := ScanMembership(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// RemoveMembership deletes an organization membership. When it was the user's default,
// the user's oldest other membership becomes the default, or the user has none.
func RemoveMembership(ctx context.Context, tx *store.Tx, acct ids.Account, id int64) error {
	m, err := GetMembership(ctx, tx, acct, id)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM organization_memberships WHERE account_id = ? AND id = ?`, acct, id); err != nil {
		return fmt.Errorf("org: remove membership: %w", err)
	}
	var current sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT organization_id FROM users WHERE account_id = ? AND id = ?`, acct, m.UserID).Scan(&current); err != nil {
		return fmt.Errorf("org: remove membership: user: %w", err)
	}
	if m.Default || ids.Org(current.Int64) == m.OrgID {
		return promoteNextMembership(ctx, tx, acct, m.UserID)
	}
	return nil
}
