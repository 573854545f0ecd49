package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Disk keeps blobs under a directory: {root}/{account}/{sha[:2]}/{sha}. A blob is
// written to a temporary file under {root}/tmp and renamed into place, so a reader never
// sees half a file and a crash leaves at most a temporary file.
type Disk struct {
	root string
}

// NewDisk returns the disk store at root, creating it.
func NewDisk(root string) (*Disk, error) {
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("files: disk store: %w", err)
	}
	return &Disk{root: root}, nil
}

func (d *Disk) String() string { return "disk:" + d.root }

func (d *Disk) path(key string) (string, error) {
	if err := validKey(key); err != nil {
		return "", err
	}
	acct, sha := filepath.Dir(key), filepath.Base(key)
	return filepath.Join(d.root, acct, sha[:2], sha), nil
}

// Put writes the blob through a temporary file, checks its size and SHA-256, and
// renames it into place.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader, size int64, sha string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if _, err := os.Stat(p); err == nil {
		return nil // content-addressed: the same bytes are there already
	}
	tmp, err := os.CreateTemp(filepath.Join(d.root, "tmp"), "put-*")
	if err != nil {
		return fmt.Errorf("files: disk put: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("files: disk put: %w", err)
	}
	if n != size || hex.EncodeToString(h.Sum(nil)) != sha {
		return fmt.Errorf("files: disk put %s: content does not match its size or SHA-256", key)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("files: disk put: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("files: disk put: %w", err)
	}
	return nil
}

// Open opens the blob.
func (d *Disk) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoBlob
	}
	return f, err
}

// Exists reports whether the blob is there.
func (d *Disk) Exists(ctx context.Context, key string) (bool, error) {
	p, err := d.path(key)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Delete removes the blob (and its directory when it was the last one there).
func (d *Disk) Delete(ctx context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("files: disk delete: %w", err)
	}
	_ = os.Remove(filepath.Dir(p)) // only succeeds when empty
	return nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// SpoolDir is where uploads are spooled before they are stored: the store's own
// temporary directory, so that Adopt can rename a spooled file into place.
func (d *Disk) SpoolDir() string { return filepath.Join(d.root, "tmp") }

// Adopt moves a file already written, measured and hashed by the caller (an upload's
// spool file, in SpoolDir) into place under key, saving a second copy of the bytes.
// The file is gone afterwards either way (renamed, or left to its owner to remove).
func (d *Disk) Adopt(ctx context.Context, key, path string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if _, err := os.Stat(p); err == nil {
		return nil // content-addressed: the same bytes are there already
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("files: disk adopt: %w", err)
	}
	if err := os.Rename(path, p); err != nil {
		return fmt.Errorf("files: disk adopt: %w", err)
	}
	return nil
}
