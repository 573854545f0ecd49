package people

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/store"
	"tandem/internal/webhook"
)

// OrgChange is one create or update of an organization.
type OrgChange struct {
	// Before is the stored organization, nil to create one.
	Before *org.Organization
	// Org is what the organization should become.
	Org *org.Organization
}

// OrgResult is what WriteOrg did.
type OrgResult struct {
	Org     *org.Organization // as stored now
	Created bool
	Changed bool // false when the change changed nothing, and nothing was written
}

// OrgChanges names the fields that differ between two versions of an organization.
func OrgChanges(a, b *org.Organization) []string {
	var out []string
	add := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	fa, _ := json.Marshal(a.Fields)
	fb, _ := json.Marshal(b.Fields)
	add("name", a.Name != b.Name)
	add("details", a.Details != b.Details)
	add("notes", a.Notes != b.Notes)
	add("external_id", a.ExternalID != b.ExternalID)
	add("group_id", a.GroupID != b.GroupID)
	add("shared_tickets", a.SharedTickets != b.SharedTickets)
	add("shared_comments", a.SharedComments != b.SharedComments)
	add("tags", !slices.Equal(a.Tags, b.Tags))
	add("domain_names", !slices.Equal(a.DomainNames, b.DomainNames))
	add("organization_fields", string(fa) != string(fb))
	return out
}

// authorizeOrg decides whether by may make the named changes to an organization
// (before == nil: create it). Admins change anything; agents without a ticket
// restriction change only notes.
func authorizeOrg(by Actor, before *org.Organization, changed []string) error {
	if by.isAdmin() {
		return nil
	}
	if !by.isStaff() || before == nil {
		return errs.Forbiddenf("Only admins can create organizations.")
	}
	if by.Restriction != "" {
		return errs.Forbiddenf("Restricted agents cannot edit organizations.")
	}
	for _, f := range changed {
		if f != "notes" {
			return errs.Forbiddenf("Agents can only change an organization's notes; changing %s needs an admin.", strings.ReplaceAll(f, "_", " "))
		}
	}
	return nil
}

// WriteOrg creates or updates an organization. Users whose email is in a new domain of
// the organization join it (verified ones only, when the domain is added to an
// organization that exists); users a removed domain brought in leave.
func WriteOrg(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, ch *OrgChange) (*OrgResult, error) {
	o, before := ch.Org, ch.Before
	o.AccountID = acct.ID
	if before == nil {
		if err := authorizeOrg(by, nil, nil); err != nil {
			return nil, err
		}
	} else {
		o.ID = before.ID
		changed := OrgChanges(before, o)
		if err := authorizeOrg(by, before, changed); err != nil {
			return nil, err
		}
		if len(changed) == 0 {
			return &OrgResult{Org: before}, nil
		}
	}
	if o.SharedComments && !o.SharedTickets {
		return nil, errs.Invalidf("shared_comments", "InvalidValue", "requires shared_tickets: members can only comment on the organization's tickets they can see")
	}
	var old []string
	if before != nil {
		old = before.DomainNames
	}
	domains, _ := org.NormalizeDomains(o.DomainNames) // org names the bad ones
	var added, removed []string
	for _, d := range domains {
		if !slices.Contains(old, d) {
			added = append(added, d)
		}
	}
	for _, d := range old {
		if !slices.Contains(domains, d) {
			removed = append(removed, d)
		}
	}
	if err := checkDomainsFree(ctx, tx, acct.ID, o.ID, added); err != nil {
		return nil, err
	}
	if before == nil {
		if err := org.CreateOrg(ctx, tx, acct, o); err != nil {
			return nil, err
		}
	} else if err := org.SaveOrg(ctx, tx, acct, o); err != nil {
		return nil, err
	}
	for _, d := range removed {
		if err := leaveByDomain(ctx, tx, acct.ID, by, o.ID, d); err != nil {
			return nil, err
		}
	}
	if _, err := JoinExistingByDomains(ctx, tx, acct, by, o, added); err != nil {
		return nil, err
	}
	fresh, err := org.GetOrg(ctx, tx, acct.ID, o.ID)
	if err != nil {
		return nil, err
	}
	if err := orgEvents(ctx, tx, acct.ID, before, fresh); err != nil {
		return nil, err
	}
	return &OrgResult{Org: fresh, Created: before == nil, Changed: true}, nil
}

// checkDomainsFree refuses domains another organization of the account already has:
// a domain maps a new user to one organization.
func checkDomainsFree(ctx context.Context, tx *store.Tx, acct ids.Account, self ids.Org, domains []string) error {
	owners, err := org.DomainOwners(ctx, tx, acct, domains, self)
	if err != nil {
		return err
	}
	var v errs.Validation
	for _, d := range owners {
		v.Add("domain_names", "DuplicateValue", fmt.Sprintf("%s is already a domain of the organization %s (%d)", d.Domain, d.Name, d.ID))
	}
	return v.Err()
}

// DeleteOrg removes an organization with its domains and memberships.
func DeleteOrg(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, id ids.Org) error {
	if !by.isAdmin() {
		return errs.Forbiddenf("Only admins can delete organizations.")
	}
	o, err := org.GetOrg(ctx, tx, acct.ID, id)
	if err != nil {
		return err
	}
	ms, err := org.OrgMemberships(ctx, tx, acct.ID, id)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := record(ctx, tx, acct.ID, by, m.UserID, "destroy", "organization_membership", fmt.Sprintf("Left organization %s (deleted)", o.Name)); err != nil {
			return err
		}
	}
	if err := org.DeleteOrg(ctx, tx, acct.ID, id); err != nil {
		return err
	}
	return webhook.QueueEvent(ctx, tx, acct.ID, webhook.Event{Type: "organization.deleted", Kind: "organization", ID: int64(id), Detail: orgDetail(o)})
}

// JoinExistingByDomains adds to organization o the account's active users whose
// verified primary email is in one of the domains. Users already at their plan's limit
// of organizations are left as they are. It returns how many users joined.
func JoinExistingByDomains(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, o *org.Organization, domains []string) (int, error) {
	joined := 0
	for _, d := range domains {
		users, err := org.DomainUsers(ctx, tx, acct.ID, d)
		if err != nil {
			return joined, err
		}
		for _, c := range users {
			if orgsFull(acct, c.Orgs) {
				continue
			}
			_, created, err := addMembership(ctx, tx, acct, by, c.ID, o, false, d)
			if err != nil {
				return joined, err
			}
			if created {
				joined++
			}
		}
	}
	return joined, nil
}

// leaveByDomain removes the memberships of organization o that mapping domain made
// (the domain was taken off the organization).
func leaveByDomain(ctx context.Context, tx *store.Tx, acct ids.Account, by Actor, o ids.Org, domain string) error {
	ms, err := org.DomainMemberships(ctx, tx, acct, o, domain)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := removeMembership(ctx, tx, acct, by, m, "domain "+domain+" removed"); err != nil {
			return err
		}
	}
	return nil
}

// joinByDomain adds a user to every organization whose domain names include their
// email's domain, as far as the plan allows (the first by name on one-organization
// plans). Callers decide whether the email must be verified. joined reports whether it
// added a membership (the user's row may then have changed: its default organization).
func joinByDomain(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, u *identity.User) (joined bool, err error) {
	if u.Email == "" {
		return false, nil
	}
	domain := identity.EmailDomain(u.Email)
	orgs, err := org.DomainOrgs(ctx, tx, acct.ID, domain)
	if err != nil || len(orgs) == 0 {
		return false, err
	}
	n, err := org.CountMemberships(ctx, tx, acct.ID, u.ID)
	if err != nil {
		return false, err
	}
	for _, id := range orgs {
		if orgsFull(acct, n) {
			break
		}
		o, err := org.GetOrg(ctx, tx, acct.ID, id)
		if err != nil {
			return joined, err
		}
		_, created, err := addMembership(ctx, tx, acct, by, u.ID, o, false, domain)
		if err != nil {
			return joined, err
		}
		if created {
			n++
			joined = true
		}
	}
	return joined, nil
}

// addMembership puts user in organization o, within the plan's limit; the user's first
// membership becomes the default. An existing membership is returned with created
// false (made the default when asked).
func addMembership(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, user ids.User, o *org.Organization, makeDefault bool, viaDomain string) (id int64, created bool, err error) {
	m, err := org.FindMembership(ctx, tx, acct.ID, user, o.ID)
	if err == nil {
		if makeDefault {
			err = org.SetDefaultMembership(ctx, tx, acct.ID, user, o.ID)
		}
		return m.ID, false, err
	}
	if !errs.Is(err, errs.NotFound) {
		return 0, false, err
	}
	n, err := org.CountMemberships(ctx, tx, acct.ID, user)
	if err != nil {
		return 0, false, err
	}
	if orgsFull(acct, n) {
		return 0, false, tooManyOrgs(acct)
	}
	if id, err = org.InsertMembership(ctx, tx, acct.ID, user, o.ID, n == 0 || makeDefault, viaDomain); err != nil {
		return 0, false, err
	}
	desc := "Joined organization " + o.Name
	if viaDomain != "" {
		desc += " by email domain " + viaDomain
	}
	return id, true, record(ctx, tx, acct.ID, by, user, "create", "organization_membership", desc)
}

// removeMembership deletes an organization membership (the user's next one becomes the
// default); why, when not empty, says why in the audit log.
func removeMembership(ctx context.Context, tx *store.Tx, acct ids.Account, by Actor, m *org.Membership, why string) error {
	o, err := org.GetOrg(ctx, tx, acct, m.OrgID)
	if err != nil {
		return err
	}
	if err := org.RemoveMembership(ctx, tx, acct, m.ID); err != nil {
		return err
	}
	desc := "Left organization " + o.Name
	if why != "" {
		desc += " (" + why + ")"
	}
	return record(ctx, tx, acct, by, m.UserID, "destroy", "organization_membership", desc)
}

// loadOrg loads an organization a change names, as a validation error on field when it
// does not exist.
func loadOrg(ctx context.Context, q store.Queryer, acct ids.Account, id ids.Org, field string) (*org.Organization, error) {
	o, err := org.GetOrg(ctx, q, acct, id)
	if errs.Is(err, errs.NotFound) {
		return nil, errs.Invalidf(field, "InvalidValue", "organization %d does not exist", id)
	}
	return o, err
}

// setOrganizations puts u in the organizations want, the first as default, and reports
// whether anything changed. On plans with one organization per user, want[0] replaces
// the user's organization.
func setOrganizations(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, u *identity.User, want []ids.Org, isNew bool) (bool, error) {
	if len(want) == 0 {
		return false, nil
	}
	orgs := make([]*org.Organization, 0, len(want))
	for _, id := range want {
		o, err := loadOrg(ctx, tx, acct.ID, id, "organization_id")
		if err != nil {
			return false, err
		}
		orgs = append(orgs, o)
	}
	var current []*org.Membership
	if !isNew {
		var err error
		if current, err = org.UserMemberships(ctx, tx, acct.ID, u.ID); err != nil {
			return false, err
		}
	}
	if !acct.Plan.Allows(account.MultipleOrgs) {
		target := orgs[0]
		if len(current) == 1 && current[0].OrgID == target.ID && current[0].Default && u.OrganizationID == target.ID {
			return false, nil
		}
		for _, m := range current {
			if m.OrgID != target.ID {
				if err := removeMembership(ctx, tx, acct.ID, by, m, "replaced"); err != nil {
					return false, err
				}
			}
		}
		_, _, err := addMembership(ctx, tx, acct, by, u.ID, target, true, "")
		return true, err
	}
	have := map[ids.Org]*org.Membership{}
	for _, m := range current {
		have[m.OrgID] = m
	}
	changed := false
	for i, o := range orgs {
		m := have[o.ID]
		if m != nil && (i > 0 || m.Default && u.OrganizationID == o.ID) {
			continue
		}
		changed = true
		if m == nil {
			if _, _, err := addMembership(ctx, tx, acct, by, u.ID, o, i == 0, ""); err != nil {
				return false, err
			}
		} else if err := org.SetDefaultMembership(ctx, tx, acct.ID, u.ID, o.ID); err != nil {
			return false, err
		}
	}
	return changed, nil
}

// checkMember loads the user a membership change names, as validation errors.
func checkMember(ctx context.Context, q store.Queryer, acct ids.Account, user ids.User, v *errs.Validation) error {
	if user == 0 {
		v.Blank("user_id")
		return nil
	}
	u, err := identity.Get(ctx, q, acct, user)
	switch {
	case errs.Is(err, errs.NotFound):
		v.Bad("user_id", fmt.Sprintf("user %d does not exist", user))
	case err != nil:
		return err
	case !u.Active:
		v.Bad("user_id", fmt.Sprintf("user %d has been deleted", user))
	}
	return nil
}

// AddMembership puts a user in an organization (an admin's act); an existing
// membership is a DuplicateValue.
func AddMembership(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, user ids.User, o ids.Org, makeDefault bool) (*org.Membership, error) {
	if !by.isAdmin() {
		return nil, errs.Forbiddenf("Only admins can add users to organizations.")
	}
	var v errs.Validation
	if err := checkMember(ctx, tx, acct.ID, user, &v); err != nil {
		return nil, err
	}
	var target *org.Organization
	if o == 0 {
		v.Blank("organization_id")
	} else if got, err := loadOrg(ctx, tx, acct.ID, o, "organization_id"); errs.Is(err, errs.Invalid) {
		v.Bad("organization_id", fmt.Sprintf("organization %d does not exist", o))
	} else if err != nil {
		return nil, err
	} else {
		target = got
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	id, created, err := addMembership(ctx, tx, acct, by, user, target, makeDefault, "")
	if err != nil {
		return nil, err
	}
	if !created {
		return nil, errs.Invalidf("user_id", "DuplicateValue", "user %d is already a member of organization %d", user, o)
	}
	return org.GetMembership(ctx, tx, acct.ID, id)
}

// RemoveMembership takes a user out of an organization (an admin's act).
func RemoveMembership(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, id int64) error {
	if !by.isAdmin() {
		return errs.Forbiddenf("Only admins can remove users from organizations.")
	}
	m, err := org.GetMembership(ctx, tx, acct.ID, id)
	if err != nil {
		return err
	}
	return removeMembership(ctx, tx, acct.ID, by, m, "")
}

// SetDefaultOrganization makes one of a user's memberships their default; users choose
// their own, staff anyone's.
func SetDefaultOrganization(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, m *org.Membership) error {
	if !by.isStaff() && m.UserID != by.ID {
		return errs.Forbiddenf("You do not have access to this membership.")
	}
	o, err := org.GetOrg(ctx, tx, acct.ID, m.OrgID)
	if err != nil {
		return err
	}
	if err := org.SetDefaultMembership(ctx, tx, acct.ID, m.UserID, m.OrgID); err != nil {
		return err
	}
	return record(ctx, tx, acct.ID, by, m.UserID, "update", "organization_membership", "Default organization set to "+o.Name)
}
