package peer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
)

// Outcome is what a delivery attempt means for the outbox.
type Outcome int

// The outcomes.
const (
	// Delivered: the partner accepted the request (2xx).
	Delivered Outcome = iota + 1
	// Retry: try again later with Backoff (network errors, timeouts, 408, 409, 423,
	// 425, 429, 5xx).
	Retry
	// Fatal: retrying cannot help; surface it to an admin (400, 401, 403, 404, 405,
	// 410, 412, 422 and other 4xx, unfollowed redirects, TLS failures, blocked
	// addresses, unusable URLs).
	Fatal
)

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Fatal:
		return "fatal"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Classify decides what the result of Client.Do means: status is Response.Status and is
// ignored when err is not nil.
//
// 409 is Retry because a conflict on a share is usually an ordering race that the next
// attempt resolves. 422 is Fatal; on a retried POST it usually means the first attempt
// arrived, so callers that know they are retrying a create may treat it as delivered.
func Classify(status int, err error) Outcome {
	if err != nil {
		if IsBlockedAddress(err) || IsTLSError(err) || errors.Is(err, ErrBadURL) ||
			errors.Is(err, ErrCrossOriginRedirect) || errors.Is(err, ErrTooManyRedirects) {
			return Fatal
		}
		return Retry
	}
	switch {
	case status >= 200 && status <= 299:
		return Delivered
	case status == http.StatusRequestTimeout, status == http.StatusConflict,
		status == http.StatusLocked, status == http.StatusTooEarly,
		status == http.StatusTooManyRequests, status >= 500 && status <= 599:
		return Retry
	case status >= 300 && status <= 499:
		return Fatal // 3xx here is a redirect without a usable Location
	}
	return Retry // 1xx or nonsense: nothing says the partner refused
}

// Reason describes the result of Client.Do in a sentence for an admin, such as
// "partner answered 403 Forbidden: agreement is not accepted", "connection refused" or
// "TLS certificate error: x509: certificate signed by unknown authority".
func Reason(resp *Response, err error) string {
	if err != nil {
		return errorReason(err)
	}
	if resp == nil {
		return "no response"
	}
	s := fmt.Sprintf("partner answered %d", resp.Status)
	if text := http.StatusText(resp.Status); text != "" {
		s += " " + text
	}
	if ex := excerpt(resp.Body, 200); ex != "" {
		s += ": " + ex
	}
	return s
}

func errorReason(err error) string {
	var be *BlockedAddressError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &be):
		return be.Error()
	case IsTLSError(err):
		if cert := certError(err); cert != nil {
			return "TLS certificate error: " + cert.Error()
		}
		return "TLS handshake failed: " + innermost(err).Error()
	case errors.Is(err, ErrBadURL), errors.Is(err, ErrCrossOriginRedirect), errors.Is(err, ErrTooManyRedirects):
		return strings.TrimPrefix(err.Error(), "peer: ")
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "timed out waiting for the partner"
	case errors.Is(err, context.Canceled):
		return "canceled before the partner answered"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "DNS: no such host " + dnsErr.Name
		}
		return "DNS lookup failed: " + dnsErr.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the partner"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "partner host unreachable"
	}
	return strings.TrimPrefix(err.Error(), "peer: ")
}

// IsTLSError reports whether err is a TLS failure: a certificate that does not verify
// (unknown authority, wrong host name, expired) or a failed handshake, for example a
// plain-HTTP server behind an https URL. Callers record it as the agreement status
// ssl_error.
func IsTLSError(err error) bool {
	if certError(err) != nil {
		return true
	}
	var rh tls.RecordHeaderError
	var alert tls.AlertError
	if errors.As(err, &rh) || errors.As(err, &alert) {
		return true
	}
	// net/http replaces the RecordHeaderError of an https URL pointing at a plain-HTTP
	// server with a bare error; only its text identifies it.
	return strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// certError returns the certificate verification error in err's chain, or nil.
func certError(err error) error {
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		if cv.Err != nil {
			return cv.Err
		}
		return cv
	}
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return ua
	case errors.As(err, &hn):
		return hn
	case errors.As(err, &ci):
		return ci
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// excerpt returns up to n bytes of body as one line of valid, printable text.
func excerpt(body []byte, n int) string {
	if len(body) > n {
		body = body[:n]
		for len(body) > 0 && !utf8.Valid(body) {
			body = body[:len(body)-1] // do not end inside a rune
		}
	}
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// Backoff bounds.
const (
	// BackoffBase is the ceiling of the first retry's delay.
	BackoffBase = 500 * time.Millisecond
	// BackoffCap is the largest ceiling, reached around the tenth retry.
	BackoffCap = 5 * time.Minute
)

// Backoff returns how long to wait before retry number attempt (1 for the first retry):
// a uniformly random duration in [0, min(BackoffCap, BackoffBase*2^(attempt-1))] ("full
// jitter", so retries from many shares spread out), but never less than retryAfter
// capped at MaxRetryAfter. rnd may be nil to use the global source; a *rand.Rand is not
// safe for concurrent use.
func Backoff(attempt int, retryAfter time.Duration, rnd *rand.Rand) time.Duration {
	attempt = max(attempt, 1)
	ceiling := BackoffCap
	if attempt <= 30 { // beyond that the shift overflows, and the cap wins anyway
		ceiling = min(ceiling, BackoffBase<<(attempt-1))
	}
	var d time.Duration
	if rnd != nil {
		d = time.Duration(rnd.Int64N(int64(ceiling) + 1))
	} else {
		d = time.Duration(rand.Int64N(int64(ceiling) + 1))
	}
	return max(d, min(retryAfter, MaxRetryAfter))
}
