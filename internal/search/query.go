package search

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ticket"
	"tandem/internal/ticket/tfield"
)

// Limits on a query, so that one request cannot ask the database for unbounded work.
const (
	MaxQueryLen = 4096 // bytes
	MaxTerms    = 64
	MaxWords    = 32 // per phrase
	MaxWordLen  = 128
)

// Kind is a record type search returns.
type Kind string

// The kinds, as Zendesk names them in type: and result_type.
const (
	Tickets       Kind = "ticket"
	Users         Kind = "user"
	Organizations Kind = "organization"
	Groups        Kind = "group"
)

// AllKinds lists the kinds in the order mixed results break ties.
var AllKinds = []Kind{Tickets, Users, Organizations, Groups}

// ParseKind reads a type: or filter[type] value.
func ParseKind(s string) (Kind, bool) {
	switch strings.ToLower(s) {
	case "ticket", "tickets":
		return Tickets, true
	case "user", "users":
		return Users, true
	case "organization", "organizations":
		return Organizations, true
	case "group", "groups":
		return Groups, true
	}
	return "", false
}

// Op compares a property with a value.
type Op string

// The operators. Lt, Gt, Le and Ge only apply to ordered properties (status, priority,
// times).
const (
	Eq Op = ":"
	Lt Op = "<"
	Gt Op = ">"
	Le Op = "<="
	Ge Op = ">="
)

// Term is one whitespace-separated part of a query.
type Term struct {
	// Neg excludes what the term matches (written with a leading minus).
	Neg bool
	// Key is the property: "" for free text, "id" for a bare ticket number, else a keyword
	// such as "status", "tags" (tag: is read as tags:) or "custom_field_123".
	Key string
	Op  Op
	// Value is the value as written, without quotes, lowercased for properties whose
	// values are case-insensitive.
	Value string
	// Words and Prefix describe a text match (free text, subject:, description:, name:):
	// the words must appear in this order, the last one possibly as a prefix.
	Words  []string
	Prefix bool
	// Time is set for time properties (created, updated, solved, due_date).
	Time *TimeValue
	// Field is the ticket field of a custom_field_<id> term.
	Field int64
	// Num is the number of id terms and of numeric user, organization and group values.
	Num int64
}

// TimeValue is a time property's value: an absolute day or instant, or a span before now.
type TimeValue struct {
	// From and To bound an absolute value: a day is [midnight, next midnight), a time
	// written to the second is that second.
	From, To time.Time
	// Ago, when positive, is a relative value: that many Units before the search runs.
	Ago  int
	Unit string // minute, hour, day, week, month, year
	// None matches records without the time (solved:none, due_date:none).
	None bool
}

// At returns now minus a relative value.
func (v *TimeValue) At(now time.Time) time.Time {
	switch v.Unit {
	case "minute":
		return now.Add(-time.Duration(v.Ago) * time.Minute)
	case "hour":
		return now.Add(-time.Duration(v.Ago) * time.Hour)
	case "day":
		return now.AddDate(0, 0, -v.Ago)
	case "week":
		return now.AddDate(0, 0, -7*v.Ago)
	case "month":
		return now.AddDate(0, -v.Ago, 0)
	}
	return now.AddDate(-v.Ago, 0, 0)
}

// Query is a parsed search query: its terms are ANDed, except that positive key:value
// terms repeating a keyword are ORed (status:open status:pending, tags:vip tags:gold).
type Query struct {
	// Kind is the type: the query names, or "".
	Kind  Kind
	Terms []Term
	// OrderBy and Sort come from order_by: and sort: ("" when absent).
	OrderBy string
	Sort    string
}

// keyInfo says what a keyword applies to and how its values read.
type keyInfo struct {
	kinds   []Kind
	ordered bool // accepts <, >, <= and >=
	// orSame: positive key:value terms repeating the keyword are ORed.
	orSame bool
	parse  func(t *Term, raw string, quoted bool) error
}

// keys is the keyword table: a plain value built once when the package loads.
var keys = keyTable()

func keyTable() map[string]keyInfo {
	t := []Kind{Tickets}
	all := AllKinds
	return map[string]keyInfo{
		"status":       {kinds: t, ordered: true, orSame: true, parse: parseStatus},
		"priority":     {kinds: t, ordered: true, orSame: true, parse: parsePriority},
		"ticket_type":  {kinds: t, orSame: true, parse: oneOf("ticket_type", append([]string{"none"}, tfield.BySearchKey("ticket_type").Values...)...)},
		"tags":         {kinds: []Kind{Tickets, Users, Organizations}, orSame: true, parse: parseTag},
		"assignee":     {kinds: t, orSame: true, parse: parsePerson(true)},
		"requester":    {kinds: t, orSame: true, parse: parsePerson(false)},
		"submitter":    {kinds: t, orSame: true, parse: parsePerson(false)},
		"organization": {kinds: []Kind{Tickets, Users}, orSame: true, parse: parseNamed},
		"group":        {kinds: t, orSame: true, parse: parseNamed},
		"problem_id":   {kinds: t, orSame: true, parse: parseProblem},
		"via":          {kinds: t, orSame: true, parse: parseVia},
		"created":      {kinds: all, ordered: true, orSame: true, parse: parseTime(false)},
		"updated":      {kinds: all, ordered: true, orSame: true, parse: parseTime(false)},
		"solved":       {kinds: t, ordered: true, orSame: true, parse: parseTime(true)},
		"due_date":     {kinds: t, ordered: true, orSame: true, parse: parseTime(true)},
		"subject":      {kinds: t, parse: parseText},
		"description":  {kinds: t, parse: parseText},
		"name":         {kinds: []Kind{Users, Organizations, Groups}, parse: parseText},
		"email":        {kinds: []Kind{Users}, orSame: true, parse: parseEmail},
		"role":         {kinds: []Kind{Users}, orSame: true, parse: parseRole},
		"external_id":  {kinds: []Kind{Users, Organizations}, orSame: true, parse: parseExternalID},
		"custom_field": {kinds: t, orSame: true, parse: parseCustomField},
	}
}

// lookupKey returns the canonical keyword and its description.
func lookupKey(k string) (string, keyInfo, bool) {
	switch k {
	case "tag":
		k = "tags"
	case "type", "order_by", "sort":
		return k, keyInfo{}, true
	}
	if strings.HasPrefix(k, "custom_field_") {
		return k, keys["custom_field"], true
	}
	info, ok := keys[k]
	return k, info, ok
}

// appliesTo reports whether the term's property exists on records of kind k.
func (t *Term) appliesTo(k Kind) bool {
	switch t.Key {
	case "":
		return true
	case "id":
		return k == Tickets
	}
	_, info, _ := lookupKey(t.Key)
	for _, x := range info.kinds {
		if x == k {
			return true
		}
	}
	return false
}

// orGroup is the key under which repeated positive terms are ORed, or "".
func (t *Term) orGroup() string {
	if t.Neg || t.Op != Eq || t.Key == "" || t.Key == "id" {
		return ""
	}
	if _, info, _ := lookupKey(t.Key); info.orSame {
		return t.Key
	}
	return ""
}

func invalid(format string, args ...any) error { return errs.E(errs.Invalid, format, args...) }

// Parse reads a query in Zendesk's search syntax. Its errors have code errs.Invalid and a
// message that says what to change.
func Parse(s string) (*Query, error) {
	if len(s) > MaxQueryLen {
		return nil, invalid("The query is too long (at most %d characters)", MaxQueryLen)
	}
	if !utf8.ValidString(s) {
		return nil, invalid("The query is not valid UTF-8")
	}
	p := &parser{src: s}
	q := &Query{}
	for {
		p.skipSpace()
		if p.eof() {
			break
		}
		t, skip, err := p.term()
		if err != nil {
			return nil, err
		}
		if skip {
			continue
		}
		switch t.Key {
		case "type":
			k, ok := ParseKind(t.Value)
			switch {
			case !ok:
				return nil, invalid("type must be ticket, user, organization or group, not %q", t.Value)
			case t.Neg || t.Op != Eq:
				return nil, invalid("type: can only be used as type:%s", t.Value)
			case q.Kind != "" && q.Kind != k:
				return nil, invalid("A query can name only one type (type:%s and type:%s)", q.Kind, k)
			}
			q.Kind = k
			continue
		case "order_by", "sort":
			if t.Neg || t.Op != Eq {
				return nil, invalid("%s: can only be used as %s:value", t.Key, t.Key)
			}
			if t.Key == "order_by" {
				by, ok := SortKey(t.Value)
				if !ok {
					return nil, invalid("order_by must be one of created, updated, priority, status or ticket_type, not %q", t.Value)
				}
				q.OrderBy = by
			} else {
				if t.Value != "asc" && t.Value != "desc" {
					return nil, invalid("sort must be asc or desc, not %q", t.Value)
				}
				q.Sort = t.Value
			}
			continue
		}
		if len(q.Terms) == MaxTerms {
			return nil, invalid("The query has too many terms (at most %d)", MaxTerms)
		}
		q.Terms = append(q.Terms, t)
	}
	if len(q.Terms) == 0 && q.Kind == "" {
		return nil, invalid("The query has nothing to search for")
	}
	return q, nil
}

// SortKey maps an order_by: or sort_by value to the sort it names.
func SortKey(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "created", "created_at":
		return "created_at", true
	case "updated", "updated_at":
		return "updated_at", true
	case "priority":
		return "priority", true
	case "status":
		return "status", true
	case "ticket_type", "type":
		return "ticket_type", true
	case "relevance":
		return "", true
	}
	return "", false
}

type parser struct {
	src string
	pos int
}

func (p *parser) eof() bool  { return p.pos >= len(p.src) }
func (p *parser) peek() byte { return p.src[p.pos] }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (p *parser) skipSpace() {
	for !p.eof() && isSpace(p.peek()) {
		p.pos++
	}
}

// term reads one term. skip is true for tokens with nothing to search for (a lone minus,
// punctuation), which are ignored as Zendesk ignores them.
func (p *parser) term() (t Term, skip bool, err error) {
	if p.peek() == '-' {
		t.Neg = true
		p.pos++
		if p.eof() || isSpace(p.peek()) {
			return t, true, nil
		}
	}
	if p.peek() == '"' {
		phrase, err := p.quoted()
		if err != nil {
			return t, false, err
		}
		if !p.eof() && p.peek() == '*' {
			p.pos++
			t.Prefix = true
		}
		return t, !setWords(&t, phrase), checkWords(&t, phrase)
	}
	if key, op, ok := p.keyword(); ok {
		return p.keyTerm(t, key, op)
	}
	tok := p.bare()
	if isDigits(tok) {
		n, err := strconv.ParseInt(tok, 10, 64)
		if err != nil || n <= 0 {
			return t, false, invalid("%s is not a ticket number", tok)
		}
		t.Key, t.Op, t.Value, t.Num = "id", Eq, tok, n
		return t, false, nil
	}
	word, prefix, err := splitWildcard(tok)
	if err != nil {
		return t, false, err
	}
	t.Prefix = prefix
	return t, !setWords(&t, word), checkWords(&t, word)
}

// keyword reads "name:" (or name<, name>, name<=, name>=) at the current position, if the
// name is a known keyword. An unknown name followed by an operator is an error, so
// that a mistyped keyword does not silently search for text.
func (p *parser) keyword() (string, Op, bool) {
	i := p.pos
	for i < len(p.src) && (isIdent(p.src[i]) || i > p.pos && p.src[i] >= '0' && p.src[i] <= '9') {
		i++
	}
	if i == p.pos || i >= len(p.src) || (p.src[i] != ':' && p.src[i] != '<' && p.src[i] != '>') {
		return "", "", false
	}
	key := strings.ToLower(p.src[p.pos:i])
	op := Op(p.src[i])
	n := 1
	if op != Eq && i+1 < len(p.src) && p.src[i+1] == '=' {
		op += "="
		n = 2
	}
	p.pos = i + n
	return key, op, true
}

func isIdent(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// bare reads up to the next space.
func (p *parser) bare() string {
	start := p.pos
	for !p.eof() && !isSpace(p.peek()) {
		p.pos++
	}
	return p.src[start:p.pos]
}

// quoted reads a double-quoted string (the opening quote is at the current position).
func (p *parser) quoted() (string, error) {
	start := p.pos
	end := strings.IndexByte(p.src[start+1:], '"')
	if end < 0 {
		return "", invalid("The quote opened at character %d is never closed", start+1)
	}
	p.pos = start + 1 + end + 1
	return p.src[start+1 : start+1+end], nil
}

func (p *parser) keyTerm(t Term, key string, op Op) (Term, bool, error) {
	canon, info, ok := lookupKey(key)
	if !ok {
		return t, false, invalid("%q is not a search keyword; to search for the text, put it in quotes: \"%s%s\"", key, key, op)
	}
	t.Key, t.Op = canon, op
	if p.eof() || isSpace(p.peek()) {
		return t, false, invalid("%s%s needs a value", key, op)
	}
	var raw string
	quoted := p.peek() == '"'
	if quoted {
		s, err := p.quoted()
		if err != nil {
			return t, false, err
		}
		raw = s
		if !p.eof() && p.peek() == '*' {
			p.pos++
			raw += "*"
		}
	} else {
		raw = p.bare()
	}
	if strings.TrimSpace(raw) == "" {
		return t, false, invalid("%s%s needs a value", key, op)
	}
	if canon == "type" || canon == "order_by" || canon == "sort" {
		t.Value = strings.ToLower(strings.TrimSpace(raw))
		return t, false, nil
	}
	if op != Eq && !info.ordered {
		return t, false, invalid("%s cannot be compared with %s; write %s:value", key, op, key)
	}
	if err := info.parse(&t, raw, quoted); err != nil {
		return t, false, err
	}
	return t, false, nil
}

// splitWildcard strips a trailing * (a prefix search); a * anywhere else is an error.
func splitWildcard(s string) (string, bool, error) {
	prefix := false
	for strings.HasSuffix(s, "*") {
		s, prefix = s[:len(s)-1], true
	}
	if strings.Contains(s, "*") {
		return "", false, invalid("The wildcard * only works at the end of a word (%s)", s)
	}
	if prefix && len(Words(s)) == 0 {
		return "", false, invalid("A wildcard needs at least one letter or digit before it")
	}
	return s, prefix, nil
}

// setWords fills t.Words from text; it reports whether there is anything to match.
func setWords(t *Term, text string) bool {
	t.Words = Words(text)
	if t.Key == "" {
		t.Op = Eq
	}
	return len(t.Words) > 0
}

func checkWords(t *Term, text string) error {
	if len(t.Words) > MaxWords {
		return invalid("A phrase can have at most %d words", MaxWords)
	}
	for _, w := range t.Words {
		if len(w) > MaxWordLen {
			return invalid("Words can be at most %d characters long", MaxWordLen)
		}
	}
	return nil
}

// Words splits text into the lowercased words search matches: the runs of letters and
// digits. SQLite's unicode61 tokenizer and the PostgreSQL index expressions split text
// the same way.
func Words(s string) []string {
	var out []string
	start := -1
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsNumber(r)
		if word && start < 0 {
			start = i
		}
		if !word && start >= 0 {
			out = append(out, strings.ToLower(s[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, strings.ToLower(s[start:]))
	}
	return out
}

func parseText(t *Term, raw string, quoted bool) error {
	word, prefix, err := splitWildcard(raw)
	if err != nil {
		return err
	}
	t.Prefix = prefix
	if !setWords(t, word) {
		return invalid("%s: needs letters or digits to search for", t.Key)
	}
	t.Value = strings.ToLower(raw)
	return checkWords(t, word)
}

func parseStatus(t *Term, raw string, _ bool) error {
	v := strings.ToLower(raw)
	if ticket.Status(v).Rank() < 0 {
		return invalid("status must be one of new, open, pending, hold, solved or closed, not %q", raw)
	}
	t.Value = v
	return nil
}

func parsePriority(t *Term, raw string, _ bool) error {
	v := strings.ToLower(raw)
	if v == "none" {
		if t.Op != Eq {
			return invalid("priority:none cannot be compared with %s", t.Op)
		}
		t.Value = v
		return nil
	}
	if PriorityRank(v) < 0 {
		return invalid("priority must be one of low, normal, high, urgent or none, not %q", raw)
	}
	t.Value = v
	return nil
}

// PriorityRank orders priorities (low 1 ... urgent 4; -1 for anything else).
func PriorityRank(p string) int {
	for i, v := range ticket.Priorities {
		if v == p {
			return i + 1
		}
	}
	return -1
}

func oneOf(key string, values ...string) func(*Term, string, bool) error {
	return func(t *Term, raw string, _ bool) error {
		v := strings.ToLower(raw)
		for _, x := range values {
			if v == x {
				t.Value = v
				return nil
			}
		}
		return invalid("%s must be one of %s, not %q", key, strings.Join(values, ", "), raw)
	}
}

func parseTag(t *Term, raw string, _ bool) error {
	v, prefix, err := splitWildcard(strings.ToLower(strings.TrimSpace(raw)))
	if err != nil {
		return err
	}
	if v == "" {
		return invalid("tags: needs a tag")
	}
	if prefix && strings.ContainsAny(v, " \t") {
		return invalid("A wildcard works on one tag at a time (tags:%s*)", v)
	}
	t.Value, t.Prefix = v, prefix
	return nil
}

// parsePerson reads an assignee:, requester: or submitter: value: none (assignee
// only), me, a user id, an email address or a name.
func parsePerson(allowNone bool) func(*Term, string, bool) error {
	return func(t *Term, raw string, _ bool) error {
		v := strings.ToLower(strings.TrimSpace(raw))
		switch {
		case v == "none" && !allowNone:
			return invalid("%s:none matches nothing: every ticket has a %s", t.Key, t.Key)
		case isDigits(v):
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return invalid("%s is not a user id", v)
			}
			t.Num = n
		case v != "none" && v != "me" && !strings.Contains(v, "@") && len(Words(v)) == 0:
			return invalid("%s: needs a name, an email address, an id, me or none", t.Key)
		}
		t.Value = v
		return nil
	}
}

// parseNamed reads an organization: or group: value: none, an id or a name (a trailing
// * matches names starting with the text).
func parseNamed(t *Term, raw string, _ bool) error {
	v := strings.ToLower(strings.TrimSpace(raw))
	if isDigits(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return invalid("%s is not an id", v)
		}
		t.Num = n
		t.Value = v
		return nil
	}
	name, prefix, err := splitWildcard(v)
	if err != nil {
		return err
	}
	if prefix && name == "none" {
		prefix = false
	}
	t.Value, t.Prefix = name, prefix
	return nil
}

// parseProblem reads problem_id: a ticket number, or none.
func parseProblem(t *Term, raw string, _ bool) error {
	v := strings.ToLower(strings.TrimSpace(raw))
	if v == "none" {
		t.Value = v
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return invalid("problem_id must be a ticket number or none, not %q", raw)
	}
	t.Num, t.Value = n, v
	return nil
}

// viaChannels maps via: values to the via_id numbers of the channels.
var viaChannels = map[string][]int{
	"web":            {ticket.ViaWebForm, ticket.ViaHelpCenter},
	"web_form":       {ticket.ViaWebForm},
	"help_center":    {ticket.ViaHelpCenter},
	"email":          {ticket.ViaMail},
	"mail":           {ticket.ViaMail},
	"api":            {ticket.ViaAPI},
	"web_service":    {ticket.ViaAPI},
	"rule":           {ticket.ViaRule},
	"batch":          {ticket.ViaBatch},
	"closed_ticket":  {ticket.ViaClosedTicket},
	"ticket_sharing": {ticket.ViaTicketShare},
}

// ViaIDs returns the via_id numbers a via: value stands for.
func ViaIDs(channel string) []int { return viaChannels[channel] }

func parseVia(t *Term, raw string, _ bool) error {
	v := strings.ToLower(strings.TrimSpace(raw))
	if _, ok := viaChannels[v]; !ok {
		return invalid("via must be one of web, email, api, rule, batch, closed_ticket or ticket_sharing, not %q", raw)
	}
	t.Value = v
	return nil
}

func parseEmail(t *Term, raw string, _ bool) error {
	v, prefix, err := splitWildcard(strings.ToLower(strings.TrimSpace(raw)))
	if err != nil {
		return err
	}
	if v == "" {
		return invalid("email: needs an address")
	}
	t.Value, t.Prefix = v, prefix
	return nil
}

func parseRole(t *Term, raw string, _ bool) error {
	v := strings.ToLower(strings.TrimSpace(raw))
	switch v {
	case "end-user", "end_user", "enduser", "end":
		v = string(identity.EndUser)
	case "agent", "admin":
	default:
		return invalid("role must be end-user, agent or admin, not %q", raw)
	}
	t.Value = v
	return nil
}

func parseExternalID(t *Term, raw string, _ bool) error {
	t.Value = strings.ToLower(strings.TrimSpace(raw))
	return nil
}

func parseCustomField(t *Term, raw string, _ bool) error {
	id, err := strconv.ParseInt(strings.TrimPrefix(t.Key, "custom_field_"), 10, 64)
	if err != nil || id <= 0 {
		return invalid("%s is not a custom field keyword; write custom_field_<field id>:value", t.Key)
	}
	t.Field = id
	t.Value = strings.ToLower(strings.TrimSpace(raw))
	return nil
}

// parseTime reads a date (2026-11-01), an ISO time (2026-11-01T10:00:00Z) or a relative
// time (4hours, 2days, 1week, 3months); none when allowed.
func parseTime(allowNone bool) func(*Term, string, bool) error {
	return func(t *Term, raw string, _ bool) error {
		v := strings.TrimSpace(raw)
		lv := strings.ToLower(v)
		if lv == "none" {
			if !allowNone || t.Op != Eq {
				return invalid("%s%snone is not a valid comparison", t.Key, t.Op)
			}
			t.Value, t.Time = lv, &TimeValue{None: true}
			return nil
		}
		tv, ok := readTime(v)
		if !ok {
			return invalid("%s%s%s: write a date (2026-11-01), a time (2026-11-01T10:00:00Z) or a time ago (4hours, 2days, 1week, 3months)", t.Key, t.Op, v)
		}
		t.Value, t.Time = lv, tv
		return nil
	}
}

func readTime(v string) (*TimeValue, bool) {
	if d, err := time.Parse("2006-01-02", v); err == nil {
		return &TimeValue{From: d, To: d.AddDate(0, 0, 1)}, true
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if at, err := time.Parse(layout, v); err == nil {
			at = at.UTC().Truncate(time.Second)
			return &TimeValue{From: at, To: at.Add(time.Second)}, true
		}
	}
	// Relative: digits then a unit, singular or plural.
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == 0 || i > 6 {
		return nil, false
	}
	n, _ := strconv.Atoi(v[:i])
	unit := strings.TrimSuffix(strings.ToLower(v[i:]), "s")
	switch unit {
	case "minute", "hour", "day", "week", "month", "year":
		return &TimeValue{Ago: n, Unit: unit}, n > 0
	case "min":
		return &TimeValue{Ago: n, Unit: "minute"}, n > 0
	}
	return nil, false
}
