package assist

import (
	"context"
	"strconv"
	"strings"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// allowedActions is the closed set of macro actions the AI may carry out: field changes
// and the comment. Assigning, sharing and notifying stay with people and triggers.
var allowedActions = map[string]bool{
	"status": true, "priority": true, "type": true, "group_id": true,
	"set_tags": true, "current_tags": true, "remove_tags": true,
	"comment_value": true, "comment_value_html": true, "comment_mode_is_public": true,
}

// aiAction reports whether the AI may carry out a macro action.
func aiAction(field string) bool {
	return allowedActions[field] || strings.HasPrefix(field, "custom_fields_")
}

// aiMacro returns the macro with only the actions the AI may carry out.
func aiMacro(m *rules.Macro) *rules.Macro {
	c := *m
	c.Actions = nil
	for _, a := range m.Actions {
		if aiAction(a.Field) {
			c.Actions = append(c.Actions, a)
		}
	}
	return &c
}

// minCite is the confidence an article needs to be cited in a reply.
const minCite = 0.2

// maxCited is how many articles a reply cites.
const maxCited = 2

// plan is what applying a suggested macro would do, with the reply text.
type plan struct {
	Macro    *rules.Macro
	Changes  ticket.Patch
	Body     string
	Articles []ArticleSuggestion
	Lang     string
	Conf     float64
}

// planReply picks the first suggested macro that has a comment in the requester's
// language and renders it for t, with links to the cited articles. ok is false when
// no macro qualifies.
func (s *Service) planReply(ctx context.Context, q store.Queryer, acct *account.Account, t *ticket.Ticket, sg *Suggestions, actor ids.User) (*plan, bool, error) {
	for _, ms := range sg.Macros {
		m, err := rules.GetMacro(ctx, q, acct.ID, ms.ID)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		res := rules.ApplyMacro(ctx, q, acct, aiMacro(m), t, actor, s.requestURL)
		if res.Comment == nil || strings.TrimSpace(res.Comment.Body+res.Comment.HTMLBody) == "" {
			continue
		}
		body := strings.TrimSpace(res.Comment.Body)
		if body == "" {
			body = ticket.PlainText(res.Comment.HTMLBody)
		}
		ml := DetectLanguage(body)
		if sg.Lang != LangUnknown && ml != LangUnknown && ml != sg.Lang {
			continue // a reply in another language than the requester's is never suggested
		}
		p := &plan{Macro: m, Changes: res.Changes, Lang: sg.Lang, Conf: ms.Confidence}
		if p.Lang == LangUnknown {
			p.Lang = ml
		}
		for _, a := range sg.Articles {
			if a.Confidence >= minCite && len(p.Articles) < maxCited {
				p.Articles = append(p.Articles, a)
			}
		}
		p.Body = body + citations(p.Articles, p.Lang)
		return p, true, nil
	}
	return nil, false, nil
}

// citations renders links to the cited articles in the reply's language.
func citations(arts []ArticleSuggestion, lang string) string {
	if len(arts) == 0 {
		return ""
	}
	var b strings.Builder
	if lang == LangFR {
		b.WriteString("\n\nCes articles peuvent vous aider :")
	} else {
		b.WriteString("\n\nThese articles may help:")
	}
	for _, a := range arts {
		b.WriteString("\n- " + a.Title + " " + a.URL)
	}
	return b.String()
}

// buildReply is the suggested reply of sg (nil when no macro qualifies).
func (s *Service) buildReply(ctx context.Context, q store.Queryer, acct *account.Account, t *ticket.Ticket, sg *Suggestions, agent ids.User) (*Reply, error) {
	p, ok, err := s.planReply(ctx, q, acct, t, sg, agent)
	if err != nil || !ok {
		return nil, err
	}
	r := &Reply{Body: p.Body, MacroID: p.Macro.ID, Confidence: p.Conf, Lang: p.Lang, ArticleIDs: []int64{}}
	for _, a := range p.Articles {
		r.ArticleIDs = append(r.ArticleIDs, a.ID)
	}
	return r, nil
}

// requestURL is a ticket's page in the help center (macro placeholders).
func (s *Service) requestURL(a *account.Account, id ids.Ticket) string {
	return strings.TrimRight(s.cfg.AccountURL(a.Subdomain), "/") + "/hc/requests/" + strconv.FormatInt(int64(id), 10)
}

// SendSuggested sends the ticket's suggested reply as the agent's public reply, with
// the macro's allowed actions, and records the reply as accepted (the sidebar's
// one-click "Send this reply").
func (s *Service) SendSuggested(ctx context.Context, acct *account.Account, agent ticket.Actor, tk ids.Ticket) error {
	t, err := s.Suggestible(ctx, acct, agent, tk)
	if err != nil {
		return err
	}
	sg, err := s.suggest(ctx, s.db.R(), acct, t, agent.UserID)
	if err != nil {
		return err
	}
	p, ok, err := s.planReply(ctx, s.db.R(), acct, t, sg, agent.UserID)
	if err != nil {
		return err
	}
	if !ok {
		return errs.E(errs.Conflict, "there is no suggested reply for this ticket any more")
	}
	if err := s.recordShown(ctx, acct.ID, t.ID, sg); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		patch := p.Changes
		patch.Comment = &ticket.CommentInput{Body: p.Body, Public: ticket.Ptr(true)}
		patch.MacroIDs = []int64{p.Macro.ID}
		if _, err := s.tickets.Write(ctx, tx, acct, agent, t.ID, &patch); err != nil {
			return err
		}
		return decide(ctx, tx, acct.ID, t.ID, KindReply, "", strconv.FormatInt(p.Macro.ID, 10), Accepted, agent.UserID)
	})
}
