// Package org holds organizations (with email domains, shared visibility and group
// mapping), organization memberships, agent groups and group memberships.
package org

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Organization is a company or department whose users may see each other's tickets.
type Organization struct {
	ID             ids.Org
	AccountID      ids.Account
	Name           string
	Details        string
	Notes          string
	ExternalID     string
	GroupID        ids.Group // new tickets of the organization go to this group
	SharedTickets  bool      // members can see every ticket of the organization
	SharedComments bool      // ...and comment on them
	Tags           []string
	DomainNames    []string
	Fields         map[string]any
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// OrgCols is the column list matching ScanOrg.
const OrgCols = `id, account_id, name, details, notes, external_id, group_id, shared_tickets, shared_comments, tags, domain_names, organization_fields, created_at, updated_at`

// ScanOrg reads one row selected with OrgCols.
func ScanOrg(row interface{ Scan(...any) error }) (*Organization, error) {
	var o Organization
	var ext sql.NullString
	var gid sql.NullInt64
	var tags, domains, fields string
	var c, u int64
	if err := row.Scan(&o.ID, &o.AccountID, &o.Name, &o.Details, &o.Notes, &ext, &gid, &o.SharedTickets, &o.SharedComments, &tags, &domains, &fields, &c, &u); err != nil {
		return nil, err
	}
	o.ExternalID, o.GroupID = ext.String, ids.Group(gid.Int64)
	o.CreatedAt, o.UpdatedAt = store.Time(c), store.Time(u)
	for _, col := range []struct {
		name string
		raw  string
		v    any
	}{{"tags", tags, &o.Tags}, {"domain_names", domains, &o.DomainNames}, {"organization_fields", fields, &o.Fields}} {
		if err := json.Unmarshal([]byte(col.raw), col.v); err != nil {
			return nil, fmt.Errorf("org: organization %d %s: %w", o.ID, col.name, err)
		}
	}
	if o.Tags == nil {
		o.Tags = []string{}
	}
	if o.DomainNames == nil {
		o.DomainNames = []string{}
	}
	if o.Fields == nil {
		o.Fields = map[string]any{}
	}
	return &o, nil
}

// GetOrg loads an organization of the account.
func GetOrg(ctx context.Context, q store.Queryer, acct ids.Account, id ids.Org) (*Organization, error) {
	o, err := ScanOrg(q.QueryRowContext(ctx, `SELECT `+OrgCols+` FROM organizations WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("organization %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("org: get: %w", err)
	}
	return o, nil
}

// Group is a team of agents tickets can be assigned to.
type Group struct {
	ID          ids.Group
	AccountID   ids.Account
	Name        string
	Description string
	IsPublic    bool
	Default     bool
	Deleted     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// GroupCols is the column list matching ScanGroup.
const GroupCols = `id, account_id, name, description, is_public, is_default, deleted, created_at, updated_at`

// ScanGroup reads one row selected with GroupCols.
func ScanGroup(row interface{ Scan(...any) error }) (*Group, error) {
	var g Group
	var c, u int64
	if err := row.Scan(&g.ID, &g.AccountID, &g.Name, &g.Description, &g.IsPublic, &g.Default, &g.Deleted, &c, &u); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = store.Time(c), store.Time(u)
	return &g, nil
}

// GetGroup loads a group of the account (deleted groups included; callers check).
func GetGroup(ctx context.Context, q store.Queryer, acct ids.Account, id ids.Group) (*Group, error) {
	g, err := ScanGroup(q.QueryRowContext(ctx, `SELECT `+GroupCols+` FROM groups WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("group %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("org: get group: %w", err)
	}
	return g, nil
}

// UserOrgIDs lists the organizations a user belongs to, the default first.
func UserOrgIDs(ctx context.Context, q store.Queryer, acct ids.Account, user ids.User) ([]ids.Org, error) {
	rows, err := q.QueryContext(ctx, `SELECT organization_id FROM organization_memberships WHERE account_id = ? AND user_id = ? ORDER BY is_default DESC, id`, acct, user)
	if err != nil {
		return nil, fmt.Errorf("org: user orgs: %w", err)
	}
	defer rows.Close()
	var out []ids.Org
	for rows.Next() {
		var id ids.Org
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// CountMemberships returns how many organizations the user belongs to.
func CountMemberships(ctx context.Context, q store.Queryer, acct ids.Account, user ids.User) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM organization_memberships WHERE account_id = ? AND user_id = ?`, acct, user).Scan(&n); err != nil {
		return 0, fmt.Errorf("org: count memberships: %w", err)
	}
	return n, nil
}

// InsertMembership writes a new membership of user in organization o (the caller checked
// that there is none, and the plan's limit). viaDomain names the email domain that
// mapped the user in ("" when added any other way). A default membership is mirrored in
// the user's organization_id.
func InsertMembership(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User, o ids.Org, isDefault bool, viaDomain string) (int64, error) {
	now := store.Micros(store.Now())
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO organization_memberships (account_id, user_id, organization_id, is_default, via_domain, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		acct, user, o, isDefault, nullStr(viaDomain), now, now).Scan(&id); err != nil {
		return 0, fmt.Errorf("org: add membership: %w", err)
	}
	if isDefault {
		if err := SetDefaultMembership(ctx, tx, acct, user, o); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// SetDefaultMembership makes o the user's default organization.
func SetDefaultMembership(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User, o ids.Org) error {
	if _, err := tx.ExecContext(ctx, `UPDATE organization_memberships SET is_default = (organization_id = ?) WHERE account_id = ? AND user_id = ?`, o, acct, user); err != nil {
		return fmt.Errorf("org: set default membership: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET organization_id = ?, updated_at = ? WHERE account_id = ? AND id = ?`, o, store.Micros(store.Now()), acct, user); err != nil {
		return fmt.Errorf("org: set user default org: %w", err)
	}
	return nil
}

// DomainOrgs lists the organizations whose domain names include domain, by name.
func DomainOrgs(ctx context.Context, q store.Queryer, acct ids.Account, domain string) ([]ids.Org, error) {
	rows, err := q.QueryContext(ctx, `SELECT d.organization_id FROM organization_domains d JOIN organizations o ON o.account_id = d.account_id AND o.id = d.organization_id
		WHERE d.account_id = ? AND d.domain = ? ORDER BY o.name_lower`, acct, domain)
	if err != nil {
		return nil, fmt.Errorf("org: domain lookup: %w", err)
	}
	defer rows.Close()
	var orgs []ids.Org
	for rows.Next() {
		var id ids.Org
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		orgs = append(orgs, id)
	}
	return orgs, rows.Err()
}
