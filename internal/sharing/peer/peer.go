// Package peer is the outbound HTTP client Tandem uses to call sharing partners. It adds
// to net/http what talking to arbitrary, admin-supplied URLs needs: the protocol headers
// and Tandem's request signature, a dial-time guard against private and loopback
// addresses (so neither a typo nor DNS rebinding turns a partner URL into a probe of our
// own network), redirects kept on the original origin so the token never travels to
// another host, bounded responses, and a classification of every result into delivered,
// retry later or give up, with a reason an admin can act on.
package peer

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tandem/internal/sharing/wire"
)

// Defaults for Options.
const (
	// DefaultTimeout bounds a whole call.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBody is how much of a response is read.
	DefaultMaxBody = 1 << 20
	// DefaultUserAgent identifies Tandem to partners.
	DefaultUserAgent = "Tandem-TicketSharing/1"
	// MaxRedirects is how many same-origin redirects Do follows, as many as Zendesk's
	// client.
	MaxRedirects = 2
)

// Errors that make a call impossible as configured. Classify treats them as Fatal.
var (
	// ErrBadURL means the partner URL is unusable: not http or https, no host, or
	// carrying credentials.
	ErrBadURL = errors.New("unusable partner URL")
	// ErrCrossOriginRedirect means the partner redirected to another scheme, host or
	// port; it is not followed, so the token is never sent there.
	ErrCrossOriginRedirect = errors.New("partner redirected to another origin")
	// ErrTooManyRedirects means more than MaxRedirects redirects.
	ErrTooManyRedirects = errors.New("too many redirects")
)

// Options configure a Client.
type Options struct {
	// AllowPrivate permits connections to loopback, private, link-local and other
	// non-public addresses. Development and tests only.
	AllowPrivate bool
	// Timeout bounds a whole call, redirects and reading the response included
	// (DefaultTimeout if zero).
	Timeout time.Duration
	// MaxBody is how much of a response body is read (DefaultMaxBody if zero); the rest
	// is dropped and Response.Truncated set.
	MaxBody int64
	// UserAgent is sent with every request (DefaultUserAgent if empty).
	UserAgent string
	// RootCAs verifies partner certificates; nil means the system roots.
	RootCAs *x509.CertPool
	// Transport, if set, carries the requests instead of the built-in one, for example
	// an in-process transport between accounts on one server. The address guard and
	// the *.localhost mapping are part of the built-in transport and do not apply.
	Transport http.RoundTripper
}

// Client calls partners. Build one with New and share it: it pools connections and is
// safe for concurrent use.
type Client struct {
	hc        *http.Client
	timeout   time.Duration
	maxBody   int64
	userAgent string
}

// Response is a partner's answer.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Header is the response header.
	Header http.Header
	// Body is at most Options.MaxBody bytes of the response body.
	Body []byte
	// Truncated reports that the body was longer than Options.MaxBody.
	Truncated bool
	// RetryAfter is the partner's Retry-After, at most MaxRetryAfter; zero if absent.
	RetryAfter time.Duration
}

// New returns a Client configured by opts.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	rt := opts.Transport
	if rt == nil {
		rt = newTransport(opts)
	}
	return &Client{
		hc: &http.Client{
			Transport: rt,
			// Do follows redirects itself, so that it can check the origin and re-sign.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout:   opts.Timeout,
		maxBody:   opts.MaxBody,
		userAgent: opts.UserAgent,
	}
}

// Transport returns the guarded transport Client uses (the dial-time address policy,
// *.localhost mapped to loopback, no proxy), for other calls to admin-supplied URLs
// that must follow the same rules (webhooks, an account's own model server).
func Transport(opts Options) *http.Transport {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return newTransport(opts)
}

// ParseRetryAfter reads a Retry-After header (seconds or an HTTP date) as a wait of at
// most MaxRetryAfter; zero when absent or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Duration { return parseRetryAfter(v, now) }

// newTransport is http.DefaultTransport's configuration with the guarded dialer and no
// proxy: a proxy would make the dial-time address check meaningless.
func newTransport(opts Options) *http.Transport {
	d := &dialer{net: &net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second}}
	if !opts.AllowPrivate {
		d.net.Control = guardControl
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   opts.Timeout,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: opts.RootCAs},
	}
}

// CloseIdleConnections closes pooled connections, for shutdown and tests.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Do sends one protocol request and returns the partner's answer, whatever its status;
// an error means there was no answer to classify (or an unusable one, such as a
// cross-origin redirect). token is the X-Ticket-Sharing-Token value ("" sends none);
// when signKey is not empty the request is signed with wire.Sign, afresh on every
// redirect hop. Redirects (301, 302, 303, 307, 308) are followed at most MaxRedirects
// times, only within the original scheme, host and port, re-sending the same method and
// body as Zendesk's client does.
func (c *Client) Do(ctx context.Context, method, rawURL, token, signKey string, body []byte) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.follow(ctx, method, rawURL, token, signKey, body)
	if err != nil {
		return nil, err
	}
	return c.read(resp)
}

// Download is a partner's answer to Fetch, its body still open: the caller reads what
// it needs (bounded by its own limit) and closes it.
type Download struct {
	// Status is the HTTP status code.
	Status int
	// Header is the response header.
	Header http.Header
	// Body is the response body; Close it.
	Body io.ReadCloser
	// RetryAfter is the partner's Retry-After, at most MaxRetryAfter; zero if absent.
	RetryAfter time.Duration
}

// Fetch GETs a file from a partner (an attachment of a shared comment) with the same
// guards as Do (address guard, same-origin redirects, protocol headers and signature),
// and returns the body unread, so that a file of any size streams to its destination.
// ctx bounds the whole download, reading included: Do's timeout is for protocol calls,
// too short for a large file on a slow link.
func (c *Client) Fetch(ctx context.Context, rawURL, token, signKey string) (*Download, error) {
	resp, err := c.follow(ctx, http.MethodGet, rawURL, token, signKey, nil)
	if err != nil {
		return nil, err
	}
	return &Download{Status: resp.StatusCode, Header: resp.Header, Body: resp.Body,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}, nil
}

// follow sends a request and follows redirects within the original origin; it returns
// the final response with its body unread.
func (c *Client) follow(ctx context.Context, method, rawURL, token, signKey string, body []byte) (*http.Response, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	origin := u
	for hop := 0; ; hop++ {
		resp, err := c.send(ctx, method, u, token, signKey, body)
		if err != nil {
			return nil, fmt.Errorf("peer: %w", err)
		}
		loc := redirectLocation(resp)
		if loc == "" {
			return resp, nil
		}
		discard(resp)
		next, err := u.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("peer: %w: Location %q does not parse", ErrCrossOriginRedirect, loc)
		}
		if !sameOrigin(origin, next) {
			return nil, fmt.Errorf("peer: %w: %s redirected to %s, not followed", ErrCrossOriginRedirect, redact(u), redact(next))
		}
		if hop >= MaxRedirects {
			return nil, fmt.Errorf("peer: %w: more than %d starting at %s", ErrTooManyRedirects, MaxRedirects, redact(origin))
		}
		u = next
	}
}

// SameOrigin reports whether two absolute URLs share scheme, host and port (default
// ports filled in); a URL that does not parse shares no origin.
func SameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host != "" && sameOrigin(ua, ub)
}

// send makes one HTTP request without following redirects.
func (c *Client) send(ctx context.Context, method string, u *url.URL, token, signKey string, body []byte) (*http.Response, error) {
	var rd io.Reader = http.NoBody
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	if token != "" {
		req.Header.Set(wire.TokenHeader, token)
	}
	req.Header.Set(wire.VersionHeader, wire.ProtocolVersion)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if signKey != "" {
		wire.Sign(req, signKey, body, time.Now())
	}
	return c.hc.Do(req)
}

// read consumes at most maxBody bytes of resp.
func (c *Client) read(resp *http.Response) (*Response, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("peer: read response: %w", err)
	}
	out := &Response{
		Status:     resp.StatusCode,
		Header:     resp.Header,
		Body:       b,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	if int64(len(b)) > c.maxBody {
		out.Body, out.Truncated = b[:c.maxBody], true
	}
	return out, nil
}

// parseURL accepts absolute http and https URLs with a host and no credentials.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("peer: %w: %v", ErrBadURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("peer: %w: scheme must be http or https, not %q", ErrBadURL, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("peer: %w: no host in %q", ErrBadURL, raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("peer: %w: credentials in the URL are not supported", ErrBadURL)
	}
	return u, nil
}

// redirectLocation returns the Location of a redirect response we would follow.
func redirectLocation(resp *http.Response) string {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return resp.Header.Get("Location")
	}
	return ""
}

// sameOrigin reports whether a and b share scheme, host and port, default ports filled in.
func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme &&
		strings.EqualFold(strings.TrimSuffix(a.Hostname(), "."), strings.TrimSuffix(b.Hostname(), ".")) &&
		port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// redact drops the query and fragment, which could carry secrets, from a URL for messages.
func redact(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment, c.RawFragment, c.User = "", "", "", nil
	return c.String()
}

// discard drains a little of a body we do not need so the connection can be reused.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// parseRetryAfter reads delay-seconds or an HTTP date, capped at MaxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, MaxRetryAfter))
}

// Excerpt returns up to n bytes of body as one line of printable text.
func Excerpt(body []byte, n int) string { return excerpt(body, n) }
