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
	// KindAutomation: time-based rules run by the automation pass. They take the
	// triggers' conditions about the ticket (not those about an update in progress)
	// and the triggers' actions.
	KindAutomation
)

// kindsRule are the kinds of rules that change tickets on their own: triggers and
// automations share their ticket conditions and all their actions.
const kindsRule = KindTrigger | KindAutomation

// String names the kind as error messages do.
func (k Kind) String() string {
	switch k {
	case KindTrigger:
		return "trigger"
	case KindView:
		return "view"
	case KindMacro:
		return "macro"
	case KindAutomation:
		return "automation"
	}
	return "rule"
}

// article names the kind with its indefinite article ("a trigger", "an automation").
func (k Kind) article() string {
	if k == KindAutomation {
		return "an automation"
	}
	return "a " + k.String()
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
	timeOps    = []string{opIs, opLess, opGreater}
	presentOps = []string{opIs, opIsNot, opPresent, opNotPresent}
)

// Via channel numbers a condition may name (Zendesk's via_id table).
var knownVia = map[int]bool{0: true, 4: true, 5: true, 8: true, 9: true, 10: true, 16: true, 17: true, 19: true, 20: true, 21: true, 23: true, 26: true, 27: true, 29: true,
	30: true, 31: true, 33: true, 34: true, 35: true, 38: true, 41: true, 44: true, 45: true, 46: true, 48: true, 49: true, 50: true, 54: true, 55: true, 56: true, 57: true}

// Prefixes of the per-key condition fields (triggers only).
const (
	customFieldPrefix = "custom_fields_"
	orgFieldPrefix    = "organization.custom_fields."
	userFieldPrefix   = "requester.custom_fields."
)

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

// GroupExists, UserRole, OrgExists and TicketType let the registry check what values name.

// GroupExists implements tfield.Lookup.
func (c *checker) GroupExists(id int64) bool { return c.groupExists(id) }

// UserRole implements tfield.Lookup.
func (c *checker) UserRole(id int64) (found, staff, active bool) {
	u := c.user(id)
	if u == nil {
		return false, false, false
	}
	return true, u.Role.IsStaff(), u.Active
}

// OrgExists implements tfield.Lookup.
func (c *checker) OrgExists(id int64) bool { return c.orgExists(id) }

// TicketType implements tfield.Lookup.
func (c *checker) TicketType(id int64) (string, bool) {
	t, err := ticket.Get(c.ctx, c.q, c.acct.ID, ids.Ticket(id))
	if err != nil || !t.DeletedAt.IsZero() {
		return "", false
	}
	return t.Type, true
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
	f := lookupCond(cond.Field)
	switch {
	case cond.Field == "":
		c.v.Blank(path + ".field")
		return
	case f == nil:
		c.bad(path+".field", "%q is not a condition field", cond.Field)
		return
	case f.kinds&kind == 0:
		c.bad(path+".field", "%q cannot be used in %s", cond.Field, kind.article())
		return
	}
	ops := f.ops(kind)
	if !oneOf(cond.Operator, ops) {
		c.bad(path+".operator", "%q is not an operator of %s (use one of %s)", cond.Operator, cond.Field, strings.Join(ops, ", "))
		return
	}
	cond.Value = strings.TrimSpace(cond.Value)
	if cond.Operator == opChanged || cond.Operator == opNotChanged || cond.Operator == opPresent || cond.Operator == opNotPresent {
		cond.Value = ""
		return
	}
	f.check(c, cond, path+".value")
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
	for _, fs := range []map[string]*condField{condFields, plainConds} {
		for name, f := range fs {
			if f.kinds&kind != 0 {
				conds = append(conds, ConditionDef{Field: name, Operators: f.ops(kind)})
			}
		}
	}
	sort.Slice(conds, func(i, j int) bool { return conds[i].Field < conds[j].Field })
	var acts []string
	for _, fs := range []map[string]*actField{actFields, plainActions} {
		for name, f := range fs {
			if f.kinds&kind != 0 {
				acts = append(acts, name)
			}
		}
	}
	sort.Strings(acts)
	return conds, acts
}
