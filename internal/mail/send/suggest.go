package send

import (
	"context"
	"strings"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// maxSuggestions is how many articles a mail offers, as Zendesk's autoreplies do.
const maxSuggestions = 3

// withSuggestions fills {{ticket.suggested_articles}} in text for one recipient: up to
// three articles the recipient may read, with their links, or nothing at all (no
// suggester, nothing found, or the ranker failing: a mail is never held back for it).
func (s *Service) withSuggestions(ctx context.Context, q store.Queryer, acct *account.Account, u *identity.User, t *ticket.Ticket, text string) string {
	const marker = "{{" + rules.SuggestedArticles + "}}"
	if !strings.Contains(text, marker) {
		return text
	}
	var list []Suggestion
	if s.cfg.Suggest != nil {
		var err error
		if list, err = s.cfg.Suggest(ctx, q, acct, u, t, maxSuggestions); err != nil {
			s.log.WarnContext(ctx, "mail: suggest articles", "account", acct.ID, "ticket", t.ID, "err", err)
			list = nil
		}
	}
	var b strings.Builder
	if len(list) > 0 {
		b.WriteString("While you wait, these articles may answer your question:\n\n")
		for _, a := range list[:min(len(list), maxSuggestions)] {
			b.WriteString("- " + oneLine(a.Title) + "\n  " + a.URL + "\n")
		}
		b.WriteString("\n")
	}
	return strings.ReplaceAll(text, marker, b.String())
}
