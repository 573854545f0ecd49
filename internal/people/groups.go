package people

import (
	"context"
	"fmt"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/store"
)

// CreateGroup creates a group (an admin's act).
func CreateGroup(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, g *org.Group) error {
	if !by.isAdmin() {
		return errs.Forbiddenf("Only admins can create groups.")
	}
	g.AccountID = acct.ID
	return org.CreateGroup(ctx, tx, g)
}

// SaveGroup writes a group's name, description and visibility (an admin's act).
func SaveGroup(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, g *org.Group) error {
	if !by.isAdmin() {
		return errs.Forbiddenf("Only admins can change groups.")
	}
	g.AccountID = acct.ID
	return org.SaveGroup(ctx, tx, g)
}

// DeleteGroup deletes a group; its agents leave it.
func DeleteGroup(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, id ids.Group) error {
	if !by.isAdmin() {
		return errs.Forbiddenf("Only admins can delete groups.")
	}
	g, err := org.GetGroup(ctx, tx, acct.ID, id)
	if err != nil {
		return err
	}
	if g.Deleted {
		return errs.NotFoundf("group %d not found", id)
	}
	ms, err := org.GroupMemberships(ctx, tx, acct.ID, id)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := record(ctx, tx, acct.ID, by, m.UserID, "destroy", "group_membership", fmt.Sprintf("Removed from group %s (deleted)", g.Name)); err != nil {
			return err
		}
	}
	return org.DeleteGroup(ctx, tx, acct.ID, id)
}

// AddGroupMembership puts an agent or admin in a group (an admin's act); an existing
// membership is returned with created false.
func AddGroupMembership(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, user ids.User, group ids.Group, makeDefault bool) (*org.GroupMembership, bool, error) {
	if !by.isAdmin() {
		return nil, false, errs.Forbiddenf("Only admins can change group memberships.")
	}
	return addGroupMembership(ctx, tx, acct.ID, by, user, group, makeDefault)
}

func addGroupMembership(ctx context.Context, tx *store.Tx, acct ids.Account, by Actor, user ids.User, group ids.Group, makeDefault bool) (*org.GroupMembership, bool, error) {
	m, created, err := org.AddGroupMembership(ctx, tx, acct, user, group, makeDefault)
	if err != nil || !created {
		return m, created, err
	}
	g, err := org.GetGroup(ctx, tx, acct, group)
	if err != nil {
		return nil, false, err
	}
	return m, true, record(ctx, tx, acct, by, user, "create", "group_membership", "Added to group "+g.Name)
}

// RemoveGroupMembership takes an agent out of a group (an admin's act).
func RemoveGroupMembership(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, id int64) error {
	if !by.isAdmin() {
		return errs.Forbiddenf("Only admins can change group memberships.")
	}
	m, err := org.GetGroupMembership(ctx, tx, acct.ID, id)
	if err != nil {
		return err
	}
	g, err := org.GetGroup(ctx, tx, acct.ID, m.GroupID)
	if err != nil {
		return err
	}
	if err := org.RemoveGroupMembership(ctx, tx, acct.ID, id); err != nil {
		return err
	}
	return record(ctx, tx, acct.ID, by, m.UserID, "destroy", "group_membership", "Removed from group "+g.Name)
}

// SetDefaultGroup makes one of an agent's group memberships their default.
func SetDefaultGroup(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, m *org.GroupMembership) error {
	if !by.isAdmin() && m.UserID != by.ID {
		return errs.Forbiddenf("You do not have access to this membership.")
	}
	g, err := org.GetGroup(ctx, tx, acct.ID, m.GroupID)
	if err != nil {
		return err
	}
	if err := org.SetDefaultGroupMembership(ctx, tx, acct.ID, m.UserID, m.GroupID); err != nil {
		return err
	}
	return record(ctx, tx, acct.ID, by, m.UserID, "update", "group_membership", "Default group set to "+g.Name)
}

// leaveGroups takes a user out of every group (demoted to end user, or deleted).
func leaveGroups(ctx context.Context, tx *store.Tx, acct ids.Account, by Actor, user ids.User, why string) error {
	ms, err := org.UserGroupMemberships(ctx, tx, acct, user)
	if err != nil {
		return err
	}
	gids := make([]ids.Group, 0, len(ms))
	for _, m := range ms {
		gids = append(gids, m.GroupID)
	}
	gs, err := org.GetGroups(ctx, tx, acct, gids)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if err := record(ctx, tx, acct, by, user, "destroy", "group_membership", fmt.Sprintf("Removed from group %s (%s)", g.Name, why)); err != nil {
			return err
		}
	}
	return org.RemoveUserGroupMemberships(ctx, tx, acct, user)
}
