package web

import (
	"context"
	"fmt"
	"strings"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// The listings below are read-only queries the pages need and the domain packages do
// not offer yet. Every one is scoped by account first, on an index that starts with it.

// staffUsers lists the account's active agents and admins by name, for assignee and
// agent pickers: the account's AI user (internal/ai), an agent nobody assigns work to,
// is left out.
func staffUsers(ctx context.Context, q store.Queryer, acct ids.Account) ([]*identity.User, error) {
	return scanUsers(q.QueryContext(ctx, `SELECT `+identity.UserCols+` FROM users WHERE account_id = ? AND role IN ('agent', 'admin') AND active = TRUE
		AND NOT EXISTS (SELECT 1 FROM ai_settings a WHERE a.account_id = users.account_id AND a.user_id = users.id) ORDER BY name, id LIMIT 500`, acct))
}

// listUsers lists a page of the account's users, optionally of one role or matching
// text in name or email.
func listUsers(ctx context.Context, q store.Queryer, acct ids.Account, role, text string, limit, offset int) ([]*identity.User, int, error) {
	cond := `account_id = ? AND active = TRUE`
	args := []any{acct}
	if role != "" {
		cond += ` AND role = ?`
		args = append(args, role)
	}
	if text = strings.ToLower(strings.TrimSpace(text)); text != "" {
		p := "%" + escapeLike(text) + "%"
		cond += ` AND (LOWER(name) LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\')`
		args = append(args, p, p)
	}
	var total int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("web: count users: %w", err)
	}
	list, err := scanUsers(q.QueryContext(ctx, `SELECT `+identity.UserCols+` FROM users WHERE `+cond+` ORDER BY name, id LIMIT ? OFFSET ?`, append(args, limit, offset)...))
	return list, total, err
}

func scanUsers(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}, err error) ([]*identity.User, error) {
	if err != nil {
		return nil, fmt.Errorf("web: list users: %w", err)
	}
	defer rows.Close()
	var out []*identity.User
	for rows.Next() {
		u, err := identity.ScanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// usersByID loads users and indexes them.
func usersByID(ctx context.Context, q store.Queryer, acct ids.Account, list []ids.User) (map[ids.User]*identity.User, error) {
	seen := map[ids.User]bool{}
	var want []ids.User
	for _, id := range list {
		if id > 0 && !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	us, err := identity.GetMany(ctx, q, acct, want)
	if err != nil {
		return nil, err
	}
	out := make(map[ids.User]*identity.User, len(us))
	for _, u := range us {
		out[u.ID] = u
	}
	return out, nil
}

// liveGroups lists the account's groups that are not deleted, by name.
func liveGroups(ctx context.Context, q store.Queryer, acct ids.Account) ([]*org.Group, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+org.GroupCols+` FROM groups WHERE account_id = ? AND deleted = FALSE ORDER BY name, id`, acct)
	if err != nil {
		return nil, fmt.Errorf("web: list groups: %w", err)
	}
	defer rows.Close()
	var out []*org.Group
	for rows.Next() {
		g, err := org.ScanGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// listOrgs lists the account's organizations by name.
func listOrgs(ctx context.Context, q store.Queryer, acct ids.Account, limit, offset int) ([]*org.Organization, int, error) {
	var total int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations WHERE account_id = ?`, acct).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("web: count organizations: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+org.OrgCols+` FROM organizations WHERE account_id = ? ORDER BY name_lower, id LIMIT ? OFFSET ?`, acct, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("web: list organizations: %w", err)
	}
	defer rows.Close()
	var out []*org.Organization
	for rows.Next() {
		o, err := org.ScanOrg(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, o)
	}
	return out, total, rows.Err()
}

// orgMembers lists the users of an organization.
func orgMembers(ctx context.Context, q store.Queryer, acct ids.Account, o ids.Org) ([]*identity.User, error) {
	return scanUsers(q.QueryContext(ctx, `SELECT `+prefixedUserCols("u.")+` FROM organization_memberships m JOIN users u ON u.account_id = m.account_id AND u.id = m.user_id
		WHERE m.account_id = ? AND m.organization_id = ? ORDER BY u.name, u.id LIMIT 1000`, acct, o))
}

// orgMemberCounts counts the members of each organization.
func orgMemberCounts(ctx context.Context, q store.Queryer, acct ids.Account) (map[ids.Org]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT organization_id, COUNT(*) FROM organization_memberships WHERE account_id = ? GROUP BY organization_id`, acct)
	if err != nil {
		return nil, fmt.Errorf("web: count members: %w", err)
	}
	defer rows.Close()
	out := map[ids.Org]int{}
	for rows.Next() {
		var id ids.Org
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// groupMembers lists the agents of a group.
func groupMembers(ctx context.Context, q store.Queryer, acct ids.Account, g ids.Group) ([]*identity.User, error) {
	return scanUsers(q.QueryContext(ctx, `SELECT `+prefixedUserCols("u.")+` FROM group_memberships m JOIN users u ON u.account_id = m.account_id AND u.id = m.user_id
		WHERE m.account_id = ? AND m.group_id = ? ORDER BY u.name, u.id`, acct, g))
}

func prefixedUserCols(p string) string {
	parts := strings.Split(identity.UserCols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

// comments loads a ticket's comments in order (public ones only when publicOnly).
func comments(ctx context.Context, q store.Queryer, acct ids.Account, t ids.Ticket, publicOnly bool) ([]*ticket.Comment, error) {
	qs := `SELECT ` + ticket.CommentCols + ` FROM ticket_comments WHERE account_id = ? AND ticket_id = ?`
	if publicOnly {
		qs += ` AND public = TRUE`
	}
	rows, err := q.QueryContext(ctx, qs+` ORDER BY id`, acct, t)
	if err != nil {
		return nil, fmt.Errorf("web: comments: %w", err)
	}
	defer rows.Close()
	var out []*ticket.Comment
	for rows.Next() {
		c, err := ticket.ScanComment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// audits loads a ticket's audits in order.
func audits(ctx context.Context, q store.Queryer, acct ids.Account, t ids.Ticket) ([]*ticket.Audit, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+ticket.AuditCols+` FROM ticket_audits WHERE account_id = ? AND ticket_id = ? ORDER BY id`, acct, t)
	if err != nil {
		return nil, fmt.Errorf("web: audits: %w", err)
	}
	defer rows.Close()
	var out []*ticket.Audit
	for rows.Next() {
		a, err := ticket.ScanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// userTokens lists one user's API tokens.
func userTokens(ctx context.Context, q store.Queryer, acct ids.Account, user ids.User) ([]*identity.Token, error) {
	all, err := identity.Tokens(ctx, q, acct)
	if err != nil {
		return nil, err
	}
	var out []*identity.Token
	for _, t := range all {
		if t.UserID == user {
			out = append(out, t)
		}
	}
	return out, nil
}
