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

// UserChange is one create or update of a user.
type UserChange struct {
	// Before is the stored user, nil to create one.
	Before *identity.User
	// User is what the user should become: a changed copy of Before, or the new user.
	User *identity.User
	// Password is a new password in clear ("" keeps the current one).
	Password string
	// Identities are email addresses to add to the user.
	Identities []NewIdentity
	// Organizations are organizations the user should be in, the first as default. On
	// plans with one organization per user, the first replaces the user's.
	Organizations []ids.Org
	// LeaveDefaultOrganization takes the user out of their default organization
	// (the API's organization_id: null).
	LeaveDefaultOrganization bool
	// DefaultGroup is a group to put the user in and make their default (0: none).
	DefaultGroup ids.Group
}

// NewIdentity is an email address to add to a user.
type NewIdentity struct {
	Type     string
	Value    string
	Verified bool
}

// UserResult is what WriteUser did.
type UserResult struct {
	User    *identity.User // as stored now
	Created bool
	Changed bool // false when the change changed nothing, and nothing was written
}

// profileFields are the fields users may change on themselves.
var profileFields = []string{"name", "phone", "time_zone", "locale", "alias", "signature"}

// authorizeUser decides whether by may create u (before == nil) or make the named
// changes to before.
func authorizeUser(by Actor, before, u *identity.User, changed []string) error {
	if by.isSystem() {
		return nil
	}
	self := before != nil && before.ID == by.ID
	if self {
		for _, f := range []string{"role", "suspended"} {
			if slices.Contains(changed, f) {
				return errSelf(f)
			}
		}
	}
	if by.isAdmin() {
		return nil
	}
	if slices.Contains(changed, "password") {
		return errs.Forbiddenf("Only admins can set a user's password.")
	}
	if before == nil {
		if u.Role != identity.EndUser {
			return errs.Forbiddenf("Agents can only create end users; only admins can create agents and admins.")
		}
		return nil
	}
	if self {
		for _, f := range changed {
			if !slices.Contains(profileFields, f) || f == "signature" && !by.isStaff() {
				return errs.Forbiddenf("You cannot change your own %s.", strings.ReplaceAll(f, "_", " "))
			}
		}
		return nil
	}
	if by.isStaff() && before.Role == identity.EndUser {
		if slices.Contains(changed, "role") {
			return errs.Forbiddenf("Only admins can change a user's role.")
		}
		return nil
	}
	return errs.Forbiddenf("You do not have access to this user.")
}

// Changes names the fields that differ between two versions of a user.
func Changes(a, b *identity.User) []string {
	var out []string
	add := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	fa, _ := json.Marshal(a.UserFields)
	fb, _ := json.Marshal(b.UserFields)
	add("name", a.Name != b.Name)
	add("email", a.Email != b.Email)
	add("role", a.Role != b.Role)
	add("verified", a.Verified != b.Verified)
	add("suspended", a.Suspended != b.Suspended)
	add("external_id", a.ExternalID != b.ExternalID)
	add("phone", a.Phone != b.Phone)
	add("time_zone", a.TimeZone != b.TimeZone)
	add("locale", a.Locale != b.Locale)
	add("details", a.Details != b.Details)
	add("notes", a.Notes != b.Notes)
	add("alias", a.Alias != b.Alias)
	add("signature", a.Signature != b.Signature)
	add("tags", !slices.Equal(a.Tags, b.Tags))
	add("user_fields", string(fa) != string(fb))
	add("ticket_restriction", a.TicketRestriction != b.TicketRestriction)
	add("only_private_comments", a.OnlyPrivateComments != b.OnlyPrivateComments)
	return out
}

// linkChanges names what a change does besides the user's own fields.
func linkChanges(before *identity.User, ch *UserChange) []string {
	var out []string
	if len(ch.Organizations) > 1 || len(ch.Organizations) == 1 && ch.Organizations[0] != before.OrganizationID ||
		ch.LeaveDefaultOrganization && before.OrganizationID != 0 {
		out = append(out, "organization_id")
	}
	if ch.DefaultGroup != 0 && ch.DefaultGroup != before.DefaultGroupID {
		out = append(out, "default_group_id")
	}
	if len(ch.Identities) > 0 {
		out = append(out, "identities")
	}
	if ch.Password != "" {
		out = append(out, "password")
	}
	return out
}

// WriteUser creates or updates a user with everything that follows from it.
func WriteUser(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, ch *UserChange) (*UserResult, error) {
	u := ch.User
	u.AccountID = acct.ID
	if !u.Role.IsStaff() {
		// End users are shown as "requested" and never restricted to private comments.
		u.TicketRestriction, u.OnlyPrivateComments = "", false
	}
	if err := identity.Validate(u); err != nil {
		return nil, err
	}
	if ch.Before == nil {
		return createUser(ctx, tx, acct, by, ch)
	}
	return updateUser(ctx, tx, acct, by, ch)
}

func createUser(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, ch *UserChange) (*UserResult, error) {
	u := ch.User
	var links []string
	if ch.Password != "" {
		links = append(links, "password")
	}
	if err := authorizeUser(by, nil, u, links); err != nil {
		return nil, err
	}
	if ch.Password != "" {
		h, err := identity.HashPassword(ch.Password)
		if err != nil {
			return nil, err
		}
		u.PasswordHash = h
	}
	if err := identity.Insert(ctx, tx, u); err != nil {
		return nil, err
	}
	if u.Role.IsStaff() {
		// End user is where everyone starts; a staff role is a grant worth recording.
		if err := record(ctx, tx, acct.ID, by, u.ID, "create", "role", fmt.Sprintf("Created as %s", u.Role)); err != nil {
			return nil, err
		}
	}
	if err := addIdentities(ctx, tx, acct.ID, u.ID, ch.Identities); err != nil {
		return nil, err
	}
	if _, err := setOrganizations(ctx, tx, acct, by, u, ch.Organizations, true); err != nil {
		return nil, err
	}
	if ch.DefaultGroup != 0 {
		if _, _, err := addGroupMembership(ctx, tx, acct.ID, by, u.ID, ch.DefaultGroup, true); err != nil {
			return nil, err
		}
	}
	fresh, err := identity.Get(ctx, tx, acct.ID, u.ID)
	if err != nil {
		return nil, err
	}
	// A new user joins the organizations of their email's domain, verified or not (as
	// Zendesk maps new users): only a domain added later asks for a verified address.
	// Read again only when that changed the user (most new users join none).
	if joined, err := joinByDomain(ctx, tx, acct, by, fresh); err != nil {
		return nil, err
	} else if joined {
		if fresh, err = identity.Get(ctx, tx, acct.ID, u.ID); err != nil {
			return nil, err
		}
	}
	if err := userEvents(ctx, tx, acct.ID, nil, fresh); err != nil {
		return nil, err
	}
	return &UserResult{User: fresh, Created: true, Changed: true}, nil
}

func updateUser(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, ch *UserChange) (*UserResult, error) {
	before, u := ch.Before, ch.User
	fields := Changes(before, u)
	links := linkChanges(before, ch)
	if err := authorizeUser(by, before, u, append(slices.Clone(fields), links...)); err != nil {
		return nil, err
	}
	if len(fields) == 0 && len(links) == 0 {
		return &UserResult{User: before}, nil
	}
	changed := len(fields) > 0 || ch.Password != "" || len(ch.Identities) > 0
	if len(fields) > 0 || ch.Password != "" {
		if ch.Password != "" {
			h, err := identity.HashPassword(ch.Password)
			if err != nil {
				return nil, err
			}
			u.PasswordHash = h
		}
		if err := identity.Save(ctx, tx, u); err != nil {
			return nil, err
		}
	}
	if before.Role != u.Role {
		if err := record(ctx, tx, acct.ID, by, u.ID, "update", "role", fmt.Sprintf("Role changed from %s to %s", before.Role, u.Role)); err != nil {
			return nil, err
		}
		if before.Role.IsStaff() && !u.Role.IsStaff() {
			if err := leaveGroups(ctx, tx, acct.ID, by, u.ID, "no longer an agent"); err != nil {
				return nil, err
			}
		}
	}
	if before.Suspended != u.Suspended {
		if err := suspended(ctx, tx, acct.ID, by, u); err != nil {
			return nil, err
		}
	}
	if err := addIdentities(ctx, tx, acct.ID, u.ID, ch.Identities); err != nil {
		return nil, err
	}
	if ch.LeaveDefaultOrganization && u.OrganizationID != 0 {
		m, err := org.FindMembership(ctx, tx, acct.ID, u.ID, u.OrganizationID)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
		if m != nil {
			if err := removeMembership(ctx, tx, acct.ID, by, m, ""); err != nil {
				return nil, err
			}
			changed = true
		}
	}
	orgsChanged, err := setOrganizations(ctx, tx, acct, by, u, ch.Organizations, false)
	if err != nil {
		return nil, err
	}
	changed = changed || orgsChanged
	if ch.DefaultGroup != 0 && ch.DefaultGroup != before.DefaultGroupID {
		if _, _, err := addGroupMembership(ctx, tx, acct.ID, by, u.ID, ch.DefaultGroup, true); err != nil {
			return nil, err
		}
		changed = true
	}
	fresh, err := identity.Get(ctx, tx, acct.ID, u.ID)
	if err != nil {
		return nil, err
	}
	if fresh.Email != "" && fresh.Verified && (fresh.Email != before.Email || !before.Verified) {
		if joined, err := joinByDomain(ctx, tx, acct, by, fresh); err != nil {
			return nil, err
		} else if joined {
			if fresh, err = identity.Get(ctx, tx, acct.ID, u.ID); err != nil {
				return nil, err
			}
		}
	}
	if err := userEvents(ctx, tx, acct.ID, before, fresh); err != nil {
		return nil, err
	}
	return &UserResult{User: fresh, Changed: changed}, nil
}

// suspended records a change of u's suspension; a suspended user is signed out
// everywhere (and identity refuses their password and tokens while it lasts).
func suspended(ctx context.Context, tx *store.Tx, acct ids.Account, by Actor, u *identity.User) error {
	desc := "Unsuspended"
	if u.Suspended {
		desc = "Suspended"
		if err := identity.EndSessions(ctx, tx, acct, u.ID); err != nil {
			return err
		}
	}
	return record(ctx, tx, acct, by, u.ID, "update", "suspended", desc)
}

func addIdentities(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User, list []NewIdentity) error {
	for _, id := range list {
		if _, err := identity.AddIdentity(ctx, tx, acct, user, id.Type, id.Value, id.Verified); err != nil {
			return err
		}
	}
	return nil
}

// DeleteUser soft-deletes a user: they stay readable with active false, can no longer
// sign in or use tokens, and leave every group. Nobody deletes themselves.
func DeleteUser(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, id ids.User) (*identity.User, error) {
	if !by.isSystem() && id == by.ID {
		return nil, errs.Forbiddenf("You cannot delete yourself.")
	}
	u, err := identity.Get(ctx, tx, acct.ID, id)
	if err != nil {
		return nil, err
	}
	if !by.isAdmin() {
		return nil, errs.Forbiddenf("Only admins can delete users.")
	}
	u.Active = false
	if err := identity.Save(ctx, tx, u); err != nil {
		return nil, err
	}
	if err := leaveGroups(ctx, tx, acct.ID, by, u.ID, "deleted"); err != nil {
		return nil, err
	}
	if err := identity.EndSessions(ctx, tx, acct.ID, u.ID); err != nil {
		return nil, err
	}
	if err := record(ctx, tx, acct.ID, by, u.ID, "destroy", "active", "Deleted"); err != nil {
		return nil, err
	}
	gone, err := identity.Get(ctx, tx, acct.ID, id)
	if err != nil {
		return nil, err
	}
	return gone, webhook.QueueEvent(ctx, tx, acct.ID, webhook.Event{Type: "user.deleted", Kind: "user", ID: int64(id), Detail: userDetail(gone)})
}

// FindOrCreateUser finds a user by email, or creates an end user with that email
// (verified, as Zendesk treats requesters named by an agent), who joins the
// organizations of the email's domain. It is how a ticket's requester object, and later
// an inbound email, names a person.
func FindOrCreateUser(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, name, email, locale string) (*identity.User, error) {
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
	u = &identity.User{Name: strings.TrimSpace(name), Email: norm, Role: identity.EndUser, Verified: true, Locale: locale}
	res, err := WriteUser(ctx, tx, acct, by, &UserChange{User: u})
	if err != nil {
		return nil, err
	}
	return res.User, nil
}

// SetPassword sets a user's password: admins set anyone else's; users change their
// own, proving the previous one when they have one. The caller checks that previous
// password through identity.Guard, outside the transaction (the hash is slow and counts
// against the attempt limits), and says whether it matched with previousChecked.
func SetPassword(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, id ids.User, password string, previousChecked bool) error {
	if password == "" {
		return errs.Invalidf("password", "BlankValue", "cannot be blank")
	}
	self := !by.isSystem() && id == by.ID
	if !self && !by.isAdmin() {
		return errs.Forbiddenf("Only admins can set another user's password.")
	}
	u, err := identity.Get(ctx, tx, acct.ID, id)
	if err != nil {
		return err
	}
	if self && u.PasswordHash != "" && !previousChecked {
		return errs.Invalidf("previous_password", "InvalidValue", "is not your current password")
	}
	return identity.SetPassword(ctx, tx, acct.ID, id, password)
}

// authorizeEmail checks by may change the user's email identities.
func authorizeEmail(ctx context.Context, tx *store.Tx, acct ids.Account, by Actor, id ids.User) error {
	u, err := identity.Get(ctx, tx, acct, id)
	if err != nil {
		return err
	}
	return authorizeUser(by, u, u, []string{"email"})
}

// AddIdentity adds an email identity to a user, who then joins the organizations of
// their primary email's domain once it is verified.
func AddIdentity(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, user ids.User, in NewIdentity) (*identity.Identity, error) {
	if err := authorizeEmail(ctx, tx, acct.ID, by, user); err != nil {
		return nil, err
	}
	i, err := identity.AddIdentity(ctx, tx, acct.ID, user, in.Type, in.Value, in.Verified)
	if err != nil {
		return nil, err
	}
	return i, rejoinByDomain(ctx, tx, acct, by, user)
}

// DeleteIdentity removes a secondary identity of a user.
func DeleteIdentity(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, user ids.User, id int64) error {
	if err := authorizeEmail(ctx, tx, acct.ID, by, user); err != nil {
		return err
	}
	return identity.DeleteIdentity(ctx, tx, acct.ID, user, id)
}

// MakePrimary makes an identity the user's primary email.
func MakePrimary(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, user ids.User, id int64) error {
	if err := authorizeEmail(ctx, tx, acct.ID, by, user); err != nil {
		return err
	}
	if _, err := identity.MakePrimary(ctx, tx, acct.ID, user, id); err != nil {
		return err
	}
	return rejoinByDomain(ctx, tx, acct, by, user)
}

// VerifyIdentity marks an identity verified.
func VerifyIdentity(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, user ids.User, id int64) (*identity.Identity, error) {
	if err := authorizeEmail(ctx, tx, acct.ID, by, user); err != nil {
		return nil, err
	}
	i, err := identity.VerifyIdentity(ctx, tx, acct.ID, user, id)
	if err != nil {
		return nil, err
	}
	return i, rejoinByDomain(ctx, tx, acct, by, user)
}

// rejoinByDomain maps an existing user into the organizations of their primary email's
// domain, once that email is verified.
func rejoinByDomain(ctx context.Context, tx *store.Tx, acct *account.Account, by Actor, id ids.User) error {
	u, err := identity.Get(ctx, tx, acct.ID, id)
	if err != nil {
		return err
	}
	if !u.Verified {
		return nil
	}
	_, err = joinByDomain(ctx, tx, acct, by, u)
	return err
}
