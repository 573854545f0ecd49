package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/files"
	"tandem/internal/ids"
)

// Attachments in the web interface: the reply forms upload each file at once (app.js
// posts it raw to /uploads with the CSRF header) and send the tokens with the comment;
// the thread shows images inline and other files as chips, all served from /files/{id}
// with the visibility of the comment they belong to (files.CanSee).

// uploadPath is the one path whose body may be as large as a file (checkCSRF).
const uploadPath = "/uploads"

func (s *Server) fileRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+uploadPath, s.page(signedIn, s.uploadFile))
	mux.HandleFunc("POST /uploads/{token}/delete", s.page(signedIn, s.deleteUpload))
	mux.HandleFunc("GET /files/{id}", s.page(signedIn, s.serveFile))
}

// uploadFile stores one file and answers with its token, as JSON for app.js.
func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request, c *call) error {
	up, err := s.files.Upload(r.Context(), c.Acct.ID, c.User.ID, "", r.URL.Query().Get("filename"), r.Body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if err != nil {
		status := http.StatusUnprocessableEntity
		switch errs.CodeOf(err) {
		case errs.TooLarge:
			status = http.StatusRequestEntityTooLarge
		case errs.Unavailable:
			status = http.StatusServiceUnavailable
		case errs.Internal:
			s.log.ErrorContext(r.Context(), "upload", "err", err)
			return err
		}
		msg := "The file was refused."
		var e *errs.Error
		if errors.As(err, &e) {
			msg = e.Error()
		}
		w.WriteHeader(status)
		return json.NewEncoder(w).Encode(map[string]string{"error": msg})
	}
	a := up.Attachments[0]
	return json.NewEncoder(w).Encode(map[string]any{"token": up.Token, "id": a.ID, "file_name": a.FileName, "size": a.Size, "content_type": a.ContentType})
}

func (s *Server) deleteUpload(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.files.DeleteUpload(r.Context(), c.Acct.ID, c.User.ID, r.PathValue("token")); err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serveFile sends an attachment to a signed-in user who may see its comment; to
// anyone else it does not exist.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errs.NotFoundf("There is no such file.")
	}
	a, err := files.Get(r.Context(), s.db.R(), c.Acct.ID, id)
	if err != nil {
		return errs.NotFoundf("There is no such file.")
	}
	if ok, err := files.CanSee(r.Context(), s.db.R(), c.Actor(), a); err != nil || !ok {
		if err == nil {
			err = errs.NotFoundf("There is no such file.")
		}
		return err
	}
	s.files.Serve(w, r, a)
	return nil
}

// fileView is an attachment as the thread shows it.
type fileView struct {
	ID      int64
	Name    string
	Size    int64
	Type    string
	Image   bool  // shown inline, from Thumb
	Thumb   int64 // the thumbnail's id (the image's own when it has none)
	Width   int
	Height  int
	Removed bool // redacted
}

// withFiles sets each comment entry's attachments, read in one query.
func (s *Server) withFiles(ctx context.Context, c *call, entries []entry) error {
	var list []ids.Comment
	for _, e := range entries {
		if e.Comment != nil {
			list = append(list, e.Comment.ID)
		}
	}
	if len(list) == 0 {
		return nil
	}
	by, err := files.ForComments(ctx, s.db.R(), c.Acct.ID, list)
	if err != nil {
		return err
	}
	max := s.files.Config().MaxPixels
	for i := range entries {
		if entries[i].Comment == nil {
			continue
		}
		for _, a := range by[entries[i].Comment.ID] {
			v := fileView{ID: a.ID, Name: a.FileName, Size: a.Size, Type: a.ContentType, Image: files.ShowsInline(a, max),
				Thumb: a.ID, Width: a.Width, Height: a.Height, Removed: a.Redacted()}
			if len(a.Thumbnails) > 0 {
				v.Thumb = a.Thumbnails[0].ID
			}
			entries[i].Files = append(entries[i].Files, v)
		}
	}
	return nil
}

// formUploads reads the upload tokens a reply form carries.
func formUploads(r *http.Request) []string {
	var out []string
	for _, t := range r.PostForm["uploads"] {
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

// fileSize is a byte count for people: 812 B, 14 KB, 3.2 MB.
func fileSize(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1000_000:
		return strconv.FormatInt((n+500)/1000, 10) + " KB"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}

// fileIcon is a short label of a file's kind for its chip.
func fileIcon(contentType string) string {
	switch {
	case strings.HasPrefix(contentType, "image/"):
		return "IMG"
	case contentType == "application/pdf":
		return "PDF"
	case strings.HasPrefix(contentType, "text/"):
		return "TXT"
	case contentType == "application/zip", contentType == "application/x-gzip":
		return "ZIP"
	}
	return "FILE"
}
