package api

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/kb"
)

// Article attachments (Zendesk's /api/v2/help_center/articles/{id}/attachments): files
// of help center articles, stored through internal/files and readable by whoever may
// read the article (kb.Viewer.CanReadAny); agents add and delete them. The bytes are
// served at /hc/article_attachments/{id}/{name} (internal/web), the content_url.

func (s *Server) articleAttachmentRoutes(mux *routeMux, p string) {
	mux.HandleFunc("GET "+p+"/articles/{id}/attachments", s.h(anyone, s.hcArticleAttachments("")))
	mux.HandleFunc("GET "+p+"/articles/{id}/attachments/inline", s.h(anyone, s.hcArticleAttachments("inline")))
	mux.HandleFunc("GET "+p+"/articles/{id}/attachments/block", s.h(anyone, s.hcArticleAttachments("block")))
	mux.HandleFunc("POST "+p+"/articles/{id}/attachments", s.h(agent, s.hcAddArticleAttachment))
	// articles/attachments/{id}, as helpCenterLocale routes it.
	mux.HandleFunc("GET "+p+"/article_attachments/{id}", s.h(anyone, s.hcArticleAttachment))
	mux.HandleFunc("DELETE "+p+"/article_attachments/{id}", s.h(agent, s.hcDeleteArticleAttachment))
}

func articleAttachmentJSON(c *Call, x *kb.ArticleAttachment) map[string]any {
	id := strconv.FormatInt(x.ID, 10)
	rel := "/hc/article_attachments/" + id + "/" + url.PathEscape(x.File.FileName)
	return map[string]any{
		"id":                x.ID,
		"url":               c.URL("/api/v2/help_center/articles/attachments/" + id + ".json"),
		"article_id":        int64(x.ArticleID),
		"file_name":         x.File.FileName,
		"display_file_name": x.File.FileName,
		"content_url":       c.URL(rel),
		"relative_path":     rel,
		"content_type":      x.File.ContentType,
		"size":              x.File.Size,
		"inline":            x.Inline,
		"locale":            nullStr(x.Locale),
		"created_at":        ts(x.CreatedAt),
		"updated_at":        ts(x.CreatedAt),
	}
}

// readableArticle returns the article of id if the caller may read it in some
// translation; otherwise it does not exist for them.
func (s *Server) readableArticle(r *http.Request, c *Call, id int64) (*kb.Article, error) {
	v, err := s.viewer(r.Context(), c)
	if err != nil {
		return nil, err
	}
	return kb.ReadableArticle(r.Context(), s.db.R(), c.Acct.ID, v, kb.ArticleID(id))
}

func (s *Server) hcArticleAttachments(which string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if _, err := s.readableArticle(r, c, id); err != nil {
			return err
		}
		list, err := kb.ArticleAttachments(r.Context(), s.db.R(), c.Acct.ID, kb.ArticleID(id))
		if err != nil {
			return err
		}
		out := []any{}
		for _, x := range list {
			if which == "inline" && !x.Inline || which == "block" && x.Inline {
				continue
			}
			out = append(out, articleAttachmentJSON(c, x))
		}
		writeJSON(w, http.StatusOK, map[string]any{"article_attachments": out})
		return nil
	}
}

func (s *Server) hcArticleAttachment(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	x, err := kb.GetArticleAttachment(r.Context(), s.db.R(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	if _, err := s.readableArticle(r, c, int64(x.ArticleID)); err != nil {
		return errs.NotFoundf("article attachment %d not found", id)
	}
	writeJSON(w, http.StatusOK, map[string]any{"article_attachment": articleAttachmentJSON(c, x)})
	return nil
}

// hcAddArticleAttachment takes Zendesk's multipart form (an "inline" field, then a
// "file" part) or, like /uploads, the raw file with ?filename= (and ?inline=true).
func (s *Server) hcAddArticleAttachment(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := kb.GetArticle(r.Context(), s.db.R(), c.Acct.ID, kb.ArticleID(id)); err != nil {
		return err
	}
	q := r.URL.Query()
	inline := q.Get("inline") == "true"
	locale, _ := kb.NormalizeLocale(q.Get("locale"))
	var x *kb.ArticleAttachment
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		mr, err := r.MultipartReader()
		if err != nil {
			return errs.Invalidf("file", "InvalidValue", "the multipart form cannot be read: %v", err)
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return errs.Invalidf("file", "InvalidValue", "the multipart form cannot be read: %v", err)
			}
			switch part.FormName() {
			case "inline":
				b, _ := io.ReadAll(io.LimitReader(part, 16))
				inline = strings.TrimSpace(string(b)) == "true"
			case "locale":
				b, _ := io.ReadAll(io.LimitReader(part, 32))
				locale, _ = kb.NormalizeLocale(strings.TrimSpace(string(b)))
			case "file":
				if x != nil {
					return errs.Invalidf("file", "TooMany", "one file per request")
				}
				if x, err = s.kb.AddArticleAttachment(r.Context(), s.files, c.Acct.ID, c.User.ID, kb.ArticleID(id), part.FileName(), inline, locale, part); err != nil {
					return err
				}
			}
			part.Close()
		}
	} else if x, err = s.kb.AddArticleAttachment(r.Context(), s.files, c.Acct.ID, c.User.ID, kb.ArticleID(id), q.Get("filename"), inline, locale, r.Body); err != nil {
		return err
	}
	if x == nil {
		return errs.Invalidf("file", "BlankValue", "the form has no file part")
	}
	writeJSON(w, http.StatusCreated, map[string]any{"article_attachment": articleAttachmentJSON(c, x)})
	return nil
}

func (s *Server) hcDeleteArticleAttachment(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.kb.DeleteArticleAttachment(r.Context(), s.files, c.Acct.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
