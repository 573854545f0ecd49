// Package kb is the knowledge base: help center categories, sections (nested on
// Enterprise) and articles, their translations per locale, labels, votes, history, the
// article links agents insert into replies, learned phrasings and deflection events.
//
// Every write goes through Service (service.go), which keeps each article's history
// (kb_revisions). Who may read an article is decided in one place, Viewer.CanRead
// (visibility.go), which every surface and the ranker's filter call. Search ranks with
// internal/kb/rank over an index the Service keeps per account (search.go).
package kb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// CategoryID, SectionID and ArticleID identify help center items within an account.
type (
	CategoryID int64
	SectionID  int64
	ArticleID  int64
)

// SourceType names what a translation belongs to.
type SourceType string

// The translatable items.
const (
	OfArticle  SourceType = "article"
	OfSection  SourceType = "section"
	OfCategory SourceType = "category"
)

// Category is a help center category; its name and description are translations.
type Category struct {
	ID           CategoryID
	AccountID    ids.Account
	Position     int
	SourceLocale string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Section groups articles in a category, possibly inside another section.
type Section struct {
	ID              SectionID
	AccountID       ids.Account
	CategoryID      CategoryID
	ParentSectionID SectionID // 0 for a top-level section
	Position        int
	SourceLocale    string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Article is an article's settings; its title, body and draft state are per locale,
// in its translations.
type Article struct {
	ID               ArticleID
	AccountID        ids.Account
	SectionID        SectionID
	AuthorID         ids.User
	SourceLocale     string
	Position         int
	Promoted         bool
	CommentsDisabled bool
	Visibility       Visibility
	OrgIDs           []ids.Org // who may read it when Visibility is Organizations
	Labels           []string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	EditedAt         time.Time
}

// Translation is the text of an article, section or category in one locale. For
// sections and categories Title is the name and Body the description.
type Translation struct {
	ID          int64
	AccountID   ids.Account
	SourceType  SourceType
	SourceID    int64
	Locale      string
	Title       string
	Body        string // sanitised HTML
	Source      string // the Markdown Body was rendered from, "" when it came as HTML
	Draft       bool
	Outdated    bool
	CreatedByID ids.User
	UpdatedByID ids.User
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Revision is one saved version of an article translation: its state after a change.
type Revision struct {
	ID        int64
	ArticleID ArticleID
	Locale    string
	ActorID   ids.User
	Action    string
	Title     string
	Body      string
	Draft     bool
	CreatedAt time.Time
}

// Votes sums an article's votes.
type Votes struct {
	Sum, Count, Up, Down int
}

var localeRE = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})?$`)

// NormalizeLocale lower-cases a locale ("en-US" -> "en-us") and reports whether it is
// well formed.
func NormalizeLocale(s string) (string, bool) {
	l := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "_", "-"))
	return l, localeRE.MatchString(l)
}

const categoryCols = `id, account_id, position, source_locale, created_at, updated_at`

func scanCategory(row interface{ Scan(...any) error }) (*Category, error) {
	var c Category
	var cr, up int64
	if err := row.Scan(&c.ID, &c.AccountID, &c.Position, &c.SourceLocale, &cr, &up); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = store.Time(cr), store.Time(up)
	return &c, nil
}

const sectionCols = `id, account_id, category_id, COALESCE(parent_section_id, 0), position, source_locale, created_at, updated_at`

func scanSection(row interface{ Scan(...any) error }) (*Section, error) {
	var s Section
	var cr, up int64
	if err := row.Scan(&s.ID, &s.AccountID, &s.CategoryID, &s.ParentSectionID, &s.Position, &s.SourceLocale, &cr, &up); err != nil {
		return nil, err
	}
	s.CreatedAt, s.UpdatedAt = store.Time(cr), store.Time(up)
	return &s, nil
}

const articleCols = `id, account_id, section_id, author_id, source_locale, position, promoted, comments_disabled, visibility, org_ids, labels, created_at, updated_at, edited_at`

func scanArticle(row interface{ Scan(...any) error }) (*Article, error) {
	var a Article
	var orgs, labels string
	var cr, up, ed int64
	if err := row.Scan(&a.ID, &a.AccountID, &a.SectionID, &a.AuthorID, &a.SourceLocale, &a.Position, &a.Promoted, &a.CommentsDisabled, &a.Visibility, &orgs, &labels, &cr, &up, &ed); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(orgs), &a.OrgIDs); err != nil {
		return nil, fmt.Errorf("kb: article %d org_ids: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(labels), &a.Labels); err != nil {
		return nil, fmt.Errorf("kb: article %d labels: %w", a.ID, err)
	}
	a.CreatedAt, a.UpdatedAt, a.EditedAt = store.Time(cr), store.Time(up), store.Time(ed)
	return &a, nil
}

const translationCols = `id, account_id, source_type, source_id, locale, title, body, source, draft, outdated, created_by_id, updated_by_id, created_at, updated_at`

func scanTranslation(row interface{ Scan(...any) error }) (*Translation, error) {
	var t Translation
	var cr, up int64
	if err := row.Scan(&t.ID, &t.AccountID, &t.SourceType, &t.SourceID, &t.Locale, &t.Title, &t.Body, &t.Source, &t.Draft, &t.Outdated, &t.CreatedByID, &t.UpdatedByID, &cr, &up); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = store.Time(cr), store.Time(up)
	return &t, nil
}

// scanAll reads every row with scan; errors name the knowledge base.
func scanAll[T any](rows *sql.Rows, err error, scan func(store.Row) (*T, error)) ([]*T, error) {
	out, err := store.ScanAll(rows, err, scan)
	if err != nil {
		return nil, fmt.Errorf("kb: read: %w", err)
	}
	return out, nil
}

func one[T any](v *T, err error, what string, id int64) (*T, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("%s %d not found", what, id)
	}
	if err != nil {
		return nil, fmt.Errorf("kb: get %s: %w", what, err)
	}
	return v, nil
}

// GetCategory loads a category of the account.
func GetCategory(ctx context.Context, q store.Queryer, acct ids.Account, id CategoryID) (*Category, error) {
	c, err := scanCategory(q.QueryRowContext(ctx, `SELECT `+categoryCols+` FROM kb_categories WHERE account_id = ? AND id = ?`, acct, id))
	return one(c, err, "category", int64(id))
}

// Categories lists the account's categories in display order.
func Categories(ctx context.Context, q store.Queryer, acct ids.Account) ([]*Category, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+categoryCols+` FROM kb_categories WHERE account_id = ? ORDER BY position, id`, acct)
	return scanAll(rows, err, scanCategory)
}

// GetSection loads a section of the account.
func GetSection(ctx context.Context, q store.Queryer, acct ids.Account, id SectionID) (*Section, error) {
	s, err := scanSection(q.QueryRowContext(ctx, `SELECT `+sectionCols+` FROM kb_sections WHERE account_id = ? AND id = ?`, acct, id))
	return one(s, err, "section", int64(id))
}

// Sections lists the account's sections in display order, those of one category when
// category is not 0.
func Sections(ctx context.Context, q store.Queryer, acct ids.Account, category CategoryID) ([]*Section, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+sectionCols+` FROM kb_sections WHERE account_id = ? AND (? = 0 OR category_id = ?) ORDER BY position, id`, acct, category, category)
	return scanAll(rows, err, scanSection)
}

// GetArticle loads an article's settings.
func GetArticle(ctx context.Context, q store.Queryer, acct ids.Account, id ArticleID) (*Article, error) {
	a, err := scanArticle(q.QueryRowContext(ctx, `SELECT `+articleCols+` FROM kb_articles WHERE account_id = ? AND id = ?`, acct, id))
	return one(a, err, "article", int64(id))
}

// ArticleFilter selects articles for Articles.
type ArticleFilter struct {
	Section  SectionID  // 0: any
	Category CategoryID // 0: any
	Label    string     // "": any
}

// Articles lists the account's articles in display order (promoted first, then
// position), filtered.
func Articles(ctx context.Context, q store.Queryer, acct ids.Account, f ArticleFilter) ([]*Article, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+articleCols+` FROM kb_articles
		WHERE account_id = ? AND (? = 0 OR section_id = ?)
		  AND (? = 0 OR section_id IN (SELECT id FROM kb_sections WHERE account_id = ? AND category_id = ?))
		ORDER BY promoted DESC, position, id`, acct, f.Section, f.Section, f.Category, acct, f.Category)
	list, err := scanAll(rows, err, scanArticle)
	if err != nil || f.Label == "" {
		return list, err
	}
	out := list[:0]
	for _, a := range list {
		if a.HasLabel(f.Label) {
			out = append(out, a)
		}
	}
	return out, nil
}

// HasLabel reports whether the article carries the label (case-insensitive).
func (a *Article) HasLabel(l string) bool {
	for _, x := range a.Labels {
		if strings.EqualFold(x, l) {
			return true
		}
	}
	return false
}

// Translations lists the translations of one item, source locale first.
func Translations(ctx context.Context, q store.Queryer, acct ids.Account, typ SourceType, id int64) ([]*Translation, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+translationCols+` FROM kb_translations WHERE account_id = ? AND source_type = ? AND source_id = ? ORDER BY id`, acct, typ, id)
	return scanAll(rows, err, scanTranslation)
}

// TranslationsOf loads the translations of many items of a type, by item.
func TranslationsOf(ctx context.Context, q store.Queryer, acct ids.Account, typ SourceType) (map[int64][]*Translation, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+translationCols+` FROM kb_translations WHERE account_id = ? AND source_type = ? ORDER BY id`, acct, typ)
	list, err := scanAll(rows, err, scanTranslation)
	if err != nil {
		return nil, err
	}
	out := map[int64][]*Translation{}
	for _, t := range list {
		out[t.SourceID] = append(out[t.SourceID], t)
	}
	return out, nil
}

// GetTranslation loads one item's translation in a locale.
func GetTranslation(ctx context.Context, q store.Queryer, acct ids.Account, typ SourceType, id int64, locale string) (*Translation, error) {
	t, err := scanTranslation(q.QueryRowContext(ctx, `SELECT `+translationCols+` FROM kb_translations WHERE account_id = ? AND source_type = ? AND source_id = ? AND locale = ?`, acct, typ, id, locale))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("%s %d has no %s translation", typ, id, locale)
	}
	if err != nil {
		return nil, fmt.Errorf("kb: get translation: %w", err)
	}
	return t, nil
}

// Pick returns the translation in locale, else the one in the source locale, else the
// first; nil for none.
func Pick(list []*Translation, locale, source string) *Translation {
	var src *Translation
	for _, t := range list {
		if t.Locale == locale {
			return t
		}
		if t.Locale == source {
			src = t
		}
	}
	if src != nil {
		return src
	}
	if len(list) > 0 {
		return list[0]
	}
	return nil
}

// Revisions lists an article's saved versions, newest first.
func Revisions(ctx context.Context, q store.Queryer, acct ids.Account, id ArticleID) ([]*Revision, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, article_id, locale, actor_id, action, title, body, draft, created_at FROM kb_revisions WHERE account_id = ? AND article_id = ? ORDER BY id DESC`, acct, id)
	return scanAll(rows, err, func(row interface{ Scan(...any) error }) (*Revision, error) {
		var r Revision
		var cr int64
		err := row.Scan(&r.ID, &r.ArticleID, &r.Locale, &r.ActorID, &r.Action, &r.Title, &r.Body, &r.Draft, &cr)
		r.CreatedAt = store.Time(cr)
		return &r, err
	})
}

// VotesOf sums the votes of the account's articles, by article.
func VotesOf(ctx context.Context, q store.Queryer, acct ids.Account) (map[ArticleID]Votes, error) {
	rows, err := q.QueryContext(ctx, `SELECT article_id, value, COUNT(*) FROM kb_votes WHERE account_id = ? GROUP BY article_id, value`, acct)
	if err != nil {
		return nil, fmt.Errorf("kb: votes: %w", err)
	}
	defer rows.Close()
	out := map[ArticleID]Votes{}
	for rows.Next() {
		var id ArticleID
		var v, n int
		if err := rows.Scan(&id, &v, &n); err != nil {
			return nil, fmt.Errorf("kb: votes: %w", err)
		}
		s := out[id]
		s.Sum += v * n
		s.Count += n
		if v > 0 {
			s.Up += n
		} else {
			s.Down += n
		}
		out[id] = s
	}
	return out, rows.Err()
}

// VotesFor sums one article's votes.
func VotesFor(ctx context.Context, q store.Queryer, acct ids.Account, id ArticleID) (Votes, error) {
	var v Votes
	err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(value), 0), COUNT(*), COALESCE(SUM(CASE WHEN value > 0 THEN 1 ELSE 0 END), 0) FROM kb_votes WHERE account_id = ? AND article_id = ?`, acct, id).Scan(&v.Sum, &v.Count, &v.Up)
	if err != nil {
		return v, fmt.Errorf("kb: votes of %d: %w", id, err)
	}
	v.Down = v.Count - v.Up
	return v, nil
}

// Labels lists the distinct labels of the account's articles, sorted.
func Labels(ctx context.Context, q store.Queryer, acct ids.Account) ([]string, error) {
	list, err := Articles(ctx, q, acct, ArticleFilter{})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range list {
		for _, l := range a.Labels {
			if k := strings.ToLower(l); !seen[k] {
				seen[k] = true
				out = append(out, l)
			}
		}
	}
	sortFold(out)
	return out, nil
}

// Slug is the readable part of an article's URL: /hc/en-us/articles/12-how-do-i-return.
func Slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r > 127 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteString(foldRune(r))
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= 60 {
			break
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// foldRune drops a Latin letter's accent for a slug; other letters are kept.
func foldRune(r rune) string {
	if i := strings.IndexRune("àáâäãåçèéêëìíîïñòóôöõùúûüýÿ", r); i >= 0 {
		return string([]rune("aaaaaaceeeeiiiinooooouuuuyy")[utf8.RuneCountInString("àáâäãåçèéêëìíîïñòóôöõùúûüýÿ"[:i])])
	}
	return string(r)
}
