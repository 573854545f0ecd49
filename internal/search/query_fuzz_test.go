package search

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tandem/internal/errs"
)

// FuzzParse checks the query parser on any input: it never panics; it refuses with
// errs.Invalid and a message, never another kind of error; what it accepts stays inside
// the limits; and parsing is stable: a parsed query, written back in the search syntax
// (render), parses to the same query, and writing that again gives the same text. The
// seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(`type:ticket status<solved tags:warranty_claim tent`)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			if errs.CodeOf(err) != errs.Invalid || err.Error() == "" {
				t.Fatalf("Parse(%q) error %v has code %v, want %v", s, err, errs.CodeOf(err), errs.Invalid)
			}
			return
		}
		if len(q.Terms) > MaxTerms {
			t.Fatalf("Parse(%q) kept %d terms, more than %d", s, len(q.Terms), MaxTerms)
		}
		for _, term := range q.Terms {
			if len(term.Words) > MaxWords {
				t.Fatalf("Parse(%q) kept a phrase of %d words", s, len(term.Words))
			}
			if term.Key == "" && len(term.Words) == 0 {
				t.Fatalf("Parse(%q) kept a text term with no words", s)
			}
		}
		once, ok := render(q)
		if !ok || len(once) > MaxQueryLen {
			return // a value the syntax cannot write back, or too long once quoted
		}
		q2, err := Parse(once)
		if err != nil {
			t.Fatalf("Parse(%q) = %s, rendered %q, which does not parse: %v", s, describe(q), once, err)
		}
		if describe(q2) != describe(q) {
			t.Fatalf("Parse(%q) = %s, rendered %q, which parses to %s", s, describe(q), once, describe(q2))
		}
		if twice, _ := render(q2); twice != once {
			t.Fatalf("render is not stable: %q then %q", once, twice)
		}
	})
}

// render writes a parsed query back in the search syntax; ok is false when a value holds
// both a quote and a space, which the syntax has no way to write.
func render(q *Query) (string, bool) {
	var parts []string
	if q.Kind != "" {
		parts = append(parts, "type:"+string(q.Kind))
	}
	if q.OrderBy != "" {
		parts = append(parts, "order_by:"+q.OrderBy)
	}
	if q.Sort != "" {
		parts = append(parts, "sort:"+q.Sort)
	}
	for _, t := range q.Terms {
		s := ""
		if t.Neg {
			s = "-"
		}
		switch {
		case t.Key == "":
			s += `"` + strings.Join(t.Words, " ") + `"`
			if t.Prefix {
				s += "*"
			}
		case t.Key == "id":
			s += t.Value
		case t.Time != nil:
			s += t.Key + string(t.Op) + renderTime(t.Time)
		default:
			v, ok := quote(t.Value)
			if !ok {
				return "", false
			}
			s += t.Key + string(t.Op) + v
			// Text keys keep their wildcard in Value; the others drop it and set Prefix.
			if t.Prefix && !strings.HasSuffix(t.Value, "*") {
				s += "*"
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " "), true
}

func quote(v string) (string, bool) {
	switch {
	case !strings.Contains(v, `"`):
		return `"` + v + `"`, true
	case !strings.ContainsFunc(v, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }):
		return v, true // a bare value may hold quotes (tags:5"), not spaces
	}
	return "", false
}

func renderTime(tv *TimeValue) string {
	switch {
	case tv.None:
		return "none"
	case tv.Ago > 0:
		return fmt.Sprintf("%d%ss", tv.Ago, tv.Unit)
	case tv.To.Sub(tv.From) == 24*time.Hour && tv.From.Equal(tv.From.Truncate(24*time.Hour)):
		return tv.From.Format("2006-01-02")
	}
	return tv.From.UTC().Format(time.RFC3339)
}
