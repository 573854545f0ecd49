package files

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Config bounds uploads. A zero field takes its value from DefaultConfig.
type Config struct {
	// MaxFileSize is the largest file accepted, in bytes.
	MaxFileSize int64
	// AccountQuota is the most bytes of files one account may hold (counted per file,
	// before deduplication).
	AccountQuota int64
	// UploadTTL is how long an upload not yet attached to a comment is kept.
	UploadTTL time.Duration
	// SpoolDir holds uploads while they are hashed, sniffed and scanned (the system's
	// temporary directory when empty).
	SpoolDir string
	// MaxPixels is the largest image (width × height) given a thumbnail or shown
	// inline; larger ones are served as downloads only, never decoded.
	MaxPixels int64
	// ThumbTimeout bounds the making of one thumbnail.
	ThumbTimeout time.Duration
	// Scanner, when set, scans every upload before it is kept (ClamAV's clamd).
	Scanner *Clamd
}

// DefaultConfig is the one place the defaults are written.
func DefaultConfig() Config {
	return Config{
		MaxFileSize:  50 << 20,
		AccountQuota: 10 << 30,
		UploadTTL:    60 * time.Minute,
		MaxPixels:    50_000_000,
		ThumbTimeout: 5 * time.Second,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxFileSize <= 0 {
		c.MaxFileSize = d.MaxFileSize
	}
	if c.AccountQuota <= 0 {
		c.AccountQuota = d.AccountQuota
	}
	if c.UploadTTL <= 0 {
		c.UploadTTL = d.UploadTTL
	}
	if c.MaxPixels <= 0 {
		c.MaxPixels = d.MaxPixels
	}
	if c.ThumbTimeout <= 0 {
		c.ThumbTimeout = d.ThumbTimeout
	}
	if c.SpoolDir == "" {
		c.SpoolDir = os.TempDir()
	}
	return c
}

// Service owns uploads and attachments: every file enters through Upload and is
// attached through the ticket write path (AttachHook).
type Service struct {
	db    *store.DB
	blobs Blobs
	cfg   Config
	log   *slog.Logger
	// thumbs limits concurrent image decodes (each bounded in pixels) to two.
	thumbs chan struct{}
	keys   sync.Map // ids.Account → []byte: link-signing secrets, once read
}

// New returns the service over a blob store.
func New(db *store.DB, blobs Blobs, cfg Config, log *slog.Logger) *Service {
	if d, ok := blobs.(*Disk); ok && cfg.SpoolDir == "" {
		cfg.SpoolDir = d.SpoolDir() // so that uploads are renamed into place, not copied
	}
	return &Service{db: db, blobs: blobs, cfg: cfg.withDefaults(), log: log, thumbs: make(chan struct{}, 2)}
}

// Config returns the service's configuration (defaults filled).
func (s *Service) Config() Config { return s.cfg }

// Blobs returns the blob store.
func (s *Service) Blobs() Blobs { return s.blobs }

// Attachment is a file, attached to a comment or still an upload.
type Attachment struct {
	ID          int64
	AccountID   ids.Account
	Token       string
	UploaderID  ids.User
	TicketID    ids.Ticket
	CommentID   ids.Comment
	ParentID    int64
	FileName    string
	ContentType string
	Size        int64
	SHA256      string
	Width       int
	Height      int
	Inline      bool
	ScanResult  string
	RedactedBy  ids.User
	RedactedAt  time.Time
	ExpiresAt   time.Time
	CreatedAt   time.Time
	// Thumbnails are the attachment's thumbnails (read with it).
	Thumbnails []*Attachment
}

// Redacted reports whether the file was redacted (its bytes are gone).
func (a *Attachment) Redacted() bool { return a.RedactedBy != 0 || !a.RedactedAt.IsZero() }

// Upload is a token and the files uploaded under it.
type Upload struct {
	Token       string
	ExpiresAt   time.Time
	Attachments []*Attachment
}

const cols = `id, account_id, token, uploader_id, ticket_id, comment_id, parent_id, file_name, content_type, size, sha256, width, height, inline, scan_result, redacted_by, redacted_at, expires_at, created_at`

func scan(row interface{ Scan(...any) error }) (*Attachment, error) {
	a := &Attachment{}
	var redactedAt, expiresAt, createdAt int64
	err := row.Scan(&a.ID, &a.AccountID, &a.Token, &a.UploaderID, &a.TicketID, &a.CommentID, &a.ParentID, &a.FileName, &a.ContentType,
		&a.Size, &a.SHA256, &a.Width, &a.Height, &a.Inline, &a.ScanResult, &a.RedactedBy, &redactedAt, &expiresAt, &createdAt)
	if err != nil {
		return nil, err
	}
	a.RedactedAt, a.ExpiresAt, a.CreatedAt = fromMicros(redactedAt), fromMicros(expiresAt), fromMicros(createdAt)
	return a, nil
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func queryAll(ctx context.Context, q store.Queryer, query string, args ...any) ([]*Attachment, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("files: query attachments: %w", err)
	}
	defer rows.Close()
	var out []*Attachment
	for rows.Next() {
		a, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("files: read attachment: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// nest puts thumbnails under their images and returns the images.
func nest(all []*Attachment) []*Attachment {
	byID := map[int64]*Attachment{}
	for _, a := range all {
		byID[a.ID] = a
	}
	var top []*Attachment
	for _, a := range all {
		if p := byID[a.ParentID]; a.ParentID != 0 && p != nil {
			p.Thumbnails = append(p.Thumbnails, a)
		} else if a.ParentID == 0 {
			top = append(top, a)
		}
	}
	return top
}

// newToken is an unguessable upload token.
func newToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Upload streams a file into the store under a new token, or under token when one is
// given (Zendesk's way of adding several files to one upload). It is never whole in
// memory: the body goes to a spool file while it is hashed and measured, then is
// sniffed, scanned, measured as an image and put in the blob store. A file over the
// per-file limit or the account's quota is refused (413) naming the limit; an infected
// one (422) naming what was found. Nothing is kept of a refused file.
func (s *Service) Upload(ctx context.Context, acct ids.Account, uploader ids.User, token, name string, body io.Reader) (*Upload, error) {
	if _, none := s.blobs.(NoBlobs); none {
		return nil, errs.E(errs.Unavailable, "This server keeps no files (no --data-dir or --blob-store)")
	}
	name, err := CleanName(name)
	if err != nil {
		return nil, err
	}
	now := store.Now()
	expires := now.Add(s.cfg.UploadTTL)
	if token != "" {
		var n int
		err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM attachments WHERE account_id = ? AND token = ? AND uploader_id = ? AND comment_id = 0 AND expires_at > ?`,
			acct, token, uploader, store.Micros(now)).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("files: find upload: %w", err)
		}
		if n == 0 {
			return nil, errs.Invalidf("token", "InvalidValue", "upload token is unknown, expired or already used")
		}
	} else {
		token = newToken()
	}
	limit, what, err := s.limit(ctx, acct)
	if err != nil {
		return nil, err
	}
	sp, err := s.spool(ctx, body, limit)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, errs.E(errs.TooLarge, "The file is larger than %s", what)
		}
		return nil, err
	}
	defer sp.close()
	a := &Attachment{AccountID: acct, Token: token, UploaderID: uploader, FileName: name, ExpiresAt: expires, CreatedAt: now}
	if err := s.keep(ctx, sp, a, nil); err != nil {
		return nil, err
	}
	up := &Upload{Token: token, ExpiresAt: expires}
	all, err := queryAll(ctx, s.db.R(), `SELECT `+cols+` FROM attachments WHERE account_id = ? AND token = ? ORDER BY id`, acct, token)
	if err != nil {
		return nil, err
	}
	up.Attachments = nest(all)
	return up, nil
}

// limit is how many bytes the account's next file may have, and the limit named when
// it is exceeded: the per-file limit or what is left of the account's quota.
func (s *Service) limit(ctx context.Context, acct ids.Account) (int64, string, error) {
	var used int64
	if err := s.db.R().QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM attachments WHERE account_id = ?`, acct).Scan(&used); err != nil {
		return 0, "", fmt.Errorf("files: quota: %w", err)
	}
	limit, what := s.cfg.MaxFileSize, fmt.Sprintf("the %d-byte limit per file", s.cfg.MaxFileSize)
	if left := s.cfg.AccountQuota - used; left < limit {
		limit, what = max(left, 0), fmt.Sprintf("the account's %d-byte file quota (%d bytes left)", s.cfg.AccountQuota, max(left, 0))
	}
	return limit, what, nil
}

// keep checks a spooled file and stores it as a (its fields that say where it belongs
// set by the caller): it is sniffed, scanned, measured and thumbnailed, its rows written
// (claim, when set, runs in that transaction with the new row's id) and then its bytes
// put. On success a has its id, type and thumbnails; on failure nothing is kept.
func (s *Service) keep(ctx context.Context, sp *spooled, a *Attachment, claim func(ctx context.Context, tx *store.Tx, id int64) error) error {
	acct := a.AccountID
	a.ContentType, a.Size, a.SHA256, a.ScanResult = Sniff(sp.head, a.FileName), sp.size, sp.sha, ScanNotScanned
	if s.cfg.Scanner != nil {
		v, err := s.cfg.Scanner.Scan(ctx, sp.reader())
		if err != nil {
			s.log.ErrorContext(ctx, "malware scan failed", "err", err, "scanner", s.cfg.Scanner.String())
			return errs.E(errs.Unavailable, "The file could not be scanned for malware (malware_scan_result: %s); try again later", ScanFailed)
		}
		if v.Result == ScanInfected {
			s.log.WarnContext(ctx, "malware refused", "account", acct, "uploader", a.UploaderID, "signature", v.Signature, "sha256", sp.sha)
			return errs.Invalidf("file", "MalwareFound", "malware_scan_result: %s: the file contains %s and was refused", ScanInfected, v.Signature)
		}
		a.ScanResult = v.Result
	}
	var thumb *thumbnail
	if isImage(a.ContentType) {
		w, h, err := imageSize(sp.reader())
		if err == nil {
			a.Width, a.Height = w, h
			if int64(w)*int64(h) <= s.cfg.MaxPixels {
				thumb = s.makeThumbnail(ctx, sp.reader(), a.ContentType)
			}
		}
	}
	files := []*Attachment{a}
	if thumb != nil {
		files = append(files, &Attachment{AccountID: acct, Token: a.Token, UploaderID: a.UploaderID, TicketID: a.TicketID, CommentID: a.CommentID,
			FileName: thumbName(a.FileName), ContentType: "image/png", Size: int64(len(thumb.png)), SHA256: sum256(thumb.png), Width: thumb.w, Height: thumb.h,
			ScanResult: a.ScanResult, ExpiresAt: a.ExpiresAt, CreatedAt: a.CreatedAt})
	}
	// Count the references and write the rows first, then put the bytes: a blob whose
	// count is above zero is never deleted, so the bytes cannot vanish under a
	// concurrent delete of the same content.
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		for i, f := range files {
			if err := s.ref(ctx, tx, acct, f.SHA256, f.Size); err != nil {
				return err
			}
			if i > 0 {
				f.ParentID = a.ID
			}
			if err := insert(ctx, tx, f); err != nil {
				return err
			}
		}
		if claim != nil {
			return claim(ctx, tx, a.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var perr error
	if d, ok := s.blobs.(*Disk); ok && filepath.Dir(sp.f.Name()) == d.SpoolDir() {
		perr = d.Adopt(ctx, blobKey(int64(acct), a.SHA256), sp.f.Name())
	} else {
		perr = s.blobs.Put(ctx, blobKey(int64(acct), a.SHA256), sp.reader(), a.Size, a.SHA256)
	}
	if perr == nil && thumb != nil {
		perr = s.blobs.Put(ctx, blobKey(int64(acct), files[1].SHA256), bytes.NewReader(thumb.png), files[1].Size, files[1].SHA256)
	}
	if perr != nil {
		s.log.ErrorContext(ctx, "blob put failed", "store", s.blobs.String(), "err", perr)
		if err := s.db.Write(context.WithoutCancel(ctx), func(tx *store.Tx) error { return s.remove(ctx, tx, files) }); err != nil {
			s.log.ErrorContext(ctx, "undo upload", "err", err)
		}
		return errs.E(errs.Unavailable, "The file store is unavailable; try again later")
	}
	a.Thumbnails = files[1:]
	return nil
}

func insert(ctx context.Context, tx *store.Tx, a *Attachment) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO attachments (account_id, token, uploader_id, ticket_id, comment_id, parent_id, file_name, content_type, size, sha256, width, height, inline, scan_result, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.AccountID, a.Token, a.UploaderID, a.TicketID, a.CommentID, a.ParentID, a.FileName, a.ContentType, a.Size, a.SHA256, a.Width, a.Height, a.Inline,
		a.ScanResult, store.Micros(a.ExpiresAt), store.Micros(a.CreatedAt)).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("files: insert attachment: %w", err)
	}
	return nil
}

// ref counts one more use of an account's blob.
func (s *Service) ref(ctx context.Context, tx *store.Tx, acct ids.Account, sha string, size int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO blobs (account_id, sha256, size, refs) VALUES (?, ?, ?, 1)
		ON CONFLICT (account_id, sha256) DO UPDATE SET refs = blobs.refs + 1`, acct, sha, size)
	if err != nil {
		return fmt.Errorf("files: count blob: %w", err)
	}
	return nil
}

// release counts one use less of an account's blob and, when it was the last, deletes
// the bytes while the count's row is locked in tx (so no upload of the same content
// can count on them meanwhile).
func (s *Service) release(ctx context.Context, tx *store.Tx, acct ids.Account, sha string) error {
	if sha == "" {
		return nil
	}
	var refs int64
	err := tx.QueryRowContext(ctx, `UPDATE blobs SET refs = refs - 1 WHERE account_id = ? AND sha256 = ? RETURNING refs`, acct, sha).Scan(&refs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("files: release blob: %w", err)
	}
	if refs > 0 {
		return nil
	}
	if err := s.blobs.Delete(ctx, blobKey(int64(acct), sha)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE account_id = ? AND sha256 = ? AND refs <= 0`, acct, sha); err != nil {
		return fmt.Errorf("files: forget blob: %w", err)
	}
	return nil
}

// remove deletes attachment rows and releases their blobs.
func (s *Service) remove(ctx context.Context, tx *store.Tx, list []*Attachment) error {
	for _, a := range list {
		if a.ID != 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM attachments WHERE account_id = ? AND id = ?`, a.AccountID, a.ID); err != nil {
				return fmt.Errorf("files: delete attachment: %w", err)
			}
		}
		if err := s.release(ctx, tx, a.AccountID, a.SHA256); err != nil {
			return err
		}
	}
	return nil
}

// DeleteUpload deletes an upload not yet attached (Zendesk's DELETE /uploads/{token}).
// Only its uploader may; to anyone else it does not exist.
func (s *Service) DeleteUpload(ctx context.Context, acct ids.Account, by ids.User, token string) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		list, err := queryAll(ctx, tx, `SELECT `+cols+` FROM attachments WHERE account_id = ? AND token = ? AND uploader_id = ? AND comment_id = 0`, acct, token, by)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return errs.NotFoundf("upload not found")
		}
		return s.remove(ctx, tx, list)
	})
}

// ExpireUploads deletes uploads whose time ran out before they were attached, with
// their blobs, at most limit of them; it returns how many it deleted.
func (s *Service) ExpireUploads(ctx context.Context, now time.Time, limit int) (int, error) {
	list, err := queryAll(ctx, s.db.R(), `SELECT `+cols+` FROM attachments WHERE expires_at > 0 AND expires_at <= ? AND comment_id = 0 ORDER BY expires_at LIMIT ?`, store.Micros(now), limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range list {
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			// Re-read under the write lock: it may have been attached meanwhile.
			cur, err := queryAll(ctx, tx, `SELECT `+cols+` FROM attachments WHERE account_id = ? AND id = ? AND comment_id = 0 AND expires_at > 0 AND expires_at <= ?`, a.AccountID, a.ID, store.Micros(now))
			if err != nil || len(cur) == 0 {
				return err
			}
			n++
			return s.remove(ctx, tx, cur)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Run deletes expired uploads every minute until ctx ends (a server worker).
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			n, err := s.ExpireUploads(ctx, time.Now(), 100)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("expire uploads", "err", err)
			}
			if n < 100 || err != nil {
				break
			}
		}
	}
}

// Get reads one attachment of the account (thumbnails included).
func Get(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*Attachment, error) {
	a, err := scan(q.QueryRowContext(ctx, `SELECT `+cols+` FROM attachments WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("attachment %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("files: get attachment: %w", err)
	}
	if a.ParentID == 0 {
		a.Thumbnails, err = queryAll(ctx, q, `SELECT `+cols+` FROM attachments WHERE account_id = ? AND parent_id = ? ORDER BY id`, acct, id)
	}
	return a, err
}

// ForComments reads the attachments of comments, by comment.
func ForComments(ctx context.Context, q store.Queryer, acct ids.Account, comments []ids.Comment) (map[ids.Comment][]*Attachment, error) {
	out := map[ids.Comment][]*Attachment{}
	for len(comments) > 0 {
		n := min(len(comments), 500)
		part := comments[:n]
		comments = comments[n:]
		args := []any{acct}
		for _, c := range part {
			args = append(args, c)
		}
		all, err := queryAll(ctx, q, `SELECT `+cols+` FROM attachments WHERE account_id = ? AND comment_id IN (`+strings.TrimSuffix(strings.Repeat("?,", n), ",")+`) ORDER BY id`, args...)
		if err != nil {
			return nil, err
		}
		for _, a := range nest(all) {
			out[a.CommentID] = append(out[a.CommentID], a)
		}
	}
	return out, nil
}

// Open returns the bytes of an attachment (an empty file once redacted).
func (s *Service) Open(ctx context.Context, a *Attachment) (io.ReadCloser, error) {
	if a.Redacted() || a.SHA256 == "" {
		return io.NopCloser(strings.NewReader("")), nil
	}
	return s.blobs.Open(ctx, blobKey(int64(a.AccountID), a.SHA256))
}

func sum256(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }
