package ticket

import (
	"context"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Scope returns a SQL condition (over alias t) and its arguments limiting tickets to those
// the actor may see. Admins and unrestricted agents see every ticket of the account; a
// restricted agent sees their groups', assigned, requested or organizations' tickets; an
// end user sees their own requests and every ticket of an organization they belong to
// that shares tickets. The SQL differs by dialect only where a planner needs it.
func Scope(d store.Dialect, acct ids.Account, a Actor) (string, []any) {
	switch {
	case SeesAll(a):
		return "1=1", nil
	case a.Role == identity.Agent:
		switch a.Restriction {
		case identity.RestrictGroups:
			return "t.group_id IN (SELECT group_id FROM group_memberships WHERE account_id = ? AND user_id = ?)", []any{acct, a.UserID}
		case identity.RestrictAssigned:
			return "t.assignee_id = ?", []any{a.UserID}
		case identity.RestrictRequested:
			return "t.requester_id = ?", []any{a.UserID}
		case identity.RestrictOrganization:
			return "t.organization_id IN (SELECT organization_id FROM organization_memberships WHERE account_id = ? AND user_id = ?)", []any{acct, a.UserID}
		}
		return "1=0", nil
	case a.Role == identity.EndUser && a.UserID != 0:
		orgs := `SELECT m.organization_id FROM organization_memberships m JOIN organizations o ON o.account_id = m.account_id AND o.id = m.organization_id
			WHERE m.account_id = ? AND m.user_id = ? AND o.shared_tickets = TRUE`
		if d == store.Postgres {
			// The organization list is computed once, so the planner can combine the
			// requester and organization indexes; "IN (subquery)" under an OR would
			// instead be checked against every ticket of the account.
			return `(t.requester_id = ? OR t.organization_id = ANY(ARRAY(` + orgs + `)))`, []any{a.UserID, acct, a.UserID}
		}
		return `(t.requester_id = ? OR t.organization_id IN (` + orgs + `))`, []any{a.UserID, acct, a.UserID}
	}
	return "1=0", nil
}

// SeesAll reports whether the actor sees every live ticket of the account (an admin or
// an unrestricted agent): for them a ticket that is found is visible.
func SeesAll(a Actor) bool {
	return a.Role == identity.Admin || a.Role == identity.Agent && a.Restriction == ""
}

// Access is what an actor may do with one ticket.
type Access struct {
	See     bool
	Comment bool // add a (public) comment
	Edit    bool // change fields (staff only)
}

// AccessFor decides what the actor may do with t.
func AccessFor(ctx context.Context, q store.Queryer, a Actor, t *Ticket) (Access, error) {
	cond, args := Scope(q.D(), t.AccountID, a)
	if cond == "1=0" {
		return Access{}, nil
	}
	n := 0
	if cond == "1=1" {
		// Every live ticket of the account: t, as read, says whether it is one (a
		// statement less on every request an admin or unrestricted agent makes).
		if !t.Deleted() {
			n = 1
		}
	} else if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets t WHERE t.account_id = ? AND t.id = ? AND t.deleted_at = 0 AND `+cond, append([]any{t.AccountID, t.ID}, args...)...).Scan(&n); err != nil {
		return Access{}, err
	}
	if n == 0 {
		return Access{}, nil
	}
	if a.IsStaff() {
		return Access{See: true, Comment: true, Edit: true}, nil
	}
	if t.RequesterID == a.UserID {
		return Access{See: true, Comment: true}, nil
	}
	// A colleague's request, visible through a shared organization: commenting needs
	// shared_comments.
	var sc bool
	if err := q.QueryRowContext(ctx, `SELECT shared_comments FROM organizations WHERE account_id = ? AND id = ?`, t.AccountID, t.OrganizationID).Scan(&sc); err != nil {
		return Access{See: true}, nil
	}
	return Access{See: true, Comment: sc}, nil
}

// GetVisible loads a ticket the actor may see; others are simply not found, so ticket
// numbers of other users do not leak.
func GetVisible(ctx context.Context, q store.Queryer, acct ids.Account, a Actor, id ids.Ticket) (*Ticket, Access, error) {
	t, err := Get(ctx, q, acct, id)
	if err != nil {
		return nil, Access{}, err
	}
	acc, err := AccessFor(ctx, q, a, t)
	if err != nil {
		return nil, Access{}, err
	}
	if !acc.See {
		return nil, Access{}, errs.NotFoundf("ticket %d not found", id)
	}
	return t, acc, nil
}
