package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/kb"
)

// The help center's knowledge base pages: home search and categories, category,
// section and article pages at /hc/{locale}/articles/{id}-{slug}, search, the
// sitemap, "Was this article helpful?", and the request form's suggestions
// (deflection). Who may read what is kb.Viewer.CanRead, through the same ranker the
// API uses. Agent editing is in kb_agent.go.

func (s *Server) kbRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /hc/{locale}", s.page(anyone, s.kbLocaleHome))
	mux.HandleFunc("GET /hc/search", s.page(anyone, s.kbSearchPage))
	mux.HandleFunc("GET /hc/sitemap.xml", s.page(anyone, s.kbSitemap))
	mux.HandleFunc("GET /hc/{locale}/categories/{id}", s.page(anyone, s.kbCategoryPage))
	mux.HandleFunc("GET /hc/{locale}/sections/{id}", s.page(anyone, s.kbSectionPage))
	mux.HandleFunc("GET /hc/{locale}/articles/{id}", s.page(anyone, s.kbArticlePage))
	mux.HandleFunc("POST /hc/{locale}/articles/{id}/vote", s.page(anyone, s.kbVote))
	mux.HandleFunc("GET /hc/suggest", s.page(signedIn, s.kbSuggest))
	mux.HandleFunc("POST /hc/answered", s.page(signedIn, s.kbAnswered))
	s.kbAgentRoutes(mux)
	s.kbFileRoutes(mux) // kb_files.go
}

const defaultLocale = "en-us"

func (s *Server) kbViewer(ctx context.Context, c *call) (kb.Viewer, error) {
	return kb.ViewerOf(ctx, s.db.R(), c.User)
}

// pathLocale reads {locale}; an unknown form is not found.
func pathLocale(r *http.Request) (string, error) {
	l, ok := kb.NormalizeLocale(r.PathValue("locale"))
	if !ok {
		return "", errs.NotFoundf("There is no page at this address.")
	}
	return l, nil
}

// leadingID reads "12-some-slug" as 12.
func leadingID(s string) (int64, error) {
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.ParseInt(s[:end], 10, 64)
	if err != nil || n <= 0 || end < len(s) && s[end] != '-' {
		return 0, errs.NotFoundf("There is no page at this address.")
	}
	return n, nil
}

// kbLink is an article, section or category as a link.
type kbLink struct {
	Title, URL string
}

func articleURL(loc string, id kb.ArticleID, title string) string {
	return "/hc/" + loc + "/articles/" + strconv.FormatInt(int64(id), 10) + "-" + kb.Slug(title)
}

func sectionURL(loc string, id kb.SectionID, title string) string {
	return "/hc/" + loc + "/sections/" + strconv.FormatInt(int64(id), 10) + "-" + kb.Slug(title)
}

func categoryURL(loc string, id kb.CategoryID, title string) string {
	return "/hc/" + loc + "/categories/" + strconv.FormatInt(int64(id), 10) + "-" + kb.Slug(title)
}

// kbTree is the help center's categories and sections with the articles the viewer may
// read, in one locale.
type kbTree struct {
	Locale     string
	Categories []*kbCategory
}

type kbCategory struct {
	kbLink
	ID          kb.CategoryID
	Description string
	Sections    []*kbSection
}

type kbSection struct {
	kbLink
	ID          kb.SectionID
	Parent      kb.SectionID
	Description string
	Articles    []kbLink
	Category    *kbCategory
}

func (s *Server) kbTree(ctx context.Context, c *call, v kb.Viewer, loc string) (*kbTree, map[kb.SectionID]*kbSection, error) {
	q := s.db.R()
	cats, err := kb.Categories(ctx, q, c.Acct.ID)
	if err != nil {
		return nil, nil, err
	}
	secs, err := kb.Sections(ctx, q, c.Acct.ID, 0)
	if err != nil {
		return nil, nil, err
	}
	arts, err := kb.Articles(ctx, q, c.Acct.ID, kb.ArticleFilter{})
	if err != nil {
		return nil, nil, err
	}
	ctr, err := kb.TranslationsOf(ctx, q, c.Acct.ID, kb.OfCategory)
	if err != nil {
		return nil, nil, err
	}
	str, err := kb.TranslationsOf(ctx, q, c.Acct.ID, kb.OfSection)
	if err != nil {
		return nil, nil, err
	}
	atr, err := kb.TranslationsOf(ctx, q, c.Acct.ID, kb.OfArticle)
	if err != nil {
		return nil, nil, err
	}
	t := &kbTree{Locale: loc}
	byCat := map[kb.CategoryID]*kbCategory{}
	for _, cat := range cats {
		tr := kb.Pick(ctr[int64(cat.ID)], loc, cat.SourceLocale)
		kc := &kbCategory{ID: cat.ID}
		if tr != nil {
			kc.kbLink = kbLink{tr.Title, categoryURL(loc, cat.ID, tr.Title)}
			kc.Description = s.kbText(tr.Body)
		}
		byCat[cat.ID] = kc
		t.Categories = append(t.Categories, kc)
	}
	bySec := map[kb.SectionID]*kbSection{}
	for _, sec := range secs {
		tr := kb.Pick(str[int64(sec.ID)], loc, sec.SourceLocale)
		ks := &kbSection{ID: sec.ID, Parent: sec.ParentSectionID, Category: byCat[sec.CategoryID]}
		if tr != nil {
			ks.kbLink = kbLink{tr.Title, sectionURL(loc, sec.ID, tr.Title)}
			ks.Description = s.kbText(tr.Body)
		}
		bySec[sec.ID] = ks
		if kc := byCat[sec.CategoryID]; kc != nil {
			kc.Sections = append(kc.Sections, ks)
		}
	}
	for _, a := range arts {
		tr := kb.Pick(atr[int64(a.ID)], loc, a.SourceLocale)
		if tr == nil || tr.Locale != loc || !v.CanRead(a, tr) {
			continue
		}
		if ks := bySec[a.SectionID]; ks != nil {
			ks.Articles = append(ks.Articles, kbLink{tr.Title, articleURL(loc, a.ID, tr.Title)})
		}
	}
	return t, bySec, nil
}

// kbText is a description's plain text.
func (s *Server) kbText(h string) string { return s.kb.PlainText(h) }

type kbHomeData struct {
	Tree  *kbTree
	Query string
}

func (s *Server) kbLocaleHome(w http.ResponseWriter, r *http.Request, c *call) error {
	loc, err := pathLocale(r)
	if err != nil {
		return err
	}
	v, err := s.kbViewer(r.Context(), c)
	if err != nil {
		return err
	}
	tree, _, err := s.kbTree(r.Context(), c, v, loc)
	if err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "kb_home", page{Title: "Help center", Area: "hc", Nav: "kb", Data: kbHomeData{Tree: tree}})
}

// kbHomeTree is what the help center's home page shows of the knowledge base.
func (s *Server) kbHomeTree(ctx context.Context, c *call) (*kbTree, error) {
	v, err := s.kbViewer(ctx, c)
	if err != nil {
		return nil, err
	}
	t, _, err := s.kbTree(ctx, c, v, defaultLocale)
	return t, err
}

type kbListData struct {
	Crumbs  []kbLink
	Title   string
	Text    string
	Section *kbSection
	Subs    []*kbSection
	Cat     *kbCategory
}

// kbListPage reads a category or section page's locale and id, and the help center
// tree as the viewer may see it.
func (s *Server) kbListPage(r *http.Request, c *call) (string, int64, *kbTree, map[kb.SectionID]*kbSection, error) {
	loc, err := pathLocale(r)
	if err != nil {
		return "", 0, nil, nil, err
	}
	id, err := leadingID(r.PathValue("id"))
	if err != nil {
		return "", 0, nil, nil, err
	}
	v, err := s.kbViewer(r.Context(), c)
	if err != nil {
		return "", 0, nil, nil, err
	}
	tree, secs, err := s.kbTree(r.Context(), c, v, loc)
	return loc, id, tree, secs, err
}

func (s *Server) kbCategoryPage(w http.ResponseWriter, r *http.Request, c *call) error {
	loc, id, tree, _, err := s.kbListPage(r, c)
	if err != nil {
		return err
	}
	for _, kc := range tree.Categories {
		if int64(kc.ID) == id {
			d := kbListData{Crumbs: []kbLink{{"Help center", "/hc/" + loc}}, Title: kc.Title, Text: kc.Description, Cat: kc}
			return s.render(w, r, c, http.StatusOK, "kb_list", page{Title: kc.Title, Area: "hc", Nav: "kb", Data: d})
		}
	}
	return errs.NotFoundf("There is no page at this address.")
}

func (s *Server) kbSectionPage(w http.ResponseWriter, r *http.Request, c *call) error {
	loc, id, _, secs, err := s.kbListPage(r, c)
	if err != nil {
		return err
	}
	ks := secs[kb.SectionID(id)]
	if ks == nil || ks.Category == nil {
		return errs.NotFoundf("There is no page at this address.")
	}
	d := kbListData{Crumbs: s.crumbs(loc, ks.Category, secs, ks.Parent), Title: ks.Title, Text: ks.Description, Section: ks}
	for _, x := range ks.Category.Sections {
		if x.Parent == ks.ID {
			d.Subs = append(d.Subs, x)
		}
	}
	return s.render(w, r, c, http.StatusOK, "kb_list", page{Title: ks.Title, Area: "hc", Nav: "kb", Data: d})
}

// crumbs is the breadcrumb trail down to (and including) section parent.
func (s *Server) crumbs(loc string, kc *kbCategory, secs map[kb.SectionID]*kbSection, parent kb.SectionID) []kbLink {
	var chain []kbLink
	for p, n := parent, 0; p != 0 && n < 20; n++ {
		ps := secs[p]
		if ps == nil {
			break
		}
		chain = append([]kbLink{ps.kbLink}, chain...)
		p = ps.Parent
	}
	out := []kbLink{{"Help center", "/hc/" + loc}}
	if kc != nil {
		out = append(out, kc.kbLink)
	}
	return append(out, chain...)
}

// articleCrumbs is an article page's trail: the help center, its category, and its
// sections from the outermost down, read one by one (an article page does not load the
// whole help center).
func (s *Server) articleCrumbs(ctx context.Context, c *call, loc string, sec kb.SectionID) ([]kbLink, error) {
	q := s.db.R()
	name := func(typ kb.SourceType, id int64, source string) (string, error) {
		list, err := kb.Translations(ctx, q, c.Acct.ID, typ, id)
		if t := kb.Pick(list, loc, source); t != nil {
			return t.Title, err
		}
		return "", err
	}
	var chain []kbLink
	var cat kb.CategoryID
	for n := 0; sec != 0 && n < 20; n++ {
		ks, err := kb.GetSection(ctx, q, c.Acct.ID, sec)
		if err != nil {
			break
		}
		title, err := name(kb.OfSection, int64(ks.ID), ks.SourceLocale)
		if err != nil {
			return nil, err
		}
		chain = append([]kbLink{{title, sectionURL(loc, ks.ID, title)}}, chain...)
		cat, sec = ks.CategoryID, ks.ParentSectionID
	}
	out := []kbLink{{"Help center", "/hc/" + loc}}
	if kc, err := kb.GetCategory(ctx, q, c.Acct.ID, cat); err == nil {
		title, err := name(kb.OfCategory, int64(kc.ID), kc.SourceLocale)
		if err != nil {
			return nil, err
		}
		out = append(out, kbLink{title, categoryURL(loc, kc.ID, title)})
	}
	return append(out, chain...), nil
}

type kbArticleData struct {
	Crumbs    []kbLink
	Article   *kb.Article
	T         *kb.Translation
	Body      template.HTML
	Canonical string
	Related   []kbLink
	Others    []kbLink // the article in other locales
	Voted     string
	Votes     kb.Votes
	Files     []kbFile // the article's attachments (kb_files.go)
}

func (s *Server) kbArticlePage(w http.ResponseWriter, r *http.Request, c *call) error {
	loc, err := pathLocale(r)
	if err != nil {
		return err
	}
	id, err := leadingID(r.PathValue("id"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	v, err := s.kbViewer(ctx, c)
	if err != nil {
		return err
	}
	a, err := kb.GetArticle(ctx, s.db.R(), c.Acct.ID, kb.ArticleID(id))
	if err != nil {
		return errs.NotFoundf("There is no page at this address.")
	}
	all, err := kb.Translations(ctx, s.db.R(), c.Acct.ID, kb.OfArticle, id)
	if err != nil {
		return err
	}
	t := kb.Pick(all, loc, a.SourceLocale)
	if t == nil || t.Locale != loc || !v.CanRead(a, t) {
		if c.User == nil && t != nil && t.Locale == loc && !t.Draft && a.Visibility != kb.AgentsOnly {
			// Signed-in readers may see it: offer to sign in, as Zendesk does.
			http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return nil
		}
		return errs.NotFoundf("There is no page at this address.")
	}
	d := kbArticleData{Article: a, T: t, Body: template.HTML(s.kb.Sanitize(t.Body)), // #nosec G203 -- sanitised just now
		Canonical: baseURL(r) + articleURL(loc, a.ID, t.Title), Voted: r.URL.Query().Get("voted")}
	if d.Crumbs, err = s.articleCrumbs(ctx, c, loc, a.SectionID); err != nil {
		return err
	}
	for _, o := range all {
		if o.Locale != loc && v.CanRead(a, o) {
			d.Others = append(d.Others, kbLink{o.Locale, articleURL(o.Locale, a.ID, o.Title)})
		}
	}
	rel, err := s.kb.Related(ctx, c.Acct.ID, v, a, t, 5)
	if err != nil {
		return err
	}
	for _, x := range rel {
		d.Related = append(d.Related, kbLink{x.Translation.Title, articleURL(x.Translation.Locale, x.Article.ID, x.Translation.Title)})
	}
	if d.Files, err = s.kbFiles(r, c.Acct.ID, a.ID); err != nil {
		return err
	}
	if c.IsStaff() {
		if d.Votes, err = kb.VotesFor(ctx, s.db.R(), c.Acct.ID, a.ID); err != nil {
			return err
		}
	}
	return s.render(w, r, c, http.StatusOK, "kb_article", page{Title: t.Title, Area: "hc", Nav: "kb", Data: d})
}

// kbVote answers "Was this article helpful?" (a reason may come with "no"). Signed-in
// users have one vote each; visitors' answers are counted one by one.
func (s *Server) kbVote(w http.ResponseWriter, r *http.Request, c *call) error {
	loc, err := pathLocale(r)
	if err != nil {
		return err
	}
	id, err := leadingID(r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := s.kbViewer(r.Context(), c)
	if err != nil {
		return err
	}
	a, err := kb.GetArticle(r.Context(), s.db.R(), c.Acct.ID, kb.ArticleID(id))
	if err != nil {
		return errs.NotFoundf("There is no page at this address.")
	}
	all, err := kb.Translations(r.Context(), s.db.R(), c.Acct.ID, kb.OfArticle, id)
	if err != nil {
		return err
	}
	t := kb.Pick(all, loc, a.SourceLocale)
	if !v.CanRead(a, t) {
		return errs.NotFoundf("There is no page at this address.")
	}
	value := 1
	if r.PostFormValue("helpful") == "no" {
		value = -1
	}
	var uid = v.UserID
	if _, err := s.kb.Vote(r.Context(), c.Acct.ID, uid, a.ID, value, strings.TrimSpace(r.PostFormValue("reason"))); err != nil {
		return err
	}
	voted := "yes"
	if value < 0 {
		voted = "no"
	}
	http.Redirect(w, r, articleURL(t.Locale, a.ID, t.Title)+"?voted="+voted+"#helpful", http.StatusSeeOther)
	return nil
}

type kbSearchData struct {
	Crumbs  []kbLink
	Query   string
	Locale  string
	Results []kbResult
	Total   int
	Page    int
	Pages   int
}

type kbResult struct {
	kbLink
	ID      kb.ArticleID
	Snippet template.HTML
}

const kbSearchPageSize = 20

func (s *Server) kbSearchPage(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	loc, ok := kb.NormalizeLocale(q.Get("locale"))
	if !ok {
		loc = defaultLocale
	}
	pg, _ := strconv.Atoi(q.Get("page"))
	pg = max(1, min(pg, 500))
	v, err := s.kbViewer(r.Context(), c)
	if err != nil {
		return err
	}
	d := kbSearchData{Crumbs: []kbLink{{"Help center", "/hc/" + loc}}, Query: q.Get("query"), Locale: loc, Page: pg}
	if strings.TrimSpace(d.Query) != "" {
		res, total, err := s.kb.Search(r.Context(), c.Acct.ID, v, kb.Query{Text: d.Query, Locale: loc}, (pg-1)*kbSearchPageSize, kbSearchPageSize)
		if err != nil {
			return err
		}
		d.Total, d.Pages = total, (total+kbSearchPageSize-1)/kbSearchPageSize
		for _, x := range res {
			d.Results = append(d.Results, kbResult{kbLink{x.Translation.Title, articleURL(loc, x.Article.ID, x.Translation.Title)}, x.Article.ID, template.HTML(x.Snippet)}) // #nosec G203 -- the ranker escapes snippets
		}
	}
	return s.render(w, r, c, http.StatusOK, "kb_search", page{Title: "Search results", Area: "hc", Nav: "kb", Data: d})
}

// kbSitemap lists the articles anyone may read, for search engines.
func (s *Server) kbSitemap(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	arts, err := kb.Articles(ctx, s.db.R(), c.Acct.ID, kb.ArticleFilter{})
	if err != nil {
		return err
	}
	tr, err := kb.TranslationsOf(ctx, s.db.R(), c.Acct.ID, kb.OfArticle)
	if err != nil {
		return err
	}
	type loc struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod"`
	}
	var set struct {
		XMLName xml.Name `xml:"urlset"`
		NS      string   `xml:"xmlns,attr"`
		URLs    []loc    `xml:"url"`
	}
	set.NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
	for _, a := range arts {
		for _, t := range tr[int64(a.ID)] {
			if kb.Public(a, t) {
				set.URLs = append(set.URLs, loc{baseURL(r) + articleURL(t.Locale, a.ID, t.Title), t.UpdatedAt.UTC().Format(time.RFC3339)})
			}
		}
	}
	b, err := xml.MarshalIndent(set, "", " ")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, err = w.Write(append([]byte(xml.Header), b...))
	return err
}

// newDeflectionSession is the opaque token a request form carries, so its suggestions,
// "answered" clicks and submission count as one session.
func newDeflectionSession() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type kbSuggestData struct {
	Session string
	Results []kbResult
	CSRF    string
}

// kbSuggest answers the request form as the subject is typed: up to three articles.
func (s *Server) kbSuggest(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	text := q.Get("subject")
	d := kbSuggestData{Session: q.Get("ds"), CSRF: c.CSRF}
	if len(strings.TrimSpace(text)) >= 3 {
		v, err := s.kbViewer(r.Context(), c)
		if err != nil {
			return err
		}
		res, _, err := s.kb.Search(r.Context(), c.Acct.ID, v, kb.Query{Text: text, Locale: defaultLocale}, 0, 3)
		if err != nil {
			return err
		}
		for _, x := range res {
			d.Results = append(d.Results, kbResult{kbLink{x.Translation.Title, articleURL(x.Translation.Locale, x.Article.ID, x.Translation.Title)}, x.Article.ID, template.HTML(x.Snippet)}) // #nosec G203 -- the ranker escapes snippets
		}
		if len(res) > 0 {
			if err := s.kb.RecordDeflection(r.Context(), c.Acct.ID, d.Session, kb.Shown, 0); err != nil {
				return err
			}
		}
	}
	return s.renderBlock(w, c, "hc_new", "kb-suggestions", d)
}

// kbAnswered is "This answered my question": counted, and the form is closed.
func (s *Server) kbAnswered(w http.ResponseWriter, r *http.Request, c *call) error {
	id, _ := strconv.ParseInt(r.PostFormValue("article_id"), 10, 64)
	if err := s.kb.RecordDeflection(r.Context(), c.Acct.ID, r.PostFormValue("ds"), kb.Answered, kb.ArticleID(id)); err != nil {
		return err
	}
	return redirect(w, r, "/hc", "Glad it helped. Your request was not sent; come back any time.")
}
