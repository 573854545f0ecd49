package kb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	"strings"
	"sync"

	"tandem/internal/ids"
	"tandem/internal/kb/rank"
	"tandem/internal/store"
)

// The Service keeps one rank.Index per account, built from the database on first use
// and rebuilt when the account's knowledge base changes. Every write bumps the
// account's kb_state version in its transaction; each search reads that one row, so a
// change made by another process (PostgreSQL, several servers) is seen too. A rebuild
// re-reads and re-analyses only the translations whose updated_at, or whose article's
// learned phrasings, changed; the rest of the analysed documents are kept.

type acctIndex struct {
	build    sync.Mutex // one build at a time per account
	version  int64
	ix       *rank.Index
	articles map[ArticleID]*Article
	trans    map[int64]*Translation // by translation id (the rank.Doc id)
	category map[SectionID]CategoryID
	docs     map[int64]*cachedDoc // by translation id
}

// cachedDoc is an analysed translation and what it was analysed from.
type cachedDoc struct {
	updated int64
	phr     phrKey
	a       *rank.Analyzed
}

// phrKey identifies the state of an article's learned phrasings.
type phrKey struct{ n, maxID int64 }

func (s *Service) invalidate(acct ids.Account) {
	s.mu.Lock()
	if ai := s.indexes[acct]; ai != nil {
		ai.version = -1
	}
	s.mu.Unlock()
}

func version(ctx context.Context, q store.Queryer, acct ids.Account) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT version FROM kb_state WHERE account_id = ?`, acct).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("kb: index version: %w", err)
	}
	return v, nil
}

// index returns the account's current index, building it when needed, reading through
// q (a caller inside a write transaction passes it, so as not to wait for a second
// connection of a pool its own transaction may have exhausted).
func (s *Service) index(ctx context.Context, q store.Queryer, acct ids.Account) (*acctIndex, error) {
	s.mu.Lock()
	ai := s.indexes[acct]
	if ai == nil {
		ai = &acctIndex{version: -1}
		s.indexes[acct] = ai
	}
	s.mu.Unlock()
	var v int64
	var err error
	if tx, ok := q.(*store.Tx); ok {
		v, err = s.versions.Get(ctx, tx, int64(acct), func() (int64, error) { return version(ctx, q, acct) })
	} else {
		v, err = version(ctx, q, acct)
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	fresh := ai.version == v && ai.ix != nil
	s.mu.Unlock()
	if fresh {
		return ai, nil
	}
	ai.build.Lock()
	defer ai.build.Unlock()
	s.mu.Lock()
	fresh = ai.version == v && ai.ix != nil
	prev := &acctIndex{trans: ai.trans, docs: ai.docs}
	s.mu.Unlock()
	if fresh {
		return ai, nil
	}
	next, err := s.load(ctx, q, acct, prev)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	ai.ix, ai.articles, ai.trans, ai.category, ai.docs, ai.version = next.ix, next.articles, next.trans, next.category, next.docs, v
	s.mu.Unlock()
	return ai, nil
}

// PlainText turns article HTML into the text that is indexed and shown in snippets.
func (s *Service) PlainText(h string) string {
	return strings.Join(strings.Fields(html.UnescapeString(s.text.Sanitize(strings.NewReplacer("<", " <", ">", "> ").Replace(h)))), " ")
}

// loadBatch is how many rows one IN (...) query asks for.
const loadBatch = 500

func (s *Service) load(ctx context.Context, q store.Queryer, acct ids.Account, prev *acctIndex) (*acctIndex, error) {
	ai := &acctIndex{articles: map[ArticleID]*Article{}, trans: map[int64]*Translation{}, category: map[SectionID]CategoryID{}, docs: map[int64]*cachedDoc{}}
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
	// Which translations and phrasings changed since the previous build.
	stamps := map[int64][2]int64{} // translation id -> article id, updated_at
	rows, err := q.QueryContext(ctx, `SELECT id, source_id, updated_at FROM kb_translations WHERE account_id = ? AND source_type = 'article'`, acct)
	if err != nil {
		return nil, fmt.Errorf("kb: index stamps: %w", err)
	}
	for rows.Next() {
		var id, src, up int64
		if err := rows.Scan(&id, &src, &up); err != nil {
			rows.Close()
			return nil, fmt.Errorf("kb: index stamps: %w", err)
		}
		stamps[id] = [2]int64{src, up}
	}
	rows.Close()
	keys := map[ArticleID]phrKey{}
	rows, err = q.QueryContext(ctx, `SELECT article_id, COUNT(*), MAX(id) FROM kb_phrasings WHERE account_id = ? GROUP BY article_id`, acct)
	if err != nil {
		return nil, fmt.Errorf("kb: phrasing stamps: %w", err)
	}
	for rows.Next() {
		var id ArticleID
		var k phrKey
		if err := rows.Scan(&id, &k.n, &k.maxID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("kb: phrasing stamps: %w", err)
		}
		keys[id] = k
	}
	rows.Close()
	var stale []int64
	phrNeeded := map[ArticleID]bool{}
	for id, st := range stamps {
		old := prev.docs[id]
		if old == nil || old.updated != st[1] || old.phr != keys[ArticleID(st[0])] || prev.trans[id] == nil {
			stale = append(stale, id)
			if keys[ArticleID(st[0])].n > 0 {
				phrNeeded[ArticleID(st[0])] = true
			}
			continue
		}
		ai.docs[id], ai.trans[id] = old, prev.trans[id]
	}
	for i := 0; i < len(stale); i += loadBatch {
		part := stale[i:min(len(stale), i+loadBatch)]
		args := []any{acct}
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := q.QueryContext(ctx, `SELECT `+translationCols+` FROM kb_translations WHERE account_id = ? AND id IN (`+store.In(len(part))+`)`, args...)
		list, err := scanAll(rows, err, scanTranslation)
		if err != nil {
			return nil, err
		}
		for _, t := range list {
			ai.trans[t.ID] = t
		}
	}
	phr, err := phrasingsOf(ctx, q, acct, phrNeeded)
	if err != nil {
		return nil, err
	}
	for _, id := range stale {
		t := ai.trans[id]
		if t == nil {
			continue // deleted between the two reads: the next build has it right
		}
		aid := ArticleID(t.SourceID)
		ai.docs[id] = &cachedDoc{updated: store.Micros(t.UpdatedAt), phr: keys[aid],
			a: rank.Analyze(rank.Doc{ID: t.ID, Locale: t.Locale, Title: t.Title, Body: s.PlainText(t.Body), Phrasings: phr[aid]})}
	}
	list := make([]*rank.Analyzed, 0, len(ai.docs))
	for _, d := range ai.docs {
		list = append(list, d.a)
	}
	ai.ix = rank.BuildAnalyzed(list)
	return ai, nil
}

// phrasingsOf loads the learned phrasings of some articles.
func phrasingsOf(ctx context.Context, q store.Queryer, acct ids.Account, want map[ArticleID]bool) (map[ArticleID][]string, error) {
	out := map[ArticleID][]string{}
	var list []any
	for id := range want {
		list = append(list, id)
	}
	for i := 0; i < len(list); i += loadBatch {
		part := list[i:min(len(list), i+loadBatch)]
		rows, err := q.QueryContext(ctx, `SELECT article_id, text FROM kb_phrasings WHERE account_id = ? AND article_id IN (`+store.In(len(part))+`) ORDER BY id`, append([]any{acct}, part...)...)
		if err != nil {
			return nil, fmt.Errorf("kb: phrasings: %w", err)
		}
		for rows.Next() {
			var id ArticleID
			var t string
			if err := rows.Scan(&id, &t); err != nil {
				rows.Close()
				return nil, fmt.Errorf("kb: phrasings: %w", err)
			}
			out[id] = append(out[id], t)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("kb: phrasings: %w", err)
		}
	}
	return out, nil
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
	return s.SearchIn(ctx, s.db.R(), acct, v, q, offset, limit)
}

// Empty reports whether the account has no article translation to find, reading
// through db as SearchIn does (from the account's index, kept by the knowledge base's
// version): a caller that must read who the viewer is first can skip that.
func (s *Service) Empty(ctx context.Context, db store.Queryer, acct ids.Account) (bool, error) {
	ai, err := s.index(ctx, db, acct)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(ai.trans) == 0, nil
}

// SearchIn is Search reading through db, for a caller inside a write transaction (the
// acknowledgement mail's suggestions, written in the ticket's transaction).
func (s *Service) SearchIn(ctx context.Context, db store.Queryer, acct ids.Account, v Viewer, q Query, offset, limit int) ([]Result, int, error) {
	ai, err := s.index(ctx, db, acct)
	if err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	ix, arts, trans, cats := ai.ix, ai.articles, ai.trans, ai.category
	s.mu.Unlock()
	if len(trans) == 0 {
		// Nothing to find (an account without articles: every new ticket's
		// acknowledgement asks): skip tokenizing and expanding the query.
		return nil, 0, nil
	}
	loc, _ := NormalizeLocale(q.Locale)
	lang := rank.LangOf(loc)
	// Without a locale an article may match in several; its best translation counts
	// once, so the page is cut after folding them.
	pageSize, limit := limit, offset+limit
	if loc == "" {
		limit = 0
	}
	hits, total := ix.Search(rank.Query{Text: q.Text, Lang: lang, Limit: limit, Allow: func(id int64) bool {
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
		total = len(hits)
	}
	if offset >= len(hits) {
		return nil, total, nil
	}
	hits = hits[offset:min(len(hits), offset+pageSize)]
	terms := ix.TermsOf(q.Text, lang)
	out := make([]Result, len(hits))
	for i, h := range hits {
		t := trans[h.ID]
		out[i] = Result{Article: arts[ArticleID(t.SourceID)], Translation: t, Score: h.Score, Snippet: ix.Snippet(h.ID, terms)}
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
