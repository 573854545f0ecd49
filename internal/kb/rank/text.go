package rank

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Lang selects the stemmer and stop words used for a text.
type Lang uint8

// The languages the ranker stems. Every other locale is treated as English, whose
// stemmer only removes common suffixes and so does little harm to other languages.
const (
	English Lang = iota
	French
)

// LangOf returns the language of a locale such as "en-us", "fr" or "fr-ca".
func LangOf(locale string) Lang {
	l := strings.ToLower(locale)
	if l == "fr" || strings.HasPrefix(l, "fr-") || strings.HasPrefix(l, "fr_") {
		return French
	}
	return English
}

// maxTokens bounds how much of one text is read, so a hostile query or a huge body
// costs a bounded amount of work.
const maxTokens = 20000

// token is a word of a text: its position in bytes and its folded form.
type token struct {
	start, end int
	word       string // lower case, accents removed
}

// tokenize splits s into words (runs of letters and digits), lower-cased and with
// accents folded, so "Réglé" and "regle" meet. Invalid UTF-8 is skipped.
func tokenize(s string, limit int) []token {
	var out []token
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start >= 0 && b.Len() > 0 {
			out = append(out, token{start: start, end: end, word: b.String()})
		}
		b.Reset()
		start = -1
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			flush(i)
			i += max(n, 1)
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			b.WriteString(fold(unicode.ToLower(r)))
		} else if r == '\'' || r == '’' {
			// "l'article", "customer's": the apostrophe ends the word.
			flush(i)
		} else {
			flush(i)
		}
		i += n
		if len(out) >= limit {
			return out
		}
	}
	flush(len(s))
	return out
}

// fold removes the accent from a lower-case Latin letter.
func fold(r rune) string {
	switch r {
	case 'à', 'á', 'â', 'ä', 'ã', 'å':
		return "a"
	case 'ç':
		return "c"
	case 'è', 'é', 'ê', 'ë':
		return "e"
	case 'ì', 'í', 'î', 'ï':
		return "i"
	case 'ñ':
		return "n"
	case 'ò', 'ó', 'ô', 'ö', 'õ':
		return "o"
	case 'ù', 'ú', 'û', 'ü':
		return "u"
	case 'ÿ', 'ý':
		return "y"
	case 'œ':
		return "oe"
	case 'æ':
		return "ae"
	case 'ß':
		return "ss"
	}
	return string(r)
}

var stopEN = set("a an and are as at be but by can do does for from has have how i if in is it its me my of on or our so that the their then there these this to was we what when where which who why will with you your")

var stopFR = set("a au aux avec ce ces comment dans de des du elle en est et il je la le les leur lui ma mais me mes mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes ton tu un une vos votre vous d l j n s c m qu y")

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// terms returns the index terms of a text: tokens without stop words, stemmed.
func terms(s string, lang Lang) []string {
	toks := tokenize(s, maxTokens)
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if w, ok := term(t.word, lang); ok {
			out = append(out, w)
		}
	}
	return out
}

// term stems one folded word, or reports false for a stop word.
func term(w string, lang Lang) (string, bool) {
	if lang == French {
		if stopFR[w] {
			return "", false
		}
		return stemFR(w), true
	}
	if stopEN[w] {
		return "", false
	}
	return stemEN(w), true
}

// TermList returns the index terms of a text as the ranker sees them: words lower-cased
// and accent-folded, stop words removed, stemmed for lang. Other text models (the AI
// layer's classifiers) use it so that they and the article search read text alike.
func TermList(s string, lang Lang) []string { return terms(s, lang) }

// WordList returns a text's words folded and stemmed like TermList's, stop words kept:
// short requests ("how do I...", "why is my...") carry their intent in them, which a
// classifier needs and a search does not.
func WordList(s string, lang Lang) []string {
	toks := tokenize(s, maxTokens)
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if lang == French {
			out = append(out, stemFR(t.word))
		} else {
			out = append(out, stemEN(t.word))
		}
	}
	return out
}
