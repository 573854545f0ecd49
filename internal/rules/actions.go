package rules

import (
	"fmt"
	"strconv"
	"strings"

	"tandem/internal/ids"
	"tandem/internal/ticket"
)

// actionKinds says where each fixed action field may be used.
var actionKinds = map[string]Kind{
	"status": KindTrigger | KindMacro, "priority": KindTrigger | KindMacro, "type": KindTrigger | KindMacro,
	"group_id": KindTrigger | KindMacro, "assignee_id": KindTrigger | KindMacro, "subject": KindTrigger | KindMacro,
	"set_tags": KindTrigger | KindMacro, "current_tags": KindTrigger | KindMacro, "remove_tags": KindTrigger | KindMacro,
	"comment_value": KindTrigger | KindMacro, "comment_value_html": KindTrigger | KindMacro, "comment_mode_is_public": KindTrigger | KindMacro,
	"notification_user": KindTrigger, "notification_group": KindTrigger, "share_ticket": KindTrigger,
}

func actionKindsOf(field string) Kind {
	if k, ok := actionKinds[field]; ok {
		return k
	}
	if strings.HasPrefix(field, customFieldPrefix) {
		return KindTrigger | KindMacro
	}
	return 0
}

// Recipients a notification_user action may name besides a user id.
var noteRecipients = []string{"requester_id", "assignee_id", "current_user", "all_agents", "requester_and_ccs"}

// commentText reads comment_value: a string, or Zendesk's newer ["channel:all", text].
func commentText(a Action) string {
	if a.List && len(a.Value) == 2 && strings.HasPrefix(a.Value[0], "channel:") {
		return a.Value[1]
	}
	return strings.Join(a.Value, " ")
}

// actions validates a rule's actions for a kind of rule and normalizes their values.
func (c *checker) actions(kind Kind, acts []Action) {
	for i := range acts {
		c.action(kind, fmt.Sprintf("actions[%d]", i), &acts[i])
	}
}

func (c *checker) action(kind Kind, path string, a *Action) {
	a.Field = strings.TrimSpace(a.Field)
	k := actionKindsOf(a.Field)
	switch {
	case a.Field == "":
		c.v.Blank(path + ".field")
		return
	case k == 0:
		c.bad(path+".field", "%q is not an action", a.Field)
		return
	case k&kind == 0:
		c.bad(path+".field", "%q cannot be used in a %s", a.Field, kind)
		return
	}
	vpath := path + ".value"
	scalar := func() (string, bool) {
		if a.List && len(a.Value) != 1 {
			c.bad(vpath, "must be a single value, not a list")
			return "", false
		}
		a.List = false
		v := strings.TrimSpace(a.Str())
		a.Value = []string{v}
		return v, true
	}
	switch f := a.Field; f {
	case "status":
		v, ok := scalar()
		switch {
		case !ok:
		case ticket.Status(v).Rank() < 0:
			c.bad(vpath, "%q is not a status (new, open, pending, hold, solved, closed)", v)
		case kind == KindMacro && (v == "new" || v == "closed"):
			c.bad(vpath, "a macro cannot set the status to %s", v)
		}
	case "priority":
		if v, ok := scalar(); ok && v != "" && !oneOf(v, ticket.Priorities) {
			c.bad(vpath, "%q is not a priority (low, normal, high, urgent)", v)
		}
	case "type":
		if v, ok := scalar(); ok && v != "" && !oneOf(v, ticket.Types) {
			c.bad(vpath, "%q is not a ticket type (question, incident, problem, task)", v)
		}
	case "subject":
		if v, ok := scalar(); ok && (v == "" || len([]rune(v)) > ticket.MaxSubject) {
			c.bad(vpath, "must be 1 to %d characters", ticket.MaxSubject)
		}
	case "group_id":
		if v, ok := scalar(); ok && v != "" {
			if id, ok := parseID(v); !ok || !c.groupExists(id) {
				c.bad(vpath, "group %q does not exist", v)
			} else {
				a.Value = []string{strconv.FormatInt(id, 10)}
			}
		}
	case "assignee_id":
		if v, ok := scalar(); ok && v != "" && v != "current_user" {
			id, ok := parseID(v)
			if !ok {
				c.bad(vpath, "user %q does not exist", v)
			} else if u := c.user(id); u == nil || !u.Active || !u.Role.IsStaff() {
				c.bad(vpath, "user %d is not an agent of this account", id)
			} else {
				a.Value = []string{strconv.FormatInt(id, 10)}
			}
		}
	case "set_tags", "current_tags", "remove_tags":
		tags := ticket.NormalizeTags(a.Value)
		if len(tags) == 0 && f != "set_tags" {
			c.v.Blank(vpath)
		}
		for _, tag := range tags {
			if len([]rune(tag)) > ticket.MaxTagLen {
				c.v.Add(vpath, "TooLong", fmt.Sprintf("tag %.20q... is longer than %d characters", tag, ticket.MaxTagLen))
				break
			}
		}
		a.Value, a.List = []string{strings.Join(tags, " ")}, false
	case "comment_value", "comment_value_html":
		text := commentText(*a)
		if f == "comment_value_html" {
			text, _ = scalar()
		}
		if strings.TrimSpace(text) == "" {
			c.v.Blank(vpath)
		}
	case "comment_mode_is_public":
		if v, ok := scalar(); ok && v != "true" && v != "false" {
			c.bad(vpath, "%q must be true or false", v)
		}
	case "notification_user", "notification_group":
		if !a.List || len(a.Value) != 3 {
			c.bad(vpath, "must be a list of [recipient, subject, body]")
			return
		}
		who := strings.TrimSpace(a.Value[0])
		switch {
		case f == "notification_user" && oneOf(who, noteRecipients):
		case f == "notification_group" && who == "group_id":
		case f == "notification_user":
			if id, ok := parseID(who); !ok || c.user(id) == nil {
				c.bad(vpath, "user %q does not exist", who)
			}
		default:
			if id, ok := parseID(who); !ok || !c.groupExists(id) {
				c.bad(vpath, "group %q does not exist", who)
			}
		}
		a.Value[0] = who
		if strings.TrimSpace(a.Value[1]) == "" && strings.TrimSpace(a.Value[2]) == "" {
			c.v.Add(vpath, "BlankValue", "a notification needs a subject or a body")
		}
	case "share_ticket":
		v, ok := scalar()
		if !ok {
			break
		}
		id, ok := parseID(v)
		dir := ""
		if ok {
			dir = c.agreement(id)
		}
		switch {
		case dir == "":
			c.bad(vpath, "sharing agreement %q does not exist", v)
		case dir != "outbound":
			c.bad(vpath, "sharing agreement %d is %s; tickets are shared through outbound agreements", id, dir)
		default:
			a.Value = []string{strconv.FormatInt(id, 10)}
		}
	default: // custom_fields_<id>
		id, ok := parseID(strings.TrimPrefix(f, customFieldPrefix))
		var fd *ticket.Field
		if ok {
			fd = c.field(id)
		}
		if fd == nil {
			c.bad(path+".field", "ticket field %q does not exist", strings.TrimPrefix(f, customFieldPrefix))
			return
		}
		if _, err := ticket.NormalizeFieldValue(fd, fieldInput(*a)); err != nil {
			c.bad(vpath, "%s", err.Error())
		}
	}
}

// fieldInput is a custom field action's value as the ticket service takes it.
func fieldInput(a Action) any {
	if a.List {
		return append([]string{}, a.Value...)
	}
	if a.Str() == "" {
		return nil
	}
	return a.Str()
}

// resolver checks, when actions run, that what they name still exists.
type resolver interface {
	groupOK(id ids.Group) bool
	agentOK(id ids.User) bool
	ticketField(id int64) *ticket.Field
}

// actionPlan is what a list of actions does: a patch of the ticket, a comment, and the
// effects a patch cannot carry (notifications, shares).
type actionPlan struct {
	patch   ticket.Patch
	comment *ticket.CommentInput
	notes   []pendingNote
	shares  []int64
	// skipped says why some actions were left out.
	skipped []string
}

// planActions turns actions into a plan for ticket t, acted by actor. Tag actions apply
// in order; for the other fields the last action wins.
func planActions(acts []Action, t *ticket.Ticket, actor ids.User, r resolver) *actionPlan {
	p := &actionPlan{}
	tags := append([]string{}, t.Tags...)
	tagsTouched := false
	public := true
	var body, html string
	for _, a := range acts {
		v := a.Str()
		switch a.Field {
		case "status":
			st := ticket.Status(v)
			if st == ticket.New && t.Status != ticket.New {
				p.skipped = append(p.skipped, "a ticket cannot be set back to new")
				continue
			}
			p.patch.Status = &st
		case "priority":
			p.patch.Priority = ticket.Ptr(v)
		case "type":
			p.patch.Type = ticket.Ptr(v)
		case "subject":
			p.patch.Subject = ticket.Ptr(v)
		case "group_id":
			var g ids.Group
			if v != "" {
				id, _ := parseID(v)
				if g = ids.Group(id); !r.groupOK(g) {
					p.skipped = append(p.skipped, fmt.Sprintf("group %d no longer exists", g))
					continue
				}
			}
			p.patch.GroupID = &g
		case "assignee_id":
			var u ids.User
			switch v {
			case "":
			case "current_user":
				u = actor
			default:
				id, _ := parseID(v)
				u = ids.User(id)
			}
			if u != 0 && !r.agentOK(u) {
				p.skipped = append(p.skipped, fmt.Sprintf("user %d is not an active agent", u))
				continue
			}
			p.patch.AssigneeID = &u
		case "set_tags":
			tags, tagsTouched = ticket.NormalizeTags(a.Value), true
		case "current_tags":
			tags, tagsTouched = ticket.NormalizeTags(append(tags, a.Value...)), true
		case "remove_tags":
			drop := map[string]bool{}
			for _, x := range ticket.NormalizeTags(a.Value) {
				drop[x] = true
			}
			kept := tags[:0:0]
			for _, x := range tags {
				if !drop[x] {
					kept = append(kept, x)
				}
			}
			tags, tagsTouched = kept, true
		case "comment_value":
			body = commentText(a)
		case "comment_value_html":
			html = v
		case "comment_mode_is_public":
			public = v == "true"
		case "notification_user", "notification_group":
			if len(a.Value) == 3 {
				p.notes = append(p.notes, pendingNote{group: a.Field == "notification_group", recipient: a.Value[0], subject: a.Value[1], body: a.Value[2]})
			}
		case "share_ticket":
			if id, ok := parseID(v); ok {
				p.shares = append(p.shares, id)
			}
		default:
			id, ok := parseID(strings.TrimPrefix(a.Field, customFieldPrefix))
			if !ok {
				continue
			}
			f := r.ticketField(id)
			if f == nil {
				p.skipped = append(p.skipped, fmt.Sprintf("ticket field %d no longer exists", id))
				continue
			}
			val, err := ticket.NormalizeFieldValue(f, fieldInput(a))
			if err != nil {
				p.skipped = append(p.skipped, fmt.Sprintf("ticket field %d: %v", id, err))
				continue
			}
			if p.patch.CustomFields == nil {
				p.patch.CustomFields = map[int64]any{}
			}
			p.patch.CustomFields[id] = val
		}
	}
	if tagsTouched && !sameStrings(tags, t.Tags) {
		if len(tags) > ticket.MaxTags {
			p.skipped = append(p.skipped, fmt.Sprintf("a ticket can have at most %d tags", ticket.MaxTags))
		} else {
			p.patch.Tags = &tags
		}
	}
	if strings.TrimSpace(body) != "" || strings.TrimSpace(html) != "" {
		p.comment = &ticket.CommentInput{Body: body, HTMLBody: html, Public: &public}
	}
	return p
}

// sameStrings reports whether two lists without duplicates hold the same strings.
func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	in := make(map[string]bool, len(a))
	for _, x := range a {
		in[x] = true
	}
	for _, x := range b {
		if !in[x] {
			return false
		}
	}
	return true
}
