package rules

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// placeholderRE matches {{ticket.title}}-style placeholders (Liquid logic: liquid.go).
var placeholderRE = regexp.MustCompile(`\{\{\s*([a-z_]+(?:\.[a-z_]+)*)\s*\}\}`)

// renderer fills placeholders in notification and comment texts.
type renderer struct {
	ctx       context.Context
	q         store.Queryer
	acct      *account.Account
	t         *ticket.Ticket
	actor     ids.User
	comments  []*ticket.Comment // the update's comments, oldest first
	ticketURL func(*account.Account, ids.Ticket) string
	ratingURL func(context.Context, store.Queryer, *account.Account, *ticket.Ticket) string
	users     map[ids.User]*identity.User
	// publicOnly renders for end users: internal notes never show.
	publicOnly bool
	// escape, if set, escapes each placeholder's value (webhook bodies).
	escape func(string) string
}

func (r *renderer) render(s string) string {
	s = r.liquid(s)
	if !strings.Contains(s, "{{") {
		return s
	}
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		v := r.value(placeholderRE.FindStringSubmatch(m)[1])
		if r.escape != nil {
			v = r.escape(v)
		}
		return v
	})
}

func (r *renderer) user(id ids.User) *identity.User {
	if id <= 0 {
		return nil
	}
	if u, ok := r.users[id]; ok {
		return u
	}
	if r.users == nil {
		r.users = map[ids.User]*identity.User{}
	}
	u, _ := identity.Get(r.ctx, r.q, r.acct.ID, id)
	r.users[id] = u
	return u
}

func title(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (r *renderer) url() string {
	if r.ticketURL != nil {
		return r.ticketURL(r.acct, r.t.ID)
	}
	return "/agent/tickets/" + strconv.FormatInt(int64(r.t.ID), 10)
}

// value renders one placeholder; unknown ones render empty, as Zendesk's do.
func (r *renderer) value(name string) string {
	t := r.t
	if who, attr, ok := strings.Cut(name, "."); ok && (who == "current_user" || strings.HasPrefix(name, "ticket.requester.") || strings.HasPrefix(name, "ticket.assignee.")) {
		var u *identity.User
		switch {
		case who == "current_user":
			u = r.user(r.actor)
		case strings.HasPrefix(name, "ticket.requester."):
			u, attr = r.user(t.RequesterID), strings.TrimPrefix(name, "ticket.requester.")
		default:
			u, attr = r.user(t.AssigneeID), strings.TrimPrefix(name, "ticket.assignee.")
		}
		if u == nil {
			return ""
		}
		first, last, _ := strings.Cut(u.Name, " ")
		switch attr {
		case "name":
			return u.Name
		case "first_name":
			return first
		case "last_name":
			return last
		case "email":
			return u.Email
		case "id":
			return strconv.FormatInt(int64(u.ID), 10)
		}
		return ""
	}
	switch name {
	case "ticket.id":
		return strconv.FormatInt(int64(t.ID), 10)
	case "ticket.title", "ticket.subject":
		return t.Subject
	case "ticket.description":
		if t.Description == "" && len(r.comments) > 0 {
			return r.comments[0].PlainBody
		}
		return t.Description
	case "ticket.status":
		return title(string(t.Status))
	case "ticket.priority":
		return title(t.Priority)
	case "ticket.ticket_type", "ticket.type":
		return title(t.Type)
	case "ticket.tags":
		return strings.Join(t.Tags, " ")
	case "ticket.via":
		return title(t.Via.Channel)
	case "ticket.url":
		return r.url()
	case "ticket.link":
		if u := r.url(); !strings.Contains(u, "://") {
			return "https://" + strings.TrimPrefix(u, "/")
		}
		return r.url()
	case "ticket.account":
		return r.acct.Name
	case "ticket.group.name":
		if g, err := org.GetGroup(r.ctx, r.q, r.acct.ID, t.GroupID); err == nil && t.GroupID != 0 {
			return g.Name
		}
	case "ticket.organization.name":
		if o, err := org.GetOrg(r.ctx, r.q, r.acct.ID, t.OrganizationID); err == nil && t.OrganizationID != 0 {
			return o.Name
		}
	case "ticket.latest_comment", "ticket.latest_public_comment", "ticket.latest_comment_formatted", "ticket.latest_public_comment_formatted":
		return r.latestComment(r.publicOnly || strings.HasPrefix(name, "ticket.latest_public_comment"))
	case "ticket.comments_formatted", "ticket.public_comments_formatted":
		return r.commentsFormatted(r.publicOnly || name == "ticket.public_comments_formatted")
	case "ticket.created_at":
		return r.t.CreatedAt.UTC().Format("January 2, 2006 15:04")
	case "ticket.updated_at":
		return r.t.UpdatedAt.UTC().Format("January 2, 2006 15:04")
	case "ticket.external_id", "ticket.brand.name":
		if name == "ticket.brand.name" {
			return r.acct.Name
		}
	case "satisfaction.rating_url":
		if r.ratingURL != nil {
			return r.ratingURL(r.ctx, r.q, r.acct, t)
		}
	case "satisfaction.rating_section":
		if r.ratingURL != nil {
			return "How would you rate the support you received?\n\nGood, I'm satisfied / Bad, I'm unsatisfied: " + r.ratingURL(r.ctx, r.q, r.acct, t)
		}
	case "ticket.cc_names":
		return ""
	case SuggestedArticles:
		// Which articles to suggest depends on who reads the mail (an article only the
		// requester's organization may read is not listed to anyone else), so the mail
		// sender fills it per recipient (internal/mail/send).
		return "{{" + SuggestedArticles + "}}"
	}
	return ""
}

func (r *renderer) latestComment(publicOnly bool) string {
	for i := len(r.comments) - 1; i >= 0; i-- {
		if c := r.comments[i]; c.Public || !publicOnly {
			return c.PlainBody
		}
	}
	if t := r.t; t.ID != 0 {
		q := `SELECT plain_body FROM ticket_comments WHERE account_id = ? AND ticket_id = ?`
		if publicOnly {
			q += ` AND public = TRUE`
		}
		var body string
		if r.q.QueryRowContext(r.ctx, q+` ORDER BY id DESC LIMIT 1`, r.acct.ID, t.ID).Scan(&body) == nil {
			return body
		}
	}
	return ""
}

// commentsFormatted is the ticket's comments, newest first, each under its author and
// time (the last 20).
func (r *renderer) commentsFormatted(publicOnly bool) string {
	t := r.t
	if t.ID == 0 {
		return r.latestComment(publicOnly)
	}
	q := `SELECT author_id, plain_body, created_at FROM ticket_comments WHERE account_id = ? AND ticket_id = ?`
	if publicOnly {
		q += ` AND public = TRUE`
	}
	rows, err := r.q.QueryContext(r.ctx, q+` ORDER BY id DESC LIMIT 20`, r.acct.ID, t.ID)
	if err != nil {
		return ""
	}
	type cm struct {
		author ids.User
		body   string
		at     int64
	}
	var cs []cm
	for rows.Next() {
		var c cm
		if rows.Scan(&c.author, &c.body, &c.at) == nil {
			cs = append(cs, c)
		}
	}
	rows.Close()
	var b strings.Builder
	for _, c := range cs {
		name := "Someone"
		if u := r.user(c.author); u != nil {
			name = u.Name
		}
		b.WriteString("----------------------------------------------\n\n" + name + ", " + store.Time(c.at).UTC().Format("Jan 2, 2006, 15:04") + "\n\n" + c.body + "\n\n")
	}
	return b.String()
}

// flushNotifications records the notifications the fired triggers asked for, rendered
// against the ticket as the run left it. The mail service's after-hook sends them, in
// the same transaction (internal/mail/send).
func (e *eval) flushNotifications() error {
	if len(e.notes) == 0 {
		return nil
	}
	r := e.renderer()
	for _, n := range e.notes {
		if n.webhook != "" {
			e.ch.Events = append(e.ch.Events, e.webhookEvent(r, n))
			continue
		}
		to, err := e.recipients(n)
		if err != nil {
			return err
		}
		if len(to) == 0 {
			continue
		}
		ev := ticket.Event{
			"type": "Notification", "subject": r.render(n.subject), "body": r.render(n.body), "recipients": to, "via": n.via,
		}
		// End users among the recipients get the text rendered without internal notes
		// (internal/mail/send reads end_user_body); recorded only when it differs.
		pub := *r
		pub.publicOnly = true
		if b := pub.render(n.body); b != ev["body"] {
			ev["end_user_body"] = b
		}
		e.ch.Events = append(e.ch.Events, ev)
	}
	return nil
}

// recipients resolves a notification's recipient to user ids.
func (e *eval) recipients(n pendingNote) ([]int64, error) {
	t := e.ch.Ticket
	var out []int64
	add := func(us ...ids.User) {
		for _, u := range us {
			if u > 0 {
				out = append(out, int64(u))
			}
		}
	}
	query := func(q string, args ...any) error {
		rows, err := e.tx.QueryContext(e.ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out = append(out, id)
		}
		return rows.Err()
	}
	acct := e.ch.Account.ID
	if n.group {
		g := t.GroupID
		if n.recipient != "group_id" {
			id, _ := parseID(n.recipient)
			g = ids.Group(id)
		}
		if g == 0 {
			return nil, nil
		}
		if err := query(`SELECT m.user_id FROM group_memberships m JOIN users u ON u.account_id = m.account_id AND u.id = m.user_id
			WHERE m.account_id = ? AND m.group_id = ? AND u.active = TRUE`, acct, g); err != nil {
			return nil, err
		}
	} else {
		switch n.recipient {
		case "requester_id":
			add(t.RequesterID)
		case "assignee_id":
			add(t.AssigneeID)
		case "current_user":
			add(e.ch.Actor.UserID)
		case "requester_and_ccs":
			add(t.RequesterID)
			add(t.EmailCCIDs...)
			add(t.CollaboratorIDs...)
		case "all_agents":
			if err := query(`SELECT id FROM users WHERE account_id = ? AND role IN ('agent', 'admin') AND active = TRUE`, acct); err != nil {
				return nil, err
			}
		default:
			id, _ := parseID(n.recipient)
			add(ids.User(id))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	uniq := out[:0]
	for i, id := range out {
		if i == 0 || id != out[i-1] {
			uniq = append(uniq, id)
		}
	}
	return uniq, nil
}

// SuggestedArticles is the placeholder for up to three help center articles that may
// answer the request, which the mail sender renders for each recipient.
const SuggestedArticles = "ticket.suggested_articles"
