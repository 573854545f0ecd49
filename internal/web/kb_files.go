package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/kb"
)

// Article attachments in the help center: the files an agent attached to an article
// (the API's articles/{id}/attachments) are listed under it and served at
// /hc/article_attachments/{id}/{name}, the API's content_url, to whoever may read the
// article in some translation (kb.Viewer.CanReadAny): anyone for a public article, its
// readers only otherwise, nobody for another account's.

// kbFile is an article's file as the article page lists it.
type kbFile struct {
	Name, URL, Size, Type string
}

// articleFilePrefix is Zendesk's path of article files. A ServeMux pattern for it would
// clash with /hc/{locale}/articles/{id}, so articleFilePaths routes it as
// /hc-files/{id}/{name}.
const articleFilePrefix = "/hc/article_attachments/"

func (s *Server) kbFileRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /hc-files/{id}/{name}", s.page(anyone, s.kbServeFile))
}

// articleFilePaths routes /hc/article_attachments/{id}/{name} to the article file
// handler (see articleFilePrefix).
func articleFilePaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, articleFilePrefix); ok {
			r.URL.Path, r.URL.RawPath = "/hc-files/"+rest, ""
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) kbServeFile(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errs.NotFoundf("There is no file at this address.")
	}
	x, err := kb.GetArticleAttachment(r.Context(), s.db.R(), c.Acct.ID, id)
	if err != nil {
		return errs.NotFoundf("There is no file at this address.")
	}
	v, err := s.kbViewer(r.Context(), c)
	if err != nil {
		return err
	}
	if _, err := kb.ReadableArticle(r.Context(), s.db.R(), c.Acct.ID, v, x.ArticleID); err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.NotFoundf("There is no file at this address.")
		}
		return err
	}
	s.files.Serve(w, r, x.File)
	return nil
}

// kbFiles lists an article's files that are not shown inline in its body.
func (s *Server) kbFiles(r *http.Request, acct ids.Account, article kb.ArticleID) ([]kbFile, error) {
	list, err := kb.ArticleAttachments(r.Context(), s.db.R(), acct, article)
	if err != nil {
		return nil, err
	}
	var out []kbFile
	for _, x := range list {
		if x.Inline {
			continue
		}
		out = append(out, kbFile{Name: x.File.FileName, Size: fileSize(x.File.Size), Type: x.File.ContentType,
			URL: articleFilePrefix + strconv.FormatInt(x.ID, 10) + "/" + url.PathEscape(x.File.FileName)})
	}
	return out, nil
}
