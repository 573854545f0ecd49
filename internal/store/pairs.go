package store

import (
	"database/sql/driver"
	"strings"
	"unicode"
	"unicode/utf8"

	"modernc.org/sqlite"
)

// The word-pair indexes of SQLite (migration 0058: tickets_pairs, ticket_comments_pairs)
// hold each text's neighbouring word pairs as tokens; tandem_pairs(text) computes them on
// every connection the driver opens (the migration's backfill, the triggers' deletes and
// indexing at commit all call it).
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("tandem_pairs", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case nil:
			return nil, nil
		case string:
			return Pairs(v), nil
		case []byte:
			return Pairs(string(v)), nil
		default:
			return "", nil // numbers are no text FTS5 indexes as words in pairs
		}
	})
}

// pairSep joins the two words of a pair token: unicode61 splits words on it, so it is
// never inside a word, and the pair indexes' tokenizer keeps it inside a token.
const pairSep = "_"

// Pairs returns the neighbouring word pairs of text as the pair indexes' tokens, in the
// text's order and separated by spaces: "My blender, my warranty" gives "My_blender
// blender_my my_warranty" (the index folds case and diacritics as the word indexes do).
// Words are split exactly as SQLite's unicode61 tokenizer splits them (unicode61Word):
// runs of letters, digits, private-use characters and the combining diacritics it
// folds away ("e\u0301te" is one word there), so that a row's pairs are the pairs of
// the words the word indexes hold.
func Pairs(text string) string {
	var b strings.Builder
	prev := ""
	start := -1
	word := func(w string) {
		if prev != "" {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(prev)
			b.WriteString(pairSep)
			b.WriteString(w)
		}
		prev = w
	}
	for i, r := range text {
		var in bool
		if r < utf8.RuneSelf {
			in = 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
		} else {
			in = unicode.Is(unicode61Word, r)
		}
		if in && start < 0 {
			start = i
		}
		if !in && start >= 0 {
			word(text[start:i])
			start = -1
		}
	}
	if start >= 0 {
		word(text[start:])
	}
	return b.String()
}

// PairPhrase returns the phrase of pair tokens that finds, in a pair index, exactly the
// texts holding words (split by Words of internal/search) as a phrase, with a trailing
// prefix when prefix is set ("a b c*" is "a_b b_c" *); "" when words are fewer than
// two. The words hold only letters and digits; quotes are doubled anyway.
func PairPhrase(words []string, prefix bool) string {
	if len(words) < 2 {
		return ""
	}
	pairs := make([]string, len(words)-1)
	for i := range pairs {
		pairs[i] = words[i] + pairSep + words[i+1]
	}
	s := `"` + strings.ReplaceAll(strings.Join(pairs, " "), `"`, `""`) + `"`
	if prefix {
		s += " *"
	}
	return s
}
