package rules

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
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

// compileCondition turns a validated trigger condition into a predicate.
func compileCondition(c Condition) (pred, error) {
	if f := lookupCond(c.Field); f != nil && f.pred != nil {
		if p := f.pred(c); p != nil {
			return p, nil
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
