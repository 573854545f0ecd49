package files

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
)

// FileCSP is the Content-Security-Policy of every file response: nothing in a file may
// load or run anything, and the sandbox gives it an origin of its own.
const FileCSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"

// ShowsInline reports whether the attachment is shown in the browser rather than
// downloaded: raster images of a safe type whose size is known and within maxPixels.
// SVG never is.
func ShowsInline(a *Attachment, maxPixels int64) bool {
	return isImage(a.ContentType) && a.Width > 0 && a.Height > 0 && int64(a.Width)*int64(a.Height) <= maxPixels && !a.Redacted()
}

// Serve writes an attachment's bytes with the headers that keep them inert: nosniff, a
// sandboxing CSP, attachment disposition for all but safe images, and a content type
// that a browser will not run (active types go as application/octet-stream).
func (s *Service) Serve(w http.ResponseWriter, r *http.Request, a *Attachment) {
	body, err := s.Open(r.Context(), a)
	if errors.Is(err, ErrNoBlob) {
		http.Error(w, "the file is no longer stored", http.StatusGone)
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "open attachment", "id", a.ID, "err", err)
		http.Error(w, "the file store is unavailable", http.StatusServiceUnavailable)
		return
	}
	defer body.Close()
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", FileCSP)
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("Referrer-Policy", "no-referrer")
	ct := a.ContentType
	if slices.ContainsFunc(activeTypes, func(t string) bool { return strings.HasPrefix(ct, t) }) {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	disp := "attachment"
	if ShowsInline(a, s.cfg.MaxPixels) {
		disp = "inline"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": a.FileName}))
	size := a.Size
	if a.Redacted() {
		size = 0
	}
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, body); err != nil && r.Context().Err() == nil {
		s.log.WarnContext(r.Context(), "send attachment", "id", a.ID, "err", err)
	}
}

// Signed links: /attachments/{id}/{name}?expires=UNIX&sig=HMAC, usable without
// credentials until they expire (mail recipients, partners). The key is per account
// and kept in the database, so every server behind a load balancer agrees.

// SignedPath returns the path of a signed link to attachment id valid until exp.
func (s *Service) SignedPath(ctx context.Context, acct ids.Account, a *Attachment, exp time.Time) (string, error) {
	return s.SignedPathIn(ctx, nil, acct, a, exp)
}

// SignedPathIn is SignedPath for a caller inside a write transaction (tx, nil for
// none): an account's first key is then created in tx, never in a second transaction
// that would wait for it.
func (s *Service) SignedPathIn(ctx context.Context, tx *store.Tx, acct ids.Account, a *Attachment, exp time.Time) (string, error) {
	var key []byte
	var err error
	if tx != nil {
		key, err = s.keyIn(ctx, tx, acct)
	} else {
		key, err = s.key(ctx, acct)
	}
	if err != nil {
		return "", err
	}
	e := strconv.FormatInt(exp.Unix(), 10)
	return "/attachments/" + strconv.FormatInt(a.ID, 10) + "/" + url.PathEscape(a.FileName) + "?expires=" + e + "&sig=" + sign(key, acct, a.ID, e), nil
}

// VerifySigned checks a signed link's expiry and signature for attachment id.
func (s *Service) VerifySigned(ctx context.Context, acct ids.Account, id int64, expires, sig string, now time.Time) bool {
	e, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || now.Unix() > e || sig == "" {
		return false
	}
	key, err := s.key(ctx, acct)
	if err != nil {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(sign(key, acct, id, expires)))
}

func sign(key []byte, acct ids.Account, id int64, expires string) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%d:%d:%s", acct, id, expires)
	return hex.EncodeToString(m.Sum(nil))
}

// createKey makes the account's signing key in tx unless it has one, and returns it.
func createKey(ctx context.Context, tx *store.Tx, acct ids.Account) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	if _, err := tx.ExecContext(ctx, `INSERT INTO attachment_keys (account_id, secret) VALUES (?, ?) ON CONFLICT (account_id) DO NOTHING`, acct, hex.EncodeToString(b)); err != nil {
		return "", err
	}
	var secret string
	err := tx.QueryRowContext(ctx, `SELECT secret FROM attachment_keys WHERE account_id = ?`, acct).Scan(&secret)
	return secret, err
}

// SignedPathTx is SignedPath inside a write transaction (outgoing mail queued with a
// ticket change): a key made for the account is kept only if tx commits.
func (s *Service) SignedPathTx(ctx context.Context, tx *store.Tx, acct ids.Account, a *Attachment, exp time.Time) (string, error) {
	k, ok := s.keys.Load(acct)
	if !ok {
		secret, err := createKey(ctx, tx, acct)
		if err != nil {
			return "", fmt.Errorf("files: signing key: %w", err)
		}
		k = []byte(secret)
		tx.AfterCommit(func() { s.keys.Store(acct, k) })
	}
	e := strconv.FormatInt(exp.Unix(), 10)
	return "/attachments/" + strconv.FormatInt(a.ID, 10) + "/" + url.PathEscape(a.FileName) + "?expires=" + e + "&sig=" + sign(k.([]byte), acct, a.ID, e), nil
}

// key returns the account's signing key, creating it on first use.
func (s *Service) key(ctx context.Context, acct ids.Account) ([]byte, error) {
	if k, ok := s.keys.Load(acct); ok {
		return k.([]byte), nil
	}
	var secret string
	err := s.db.R().QueryRowContext(ctx, `SELECT secret FROM attachment_keys WHERE account_id = ?`, acct).Scan(&secret)
	if errors.Is(err, store.ErrNoRows) {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		err = s.db.Write(ctx, func(tx *store.Tx) error {
			secret, err = createKey(ctx, tx, acct)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("files: signing key: %w", err)
	}
	k := []byte(secret)
	s.keys.Store(acct, k)
	return k, nil
}

// keyIn returns the account's signing key, creating it in tx on first use; a key
// created here is remembered only once tx commits.
func (s *Service) keyIn(ctx context.Context, tx *store.Tx, acct ids.Account) ([]byte, error) {
	if k, ok := s.keys.Load(acct); ok {
		return k.([]byte), nil
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	var secret string
	if _, err := tx.ExecContext(ctx, `INSERT INTO attachment_keys (account_id, secret) VALUES (?, ?) ON CONFLICT (account_id) DO NOTHING`, acct, hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("files: signing key: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT secret FROM attachment_keys WHERE account_id = ?`, acct).Scan(&secret); err != nil {
		return nil, fmt.Errorf("files: signing key: %w", err)
	}
	k := []byte(secret)
	tx.AfterCommit(func() { s.keys.Store(acct, k) })
	return k, nil
}
