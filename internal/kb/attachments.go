package kb

import (
	"context"
	"fmt"
	"io"
	"time"

	"tandem/internal/errs"
	"tandem/internal/files"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Article attachments (Zendesk's article_attachments): files stored by internal/files
// like any other (streamed, size-capped, sniffed, scanned, thumbnailed), kept for good
// and linked to an article. Who may fetch one is who may read its article in some
// translation (CanReadAny): the one visibility rule, also for files.

// ArticleAttachment is a file of an article.
type ArticleAttachment struct {
	// ID is the file's id (the attachments row).
	ID        int64
	ArticleID ArticleID
	// Inline marks an image shown in the body rather than listed under it.
	Inline    bool
	Locale    string
	CreatedAt time.Time
	File      *files.Attachment
}

// CanReadAny reports whether v may read the article in at least one of its
// translations, which is who may fetch its files.
func (v Viewer) CanReadAny(a *Article, all []*Translation) bool {
	if v.Staff {
		return true
	}
	for _, t := range all {
		if v.CanRead(a, t) {
			return true
		}
	}
	return false
}

// ReadableArticle returns the article if v may read it in some translation (who may
// fetch its files); to anyone else it does not exist (not found).
func ReadableArticle(ctx context.Context, q store.Queryer, acct ids.Account, v Viewer, id ArticleID) (*Article, error) {
	a, err := GetArticle(ctx, q, acct, id)
	if err != nil {
		return nil, err
	}
	all, err := Translations(ctx, q, acct, OfArticle, int64(id))
	if err != nil {
		return nil, err
	}
	if !v.CanReadAny(a, all) {
		return nil, errs.NotFoundf("article %d not found", id)
	}
	return a, nil
}

// AddArticleAttachment stores body as a file of the article (which must exist), by an
// agent. A file refused by internal/files (too large, malware, a bad name) stores
// nothing.
func (s *Service) AddArticleAttachment(ctx context.Context, fs *files.Service, acct ids.Account, by ids.User, article ArticleID, name string, inline bool, locale string, body io.Reader) (*ArticleAttachment, error) {
	if _, err := GetArticle(ctx, s.db.R(), acct, article); err != nil {
		return nil, err
	}
	up, err := fs.Upload(ctx, acct, by, "", name, body)
	if err != nil {
		return nil, err
	}
	out := &ArticleAttachment{ArticleID: article, Inline: inline, Locale: locale, CreatedAt: store.Now()}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := GetArticle(ctx, tx, acct, article); err != nil {
			return err // deleted meanwhile
		}
		list, err := fs.KeepUpload(ctx, tx, acct, by, up.Token)
		if err != nil || len(list) == 0 {
			return fmt.Errorf("kb: keep article file: %w", err)
		}
		out.File, out.ID = list[0], list[0].ID
		_, err = tx.ExecContext(ctx, `INSERT INTO kb_article_attachments (account_id, id, article_id, inline, locale, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			acct, out.ID, article, inline, locale, store.Micros(out.CreatedAt))
		return err
	})
	if err != nil {
		_ = fs.DeleteUpload(context.WithoutCancel(ctx), acct, by, up.Token)
		return nil, err
	}
	return out, nil
}

// ArticleAttachments lists an article's files, oldest first.
func ArticleAttachments(ctx context.Context, q store.Queryer, acct ids.Account, article ArticleID) ([]*ArticleAttachment, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, article_id, inline, locale, created_at FROM kb_article_attachments WHERE account_id = ? AND article_id = ? ORDER BY id`, acct, article)
	if err != nil {
		return nil, fmt.Errorf("kb: article attachments: %w", err)
	}
	var out []*ArticleAttachment
	for rows.Next() {
		var x ArticleAttachment
		var at int64
		if err := rows.Scan(&x.ID, &x.ArticleID, &x.Inline, &x.Locale, &at); err != nil {
			rows.Close()
			return nil, err
		}
		x.CreatedAt = store.Time(at)
		out = append(out, &x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, x := range out {
		if x.File, err = files.Get(ctx, q, acct, x.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetArticleAttachment reads one article file of the account.
func GetArticleAttachment(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*ArticleAttachment, error) {
	var x ArticleAttachment
	var at int64
	err := q.QueryRowContext(ctx, `SELECT id, article_id, inline, locale, created_at FROM kb_article_attachments WHERE account_id = ? AND id = ?`, acct, id).
		Scan(&x.ID, &x.ArticleID, &x.Inline, &x.Locale, &at)
	if err != nil {
		return nil, errs.NotFoundf("article attachment %d not found", id)
	}
	x.CreatedAt = store.Time(at)
	if x.File, err = files.Get(ctx, q, acct, id); err != nil {
		return nil, err
	}
	return &x, nil
}

// DeleteArticleAttachment deletes an article's file and, when nothing else uses
// them, its bytes.
func (s *Service) DeleteArticleAttachment(ctx context.Context, fs *files.Service, acct ids.Account, id int64) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		x, err := GetArticleAttachment(ctx, tx, acct, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM kb_article_attachments WHERE account_id = ? AND id = ?`, acct, id); err != nil {
			return err
		}
		return fs.RemoveIn(ctx, tx, []*files.Attachment{x.File})
	})
}
