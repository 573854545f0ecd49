package mailin

import (
	"regexp"
	"strings"
)

// Reply trimming: a reply carries the conversation so far below (or, top-posted, above)
// what its author wrote. The ticket already has that history, so a reply's comment keeps
// only the new text; the whole message stays viewable as the original email.

var (
	// quoteHeadRE matches the line that introduces quoted history, in the forms mail
	// clients write it (Gmail, Apple Mail, Thunderbird, Outlook; English, French,
	// German, Spanish), and Tandem's own reply delimiter.
	quoteHeadRE = []*regexp.Regexp{
		regexp.MustCompile(`(?i)^on\b.{0,300}\bwrote:\s*$`),
		regexp.MustCompile(`(?i)^le\b.{0,300}\ba écrit\s*:\s*$`),
		regexp.MustCompile(`(?i)^am\b.{0,300}\bschrieb.{0,100}:\s*$`),
		regexp.MustCompile(`(?i)^el\b.{0,300}\bescribió:\s*$`),
		regexp.MustCompile(`(?i)^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine)\s*-{2,}\s*$`),
		regexp.MustCompile(`^##-.*-##\s*$`),
		regexp.MustCompile(`^_{20,}\s*$`),
	}
	// wrappedOnRE is the first half of an "On ... wrote:" line that the client wrapped.
	wrappedOnRE     = regexp.MustCompile(`(?i)^(on|le|am|el)\b.{0,300}$`)
	wroteTailRE     = regexp.MustCompile(`(?i)(wrote|a écrit|schrieb.{0,100}|escribió)\s*:\s*$`)
	outlookFromRE   = regexp.MustCompile(`(?i)^\*?(from|de|von)\s*:\*?\s+\S`)
	outlookHeaderRE = regexp.MustCompile(`(?i)^\*?(sent|date|to|subject|envoyé|gesendet)\s*:`)
	mobileSigRE     = regexp.MustCompile(`(?i)^(sent from my |get outlook for |envoyé de mon )`)
	// forwardRE starts a forwarded message, which is content, not history.
	forwardRE = regexp.MustCompile(`(?i)^(-+\s*forwarded message\s*-+|begin forwarded message:)\s*$`)
)

// TrimReply returns the new text of a reply: the text before the quoted history and the
// signature. When trimming would leave nothing, it returns the text as it was.
func TrimReply(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	cut := len(lines)
	for i := 0; i < len(lines) && cut == len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if forwardRE.MatchString(l) {
			break // what follows is the forwarded message itself
		}
		switch {
		case matchesAny(quoteHeadRE, l):
			cut = i
		case i+1 < len(lines) && wrappedOnRE.MatchString(l) && wroteTailRE.MatchString(strings.TrimSpace(lines[i+1])):
			cut = i
		case outlookFromRE.MatchString(l) && followedByHeader(lines, i):
			cut = i
		case strings.HasPrefix(l, ">") && quotedToEnd(lines, i):
			cut = i
		}
	}
	lines = lines[:cut]
	// The signature: from the last "-- " delimiter line (RFC 3676), or a mobile
	// client's "Sent from my ..." line.
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimRight(lines[i], " \t")
		if l == "--" || mobileSigRE.MatchString(strings.TrimSpace(lines[i])) {
			lines = lines[:i]
			break
		}
	}
	out := strings.TrimSpace(strings.Join(lines, "\n"))
	if out == "" {
		return strings.TrimSpace(text)
	}
	return out
}

func matchesAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// followedByHeader reports whether a "From:" line starts an Outlook-style header block
// (Sent/Date/To/Subject within the next four lines).
func followedByHeader(lines []string, i int) bool {
	for j := i + 1; j < len(lines) && j <= i+4; j++ {
		if outlookHeaderRE.MatchString(strings.TrimSpace(lines[j])) {
			return true
		}
	}
	return false
}

// quotedToEnd reports whether every non-blank line from i on is quoted.
func quotedToEnd(lines []string, i int) bool {
	for _, l := range lines[i:] {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, ">") {
			return false
		}
	}
	return true
}
