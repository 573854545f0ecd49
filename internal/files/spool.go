package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

var errTooLarge = errors.New("files: too large")

// spooled is an upload on disk while it is checked: its size, SHA-256 and first bytes.
type spooled struct {
	f    *os.File
	size int64
	sha  string
	head []byte
}

// spool copies at most limit bytes of body to a temporary file, hashing as it goes; a
// body longer than limit is errTooLarge (the rest is not read, the file removed).
func (s *Service) spool(ctx context.Context, body io.Reader, limit int64) (*spooled, error) {
	f, err := os.CreateTemp(s.cfg.SpoolDir, "tandem-upload-*")
	if err != nil {
		return nil, fmt.Errorf("files: spool: %w", err)
	}
	sp := &spooled{f: f}
	h := sha256.New()
	hw := &headWriter{max: 512}
	n, err := io.Copy(io.MultiWriter(f, h, hw), ctxReader{ctx, io.LimitReader(body, limit+1)})
	if err == nil && n > limit {
		err = errTooLarge
	}
	if err != nil {
		sp.close()
		if !errors.Is(err, errTooLarge) {
			err = fmt.Errorf("files: read upload: %w", err)
		}
		return nil, err
	}
	sp.size, sp.sha, sp.head = n, hex.EncodeToString(h.Sum(nil)), hw.b
	return sp, nil
}

// reader reads the spooled file from its start.
func (sp *spooled) reader() io.Reader { return io.NewSectionReader(sp.f, 0, sp.size) }

func (sp *spooled) close() {
	sp.f.Close()
	os.Remove(sp.f.Name())
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	b   []byte
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
