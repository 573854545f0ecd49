package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/kb"
)

// The Help Center API (/api/v2/help_center/**): categories, sections, articles,
// translations, votes, labels and article search, in Zendesk's shapes. Every path also
// answers under a locale (/api/v2/help_center/fr/articles), which helpCenterLocale
// strips before routing. Articles change their title and body through translations, as
// Zendesk's do; visibility is kb.Viewer.CanRead, asked for every article returned.

func (s *Server) helpCenterRoutes(mux *routeMux) {
	const p = "/api/v2/help_center"
	for _, typ := range []string{"categories", "sections", "articles"} {
		mux.HandleFunc("GET "+p+"/"+typ+"/{id}/translations", s.h(anyone, s.hcTranslations))
		mux.HandleFunc("GET "+p+"/"+typ+"/{id}/translations/missing", s.h(agent, s.hcMissingTranslations))
		mux.HandleFunc("GET "+p+"/"+typ+"/{id}/translations/{locale}", s.h(anyone, s.hcTranslation))
		mux.HandleFunc("POST "+p+"/"+typ+"/{id}/translations", s.h(agent, s.hcPutTranslation))
		mux.HandleFunc("PUT "+p+"/"+typ+"/{id}/translations/{locale}", s.h(agent, s.hcPutTranslation))
	}
	mux.HandleFunc("DELETE "+p+"/translations/{id}", s.h(agent, s.hcDeleteTranslation))

	mux.HandleFunc("GET "+p+"/categories", s.h(anyone, s.hcCategories))
	mux.HandleFunc("POST "+p+"/categories", s.h(agent, s.hcSaveCategory))
	mux.HandleFunc("GET "+p+"/categories/{id}", s.h(anyone, s.hcCategory))
	mux.HandleFunc("PUT "+p+"/categories/{id}", s.h(agent, s.hcSaveCategory))
	mux.HandleFunc("DELETE "+p+"/categories/{id}", s.h(agent, s.hcDelete(kb.OfCategory)))

	mux.HandleFunc("GET "+p+"/sections", s.h(anyone, s.hcSections))
	mux.HandleFunc("GET "+p+"/categories/{id}/sections", s.h(anyone, s.hcSections))
	mux.HandleFunc("POST "+p+"/categories/{id}/sections", s.h(agent, s.hcSaveSection))
	mux.HandleFunc("GET "+p+"/sections/{id}", s.h(anyone, s.hcSection))
	mux.HandleFunc("PUT "+p+"/sections/{id}", s.h(agent, s.hcSaveSection))
	mux.HandleFunc("DELETE "+p+"/sections/{id}", s.h(agent, s.hcDelete(kb.OfSection)))

	mux.HandleFunc("GET "+p+"/articles", s.h(anyone, s.hcArticles))
	mux.HandleFunc("GET "+p+"/categories/{id}/articles", s.h(anyone, s.hcArticles))
	mux.HandleFunc("GET "+p+"/sections/{id}/articles", s.h(anyone, s.hcArticles))
	mux.HandleFunc("POST "+p+"/sections/{id}/articles", s.h(agent, s.hcCreateArticle))
	mux.HandleFunc("GET "+p+"/articles/search", s.h(anyone, s.hcSearch))
	mux.HandleFunc("GET "+p+"/articles/labels", s.h(agent, s.hcLabels))
	mux.HandleFunc("GET "+p+"/articles/{id}", s.h(anyone, s.hcArticle))
	mux.HandleFunc("PUT "+p+"/articles/{id}", s.h(agent, s.hcUpdateArticle))
	mux.HandleFunc("DELETE "+p+"/articles/{id}", s.h(agent, s.hcDelete(kb.OfArticle)))
	mux.HandleFunc("GET "+p+"/articles/{id}/labels", s.h(anyone, s.hcArticleLabels))
	mux.HandleFunc("POST "+p+"/articles/{id}/labels", s.h(agent, s.hcAddLabel))
	mux.HandleFunc("POST "+p+"/articles/{id}/up", s.h(endUser, s.hcVote(1)))
	mux.HandleFunc("POST "+p+"/articles/{id}/down", s.h(endUser, s.hcVote(-1)))
	mux.HandleFunc("GET "+p+"/articles/{id}/votes", s.h(agent, s.hcVotes))
	s.articleAttachmentRoutes(mux, p) // helpcenter_attachments.go
}

type hcLocaleKey struct{}

// hcResources are the words after /api/v2/help_center/ that are not locales.
var hcResources = map[string]bool{"categories": true, "sections": true, "articles": true, "translations": true, "votes": true, "search": true}

// helpCenterLocale routes /api/v2/help_center/{locale}/... as /api/v2/help_center/...
// with the locale in the request's context (a ServeMux pattern cannot have a wildcard
// where other patterns have words).
func helpCenterLocale(next http.Handler) http.Handler {
	const p = "/api/v2/help_center/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, p); ok {
			if loc, tail, ok := strings.Cut(rest, "/"); ok && !hcResources[loc] {
				if l, valid := kb.NormalizeLocale(loc); valid {
					r = r.WithContext(context.WithValue(r.Context(), hcLocaleKey{}, l))
					r.URL.Path = p + tail
					r.URL.RawPath = ""
				}
			}
		}
		// articles/attachments/{id} would clash with articles/{id}/attachments in a
		// ServeMux: it is routed as article_attachments/{id} (helpcenter_attachments.go).
		if rest, ok := strings.CutPrefix(r.URL.Path, p+"articles/attachments/"); ok {
			r.URL.Path = p + "article_attachments/" + rest
			r.URL.RawPath = ""
		}
		next.ServeHTTP(w, r)
	})
}

// hcLocale is the locale the request asks for (path, then ?locale=), or "".
func hcLocale(r *http.Request) string {
	if l, ok := r.Context().Value(hcLocaleKey{}).(string); ok {
		return l
	}
	if l, ok := kb.NormalizeLocale(r.URL.Query().Get("locale")); ok {
		return l
	}
	return ""
}

func (s *Server) viewer(ctx context.Context, c *Call) (kb.Viewer, error) {
	return kb.ViewerOf(ctx, s.db.R(), c.User)
}

func (c *Call) actorID() ids.User {
	if c.User == nil {
		return 0
	}
	return c.User.ID
}

// hcPage is an offset page of a help center list (Zendesk's default 30, at most 100).
type hcPage struct{ page, size int }

func parseHCPage(r *http.Request) (hcPage, error) {
	p := hcPage{page: 1, size: 30}
	q := r.URL.Query()
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, errs.E(errs.BadRequest, "per_page must be a whole number from 1 to 100")
		}
		p.size = min(n, 100)
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return p, errs.E(errs.BadRequest, "page must be a whole number from 1 to 10000")
		}
		p.page = n
	}
	return p, nil
}

func (p hcPage) offset() int { return (p.page - 1) * p.size }

// writeHCList writes a page of items with Zendesk's offset pagination keys.
func writeHCList(w http.ResponseWriter, r *http.Request, key string, items any, total int, p hcPage) {
	body := map[string]any{key: items, "count": total, "page": p.page, "per_page": p.size,
		"page_count": (total + p.size - 1) / p.size, "next_page": nil, "previous_page": nil}
	link := func(page int) string {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(page))
		q.Set("per_page", strconv.Itoa(p.size))
		u.RawQuery = q.Encode()
		return baseURL(r) + u.RequestURI()
	}
	if p.page*p.size < total {
		body["next_page"] = link(p.page + 1)
	}
	if p.page > 1 {
		body["previous_page"] = link(p.page - 1)
	}
	writeJSON(w, http.StatusOK, body)
}

func pageOf[T any](list []T, p hcPage) []T {
	if p.offset() >= len(list) {
		return []T{}
	}
	return list[p.offset():min(len(list), p.offset()+p.size)]
}

// ---- JSON shapes

func hcURL(c *Call, typ string, id int64, loc string) string {
	if loc != "" {
		return c.URL("/api/v2/help_center/" + loc + "/" + typ + "/" + strconv.FormatInt(id, 10) + ".json")
	}
	return c.URL("/api/v2/help_center/" + typ + "/" + strconv.FormatInt(id, 10) + ".json")
}

func renderTranslation(c *Call, t *kb.Translation) map[string]any {
	typ := map[kb.SourceType]string{kb.OfArticle: "articles", kb.OfSection: "sections", kb.OfCategory: "categories"}[t.SourceType]
	return map[string]any{
		"id": t.ID, "url": c.URL("/api/v2/help_center/" + typ + "/" + strconv.FormatInt(t.SourceID, 10) + "/translations/" + t.Locale + ".json"),
		"html_url":  c.URL("/hc/" + t.Locale + "/" + typ + "/" + strconv.FormatInt(t.SourceID, 10) + "-" + kb.Slug(t.Title)),
		"source_id": t.SourceID, "source_type": string(t.SourceType), "locale": t.Locale, "title": t.Title, "body": t.Body,
		"draft": t.Draft, "outdated": t.Outdated, "hidden": false,
		"created_by_id": nullID(t.CreatedByID), "updated_by_id": nullID(t.UpdatedByID),
		"created_at": ts(t.CreatedAt), "updated_at": ts(t.UpdatedAt),
	}
}

func renderCategory(c *Call, cat *kb.Category, t *kb.Translation) map[string]any {
	m := map[string]any{"id": cat.ID, "url": hcURL(c, "categories", int64(cat.ID), ""), "position": cat.Position,
		"source_locale": cat.SourceLocale, "outdated": false, "created_at": ts(cat.CreatedAt), "updated_at": ts(cat.UpdatedAt)}
	textKeys(c, m, "categories", int64(cat.ID), t, "name", "description")
	return m
}

func renderSection(c *Call, sec *kb.Section, t *kb.Translation) map[string]any {
	m := map[string]any{"id": sec.ID, "url": hcURL(c, "sections", int64(sec.ID), ""), "category_id": sec.CategoryID,
		"parent_section_id": nullID(sec.ParentSectionID), "position": sec.Position, "sorting": "manual", "theme_template": "section_page",
		"source_locale": sec.SourceLocale, "outdated": false, "created_at": ts(sec.CreatedAt), "updated_at": ts(sec.UpdatedAt)}
	textKeys(c, m, "sections", int64(sec.ID), t, "name", "description")
	return m
}

func textKeys(c *Call, m map[string]any, typ string, id int64, t *kb.Translation, title, body string) {
	if t == nil {
		m[title], m[body], m["locale"], m["html_url"] = "", "", "", nil
		return
	}
	m[title], m[body], m["locale"] = t.Title, t.Body, t.Locale
	m["html_url"] = c.URL("/hc/" + t.Locale + "/" + typ + "/" + strconv.FormatInt(id, 10) + "-" + kb.Slug(t.Title))
	if t.Outdated {
		m["outdated"] = true
	}
}

// segmentIDs stands in for Zendesk's user segments: null is everyone, as in Zendesk;
// the other visibilities get fixed ids (visibility says which, by name).
var segmentIDs = map[kb.Visibility]any{kb.Everyone: nil, kb.SignedIn: 1, kb.AgentsOnly: 2, kb.Organizations: 3}

func renderArticle(c *Call, a *kb.Article, t *kb.Translation, all []*kb.Translation, v kb.Votes) map[string]any {
	outdated := []string{}
	for _, x := range all {
		if x.Outdated {
			outdated = append(outdated, x.Locale)
		}
	}
	labels := a.Labels
	if labels == nil {
		labels = []string{}
	}
	orgs := idList(a.OrgIDs)
	m := map[string]any{
		"id": a.ID, "url": hcURL(c, "articles", int64(a.ID), t.Locale), "author_id": nullID(a.AuthorID),
		"comments_disabled": a.CommentsDisabled, "draft": t.Draft, "promoted": a.Promoted, "position": a.Position,
		"vote_sum": v.Sum, "vote_count": v.Count, "section_id": a.SectionID,
		"created_at": ts(a.CreatedAt), "updated_at": ts(a.UpdatedAt), "edited_at": ts(a.EditedAt),
		"title": t.Title, "body": t.Body, "locale": t.Locale, "source_locale": a.SourceLocale,
		"outdated": t.Outdated, "outdated_locales": outdated, "label_names": labels,
		"permission_group_id": 1, "user_segment_id": segmentIDs[a.Visibility], "content_tag_ids": []int64{},
		"visibility": string(a.Visibility), "organization_ids": orgs,
		"html_url": c.URL("/hc/" + t.Locale + "/articles/" + strconv.FormatInt(int64(a.ID), 10) + "-" + kb.Slug(t.Title)),
	}
	return m
}

// ---- categories and sections

func (s *Server) hcCategories(w http.ResponseWriter, r *http.Request, c *Call) error {
	p, err := parseHCPage(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	list, err := kb.Categories(ctx, s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	tr, err := kb.TranslationsOf(ctx, s.db.R(), c.Acct.ID, kb.OfCategory)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, cat := range pageOf(list, p) {
		out = append(out, renderCategory(c, cat, kb.Pick(tr[int64(cat.ID)], hcLocale(r), cat.SourceLocale)))
	}
	writeHCList(w, r, "categories", out, len(list), p)
	return nil
}

func (s *Server) hcCategory(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	cat, err := kb.GetCategory(r.Context(), s.db.R(), c.Acct.ID, kb.CategoryID(id))
	if err != nil {
		return err
	}
	tr, err := kb.Translations(r.Context(), s.db.R(), c.Acct.ID, kb.OfCategory, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"category": renderCategory(c, cat, kb.Pick(tr, hcLocale(r), cat.SourceLocale))})
	return nil
}

type hcTextIn struct {
	Locale      optStr  `json:"locale"`
	Name        optStr  `json:"name"`
	Description optStr  `json:"description"`
	Title       optStr  `json:"title"`
	Body        optStr  `json:"body"`
	Draft       optBool `json:"draft"`
	Outdated    optBool `json:"outdated"`
	Position    *int    `json:"position"`
}

func boolPtr(o optBool) *bool {
	if !o.Set {
		return nil
	}
	return &o.Value
}

func (s *Server) decodeHC(r *http.Request, key string, v any) error {
	var raw map[string]json.RawMessage
	body, err := s.readBody(r)
	if err != nil {
		return err
	}
	if err := decodeBytes(body, &raw); err != nil {
		return err
	}
	if _, ok := raw[key]; !ok {
		return errs.E(errs.BadRequest, `The request body needs a "%s" object`, key)
	}
	if string(raw[key]) == "null" {
		return errs.E(errs.BadRequest, `The request body needs a "%s" object`, key)
	}
	return decodeBytes(raw[key], v)
}

func (s *Server) hcSaveCategory(w http.ResponseWriter, r *http.Request, c *Call) error {
	var id int64
	if r.PathValue("id") != "" {
		var err error
		if id, err = pathID(r, "id"); err != nil {
			return err
		}
	}
	var in hcTextIn
	if err := s.decodeHC(r, "category", &in); err != nil {
		return err
	}
	loc := in.Locale.Value
	if loc == "" {
		loc = hcLocale(r)
	}
	cat, err := s.kb.SaveCategory(r.Context(), c.Acct, c.actorID(), kb.CategoryID(id), kb.CategoryIn{Locale: loc, Name: strPtr(in.Name), Description: strPtr(in.Description), Position: in.Position})
	if err != nil {
		return err
	}
	tr, err := kb.Translations(r.Context(), s.db.R(), c.Acct.ID, kb.OfCategory, int64(cat.ID))
	if err != nil {
		return err
	}
	body := map[string]any{"category": renderCategory(c, cat, kb.Pick(tr, loc, cat.SourceLocale))}
	if id == 0 {
		peopleCreated(w, c, "/api/v2/help_center/categories/"+strconv.FormatInt(int64(cat.ID), 10)+".json", body)
		return nil
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) hcSections(w http.ResponseWriter, r *http.Request, c *Call) error {
	p, err := parseHCPage(r)
	if err != nil {
		return err
	}
	var cat int64
	if r.PathValue("id") != "" {
		if cat, err = pathID(r, "id"); err != nil {
			return err
		}
		if _, err := kb.GetCategory(r.Context(), s.db.R(), c.Acct.ID, kb.CategoryID(cat)); err != nil {
			return err
		}
	}
	list, err := kb.Sections(r.Context(), s.db.R(), c.Acct.ID, kb.CategoryID(cat))
	if err != nil {
		return err
	}
	tr, err := kb.TranslationsOf(r.Context(), s.db.R(), c.Acct.ID, kb.OfSection)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, sec := range pageOf(list, p) {
		out = append(out, renderSection(c, sec, kb.Pick(tr[int64(sec.ID)], hcLocale(r), sec.SourceLocale)))
	}
	writeHCList(w, r, "sections", out, len(list), p)
	return nil
}

func (s *Server) hcSection(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sec, err := kb.GetSection(r.Context(), s.db.R(), c.Acct.ID, kb.SectionID(id))
	if err != nil {
		return err
	}
	tr, err := kb.Translations(r.Context(), s.db.R(), c.Acct.ID, kb.OfSection, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"section": renderSection(c, sec, kb.Pick(tr, hcLocale(r), sec.SourceLocale))})
	return nil
}

func (s *Server) hcSaveSection(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		hcTextIn
		CategoryID      optID `json:"category_id"`
		ParentSectionID optID `json:"parent_section_id"`
	}
	if err := s.decodeHC(r, "section", &in); err != nil {
		return err
	}
	loc := in.Locale.Value
	if loc == "" {
		loc = hcLocale(r)
	}
	si := kb.SectionIn{Locale: loc, Name: strPtr(in.Name), Description: strPtr(in.Description), Position: in.Position}
	creating := r.Method == http.MethodPost
	var secID kb.SectionID
	if creating {
		cat := kb.CategoryID(id)
		if _, err := kb.GetCategory(r.Context(), s.db.R(), c.Acct.ID, cat); err != nil {
			return err
		}
		si.CategoryID = &cat
	} else {
		secID = kb.SectionID(id)
		if in.CategoryID.Set {
			cat := kb.CategoryID(in.CategoryID.Value)
			si.CategoryID = &cat
		}
	}
	if in.ParentSectionID.Set {
		ps := kb.SectionID(in.ParentSectionID.Value)
		si.ParentSectionID = &ps
	}
	sec, err := s.kb.SaveSection(r.Context(), c.Acct, c.actorID(), secID, si)
	if err != nil {
		return err
	}
	tr, err := kb.Translations(r.Context(), s.db.R(), c.Acct.ID, kb.OfSection, int64(sec.ID))
	if err != nil {
		return err
	}
	body := map[string]any{"section": renderSection(c, sec, kb.Pick(tr, loc, sec.SourceLocale))}
	if creating {
		peopleCreated(w, c, "/api/v2/help_center/sections/"+strconv.FormatInt(int64(sec.ID), 10)+".json", body)
		return nil
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) hcDelete(typ kb.SourceType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := s.kb.Delete(r.Context(), c.Acct, typ, id); err != nil {
			return err
		}
		noContent(w)
		return nil
	}
}

// ---- articles

// readable loads an article with its translations and the one to show, or not found
// when the viewer may not read it (an unreadable article does not exist for them).
func (s *Server) readable(ctx context.Context, c *Call, v kb.Viewer, id int64, loc string) (*kb.Article, *kb.Translation, []*kb.Translation, error) {
	a, err := kb.GetArticle(ctx, s.db.R(), c.Acct.ID, kb.ArticleID(id))
	if err != nil {
		return nil, nil, nil, err
	}
	all, err := kb.Translations(ctx, s.db.R(), c.Acct.ID, kb.OfArticle, id)
	if err != nil {
		return nil, nil, nil, err
	}
	t := kb.Pick(all, loc, a.SourceLocale)
	if loc != "" && (t == nil || t.Locale != loc) {
		return nil, nil, nil, errs.NotFoundf("Not found")
	}
	if !v.CanRead(a, t) {
		return nil, nil, nil, errs.NotFoundf("Not found")
	}
	return a, t, all, nil
}

func (s *Server) hcArticles(w http.ResponseWriter, r *http.Request, c *Call) error {
	p, err := parseHCPage(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	v, err := s.viewer(ctx, c)
	if err != nil {
		return err
	}
	var f kb.ArticleFilter
	if r.PathValue("id") != "" {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if strings.Contains(r.URL.Path, "/sections/") {
			if _, err := kb.GetSection(ctx, s.db.R(), c.Acct.ID, kb.SectionID(id)); err != nil {
				return err
			}
			f.Section = kb.SectionID(id)
		} else {
			if _, err := kb.GetCategory(ctx, s.db.R(), c.Acct.ID, kb.CategoryID(id)); err != nil {
				return err
			}
			f.Category = kb.CategoryID(id)
		}
	}
	list, err := kb.Articles(ctx, s.db.R(), c.Acct.ID, f)
	if err != nil {
		return err
	}
	tr, err := kb.TranslationsOf(ctx, s.db.R(), c.Acct.ID, kb.OfArticle)
	if err != nil {
		return err
	}
	votes, err := kb.VotesOf(ctx, s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	loc := hcLocale(r)
	labels := splitLabels(r.URL.Query().Get("label_names"))
	type row struct {
		a *kb.Article
		t *kb.Translation
	}
	var rows []row
	for _, a := range list {
		t := kb.Pick(tr[int64(a.ID)], loc, a.SourceLocale)
		if loc != "" && (t == nil || t.Locale != loc) || !v.CanRead(a, t) || !hasLabels(a, labels) {
			continue
		}
		rows = append(rows, row{a, t})
	}
	out := []map[string]any{}
	for _, x := range pageOf(rows, p) {
		out = append(out, renderArticle(c, x.a, x.t, tr[int64(x.a.ID)], votes[x.a.ID]))
	}
	writeHCList(w, r, "articles", out, len(rows), p)
	return nil
}

func splitLabels(s string) []string {
	var out []string
	for _, l := range strings.Split(s, ",") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func hasLabels(a *kb.Article, labels []string) bool {
	for _, l := range labels {
		if !a.HasLabel(l) {
			return false
		}
	}
	return true
}

func (s *Server) hcArticle(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := s.viewer(r.Context(), c)
	if err != nil {
		return err
	}
	a, t, all, err := s.readable(r.Context(), c, v, id, hcLocale(r))
	if err != nil {
		return err
	}
	votes, err := kb.VotesFor(r.Context(), s.db.R(), c.Acct.ID, a.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"article": renderArticle(c, a, t, all, votes)})
	return nil
}

type hcArticleIn struct {
	hcTextIn
	AuthorID         optID      `json:"author_id"`
	SectionID        optID      `json:"section_id"`
	Promoted         optBool    `json:"promoted"`
	CommentsDisabled optBool    `json:"comments_disabled"`
	LabelNames       optStrings `json:"label_names"`
	Visibility       optStr     `json:"visibility"`
	OrganizationIDs  optIDs     `json:"organization_ids"`
	UserSegmentID    optID      `json:"user_segment_id"`
}

func (in *hcArticleIn) settings() kb.ArticleIn {
	out := kb.ArticleIn{Position: in.Position, Promoted: boolPtr(in.Promoted), CommentsDisabled: boolPtr(in.CommentsDisabled)}
	if in.AuthorID.Set {
		u := ids.User(in.AuthorID.Value)
		out.AuthorID = &u
	}
	if in.SectionID.Set {
		sec := kb.SectionID(in.SectionID.Value)
		out.SectionID = &sec
	}
	if in.LabelNames.Set {
		out.Labels = &in.LabelNames.Value
	}
	if in.Visibility.Set {
		vis := kb.Visibility(in.Visibility.Value)
		out.Visibility = &vis
	} else if in.UserSegmentID.Set {
		for vis, id := range segmentIDs {
			if id == nil && in.UserSegmentID.Value == 0 || id != nil && int64(id.(int)) == in.UserSegmentID.Value {
				out.Visibility = &vis
			}
		}
	}
	if in.OrganizationIDs.Set {
		list := make([]ids.Org, len(in.OrganizationIDs.Value))
		for i, o := range in.OrganizationIDs.Value {
			list[i] = ids.Org(o)
		}
		out.OrgIDs = &list
	}
	return out
}

func (s *Server) writeArticle(w http.ResponseWriter, r *http.Request, c *Call, a *kb.Article, loc string, status int) error {
	all, err := kb.Translations(r.Context(), s.db.R(), c.Acct.ID, kb.OfArticle, int64(a.ID))
	if err != nil {
		return err
	}
	votes, err := kb.VotesFor(r.Context(), s.db.R(), c.Acct.ID, a.ID)
	if err != nil {
		return err
	}
	body := map[string]any{"article": renderArticle(c, a, kb.Pick(all, loc, a.SourceLocale), all, votes)}
	if status == http.StatusCreated {
		peopleCreated(w, c, "/api/v2/help_center/articles/"+strconv.FormatInt(int64(a.ID), 10)+".json", body)
		return nil
	}
	writeJSON(w, status, body)
	return nil
}

func (s *Server) hcCreateArticle(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := kb.GetSection(r.Context(), s.db.R(), c.Acct.ID, kb.SectionID(id)); err != nil {
		return err
	}
	var in hcArticleIn
	if err := s.decodeHC(r, "article", &in); err != nil {
		return err
	}
	ai := in.settings()
	sec := kb.SectionID(id)
	ai.SectionID = &sec
	ai.Locale = in.Locale.Value
	if ai.Locale == "" {
		ai.Locale = hcLocale(r)
	}
	ai.Text = kb.TextIn{Title: strPtr(in.Title), Body: strPtr(in.Body), Draft: boolPtr(in.Draft)}
	a, err := s.kb.CreateArticle(r.Context(), c.Acct, c.actorID(), ai)
	if err != nil {
		return err
	}
	return s.writeArticle(w, r, c, a, a.SourceLocale, http.StatusCreated)
}

// hcUpdateArticle changes an article's settings only; as in Zendesk, title, body, locale
// and draft change through the translations.
func (s *Server) hcUpdateArticle(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in hcArticleIn
	if err := s.decodeHC(r, "article", &in); err != nil {
		return err
	}
	a, err := s.kb.UpdateArticle(r.Context(), c.Acct, c.actorID(), kb.ArticleID(id), in.settings())
	if err != nil {
		return err
	}
	return s.writeArticle(w, r, c, a, hcLocale(r), http.StatusOK)
}

// ---- translations

func hcSourceType(r *http.Request) kb.SourceType {
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/v2/help_center/categories/"):
		return kb.OfCategory
	case strings.HasPrefix(r.URL.Path, "/api/v2/help_center/sections/"):
		return kb.OfSection
	}
	return kb.OfArticle
}

// translatable checks the item exists and, for an article, that the viewer may read it.
func (s *Server) translatable(r *http.Request, c *Call) (kb.SourceType, int64, kb.Viewer, error) {
	typ := hcSourceType(r)
	id, err := pathID(r, "id")
	if err != nil {
		return typ, 0, kb.Viewer{}, err
	}
	v, err := s.viewer(r.Context(), c)
	if err != nil {
		return typ, 0, v, err
	}
	switch typ {
	case kb.OfArticle:
		if _, _, _, err := s.readable(r.Context(), c, v, id, ""); err != nil {
			return typ, 0, v, err
		}
	case kb.OfSection:
		_, err = kb.GetSection(r.Context(), s.db.R(), c.Acct.ID, kb.SectionID(id))
	case kb.OfCategory:
		_, err = kb.GetCategory(r.Context(), s.db.R(), c.Acct.ID, kb.CategoryID(id))
	}
	return typ, id, v, err
}

func (s *Server) hcTranslations(w http.ResponseWriter, r *http.Request, c *Call) error {
	typ, id, v, err := s.translatable(r, c)
	if err != nil {
		return err
	}
	list, err := kb.Translations(r.Context(), s.db.R(), c.Acct.ID, typ, id)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, t := range list {
		if v.Staff || !t.Draft {
			out = append(out, renderTranslation(c, t))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"translations": out, "count": len(out), "next_page": nil, "previous_page": nil})
	return nil
}

func (s *Server) hcTranslation(w http.ResponseWriter, r *http.Request, c *Call) error {
	typ, id, v, err := s.translatable(r, c)
	if err != nil {
		return err
	}
	loc, ok := kb.NormalizeLocale(r.PathValue("locale"))
	if !ok {
		return errs.NotFoundf("Not found")
	}
	t, err := kb.GetTranslation(r.Context(), s.db.R(), c.Acct.ID, typ, id, loc)
	if err != nil {
		return err
	}
	if t.Draft && !v.Staff {
		return errs.NotFoundf("Not found")
	}
	writeJSON(w, http.StatusOK, map[string]any{"translation": renderTranslation(c, t)})
	return nil
}

func (s *Server) hcMissingTranslations(w http.ResponseWriter, r *http.Request, c *Call) error {
	typ, id, _, err := s.translatable(r, c)
	if err != nil {
		return err
	}
	list, err := kb.Translations(r.Context(), s.db.R(), c.Acct.ID, typ, id)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, t := range list {
		have[t.Locale] = true
	}
	missing := []string{}
	for _, l := range s.hcLocales() {
		if !have[l] {
			missing = append(missing, l)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"locales": missing})
	return nil
}

// hcLocales are the locales the help center offers.
func (s *Server) hcLocales() []string { return []string{"en-us", "fr"} }

func (s *Server) hcPutTranslation(w http.ResponseWriter, r *http.Request, c *Call) error {
	typ, id, _, err := s.translatable(r, c)
	if err != nil {
		return err
	}
	var in hcTextIn
	if err := s.decodeHC(r, "translation", &in); err != nil {
		return err
	}
	loc := r.PathValue("locale")
	if loc == "" {
		if loc = in.Locale.Value; loc == "" {
			return errs.Invalidf("locale", "BlankValue", "cannot be blank")
		}
	}
	l, ok := kb.NormalizeLocale(loc)
	if !ok {
		return errs.Invalidf("locale", "InvalidValue", "is not a locale (en-us, fr, ...)")
	}
	if r.Method == http.MethodPost {
		if _, err := kb.GetTranslation(r.Context(), s.db.R(), c.Acct.ID, typ, id, l); err == nil {
			return errs.Invalidf("locale", "DuplicateValue", "already has a translation")
		}
	} else if _, err := kb.GetTranslation(r.Context(), s.db.R(), c.Acct.ID, typ, id, l); err != nil {
		return err
	}
	t, created, err := s.kb.PutTranslation(r.Context(), c.Acct, c.actorID(), typ, id, l, kb.TextIn{Title: strPtr(in.Title), Body: strPtr(in.Body), Draft: boolPtr(in.Draft), Outdated: boolPtr(in.Outdated)})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"translation": renderTranslation(c, t)})
	return nil
}

func (s *Server) hcDeleteTranslation(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var typ kb.SourceType
	var src int64
	var loc string
	err = s.db.R().QueryRowContext(r.Context(), `SELECT source_type, source_id, locale FROM kb_translations WHERE account_id = ? AND id = ?`, c.Acct.ID, id).Scan(&typ, &src, &loc)
	if err != nil {
		return errs.NotFoundf("Not found")
	}
	if err := s.kb.DeleteTranslation(r.Context(), c.Acct, c.actorID(), typ, src, loc); err != nil {
		return err
	}
	noContent(w)
	return nil
}

// ---- labels, votes, search

func (s *Server) hcLabels(w http.ResponseWriter, r *http.Request, c *Call) error {
	list, err := kb.Labels(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, l := range list {
		out = append(out, map[string]any{"name": l})
	}
	writeJSON(w, http.StatusOK, map[string]any{"labels": out, "count": len(out), "next_page": nil, "previous_page": nil})
	return nil
}

func (s *Server) hcArticleLabels(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := s.viewer(r.Context(), c)
	if err != nil {
		return err
	}
	a, _, _, err := s.readable(r.Context(), c, v, id, "")
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, l := range a.Labels {
		out = append(out, map[string]any{"name": l})
	}
	writeJSON(w, http.StatusOK, map[string]any{"labels": out})
	return nil
}

func (s *Server) hcAddLabel(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Name optStr `json:"name"`
	}
	if err := s.decodeHC(r, "label", &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Name.Value) == "" {
		return errs.Invalidf("name", "BlankValue", "cannot be blank")
	}
	a, err := kb.GetArticle(r.Context(), s.db.R(), c.Acct.ID, kb.ArticleID(id))
	if err != nil {
		return err
	}
	labels := append(a.Labels, in.Name.Value)
	if _, err := s.kb.UpdateArticle(r.Context(), c.Acct, c.actorID(), a.ID, kb.ArticleIn{Labels: &labels}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"label": map[string]any{"name": strings.TrimSpace(in.Name.Value)}})
	return nil
}

func renderVote(c *Call, id int64, a kb.ArticleID, user ids.User, value int) map[string]any {
	return map[string]any{"id": id, "url": c.URL("/api/v2/help_center/votes/" + strconv.FormatInt(id, 10) + ".json"),
		"user_id": nullID(user), "value": value, "item_id": a, "item_type": "Article"}
}

func (s *Server) hcVote(value int) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		v, err := s.viewer(r.Context(), c)
		if err != nil {
			return err
		}
		a, _, _, err := s.readable(r.Context(), c, v, id, "")
		if err != nil {
			return err
		}
		vid, err := s.kb.Vote(r.Context(), c.Acct.ID, c.User.ID, a.ID, value, "")
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"vote": renderVote(c, vid, a.ID, c.User.ID, value)})
		return nil
	}
}

func (s *Server) hcVotes(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := kb.GetArticle(r.Context(), s.db.R(), c.Acct.ID, kb.ArticleID(id)); err != nil {
		return err
	}
	rows, err := s.db.R().QueryContext(r.Context(), `SELECT id, COALESCE(user_id, 0), value FROM kb_votes WHERE account_id = ? AND article_id = ? ORDER BY id`, c.Acct.ID, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	out := []map[string]any{}
	for rows.Next() {
		var vid int64
		var user ids.User
		var value int
		if err := rows.Scan(&vid, &user, &value); err != nil {
			return err
		}
		out = append(out, renderVote(c, vid, kb.ArticleID(id), user, value))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"votes": out, "count": len(out), "next_page": nil, "previous_page": nil})
	return nil
}

// hcSearch is GET /api/v2/help_center/articles/search: ranked, with snippets, offset
// pages. Any query text gives results or an empty list.
func (s *Server) hcSearch(w http.ResponseWriter, r *http.Request, c *Call) error {
	p, err := parseHCPage(r)
	if err != nil {
		return err
	}
	qv := r.URL.Query()
	q := kb.Query{Text: qv.Get("query"), Locale: hcLocale(r), Labels: splitLabels(qv.Get("label_names"))}
	if qv.Get("query") == "" && !qv.Has("category") && !qv.Has("section") && !qv.Has("label_names") {
		return errs.E(errs.BadRequest, "Missing parameter: query")
	}
	for key, dst := range map[string]*int64{"category": (*int64)(&q.Category), "section": (*int64)(&q.Section)} {
		if v := qv.Get(key); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return errs.E(errs.BadRequest, "%s must be an id", key)
			}
			*dst = n
		}
	}
	v, err := s.viewer(r.Context(), c)
	if err != nil {
		return err
	}
	res, total, err := s.kb.Search(r.Context(), c.Acct.ID, v, q, p.offset(), p.size)
	if err != nil {
		return err
	}
	votes, err := kb.VotesOf(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, x := range res {
		m := renderArticle(c, x.Article, x.Translation, nil, votes[x.Article.ID])
		m["snippet"], m["result_type"] = x.Snippet, "article"
		out = append(out, m)
	}
	writeHCList(w, r, "results", out, total, p)
	return nil
}
