package server

import (
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"tandem/internal/account"
	"tandem/internal/files"
	"tandem/internal/store"
)

// newFiles builds the attachments service from the configuration: the blob store
// (disk under FilesDir, or BlobStore), the optional clamd scanner and the limits.
func newFiles(cfg Config, db *store.DB, log *slog.Logger) (*files.Service, error) {
	fc := cfg.Files
	var blobs files.Blobs
	if cfg.BlobStore == "" && cfg.FilesDir == "" {
		blobs = files.NoBlobs{}
	} else {
		b, err := files.OpenBlobs(cfg.BlobStore, cfg.FilesDir, os.Getenv)
		if err != nil {
			return nil, err
		}
		blobs = b
	}
	if cfg.Clamd != "" {
		c, err := files.NewClamd(cfg.Clamd)
		if err != nil {
			return nil, err
		}
		fc.Scanner = c
	}
	return files.New(db, blobs, fc, log), nil
}

// signedFile serves /attachments/{id}/{name}?expires=&sig=: a link Tandem signed for
// one attachment of the account, valid until it expires. Anything else is 404.
func (s *Server) signedFile(w http.ResponseWriter, r *http.Request) {
	acct := account.FromContext(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	q := r.URL.Query()
	if err != nil || acct == nil || !s.Files.VerifySigned(r.Context(), acct.ID, id, q.Get("expires"), q.Get("sig"), time.Now()) {
		http.Error(w, "this link is invalid or has expired", http.StatusNotFound)
		return
	}
	a, err := files.Get(r.Context(), s.db.R(), acct.ID, id)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	s.Files.Serve(w, r, a)
}
