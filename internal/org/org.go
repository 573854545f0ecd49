// Package org holds organizations (with email domains, shared visibility and group
// mapping), organization memberships, agent groups and group memberships.
package org

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
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

// AddMembership adds user to organization, enforcing the plan's per-user limit. The first
// membership becomes the default. Adding an existing membership is a no-op.
func AddMembership(ctx context.Context, tx *store.Tx, acct *account.Account, user ids.User, o ids.Org, makeDefault bool) (id int64, created bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT id FROM organization_memberships WHERE account_id = ? AND user_id = ? AND organization_id = ?`, acct.ID, user, o).Scan(&id)
	if err == nil {
		if makeDefault {
			err = SetDefaultMembership(ctx, tx, acct.ID, user, o)
		}
		return id, false, err
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("org: membership lookup: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM organization_memberships WHERE account_id = ? AND user_id = ?`, acct.ID, user).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("org: count memberships: %w", err)
	}
	if limit := acct.Plan.MaxOrgsPerUser(); n >= limit {
		if limit == 1 {
			if err := acct.Require(account.MultipleOrgs); err != nil {
				return 0, false, err
			}
		}
		return 0, false, errs.Invalidf("organization_id", "TooManyOrganizations", "a user can belong to at most %d organizations", limit)
	}
	now := store.Micros(store.Now())
	isDefault := n == 0 || makeDefault
	if err := tx.QueryRowContext(ctx, `INSERT INTO organization_memberships (account_id, user_id, organization_id, is_default, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		acct.ID, user, o, isDefault, now, now).Scan(&id); err != nil {
		return 0, false, fmt.Errorf("org: add membership: %w", err)
	}
	if isDefault {
		if err := SetDefaultMembership(ctx, tx, acct.ID, user, o); err != nil {
			return 0, false, err
		}
	}
	return id, true, nil
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

// JoinByDomain adds a user with a verified email to every organization whose domain
// names include the email's domain (the first one only on single-organization plans).
func JoinByDomain(ctx context.Context, tx *store.Tx, acct *account.Account, u *identity.User) error {
	if u.Email == "" || !u.Verified {
		return nil
	}
	domain := identity.EmailDomain(u.Email)
	rows, err := tx.QueryContext(ctx, `SELECT d.organization_id FROM organization_domains d JOIN organizations o ON o.account_id = d.account_id AND o.id = d.organization_id
		WHERE d.account_id = ? AND d.domain = ? ORDER BY o.name_lower`, acct.ID, domain)
	if err != nil {
		return fmt.Errorf("org: domain lookup: %w", err)
	}
	var orgs []ids.Org
	for rows.Next() {
		var id ids.Org
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		orgs = append(orgs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	existing, err := UserOrgIDs(ctx, tx, acct.ID, u.ID)
	if err != nil {
		return err
	}
	room := acct.Plan.MaxOrgsPerUser() - len(existing)
	for _, o := range orgs {
		if room <= 0 {
			break
		}
		id, created, err := AddMembership(ctx, tx, acct, u.ID, o, false)
		if err != nil {
			return err
		}
		if created {
			if err := markViaDomain(ctx, tx, acct.ID, id, domain); err != nil {
				return err
			}
			room--
			if u.OrganizationID == 0 {
				u.OrganizationID = o
			}
		}
	}
	return nil
}

// FindOrCreateUser finds a user by email, or creates an end user with that email (verified,
// as Zendesk treats requesters named by an agent) and maps them into organizations by domain.
func FindOrCreateUser(ctx context.Context, tx *store.Tx, acct *account.Account, name, email, locale string) (*identity.User, error) {
	norm, ok := identity.NormalizeEmail(email)
	if !ok {
		return nil, errs.Invalidf("requester", "InvalidValue", "%q is not a valid email address", email)
	}
	if err := tx.Lock(ctx, fmt.Sprintf("user-email:%d:%s", acct.ID, norm)); err != nil {
		return nil, err
	}
	u, err := identity.ByEmail(ctx, tx, acct.ID, norm)
	if err == nil {
		return u, nil
	}
	if !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	if strings.TrimSpace(name) == "" {
		name = norm[:strings.IndexByte(norm, '@')]
	}
	u = &identity.User{AccountID: acct.ID, Name: strings.TrimSpace(name), Email: norm, Role: identity.EndUser, Verified: true, Locale: locale}
	if err := identity.Insert(ctx, tx, u); err != nil {
		return nil, err
	}
	if err := JoinByDomain(ctx, tx, acct, u); err != nil {
		return nil, err
	}
	return u, nil
}
