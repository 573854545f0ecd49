// Package input holds the rules that every text from outside obeys, whichever door it
// comes in by (API JSON, web forms, query strings, CSV cells, a partner's payload). Each
// door applies them once, where it decodes its input, so the domain never sees text
// that one of the databases cannot store.
//
// The NUL rule: a string containing U+0000 is refused with a 422 naming the field. It is
// refused rather than stripped because PostgreSQL cannot store NUL in text while SQLite
// can, so one rule for both databases has to drop something, and silently altering what
// someone wrote (a signature, an identifier, a pasted log line) loses data without anyone
// knowing; a refusal tells the sender exactly which field to fix. No legitimate help desk
// text needs a NUL character.
package input

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"tandem/internal/errs"
)

// NULMessage is the problem reported for a field holding a NUL character.
const NULMessage = "must not contain a NUL character (\\u0000)"

// HasNUL reports whether s contains a NUL character.
func HasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

// Text refuses s if it breaks the NUL rule, naming field.
func Text(field, s string) error {
	if HasNUL(s) {
		return errs.Invalidf(field, "InvalidValue", NULMessage)
	}
	return nil
}

// Values refuses the first (by name) form or query parameter breaking the NUL rule,
// in its name or one of its values.
func Values(v url.Values) error {
	var bad []string
	for k, vals := range v {
		if HasNUL(k) || slices.ContainsFunc(vals, HasNUL) {
			bad = append(bad, strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", `\u0000`), "?"))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return errs.Invalidf(bad[0], "InvalidValue", NULMessage)
}

// JSONPath returns the path of the first string (or object key) in a JSON document that
// breaks the NUL rule, such as "ticket.comment.body" or "tags[2]", and whether there is
// one. JSON can only carry NUL as the escape \u0000, so documents without that escape
// are answered without decoding; a document that does not parse is not its business
// (the caller's decoder reports that) and has no path.
func JSONPath(body []byte) (string, bool) {
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return "", false
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return "", false
	}
	return nulPath(v, "")
}

func nulPath(v any, path string) (string, bool) {
	switch x := v.(type) {
	case string:
		return path, HasNUL(x)
	case []any:
		for i, e := range x {
			if p, ok := nulPath(e, path+"["+strconv.Itoa(i)+"]"); ok {
				return p, true
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys) // the same answer for the same document
		for _, k := range keys {
			name := k
			if path != "" {
				name = path + "." + k
			}
			if HasNUL(k) {
				return strings.ReplaceAll(name, "\x00", `\u0000`), true
			}
			if p, ok := nulPath(x[k], name); ok {
				return p, true
			}
		}
	}
	return "", false
}
