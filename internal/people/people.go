// Package people is the one place that writes people: users, their email identities and
// passwords, organizations, organization memberships, groups and group memberships. It
// is to people what ticket.Service.Write is to tickets. The API, the admin web pages, the
// CSV importer, the ticket service (a requester named by email), the sharing receiver (a
// partner's agent) and provisioning build a change and call it, inside their own
// transaction; each rule is written here once:
//
//   - demoting an agent or admin to end user takes them out of every group;
//   - suspending (or deleting) a user ends their web sessions; suspended users cannot
//     sign in or use API tokens (identity.ByPassword, identity.ByToken);
//   - nobody changes their own role, suspends or deletes themselves (403);
//   - an organization's shared_comments requires shared_tickets;
//   - an organization's domain belongs to one organization of the account;
//   - a user belongs to at most the plan's number of organizations;
//   - a new user whose email domain belongs to an organization joins it, verified or
//     not; a domain added to an organization maps in existing users with a verified
//     email only.
//
// Role, suspension and membership changes are recorded in audit_logs (who, when, what).
//
// The functions take the caller's transaction rather than opening one, because every
// caller composes them with other writes (a ticket, an import batch, a share).
package people

import (
	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
)

// Actor is who makes a change. The zero Actor is the system: a sharing partner's
// person, a new account's first admin, a write no person asked for; it may do anything.
type Actor struct {
	ID          ids.User
	Role        identity.Role
	Restriction string // an agent's ticket_restriction
}

// By returns the actor for a signed-in user (nil gives the system).
func By(u *identity.User) Actor {
	if u == nil {
		return System
	}
	return Actor{ID: u.ID, Role: u.Role, Restriction: u.TicketRestriction}
}

// System is the actor for writes no person makes.
var System = Actor{}

func (a Actor) isSystem() bool { return a.ID == 0 }

func (a Actor) isAdmin() bool { return a.isSystem() || a.Role == identity.Admin }

func (a Actor) isStaff() bool { return a.isSystem() || a.Role.IsStaff() }

// errSelf is the one answer, on every surface, to changing one's own role (field
// "role") or suspension ("suspended"): 403 Forbidden, naming the field for the importer's
// per-row report.
func errSelf(field string) error {
	var v errs.Validation
	v.Add(field, "Forbidden", "you cannot change your own role or suspend yourself")
	e, _ := errs.As(v.Err())
	e.Code, e.Message = errs.Forbidden, "You cannot change your own role or suspend yourself."
	return e
}

// orgsFull reports whether a user who belongs to n organizations may join no more on
// the account's plan (at most 300, or one below Professional).
func orgsFull(acct *account.Account, n int) bool { return n >= acct.Plan.MaxOrgsPerUser() }

// CheckOrgCount refuses n organizations for one user beyond the plan's limit, for
// callers that read a whole list (a CSV row) before writing any of it.
func CheckOrgCount(acct *account.Account, n int) error {
	if n == 0 || !orgsFull(acct, n-1) { // the nth fits when the user had n-1
		return nil
	}
	return tooManyOrgs(acct)
}

// tooManyOrgs is the error for a user at the plan's limit: on one-organization plans it
// names the plan that allows several.
func tooManyOrgs(acct *account.Account) error {
	limit := acct.Plan.MaxOrgsPerUser()
	if limit == 1 {
		if err := acct.Require(account.MultipleOrgs); err != nil {
			return err
		}
	}
	return errs.Invalidf("organization_id", "TooManyOrganizations", "a user can belong to at most %d organizations", limit)
}
