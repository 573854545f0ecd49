package rank

import "strings"

// Light stemmers in the manner of Snowball's "light" variants: they remove the
// inflectional and the most common derivational suffixes, enough that "refunds",
// "refunded" and "refunding" meet, "remboursements" and "remboursé" meet, without the
// full Snowball tables. They work on folded (lower-case, accent-free) words.

// stemEN stems an English word.
func stemEN(w string) string {
	if len(w) <= 3 {
		return w
	}
	// Step 1a: plurals.
	switch {
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
	case strings.HasSuffix(w, "s") && len(w) > 3:
		w = w[:len(w)-1]
	}
	// Step 1b: -ed, -ing, with the usual repairs (hopp-ing -> hop, charg-ed -> charge).
	for _, suf := range []string{"ing", "ed"} {
		if stem, ok := strings.CutSuffix(w, suf); ok && len(stem) >= 3 && hasVowel(stem) {
			w = repairEN(stem)
			break
		}
	}
	// Derivational suffixes, longest first.
	for _, r := range [][2]string{
		{"ational", "ate"}, {"ization", "ize"}, {"fulness", "ful"}, {"iveness", "ive"},
		{"ousness", "ous"}, {"ements", ""}, {"ement", ""}, {"ments", ""}, {"ment", ""},
		{"ation", "ate"}, {"ably", "able"}, {"ibly", "ible"}, {"ness", ""}, {"ful", ""},
		{"ly", ""},
	} {
		if stem, ok := strings.CutSuffix(w, r[0]); ok && len(stem) >= 4 && hasVowel(stem) {
			w = stem + r[1]
			break
		}
	}
	// Final e and y, so "charge"/"charg" and "apply"/"appli" meet.
	if strings.HasSuffix(w, "e") && len(w) > 4 {
		w = w[:len(w)-1]
	}
	if strings.HasSuffix(w, "y") && len(w) > 3 && !isVowel(w[len(w)-2]) {
		w = w[:len(w)-1] + "i"
	}
	return w
}

// repairEN undoes what removing -ed or -ing leaves behind: a doubled final consonant.
func repairEN(s string) string {
	n := len(s)
	if n >= 2 && s[n-1] == s[n-2] && !isVowel(s[n-1]) && s[n-1] != 'l' && s[n-1] != 's' && s[n-1] != 'z' {
		return s[:n-1]
	}
	return s
}

func isVowel(c byte) bool { return strings.IndexByte("aeiou", c) >= 0 }

func hasVowel(s string) bool { return strings.ContainsAny(s, "aeiouy") }

// stemFR stems a French word (after Savoy's light French stemmer, extended with the
// commonest derivational endings).
func stemFR(w string) string {
	if len(w) <= 3 {
		return w
	}
	// Plurals.
	switch {
	case strings.HasSuffix(w, "aux") && len(w) > 4:
		w = w[:len(w)-3] + "al"
	case strings.HasSuffix(w, "s"), strings.HasSuffix(w, "x"):
		w = w[:len(w)-1]
	}
	for _, suf := range []string{
		"issements", "issement", "atrices", "atrice", "ateurs", "ateur", "ations", "ation",
		"ements", "ement", "ements", "ments", "ment", "ances", "ance", "ences", "ence",
		"euses", "euse", "ites", "ite", "ables", "able", "istes", "iste", "ives", "ive",
		"ees", "ee", "es", "er", "ez", "e",
	} {
		if stem, ok := strings.CutSuffix(w, suf); ok && len(stem) >= 3 {
			w = stem
			break
		}
	}
	// Final doubled consonant (appell -> appel).
	if n := len(w); n >= 4 && w[n-1] == w[n-2] && !isVowel(w[n-1]) {
		w = w[:n-1]
	}
	return w
}
