package search

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
	"tandem/internal/ticket/tfield"
)

// The SQL here comes from fixed strings chosen by keyword; values are always bind
// parameters. A condition may be NULL where a column is (assignee_id = 5 for a ticket
// without assignee); WHERE reads NULL as false, and a negated term is written
// NOT COALESCE((cond), FALSE), so that it means "does not match". Conditions compare
// columns bare where they can, so that indexes serve them.

// conds accumulates ANDed conditions.
type conds struct {
	parts []string
	args  []any
}

func (c *conds) add(cond string, args ...any) {
	c.parts = append(c.parts, cond)
	c.args = append(c.args, args...)
}

// compile builds the SQL selecting kind k's matches of req. q serves to choose which
// text term a search walks.
func (e *engine) compile(ctx context.Context, q store.Queryer, k Kind, req Request, sortBy string) (part, error) {
	var p part
	var c conds
	skip := -1 // the term that drives the query, already in p.from
	staff := req.Actor.IsStaff()
	switch k {
	case Tickets:
		p.from, p.idCol = "tickets t", "t.id"
		scope, sargs := ticket.Scope(e.dialect, req.Account, req.Actor)
		c.add("t.account_id = ?", req.Account)
		if req.perTicket {
			d, counts, err := e.walkTerm(ctx, q, req)
			if err != nil {
				return p, err
			}
			p.walkCounts = counts
			if d >= 0 {
				p.text, p.walk, skip = true, &req.Query.Terms[d], d
			}
		} else if d := driver(req.Query.Terms); d >= 0 {
			t := req.Query.Terms[d]
			p.text = true
			if e.text.drives() {
				set, args := e.text.ticketMatches(req.Account, t.Key, t.Words, t.Prefix)
				p.from, p.fromArgs = "("+set+") m CROSS JOIN tickets t", args
				c.add("t.id = m.id")
				skip = d
			}
		}
		c.add("t.deleted_at = 0 AND "+scope, sargs...)
		p.scoped = scope != "1=1"
	case Users:
		p.from, p.idCol = "users u", "u.id"
		c.add("u.account_id = ? AND u.active = TRUE", req.Account)
	case Organizations:
		p.from, p.idCol = "organizations o", "o.id"
		c.add("o.account_id = ?", req.Account)
	case Groups:
		p.from, p.idCol = "groups g", "g.id"
		c.add("g.account_id = ? AND g.deleted = FALSE", req.Account)
	}
	if k != Tickets && !staff {
		// Only staff look people up; end users find no one (the API refuses them anyway).
		c.add("1=0")
	}
	p.kind = k
	base := c
	if err := e.addTerms(&c, &p, k, req, skip, false); err != nil {
		return p, err
	}
	p.where, p.args = strings.Join(c.parts, " AND "), c.args
	if p.walk != nil && e.dialect == store.SQLite {
		// The walk's own statements check sets of tickets (tags, custom fields) on each
		// row they reach (part.walkWhere), where IN (subquery) would build the whole set, a
		// common tag's hundreds of thousands of tickets, in every statement of the walk.
		// Counting and reading by the filters (byFilters) keep IN: from a set, SQLite
		// reads a rare tag's tickets through its index.
		w := conds{parts: slices.Clone(base.parts), args: slices.Clone(base.args)}
		wp := p
		wp.checks = nil
		if err := e.addTerms(&w, &wp, k, req, skip, true); err != nil {
			return p, err
		}
		p.walkWhere, p.walkArgs = strings.Join(w.parts, " AND "), w.args
	}
	p.sort = sortExpr(k, sortBy)
	return p, nil
}

// addTerms adds the conditions of req's terms (but the one at skip, which drives the
// query) to c, and appends a walked part's other text terms to p.checks. With per, sets
// of tickets (tags, custom fields) are conditions on each ticket (EXISTS on the set's
// row for it) rather than IN (subquery).
func (e *engine) addTerms(c *conds, p *part, k Kind, req Request, skip int, per bool) error {
	// Positive key:value terms repeating a keyword are ORed, in the place of the first.
	var order []string
	groups := map[string]*conds{}
	for i, t := range req.Query.Terms {
		if i == skip {
			continue
		}
		if p.walk != nil && isText(t) {
			p.checks = append(p.checks, t)
			continue
		}
		cond, args, err := e.term(k, t, req, per)
		if err != nil {
			return err
		}
		if g := t.orGroup(); g != "" {
			if groups[g] == nil {
				groups[g] = &conds{}
				order = append(order, g)
			}
			groups[g].add(cond, args...)
			continue
		}
		if t.Neg {
			cond, args = e.negate(k, t, req, cond, args, per)
		}
		c.add(cond, args...)
	}
	for _, g := range order {
		alt := groups[g]
		if len(alt.parts) == 1 {
			c.add(alt.parts[0], alt.args...)
		} else {
			c.add("("+strings.Join(alt.parts, " OR ")+")", alt.args...)
		}
	}
	return nil
}

// driver returns the index of the ticket text term that decides the matches (the first
// positive one), or -1.
func driver(terms []Term) int {
	for i, t := range terms {
		if !t.Neg && isText(t) {
			return i
		}
	}
	return -1
}

// isText reports whether t matches ticket text (free text, subject:, description:).
func isText(t Term) bool { return t.Key == "" || t.Key == "subject" || t.Key == "description" }

// sortExpr is the integer each kind sorts by.
func sortExpr(k Kind, by string) string {
	alias := map[Kind]string{Tickets: "t.", Users: "u.", Organizations: "o.", Groups: "g."}[k]
	switch by {
	case "id":
		return alias + "id"
	case "created_at":
		return alias + "created_at"
	case "priority", "status", "ticket_type":
		if k != Tickets {
			return "0"
		}
	default:
		return alias + "updated_at"
	}
	// The registry's sort keys, by view column.
	col := map[string]string{"priority": "priority", "status": "status", "ticket_type": "type"}[by]
	return tfield.SortExpr(col)
}

// term compiles one term for kind k (positive form; the caller negates).
func (e *engine) term(k Kind, t Term, req Request, per bool) (string, []any, error) {
	switch k {
	case Tickets:
		return e.ticketTerm(t, req, per)
	case Users:
		return e.userTerm(t, req)
	case Organizations:
		return e.orgTerm(t, req)
	}
	return e.groupTerm(t, req)
}

// idSet is a query of ticket ids: SELECT col FROM ... WHERE ...
type idSet struct {
	sql  string
	args []any
	col  string
}

// has is the condition that ticket t is in the set, checked on t's own row of it (the
// set's index leads with the account and the ticket).
func (s idSet) has() string {
	return "EXISTS (" + s.sql + " AND " + s.col + " = t.id)"
}

// ticketSets returns the sets of ticket ids whose intersection a term matches, for the
// terms that are such sets (text, tags, custom fields); ok is false for the others.
func (e *engine) ticketSets(t Term, acct ids.Account) (sets []idSet, ok bool) {
	switch {
	case isText(t):
		s, a := e.text.ticketMatches(acct, t.Key, t.Words, t.Prefix)
		return []idSet{{s, a, ""}}, true
	case t.Key == "tags" && t.Prefix:
		return []idSet{{`SELECT tt.ticket_id FROM ticket_tags tt WHERE tt.account_id = ? AND tt.tag LIKE ? ESCAPE '\'`, []any{acct, escapeLike(t.Value) + "%"}, "tt.ticket_id"}}, true
	case t.Key == "tags" && t.Value != "none":
		// tags:"a b" asks for both tags.
		for _, tag := range strings.Fields(t.Value) {
			sets = append(sets, idSet{"SELECT tt.ticket_id FROM ticket_tags tt WHERE tt.account_id = ? AND tt.tag = ?", []any{acct, tag}, "tt.ticket_id"})
		}
		return sets, len(sets) > 0
	case t.Field != 0:
		// ticket_field_values (migration 0010) holds each value lowercased, one row per
		// element of a multi-select, so a field's value is one index range.
		return []idSet{{"SELECT v.ticket_id FROM ticket_field_values v WHERE v.account_id = ? AND v.field_id = ? AND v.value = ?", []any{acct, t.Field, t.Value}, "v.ticket_id"}}, true
	}
	return nil, false
}

// negate returns the condition "does not match" for a term whose positive condition
// is cond. PostgreSQL cannot turn NOT (t.id IN (subquery)) into an anti-join, and when
// the subquery's ids outgrow work_mem it runs the subquery again for every ticket
// (minutes for "printer -error" at a million tickets); NOT EXISTS over each set becomes
// an anti-join that reads each set once.
func (e *engine) negate(k Kind, t Term, req Request, cond string, args []any, per bool) (string, []any) {
	if isText(t) && req.perTicket || per {
		return "NOT COALESCE((" + cond + "), FALSE)", args
	}
	if sets, ok := e.ticketSets(t, req.Account); ok && k == Tickets && e.dialect == store.Postgres {
		var c conds
		for i, set := range sets {
			c.add(fmt.Sprintf("NOT EXISTS (SELECT 1 FROM (%s) neg%d(id) WHERE neg%d.id = t.id)", set.sql, i, i), set.args...)
		}
		return "(" + strings.Join(c.parts, " OR ") + ")", c.args
	}
	return "NOT COALESCE((" + cond + "), FALSE)", args
}

func (e *engine) ticketTerm(t Term, req Request, per bool) (string, []any, error) {
	acct := req.Account
	if isText(t) && req.perTicket {
		s, a := e.text.ticketHas(acct, t.Key, t.Words, t.Prefix)
		return s, a, nil
	}
	if sets, ok := e.ticketSets(t, acct); ok {
		var c conds
		for _, set := range sets {
			if per {
				c.add(set.has(), set.args...)
			} else {
				c.add("t.id IN ("+set.sql+")", set.args...)
			}
		}
		return strings.Join(c.parts, " AND "), c.args, nil
	}
	// The registry gives the column of each keyword it declares.
	col := ""
	if f := tfield.BySearchKey(t.Key); f != nil {
		col = f.SQL
	}
	switch t.Key {
	case "id":
		return "t.id = ?", []any{t.Num}, nil
	case "status", "priority", "ticket_type":
		f := tfield.BySearchKey(t.Key)
		if t.Value == "none" {
			return col + " IS NULL", nil, nil
		}
		if !f.Ordered {
			return col + " = ?", []any{t.Value}, nil
		}
		return inList(col, ordered(f.Values, t.Op, t.Value))
	case "tags":
		if t.Value == "none" && !t.Prefix {
			return "NOT EXISTS (SELECT 1 FROM ticket_tags tt WHERE tt.account_id = t.account_id AND tt.ticket_id = t.id)", nil, nil
		}
		return "", nil, invalid("tags: needs a tag")
	case "assignee", "requester":
		return personCond(col, t, req)
	case "submitter":
		return personCond("t.submitter_id", t, req)
	case "problem_id":
		if t.Value == "none" {
			return col + " IS NULL", nil, nil
		}
		return col + " = ?", []any{t.Num}, nil
	case "organization":
		return namedCond(col, "organizations", "name_lower", "", t, req)
	case "group":
		return namedCond(col, "groups", "LOWER(name)", " AND deleted = FALSE", t, req)
	case "via":
		ids := ViaIDs(t.Value)
		args := make([]any, len(ids))
		for i, v := range ids {
			args[i] = v
		}
		return "t.via_id IN (" + store.In(len(ids)) + ")", args, nil
	case "created", "updated":
		return timeCond(col, false, t, req)
	case "solved", "due_date":
		return timeCond(col, true, t, req)
	}
	return "", nil, invalid("%s is not a property of tickets", termKey(t))
}

func (e *engine) userTerm(t Term, req Request) (string, []any, error) {
	acct := req.Account
	switch t.Key {
	case "":
		return anyWords(t, "u.name", "u.email", "u.external_id")
	case "name":
		return anyWords(t, "u.name")
	case "email":
		if t.Prefix {
			return `u.id IN (SELECT ui.user_id FROM user_identities ui WHERE ui.account_id = ? AND ui.type = 'email' AND ui.value LIKE ? ESCAPE '\')`,
				[]any{acct, escapeLike(t.Value) + "%"}, nil
		}
		return "u.id IN (SELECT ui.user_id FROM user_identities ui WHERE ui.account_id = ? AND ui.type = 'email' AND ui.value = ?)", []any{acct, t.Value}, nil
	case "role":
		return "u.role = ?", []any{t.Value}, nil
	case "external_id":
		return "u.external_id_lower = ?", []any{t.Value}, nil
	case "organization":
		switch {
		case t.Value == "none":
			return "NOT EXISTS (SELECT 1 FROM organization_memberships m WHERE m.account_id = u.account_id AND m.user_id = u.id)", nil, nil
		case t.Num != 0:
			return "u.id IN (SELECT m.user_id FROM organization_memberships m WHERE m.account_id = ? AND m.organization_id = ?)", []any{acct, t.Num}, nil
		}
		cond, v := "o.name_lower = ?", t.Value
		if t.Prefix {
			cond, v = `o.name_lower LIKE ? ESCAPE '\'`, escapeLike(v)+"%"
		}
		return "u.id IN (SELECT m.user_id FROM organization_memberships m JOIN organizations o ON o.account_id = m.account_id AND o.id = m.organization_id WHERE m.account_id = ? AND " + cond + ")",
			[]any{acct, v}, nil
	case "tags":
		return e.jsonTags("u.tags", t)
	case "created":
		return timeCond("u.created_at", false, t, req)
	case "updated":
		return timeCond("u.updated_at", false, t, req)
	}
	return "", nil, invalid("%s is not a property of users", termKey(t))
}

func (e *engine) orgTerm(t Term, req Request) (string, []any, error) {
	switch t.Key {
	case "":
		s, a, _ := anyWords(t, "o.name", "o.external_id")
		d, da, _ := anyWords(t, "d.domain")
		return "(" + s + " OR o.id IN (SELECT d.organization_id FROM organization_domains d WHERE d.account_id = ? AND " + d + "))", append(append(a, req.Account), da...), nil
	case "name":
		return anyWords(t, "o.name")
	case "external_id":
		return "o.external_id_lower = ?", []any{t.Value}, nil
	case "tags":
		return e.jsonTags("o.tags", t)
	case "created":
		return timeCond("o.created_at", false, t, req)
	case "updated":
		return timeCond("o.updated_at", false, t, req)
	}
	return "", nil, invalid("%s is not a property of organizations", termKey(t))
}

func (e *engine) groupTerm(t Term, req Request) (string, []any, error) {
	switch t.Key {
	case "", "name":
		return anyWords(t, "g.name")
	case "created":
		return timeCond("g.created_at", false, t, req)
	case "updated":
		return timeCond("g.updated_at", false, t, req)
	}
	return "", nil, invalid("%s is not a property of groups", termKey(t))
}

func (e *engine) jsonTags(col string, t Term) (string, []any, error) {
	if t.Value == "none" && !t.Prefix {
		return e.text.jsonEmpty(col), nil, nil
	}
	if t.Prefix {
		s, a := e.text.jsonHasString(col, t.Value, true)
		return s, a, nil
	}
	var c conds
	for _, tag := range strings.Fields(t.Value) {
		s, a := e.text.jsonHasString(col, tag, false)
		c.add(s, a...)
	}
	return strings.Join(c.parts, " AND "), c.args, nil
}

// ordered returns the values of an ordered list that compare with v as op asks.
func ordered(list []string, op Op, v string) []string {
	at := -1
	for i, x := range list {
		if x == v {
			at = i
		}
	}
	var out []string
	for i, x := range list {
		ok := false
		switch op {
		case Eq:
			ok = i == at
		case Lt:
			ok = i < at
		case Le:
			ok = i <= at
		case Gt:
			ok = i > at
		case Ge:
			ok = i >= at
		}
		if ok {
			out = append(out, x)
		}
	}
	return out
}

func inList(col string, values []string) (string, []any, error) {
	if len(values) == 0 {
		return "1=0", nil, nil
	}
	if len(values) == 1 {
		return col + " = ?", []any{values[0]}, nil
	}
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return col + " IN (" + store.In(len(values)) + ")", args, nil
}

// personCond matches a ticket's user column against none, me, an id, an email address
// or a name (the words of the value appear in that order in the user's name).
func personCond(col string, t Term, req Request) (string, []any, error) {
	acct := req.Account
	switch {
	case t.Value == "none":
		return col + " IS NULL", nil, nil
	case t.Value == "me":
		return col + " = ?", []any{req.Actor.UserID}, nil
	case t.Num != 0:
		return col + " = ?", []any{t.Num}, nil
	case strings.Contains(t.Value, "@"):
		return col + " IN (SELECT ui.user_id FROM user_identities ui WHERE ui.account_id = ? AND ui.type = 'email' AND ui.value = ?)",
			[]any{acct, t.Value}, nil
	}
	name, args, _ := anyWords(Term{Words: Words(t.Value)}, "pu.name")
	return col + " IN (SELECT pu.id FROM users pu WHERE pu.account_id = ? AND " + name + ")", append([]any{acct}, args...), nil
}

// namedCond matches a ticket's organization or group: none, an id, or a name (whole,
// ignoring case; or its start with a trailing *).
func namedCond(col, table, nameCol, extra string, t Term, req Request) (string, []any, error) {
	switch {
	case t.Value == "none":
		return col + " IS NULL", nil, nil
	case t.Num != 0:
		return col + " = ?", []any{t.Num}, nil
	case t.Prefix:
		return col + " IN (SELECT id FROM " + table + " WHERE account_id = ? AND " + nameCol + ` LIKE ? ESCAPE '\'` + extra + ")",
			[]any{req.Account, escapeLike(t.Value) + "%"}, nil
	}
	return col + " IN (SELECT id FROM " + table + " WHERE account_id = ? AND " + nameCol + " = ?" + extra + ")",
		[]any{req.Account, t.Value}, nil
}

// timeCond compares a time column (unix microseconds; 0 = unset when optional).
func timeCond(col string, optional bool, t Term, req Request) (string, []any, error) {
	v := t.Time
	if v.None {
		return col + " = 0", nil, nil
	}
	pre := ""
	if optional {
		pre = col + " <> 0 AND "
	}
	if v.Ago > 0 {
		at := store.Micros(v.At(req.Now))
		switch t.Op {
		case Eq, Ge:
			return pre + col + " >= ?", []any{at}, nil
		case Gt:
			return pre + col + " > ?", []any{at}, nil
		case Lt:
			return pre + col + " < ?", []any{at}, nil
		}
		return pre + col + " <= ?", []any{at}, nil
	}
	from, to := store.Micros(v.From), store.Micros(v.To)
	switch t.Op {
	case Lt:
		return pre + col + " < ?", []any{from}, nil
	case Le:
		return pre + col + " < ?", []any{to}, nil
	case Gt:
		return pre + col + " >= ?", []any{to}, nil
	case Ge:
		return pre + col + " >= ?", []any{from}, nil
	}
	return pre + col + " >= ? AND " + col + " < ?", []any{from, to}, nil
}

// anyWords matches a text term's words (see likeNorm) in any of the columns. A plain
// substring LIKE on the longest word goes first: it is implied by the word match and
// much cheaper than normalizing every row.
func anyWords(t Term, cols ...string) (string, []any, error) {
	longest := ""
	for _, w := range t.Words {
		if len(w) > len(longest) {
			longest = w
		}
	}
	pre, pat := "%"+escapeLike(longest)+"%", wordPattern(t.Words, t.Prefix)
	var parts []string
	var args []any
	for _, c := range cols {
		parts = append(parts, "(LOWER(COALESCE("+c+`, '')) LIKE ? ESCAPE '\' AND `+likeNorm(c)+` LIKE ? ESCAPE '\')`)
		args = append(args, pre, pat)
	}
	if len(parts) == 1 {
		return parts[0], args, nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args, nil
}

// wordSeparators are the characters likeNorm turns into spaces, so that LIKE can find
// whole words in names, addresses and domains.
const wordSeparators = "@.-_,'\"()+/:;&!#[]<>|\\"

// likeNorm wraps a text column as " lowercased text with punctuation as spaces ", so
// that ' word ' (whole word) and ' word' (prefix) patterns find words in it.
func likeNorm(col string) string {
	expr := "LOWER(COALESCE(" + col + ", ''))"
	for _, r := range wordSeparators {
		lit := string(r)
		if r == '\'' {
			lit = "''"
		}
		expr = "REPLACE(" + expr + ", '" + lit + "', ' ')"
	}
	return "(' ' || " + expr + " || ' ')"
}

// LikeNorm is likeNorm done in Go (for tests and callers that filter in memory).
func LikeNorm(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if strings.IndexByte(wordSeparators, c) >= 0 {
			b[i] = ' '
		}
	}
	return " " + string(b) + " "
}

// wordPattern is the LIKE pattern for words in a likeNorm'd column.
func wordPattern(words []string, prefix bool) string {
	p := "% " + escapeLike(strings.Join(words, " "))
	if prefix {
		return p + "%"
	}
	return p + " %"
}

// escapeLike escapes LIKE wildcards for a pattern using ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
