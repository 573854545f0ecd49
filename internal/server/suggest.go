package server

import (
	"context"
	"strconv"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/kb"
	"tandem/internal/mail/send"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// suggestArticles is the mail sender's Suggest: the knowledge base's one ranker, asked
// with the ticket's subject and description as its reader (kb.Viewer.CanRead decides),
// gives the articles a new request's acknowledgement offers.
func (s *Server) suggestArticles(ctx context.Context, q store.Queryer, acct *account.Account, reader *identity.User, t *ticket.Ticket, n int) ([]send.Suggestion, error) {
	// An account without articles (most new tickets' acknowledgements ask) has nothing
	// to offer whoever reads: the reader's organizations are not read.
	if empty, err := s.KB.Empty(ctx, q, acct.ID); err != nil || empty {
		return nil, err
	}
	v, err := kb.ViewerOf(ctx, q, reader)
	if err != nil {
		return nil, err
	}
	// Through q, the ticket's transaction: on PostgreSQL the pool that transaction holds a
	// connection of may have none left for a second one.
	res, _, err := s.KB.SearchIn(ctx, q, acct.ID, v, kb.Query{Text: t.Subject + "\n" + t.Description}, 0, n)
	if err != nil {
		return nil, err
	}
	base := AccountURL(s.cfg, acct.Subdomain)
	out := make([]send.Suggestion, 0, len(res))
	for _, r := range res {
		out = append(out, send.Suggestion{Title: r.Translation.Title,
			URL: base + "/hc/" + r.Translation.Locale + "/articles/" + strconv.FormatInt(int64(r.Article.ID), 10) + "-" + kb.Slug(r.Translation.Title)})
	}
	return out, nil
}
