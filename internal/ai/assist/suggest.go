package assist

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/kb"
	"tandem/internal/kb/rank"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Suggestion kinds, as recorded in ai_suggestions.
const (
	KindField   = "field"
	KindMacro   = "macro"
	KindArticle = "article"
	KindReply   = "reply"
)

// Outcomes of a suggestion.
const (
	Shown      = "shown"
	Accepted   = "accepted"
	Edited     = "edited"
	Overridden = "overridden"
	Ignored    = "ignored"
)

// MaxSuggested is how many macros and articles are suggested.
const MaxSuggested = 3

// FieldSuggestion is a predicted value of a ticket field.
type FieldSuggestion struct {
	// Field is "group_id", "priority", "type", "tags" or "custom_field_ID".
	Field string
	// Target is the model's target name (for tags "tags:NAME").
	Target     string
	Value      string
	Confidence float64
	// Applied is true when the ticket already has the value.
	Applied bool
}

// MacroSuggestion is a macro an agent would likely apply.
type MacroSuggestion struct {
	ID         int64
	Title      string
	Confidence float64
}

// ArticleSuggestion is an article the requester may read that likely answers.
type ArticleSuggestion struct {
	ID         int64
	Title      string
	Locale     string
	URL        string // absolute html_url (the account's configured base URL)
	Path       string // html_url's path, for surfaces that know the request's host
	Confidence float64
}

// Reply is a suggested reply: the top macro's comment and links to the cited articles,
// in the requester's language.
type Reply struct {
	Body       string
	MacroID    int64
	ArticleIDs []int64
	Confidence float64
	Lang       string
}

// Suggestions are what the AI suggests for one ticket.
type Suggestions struct {
	ModelVersion int64
	Fields       []FieldSuggestion
	Macros       []MacroSuggestion
	Articles     []ArticleSuggestion
	Reply        *Reply
	// Lang is the requester's language as detected ("" unknown).
	Lang string
}

// ticketText is what the models read of a ticket: its subject and first comment.
func ticketText(t *ticket.Ticket) string {
	r := ai.Record{Subject: t.Subject, Body: t.Description}
	return r.Text()
}

// langOf is the analysis language of a detected language code.
func langOf(code string) rank.Lang {
	if code == LangFR {
		return rank.French
	}
	return rank.English
}

// Suggest returns the suggestions for a ticket the viewer (staff) may see, and records
// them as shown. Another account's ticket, or one the agent's restriction hides, is not
// found; end users get none.
func (s *Service) Suggest(ctx context.Context, acct *account.Account, viewer ticket.Actor, id ids.Ticket) (*Suggestions, error) {
	if !viewer.IsStaff() {
		return nil, errs.NotFoundf("ticket %d not found", id)
	}
	q := s.db.R()
	t, _, err := ticket.GetVisible(ctx, q, acct.ID, viewer, id)
	if err != nil {
		return nil, err
	}
	sg, err := s.suggest(ctx, q, acct, t, viewer.UserID)
	if err != nil {
		return nil, err
	}
	if err := s.recordShown(ctx, acct.ID, t.ID, sg); err != nil {
		return nil, err
	}
	return sg, nil
}

// suggest computes the suggestions for t (no access check).
func (s *Service) suggest(ctx context.Context, q store.Queryer, acct *account.Account, t *ticket.Ticket, agent ids.User) (*Suggestions, error) {
	text := ticketText(t)
	lang := DetectLanguage(text)
	sg := &Suggestions{Lang: lang}
	var models *ai.Models
	if s.cfg.Models != nil {
		m, ok, err := s.cfg.Models.Current(ctx, acct.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			models = m
			sg.ModelVersion = m.Version
		}
	}
	rl := langOf(lang)
	if models != nil {
		sg.Fields = fieldSuggestions(models, t, text, rl)
		macros, err := s.macroSuggestions(ctx, q, acct.ID, models, text, rl)
		if err != nil {
			return nil, err
		}
		sg.Macros = macros
	}
	requester, err := identity.Get(ctx, q, acct.ID, t.RequesterID)
	if err != nil {
		return nil, err
	}
	arts, err := s.articleSuggestions(ctx, q, acct, requester, models, text, lang)
	if err != nil {
		return nil, err
	}
	sg.Articles = arts
	sg.Reply, err = s.buildReply(ctx, q, acct, t, sg, agent)
	if err != nil {
		return nil, err
	}
	return sg, nil
}

// fieldSuggestions predicts every field target of the models, sorted by field.
func fieldSuggestions(m *ai.Models, t *ticket.Ticket, text string, lang rank.Lang) []FieldSuggestion {
	names := make([]string, 0, len(m.Targets))
	for n := range m.Targets {
		if n != ai.TargetMacro && n != ai.TargetArticle {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out []FieldSuggestion
	for _, n := range names {
		c := m.Targets[n]
		if c == nil || len(c.Labels) == 0 {
			continue
		}
		top := c.Top(text, lang)
		f := FieldSuggestion{Target: n, Field: n, Value: top.Label, Confidence: top.P}
		switch {
		case strings.HasPrefix(n, ai.TargetTags+":"):
			if top.Label != "yes" {
				continue // only a tag the model would add is a suggestion
			}
			f.Field, f.Value = ai.TargetTags, strings.TrimPrefix(n, ai.TargetTags+":")
			f.Applied = slices.Contains(t.Tags, f.Value)
		case n == ai.TargetGroup:
			f.Applied = strconv.FormatInt(int64(t.GroupID), 10) == top.Label
		case n == ai.TargetPriority:
			f.Applied = t.Priority == top.Label
		case n == ai.TargetType:
			f.Applied = t.Type == top.Label
		case strings.HasPrefix(n, "custom_field_"):
			fid, err := strconv.ParseInt(strings.TrimPrefix(n, "custom_field_"), 10, 64)
			if err != nil {
				continue
			}
			f.Applied = fmt.Sprint(t.CustomFields[fid]) == top.Label
		default:
			continue
		}
		out = append(out, f)
	}
	return out
}

// shareable reports whether a macro may be suggested: active and not personal.
func shareable(m *rules.Macro) bool {
	return m.Active && (m.Restriction == nil || m.Restriction.Type != "User")
}

// macroSuggestions are the macro model's most likely macros that still exist and are
// shared, up to MaxSuggested.
func (s *Service) macroSuggestions(ctx context.Context, q store.Queryer, acct ids.Account, m *ai.Models, text string, lang rank.Lang) ([]MacroSuggestion, error) {
	c := m.Targets[ai.TargetMacro]
	if c == nil {
		return nil, nil
	}
	var out []MacroSuggestion
	for _, p := range c.Predict(text, lang) {
		if len(out) == MaxSuggested {
			break
		}
		id, err := strconv.ParseInt(p.Label, 10, 64)
		if err != nil {
			continue
		}
		mac, err := rules.GetMacro(ctx, q, acct, id)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if shareable(mac) {
			out = append(out, MacroSuggestion{ID: mac.ID, Title: mac.Title, Confidence: p.P})
		}
	}
	return out, nil
}

// articleSuggestions ranks the articles the requester may read with the knowledge
// base's ranker (which indexes learned phrasings), reranked by the account's embeddings
// when its model server offers them, each in the requester's language when translated.
// Confidence is the article model's probability when it knows the article, else the
// article's share of the ranker's score among the candidates.
func (s *Service) articleSuggestions(ctx context.Context, q store.Queryer, acct *account.Account, requester *identity.User, m *ai.Models, text, lang string) ([]ArticleSuggestion, error) {
	v, err := kb.ViewerOf(ctx, q, requester)
	if err != nil {
		return nil, err
	}
	res, _, err := s.kb.Search(ctx, acct.ID, v, kb.Query{Text: text}, 0, 10)
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, nil
	}
	res = s.rerank(ctx, acct, text, res)
	var total float64
	for _, r := range res {
		total += r.Score
	}
	var probs map[string]float64
	if m != nil && m.Targets[ai.TargetArticle] != nil {
		probs = map[string]float64{}
		for _, p := range m.Targets[ai.TargetArticle].Predict(text, langOf(lang)) {
			probs[p.Label] = p.P
		}
	}
	want := requester.Locale
	if lang != LangUnknown && rank.LangOf(want) != langOf(lang) {
		want = lang
	}
	base := strings.TrimRight(s.cfg.AccountURL(acct.Subdomain), "/")
	var out []ArticleSuggestion
	for _, r := range res {
		if len(out) == MaxSuggested {
			break
		}
		tr := r.Translation
		if list, err := kb.Translations(ctx, q, acct.ID, kb.OfArticle, int64(r.Article.ID)); err == nil {
			if p := pickLang(list, want); p != nil && v.CanRead(r.Article, p) {
				tr = p
			}
		}
		if !v.CanRead(r.Article, tr) {
			continue
		}
		conf := 0.0
		if total > 0 {
			conf = r.Score / total
		}
		if p, ok := probs[strconv.FormatInt(int64(r.Article.ID), 10)]; ok {
			conf = p
		}
		path := "/hc/" + tr.Locale + "/articles/" + strconv.FormatInt(int64(r.Article.ID), 10) + "-" + kb.Slug(tr.Title)
		out = append(out, ArticleSuggestion{ID: int64(r.Article.ID), Title: tr.Title, Locale: tr.Locale, Confidence: conf, URL: base + path, Path: path})
	}
	return out, nil
}

// pickLang returns the translation in want's locale, else one in its language
// ("fr-ca" for "fr"), else nil.
func pickLang(list []*kb.Translation, want string) *kb.Translation {
	prefix := func(l string) string {
		l = strings.ToLower(l)
		if i := strings.IndexAny(l, "-_"); i > 0 {
			return l[:i]
		}
		return l
	}
	var same *kb.Translation
	for _, t := range list {
		if strings.EqualFold(t.Locale, want) {
			return t
		}
		if same == nil && prefix(t.Locale) == prefix(want) {
			same = t
		}
	}
	return same
}

// percent renders a probability as a whole percentage, for pages.
func percent(p float64) int { return int(p*100 + 0.5) }

// Percent is the confidence as a whole percentage.
func (f FieldSuggestion) Percent() int { return percent(f.Confidence) }

// Percent is the confidence as a whole percentage.
func (m MacroSuggestion) Percent() int { return percent(m.Confidence) }

// Percent is the confidence as a whole percentage.
func (a ArticleSuggestion) Percent() int { return percent(a.Confidence) }

// Percent is the confidence as a whole percentage.
func (r *Reply) Percent() int { return percent(r.Confidence) }

// Percent is the live precision as a whole percentage.
func (p Precision) Percent() int { return percent(p.Rate()) }

// Percent is the intent's confidence as a whole percentage.
func (a *Attempt) Percent() int { return percent(a.Confidence) }
