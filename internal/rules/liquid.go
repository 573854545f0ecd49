package rules

import (
	"regexp"
	"strings"
)

// Liquid-style logic in notification and comment texts, the subset Zendesk's templates
// use: {% if X %}...{% elsif Y %}...{% else %}...{% endif %} and {% unless X %}...
// {% endunless %}, nested, where a condition is a placeholder name alone (true when it
// renders non-empty), or compared with ==, != or contains to a quoted string or another
// placeholder, joined by "and" / "or" (left to right, as Liquid does). A tag it cannot
// read is left as written.

var liquidTagRE = regexp.MustCompile(`\{%-?\s*(if|elsif|else|endif|unless|endunless)\b\s*(.*?)\s*-?%\}`)

// liquid renders the logic tags of s; placeholders are filled after.
func (r *renderer) liquid(s string) string {
	if !strings.Contains(s, "{%") {
		return s
	}
	tags := liquidTagRE.FindAllStringSubmatchIndex(s, -1)
	out, _, _ := r.liquidBlock(s, tags, 0, 0, true)
	return out
}

// liquidBlock renders s from pos through tags[i:] until a tag that closes or continues
// the enclosing block; it returns the text, the index of that tag and the position after
// the text.
func (r *renderer) liquidBlock(s string, tags [][]int, i, pos int, emit bool) (string, int, int) {
	var b strings.Builder
	for i < len(tags) {
		t := tags[i]
		name := s[t[2]:t[3]]
		if emit {
			b.WriteString(s[pos:t[0]])
		}
		switch name {
		case "elsif", "else", "endif", "endunless":
			return b.String(), i, t[0]
		}
		// if / unless: render its branches.
		unless := name == "unless"
		taken := false
		cond := s[t[4]:t[5]]
		i, pos = i+1, t[1]
		for {
			on := emit && !taken && r.truth(cond) != unless
			text, j, end := r.liquidBlock(s, tags, i, pos, on)
			if on {
				b.WriteString(text)
				taken = true
			}
			if j >= len(tags) {
				return b.String(), j, end // unclosed: the rest was the block
			}
			next := tags[j]
			kind := s[next[2]:next[3]]
			i, pos = j+1, next[1]
			if kind == "endif" || kind == "endunless" {
				break
			}
			unless = false
			if kind == "else" {
				cond = "true"
			} else {
				cond = s[next[4]:next[5]]
			}
		}
	}
	if emit {
		b.WriteString(s[pos:])
	}
	return b.String(), len(tags), len(s)
}

var liquidOrRE, liquidAndRE = regexp.MustCompile(`\s+or\s+`), regexp.MustCompile(`\s+and\s+`)

// truth evaluates a condition.
func (r *renderer) truth(cond string) bool {
	if cond == "true" {
		return true
	}
	for _, alt := range liquidOrRE.Split(cond, -1) {
		all := true
		for _, part := range liquidAndRE.Split(alt, -1) {
			if !r.compare(strings.TrimSpace(part)) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (r *renderer) compare(c string) bool {
	for _, op := range []string{"==", "!=", " contains "} {
		if l, rt, ok := strings.Cut(c, op); ok {
			a, b := r.operand(l), r.operand(rt)
			switch op {
			case "==":
				return strings.EqualFold(a, b)
			case "!=":
				return !strings.EqualFold(a, b)
			}
			return strings.Contains(strings.ToLower(a), strings.ToLower(b))
		}
	}
	v := r.operand(c)
	return v != "" && v != "false" && v != "-"
}

// operand is a quoted string's text or a placeholder's value.
func (r *renderer) operand(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	switch s {
	case "true", "false":
		return s
	case "", "nil", "empty", "blank":
		return ""
	}
	return r.value(s)
}
