package kb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Service is the knowledge base's single write path, and its search.
type Service struct {
	db   *store.DB
	html *bluemonday.Policy
	text *bluemonday.Policy
	md   goldmark.Markdown

	mu      sync.Mutex
	indexes map[ids.Account]*acctIndex
	// versions caches kb_state's version for ticket writes, behind the account's
	// settings version (kb_state is one of the settings it follows).
	versions store.SettingsCache[int64]
}

// NewService returns the knowledge base service.
func NewService(db *store.DB) *Service {
	return &Service{
		db: db, html: bluemonday.UGCPolicy(), text: bluemonday.StrictPolicy(),
		// Articles are written by agents: raw HTML is allowed in the Markdown (tables,
		// <kbd>, ...) and everything is sanitised after rendering.
		md:      goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe())),
		indexes: map[ids.Account]*acctIndex{},
	}
}

// Limits on what is stored.
const (
	maxTitle  = 255
	maxBody   = 1 << 20
	maxLabels = 50
)

// Sanitize makes article HTML safe to store and show: no script, iframes, event
// handlers or javascript: links.
func (s *Service) Sanitize(h string) string { return s.html.Sanitize(h) }

// RenderMarkdown renders an agent's Markdown to sanitised HTML (the editor's preview
// and what is stored).
func (s *Service) RenderMarkdown(src string) string {
	var buf bytes.Buffer
	if err := s.md.Convert([]byte(strings.ReplaceAll(src, "\r\n", "\n")), &buf); err != nil {
		return ""
	}
	return s.html.Sanitize(buf.String())
}

// Actor is who makes a change (0 for the system: seeding, imports).
type Actor = ids.User

// TextIn is the text of a translation to write; nil fields are left as they are.
type TextIn struct {
	Title    *string
	Body     *string // HTML, sanitised on the way in
	Markdown *string // Markdown source; when set, Body is rendered from it
	Draft    *bool
	Outdated *bool
}

func validText(v *errs.Validation, in TextIn) {
	if in.Title != nil {
		t := strings.TrimSpace(*in.Title)
		switch {
		case t == "":
			v.Blank("title")
		case utf8.RuneCountInString(t) > maxTitle:
			v.Add("title", "TooLong", fmt.Sprintf("is too long (maximum is %d characters)", maxTitle))
		}
	}
	if in.Body != nil && len(*in.Body) > maxBody || in.Markdown != nil && len(*in.Markdown) > maxBody {
		v.Add("body", "TooLong", fmt.Sprintf("is too long (maximum is %d bytes)", maxBody))
	}
}

// putTranslation creates or updates an item's translation in a locale.
func (s *Service) putTranslation(ctx context.Context, tx *store.Tx, acct ids.Account, actor Actor, typ SourceType, id int64, locale string, in TextIn) (*Translation, bool, error) {
	var v errs.Validation
	validText(&v, in)
	if err := v.Err(); err != nil {
		return nil, false, err
	}
	now := store.Micros(store.Now())
	t, err := GetTranslation(ctx, tx, acct, typ, id, locale)
	created := false
	if errs.Is(err, errs.NotFound) {
		if in.Title == nil {
			return nil, false, errs.Invalidf("title", "BlankValue", "cannot be blank")
		}
		t, created = &Translation{AccountID: acct, SourceType: typ, SourceID: id, Locale: locale, CreatedByID: actor}, true
	} else if err != nil {
		return nil, false, err
	}
	if in.Title != nil {
		t.Title = strings.TrimSpace(*in.Title)
	}
	if in.Markdown != nil {
		t.Source = *in.Markdown
		t.Body = s.RenderMarkdown(*in.Markdown)
	} else if in.Body != nil {
		t.Source = ""
		t.Body = s.html.Sanitize(*in.Body)
	}
	if in.Draft != nil {
		t.Draft = *in.Draft
	}
	if in.Outdated != nil {
		t.Outdated = *in.Outdated
	}
	t.UpdatedByID = actor
	if created {
		err = tx.QueryRowContext(ctx, `INSERT INTO kb_translations (account_id, source_type, source_id, locale, title, body, source, draft, outdated, created_by_id, updated_by_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			acct, typ, id, locale, t.Title, t.Body, t.Source, t.Draft, t.Outdated, actor, actor, now, now).Scan(&t.ID)
		if store.IsUniqueViolation(err) {
			return nil, false, errs.E(errs.Conflict, "%s %d already has a %s translation", typ, id, locale)
		}
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE kb_translations SET title = ?, body = ?, source = ?, draft = ?, outdated = ?, updated_by_id = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
			t.Title, t.Body, t.Source, t.Draft, t.Outdated, actor, now, acct, t.ID)
	}
	if err != nil {
		return nil, false, fmt.Errorf("kb: write translation: %w", err)
	}
	t.UpdatedAt = store.Time(now)
	if created {
		t.CreatedAt = t.UpdatedAt
	}
	return t, created, nil
}

// revise records an article translation's new state in its history.
func revise(ctx context.Context, tx *store.Tx, acct ids.Account, actor Actor, a ArticleID, t *Translation, action string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO kb_revisions (account_id, article_id, locale, actor_id, action, title, body, draft, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		acct, a, t.Locale, actor, action, t.Title, t.Body, t.Draft, store.Micros(store.Now()))
	if err != nil {
		return fmt.Errorf("kb: revise: %w", err)
	}
	return nil
}

// write runs f in a write transaction and drops the account's search index once it
// commits.
func (s *Service) write(ctx context.Context, acct ids.Account, f func(tx *store.Tx) error) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if err := f(tx); err != nil {
			return err
		}
		return s.bump(ctx, tx, acct)
	})
}

// bump records that the account's knowledge base changed (kb_state), and drops its
// index once the transaction commits.
func (s *Service) bump(ctx context.Context, tx *store.Tx, acct ids.Account) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO kb_state (account_id, version) VALUES (?, 1) ON CONFLICT (account_id) DO UPDATE SET version = kb_state.version + 1`, acct); err != nil {
		return fmt.Errorf("kb: bump version: %w", err)
	}
	tx.AfterCommit(func() { s.invalidate(acct) })
	return nil
}

func locale(l string, fallback string) (string, error) {
	if l == "" {
		l = fallback
	}
	n, ok := NormalizeLocale(l)
	if !ok {
		return "", errs.Invalidf("locale", "InvalidValue", "is not a locale (en-us, fr, ...)")
	}
	return n, nil
}

// CategoryIn creates or changes a category; nil fields are left as they are.
type CategoryIn struct {
	Locale      string
	Name        *string
	Description *string
	Position    *int
}

// SaveCategory creates a category (id 0) or updates one, with its translation in
// in.Locale.
func (s *Service) SaveCategory(ctx context.Context, acct *account.Account, actor Actor, id CategoryID, in CategoryIn) (c *Category, err error) {
	err = s.write(ctx, acct.ID, func(tx *store.Tx) error {
		loc, err := locale(in.Locale, "en-us")
		if err != nil {
			return err
		}
		now := store.Micros(store.Now())
		if id == 0 {
			if in.Name == nil {
				return errs.Invalidf("name", "BlankValue", "cannot be blank")
			}
			if err := tx.QueryRowContext(ctx, `INSERT INTO kb_categories (account_id, position, source_locale, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
				acct.ID, deref(in.Position), loc, now, now).Scan(&id); err != nil {
				return fmt.Errorf("kb: create category: %w", err)
			}
		} else {
			if _, err := GetCategory(ctx, tx, acct.ID, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE kb_categories SET position = COALESCE(?, position), updated_at = ? WHERE account_id = ? AND id = ?`, in.Position, now, acct.ID, id); err != nil {
				return fmt.Errorf("kb: update category: %w", err)
			}
		}
		if in.Name != nil || in.Description != nil {
			if _, _, err := s.putTranslation(ctx, tx, acct.ID, actor, OfCategory, int64(id), loc, TextIn{Title: in.Name, Body: in.Description}); err != nil {
				return err
			}
		}
		c, err = GetCategory(ctx, tx, acct.ID, id)
		return err
	})
	return c, err
}

// SectionIn creates or changes a section; nil fields are left as they are.
type SectionIn struct {
	Locale          string
	CategoryID      *CategoryID
	ParentSectionID *SectionID // 0 clears it; nesting needs the Enterprise plan
	Name            *string
	Description     *string
	Position        *int
}

// SaveSection creates a section (id 0) or updates one.
func (s *Service) SaveSection(ctx context.Context, acct *account.Account, actor Actor, id SectionID, in SectionIn) (sec *Section, err error) {
	err = s.write(ctx, acct.ID, func(tx *store.Tx) error {
		loc, err := locale(in.Locale, "en-us")
		if err != nil {
			return err
		}
		cur := &Section{}
		if id != 0 {
			if cur, err = GetSection(ctx, tx, acct.ID, id); err != nil {
				return err
			}
		}
		if in.CategoryID != nil {
			if _, err := GetCategory(ctx, tx, acct.ID, *in.CategoryID); err != nil {
				return errs.Invalidf("category_id", "InvalidValue", "names no category of this help center")
			}
			cur.CategoryID = *in.CategoryID
		}
		if in.ParentSectionID != nil {
			cur.ParentSectionID = *in.ParentSectionID
			if cur.ParentSectionID != 0 {
				if err := acct.Require(account.NestedSections); err != nil {
					return err
				}
				if err := s.checkParent(ctx, tx, acct.ID, id, cur); err != nil {
					return err
				}
			}
		}
		if cur.CategoryID == 0 {
			return errs.Invalidf("category_id", "BlankValue", "cannot be blank")
		}
		if in.Position != nil {
			cur.Position = *in.Position
		}
		now := store.Micros(store.Now())
		parent := any(nil)
		if cur.ParentSectionID != 0 {
			parent = cur.ParentSectionID
		}
		if id == 0 {
			if in.Name == nil {
				return errs.Invalidf("name", "BlankValue", "cannot be blank")
			}
			err = tx.QueryRowContext(ctx, `INSERT INTO kb_sections (account_id, category_id, parent_section_id, position, source_locale, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				acct.ID, cur.CategoryID, parent, cur.Position, loc, now, now).Scan(&id)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE kb_sections SET category_id = ?, parent_section_id = ?, position = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
				cur.CategoryID, parent, cur.Position, now, acct.ID, id)
		}
		if err != nil {
			return fmt.Errorf("kb: write section: %w", err)
		}
		if in.Name != nil || in.Description != nil {
			if _, _, err := s.putTranslation(ctx, tx, acct.ID, actor, OfSection, int64(id), loc, TextIn{Title: in.Name, Body: in.Description}); err != nil {
				return err
			}
		}
		sec, err = GetSection(ctx, tx, acct.ID, id)
		return err
	})
	return sec, err
}

// checkParent refuses a parent section that does not exist, is in another category, or
// would make a cycle.
func (s *Service) checkParent(ctx context.Context, tx *store.Tx, acct ids.Account, id SectionID, cur *Section) error {
	p := cur.ParentSectionID
	for range 20 {
		if p == 0 {
			return nil
		}
		if p == id {
			return errs.Invalidf("parent_section_id", "InvalidValue", "would put the section inside itself")
		}
		ps, err := GetSection(ctx, tx, acct, p)
		if err != nil {
			return errs.Invalidf("parent_section_id", "InvalidValue", "names no section of this help center")
		}
		if p == cur.ParentSectionID && ps.CategoryID != cur.CategoryID {
			if cur.CategoryID == 0 {
				cur.CategoryID = ps.CategoryID
			} else {
				return errs.Invalidf("parent_section_id", "InvalidValue", "is in another category")
			}
		}
		p = ps.ParentSectionID
	}
	return errs.Invalidf("parent_section_id", "InvalidValue", "nests sections too deeply")
}

// ArticleIn creates an article or changes its settings; nil fields are left as they
// are. Title, Body, Markdown and Draft are the translation in Locale (on create only:
// afterwards text changes through PutTranslation, as in Zendesk).
type ArticleIn struct {
	Locale           string
	SectionID        *SectionID
	AuthorID         *ids.User
	Position         *int
	Promoted         *bool
	CommentsDisabled *bool
	Visibility       *Visibility
	OrgIDs           *[]ids.Org
	Labels           *[]string
	Text             TextIn
}

func (s *Service) applyArticle(ctx context.Context, tx *store.Tx, a *Article, in ArticleIn) ([]string, error) {
	var v errs.Validation
	var changed []string
	if in.SectionID != nil && *in.SectionID != a.SectionID {
		if _, err := GetSection(ctx, tx, a.AccountID, *in.SectionID); err != nil {
			v.Bad("section_id", "names no section of this help center")
		}
		a.SectionID = *in.SectionID
		changed = append(changed, "section")
	}
	if in.AuthorID != nil && *in.AuthorID != a.AuthorID {
		var role string
		err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE account_id = ? AND id = ?`, a.AccountID, *in.AuthorID).Scan(&role)
		if err != nil || role == "end-user" {
			v.Bad("author_id", "must be an agent of this account")
		}
		a.AuthorID = *in.AuthorID
		changed = append(changed, "author")
	}
	if in.Position != nil && *in.Position != a.Position {
		a.Position = *in.Position
		changed = append(changed, "position")
	}
	if in.Promoted != nil && *in.Promoted != a.Promoted {
		a.Promoted = *in.Promoted
		changed = append(changed, "promoted")
	}
	if in.CommentsDisabled != nil && *in.CommentsDisabled != a.CommentsDisabled {
		a.CommentsDisabled = *in.CommentsDisabled
		changed = append(changed, "comments_disabled")
	}
	if in.Visibility != nil && *in.Visibility != a.Visibility {
		if !in.Visibility.Valid() {
			v.Bad("visibility", "must be everyone, signed_in, organizations or agents")
		}
		a.Visibility = *in.Visibility
		changed = append(changed, "visibility")
	}
	if in.OrgIDs != nil {
		list := slices.Clone(*in.OrgIDs)
		slices.Sort(list)
		list = slices.Compact(list)
		for _, o := range list {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations WHERE account_id = ? AND id = ?`, a.AccountID, o).Scan(&n); err != nil || n == 0 {
				v.Bad("organization_ids", fmt.Sprintf("%d names no organization of this account", o))
			}
		}
		if !slices.Equal(list, a.OrgIDs) {
			changed = append(changed, "organizations")
		}
		a.OrgIDs = list
	}
	if a.Visibility == Organizations && len(a.OrgIDs) == 0 {
		v.Bad("organization_ids", "must name at least one organization when visibility is organizations")
	}
	if in.Labels != nil {
		var list []string
		for _, l := range *in.Labels {
			l = strings.TrimSpace(l)
			if l == "" || slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, l) }) {
				continue
			}
			if utf8.RuneCountInString(l) > 100 {
				v.Add("label_names", "TooLong", "a label is longer than 100 characters")
			}
			list = append(list, l)
		}
		if len(list) > maxLabels {
			v.Add("label_names", "TooLong", fmt.Sprintf("at most %d labels", maxLabels))
		}
		if !slices.Equal(list, a.Labels) {
			changed = append(changed, "labels")
		}
		a.Labels = list
	}
	return changed, v.Err()
}

// CreateArticle creates an article with its first translation (in.Locale, its source
// locale) and the first entry of its history.
func (s *Service) CreateArticle(ctx context.Context, acct *account.Account, actor Actor, in ArticleIn) (a *Article, err error) {
	err = s.write(ctx, acct.ID, func(tx *store.Tx) error {
		loc, err := locale(in.Locale, "en-us")
		if err != nil {
			return err
		}
		a = &Article{AccountID: acct.ID, AuthorID: actor, SourceLocale: loc, Visibility: Everyone}
		if in.SectionID == nil {
			return errs.Invalidf("section_id", "BlankValue", "cannot be blank")
		}
		if _, err := s.applyArticle(ctx, tx, a, in); err != nil {
			return err
		}
		if in.Text.Title == nil {
			return errs.Invalidf("title", "BlankValue", "cannot be blank")
		}
		var v errs.Validation
		validText(&v, in.Text)
		if err := v.Err(); err != nil {
			return err
		}
		now := store.Micros(store.Now())
		orgs, labels := jsonList(a.OrgIDs), jsonList(a.Labels)
		if err := tx.QueryRowContext(ctx, `INSERT INTO kb_articles (account_id, section_id, author_id, source_locale, position, promoted, comments_disabled, visibility, org_ids, labels, created_at, updated_at, edited_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			acct.ID, a.SectionID, a.AuthorID, loc, a.Position, a.Promoted, a.CommentsDisabled, a.Visibility, orgs, labels, now, now, now).Scan(&a.ID); err != nil {
			return fmt.Errorf("kb: create article: %w", err)
		}
		t, _, err := s.putTranslation(ctx, tx, acct.ID, actor, OfArticle, int64(a.ID), loc, in.Text)
		if err != nil {
			return err
		}
		if err := revise(ctx, tx, acct.ID, actor, a.ID, t, "created"); err != nil {
			return err
		}
		a, err = GetArticle(ctx, tx, acct.ID, a.ID)
		return err
	})
	return a, err
}

// UpdateArticle changes an article's settings (not its text: see PutTranslation).
func (s *Service) UpdateArticle(ctx context.Context, acct *account.Account, actor Actor, id ArticleID, in ArticleIn) (a *Article, err error) {
	err = s.write(ctx, acct.ID, func(tx *store.Tx) error {
		a, err = GetArticle(ctx, tx, acct.ID, id)
		if err != nil {
			return err
		}
		changed, err := s.applyArticle(ctx, tx, a, in)
		if err != nil || len(changed) == 0 {
			return err
		}
		now := store.Micros(store.Now())
		if _, err := tx.ExecContext(ctx, `UPDATE kb_articles SET section_id = ?, author_id = ?, position = ?, promoted = ?, comments_disabled = ?, visibility = ?, org_ids = ?, labels = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
			a.SectionID, a.AuthorID, a.Position, a.Promoted, a.CommentsDisabled, a.Visibility, jsonList(a.OrgIDs), jsonList(a.Labels), now, acct.ID, id); err != nil {
			return fmt.Errorf("kb: update article: %w", err)
		}
		if t, err := GetTranslation(ctx, tx, acct.ID, OfArticle, int64(id), a.SourceLocale); err == nil {
			if err := revise(ctx, tx, acct.ID, actor, id, t, "changed "+strings.Join(changed, ", ")); err != nil {
				return err
			}
		}
		a, err = GetArticle(ctx, tx, acct.ID, id)
		return err
	})
	return a, err
}

// PutTranslation creates or updates an item's translation in a locale (an article's
// title, body and draft state change only this way). For articles it records the new
// version in the history; the old one is the entry before it.
func (s *Service) PutTranslation(ctx context.Context, acct *account.Account, actor Actor, typ SourceType, id int64, loc string, in TextIn) (t *Translation, created bool, err error) {
	err = s.write(ctx, acct.ID, func(tx *store.Tx) error {
		l, err := locale(loc, "")
		if err != nil {
			return err
		}
		switch typ {
		case OfArticle:
			_, err = GetArticle(ctx, tx, acct.ID, ArticleID(id))
		case OfSection:
			_, err = GetSection(ctx, tx, acct.ID, SectionID(id))
		case OfCategory:
			_, err = GetCategory(ctx, tx, acct.ID, CategoryID(id))
		default:
			err = errs.NotFoundf("no such item")
		}
		if err != nil {
			return err
		}
		var before *Translation
		if typ == OfArticle {
			before, _ = GetTranslation(ctx, tx, acct.ID, typ, id, l)
		}
		t, created, err = s.putTranslation(ctx, tx, acct.ID, actor, typ, id, l, in)
		if err != nil || typ != OfArticle {
			return err
		}
		now := store.Micros(store.Now())
		if _, err := tx.ExecContext(ctx, `UPDATE kb_articles SET updated_at = ?, edited_at = ? WHERE account_id = ? AND id = ?`, now, now, acct.ID, id); err != nil {
			return fmt.Errorf("kb: touch article: %w", err)
		}
		return revise(ctx, tx, acct.ID, actor, ArticleID(id), t, describe(before, t))
	})
	return t, created, err
}

// describe names a translation change for the history.
func describe(before, after *Translation) string {
	if before == nil {
		return "translated"
	}
	var parts []string
	if before.Draft && !after.Draft {
		parts = append(parts, "published")
	} else if !before.Draft && after.Draft {
		parts = append(parts, "unpublished")
	}
	if before.Title != after.Title {
		parts = append(parts, "title")
	}
	if before.Body != after.Body {
		parts = append(parts, "body")
	}
	if before.Outdated != after.Outdated {
		parts = append(parts, "outdated")
	}
	if len(parts) == 0 {
		return "saved"
	}
	return "changed " + strings.Join(parts, ", ")
}

// Delete removes a category (with its sections and articles), a section (with its
// subsections and articles) or an article, with their translations, votes and history.
func (s *Service) Delete(ctx context.Context, acct *account.Account, typ SourceType, id int64) error {
	return s.write(ctx, acct.ID, func(tx *store.Tx) error {
		var arts []int64
		var secs []int64
		switch typ {
		case OfArticle:
			if _, err := GetArticle(ctx, tx, acct.ID, ArticleID(id)); err != nil {
				return err
			}
			arts = []int64{id}
		case OfSection, OfCategory:
			all, err := Sections(ctx, tx, acct.ID, 0)
			if err != nil {
				return err
			}
			if typ == OfSection {
				if _, err := GetSection(ctx, tx, acct.ID, SectionID(id)); err != nil {
					return err
				}
				secs = descendants(all, []int64{id})
			} else {
				if _, err := GetCategory(ctx, tx, acct.ID, CategoryID(id)); err != nil {
					return err
				}
				for _, sc := range all {
					if int64(sc.CategoryID) == id {
						secs = append(secs, int64(sc.ID))
					}
				}
			}
			for _, sid := range secs {
				list, err := Articles(ctx, tx, acct.ID, ArticleFilter{Section: SectionID(sid)})
				if err != nil {
					return err
				}
				for _, a := range list {
					arts = append(arts, int64(a.ID))
				}
			}
		}
		for _, aid := range arts {
			for _, q := range []string{
				`DELETE FROM kb_translations WHERE account_id = ? AND source_type = 'article' AND source_id = ?`,
				`DELETE FROM kb_revisions WHERE account_id = ? AND article_id = ?`,
				`DELETE FROM kb_votes WHERE account_id = ? AND article_id = ?`,
				`DELETE FROM kb_phrasings WHERE account_id = ? AND article_id = ?`,
				`DELETE FROM kb_articles WHERE account_id = ? AND id = ?`,
			} {
				if _, err := tx.ExecContext(ctx, q, acct.ID, aid); err != nil {
					return fmt.Errorf("kb: delete article %d: %w", aid, err)
				}
			}
		}
		for _, sid := range secs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM kb_translations WHERE account_id = ? AND source_type = 'section' AND source_id = ?`, acct.ID, sid); err != nil {
				return fmt.Errorf("kb: delete section: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM kb_sections WHERE account_id = ? AND id = ?`, acct.ID, sid); err != nil {
				return fmt.Errorf("kb: delete section: %w", err)
			}
		}
		if typ == OfCategory {
			if _, err := tx.ExecContext(ctx, `DELETE FROM kb_translations WHERE account_id = ? AND source_type = 'category' AND source_id = ?`, acct.ID, id); err != nil {
				return fmt.Errorf("kb: delete category: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM kb_categories WHERE account_id = ? AND id = ?`, acct.ID, id); err != nil {
				return fmt.Errorf("kb: delete category: %w", err)
			}
		}
		return nil
	})
}

// descendants returns the sections in roots and every section nested inside them.
func descendants(all []*Section, roots []int64) []int64 {
	out := slices.Clone(roots)
	for i := 0; i < len(out); i++ {
		for _, s := range all {
			if int64(s.ParentSectionID) == out[i] && !slices.Contains(out, int64(s.ID)) {
				out = append(out, int64(s.ID))
			}
		}
	}
	return out
}

// DeleteTranslation removes an item's translation in a locale; the source locale's
// cannot be removed.
func (s *Service) DeleteTranslation(ctx context.Context, acct *account.Account, actor Actor, typ SourceType, id int64, loc string) error {
	return s.write(ctx, acct.ID, func(tx *store.Tx) error {
		t, err := GetTranslation(ctx, tx, acct.ID, typ, id, loc)
		if err != nil {
			return err
		}
		if typ == OfArticle {
			a, err := GetArticle(ctx, tx, acct.ID, ArticleID(id))
			if err != nil {
				return err
			}
			if a.SourceLocale == loc {
				return errs.E(errs.BadRequest, "The source locale's translation cannot be deleted")
			}
			if err := revise(ctx, tx, acct.ID, actor, a.ID, t, "deleted translation"); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM kb_translations WHERE account_id = ? AND id = ?`, acct.ID, t.ID)
		return err
	})
}

// Vote records a signed-in user's vote (+1 or -1) on an article, replacing their
// previous one; user 0 records an anonymous help center answer. reason is the "no"
// answer's reason.
func (s *Service) Vote(ctx context.Context, acct ids.Account, user ids.User, id ArticleID, value int, reason string) (voteID int64, err error) {
	if value != 1 && value != -1 {
		return 0, errs.Invalidf("value", "InvalidValue", "must be 1 or -1")
	}
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	reason = strings.ToValidUTF8(reason, "")
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := GetArticle(ctx, tx, acct, id); err != nil {
			return err
		}
		now := store.Micros(store.Now())
		if user != 0 {
			err := tx.QueryRowContext(ctx, `SELECT id FROM kb_votes WHERE account_id = ? AND article_id = ? AND user_id = ?`, acct, id, user).Scan(&voteID)
			if err == nil {
				_, err = tx.ExecContext(ctx, `UPDATE kb_votes SET value = ?, reason = ?, updated_at = ? WHERE account_id = ? AND id = ?`, value, reason, now, acct, voteID)
				return err
			}
		}
		var uid any
		if user != 0 {
			uid = user
		}
		return tx.QueryRowContext(ctx, `INSERT INTO kb_votes (account_id, article_id, user_id, value, reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			acct, id, uid, value, reason, now, now).Scan(&voteID)
	})
	if err != nil && errs.CodeOf(err) == errs.Internal {
		err = fmt.Errorf("kb: vote: %w", err)
	}
	return voteID, err
}

func jsonList[T any](v []T) string {
	if v == nil {
		return "[]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

func sortFold(list []string) {
	sort.Slice(list, func(i, j int) bool { return strings.ToLower(list[i]) < strings.ToLower(list[j]) })
}
