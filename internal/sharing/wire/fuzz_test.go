package wire

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParseToken checks that ParseToken never panics, and that what it accepts is split
// on the first ':' into two non-empty halves that FormatToken puts back together. The
// seed corpus is in testdata/fuzz/FuzzParseToken.
func FuzzParseToken(f *testing.F) {
	f.Add("5ad614f4:key:with:colons")
	f.Fuzz(func(t *testing.T, h string) {
		uuid, key, ok := ParseToken(h)
		if !ok {
			if uuid != "" || key != "" {
				t.Fatalf("ParseToken(%q) refused but returned %q, %q", h, uuid, key)
			}
			return
		}
		if uuid == "" || key == "" || strings.Contains(uuid, ":") || FormatToken(uuid, key) != h {
			t.Fatalf("ParseToken(%q) = %q, %q", h, uuid, key)
		}
	})
}

// FuzzVerify checks that Verify never panics on any signature and timestamp headers and
// answers only with its documented errors; that what Sign signs verifies; and that the
// same request with one more byte of body does not. The seed corpus is in
// testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add("key", "/sharing/tickets/abc", []byte(`{"subject":"x"}`), "v1=00", "1700000000")
	f.Fuzz(func(t *testing.T, key, path string, body []byte, sig, ts string) {
		now := time.Unix(1_800_000_000, 0)
		h := http.Header{}
		h.Set(SignatureHeader, sig)
		h.Set(TimestampHeader, ts)
		switch err := Verify("POST", path, h, body, key, now, 0); {
		case err == nil, errors.Is(err, ErrNoSignature), errors.Is(err, ErrBadSignature), errors.Is(err, ErrStaleTimestamp):
		default:
			t.Fatalf("Verify: undocumented error %v", err)
		}
		if key == "" {
			return
		}
		u, err := url.Parse("http://desk.test/")
		if err != nil {
			t.Fatal(err)
		}
		u.Path = path
		req := &http.Request{Method: "POST", URL: u, Header: http.Header{}}
		Sign(req, key, body, now)
		if err := Verify("POST", requestPath(req), req.Header, body, key, now, 0); err != nil {
			t.Fatalf("a request signed with %q for %q does not verify: %v", key, requestPath(req), err)
		}
		if err := Verify("POST", requestPath(req), req.Header, append(body[:len(body):len(body)], 'x'), key, now, 0); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("a longer body verifies: %v", err)
		}
	})
}
