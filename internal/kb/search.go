package kb

import (
	"context"
	"fmt"
	"html"
	"strings"
	"sync"

	"tandem/internal/ids"
	"tandem/internal/kb/rank"
	"tandem/internal/store"
)

// The Service keeps one rank.Index per account, built from the database on first use
// and rebuilt when the account's articles change. A change made by this process drops
// the index when it commits; a change made by another process (PostgreSQL, several
// servers) is noticed by the version query each search runs, which reads only the
// indexes' tails.

type acctIndex struct {
	build    sync.Mutex // one build at a time per account
	version  [6]int64
	ix       *rank.Index
	articles map[ArticleID]*Article
	trans    map[int64]*Translation // by translation id (the rank.Doc id)
	category map[SectionID]CategoryID
}

func (s *Service) invalidate(acct ids.Account) {
	s.mu.Lock()
	if ai := s.indexes[acct]; ai != nil {
		ai.version = [6]int64{-1}
	}
	s.mu.Unlock()
}

func version(ctx context.Context, q store.Queryer, acct ids.Account) ([6]int64, error) {
	var v [6]int64
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM kb_articles WHERE account_id = ?), (SELECT COALESCE(MAX(updated_at), 0) FROM kb_articles WHERE account_id = ?),
		(SELECT COUNT(*) FROM kb_translations WHERE account_id = ?), (SELECT COALESCE(MAX(updated_at), 0) FROM kb_translations WHERE account_id = ?),
		(SELECT COUNT(*) FROM kb_phrasings WHERE account_id = ?), (SELECT COUNT(*) FROM kb_sections WHERE account_id = ?)`,
		acct, acct, acct, acct, acct, acct).Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5])
	if err != nil {
		return v, fmt.Errorf("kb: index version: %w", err)
	}
	return v, nil
}

// index returns the account's current index, building it when needed.
func (s *Service) index(ctx context.Context, acct ids.Account) (*acctIndex, error) {
	s.mu.Lock()
	ai := s.indexes[acct]
	if ai == nil {
		ai = &acctIndex{version: [6]int64{-1}}
		s.indexes[acct] = ai
	}
	s.mu.Unlock()
	ai.build.Lock()
	defer ai.build.Unlock()
	v, err := version(ctx, s.db.R(), acct)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	fresh := ai.version == v && ai.ix != nil
	s.mu.Unlock()
	if fresh {
		return ai, nil
	}
	next, err := s.load(ctx, acct)
	if err != nil {
		return nil, err
	}
	next.version = v
	s.mu.Lock()
	ai.ix, ai.articles, ai.trans, ai.category, ai.version = next.ix, next.articles, next.trans, next.category, v
	s.mu.Unlock()
	return ai, nil
}

// PlainText turns article HTML into the text that is indexed and shown in snippets.
func (s *Service) PlainText(h string) string {
	return strings.Join(strings.Fields(html.UnescapeString(s.text.Sanitize(strings.NewReplacer("<", " <", ">", "> ").Replace(h)))), " ")
}

func (s *Service) load(ctx context.Context, acct ids.Account) (*acctIndex, error) {
	ai := &acctIndex{articles: map[ArticleID]*Article{}, trans: map[int64]*Translation{}, category: map[SectionID]CategoryID{}}
	q := s.db.R()
	arts, err := Articles(ctx, q, acct, ArticleFilter{})
	if err != nil {
		return nil, err
	}
	for _, a := range arts {
		ai.articles[a.ID] = a
	}
	secs, err := Sections(ctx, q, acct, 0)
	if err != nil {
		return nil, err
	}
	for _, sc := range secs {
		ai.category[sc.ID] = sc.CategoryID
	}
	tr, err := TranslationsOf(ctx, q, acct, OfArticle)
	if err != nil {
		return nil, err
	}
	phr, err := Phrasings(ctx, q, acct)
	if err != nil {
		return nil, err
	}
	var docs []rank.Doc
	for aid, list := range tr {
		for _, t := range list {
			ai.trans[t.ID] = t
			docs = append(docs, rank.Doc{ID: t.ID, Locale: t.Locale, Title: t.Title, Body: s.PlainText(t.Body), Phrasings: phr[ArticleID(aid)]})
		}
	}
	ai.ix = rank.Build(docs)
	return ai, nil
}

// Phrasings loads the learned phrasings of the account's articles, by article.
func Phrasings(ctx context.Context, q store.Queryer, acct ids.Account) (map[ArticleID][]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT article_id, text FROM kb_phrasings WHERE account_id = ? ORDER BY id`, acct)
	if err != nil {
		return nil, fmt.Errorf("kb: phrasings: %w", err)
	}
	defer rows.Close()
	out := map[ArticleID][]string{}
	for rows.Next() {
		var id ArticleID
		var t string
		if err := rows.Scan(&id, &t); err != nil {
			return nil, fmt.Errorf("kb: phrasings: %w", err)
		}
		out[id] = append(out[id], t)
	}
	return out, rows.Err()
}

// Query is an article search.
type Query struct {
	Text     string
	Locale   string // "" searches every locale
	Category CategoryID
	Section  SectionID
	Labels   []string // every one must be on the article
	// Exclude leaves one article out (related articles).
	Exclude ArticleID
}

// Result is a ranked article in one locale with its snippet (HTML-escaped text with
// the matched words in <em>).
type Result struct {
	Article     *Article
	Translation *Translation
	Score       float64
	Snippet     string
}

// Search ranks the articles the viewer may read for q, best first, and returns the
// page of them from offset (at most limit) with the total count. It is the one ranker
// behind the help center, the API, deflection and the agent sidebar.
func (s *Service) Search(ctx context.Context, acct ids.Account, v Viewer, q Query, offset, limit int) ([]Result, int, error) {
	ai, err := s.index(ctx, acct)
	if err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	ix, arts, trans, cats := ai.ix, ai.articles, ai.trans, ai.category
	s.mu.Unlock()
	loc, _ := NormalizeLocale(q.Locale)
	lang := rank.LangOf(loc)
	hits := ix.Search(rank.Query{Text: q.Text, Lang: lang, Allow: func(id int64) bool {
		t := trans[id]
		if t == nil || loc != "" && t.Locale != loc {
			return false
		}
		a := arts[ArticleID(t.SourceID)]
		if a == nil || a.ID == q.Exclude || !v.CanRead(a, t) {
			return false
		}
		if q.Section != 0 && a.SectionID != q.Section || q.Category != 0 && cats[a.SectionID] != q.Category {
			return false
		}
		for _, l := range q.Labels {
			if !a.HasLabel(l) {
				return false
			}
		}
		return true
	}})
	if loc == "" {
		hits = firstPerArticle(hits, trans)
	}
	total := len(hits)
	if offset >= total {
		return nil, total, nil
	}
	hits = hits[offset:min(total, offset+limit)]
	out := make([]Result, len(hits))
	for i, h := range hits {
		t := trans[h.ID]
		out[i] = Result{Article: arts[ArticleID(t.SourceID)], Translation: t, Score: h.Score, Snippet: ix.Snippet(h.ID, q.Text, rank.LangOf(t.Locale))}
	}
	return out, total, nil
}

// firstPerArticle keeps each article's best-ranked translation.
func firstPerArticle(hits []rank.Hit, trans map[int64]*Translation) []rank.Hit {
	seen := map[int64]bool{}
	out := hits[:0]
	for _, h := range hits {
		a := trans[h.ID].SourceID
		if !seen[a] {
			seen[a] = true
			out = append(out, h)
		}
	}
	return out
}

// Related returns up to n articles like a, for its page.
func (s *Service) Related(ctx context.Context, acct ids.Account, v Viewer, a *Article, t *Translation, n int) ([]Result, error) {
	res, _, err := s.Search(ctx, acct, v, Query{Text: t.Title + " " + strings.Join(a.Labels, " "), Locale: t.Locale, Exclude: a.ID}, 0, n)
	return res, err
}
