package rules

import (
	"fmt"
	"strconv"
	"strings"

	"tandem/internal/ids"
	"tandem/internal/ticket"
	"tandem/internal/ticket/tfield"
)

// actField is how the rules engine handles one action, written once: where it may be
// used, how its value is validated, and what it does to the plan of a ticket change.
// The plain ticket fields come from the tfield registry (plainAction).
type actField struct {
	kinds Kind
	// check validates and normalizes a.Value.
	check func(c *checker, kind Kind, a *Action, vpath string)
	// plan adds the action to a plan.
	plan func(pl *planner, a Action)
}

// actFields are the actions besides the plain ones and custom_fields_<id>.
var actFields = map[string]*actField{
	"set_tags":               {kinds: kindsRule | KindMacro, check: checkTags, plan: func(pl *planner, a Action) { pl.setTags(ticket.NormalizeTags(a.Value)) }},
	"current_tags":           {kinds: kindsRule | KindMacro, check: checkTags, plan: func(pl *planner, a Action) { pl.setTags(ticket.NormalizeTags(append(pl.tags, a.Value...))) }},
	"remove_tags":            {kinds: kindsRule | KindMacro, check: checkTags, plan: (*planner).removeTags},
	"comment_value":          {kinds: kindsRule | KindMacro, check: checkComment, plan: func(pl *planner, a Action) { pl.body = commentText(a) }},
	"comment_value_html":     {kinds: kindsRule | KindMacro, check: checkComment, plan: func(pl *planner, a Action) { pl.html = a.Str() }},
	"comment_mode_is_public": {kinds: kindsRule | KindMacro, check: checkBool, plan: func(pl *planner, a Action) { pl.public = a.Str() == "true" }},
	"notification_user":      {kinds: kindsRule, check: checkNotification, plan: (*planner).notify},
	"notification_group":     {kinds: kindsRule, check: checkNotification, plan: (*planner).notify},
	"share_ticket":           {kinds: kindsRule, check: checkShare, plan: (*planner).share},
	"notification_webhook":   {kinds: kindsRule, check: checkWebhook, plan: (*planner).webhook},
}

// plainActions are the registry's action fields.
var plainActions = func() map[string]*actField {
	m := map[string]*actField{}
	for _, f := range tfield.All(tfield.TriggerAction | tfield.MacroAction) {
		m[f.Name] = plainAction(f)
	}
	return m
}()

// customAction sets a custom field (custom_fields_<id>).
var customAction = &actField{kinds: kindsRule | KindMacro, check: checkCustom, plan: (*planner).custom}

func lookupAction(field string) *actField {
	if f, ok := actFields[field]; ok {
		return f
	}
	if f, ok := plainActions[field]; ok {
		return f
	}
	if strings.HasPrefix(field, customFieldPrefix) {
		return customAction
	}
	return nil
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
	f := lookupAction(a.Field)
	switch {
	case a.Field == "":
		c.v.Blank(path + ".field")
		return
	case f == nil:
		c.bad(path+".field", "%q is not an action", a.Field)
		return
	case f.kinds&kind == 0:
		c.bad(path+".field", "%q cannot be used in %s", a.Field, kind.article())
		return
	}
	f.check(c, kind, a, path+".value")
}

// scalar reads a single-valued action's value (trimmed), or complains.
func (c *checker) scalar(a *Action, vpath string) (string, bool) {
	if a.List && len(a.Value) != 1 {
		c.bad(vpath, "must be a single value, not a list")
		return "", false
	}
	a.List = false
	v := strings.TrimSpace(a.Str())
	a.Value = []string{v}
	return v, true
}

// plainAction is the action of a registry field: a validated value written into the patch.
func plainAction(f *tfield.Field) *actField {
	return &actField{
		kinds: kindsOf(f.Use, tfield.TriggerAction, tfield.MacroAction, KindMacro),
		check: func(c *checker, kind Kind, a *Action, vpath string) {
			v, ok := c.scalar(a, vpath)
			if !ok {
				return
			}
			use := tfield.TriggerAction
			if kind == KindMacro {
				use = tfield.MacroAction
			}
			if v, ok := c.registryValue(f, use, v, false, vpath); ok {
				a.Value = []string{v}
			}
		},
		plan: func(pl *planner, a Action) {
			v := a.Str()
			if v == "current_user" {
				v = strconv.FormatInt(int64(pl.actor), 10)
			}
			// What the value names may have gone since the rule was saved.
			if id, ok := parseID(v); ok {
				switch f.Ref {
				case tfield.Group:
					if !pl.r.groupOK(ids.Group(id)) {
						pl.skip("group %d no longer exists", id)
						return
					}
				case tfield.Agent:
					if !pl.r.agentOK(ids.User(id)) {
						pl.skip("user %d is not an active agent", id)
						return
					}
				}
			}
			if err := f.Set(&pl.patch, pl.t, v); err != nil {
				pl.skip("%s", err.Error())
			}
		},
	}
}

func checkTags(c *checker, _ Kind, a *Action, vpath string) {
	tags := ticket.NormalizeTags(a.Value)
	if len(tags) == 0 && a.Field != "set_tags" {
		c.v.Blank(vpath)
	}
	for _, tag := range tags {
		if len([]rune(tag)) > ticket.MaxTagLen {
			c.v.Add(vpath, "TooLong", fmt.Sprintf("tag %.20q... is longer than %d characters", tag, ticket.MaxTagLen))
			break
		}
	}
	a.Value, a.List = []string{strings.Join(tags, " ")}, false
}

func checkComment(c *checker, _ Kind, a *Action, vpath string) {
	text := commentText(*a)
	if a.Field == "comment_value_html" {
		text, _ = c.scalar(a, vpath)
	}
	if strings.TrimSpace(text) == "" {
		c.v.Blank(vpath)
	}
}

func checkBool(c *checker, _ Kind, a *Action, vpath string) {
	if v, ok := c.scalar(a, vpath); ok && v != "true" && v != "false" {
		c.bad(vpath, "%q must be true or false", v)
	}
}

func checkNotification(c *checker, _ Kind, a *Action, vpath string) {
	if !a.List || len(a.Value) != 3 {
		c.bad(vpath, "must be a list of [recipient, subject, body]")
		return
	}
	who := strings.TrimSpace(a.Value[0])
	f := a.Field
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
}

func checkShare(c *checker, _ Kind, a *Action, vpath string) {
	if v, ok := c.scalar(a, vpath); ok {
		if v, ok := c.agreementValue(v, "outbound", vpath, "tickets are shared through outbound agreements"); ok {
			a.Value = []string{v}
		}
	}
}

func checkCustom(c *checker, _ Kind, a *Action, vpath string) {
	id, ok := parseID(strings.TrimPrefix(a.Field, customFieldPrefix))
	var fd *ticket.Field
	if ok {
		fd = c.field(id)
	}
	if fd == nil {
		c.bad(strings.TrimSuffix(vpath, ".value")+".field", "ticket field %q does not exist", strings.TrimPrefix(a.Field, customFieldPrefix))
		return
	}
	if _, err := ticket.NormalizeFieldValue(fd, fieldInput(*a)); err != nil {
		c.bad(vpath, "%s", err.Error())
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

// planner builds an actionPlan for ticket t, acted by actor.
type planner struct {
	*actionPlan
	t     *ticket.Ticket
	actor ids.User
	r     resolver
	// tags is the tag set as the actions so far leave it.
	tags        []string
	tagsTouched bool
	public      bool
	body, html  string
}

func (pl *planner) skip(format string, args ...any) {
	pl.skipped = append(pl.skipped, fmt.Sprintf(format, args...))
}

func (pl *planner) setTags(tags []string) { pl.tags, pl.tagsTouched = tags, true }

func (pl *planner) removeTags(a Action) {
	drop := map[string]bool{}
	for _, x := range ticket.NormalizeTags(a.Value) {
		drop[x] = true
	}
	kept := pl.tags[:0:0]
	for _, x := range pl.tags {
		if !drop[x] {
			kept = append(kept, x)
		}
	}
	pl.setTags(kept)
}

func (pl *planner) notify(a Action) {
	if len(a.Value) == 3 {
		pl.notes = append(pl.notes, pendingNote{group: a.Field == "notification_group", recipient: a.Value[0], subject: a.Value[1], body: a.Value[2]})
	}
}

func (pl *planner) share(a Action) {
	if id, ok := parseID(a.Str()); ok {
		pl.shares = append(pl.shares, id)
	}
}

func (pl *planner) custom(a Action) {
	id, ok := parseID(strings.TrimPrefix(a.Field, customFieldPrefix))
	if !ok {
		return
	}
	f := pl.r.ticketField(id)
	if f == nil {
		pl.skip("ticket field %d no longer exists", id)
		return
	}
	val, err := ticket.NormalizeFieldValue(f, fieldInput(a))
	if err != nil {
		pl.skip("ticket field %d: %v", id, err)
		return
	}
	if pl.patch.CustomFields == nil {
		pl.patch.CustomFields = map[int64]any{}
	}
	pl.patch.CustomFields[id] = val
}

// planActions turns actions into a plan for ticket t, acted by actor. Tag actions apply
// in order; for the other fields the last action wins.
func planActions(acts []Action, t *ticket.Ticket, actor ids.User, r resolver) *actionPlan {
	pl := &planner{actionPlan: &actionPlan{}, t: t, actor: actor, r: r, tags: append([]string{}, t.Tags...), public: true}
	for _, a := range acts {
		if f := lookupAction(a.Field); f != nil {
			f.plan(pl, a)
		}
	}
	p := pl.actionPlan
	if pl.tagsTouched && !sameStrings(pl.tags, t.Tags) {
		if len(pl.tags) > ticket.MaxTags {
			pl.skip("a ticket can have at most %d tags", ticket.MaxTags)
		} else {
			p.patch.Tags = &pl.tags
		}
	}
	if strings.TrimSpace(pl.body) != "" || strings.TrimSpace(pl.html) != "" {
		p.comment = &ticket.CommentInput{Body: pl.body, HTMLBody: pl.html, Public: &pl.public}
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
