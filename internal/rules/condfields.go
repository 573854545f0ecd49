package rules

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/ticket"
	"tandem/internal/ticket/tfield"
)

// condField is how the rules engine handles one condition field, written once: where it
// may be used, its operators, how its value is validated, how a trigger tests it and how
// a view selects it. The plain ticket fields come from the tfield registry (plainCond);
// the fields below read more than a ticket column: the comment being added, the actor,
// the ticket's shares, or a time relative to now.
type condField struct {
	kinds Kind
	ops   func(kind Kind) []string
	// check validates and normalizes cond.Value (never called for operators without a
	// value: changed, present...).
	check func(c *checker, cond *Condition, vpath string)
	// pred compiles a validated trigger condition.
	pred func(c Condition) pred
	// sql compiles a validated view condition over tickets t (nil: triggers only).
	sql func(w *sqlWriter, c Condition) string
	// timed: a condition on the hours since (or until) a time, which every automation
	// needs one of and whose SQL narrows an automation pass to its time window.
	timed bool
}

func fixedOps(ops ...string) func(Kind) []string { return func(Kind) []string { return ops } }

// oneOfCheck accepts the listed values, with msg as the complaint.
func oneOfCheck(msg string, vals ...string) func(c *checker, cond *Condition, vpath string) {
	return func(c *checker, cond *Condition, vpath string) {
		if !oneOf(cond.Value, vals) {
			c.bad(vpath, "%q "+msg, cond.Value)
		}
	}
}

func nonBlank(c *checker, cond *Condition, vpath string) {
	if cond.Value == "" {
		c.v.Blank(vpath)
	}
}

func viaCheck(c *checker, cond *Condition, vpath string) {
	n, err := strconv.Atoi(cond.Value)
	if err != nil || !knownVia[n] {
		c.bad(vpath, "%q is not a channel number (for example 0 web form, 4 email, 5 API, 31 ticket sharing)", cond.Value)
	}
}

func hoursCheck(c *checker, cond *Condition, vpath string) {
	n, err := strconv.Atoi(cond.Value)
	if err != nil || n < 0 || n > 24*365*10 {
		c.bad(vpath, "%q must be a whole number of hours", cond.Value)
	}
}

// negatedBy returns p for "is" and its negation for "is_not".
func negatedBy(op string, p pred) pred {
	if op == opIs {
		return p
	}
	return func(e *eval) bool { return !p(e) }
}

// condFields are the condition fields besides the plain ones and the keyed ones
// (custom_fields_<id>, organization.custom_fields.<key>, requester.custom_fields.<key>).
var condFields = map[string]*condField{
	"current_tags": {
		kinds: kindsRule | KindView, ops: fixedOps(tagOps...),
		check: func(c *checker, cond *Condition, vpath string) {
			tags := ticket.NormalizeTags([]string{cond.Value})
			if len(tags) == 0 {
				c.v.Blank(vpath)
			}
			cond.Value = strings.Join(tags, " ")
		},
		pred: func(c Condition) pred {
			tags := strings.Fields(c.Value)
			has := func(e *eval) bool {
				for _, tag := range tags {
					if e.ch.Ticket.HasTag(tag) {
						return true
					}
				}
				return false
			}
			if c.Operator == opIncludes {
				return has
			}
			return func(e *eval) bool { return !has(e) }
		},
		sql: func(w *sqlWriter, c Condition) string {
			in := "t.id IN"
			if c.Operator == opNotIncludes {
				in = "t.id NOT IN"
			}
			return in + " (SELECT tt.ticket_id FROM ticket_tags tt WHERE tt.account_id = " + w.arg(w.acct) + " AND tt.tag IN (" + w.list(strings.Fields(c.Value)) + "))"
		},
	},
	"comment_includes_word": {kinds: KindTrigger, ops: fixedOps(wordOps...), check: nonBlank, pred: wordPred(func(e *eval) string { return e.commentText() })},
	"subject_includes_word": {kinds: KindTrigger, ops: fixedOps(wordOps...), check: nonBlank, pred: wordPred(func(e *eval) string { return strings.ToLower(e.ch.Ticket.Subject) })},
	"via_id": {
		kinds: kindsRule | KindView, ops: fixedOps(eqOps...), check: viaCheck,
		pred: viaPred(func(e *eval) int { return e.ch.Ticket.Via.ID }),
		sql: func(w *sqlWriter, c Condition) string {
			n, _ := strconv.Atoi(c.Value)
			if c.Operator == opIs {
				return "t.via_id = " + w.arg(n)
			}
			return "t.via_id <> " + w.arg(n)
		},
	},
	"current_via_id": {kinds: KindTrigger, ops: fixedOps(eqOps...), check: viaCheck, pred: viaPred(func(e *eval) int { return e.ch.Via.ID })},
	"update_type": {
		kinds: KindTrigger, ops: fixedOps(opIs),
		check: func(c *checker, cond *Condition, vpath string) {
			switch strings.ToLower(cond.Value) {
			case "create":
				cond.Value = "Create"
			case "change":
				cond.Value = "Change"
			default:
				c.bad(vpath, "%q is not an update type (Create or Change)", cond.Value)
			}
		},
		pred: func(c Condition) pred {
			create := c.Value == "Create"
			return func(e *eval) bool { return e.ch.Created == create }
		},
	},
	"comment_is_public": {
		kinds: KindTrigger, ops: fixedOps(opIs),
		check: oneOfCheck("must be true, false, not_relevant or requester_can_see_comment", "true", "false", "not_relevant", "requester_can_see_comment"),
		pred: func(c Condition) pred {
			return func(e *eval) bool {
				pub, priv := false, false
				for _, cm := range e.comments {
					if cm.Public {
						pub = true
					} else {
						priv = true
					}
				}
				switch c.Value {
				case "true", "requester_can_see_comment":
					return pub
				case "false":
					return priv && !pub
				}
				return pub || priv // not_relevant: Zendesk's "present (public or private)"
			}
		},
	},
	"ticket_is_public": {
		kinds: kindsRule | KindView, ops: fixedOps(opIs), check: oneOfCheck("must be public or private", "public", "private"),
		pred: func(c Condition) pred {
			public := c.Value == "public"
			return func(e *eval) bool { return e.ch.Ticket.IsPublic == public }
		},
		sql: func(w *sqlWriter, c Condition) string { return "t.is_public = " + w.arg(c.Value == "public") },
	},
	"role": {
		kinds: KindTrigger, ops: fixedOps(eqOps...), check: oneOfCheck("must be end_user, agent or admin", "end_user", "agent", "admin"),
		pred: func(c Condition) pred {
			return negatedBy(c.Operator, func(e *eval) bool {
				r := e.ch.Actor.Role
				switch c.Value {
				case "admin":
					return r == identity.Admin
				case "agent":
					return r.IsStaff()
				}
				return !r.IsStaff()
			})
		},
	},
	"received_from": sharedWith(true),
	"sent_to":       sharedWith(false),
	"orphaned": {
		kinds: kindsRule | KindView, ops: fixedOps(opIs), check: oneOfCheck("must be true or false", "true", "false"),
		pred: func(c Condition) pred {
			want := c.Value == "true"
			return func(e *eval) bool { return e.orphaned() == want }
		},
		sql: func(w *sqlWriter, c Condition) string {
			from := len(w.args)
			sub := w.shares() + " AND s.state = 'orphaned' AND s.direction = 'in'"
			if c.Value == "true" {
				return w.inShares(sub, from)
			}
			return "t.id NOT IN (" + sub + ")"
		},
	},
	"shared_at": hoursAgo(func(e *eval) (time.Time, bool) { return e.lastShared() }, func(w *sqlWriter, c Condition, cutoff int64) string {
		if c.Operator == opLess {
			from := len(w.args)
			sub := w.shares()
			sub += " AND s.shared_at > " + w.arg(cutoff)
			return w.inShares(sub, from)
		}
		shared := w.shares()
		recent := w.shares()
		recent += " AND s.shared_at >= " + w.arg(cutoff)
		return "t.id IN (" + shared + ") AND t.id NOT IN (" + recent + ")"
	}),
	// Hours since a partner started to owe an answer on an active outbound share
	// (internal/sharing/owed.go): the oldest such debt of the ticket.
	"partner_owed_at": hoursAgo(func(e *eval) (time.Time, bool) { return e.partnerOwed() }, func(w *sqlWriter, c Condition, cutoff int64) string {
		owed := " AND s.direction = 'out' AND s.state = 'active' AND s.owed_since > 0"
		if c.Operator == opLess {
			recent := w.shares() + owed + " AND s.owed_since > " + w.arg(cutoff)
			older := w.shares() + owed + " AND s.owed_since <= " + w.arg(cutoff)
			return "t.id IN (" + recent + ") AND t.id NOT IN (" + older + ")"
		}
		from := len(w.args)
		return w.inShares(w.shares()+owed+" AND s.owed_since < "+w.arg(cutoff), from)
	}),
	// Hours since the ticket's last SLA breach (internal/sla): the latest time one of
	// its targets ran out, achieved late or still running.
	"sla_last_breach_at": hoursAgo(func(e *eval) (time.Time, bool) { return e.lastBreach() }, func(w *sqlWriter, c Condition, cutoff int64) string {
		targets := "SELECT s.ticket_id FROM sla_targets s WHERE s.account_id = " + w.arg(w.acct) + " AND " + breachTime
		if c.Operator == opLess {
			return "t.id IN (" + targets + " > " + w.arg(cutoff) + " AND " + breachTime + " <= " + w.arg(store.Micros(w.now)) + ")"
		}
		older := targets + " > 0 AND " + breachTime + " < " + w.arg(cutoff)
		newer := "SELECT s.ticket_id FROM sla_targets s WHERE s.account_id = " + w.arg(w.acct) + " AND " + breachTime + " >= " + w.arg(cutoff) + " AND " + breachTime + " <= " + w.arg(store.Micros(w.now))
		return "t.id IN (" + older + ") AND t.id NOT IN (" + newer + ")"
	}),
	"created_at": hoursAgo(func(e *eval) (time.Time, bool) {
		if e.ch.Created || e.ch.Ticket.CreatedAt.IsZero() {
			return e.now, true
		}
		return e.ch.Ticket.CreatedAt, true
	}, timeColumn(tfield.ByName("created_at").SQL)),
	// A trigger's ticket is being updated now; an automation's was last updated when it says.
	"updated_at": hoursAgo(func(e *eval) (time.Time, bool) {
		if e.timed {
			return e.ch.Ticket.UpdatedAt, true
		}
		return e.now, true
	}, timeColumn(tfield.ByName("updated_at").SQL)),
}

// breachTime is when an SLA target (s) breached: its recorded breach, else the end of
// its running clock (which may be ahead), else 0.
const breachTime = "(CASE WHEN s.breached_at > 0 THEN s.breached_at WHEN s.stage = 'active' THEN s.breach_at ELSE 0 END)"

// wordPred compiles comment_includes_word and subject_includes_word over text.
func wordPred(text func(e *eval) string) func(c Condition) pred {
	return func(c Condition) pred {
		phrase := strings.ToLower(c.Value)
		words := splitWords(phrase)
		anyWord := func(e *eval) bool {
			in := e.wordSet(text(e))
			for _, w := range words {
				if in[w] {
					return true
				}
			}
			return false
		}
		switch c.Operator {
		case opIncludes:
			return anyWord
		case opNotIncludes:
			return func(e *eval) bool { return !anyWord(e) }
		}
		return negatedBy(c.Operator, func(e *eval) bool { return strings.Contains(text(e), phrase) })
	}
}

func viaPred(get func(e *eval) int) func(c Condition) pred {
	return func(c Condition) pred {
		n, _ := strconv.Atoi(c.Value)
		return negatedBy(c.Operator, func(e *eval) bool { return get(e) == n })
	}
}

// sharedWith is received_from (in) or sent_to: "is" a partner means shared with it, "is"
// nobody means shared with none.
func sharedWith(in bool) *condField {
	want, dir, field := "outbound", "out", "sent_to"
	if in {
		want, dir, field = "inbound", "in", "received_from"
	}
	return &condField{
		kinds: kindsRule | KindView, ops: fixedOps(eqOps...),
		check: func(c *checker, cond *Condition, vpath string) {
			val := cond.Value
			if val == "" {
				return // "is nobody" / "is_not nobody" (shared with any partner)
			}
			if v, ok := c.agreementValue(val, want, vpath, field+" needs an "+want+" agreement"); ok {
				cond.Value = v
			}
		},
		pred: func(c Condition) pred {
			id, _ := parseID(c.Value)
			has := func(e *eval) bool {
				set := e.liveShares(in)
				if c.Value == "" {
					return len(set) > 0
				}
				return set[id]
			}
			if c.Operator == opIs && c.Value != "" || c.Operator == opIsNot && c.Value == "" {
				return has
			}
			return func(e *eval) bool { return !has(e) }
		},
		sql: func(w *sqlWriter, c Condition) string {
			from := len(w.args)
			sub := w.shares()
			sub += " AND s.direction = " + w.arg(dir) + " AND s.state IN ('active', 'failed')"
			if c.Value != "" {
				id, _ := parseID(c.Value)
				sub += " AND s.agreement_id = " + w.arg(id)
			}
			if c.Operator == opIs && c.Value != "" || c.Operator == opIsNot && c.Value == "" {
				return w.inShares(sub, from)
			}
			return "t.id NOT IN (" + sub + ")"
		},
	}
}

// hoursAgo is a "less_than / greater_than N hours ago" condition on the time at reads.
func hoursAgo(at func(e *eval) (time.Time, bool), sql func(w *sqlWriter, c Condition, cutoff int64) string) *condField {
	return &condField{
		kinds: kindsRule | KindView, ops: fixedOps(hourOps...), check: hoursCheck, timed: true,
		pred: func(c Condition) pred {
			hours, _ := strconv.Atoi(c.Value)
			d := time.Duration(hours) * time.Hour
			if c.Operator == opLess {
				return func(e *eval) bool { t, ok := at(e); return ok && t.After(e.now.Add(-d)) }
			}
			return func(e *eval) bool { t, ok := at(e); return ok && t.Before(e.now.Add(-d)) }
		},
		sql: func(w *sqlWriter, c Condition) string {
			hours, _ := strconv.Atoi(c.Value)
			return sql(w, c, store.Micros(w.now.Add(-time.Duration(hours)*time.Hour)))
		},
	}
}

func timeColumn(col string) func(w *sqlWriter, c Condition, cutoff int64) string {
	return func(w *sqlWriter, c Condition, cutoff int64) string {
		if c.Operator == opLess {
			return col + " > " + w.arg(cutoff)
		}
		return col + " < " + w.arg(cutoff)
	}
}

// agreementValue checks that v names a sharing agreement of the account in direction
// want (why says why when it is the other one), and returns its normalized id.
func (c *checker) agreementValue(v, want, vpath, why string) (string, bool) {
	id, ok := parseID(v)
	got := ""
	if ok {
		got = c.agreement(id)
	}
	switch {
	case got == "":
		c.bad(vpath, "sharing agreement %q does not exist", v)
	case got != want:
		c.bad(vpath, "sharing agreement %d is %s; %s", id, got, why)
	default:
		return strconv.FormatInt(id, 10), true
	}
	return "", false
}

// kindsOf maps a registry field's uses to kinds of rules: triggers when it has the
// trigger use, other when it has the other use.
func kindsOf(u, trigger, otherUse tfield.Use, other Kind) Kind {
	var k Kind
	if u&trigger != 0 {
		k |= kindsRule
	}
	if u&otherUse != 0 {
		k |= other
	}
	return k
}

// registryValue validates a value of a registry field, reporting the problem at vpath.
func (c *checker) registryValue(f *tfield.Field, u tfield.Use, v string, ordered bool, vpath string) (string, bool) {
	v, err := f.Value(u, v, ordered, c)
	switch {
	case errors.Is(err, tfield.ErrBlank):
		c.v.Blank(vpath)
	case err != nil:
		c.bad(vpath, "%s", err.Error())
	default:
		return v, true
	}
	return "", false
}

// plainCond is the condition field of a registry field: compared by value, by order
// when the field is ordered, and by change in triggers.
func plainCond(f *tfield.Field) *condField {
	return &condField{
		kinds: kindsOf(f.Use, tfield.TriggerCondition, tfield.ViewCondition, KindView),
		ops: func(kind Kind) []string {
			ops := append([]string{}, eqOps...)
			if f.Ordered {
				ops = append(ops, orderOps...)
			}
			if kind == KindTrigger {
				ops = append(ops, changeOps...)
			}
			return ops
		},
		check: func(c *checker, cond *Condition, vpath string) {
			if v, ok := c.registryValue(f, tfield.TriggerCondition, cond.Value, cond.Operator == opLess || cond.Operator == opGreater, vpath); ok {
				cond.Value = v
			}
		},
		pred: func(c Condition) pred { return plainPred(f, c) },
		sql:  func(w *sqlWriter, c Condition) string { return w.plain(f, c) },
	}
}

// plainPred compiles a trigger condition on a registry field.
func plainPred(f *tfield.Field, c Condition) pred {
	val := c.Value
	// want resolves the special values (current_user, the other person field).
	want := func(e *eval) string {
		if val == "current_user" {
			return idStr(e.ch.Actor.UserID)
		}
		if o := tfield.ByName(val); o != nil && slices.Contains(f.Specials, val) {
			return o.Get(e.ch.Ticket)
		}
		return val
	}
	cur := func(e *eval) string { return f.Get(e.ch.Ticket) }
	prev := func(e *eval) string { return f.Get(e.prev) }
	changed := func(e *eval) bool { return cur(e) != prev(e) }
	switch c.Operator {
	case opIs:
		return func(e *eval) bool { return cur(e) == want(e) }
	case opIsNot:
		return func(e *eval) bool { return cur(e) != want(e) }
	case opLess:
		r := f.Rank(val)
		return func(e *eval) bool { x := f.Rank(cur(e)); return x >= 0 && x < r }
	case opGreater:
		r := f.Rank(val)
		return func(e *eval) bool { return f.Rank(cur(e)) > r }
	case opChanged:
		return changed
	case opNotChanged:
		return func(e *eval) bool { return !changed(e) }
	case opValue:
		return func(e *eval) bool { return changed(e) && cur(e) == want(e) }
	case opValuePrevious:
		return func(e *eval) bool { return changed(e) && prev(e) == want(e) }
	case opNotValue:
		return func(e *eval) bool { return !(changed(e) && cur(e) == want(e)) }
	case opNotValuePrevious:
		return func(e *eval) bool { return !(changed(e) && prev(e) == want(e)) }
	}
	return nil
}

// plain compiles a view condition on a registry field.
func (w *sqlWriter) plain(f *tfield.Field, c Condition) string {
	col, val, op := f.SQL, c.Value, c.Operator
	if op == opLess || op == opGreater {
		r := f.Rank(val)
		var in []string
		for i, v := range f.Values {
			if op == opLess && i < r || op == opGreater && i > r {
				in = append(in, v)
			}
		}
		if len(in) == 0 {
			return "1=0"
		}
		return col + " IN (" + w.list(in) + ")"
	}
	var rhs string
	switch o := tfield.ByName(val); {
	case val == "":
	case val == "current_user":
		rhs = w.arg(w.viewer)
	case o != nil && slices.Contains(f.Specials, val):
		rhs = o.SQL
	case f.Ref != tfield.NoRef:
		id, _ := parseID(val)
		rhs = w.arg(id)
	default:
		rhs = w.arg(val)
	}
	switch {
	case op == opIs && rhs == "":
		return col + " IS NULL"
	case op == opIsNot && rhs == "":
		return col + " IS NOT NULL"
	case op == opIs:
		return col + " = " + rhs
	case strings.HasPrefix(rhs, "t."):
		return "(" + col + " IS NULL OR " + rhs + " IS NULL OR " + col + " <> " + rhs + ")"
	}
	return "(" + col + " IS NULL OR " + col + " <> " + rhs + ")"
}

// plainConds are the registry's condition fields.
var plainConds = func() map[string]*condField {
	m := map[string]*condField{}
	for _, f := range tfield.All(tfield.TriggerCondition | tfield.ViewCondition) {
		m[f.Name] = plainCond(f)
	}
	return m
}()

// keyedCond is a condition on a custom, organization or requester field (triggers only).
var keyedCond = &condField{
	kinds: kindsRule, ops: fixedOps(presentOps...),
	check: func(c *checker, cond *Condition, vpath string) {
		if id, ok := strings.CutPrefix(cond.Field, customFieldPrefix); ok {
			n, ok := parseID(id)
			if !ok || c.field(n) == nil {
				c.bad(strings.TrimSuffix(vpath, ".value")+".field", "ticket field %q does not exist", id)
			}
		}
	},
	pred: func(c Condition) pred {
		get, err := keyedField(c.Field)
		if err != nil {
			return nil
		}
		present := func(e *eval) bool { return len(get(e)) > 0 }
		is := func(e *eval) bool {
			for _, v := range get(e) {
				if strings.EqualFold(v, c.Value) {
					return true
				}
			}
			return false
		}
		switch c.Operator {
		case opIs, opIsNot:
			return negatedBy(c.Operator, is)
		case opPresent:
			return present
		case opNotPresent:
			return func(e *eval) bool { return !present(e) }
		}
		return nil
	},
}

// lookupCond returns how a condition field is handled, or nil if it is none.
func lookupCond(field string) *condField {
	if f, ok := condFields[field]; ok {
		return f
	}
	if f, ok := plainConds[field]; ok {
		return f
	}
	if f, ok := timeConds[field]; ok {
		return f
	}
	switch {
	case strings.HasPrefix(field, customFieldPrefix), strings.HasPrefix(field, orgFieldPrefix) && len(field) > len(orgFieldPrefix),
		strings.HasPrefix(field, userFieldPrefix) && len(field) > len(userFieldPrefix):
		return keyedCond
	}
	return nil
}

// timeConds are the registry's time fields: "hours since" (or until) a time, is N
// (N to N+1 hours), less_than N or greater_than N, false when the time is not set.
var timeConds = func() map[string]*condField {
	m := map[string]*condField{}
	for _, f := range tfield.All(tfield.TimeCondition) {
		m[f.Name] = timeCond(f)
	}
	return m
}()

func timeCond(f *tfield.Field) *condField {
	return &condField{
		kinds: KindAutomation | KindView, ops: fixedOps(timeOps...), check: hoursCheck, timed: true,
		pred: func(c Condition) pred {
			op, n := c.Operator, hoursOf(c)
			return func(e *eval) bool {
				at := f.Time(e.ch.Ticket)
				if at.IsZero() {
					return false
				}
				lo, hi := hoursWindow(f.Until, op, n, store.Micros(e.now))
				x := store.Micros(at)
				return (lo == 0 || x >= lo) && (hi == 0 || x < hi)
			}
		},
		sql: func(w *sqlWriter, c Condition) string {
			lo, hi := hoursWindow(f.Until, c.Operator, hoursOf(c), store.Micros(w.now))
			s := f.SQL + " > 0"
			if lo != 0 {
				s += " AND " + f.SQL + " >= " + w.arg(lo)
			}
			if hi != 0 {
				s += " AND " + f.SQL + " < " + w.arg(hi)
			}
			return s
		},
	}
}

func hoursOf(c Condition) int64 {
	n, _ := strconv.ParseInt(c.Value, 10, 64)
	return n
}

// hoursWindow is the half-open range [lo, hi) of times (microseconds; 0 = unbounded)
// that are n hours since now (is: n to n+1 hours ago; less_than: under n hours ago, not
// in the future; greater_than: more than n hours ago), or with until, n hours from now.
// The trigger predicate and the SQL both read it, so they agree to the microsecond.
func hoursWindow(until bool, op string, n, now int64) (lo, hi int64) {
	h := int64(time.Hour / time.Microsecond)
	if until {
		switch op {
		case opIs:
			return now + n*h, now + (n+1)*h
		case opLess:
			return now, now + n*h
		}
		return now + n*h + 1, 0
	}
	switch op {
	case opIs:
		return now - (n+1)*h + 1, now - n*h + 1
	case opLess:
		return now - n*h + 1, now + 1
	}
	return 0, now - n*h
}
