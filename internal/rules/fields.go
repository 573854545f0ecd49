package rules

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Kind is the kind of rule a condition or action belongs to.
type Kind int

// The kinds of rules.
const (
	KindTrigger Kind = 1 << iota
	KindView
	KindMacro
)

// String names the kind as error messages do.
func (k Kind) String() string {
	switch k {
	case KindTrigger:
		return "trigger"
	case KindView:
		return "view"
	case KindMacro:
		return "macro"
	}
	return "rule"
}

// Operators, as Zendesk names them.
const (
	opIs               = "is"
	opIsNot            = "is_not"
	opLess             = "less_than"
	opGreater          = "greater_than"
	opChanged          = "changed"
	opNotChanged       = "not_changed"
	opValue            = "value"              // changed to
	opValuePrevious    = "value_previous"     // changed from
	opNotValue         = "not_value"          // not changed to
	opNotValuePrevious = "not_value_previous" // not changed from
	opIncludes         = "includes"
	opNotIncludes      = "not_includes"
	opPresent          = "present"
	opNotPresent       = "not_present"
)

var (
	eqOps      = []string{opIs, opIsNot}
	orderOps   = []string{opLess, opGreater}
	changeOps  = []string{opChanged, opNotChanged, opValue, opValuePrevious, opNotValue, opNotValuePrevious}
	tagOps     = []string{opIncludes, opNotIncludes}
	wordOps    = []string{opIncludes, opNotIncludes, opIs, opIsNot}
	hourOps    = []string{opLess, opGreater}
	presentOps = []string{opIs, opIsNot, opPresent, opNotPresent}
)

// Via channel numbers a condition may name (Zendesk's via_id table).
var knownVia = map[int]bool{0: true, 4: true, 5: true, 8: true, 9: true, 10: true, 16: true, 17: true, 19: true, 20: true, 21: true, 23: true, 26: true, 27: true, 29: true,
	30: true, 31: true, 33: true, 34: true, 35: true, 38: true, 41: true, 44: true, 45: true, 46: true, 48: true, 49: true, 50: true, 54: true, 55: true, 56: true, 57: true}

// ticketFields are the condition fields read straight off the ticket: they support
// "changed" operators in triggers and compile to one column in views.
var ticketFields = map[string]string{
	"status":          "t.status",
	"priority":        "t.priority",
	"type":            "t.type",
	"group_id":        "t.group_id",
	"assignee_id":     "t.assignee_id",
	"requester_id":    "t.requester_id",
	"organization_id": "t.organization_id",
}

// Prefixes of the per-key condition fields (triggers only).
const (
	customFieldPrefix = "custom_fields_"
	orgFieldPrefix    = "organization.custom_fields."
	userFieldPrefix   = "requester.custom_fields."
)

// fieldKinds says where each fixed condition field may be used.
var fieldKinds = map[string]Kind{
	"status": KindTrigger | KindView, "priority": KindTrigger | KindView, "type": KindTrigger | KindView,
	"group_id": KindTrigger | KindView, "assignee_id": KindTrigger | KindView, "requester_id": KindTrigger | KindView,
	"organization_id": KindTrigger | KindView, "current_tags": KindTrigger | KindView, "via_id": KindTrigger | KindView,
	"ticket_is_public": KindTrigger | KindView, "received_from": KindTrigger | KindView, "sent_to": KindTrigger | KindView,
	"orphaned": KindTrigger | KindView, "shared_at": KindTrigger | KindView, "created_at": KindTrigger | KindView,
	"updated_at":     KindTrigger | KindView,
	"current_via_id": KindTrigger, "update_type": KindTrigger, "comment_is_public": KindTrigger,
	"comment_includes_word": KindTrigger, "subject_includes_word": KindTrigger, "role": KindTrigger,
}

// conditionKinds returns where a condition field may be used (0 if unknown).
func conditionKinds(field string) Kind {
	if k, ok := fieldKinds[field]; ok {
		return k
	}
	switch {
	case strings.HasPrefix(field, customFieldPrefix), strings.HasPrefix(field, orgFieldPrefix) && len(field) > len(orgFieldPrefix),
		strings.HasPrefix(field, userFieldPrefix) && len(field) > len(userFieldPrefix):
		return KindTrigger
	}
	return 0
}

// operatorsFor lists the operators a field accepts in a kind of rule.
func operatorsFor(field string, kind Kind) []string {
	var ops []string
	switch field {
	case "status", "priority":
		ops = append(append(ops, eqOps...), orderOps...)
	case "type", "group_id", "assignee_id", "requester_id", "organization_id":
		ops = append(ops, eqOps...)
	case "current_tags":
		return tagOps
	case "comment_includes_word", "subject_includes_word":
		return wordOps
	case "shared_at", "created_at", "updated_at":
		return hourOps
	case "update_type", "comment_is_public", "ticket_is_public", "orphaned":
		return []string{opIs}
	case "via_id", "current_via_id", "received_from", "sent_to", "role":
		return eqOps
	default:
		return presentOps // custom, organization and requester fields
	}
	if kind == KindTrigger {
		ops = append(ops, changeOps...)
	}
	return ops
}

func oneOf(s string, set []string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}

// checker validates rules against the account's data (groups, users, agreements...).
type checker struct {
	ctx  context.Context
	q    store.Queryer
	acct *account.Account
	v    errs.Validation
	// fields caches the account's ticket fields.
	fields []*ticket.Field
}

func newChecker(ctx context.Context, q store.Queryer, acct *account.Account) *checker {
	return &checker{ctx: ctx, q: q, acct: acct}
}

func (c *checker) bad(path, format string, args ...any) {
	c.v.Add(path, "InvalidValue", fmt.Sprintf(format, args...))
}

// parseID reads a positive decimal id.
func parseID(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil && n > 0
}

func (c *checker) groupExists(id int64) bool {
	g, err := org.GetGroup(c.ctx, c.q, c.acct.ID, ids.Group(id))
	return err == nil && !g.Deleted
}

func (c *checker) user(id int64) *identity.User {
	u, err := identity.Get(c.ctx, c.q, c.acct.ID, ids.User(id))
	if err != nil {
		return nil
	}
	return u
}

func (c *checker) orgExists(id int64) bool {
	_, err := org.GetOrg(c.ctx, c.q, c.acct.ID, ids.Org(id))
	return err == nil
}

func (c *checker) field(id int64) *ticket.Field {
	if c.fields == nil {
		fs, err := ticket.Fields(c.ctx, c.q, c.acct.ID)
		if err != nil {
			return nil
		}
		c.fields = fs
	}
	for _, f := range c.fields {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// agreement returns the direction of a sharing agreement of this account ("" if none).
// Agreements of other accounts are simply not found.
func (c *checker) agreement(id int64) string {
	var dir string
	if err := c.q.QueryRowContext(c.ctx, `SELECT direction FROM sharing_agreements WHERE account_id = ? AND id = ?`, c.acct.ID, id).Scan(&dir); err != nil {
		return ""
	}
	return dir
}

// condition validates one condition for a kind of rule and normalizes its value.
func (c *checker) condition(kind Kind, path string, cond *Condition) {
	cond.Field = strings.TrimSpace(cond.Field)
	cond.Operator = strings.TrimSpace(cond.Operator)
	k := conditionKinds(cond.Field)
	switch {
	case cond.Field == "":
		c.v.Blank(path + ".field")
		return
	case k == 0:
		c.bad(path+".field", "%q is not a condition field", cond.Field)
		return
	case k&kind == 0:
		c.bad(path+".field", "%q cannot be used in a %s", cond.Field, kind)
		return
	}
	ops := operatorsFor(cond.Field, kind)
	if !oneOf(cond.Operator, ops) {
		c.bad(path+".operator", "%q is not an operator of %s (use one of %s)", cond.Operator, cond.Field, strings.Join(ops, ", "))
		return
	}
	vpath := path + ".value"
	val := strings.TrimSpace(cond.Value)
	if cond.Operator == opChanged || cond.Operator == opNotChanged || cond.Operator == opPresent || cond.Operator == opNotPresent {
		cond.Value = ""
		return
	}
	ordered := cond.Operator == opLess || cond.Operator == opGreater
	switch f := cond.Field; f {
	case "status":
		if ticket.Status(val).Rank() < 0 {
			c.bad(vpath, "%q is not a status (new, open, pending, hold, solved, closed)", val)
		}
	case "priority":
		if !(val == "" && !ordered) && !oneOf(val, ticket.Priorities) {
			c.bad(vpath, "%q is not a priority (low, normal, high, urgent)", val)
		}
	case "type":
		if val != "" && !oneOf(val, ticket.Types) {
			c.bad(vpath, "%q is not a ticket type (question, incident, problem, task)", val)
		}
	case "group_id":
		if val != "" {
			if id, ok := parseID(val); !ok || !c.groupExists(id) {
				c.bad(vpath, "group %q does not exist", val)
			} else {
				val = strconv.FormatInt(id, 10)
			}
		}
	case "assignee_id", "requester_id":
		other := map[string]string{"assignee_id": "requester_id", "requester_id": "assignee_id"}[f]
		switch {
		case val == "" && f == "assignee_id", val == "current_user", val == other:
		case val == "":
			c.v.Add(vpath, "BlankValue", "a ticket always has a requester")
		default:
			id, ok := parseID(val)
			u := (*identity.User)(nil)
			if ok {
				u = c.user(id)
			}
			switch {
			case u == nil:
				c.bad(vpath, "user %q does not exist", val)
			case f == "assignee_id" && !u.Role.IsStaff():
				c.bad(vpath, "user %d is not an agent", id)
			default:
				val = strconv.FormatInt(id, 10)
			}
		}
	case "organization_id":
		if val != "" {
			if id, ok := parseID(val); !ok || !c.orgExists(id) {
				c.bad(vpath, "organization %q does not exist", val)
			} else {
				val = strconv.FormatInt(id, 10)
			}
		}
	case "current_tags":
		tags := ticket.NormalizeTags([]string{val})
		if len(tags) == 0 {
			c.v.Blank(vpath)
		}
		val = strings.Join(tags, " ")
	case "comment_includes_word", "subject_includes_word":
		if val == "" {
			c.v.Blank(vpath)
		}
	case "via_id", "current_via_id":
		n, err := strconv.Atoi(val)
		if err != nil || !knownVia[n] {
			c.bad(vpath, "%q is not a channel number (for example 0 web form, 4 email, 5 API, 31 ticket sharing)", val)
		}
	case "update_type":
		switch strings.ToLower(val) {
		case "create":
			val = "Create"
		case "change":
			val = "Change"
		default:
			c.bad(vpath, "%q is not an update type (Create or Change)", val)
		}
	case "comment_is_public":
		if !oneOf(val, []string{"true", "false", "not_relevant", "requester_can_see_comment"}) {
			c.bad(vpath, "%q must be true, false, not_relevant or requester_can_see_comment", val)
		}
	case "ticket_is_public":
		if !oneOf(val, []string{"public", "private"}) {
			c.bad(vpath, "%q must be public or private", val)
		}
	case "orphaned":
		if !oneOf(val, []string{"true", "false"}) {
			c.bad(vpath, "%q must be true or false", val)
		}
	case "role":
		if !oneOf(val, []string{"end_user", "agent", "admin"}) {
			c.bad(vpath, "%q must be end_user, agent or admin", val)
		}
	case "received_from", "sent_to":
		if val == "" {
			break // "is nobody" / "is_not nobody" (shared with any partner)
		}
		want := map[string]string{"received_from": "inbound", "sent_to": "outbound"}[f]
		id, ok := parseID(val)
		dir := ""
		if ok {
			dir = c.agreement(id)
		}
		switch {
		case dir == "":
			c.bad(vpath, "sharing agreement %q does not exist", val)
		case dir != want:
			c.bad(vpath, "sharing agreement %d is %s; %s needs an %s agreement", id, dir, f, want)
		default:
			val = strconv.FormatInt(id, 10)
		}
	case "shared_at", "created_at", "updated_at":
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 || n > 24*365*10 {
			c.bad(vpath, "%q must be a whole number of hours", val)
		}
	default:
		if id, ok := strings.CutPrefix(f, customFieldPrefix); ok {
			n, ok := parseID(id)
			if !ok || c.field(n) == nil {
				c.bad(path+".field", "ticket field %q does not exist", id)
			}
		}
	}
	cond.Value = val
}

// conditions validates a rule's conditions.
func (c *checker) conditions(kind Kind, conds *Conditions) {
	for i := range conds.All {
		c.condition(kind, fmt.Sprintf("conditions.all[%d]", i), &conds.All[i])
	}
	for i := range conds.Any {
		c.condition(kind, fmt.Sprintf("conditions.any[%d]", i), &conds.Any[i])
	}
}

// ConditionDef describes a condition field for clients (GET /triggers/definitions).
type ConditionDef struct {
	Field     string
	Operators []string
}

// Definitions lists the condition fields and the actions a kind of rule may use. Fields
// keyed by a ticket, organization or requester field (custom_fields_<id>, ...) are not
// listed one by one.
func Definitions(kind Kind) ([]ConditionDef, []string) {
	var conds []ConditionDef
	for f, k := range fieldKinds {
		if k&kind != 0 {
			conds = append(conds, ConditionDef{Field: f, Operators: operatorsFor(f, kind)})
		}
	}
	sort.Slice(conds, func(i, j int) bool { return conds[i].Field < conds[j].Field })
	var acts []string
	for f, k := range actionKinds {
		if k&kind != 0 {
			acts = append(acts, f)
		}
	}
	sort.Strings(acts)
	return conds, acts
}
