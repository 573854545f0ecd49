package assist

import (
	"strings"
	"unicode"
)

// The hand-off checks. They read a requester's words only to decide that people must
// answer: text can move a ticket towards a human, never make the AI act.

// Language codes the AI answers in. Unknown is a text in neither.
const (
	LangEN      = "en"
	LangFR      = "fr"
	LangUnknown = ""
)

// stop words that tell English from French (accent-folded, lower case).
var (
	enWords = set("the a an and or to is are was be i you my me it this that of in on for with have has not can do does please thanks thank hello hi what how when why would could card account order help need want get your our we")
	frWords = set("le la les un une des et ou est sont je tu vous mon ma mes ne pas ce cette de du au aux pour avec sur dans bonjour merci comment pourquoi quand votre notre nous mais plus tres ai avez suis carte commande compte besoin veux voudrais aide")
)

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// fold lower-cases and removes the accents of Latin letters.
func fold(s string) string {
	r := strings.NewReplacer("à", "a", "â", "a", "ä", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e", "î", "i", "ï", "i", "ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "ÿ", "y", "œ", "oe", "æ", "ae", "’", "'")
	return r.Replace(strings.ToLower(s))
}

// words splits folded text into words (apostrophes split French elisions: "j'ai").
func words(s string) []string {
	return strings.FieldsFunc(fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// DetectLanguage returns the language of a requester's text: English, French, or
// unknown when neither has enough of its common words (another language, or too
// little text to tell).
func DetectLanguage(text string) string {
	var en, fr, letters, nonLatin int
	for _, r := range text {
		if unicode.IsLetter(r) {
			letters++
			if r > unicode.MaxLatin1 && !unicode.In(r, unicode.Latin) {
				nonLatin++
			}
		}
	}
	if letters == 0 || nonLatin*3 > letters {
		return LangUnknown
	}
	ws := words(text)
	for _, w := range ws {
		if enWords[w] {
			en++
		}
		if frWords[w] {
			fr++
		}
	}
	switch {
	case fr >= 2 && fr > en:
		return LangFR
	case en >= 2 && en > fr:
		return LangEN
	case len(ws) <= 4 && en+fr == 1:
		// A very short text: one known word decides ("Merci", "Help").
		if fr == 1 {
			return LangFR
		}
		return LangEN
	}
	return LangUnknown
}

// humanPhrases are requests for a person, accent-folded, in English and French. A
// requester's text containing any of them is handed off.
var humanPhrases = []string{
	// English
	"human", "real person", "a person", "live person", "live agent", "real agent", "an agent", "to an agent", "speak to someone", "talk to someone",
	"speak with someone", "talk with someone", "speak to a", "talk to a", "representative", "operator", "customer service rep", "not a bot", "no bot",
	"stop the bot", "not a robot", "someone real", "escalate", "supervisor", "manager", "call me", "phone me",
	// French
	"humain", "une personne", "vraie personne", "personne reelle", "un conseiller", "une conseillere", "un agent", "parler a quelqu'un", "parler a quelqu un",
	"parler avec quelqu", "quelqu'un de reel", "pas un robot", "pas un bot", "pas de robot", "un responsable", "le responsable", "un superieur",
	"joindre quelqu", "appelez-moi", "appelez moi", "rappelez-moi", "rappelez moi", "service client", "un operateur",
}

// AsksForHuman reports whether the text asks for a person.
func AsksForHuman(text string) bool {
	t := " " + strings.Join(strings.Fields(fold(text)), " ") + " "
	for _, p := range humanPhrases {
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}

// negative words, accent-folded: anger, threats, distress, in English and French.
var negativeWords = set(`angry furious unacceptable ridiculous terrible horrible awful worst scam fraud lawyer lawsuit sue complaint
disgusted disgusting outraged useless pathetic incompetent hate stolen never again shame shameful
furieux furieuse inadmissible inacceptable honteux honte arnaque escroquerie escroc avocat plainte nul nulle lamentable pire
scandaleux scandale deteste degoute marre vole incompetent incompetents`)

// NegativeSentiment reports whether the text is angry or distressed enough that a
// person must answer: two negative words, or one with shouting (capitals or "!!").
func NegativeSentiment(text string) bool {
	n := 0
	for _, w := range words(text) {
		if negativeWords[w] {
			n++
		}
	}
	if n >= 2 {
		return true
	}
	if n == 1 && (strings.Contains(text, "!!") || shouting(text)) {
		return true
	}
	return false
}

// shouting reports whether most letters of a longer text are capitals.
func shouting(text string) bool {
	var up, letters int
	for _, r := range text {
		if unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) {
				up++
			}
		}
	}
	return letters >= 12 && up*10 >= letters*7
}

// restrictedWords mark intents the AI never answers alone (money back, account access),
// whatever the admin's settings: matched against the intent's name, accent-folded.
var restrictedWords = []string{"refund", "rembours", "chargeback", "account_access", "account access", "password", "mot_de_passe", "mot de passe",
	"login", "log_in", "sign_in", "signin", "2fa", "two_factor", "locked_out", "unlock", "verify_identity", "acces_compte", "acces au compte", "compte_bloque"}

// RestrictedIntent reports whether an intent is one the AI may only suggest for
// (refunds, account access): never drafted or answered on its own.
func RestrictedIntent(intent string) bool {
	t := fold(intent)
	for _, w := range restrictedWords {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}
