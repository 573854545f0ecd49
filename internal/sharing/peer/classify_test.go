package peer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

func netipParse(s string) (netip.Addr, error) { return netip.ParseAddr(s) }

func TestClassifyStatus(t *testing.T) {
	tests := []struct {
		status int
		want   Outcome
	}{
		{200, Delivered}, {201, Delivered}, {202, Delivered}, {204, Delivered},
		{400, Fatal}, {401, Fatal}, {403, Fatal}, {404, Fatal}, {405, Fatal},
		{410, Fatal}, {412, Fatal}, {413, Fatal}, {415, Fatal}, {422, Fatal},
		{408, Retry}, {409, Retry}, {423, Retry}, {425, Retry}, {429, Retry},
		{500, Retry}, {502, Retry}, {503, Retry}, {504, Retry}, {599, Retry},
		{301, Fatal}, {302, Fatal}, {304, Fatal},
		{100, Retry}, {0, Retry}, {600, Retry},
	}
	for _, tt := range tests {
		if got := Classify(tt.status, nil); got != tt.want {
			t.Errorf("Classify(%d) = %v, want %v", tt.status, got, tt.want)
		}
	}
}

func TestClassifyErrors(t *testing.T) {
	urlErr := func(err error) error { return &url.Error{Op: "Put", URL: "https://b.example/sharing", Err: err} }
	opErr := func(err error) error { return urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: err}) }
	tests := []struct {
		name    string
		err     error
		want    Outcome
		reason  string
		tls     bool
		blocked bool
	}{
		{"refused", opErr(&osSyscallError{syscall.ECONNREFUSED}), Retry, "connection refused", false, false},
		{"reset", opErr(&osSyscallError{syscall.ECONNRESET}), Retry, "connection reset by the partner", false, false},
		{"unreachable", opErr(&osSyscallError{syscall.EHOSTUNREACH}), Retry, "partner host unreachable", false, false},
		{"deadline", urlErr(context.DeadlineExceeded), Retry, "timed out waiting for the partner", false, false},
		{"net timeout", opErr(timeoutErr{}), Retry, "timed out waiting for the partner", false, false},
		{"canceled", urlErr(context.Canceled), Retry, "canceled before the partner answered", false, false},
		{"no such host", opErr(&net.DNSError{Err: "no such host", Name: "nope.example", IsNotFound: true}), Retry, "DNS: no such host nope.example", false, false},
		{"dns temporary", opErr(&net.DNSError{Err: "server misbehaving", Name: "b.example", IsTemporary: true}), Retry, "DNS lookup failed: server misbehaving", false, false},
		{"unknown authority", urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), Fatal,
			"TLS certificate error: x509: certificate signed by unknown authority", true, false},
		{"expired", urlErr(x509.CertificateInvalidError{Reason: x509.Expired, Detail: "it is late"}), Fatal,
			"TLS certificate error: x509: certificate has expired or is not yet valid: it is late", true, false},
		{"handshake alert", urlErr(tls.AlertError(40)), Fatal, "TLS handshake failed: tls: handshake failure", true, false},
		{"blocked", opErr(&BlockedAddressError{Addr: "10.0.0.1:443", Kind: "private"}), Fatal,
			"refused to connect to 10.0.0.1:443: private address (partner URLs must resolve to public addresses)", false, true},
		{"cross-origin", fmt.Errorf("peer: %w: x redirected to y, not followed", ErrCrossOriginRedirect), Fatal,
			"partner redirected to another origin: x redirected to y, not followed", false, false},
		{"too many", fmt.Errorf("peer: %w: more than 2", ErrTooManyRedirects), Fatal, "too many redirects: more than 2", false, false},
		{"bad url", fmt.Errorf("peer: %w: scheme", ErrBadURL), Fatal, "unusable partner URL: scheme", false, false},
		{"other", errors.New("peer: something odd"), Retry, "something odd", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(200, tt.err); got != tt.want {
				t.Errorf("Classify = %v, want %v", got, tt.want)
			}
			if got := Reason(nil, tt.err); got != tt.reason {
				t.Errorf("Reason = %q, want %q", got, tt.reason)
			}
			if IsTLSError(tt.err) != tt.tls || IsBlockedAddress(tt.err) != tt.blocked {
				t.Errorf("IsTLSError %v IsBlockedAddress %v", IsTLSError(tt.err), IsBlockedAddress(tt.err))
			}
		})
	}
}

// osSyscallError stands in for os.SyscallError in a dial error chain.
type osSyscallError struct{ err error }

func (e *osSyscallError) Error() string { return "connect: " + e.err.Error() }
func (e *osSyscallError) Unwrap() error { return e.err }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestReasonResponse(t *testing.T) {
	tests := []struct {
		resp *Response
		want string
	}{
		{&Response{Status: 403, Body: []byte("Agreement is not accepted\n")}, "partner answered 403 Forbidden: Agreement is not accepted"},
		{&Response{Status: 201}, "partner answered 201 Created"},
		{&Response{Status: 599, Body: []byte("  odd \r\n\t status ")}, "partner answered 599: odd status"},
		{&Response{Status: 500, Body: []byte(strings.Repeat("a", 300))}, "partner answered 500 Internal Server Error: " + strings.Repeat("a", 200)},
		// Cut inside a two-byte rune: the partial rune is dropped, not mangled.
		{&Response{Status: 422, Body: []byte(strings.Repeat("a", 199) + "é and more")}, "partner answered 422 Unprocessable Entity: " + strings.Repeat("a", 199)},
		{&Response{Status: 400, Body: []byte("bad\x00\x1b[31mred\xff")}, "partner answered 400 Bad Request: bad [31mred\uFFFD"},
		{nil, "no response"},
	}
	for _, tt := range tests {
		if got := Reason(tt.resp, nil); got != tt.want {
			t.Errorf("Reason = %q\nwant     %q", got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for attempt := -1; attempt <= 64; attempt++ {
		ceiling := BackoffCap
		if n := max(attempt, 1); n <= 20 {
			ceiling = min(BackoffCap, BackoffBase*time.Duration(1<<(n-1)))
		}
		var maxSeen time.Duration
		for range 500 {
			d := Backoff(attempt, 0, rnd)
			if d < 0 || d > ceiling {
				t.Fatalf("Backoff(%d) = %v, outside [0, %v]", attempt, d, ceiling)
			}
			maxSeen = max(maxSeen, d)
		}
		// Full jitter spreads over the range rather than pinning to the ceiling.
		if maxSeen < ceiling/4 {
			t.Errorf("Backoff(%d) never exceeded %v in 500 draws (ceiling %v)", attempt, maxSeen, ceiling)
		}
	}

	tests := []struct {
		attempt    int
		retryAfter time.Duration
		min, max   time.Duration
	}{
		{1, 30 * time.Second, 30 * time.Second, 30 * time.Second},        // floor above the 500ms ceiling
		{20, 10 * time.Second, 10 * time.Second, BackoffCap},             // floor inside the range
		{3, 2 * time.Hour, MaxRetryAfter, MaxRetryAfter},                 // capped at an hour
		{50, 20 * time.Minute, 20 * time.Minute, 20 * time.Minute},       // above the 5 minute cap
		{2, -time.Second, 0, time.Second},                                // nonsense ignored
		{1, 0, 0, BackoffBase},                                           // first retry is quick
		{1 << 30, 0, 0, BackoffCap},                                      // huge attempt does not overflow
		{10, time.Duration(1<<62) + 1, MaxRetryAfter, MaxRetryAfter + 0}, // huge Retry-After
	}
	for _, tt := range tests {
		for range 100 {
			d := Backoff(tt.attempt, tt.retryAfter, rnd)
			if d < tt.min || d > tt.max {
				t.Fatalf("Backoff(%d, %v) = %v, want [%v, %v]", tt.attempt, tt.retryAfter, d, tt.min, tt.max)
			}
		}
	}
	if d := Backoff(4, 0, nil); d < 0 || d > 4*time.Second {
		t.Errorf("nil rand: %v", d)
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Delivered: "delivered", Retry: "retry", Fatal: "fatal", 0: "Outcome(0)"} {
		if o.String() != want {
			t.Errorf("%d.String() = %q", int(o), o.String())
		}
	}
}
