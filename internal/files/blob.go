// Package files keeps the files attached to ticket comments: the blob stores that hold
// their bytes (local disk, content-addressed, or an S3-compatible object store), the
// uploads that become attachments through the ticket write path, the malware scan
// (clamd), thumbnails, expiry of unused uploads and the one function that serves a file
// to a browser or an API client safely.
package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
)

// ErrNoBlob is returned by Blobs.Open for a key that holds nothing.
var ErrNoBlob = errors.New("files: no such blob")

// Blobs is where the bytes of files live, by key ("{account}/{sha256}"). Both
// implementations pass the same test suite (blobsuite_test.go).
type Blobs interface {
	// Put stores size bytes read from r under key. sha is the hex SHA-256 of the
	// bytes, already computed by the caller; the store checks it where it can. Putting
	// a key that exists leaves it as it is (the content is the same, by its name).
	Put(ctx context.Context, key string, r io.Reader, size int64, sha string) error
	// Open returns the blob's bytes (ErrNoBlob when there are none).
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Exists reports whether key holds a blob.
	Exists(ctx context.Context, key string) (bool, error)
	// Delete removes the blob; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// String names the store for logs and errors (never with credentials).
	String() string
}

// blobKey is the key of an account's blob of the given SHA-256.
func blobKey(acct int64, sha string) string { return fmt.Sprintf("%d/%s", acct, sha) }

// validKey refuses anything but "{digits}/{64 hex}": keys never come from a client, but
// a store must not be talked into a path outside its root whatever happens upstream.
func validKey(key string) error {
	acct, sha, ok := strings.Cut(key, "/")
	if !ok || acct == "" || len(sha) != 64 {
		return fmt.Errorf("files: bad blob key %q", key)
	}
	for _, c := range acct {
		if c < '0' || c > '9' {
			return fmt.Errorf("files: bad blob key %q", key)
		}
	}
	for _, c := range sha {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return fmt.Errorf("files: bad blob key %q", key)
		}
	}
	return nil
}

// OpenBlobs opens the blob store named by spec: "" for local disk under dir, or
// "s3://bucket?endpoint=http://host:port&region=R" for an S3-compatible store (the
// credentials come from getenv: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
func OpenBlobs(spec, dir string, getenv func(string) string) (Blobs, error) {
	if spec == "" || strings.HasPrefix(spec, "file://") || !strings.Contains(spec, "://") {
		if p, ok := strings.CutPrefix(spec, "file://"); ok {
			dir = p
		} else if spec != "" {
			dir = spec
		}
		if dir == "" {
			return nil, errors.New("files: no directory for the blob store")
		}
		return NewDisk(filepath.Clean(dir))
	}
	u, err := url.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("files: blob store %q: %w", spec, err)
	}
	if u.Scheme != "s3" {
		return nil, fmt.Errorf("files: blob store %q: scheme must be s3:// (or a directory)", u.Redacted())
	}
	q := u.Query()
	return NewS3(S3Config{
		Bucket:    u.Host,
		Prefix:    strings.Trim(u.Path, "/"),
		Endpoint:  q.Get("endpoint"),
		Region:    q.Get("region"),
		AccessKey: getenv("AWS_ACCESS_KEY_ID"),
		SecretKey: getenv("AWS_SECRET_ACCESS_KEY"),
	})
}

// NoBlobs is the store of a server configured without one: it refuses every file.
type NoBlobs struct{}

var errNoStore = errors.New("files: no blob store is configured (--data-dir or --blob-store)")

func (NoBlobs) Put(context.Context, string, io.Reader, int64, string) error { return errNoStore }
func (NoBlobs) Open(context.Context, string) (io.ReadCloser, error)         { return nil, ErrNoBlob }
func (NoBlobs) Exists(context.Context, string) (bool, error)                { return false, nil }
func (NoBlobs) Delete(context.Context, string) error                        { return nil }
func (NoBlobs) String() string                                              { return "none" }
