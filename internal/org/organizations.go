package org

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Limits on organization and group fields.
const (
	MaxName       = 255
	MaxExternalID = 255
	MaxText       = 65535 // details, notes, descriptions
	MaxTag        = 255
	MaxTags       = 500
	MaxDomains    = 100
)

var domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// NormalizeDomains lowercases and de-duplicates domain names, accepting entries that
// hold several names separated by spaces or commas (as the admin UI does) and a leading
// "@". Entries that are not domain names are returned in bad.
func NormalizeDomains(in []string) (out, bad []string) {
	out = []string{}
	for _, raw := range in {
		for _, d := range strings.FieldsFunc(strings.ToLower(raw), func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' }) {
			d = strings.TrimSuffix(strings.TrimPrefix(d, "@"), ".")
			if d == "" {
				continue
			}
			if len(d) > 253 || !domainRE.MatchString(d) {
				bad = append(bad, d)
				continue
			}
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out, bad
}

func checkLen(v *errs.Validation, field, s string, max int) {
	if utf8.RuneCountInString(s) > max {
		v.Add(field, "TooLong", fmt.Sprintf("is too long (maximum is %d characters)", max))
	}
}

func checkTags(v *errs.Validation, tags []string) {
	if len(tags) > MaxTags {
		v.Add("tags", "TooLong", fmt.Sprintf("has too many tags (maximum is %d)", MaxTags))
	}
	for _, t := range tags {
		if utf8.RuneCountInString(t) > MaxTag {
			v.Add("tags", "TooLong", fmt.Sprintf("has a tag longer than %d characters", MaxTag))
			return
		}
	}
}

// prepareOrg trims and normalizes o's fields and validates them, including that its
// group is a live group of the account.
func prepareOrg(ctx context.Context, q store.Queryer, o *Organization) error {
	var v errs.Validation
	o.Name = strings.TrimSpace(o.Name)
	if o.Name == "" {
		v.Blank("name")
	}
	checkLen(&v, "name", o.Name, MaxName)
	checkLen(&v, "details", o.Details, MaxText)
	checkLen(&v, "notes", o.Notes, MaxText)
	checkLen(&v, "external_id", o.ExternalID, MaxExternalID)
	checkTags(&v, o.Tags)
	domains, bad := NormalizeDomains(o.DomainNames)
	for _, d := range bad {
		v.Bad("domain_names", fmt.Sprintf("%q is not a domain name", d))
	}
	if len(domains) > MaxDomains {
		v.Add("domain_names", "TooLong", fmt.Sprintf("has too many domains (maximum is %d)", MaxDomains))
	}
	o.DomainNames = domains
	if o.Tags == nil {
		o.Tags = []string{}
	}
	if o.Fields == nil {
		o.Fields = map[string]any{}
	}
	if o.GroupID != 0 {
		g, err := GetGroup(ctx, q, o.AccountID, o.GroupID)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		if err != nil || g.Deleted {
			v.Bad("group_id", fmt.Sprintf("group %d does not exist", o.GroupID))
		}
	}
	return v.Err()
}

func orgUniqueErr(err error, o *Organization) error {
	if store.UniqueViolationOn(err, "external_id") {
		return errs.Invalidf("external_id", "DuplicateValue", "%s has already been taken", o.ExternalID)
	}
	return errs.Invalidf("name", "DuplicateValue", "%s has already been taken", o.Name)
}

// CreateOrg validates and inserts an organization and records its domains. Mapping users
// in by domain is the people service's (people.WriteOrg).
func CreateOrg(ctx context.Context, tx *store.Tx, acct *account.Account, o *Organization) error {
	o.AccountID = acct.ID
	if err := prepareOrg(ctx, tx, o); err != nil {
		return err
	}
	now := store.Now()
	o.CreatedAt, o.UpdatedAt = now, now
	err := tx.QueryRowContext(ctx, `INSERT INTO organizations (account_id, name, name_lower, details, notes, external_id, external_id_lower, group_id, shared_tickets, shared_comments, tags, domain_names, organization_fields, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		acct.ID, o.Name, strings.ToLower(o.Name), o.Details, o.Notes, nullStr(o.ExternalID), nullStr(strings.ToLower(o.ExternalID)), nullID(o.GroupID),
		o.SharedTickets, o.SharedComments, jsonText(o.Tags), jsonText(o.DomainNames), jsonText(o.Fields), store.Micros(now), store.Micros(now)).Scan(&o.ID)
	if store.IsUniqueViolation(err) {
		return orgUniqueErr(err, o)
	}
	if err != nil {
		return fmt.Errorf("org: create: %w", err)
	}
	return setDomainRows(ctx, tx, acct.ID, o.ID, o.DomainNames)
}

// SaveOrg validates and writes every mutable field of o (loaded and changed by the
// caller). Domain names replace the whole list; who joins or leaves with a domain is
// the people service's (people.WriteOrg).
func SaveOrg(ctx context.Context, tx *store.Tx, acct *account.Account, o *Organization) error {
	o.AccountID = acct.ID
	if err := prepareOrg(ctx, tx, o); err != nil {
		return err
	}
	before, err := GetOrg(ctx, tx, acct.ID, o.ID)
	if err != nil {
		return err
	}
	o.UpdatedAt = store.Now()
	_, err = tx.ExecContext(ctx, `UPDATE organizations SET name = ?, name_lower = ?, details = ?, notes = ?, external_id = ?, external_id_lower = ?, group_id = ?, shared_tickets = ?, shared_comments = ?, tags = ?, domain_names = ?, organization_fields = ?, updated_at = ?
		WHERE account_id = ? AND id = ?`,
		o.Name, strings.ToLower(o.Name), o.Details, o.Notes, nullStr(o.ExternalID), nullStr(strings.ToLower(o.ExternalID)), nullID(o.GroupID),
		o.SharedTickets, o.SharedComments, jsonText(o.Tags), jsonText(o.DomainNames), jsonText(o.Fields), store.Micros(o.UpdatedAt), acct.ID, o.ID)
	if store.IsUniqueViolation(err) {
		return orgUniqueErr(err, o)
	}
	if err != nil {
		return fmt.Errorf("org: save: %w", err)
	}
	if slices.Equal(before.DomainNames, o.DomainNames) {
		return nil
	}
	return setDomainRows(ctx, tx, acct.ID, o.ID, o.DomainNames)
}

// DomainMemberships lists the memberships of organization o that mapping domain made.
func DomainMemberships(ctx context.Context, q store.Queryer, acct ids.Account, o ids.Org, domain string) ([]*Membership, error) {
	return scanMemberships(q.QueryContext(ctx, `SELECT `+MembershipCols+` FROM organization_memberships WHERE account_id = ? AND organization_id = ? AND via_domain = ? ORDER BY id`, acct, o, domain))
}

func setDomainRows(ctx context.Context, tx *store.Tx, acct ids.Account, o ids.Org, domains []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM organization_domains WHERE account_id = ? AND organization_id = ?`, acct, o); err != nil {
		return fmt.Errorf("org: clear domains: %w", err)
	}
	for _, d := range domains {
		if _, err := tx.ExecContext(ctx, `INSERT INTO organization_domains (account_id, domain, organization_id) VALUES (?, ?, ?)`, acct, d, o); err != nil {
			return fmt.Errorf("org: add domain: %w", err)
		}
	}
	return nil
}

// DomainUser is a user whose email is in a domain, with how many organizations they
// belong to.
type DomainUser struct {
	ID   ids.User
	Orgs int
}

// DomainUsers lists the account's active users whose verified primary email is in
// domain, oldest first.
func DomainUsers(ctx context.Context, q store.Queryer, acct ids.Account, domain string) ([]DomainUser, error) {
	rows, err := q.QueryContext(ctx, `SELECT u.id, (SELECT COUNT(*) FROM organization_memberships m WHERE m.account_id = u.account_id AND m.user_id = u.id)
		FROM users u WHERE u.account_id = ? AND u.active = TRUE AND u.verified = TRUE AND u.email LIKE ? ESCAPE '\' ORDER BY u.id`,
		acct, "%@"+EscapeLike(domain))
	if err != nil {
		return nil, fmt.Errorf("org: users by domain: %w", err)
	}
	defer rows.Close()
	var out []DomainUser
	for rows.Next() {
		var c DomainUser
		if err := rows.Scan(&c.ID, &c.Orgs); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DomainOwner is an organization that has a domain.
type DomainOwner struct {
	Domain string
	ID     ids.Org
	Name   string
}

// DomainOwners lists the organizations other than except that have one of domains.
func DomainOwners(ctx context.Context, q store.Queryer, acct ids.Account, domains []string, except ids.Org) ([]DomainOwner, error) {
	if len(domains) == 0 {
		return nil, nil
	}
	args := []any{acct, except}
	for _, d := range domains {
		args = append(args, d)
	}
	rows, err := q.QueryContext(ctx, `SELECT d.domain, o.id, o.name FROM organization_domains d JOIN organizations o ON o.account_id = d.account_id AND o.id = d.organization_id
		WHERE d.account_id = ? AND d.organization_id <> ? AND d.domain IN (`+store.In(len(domains))+`) ORDER BY d.domain, o.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("org: domain owners: %w", err)
	}
	defer rows.Close()
	var out []DomainOwner
	for rows.Next() {
		var d DomainOwner
		if err := rows.Scan(&d.Domain, &d.ID, &d.Name); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// EscapeLike escapes LIKE wildcards in s for a pattern using ESCAPE '\'.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// DeleteOrg removes an organization with its domains and memberships. Members whose
// default it was get another of their organizations as default, or none.
func DeleteOrg(ctx context.Context, tx *store.Tx, acct ids.Account, id ids.Org) error {
	if _, err := GetOrg(ctx, tx, acct, id); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT user_id FROM organization_memberships WHERE account_id = ? AND organization_id = ? AND is_default = TRUE`, acct, id)
	if err != nil {
		return fmt.Errorf("org: delete: members: %w", err)
	}
	var defaults []ids.User
	for rows.Next() {
		var u ids.User
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return err
		}
		defaults = append(defaults, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM organization_memberships WHERE account_id = ? AND organization_id = ?`,
		`DELETE FROM organization_domains WHERE account_id = ? AND organization_id = ?`,
		`DELETE FROM organizations WHERE account_id = ? AND id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, acct, id); err != nil {
			return fmt.Errorf("org: delete: %w", err)
		}
	}
	for _, u := range defaults {
		if err := promoteNextMembership(ctx, tx, acct, u); err != nil {
			return err
		}
	}
	// Any user still pointing at the organization (without a membership row) lets go.
	if _, err := tx.ExecContext(ctx, `UPDATE users SET organization_id = NULL, updated_at = ? WHERE account_id = ? AND organization_id = ?`, store.Micros(store.Now()), acct, id); err != nil {
		return fmt.Errorf("org: delete: clear users: %w", err)
	}
	return nil
}

// promoteNextMembership makes the user's oldest remaining membership the default, or
// clears the user's organization when none is left.
func promoteNextMembership(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User) error {
	var next ids.Org
	err := tx.QueryRowContext(ctx, `SELECT organization_id FROM organization_memberships WHERE account_id = ? AND user_id = ? ORDER BY id LIMIT 1`, acct, user).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, `UPDATE users SET organization_id = NULL, updated_at = ? WHERE account_id = ? AND id = ?`, store.Micros(store.Now()), acct, user)
		if err != nil {
			return fmt.Errorf("org: clear default org: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("org: next membership: %w", err)
	}
	return SetDefaultMembership(ctx, tx, acct, user, next)
}

// OrgByExternalID finds an organization by external ID, case-insensitively.
func OrgByExternalID(ctx context.Context, q store.Queryer, acct ids.Account, ext string) (*Organization, error) {
	o, err := ScanOrg(q.QueryRowContext(ctx, `SELECT `+OrgCols+` FROM organizations WHERE account_id = ? AND external_id_lower = ?`, acct, strings.ToLower(ext)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("no organization with external id %s", ext)
	}
	if err != nil {
		return nil, fmt.Errorf("org: by external id: %w", err)
	}
	return o, nil
}

// GetOrgs loads the organizations with the given IDs (missing ones are skipped), by ID.
func GetOrgs(ctx context.Context, q store.Queryer, acct ids.Account, orgIDs []ids.Org) ([]*Organization, error) {
	if len(orgIDs) == 0 {
		return nil, nil
	}
	args := []any{acct}
	for _, id := range orgIDs {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+OrgCols+` FROM organizations WHERE account_id = ? AND id IN (`+store.In(len(orgIDs))+`) ORDER BY id`, args...)
	out, err := store.ScanAll(rows, err, ScanOrg)
	if err != nil {
		return nil, fmt.Errorf("org: get many: %w", err)
	}
	return out, nil
}

// CountOrgs returns how many organizations the account has.
func CountOrgs(ctx context.Context, q store.Queryer, acct ids.Account) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations WHERE account_id = ?`, acct).Scan(&n); err != nil {
		return 0, fmt.Errorf("org: count: %w", err)
	}
	return n, nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullID[T ~int64](v T) any {
	if v == 0 {
		return nil
	}
	return int64(v)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Related counts an organization's tickets (not deleted) and members.
func Related(ctx context.Context, q store.Queryer, acct ids.Account, id ids.Org) (tickets, users int, err error) {
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE account_id = ? AND organization_id = ? AND deleted_at = 0`, acct, id).Scan(&tickets); err != nil {
		return 0, 0, fmt.Errorf("org: related tickets: %w", err)
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM organization_memberships WHERE account_id = ? AND organization_id = ?`, acct, id).Scan(&users); err != nil {
		return 0, 0, fmt.Errorf("org: related users: %w", err)
	}
	return tickets, users, nil
}
