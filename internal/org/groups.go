package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// prepareGroup trims and validates a group's fields, and refuses a name another live
// group of the account already has (compared case-insensitively).
func prepareGroup(ctx context.Context, q store.Queryer, g *Group) error {
	var v errs.Validation
	g.Name = strings.TrimSpace(g.Name)
	if g.Name == "" {
		v.Blank("name")
	}
	checkLen(&v, "name", g.Name, MaxName)
	checkLen(&v, "description", g.Description, MaxText)
	if err := v.Err(); err != nil {
		return err
	}
	// Compared in Go: SQLite's LOWER folds ASCII only. Accounts have few groups.
	rows, err := q.QueryContext(ctx, `SELECT name FROM groups WHERE account_id = ? AND deleted = FALSE AND id <> ?`, g.AccountID, g.ID)
	if err != nil {
		return fmt.Errorf("org: group name check: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		if strings.EqualFold(name, g.Name) {
			return errs.Invalidf("name", "DuplicateValue", "%s has already been taken", g.Name)
		}
	}
	return rows.Err()
}

// CreateGroup validates and inserts a group. The account's first live group becomes its
// default group.
func CreateGroup(ctx context.Context, tx *store.Tx, g *Group) error {
	g.ID = 0
	if err := prepareGroup(ctx, tx, g); err != nil {
		return err
	}
	var defaults int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM groups WHERE account_id = ? AND deleted = FALSE AND is_default = TRUE`, g.AccountID).Scan(&defaults); err != nil {
		return fmt.Errorf("org: create group: %w", err)
	}
	now := store.Now()
	g.CreatedAt, g.UpdatedAt, g.Default, g.Deleted = now, now, defaults == 0, false
	err := tx.QueryRowContext(ctx, `INSERT INTO groups (account_id, name, description, is_public, is_default, deleted, created_at, updated_at) VALUES (?, ?, ?, ?, ?, FALSE, ?, ?) RETURNING id`,
		g.AccountID, g.Name, g.Description, g.IsPublic, g.Default, store.Micros(now), store.Micros(now)).Scan(&g.ID)
	if err != nil {
		return fmt.Errorf("org: create group: %w", err)
	}
	return nil
}

// SaveGroup validates and writes a live group's name, description and visibility.
func SaveGroup(ctx context.Context, tx *store.Tx, g *Group) error {
	if err := prepareGroup(ctx, tx, g); err != nil {
		return err
	}
	g.UpdatedAt = store.Now()
	_, err := tx.ExecContext(ctx, `UPDATE groups SET name = ?, description = ?, is_public = ?, updated_at = ? WHERE account_id = ? AND id = ? AND deleted = FALSE`,
		g.Name, g.Description, g.IsPublic, store.Micros(g.UpdatedAt), g.AccountID, g.ID)
	if err != nil {
		return fmt.Errorf("org: save group: %w", err)
	}
	return nil
}

// DeleteGroup marks a group deleted (it stays readable, as Zendesk keeps it), removes its
// memberships, unmaps organizations routed to it, and hands the default role to the
// oldest live group.
func DeleteGroup(ctx context.Context, tx *store.Tx, acct ids.Account, id ids.Group) error {
	g, err := GetGroup(ctx, tx, acct, id)
	if err != nil {
		return err
	}
	if g.Deleted {
		return errs.NotFoundf("group %d not found", id)
	}
	now := store.Micros(store.Now())
	rows, err := tx.QueryContext(ctx, `SELECT id FROM group_memberships WHERE account_id = ? AND group_id = ?`, acct, id)
	if err != nil {
		return fmt.Errorf("org: delete group: members: %w", err)
	}
	var members []int64
	for rows.Next() {
		var m int64
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return err
		}
		members = append(members, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range members {
		if err := RemoveGroupMembership(ctx, tx, acct, m); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE groups SET deleted = TRUE, is_default = FALSE, updated_at = ? WHERE account_id = ? AND id = ?`, now, acct, id); err != nil {
		return fmt.Errorf("org: delete group: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE organizations SET group_id = NULL, updated_at = ? WHERE account_id = ? AND group_id = ?`, now, acct, id); err != nil {
		return fmt.Errorf("org: delete group: organizations: %w", err)
	}
	if g.Default {
		_, err := tx.ExecContext(ctx, `UPDATE groups SET is_default = TRUE, updated_at = ? WHERE account_id = ? AND id = (SELECT MIN(id) FROM groups WHERE account_id = ? AND deleted = FALSE)`, now, acct, acct)
		if err != nil {
			return fmt.Errorf("org: delete group: new default: %w", err)
		}
	}
	return nil
}

// GetGroups loads the groups with the given IDs (missing ones are skipped), by ID.
func GetGroups(ctx context.Context, q store.Queryer, acct ids.Account, groupIDs []ids.Group) ([]*Group, error) {
	if len(groupIDs) == 0 {
		return nil, nil
	}
	args := []any{acct}
	for _, id := range groupIDs {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+GroupCols+` FROM groups WHERE account_id = ? AND id IN (`+store.In(len(groupIDs))+`) ORDER BY id`, args...)
	out, err := store.ScanAll(rows, err, ScanGroup)
	if err != nil {
		return nil, fmt.Errorf("org: get groups: %w", err)
	}
	return out, nil
}

// CountGroups returns how many live groups the account has.
func CountGroups(ctx context.Context, q store.Queryer, acct ids.Account) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM groups WHERE account_id = ? AND deleted = FALSE`, acct).Scan(&n); err != nil {
		return 0, fmt.Errorf("org: count groups: %w", err)
	}
	return n, nil
}

// GroupMembership says an agent belongs to a group; one of an agent's memberships is the
// default, mirrored in the user's default_group_id.
type GroupMembership struct {
	ID        int64
	AccountID ids.Account
	UserID    ids.User
	GroupID   ids.Group
	Default   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GroupMembershipCols is the column list matching ScanGroupMembership.
const GroupMembershipCols = `id, account_id, user_id, group_id, is_default, created_at, updated_at`

// ScanGroupMembership reads one row selected with GroupMembershipCols.
func ScanGroupMembership(row interface{ Scan(...any) error }) (*GroupMembership, error) {
	var m GroupMembership
	var c, u int64
	if err := row.Scan(&m.ID, &m.AccountID, &m.UserID, &m.GroupID, &m.Default, &c, &u); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = store.Time(c), store.Time(u)
	return &m, nil
}

// GetGroupMembership loads a group membership of the account.
func GetGroupMembership(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*GroupMembership, error) {
	m, err := ScanGroupMembership(q.QueryRowContext(ctx, `SELECT `+GroupMembershipCols+` FROM group_memberships WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("group membership %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("org: get group membership: %w", err)
	}
	return m, nil
}

// UserGroupMemberships lists a user's group memberships, the default first.
func UserGroupMemberships(ctx context.Context, q store.Queryer, acct ids.Account, user ids.User) ([]*GroupMembership, error) {
	return scanGroupMemberships(q.QueryContext(ctx, `SELECT `+GroupMembershipCols+` FROM group_memberships WHERE account_id = ? AND user_id = ? ORDER BY is_default DESC, id`, acct, user))
}

// GroupMemberships lists a group's memberships, oldest first.
func GroupMemberships(ctx context.Context, q store.Queryer, acct ids.Account, group ids.Group) ([]*GroupMembership, error) {
	return scanGroupMemberships(q.QueryContext(ctx, `SELECT `+GroupMembershipCols+` FROM group_memberships WHERE account_id = ? AND group_id = ? ORDER BY id`, acct, group))
}

func scanGroupMemberships(rows *sql.Rows, err error) ([]*GroupMembership, error) {
	if err != nil {
		return nil, fmt.Errorf("org: list group memberships: %w", err)
	}
	defer rows.Close()
	var out []*GroupMembership
	for rows.Next() {
		m, err := ScanGroupMembership(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// AddGroupMembership puts an agent or admin in a live group. The user's first group
// becomes the default. Adding an existing membership returns it with created false.
func AddGroupMembership(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User, group ids.Group, makeDefault bool) (m *GroupMembership, created bool, err error) {
	var v errs.Validation
	u, err := identity.Get(ctx, tx, acct, user)
	switch {
	case errs.Is(err, errs.NotFound):
		v.Bad("user_id", fmt.Sprintf("user %d does not exist", user))
	case err != nil:
		return nil, false, err
	case !u.Active:
		v.Bad("user_id", fmt.Sprintf("user %d has been deleted", user))
	case !u.Role.IsStaff():
		v.Bad("user_id", "only agents and admins can be group members")
	}
	g, err := GetGroup(ctx, tx, acct, group)
	switch {
	case errs.Is(err, errs.NotFound):
		v.Bad("group_id", fmt.Sprintf("group %d does not exist", group))
	case err != nil:
		return nil, false, err
	case g.Deleted:
		v.Bad("group_id", fmt.Sprintf("group %d has been deleted", group))
	}
	if err := v.Err(); err != nil {
		return nil, false, err
	}
	existing, err := ScanGroupMembership(tx.QueryRowContext(ctx, `SELECT `+GroupMembershipCols+` FROM group_memberships WHERE account_id = ? AND user_id = ? AND group_id = ?`, acct, user, group))
	if err == nil {
		if makeDefault && !existing.Default {
			if err := SetDefaultGroupMembership(ctx, tx, acct, user, group); err != nil {
				return nil, false, err
			}
			existing.Default = true
		}
		return existing, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("org: group membership lookup: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM group_memberships WHERE account_id = ? AND user_id = ?`, acct, user).Scan(&n); err != nil {
		return nil, false, fmt.Errorf("org: count group memberships: %w", err)
	}
	now := store.Now()
	m = &GroupMembership{AccountID: acct, UserID: user, GroupID: group, Default: n == 0 || makeDefault, CreatedAt: now, UpdatedAt: now}
	err = tx.QueryRowContext(ctx, `INSERT INTO group_memberships (account_id, user_id, group_id, is_default, created_at, updated_at) VALUES (?, ?, ?, FALSE, ?, ?) RETURNING id`,
		acct, user, group, store.Micros(now), store.Micros(now)).Scan(&m.ID)
	if err != nil {
		return nil, false, fmt.Errorf("org: add group membership: %w", err)
	}
	if m.Default {
		if err := SetDefaultGroupMembership(ctx, tx, acct, user, group); err != nil {
			return nil, false, err
		}
	}
	return m, true, nil
}

// SetDefaultGroupMembership makes group the user's default group.
func SetDefaultGroupMembership(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User, group ids.Group) error {
	now := store.Micros(store.Now())
	if _, err := tx.ExecContext(ctx, `UPDATE group_memberships SET is_default = (group_id = ?), updated_at = ? WHERE account_id = ? AND user_id = ?`, group, now, acct, user); err != nil {
		return fmt.Errorf("org: set default group membership: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET default_group_id = ?, updated_at = ? WHERE account_id = ? AND id = ?`, group, now, acct, user); err != nil {
		return fmt.Errorf("org: set user default group: %w", err)
	}
	return nil
}

// RemoveGroupMembership deletes a group membership; when it was the user's default, the
// user's oldest other group becomes the default, or the user has none.
func RemoveGroupMembership(ctx context.Context, tx *store.Tx, acct ids.Account, id int64) error {
	m, err := GetGroupMembership(ctx, tx, acct, id)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM group_memberships WHERE account_id = ? AND id = ?`, acct, id); err != nil {
		return fmt.Errorf("org: remove group membership: %w", err)
	}
	if !m.Default {
		return nil
	}
	var next ids.Group
	err = tx.QueryRowContext(ctx, `SELECT group_id FROM group_memberships WHERE account_id = ? AND user_id = ? ORDER BY id LIMIT 1`, acct, m.UserID).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, `UPDATE users SET default_group_id = NULL, updated_at = ? WHERE account_id = ? AND id = ?`, store.Micros(store.Now()), acct, m.UserID)
		if err != nil {
			return fmt.Errorf("org: clear default group: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("org: next group membership: %w", err)
	}
	return SetDefaultGroupMembership(ctx, tx, acct, m.UserID, next)
}

// RemoveUserGroupMemberships takes a user out of every group (when they stop being an
// agent, or are deleted).
func RemoveUserGroupMemberships(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User) error {
	now := store.Micros(store.Now())
	if _, err := tx.ExecContext(ctx, `DELETE FROM group_memberships WHERE account_id = ? AND user_id = ?`, acct, user); err != nil {
		return fmt.Errorf("org: remove user's group memberships: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET default_group_id = NULL, updated_at = ? WHERE account_id = ? AND id = ?`, now, acct, user); err != nil {
		return fmt.Errorf("org: clear default group: %w", err)
	}
	return nil
}
