package files

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// S3Config names an S3-compatible bucket.
type S3Config struct {
	Bucket string
	// Prefix is prepended to every key (no leading or trailing slash).
	Prefix string
	// Endpoint is the store's base URL (http://127.0.0.1:9000); path-style addressing
	// is used, which every S3-compatible server supports.
	Endpoint  string
	Region    string // default us-east-1
	AccessKey string
	SecretKey string
}

// S3 is a blob store in an S3-compatible bucket, spoken to with a small client that
// signs requests with AWS Signature Version 4 (PUT, GET, HEAD and DELETE of one object
// are all Tandem needs, so no SDK is pulled in). Several Tandem servers behind a load
// balancer can share one bucket.
type S3 struct {
	cfg    S3Config
	base   *url.URL
	client *http.Client
}

// NewS3 returns the store for cfg.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("files: s3 blob store: no bucket (s3://BUCKET?endpoint=...)")
	}
	if cfg.Endpoint == "" {
		return nil, errors.New("files: s3 blob store: no endpoint (s3://bucket?endpoint=https://host)")
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("files: s3 blob store: endpoint %q must be an http:// or https:// URL", cfg.Endpoint)
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("files: s3 blob store: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		ResponseHeaderTimeout: 60 * time.Second,
		MaxIdleConnsPerHost:   16,
	}
	return &S3{cfg: cfg, base: u, client: &http.Client{Transport: tr}}, nil
}

func (s *S3) String() string { return "s3://" + s.cfg.Bucket + " at " + s.base.Host }

// emptySHA is the SHA-256 of no bytes, the payload hash of GET, HEAD and DELETE.
const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func (s *S3) objectPath(key string) string {
	p := "/" + s.cfg.Bucket + "/"
	if s.cfg.Prefix != "" {
		p += s.cfg.Prefix + "/"
	}
	return p + key
}

func (s *S3) do(ctx context.Context, method, key string, body io.Reader, size int64, payloadSHA string) (*http.Response, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	u := *s.base
	u.Path = strings.TrimRight(u.Path, "/") + s.objectPath(key)
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
	}
	s.sign(req, payloadSHA, time.Now().UTC())
	return s.client.Do(req)
}

// sign adds AWS Signature Version 4 headers to req.
func (s *S3) sign(req *http.Request, payloadSHA string, now time.Time) {
	amzDate := now.Format("20060102T150405Z")
	day := amzDate[:8]
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Content-Sha256", payloadSHA)
	signed := "host;x-amz-content-sha256;x-amz-date"
	canonical := strings.Join([]string{
		req.Method,
		req.URL.EscapedPath(),
		"", // no query
		"host:" + req.URL.Host + "\nx-amz-content-sha256:" + payloadSHA + "\nx-amz-date:" + amzDate + "\n",
		signed,
		payloadSHA,
	}, "\n")
	scope := day + "/" + s.cfg.Region + "/s3/aws4_request"
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA([]byte("AWS4"+s.cfg.SecretKey), day)
	key = hmacSHA(key, s.cfg.Region)
	key = hmacSHA(key, "s3")
	key = hmacSHA(key, "aws4_request")
	sig := hex.EncodeToString(hmacSHA(key, toSign))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+s.cfg.AccessKey+"/"+scope+", SignedHeaders="+signed+", Signature="+sig)
}

func hmacSHA(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// s3Error reads a failed response into an error (the body is S3's XML, kept short).
func s3Error(op, key string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return fmt.Errorf("files: s3 %s %s: %s: %s", op, key, resp.Status, strings.TrimSpace(string(b)))
}

// Put uploads the blob in one signed PUT whose payload hash is the blob's SHA-256, so
// the store itself refuses bytes that do not match.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, sha string) error {
	if ok, err := s.Exists(ctx, key); err != nil {
		return err
	} else if ok {
		return nil // content-addressed: the same bytes are there already
	}
	// The payload hash is signed, so a conforming store refuses mismatched bytes; the
	// body also checks itself and breaks off the request rather than end cleanly, for
	// stores that do not look.
	body := &checkedReader{r: ctxReader{ctx, r}, h: sha256.New(), want: sha, left: size}
	resp, err := s.do(ctx, http.MethodPut, key, body, size, sha)
	if err != nil {
		return fmt.Errorf("files: s3 put %s: %w", key, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return s3Error("put", key, resp)
	}
	return nil
}

// Open streams the blob.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	resp, err := s.do(ctx, http.MethodGet, key, nil, 0, emptySHA)
	if err != nil {
		return nil, fmt.Errorf("files: s3 get %s: %w", key, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		resp.Body.Close()
		return nil, ErrNoBlob
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, s3Error("get", key, resp)
	}
	return resp.Body, nil
}

// Exists asks with HEAD.
func (s *S3) Exists(ctx context.Context, key string) (bool, error) {
	resp, err := s.do(ctx, http.MethodHead, key, nil, 0, emptySHA)
	if err != nil {
		return false, fmt.Errorf("files: s3 head %s: %w", key, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return false, nil
	case resp.StatusCode/100 == 2:
		return true, nil
	}
	return false, s3Error("head", key, resp)
}

// Delete removes the object (S3 answers 204 for a missing one too).
func (s *S3) Delete(ctx context.Context, key string) error {
	resp, err := s.do(ctx, http.MethodDelete, key, nil, 0, emptySHA)
	if err != nil {
		return fmt.Errorf("files: s3 delete %s: %w", key, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotFound {
		return s3Error("delete", key, resp)
	}
	return nil
}

// checkedReader yields at most left bytes and, instead of the last of them, an error
// when the bytes do not have the SHA-256 want; a count that falls short is an error too.
type checkedReader struct {
	r    io.Reader
	h    hash.Hash
	want string
	left int64
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		if hex.EncodeToString(c.h.Sum(nil)) != c.want {
			return 0, errors.New("files: content does not match its SHA-256")
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.left -= int64(n)
	if c.left == 0 && hex.EncodeToString(c.h.Sum(nil)) != c.want {
		// Withhold the last bytes: the store gets fewer than Content-Length and drops
		// the request (the transport reads no further once it has them all).
		return 0, errors.New("files: content does not match its SHA-256")
	}
	if err == io.EOF && c.left > 0 {
		return n, io.ErrUnexpectedEOF
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}
