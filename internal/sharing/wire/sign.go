package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request signing is a Tandem-to-Tandem extension; plain protocol peers send neither
// header. The signature is "v1=" followed by the lowercase hex HMAC-SHA256, keyed by the
// agreement's access key, of
//
//	METHOD "\n" PATH "\n" TIMESTAMP "\n" hex(sha256(body))
//
// where PATH is the escaped request path without query (url.URL.EscapedPath) and
// TIMESTAMP is the literal X-Tandem-Timestamp value, unix seconds.
const (
	// TimestampHeader carries the signing time in unix seconds.
	TimestampHeader = "X-Tandem-Timestamp"
	// SignatureHeader carries "v1=" and the hex signature.
	SignatureHeader = "X-Tandem-Signature"
	// DefaultSignatureWindow is how far a signed timestamp may be from the receiver's
	// clock, either way, when Verify is given no window.
	DefaultSignatureWindow = 5 * time.Minute
)

const signaturePrefix = "v1="

// Errors returned by Verify.
var (
	// ErrNoSignature means the request is unsigned. A receiver may accept it from a
	// plain protocol peer but should refuse it on an agreement that is known to sign.
	ErrNoSignature = errors.New("wire: request is not signed")
	// ErrBadSignature means the signature is malformed or does not match.
	ErrBadSignature = errors.New("wire: request signature does not match")
	// ErrStaleTimestamp means the signature is valid but its timestamp is outside the
	// window: a replay, or clocks too far apart.
	ErrStaleTimestamp = errors.New("wire: request timestamp is outside the allowed window")
)

// Sign adds TimestampHeader and SignatureHeader to req, which is about to be sent with
// body, using the agreement access key. It signs req.Method and req.URL's escaped path,
// so it must be called again if either changes (for example after a redirect).
func Sign(req *http.Request, key string, body []byte, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set(TimestampHeader, ts)
	req.Header.Set(SignatureHeader, signaturePrefix+hex.EncodeToString(mac(key, req.Method, requestPath(req), ts, body)))
}

// Verify checks the signature of a received request: method and path as received (use
// r.URL.EscapedPath()), its header and its full body. window bounds the distance between
// the signed timestamp and now (DefaultSignatureWindow if <= 0). It returns nil,
// ErrNoSignature, ErrBadSignature or ErrStaleTimestamp; the timestamp is judged only
// after the signature matched, so ErrStaleTimestamp always concerns a genuine request.
//
// Only the canonical form "v1=" + 64 lowercase hex digits is accepted, so the header
// value is a stable key for ReplayCache.
func Verify(method, path string, header http.Header, body []byte, key string, now time.Time, window time.Duration) error {
	sigs := header.Values(SignatureHeader)
	if len(sigs) == 0 || sigs[0] == "" {
		return ErrNoSignature
	}
	if len(sigs) != 1 || key == "" {
		return ErrBadSignature
	}
	got, ok := parseSignature(sigs[0])
	if !ok {
		return ErrBadSignature
	}
	tss := header.Values(TimestampHeader)
	if len(tss) != 1 {
		return ErrBadSignature
	}
	ts := tss[0]
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if path == "" {
		path = "/"
	}
	if !hmac.Equal(got, mac(key, method, path, ts, body)) {
		return ErrBadSignature
	}
	if window <= 0 {
		window = DefaultSignatureWindow
	}
	signed := time.Unix(secs, 0)
	if d := now.Sub(signed); d > window || d < -window {
		return ErrStaleTimestamp
	}
	return nil
}

func parseSignature(v string) ([]byte, bool) {
	hexSig, ok := strings.CutPrefix(v, signaturePrefix)
	if !ok || len(hexSig) != 2*sha256.Size {
		return nil, false
	}
	for i := 0; i < len(hexSig); i++ {
		if c := hexSig[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return nil, false
		}
	}
	b, err := hex.DecodeString(hexSig)
	return b, err == nil
}

func mac(key, method, path, ts string, body []byte) []byte {
	sum := sha256.Sum256(body)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(method + "\n" + path + "\n" + ts + "\n" + hex.EncodeToString(sum[:])))
	return m.Sum(nil)
}

func requestPath(req *http.Request) string {
	if req.URL == nil {
		return "/"
	}
	if p := req.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// ReplayCache remembers recently seen signatures so that a captured signed request cannot
// be replayed while its timestamp is still inside the window. It is bounded: when full it
// forgets the oldest entries first, leaving the timestamp window as the backstop. Record
// only signatures that Verify accepted, so strangers cannot flush it. It is safe for
// concurrent use.
type ReplayCache struct {
	window time.Duration
	max    int

	mu      sync.Mutex
	expires map[string]time.Time
	order   []replayEntry // insertion order, roughly expiry order
}

type replayEntry struct {
	sig     string
	expires time.Time
}

// NewReplayCache returns a cache whose entries expire after window (the same window given
// to Verify; DefaultSignatureWindow if <= 0) and that holds at most max entries (10000 if
// max <= 0). To cover clock skew in both directions, entries live for twice the window.
func NewReplayCache(window time.Duration, max int) *ReplayCache {
	if window <= 0 {
		window = DefaultSignatureWindow
	}
	if max <= 0 {
		max = 10000
	}
	return &ReplayCache{window: window, max: max, expires: make(map[string]time.Time)}
}

// Seen records sig and reports whether it was already recorded and has not expired,
// that is, whether this request is a replay and must be refused.
func (c *ReplayCache) Seen(sig string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evict(now)
	if exp, ok := c.expires[sig]; ok && now.Before(exp) {
		return true
	}
	for len(c.expires) >= c.max && len(c.order) > 0 {
		c.dropOldest()
	}
	exp := now.Add(2 * c.window)
	c.expires[sig] = exp
	c.order = append(c.order, replayEntry{sig: sig, expires: exp})
	return false
}

// Len returns the number of signatures currently remembered.
func (c *ReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.expires)
}

// evict drops expired entries from the front of the order.
func (c *ReplayCache) evict(now time.Time) {
	for len(c.order) > 0 && !now.Before(c.order[0].expires) {
		c.dropOldest()
	}
}

// dropOldest removes the first entry in order, and its map entry unless the map holds a
// newer expiry for the same signature.
func (c *ReplayCache) dropOldest() {
	e := c.order[0]
	if exp, ok := c.expires[e.sig]; ok && exp.Equal(e.expires) {
		delete(c.expires, e.sig)
	}
	c.order = c.order[1:]
	// Let the backing array be reclaimed once it is mostly dead space.
	if cap(c.order) > 64 && len(c.order) < cap(c.order)/4 {
		c.order = append([]replayEntry(nil), c.order...)
	}
}
