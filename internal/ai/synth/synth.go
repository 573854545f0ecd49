// Package synth is "tandem-synth", the seeded synthetic help desk of the AI layer's
// benchmark (docs/AI.md): a small world of intents in groups, each with a macro (a
// public reply and field changes), zero to two help center articles (some intents have
// none, some articles are stale), a usual priority and tags; and a timeline of tickets
// written from paraphrase templates with slot fillers and realistic noise (typos,
// greetings and signatures, quoted mail, forwarded chains, a share of French,
// multi-intent, out-of-scope and prompt-injection tickets, angry customers), Zipf
// intent frequencies and drift (a new intent in month 5, a macro reworded in month 4).
//
// Every ticket carries its ground truth. Templates are split between the training and
// the test period (the last months use phrasings never seen earlier), so a replay
// measures generalisation rather than template recall.
//
// Generate builds the world in memory (World.Records gives []ai.Record for fast
// benchmarks); Seed (seed.go) writes it into an account through the real write paths.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"tandem/internal/ai"
	"tandem/internal/ids"
)

// Config sets the size and mix of a generated world. Zero fields take the defaults.
type Config struct {
	Seed    uint64
	Tickets int // default 2,000
	// Months is the length of the timeline (default 8); tickets are spread evenly.
	Months int
	// Start is the first ticket's month (default 2026-01-01 UTC).
	Start time.Time
	// PerIntent, when positive, caps the tickets of each intent (cold-start runs:
	// 10 examples per intent); out-of-scope tickets keep their share.
	PerIntent int
	// Shares of the ticket mix (defaults: 10% French, 5% multi-intent, 10% out of
	// scope, 1% prompt injection, 8% angry).
	French, Multi, OutOfScope, Injection, Angry float64
	// IntentField is the id of the intent dropdown custom field in Records (default
	// 1: the records' intent target is ai.CustomFieldTarget(IntentField)).
	IntentField int64
}

func (c Config) withDefaults() Config {
	if c.Tickets <= 0 {
		c.Tickets = 2000
	}
	if c.Months <= 0 {
		c.Months = 8
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
		*v = max(*v, 0)
	}
	def(&c.French, 0.10)
	def(&c.Multi, 0.05)
	def(&c.OutOfScope, 0.10)
	def(&c.Injection, 0.01)
	def(&c.Angry, 0.08)
	if c.IntentField == 0 {
		c.IntentField = 1
	}
	return c
}

// OtherIntent is the intent value humans set on tickets no intent fits (out of scope).
const OtherIntent = "other"

// Group is a team tickets are routed to. IDs in a generated world are 1..n; Seed
// maps them to the account's.
type Group struct {
	ID   int64
	Name string
	Tag  string
}

// Macro is an intent's canned answer: a public reply and the fields it sets.
type Macro struct {
	ID       int64
	Intent   string
	Title    string
	Body     string // {{name}} is the requester's first name, {{article}} the article link line
	Reworded string // the body from RewordedAt on ("" if it never changes)
	// RewordedAt is when Reworded replaced Body (zero if never).
	RewordedAt time.Time
	Status     string // the status the macro sets: solved or pending
	Tags       []string
}

// Article is a help center article.
type Article struct {
	ID     int64
	Intent string
	Locale string
	Title  string
	Body   string
	// Stale articles contradict their intent's macro: agents do not link them.
	Stale bool
}

// Intent is a kind of request.
type Intent struct {
	Key        string
	Group      int64
	Priority   string
	Type       string
	Restricted bool
	Tags       []string
	Macro      int64
	Articles   []int64 // 0 to 2; the first answers the intent
	// From is when the intent first occurs (zero: from the start).
	From   time.Time
	weight float64
	spec   *intentSpec
}

// Truth is what really happened with a ticket.
type Truth struct {
	Intent     string // OtherIntent for out-of-scope tickets
	Second     string // the other intent of a multi-intent ticket
	Group      int64
	Priority   string
	Tags       []string
	Macro      int64 // the macro the agent used, 0 if none
	Article    int64 // the article the agent linked, 0 if none
	OutOfScope bool
	Multi      bool
	Injection  bool
	Angry      bool
	French     bool
	// TestPhrasing is true when the ticket was written from a test-period template.
	TestPhrasing bool
	// SafeToAutoResolve: an in-scope, unrestricted, calm, single-intent ticket that the
	// macro answered in one reply without a reopen.
	SafeToAutoResolve bool
}

// Ticket is one generated ticket: what the models may learn from, and its truth.
type Ticket struct {
	ai.Record
	RequesterName  string
	RequesterEmail string
	Truth          Truth
}

// World is a generated help desk.
type World struct {
	Config   Config
	Groups   []Group
	Intents  []*Intent
	Macros   []Macro
	Articles []Article
	Tickets  []Ticket
	// TestFrom is when test-period templates start being used.
	TestFrom time.Time
}

// IntentTarget is the records' intent target (ai.CustomFieldTarget of IntentField).
func (w *World) IntentTarget() string { return ai.CustomFieldTarget(w.Config.IntentField) }

// Intent returns the intent with the key, or nil.
func (w *World) Intent(key string) *Intent {
	for _, in := range w.Intents {
		if in.Key == key {
			return in
		}
	}
	return nil
}

// Records returns the tickets as the models see them (sharing the tickets' labels).
func (w *World) Records() []ai.Record {
	out := make([]ai.Record, len(w.Tickets))
	for i := range w.Tickets {
		out[i] = w.Tickets[i].Record
	}
	return out
}

// Generate builds a world from cfg, deterministically for a given seed.
func Generate(cfg Config) *World {
	cfg = cfg.withDefaults()
	r := rand.New(rand.NewPCG(cfg.Seed, 0x7a6e64656d))
	w := &World{Config: cfg}
	month := func(i int) time.Time { return cfg.Start.AddDate(0, i, 0) }
	end := month(cfg.Months)
	// The last quarter of the timeline (at least the last two months) is the test period.
	testMonths := max(2, cfg.Months/4)
	w.TestFrom = month(cfg.Months - testMonths)
	if cfg.Months <= testMonths {
		w.TestFrom = cfg.Start
	}

	groupIx := map[string]int64{}
	for i, g := range groupNames {
		id := int64(i + 1)
		groupIx[g] = id
		w.Groups = append(w.Groups, Group{ID: id, Name: g, Tag: strings.ToLower(g)})
	}
	// Zipf weights over a shuffled order of intents.
	order := r.Perm(len(intentSpecs))
	for n, i := range order {
		sp := &intentSpecs[i]
		in := &Intent{Key: sp.Key, Group: groupIx[sp.Group], Priority: sp.Priority, Type: sp.Type, Restricted: sp.Restricted,
			Tags: []string{strings.ToLower(sp.Group), "intent__" + sp.Key}, spec: sp, weight: 1 / math.Pow(float64(n+1), 0.9)}
		if sp.Key == driftIntent && cfg.Months >= 6 {
			in.From = month(4)
		}
		w.Intents = append(w.Intents, in)
	}
	// Macros and articles, in the specs' order so ids are stable.
	for _, sp := range intentSpecs {
		in := w.Intent(sp.Key)
		m := Macro{ID: int64(len(w.Macros) + 1), Intent: sp.Key, Title: sp.Group + ": " + strings.TrimSuffix(sp.Title, "?"),
			Body:   "Hi {{name}},\n\n" + sp.Answer + "{{article}}\n\nKind regards,\nAcme Outfitters support",
			Status: "solved", Tags: []string{"macro__" + sp.Key}}
		if sp.Restricted || sp.Type == "task" {
			m.Status = "pending"
		}
		if sp.Key == rewordedIntent && cfg.Months >= 5 {
			m.Reworded = "Hi {{name}},\n\n" + rewordedAnswer + "{{article}}\n\nKind regards,\nAcme Outfitters support"
			m.RewordedAt = month(3)
		}
		in.Macro = m.ID
		w.Macros = append(w.Macros, m)
	}
	for n, sp := range intentSpecs {
		in := w.Intent(sp.Key)
		switch {
		case n%8 == 5: // no article: only the macro knows the answer
			continue
		case n%9 == 7: // a stale article: it contradicts the macro, agents do not link it
			w.addArticle(in, Article{Locale: "en-us", Title: sp.Title, Body: staleBody(sp), Stale: true})
			continue
		}
		w.addArticle(in, Article{Locale: "en-us", Title: sp.Title, Body: sp.Answer + "\n\n" + sp.Detail})
		if n%4 == 1 { // a second, related article
			w.addArticle(in, Article{Locale: "en-us", Title: sp.Group + " FAQ: more about " + strings.ToLower(strings.TrimSuffix(sp.Title, "?")), Body: sp.Detail + "\n\nStill stuck? Write to us and quote your order number."})
		}
	}

	g := &gen{w: w, r: r, cfg: cfg, perIntent: map[string]int{}}
	span := end.Sub(cfg.Start)
	for i := 0; i < cfg.Tickets; i++ {
		at := cfg.Start.Add(time.Duration(float64(span) * (float64(i) + r.Float64()) / float64(cfg.Tickets))).Truncate(time.Second)
		t, ok := g.ticket(at)
		if !ok {
			continue
		}
		t.TicketID = ids.Ticket(len(w.Tickets) + 1)
		w.Tickets = append(w.Tickets, t)
	}
	return w
}

func (w *World) addArticle(in *Intent, a Article) {
	a.ID = int64(len(w.Articles) + 1)
	a.Intent = in.Key
	in.Articles = append(in.Articles, a.ID)
	w.Articles = append(w.Articles, a)
}

// staleBody is an article that says something the macro no longer does.
func staleBody(sp intentSpec) string {
	return "This page describes our previous policy, which changed last year. " + strings.NewReplacer("30", "14", "2 to 4", "5 to 8", "24 months", "12 months", "one hour", "ten minutes").Replace(sp.Answer) + "\n\n" + sp.Detail
}

// phrasing draws a request's wording for a period: a core phrasing in a frame. The
// training period uses all but the last core phrasing and the first two thirds of the
// frames; the test period uses every core phrasing and only the other frames, so no
// test ticket's wording (core in frame) was seen in training, and one core phrasing
// per intent is new altogether. Frames are drawn per ticket, so they carry no intent.
func (g *gen) phrasing(cores, frames []string, test, holdOut bool) (core, body string) {
	nf := len(frames) * 2 / 3
	if test || !holdOut {
		core = cores[g.r.IntN(len(cores))]
		frames = frames[nf:]
	} else {
		core = cores[g.r.IntN(max(1, len(cores)-1))]
		frames = frames[:nf]
	}
	return core, strings.ReplaceAll(frames[g.r.IntN(len(frames))], "{c}", core)
}

// subjectOf is an e-mail subject for a core phrasing: its first words, or a generic one.
func subjectOf(core string, r *rand.Rand) string {
	words := strings.Fields(core)
	switch r.IntN(4) {
	case 0:
		return ""
	case 1:
		return []string{"Question", "Help needed", "Support request", "Urgent", "Hello", "Order {order}"}[r.IntN(6)]
	}
	n := min(len(words), 3+r.IntN(4))
	s := strings.Join(words[:n], " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// gen draws tickets.
type gen struct {
	w         *World
	r         *rand.Rand
	cfg       Config
	perIntent map[string]int
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

// intentAt draws an intent that exists at t, by Zipf weight, or nil when every intent
// has reached the per-intent cap.
func (g *gen) intentAt(t time.Time, not string) *Intent {
	var total float64
	for _, in := range g.w.Intents {
		if g.usable(in, t, not) {
			total += in.weight
		}
	}
	if total == 0 {
		return nil
	}
	x := g.r.Float64() * total
	var last *Intent
	for _, in := range g.w.Intents {
		if !g.usable(in, t, not) {
			continue
		}
		last = in
		if x -= in.weight; x < 0 {
			return in
		}
	}
	return last
}

func (g *gen) usable(in *Intent, t time.Time, not string) bool {
	return in.Key != not && !t.Before(in.From) && (g.cfg.PerIntent <= 0 || g.perIntent[in.Key] < g.cfg.PerIntent)
}

// fill replaces a template's slots.
func (g *gen) fill(s, order, product string) string {
	return strings.NewReplacer("{order}", order, "{product}", product, "{date}", g.pick(dates), "{amount}", g.pick(amounts)).Replace(s)
}

func (g *gen) ticket(at time.Time) (Ticket, bool) {
	r := g.r
	var t Ticket
	tr := &t.Truth
	t.CreatedAt = at
	tr.French = r.Float64() < g.cfg.French
	tr.TestPhrasing = !at.Before(g.w.TestFrom)
	first, last := g.pick(firstNames), g.pick(lastNames)
	cust := r.IntN(1500)
	t.RequesterName = first + " " + last
	t.RequesterEmail = fmt.Sprintf("%s.%s.%d@customers.test", strings.ToLower(fold(first)), strings.ToLower(last), cust)
	t.RequesterID = ids.User(10000 + cust)
	t.Channel = []string{"email", "email", "email", "web", "api"}[r.IntN(5)]
	t.Locale = "en-us"
	if tr.French {
		t.Locale = "fr"
	}
	order := fmt.Sprintf("#A%07d", 1000000+r.IntN(8999999))
	product := g.pick(products)
	t.Labels = map[string][]string{}

	if r.Float64() < g.cfg.OutOfScope {
		tr.OutOfScope, tr.Intent = true, OtherIntent
		text := g.pick(outOfScopeEN)
		if tr.French {
			text = g.pick(outOfScopeFR)
		}
		t.Subject = []string{"Question", "Hello", "Request", "", "Contact"}[r.IntN(5)]
		t.Body = g.noise(text, tr.French, order, first)
		tr.Group, tr.Priority = g.w.Groups[len(g.w.Groups)-1].ID, "normal"
		tr.Tags = []string{"general"}
		t.PublicReplies = 1 + r.IntN(2)
		t.Reply = "Hi " + first + ",\n\nThank you for your message; I have passed it to the right team, who will answer you directly.\n\nKind regards,\nAcme Outfitters support"
		g.labels(&t, "question")
		t.SolvedAt = at.Add(time.Duration(2+r.IntN(70)) * time.Hour)
		return t, true
	}

	in := g.intentAt(at, "")
	if in == nil {
		return t, false
	}
	g.perIntent[in.Key]++
	tr.Intent, tr.Group, tr.Priority = in.Key, in.Group, in.Priority
	tr.Tags = append([]string{}, in.Tags...)
	cores, frames := in.spec.EN, framesEN
	if tr.French {
		cores, frames = in.spec.FR, framesFR
	}
	core, body := g.phrasing(cores, frames, tr.TestPhrasing, !tr.French)
	body = g.fill(body, order, product)
	t.Subject = g.fill(subjectOf(core, r), order, product)
	if r.Float64() < g.cfg.Multi {
		if other := g.intentAt(at, in.Key); other != nil {
			tr.Multi, tr.Second = true, other.Key
			cores := other.spec.EN
			joiner := " Also, "
			if tr.French {
				cores, joiner = other.spec.FR, " Autre chose : "
			}
			body += joiner + g.fill(cores[r.IntN(len(cores))], order, product) + "."
		}
	}
	if r.Float64() < g.cfg.Angry {
		tr.Angry = true
		if tr.French {
			body = g.pick(angryFR) + " " + body
		} else {
			body = g.pick(angryEN) + " " + body + " " + g.pick(angryEN)
		}
		if tr.Priority == "low" || tr.Priority == "normal" {
			tr.Priority = "high"
		}
	}
	if r.Float64() < g.cfg.Injection {
		tr.Injection = true
		body += "\n\n" + g.pick(injections)
	}
	t.Body = g.noise(typos(r, body), tr.French, order, first)

	// What the agent did: usually the intent's macro (96%), linking its article when it
	// has a current one (90% of those).
	usedMacro := r.Float64() < 0.96 && !tr.Injection
	if usedMacro {
		tr.Macro = in.Macro
	}
	if len(in.Articles) > 0 && !g.w.Articles[in.Articles[0]-1].Stale && r.Float64() < 0.9 {
		tr.Article = in.Articles[0]
	}
	t.PublicReplies = 1
	if tr.Multi || tr.Angry && r.Float64() < 0.5 || tr.Injection || in.Restricted || !usedMacro && r.Float64() < 0.5 {
		t.PublicReplies = 2 + r.IntN(2)
	}
	t.Reopened = r.Float64() < 0.03
	t.Reply = g.reply(in, at, first, tr.Article, usedMacro)
	tr.SafeToAutoResolve = !tr.Multi && !tr.Injection && !tr.Angry && !in.Restricted && usedMacro && t.PublicReplies == 1 && !t.Reopened
	g.labels(&t, in.Type)
	t.SolvedAt = at.Add(time.Duration(1+r.IntN(48)) * time.Hour)
	return t, true
}

// labels fills the record's labels from the truth.
func (g *gen) labels(t *Ticket, typ string) {
	tr := &t.Truth
	t.Labels[ai.TargetGroup] = []string{strconv.FormatInt(tr.Group, 10)}
	t.Labels[ai.TargetPriority] = []string{tr.Priority}
	t.Labels[ai.TargetType] = []string{typ}
	t.Labels[ai.TargetTags] = tr.Tags
	t.Labels[g.w.IntentTarget()] = []string{tr.Intent}
	if tr.Macro != 0 {
		t.Labels[ai.TargetMacro] = []string{strconv.FormatInt(tr.Macro, 10)}
	}
	if tr.Article != 0 {
		t.Labels[ai.TargetArticle] = []string{strconv.FormatInt(tr.Article, 10)}
	}
}

// reply is the agent's first public reply: the macro (as worded at the time) or a
// hand-written answer, with the article link.
func (g *gen) reply(in *Intent, at time.Time, name string, article int64, usedMacro bool) string {
	m := g.w.Macros[in.Macro-1]
	body := m.Body
	if m.Reworded != "" && !at.Before(m.RewordedAt) {
		body = m.Reworded
	}
	if !usedMacro {
		body = "Hello {{name}},\n\nThanks for getting in touch. " + in.spec.Answer + "{{article}}\n\nBest,\nSam"
	}
	link := ""
	if article != 0 {
		link = "\n\nMore in our help center: " + ArticlePath(article)
	}
	return strings.NewReplacer("{{name}}", name, "{{article}}", link).Replace(body)
}

// ArticlePath is the help center path of an article (what kb.LinkedArticles finds).
func ArticlePath(id int64) string { return "/hc/en-us/articles/" + strconv.FormatInt(id, 10) }

// noise wraps a request in what e-mail adds: greetings, signatures, quoted or
// forwarded mail.
func (g *gen) noise(body string, french bool, order, name string) string {
	r := g.r
	var b strings.Builder
	if r.Float64() < 0.5 {
		if french {
			b.WriteString(g.pick(greetingsFR))
		} else {
			b.WriteString(g.pick(greetingsEN))
		}
		b.WriteString("\n\n")
	}
	if r.Float64() < 0.05 {
		b.WriteString("---------- Forwarded message ---------\nFrom: " + g.pick(firstNames) + " <" + strings.ToLower(fold(g.pick(firstNames))) + "@mail.test>\nSubject: Fwd: my order\n\n")
	}
	b.WriteString(body)
	if r.Float64() < 0.6 {
		b.WriteString("\n\n")
		if french {
			b.WriteString(g.pick(signoffsFR))
		} else {
			b.WriteString(g.pick(signoffsEN))
		}
		b.WriteString("\n" + name)
		if r.Float64() < 0.2 {
			b.WriteString("\nSent from my phone")
		}
	}
	if r.Float64() < 0.15 {
		b.WriteString("\n\nOn " + g.pick(dates) + ", Acme Outfitters <support@acme.test> wrote:\n> " + strings.ReplaceAll(g.fill(g.pick(quotedEN), order, ""), "\n", "\n> "))
	}
	return b.String()
}

// typos swaps or drops a letter in about 4% of the words.
func typos(r *rand.Rand, s string) string {
	words := strings.Split(s, " ")
	for i, w := range words {
		if len(w) < 4 || r.Float64() >= 0.04 || !isASCII(w) {
			continue
		}
		j := 1 + r.IntN(len(w)-2)
		if r.IntN(2) == 0 {
			words[i] = w[:j] + w[j+1:j+2] + w[j:j+1] + w[j+2:]
		} else {
			words[i] = w[:j] + w[j+1:]
		}
	}
	return strings.Join(words, " ")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// fold keeps the ASCII letters of a name (for e-mail addresses).
func fold(s string) string {
	return strings.NewReplacer("é", "e", "è", "e", "ï", "i", "ç", "c").Replace(s)
}
