package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"tandem/internal/identity"
	"tandem/internal/ticket"
)

// pred is a compiled condition: it reads the update in progress.
type pred func(e *eval) bool

// idStr renders an id as conditions spell it ("" for none).
func idStr[T ~int64](v T) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(int64(v), 10)
}

// fieldValue is the value of a ticket field as conditions compare it.
func fieldValue(field string, t *ticket.Ticket) string {
	switch field {
	case "status":
		return string(t.Status)
	case "priority":
		return t.Priority
	case "type":
		return t.Type
	case "group_id":
		return idStr(t.GroupID)
	case "assignee_id":
		return idStr(t.AssigneeID)
	case "requester_id":
		return idStr(t.RequesterID)
	case "organization_id":
		return idStr(t.OrganizationID)
	}
	return ""
}

// rank orders statuses and priorities for less_than/greater_than; -1 for none.
func rank(field, v string) int {
	if field == "status" {
		return ticket.Status(v).Rank()
	}
	for i, p := range ticket.Priorities {
		if p == v {
			return i
		}
	}
	return -1
}

// compileCondition turns a validated trigger condition into a predicate.
func compileCondition(c Condition) (pred, error) {
	val := c.Value
	switch f := c.Field; f {
	case "status", "priority", "type", "group_id", "assignee_id", "requester_id", "organization_id":
		// want resolves the special values (current_user, requester_id, assignee_id).
		want := func(e *eval) string {
			switch val {
			case "current_user":
				return idStr(e.ch.Actor.UserID)
			case "requester_id":
				if f == "assignee_id" {
					return idStr(e.ch.Ticket.RequesterID)
				}
			case "assignee_id":
				if f == "requester_id" {
					return idStr(e.ch.Ticket.AssigneeID)
				}
			}
			return val
		}
		cur := func(e *eval) string { return fieldValue(f, e.ch.Ticket) }
		prev := func(e *eval) string { return fieldValue(f, e.prev) }
		changed := func(e *eval) bool { return cur(e) != prev(e) }
		switch c.Operator {
		case opIs:
			return func(e *eval) bool { return cur(e) == want(e) }, nil
		case opIsNot:
			return func(e *eval) bool { return cur(e) != want(e) }, nil
		case opLess:
			r := rank(f, val)
			return func(e *eval) bool { x := rank(f, cur(e)); return x >= 0 && x < r }, nil
		case opGreater:
			r := rank(f, val)
			return func(e *eval) bool { return rank(f, cur(e)) > r }, nil
		case opChanged:
			return changed, nil
		case opNotChanged:
			return func(e *eval) bool { return !changed(e) }, nil
		case opValue:
			return func(e *eval) bool { return changed(e) && cur(e) == want(e) }, nil
		case opValuePrevious:
			return func(e *eval) bool { return changed(e) && prev(e) == want(e) }, nil
		case opNotValue:
			return func(e *eval) bool { return !(changed(e) && cur(e) == want(e)) }, nil
		case opNotValuePrevious:
			return func(e *eval) bool { return !(changed(e) && prev(e) == want(e)) }, nil
		}
	case "current_tags":
		tags := strings.Fields(val)
		has := func(e *eval) bool {
			for _, tag := range tags {
				if e.ch.Ticket.HasTag(tag) {
					return true
				}
			}
			return false
		}
		if c.Operator == opIncludes {
			return has, nil
		}
		return func(e *eval) bool { return !has(e) }, nil
	case "comment_includes_word", "subject_includes_word":
		text := func(e *eval) string { return e.commentText() }
		if f == "subject_includes_word" {
			text = func(e *eval) string { return strings.ToLower(e.ch.Ticket.Subject) }
		}
		phrase := strings.ToLower(val)
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
			return anyWord, nil
		case opNotIncludes:
			return func(e *eval) bool { return !anyWord(e) }, nil
		case opIs:
			return func(e *eval) bool { return strings.Contains(text(e), phrase) }, nil
		case opIsNot:
			return func(e *eval) bool { return !strings.Contains(text(e), phrase) }, nil
		}
	case "via_id", "current_via_id":
		n, _ := strconv.Atoi(val)
		get := func(e *eval) int { return e.ch.Ticket.Via.ID }
		if f == "current_via_id" {
			get = func(e *eval) int { return e.ch.Via.ID }
		}
		if c.Operator == opIs {
			return func(e *eval) bool { return get(e) == n }, nil
		}
		return func(e *eval) bool { return get(e) != n }, nil
	case "update_type":
		create := val == "Create"
		return func(e *eval) bool { return e.ch.Created == create }, nil
	case "comment_is_public":
		return func(e *eval) bool {
			pub, priv := false, false
			for _, cm := range e.comments {
				if cm.Public {
					pub = true
				} else {
					priv = true
				}
			}
			switch val {
			case "true", "requester_can_see_comment":
				return pub
			case "false":
				return priv && !pub
			}
			return true // not_relevant
		}, nil
	case "ticket_is_public":
		public := val == "public"
		return func(e *eval) bool { return e.ch.Ticket.IsPublic == public }, nil
	case "role":
		is := func(e *eval) bool {
			r := e.ch.Actor.Role
			switch val {
			case "admin":
				return r == identity.Admin
			case "agent":
				return r.IsStaff()
			}
			return !r.IsStaff()
		}
		if c.Operator == opIs {
			return is, nil
		}
		return func(e *eval) bool { return !is(e) }, nil
	case "received_from", "sent_to":
		id, _ := parseID(val)
		in := f == "received_from"
		has := func(e *eval) bool {
			set := e.liveShares(in)
			if val == "" {
				return len(set) > 0
			}
			return set[id]
		}
		// "is" a partner: shared with it; "is" nobody: shared with none.
		if c.Operator == opIs && val != "" || c.Operator == opIsNot && val == "" {
			return has, nil
		}
		return func(e *eval) bool { return !has(e) }, nil
	case "orphaned":
		want := val == "true"
		return func(e *eval) bool { return e.orphaned() == want }, nil
	case "shared_at", "created_at", "updated_at":
		hours, _ := strconv.Atoi(val)
		d := time.Duration(hours) * time.Hour
		at := func(e *eval) (time.Time, bool) {
			switch f {
			case "created_at":
				if e.ch.Created || e.ch.Ticket.CreatedAt.IsZero() {
					return e.now, true
				}
				return e.ch.Ticket.CreatedAt, true
			case "updated_at":
				return e.now, true // the ticket is being updated now
			}
			return e.lastShared()
		}
		if c.Operator == opLess {
			return func(e *eval) bool { t, ok := at(e); return ok && t.After(e.now.Add(-d)) }, nil
		}
		return func(e *eval) bool { t, ok := at(e); return ok && t.Before(e.now.Add(-d)) }, nil
	default:
		get, err := keyedField(f)
		if err != nil {
			return nil, err
		}
		present := func(e *eval) bool { return len(get(e)) > 0 }
		is := func(e *eval) bool {
			for _, v := range get(e) {
				if strings.EqualFold(v, val) {
					return true
				}
			}
			return false
		}
		switch c.Operator {
		case opIs:
			return is, nil
		case opIsNot:
			return func(e *eval) bool { return !is(e) }, nil
		case opPresent:
			return present, nil
		case opNotPresent:
			return func(e *eval) bool { return !present(e) }, nil
		}
	}
	return nil, fmt.Errorf("rules: cannot compile condition %s %s", c.Field, c.Operator)
}

// keyedField reads custom, organization and requester fields as lists of strings.
func keyedField(f string) (func(e *eval) []string, error) {
	switch {
	case strings.HasPrefix(f, customFieldPrefix):
		id, ok := parseID(strings.TrimPrefix(f, customFieldPrefix))
		if !ok {
			return nil, fmt.Errorf("rules: bad field %s", f)
		}
		return func(e *eval) []string { return valueStrings(e.ch.Ticket.CustomFields[id]) }, nil
	case strings.HasPrefix(f, orgFieldPrefix):
		key := strings.TrimPrefix(f, orgFieldPrefix)
		return func(e *eval) []string {
			o := e.organization()
			if o == nil {
				return nil
			}
			return valueStrings(o.Fields[key])
		}, nil
	case strings.HasPrefix(f, userFieldPrefix):
		key := strings.TrimPrefix(f, userFieldPrefix)
		return func(e *eval) []string {
			u := e.requester()
			if u == nil {
				return nil
			}
			return valueStrings(u.UserFields[key])
		}, nil
	}
	return nil, fmt.Errorf("rules: unknown field %s", f)
}

// valueStrings renders a stored field value for comparison; empty values are none.
func valueStrings(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case []string:
		return x
	case []any:
		var out []string
		for _, y := range x {
			out = append(out, valueStrings(y)...)
		}
		return out
	case bool:
		if !x {
			return nil // an unchecked checkbox is "not present", as in Zendesk
		}
		return []string{"true"}
	}
	return []string{fmt.Sprint(v)}
}

func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' })
}

func wordSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range splitWords(s) {
		out[w] = true
	}
	return out
}
