package wire

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func signedRequest(t *testing.T, method, url, key string, body []byte, now time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	Sign(req, key, body, now)
	return req
}

func TestSignVerify(t *testing.T) {
	key := NewAccessKey()
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"uuid":"t1","subject":"hi"}`)
	base := signedRequest(t, "PUT", "https://b.example/sharing/tickets/t1?x=1", key, body, now)
	if got := base.Header.Get(TimestampHeader); got != "1700000000" {
		t.Fatalf("timestamp header = %q", got)
	}
	if sig := base.Header.Get(SignatureHeader); !strings.HasPrefix(sig, "v1=") || len(sig) != 3+64 {
		t.Fatalf("signature header = %q", sig)
	}

	with := func(name, value string) http.Header {
		h := base.Header.Clone()
		if value == "" {
			h.Del(name)
		} else {
			h.Set(name, value)
		}
		return h
	}
	sig := base.Header.Get(SignatureHeader)
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		body   []byte
		key    string
		now    time.Time
		want   error
	}{
		{"valid", "PUT", "/sharing/tickets/t1", base.Header, body, key, now, nil},
		{"valid within window, late", "PUT", "/sharing/tickets/t1", base.Header, body, key, now.Add(5 * time.Minute), nil},
		{"valid within window, early", "PUT", "/sharing/tickets/t1", base.Header, body, key, now.Add(-5 * time.Minute), nil},
		{"replayed after window", "PUT", "/sharing/tickets/t1", base.Header, body, key, now.Add(5*time.Minute + time.Second), ErrStaleTimestamp},
		{"from the future", "PUT", "/sharing/tickets/t1", base.Header, body, key, now.Add(-6 * time.Minute), ErrStaleTimestamp},
		{"unsigned", "PUT", "/sharing/tickets/t1", http.Header{}, body, key, now, ErrNoSignature},
		{"timestamp only", "PUT", "/sharing/tickets/t1", with(SignatureHeader, ""), body, key, now, ErrNoSignature},
		{"signature without timestamp", "PUT", "/sharing/tickets/t1", with(TimestampHeader, ""), body, key, now, ErrBadSignature},
		{"other method", "POST", "/sharing/tickets/t1", base.Header, body, key, now, ErrBadSignature},
		{"other path", "PUT", "/sharing/tickets/t2", base.Header, body, key, now, ErrBadSignature},
		{"other body", "PUT", "/sharing/tickets/t1", base.Header, []byte(`{"uuid":"t1","subject":"hI"}`), key, now, ErrBadSignature},
		{"empty body", "PUT", "/sharing/tickets/t1", base.Header, nil, key, now, ErrBadSignature},
		{"other key", "PUT", "/sharing/tickets/t1", base.Header, body, NewAccessKey(), now, ErrBadSignature},
		{"empty key", "PUT", "/sharing/tickets/t1", base.Header, body, "", now, ErrBadSignature},
		{"moved timestamp", "PUT", "/sharing/tickets/t1", with(TimestampHeader, "1700000001"), body, key, now, ErrBadSignature},
		{"padded timestamp", "PUT", "/sharing/tickets/t1", with(TimestampHeader, "01700000000"), body, key, now, ErrBadSignature},
		{"junk timestamp", "PUT", "/sharing/tickets/t1", with(TimestampHeader, "yesterday"), body, key, now, ErrBadSignature},
		{"uppercase hex", "PUT", "/sharing/tickets/t1", with(SignatureHeader, "v1="+strings.ToUpper(sig[3:])), body, key, now, ErrBadSignature},
		{"other scheme", "PUT", "/sharing/tickets/t1", with(SignatureHeader, "v2="+sig[3:]), body, key, now, ErrBadSignature},
		{"short", "PUT", "/sharing/tickets/t1", with(SignatureHeader, sig[:20]), body, key, now, ErrBadSignature},
		{"padded", "PUT", "/sharing/tickets/t1", with(SignatureHeader, sig+" "), body, key, now, ErrBadSignature},
		{"two signatures", "PUT", "/sharing/tickets/t1", http.Header{
			SignatureHeader: {sig, sig}, TimestampHeader: {"1700000000"}}, body, key, now, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.method, tt.path, tt.header, tt.body, tt.key, tt.now, 5*time.Minute)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}

	// A zero window means the default.
	if err := Verify("PUT", "/sharing/tickets/t1", base.Header, body, key, now.Add(DefaultSignatureWindow), 0); err != nil {
		t.Errorf("default window: %v", err)
	}
}

// TestSignOverHTTP signs on a real client request and verifies in a real handler, with
// an escaped path, so both sides agree on what PATH means.
func TestSignOverHTTP(t *testing.T) {
	key := NewAccessKey()
	cache := NewReplayCache(time.Minute, 100)
	var accepted atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := Verify(r.Method, r.URL.EscapedPath(), r.Header, body, key, time.Now(), time.Minute)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if cache.Seen(r.Header.Get(SignatureHeader), time.Now()) {
			http.Error(w, "replay", http.StatusConflict)
			return
		}
		accepted.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	body := []byte(`{"status":"accepted"}`)
	send := func(req *http.Request) int {
		t.Helper()
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	u := srv.URL + TicketURL("/sharing", "weird id+ü")
	req := signedRequest(t, "PUT", u, key, body, time.Now())
	if got := send(req); got != http.StatusOK {
		t.Fatalf("signed request: %d", got)
	}
	// The same signed request again is a replay.
	replay, _ := http.NewRequest("PUT", u, bytes.NewReader(body))
	replay.Header = req.Header.Clone()
	if got := send(replay); got != http.StatusConflict {
		t.Errorf("replay: %d, want 409", got)
	}
	// Unsigned is refused by this handler.
	plain, _ := http.NewRequest("PUT", u, bytes.NewReader(body))
	if got := send(plain); got != http.StatusUnauthorized {
		t.Errorf("unsigned: %d, want 401", got)
	}
	if accepted.Load() != 1 {
		t.Errorf("accepted %d requests, want 1", accepted.Load())
	}
}

func TestReplayCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := NewReplayCache(time.Minute, 3)
	steps := []struct {
		sig  string
		at   time.Duration
		seen bool
	}{
		{"a", 0, false},
		{"a", time.Second, true},
		{"b", 2 * time.Second, false},
		{"a", 119 * time.Second, true},  // entries live twice the window
		{"a", 120 * time.Second, false}, // expired, recorded afresh
		{"a", 121 * time.Second, true},
	}
	for i, s := range steps {
		if got := c.Seen(s.sig, now.Add(s.at)); got != s.seen {
			t.Errorf("step %d: Seen(%q) = %v, want %v", i, s.sig, got, s.seen)
		}
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
	if c.Seen("c", now.Add(122*time.Second)); c.Len() != 2 {
		t.Errorf("Len = %d, want 2 (b expired, c added)", c.Len())
	}

	// Bounded: the oldest entries go first.
	c = NewReplayCache(time.Minute, 3)
	for i := range 5 {
		c.Seen("s"+strconv.Itoa(i), now)
	}
	if c.Len() != 3 {
		t.Errorf("Len = %d, want 3", c.Len())
	}
	if c.Seen("s4", now) != true || c.Seen("s0", now) != false {
		t.Error("eviction did not drop the oldest entry")
	}
}

func TestReplayCacheConcurrent(t *testing.T) {
	c := NewReplayCache(time.Minute, 4000)
	now := time.Now()
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if !c.Seen("same", now) {
					fresh.Add(1)
				}
				c.Seen("g"+strconv.Itoa(g)+"-"+strconv.Itoa(i), now.Add(time.Duration(i)*time.Millisecond))
			}
		}()
	}
	wg.Wait()
	if fresh.Load() != 1 {
		t.Errorf("the same signature was fresh %d times, want once", fresh.Load())
	}
	if c.Len() > 4000 {
		t.Errorf("Len = %d exceeds the bound", c.Len())
	}
}
