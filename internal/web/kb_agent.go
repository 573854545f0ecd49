package web

import (
	"context"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/kb"
)

// The knowledge base in the agent workspace: the article list with drafts and votes,
// the Markdown editor with a live preview rendered on the server, drafts and
// publishing, history with diffs, the ticket sidebar's suggested articles (one click
// inserts a link into the reply; the ticket write path's kb.Learn hook records it), and
// "Create article from this ticket", prefilled from the public conversation only.

func (s *Server) kbAgentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /agent/kb", s.page(staff, s.kbAgentList))
	mux.HandleFunc("POST /agent/kb/categories", s.page(staff, s.kbAgentCategory))
	mux.HandleFunc("POST /agent/kb/sections", s.page(staff, s.kbAgentSection))
	mux.HandleFunc("GET /agent/kb/new", s.page(staff, s.kbAgentNew))
	mux.HandleFunc("POST /agent/kb/articles", s.page(staff, s.kbAgentSave))
	mux.HandleFunc("GET /agent/kb/articles/{id}", s.page(staff, s.kbAgentEdit))
	mux.HandleFunc("POST /agent/kb/articles/{id}", s.page(staff, s.kbAgentSave))
	mux.HandleFunc("GET /agent/kb/articles/{id}/revisions/{rev}", s.page(staff, s.kbAgentRevision))
	mux.HandleFunc("POST /agent/kb/preview", s.page(staff, s.kbAgentPreview))
	mux.HandleFunc("GET /agent/tickets/{id}/kb/suggest", s.page(staff, s.kbTicketSuggest))
	mux.HandleFunc("GET /agent/tickets/{id}/kb/new", s.page(staff, s.kbFromTicket))
	mux.HandleFunc("GET /admin/deflection", s.page(admin, s.kbDeflection))
}

type kbAgentRow struct {
	ID      kb.ArticleID
	Title   string
	Section string
	Locales []string
	Draft   bool
	Votes   kb.Votes
	Updated time.Time
}

type kbAgentListData struct {
	Rows       []kbAgentRow
	Categories []*kbCategory
	Sections   []kbOption
}

type kbOption struct {
	ID   int64
	Name string
}

func (s *Server) kbSectionOptions(ctx context.Context, c *call) ([]kbOption, []*kbCategory, error) {
	tree, _, err := s.kbTree(ctx, c, kb.Viewer{Staff: true}, defaultLocale)
	if err != nil {
		return nil, nil, err
	}
	var opts []kbOption
	for _, kc := range tree.Categories {
		for _, ks := range kc.Sections {
			opts = append(opts, kbOption{int64(ks.ID), kc.Title + " › " + ks.Title})
		}
	}
	return opts, tree.Categories, nil
}

func (s *Server) kbAgentList(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	q := s.db.R()
	arts, err := kb.Articles(ctx, q, c.Acct.ID, kb.ArticleFilter{})
	if err != nil {
		return err
	}
	tr, err := kb.TranslationsOf(ctx, q, c.Acct.ID, kb.OfArticle)
	if err != nil {
		return err
	}
	votes, err := kb.VotesOf(ctx, q, c.Acct.ID)
	if err != nil {
		return err
	}
	d := kbAgentListData{}
	if d.Sections, d.Categories, err = s.kbSectionOptions(ctx, c); err != nil {
		return err
	}
	names := map[int64]string{}
	for _, o := range d.Sections {
		names[o.ID] = o.Name
	}
	for _, a := range arts {
		t := kb.Pick(tr[int64(a.ID)], defaultLocale, a.SourceLocale)
		if t == nil {
			continue
		}
		row := kbAgentRow{ID: a.ID, Title: t.Title, Section: names[int64(a.SectionID)], Draft: t.Draft, Votes: votes[a.ID], Updated: a.UpdatedAt}
		for _, x := range tr[int64(a.ID)] {
			row.Locales = append(row.Locales, x.Locale)
		}
		d.Rows = append(d.Rows, row)
	}
	return s.render(w, r, c, http.StatusOK, "kb_agent_list", page{Title: "Knowledge base", Area: "agent", Nav: "kb", Data: d})
}

func (s *Server) kbAgentCategory(w http.ResponseWriter, r *http.Request, c *call) error {
	name := r.PostFormValue("name")
	_, err := s.kb.SaveCategory(r.Context(), c.Acct, c.User.ID, 0, kb.CategoryIn{Locale: defaultLocale, Name: &name})
	if err != nil {
		return redirectErr(w, r, "/agent/kb", err)
	}
	return redirect(w, r, "/agent/kb", "Category added.")
}

func (s *Server) kbAgentSection(w http.ResponseWriter, r *http.Request, c *call) error {
	name := r.PostFormValue("name")
	cat, _ := strconv.ParseInt(r.PostFormValue("category_id"), 10, 64)
	cid := kb.CategoryID(cat)
	_, err := s.kb.SaveSection(r.Context(), c.Acct, c.User.ID, 0, kb.SectionIn{Locale: defaultLocale, CategoryID: &cid, Name: &name})
	if err != nil {
		return redirectErr(w, r, "/agent/kb", err)
	}
	return redirect(w, r, "/agent/kb", "Section added.")
}

type kbEditData struct {
	ID         kb.ArticleID // 0 for a new article
	Locale     string
	Title      string
	Markdown   string
	Preview    template.HTML
	Draft      bool
	SectionID  int64
	Visibility string
	Labels     string
	Promoted   bool
	Sections   []kbOption
	Locales    []string
	History    []*kb.Revision
	Votes      kb.Votes
	PublicURL  string
	FromTicket int64
	Error      string
}

func (s *Server) kbEditForm(w http.ResponseWriter, r *http.Request, c *call, status int, d *kbEditData) error {
	var err error
	if d.Sections, _, err = s.kbSectionOptions(r.Context(), c); err != nil {
		return err
	}
	d.Preview = template.HTML(s.kb.RenderMarkdown(d.Markdown)) // #nosec G203 -- rendered and sanitised by the kb service
	title := "New article"
	if d.ID != 0 {
		title = d.Title
	}
	return s.render(w, r, c, status, "kb_agent_edit", page{Title: title, Area: "agent", Nav: "kb", Data: d})
}

func (s *Server) kbAgentNew(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.kbEditForm(w, r, c, http.StatusOK, &kbEditData{Locale: defaultLocale, Draft: true, Visibility: string(kb.Everyone)})
}

// kbFromTicket opens a draft prefilled from the ticket's public conversation; internal
// notes are never copied.
func (s *Server) kbFromTicket(w http.ResponseWriter, r *http.Request, c *call) error {
	t, _, err := s.pathTicket(r, c)
	if err != nil {
		return err
	}
	cs, err := comments(r.Context(), s.db.R(), c.Acct.ID, t.ID, true)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("## The question\n\n")
	for i, cm := range cs {
		if i == 1 {
			b.WriteString("\n## The answer\n\n")
		}
		b.WriteString(strings.TrimSpace(cm.Body) + "\n\n")
	}
	return s.kbEditForm(w, r, c, http.StatusOK, &kbEditData{Locale: defaultLocale, Draft: true, Visibility: string(kb.Everyone),
		Title: t.Subject, Markdown: b.String(), FromTicket: int64(t.ID)})
}

func (s *Server) kbAgentEdit(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := leadingID(r.PathValue("id"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	a, err := kb.GetArticle(ctx, s.db.R(), c.Acct.ID, kb.ArticleID(id))
	if err != nil {
		return err
	}
	loc, ok := kb.NormalizeLocale(r.URL.Query().Get("locale"))
	if !ok {
		loc = a.SourceLocale
	}
	all, err := kb.Translations(ctx, s.db.R(), c.Acct.ID, kb.OfArticle, id)
	if err != nil {
		return err
	}
	d := &kbEditData{ID: a.ID, Locale: loc, Draft: true, SectionID: int64(a.SectionID), Visibility: string(a.Visibility),
		Labels: strings.Join(a.Labels, ", "), Promoted: a.Promoted}
	for _, t := range all {
		d.Locales = append(d.Locales, t.Locale)
		if t.Locale == loc {
			d.Title, d.Markdown, d.Draft = t.Title, t.Source, t.Draft
			if t.Source == "" {
				d.Markdown = t.Body // written as HTML (API): Markdown keeps HTML as is
			}
			d.PublicURL = articleURL(loc, a.ID, t.Title)
		}
	}
	if d.History, err = kb.Revisions(ctx, s.db.R(), c.Acct.ID, a.ID); err != nil {
		return err
	}
	if d.Votes, err = kb.VotesFor(ctx, s.db.R(), c.Acct.ID, a.ID); err != nil {
		return err
	}
	return s.kbEditForm(w, r, c, http.StatusOK, d)
}

// kbAgentSave creates an article or saves one translation and the article's settings;
// the button pressed says draft or publish.
func (s *Server) kbAgentSave(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	f := r.PostFormValue
	loc, ok := kb.NormalizeLocale(f("locale"))
	if !ok {
		loc = defaultLocale
	}
	title, md := f("title"), f("markdown")
	draft := f("action") != "publish"
	sec, _ := strconv.ParseInt(f("section_id"), 10, 64)
	secID := kb.SectionID(sec)
	vis := kb.Visibility(f("visibility"))
	promoted := f("promoted") == "on"
	labels := splitList(f("labels"))
	settings := kb.ArticleIn{Locale: loc, SectionID: &secID, Visibility: &vis, Promoted: &promoted, Labels: &labels}
	text := kb.TextIn{Title: &title, Markdown: &md, Draft: &draft}
	var id kb.ArticleID
	var err error
	if r.PathValue("id") == "" {
		settings.Text = text
		var a *kb.Article
		if a, err = s.kb.CreateArticle(ctx, c.Acct, c.User.ID, settings); err == nil {
			id = a.ID
		}
	} else {
		n, perr := leadingID(r.PathValue("id"))
		if perr != nil {
			return perr
		}
		id = kb.ArticleID(n)
		if _, err = s.kb.UpdateArticle(ctx, c.Acct, c.User.ID, id, settings); err == nil {
			_, _, err = s.kb.PutTranslation(ctx, c.Acct, c.User.ID, kb.OfArticle, int64(id), loc, text)
		}
	}
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.NotFound) && id == 0 {
		d := &kbEditData{ID: id, Locale: loc, Title: title, Markdown: md, Draft: draft, SectionID: sec, Visibility: string(vis),
			Labels: f("labels"), Promoted: promoted, Error: errorText(err)}
		return s.kbEditForm(w, r, c, http.StatusUnprocessableEntity, d)
	}
	if err != nil {
		return err
	}
	msg := "Draft saved."
	if !draft {
		msg = "Article published."
	}
	return redirect(w, r, "/agent/kb/articles/"+strconv.FormatInt(int64(id), 10)+"?locale="+loc, msg)
}

// kbAgentPreview renders the editor's Markdown as it will be shown (htmx, debounced).
func (s *Server) kbAgentPreview(w http.ResponseWriter, r *http.Request, c *call) error {
	md := r.PostFormValue("markdown")
	if len(md) > 1<<20 {
		return errs.E(errs.TooLarge, "The article is too long to preview.")
	}
	return writeHTML(w, http.StatusOK, []byte(s.kb.RenderMarkdown(md)))
}

type kbRevisionData struct {
	ArticleID kb.ArticleID
	Rev       *kb.Revision
	Prev      *kb.Revision
	Lines     []kb.DiffLine
}

// kbAgentRevision shows one version of an article against the version before it.
func (s *Server) kbAgentRevision(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := leadingID(r.PathValue("id"))
	if err != nil {
		return err
	}
	rid, err := leadingID(r.PathValue("rev"))
	if err != nil {
		return err
	}
	revs, err := kb.Revisions(r.Context(), s.db.R(), c.Acct.ID, kb.ArticleID(id))
	if err != nil {
		return err
	}
	d := kbRevisionData{ArticleID: kb.ArticleID(id)}
	for i, rv := range revs {
		if rv.ID != rid {
			continue
		}
		d.Rev = rv
		for _, older := range revs[i+1:] {
			if older.Locale == rv.Locale {
				d.Prev = older
				break
			}
		}
	}
	if d.Rev == nil {
		return errs.NotFoundf("There is no such version of this article.")
	}
	before := []string{}
	if d.Prev != nil {
		before = append([]string{"# " + d.Prev.Title}, kb.TextLines(d.Prev.Body)...)
	}
	d.Lines = kb.Diff(before, append([]string{"# " + d.Rev.Title}, kb.TextLines(d.Rev.Body)...))
	return s.render(w, r, c, http.StatusOK, "kb_agent_revision", page{Title: "Article history", Area: "agent", Nav: "kb", Data: d})
}

type kbSuggestion struct {
	Title, URL string
	Snippet    template.HTML
	Draft      bool
}

// kbTicketSuggest is the ticket sidebar's suggested articles for the ticket (the same
// ranker as the help center), each with a button that inserts its link into the reply.
func (s *Server) kbTicketSuggest(w http.ResponseWriter, r *http.Request, c *call) error {
	t, _, err := s.pathTicket(r, c)
	if err != nil {
		return err
	}
	text := r.URL.Query().Get("q")
	if text == "" {
		text = t.Subject + " " + t.Description
	}
	res, _, err := s.kb.Search(r.Context(), c.Acct.ID, kb.Viewer{UserID: c.User.ID, Staff: true}, kb.Query{Text: text}, 0, 5)
	if err != nil {
		return err
	}
	d := struct {
		TicketID ids.Ticket
		Query    string
		Items    []kbSuggestion
	}{TicketID: t.ID, Query: r.URL.Query().Get("q")}
	for _, x := range res {
		d.Items = append(d.Items, kbSuggestion{x.Translation.Title, baseURL(r) + articleURL(x.Translation.Locale, x.Article.ID, x.Translation.Title),
			template.HTML(x.Snippet), x.Translation.Draft}) // #nosec G203 -- the ranker escapes snippets
	}
	return s.renderBlock(w, c, "ticket", "kb-sidebar", d)
}

type kbDeflectionData struct {
	Days  int
	Stats kb.Deflection
}

// kbDeflection shows deflection as measured over the request form's sessions.
func (s *Server) kbDeflection(w http.ResponseWriter, r *http.Request, c *call) error {
	days, _ := strconv.Atoi(r.URL.Query().Get("days"))
	if days <= 0 || days > 365 {
		days = 30
	}
	st, err := kb.DeflectionStats(r.Context(), s.db.R(), c.Acct.ID, time.Now().AddDate(0, 0, -days))
	if err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "kb_deflection", page{Title: "Deflection", Area: "admin", Nav: "deflection", Data: kbDeflectionData{days, st}})
}
