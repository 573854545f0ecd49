package peer

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tandem/internal/sharing/wire"
)

// seen is what a test partner observed about one request.
type seen struct {
	method, host, path string
	header             http.Header
	body               []byte
}

// partner is a loopback server that records requests and answers with handle.
type partner struct {
	*httptest.Server
	mu       sync.Mutex
	requests []seen
}

func newPartner(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *partner {
	t.Helper()
	p := &partner{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.requests = append(p.requests, seen{r.Method, r.Host, r.URL.EscapedPath(), r.Header.Clone(), body})
		p.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if handle != nil {
			handle(w, r)
		}
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *partner) seen() []seen {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]seen(nil), p.requests...)
}

func (p *partner) port() string {
	u, _ := url.Parse(p.URL)
	return u.Port()
}

func devClient(t *testing.T, opts Options) *Client {
	t.Helper()
	opts.AllowPrivate = true
	c := New(opts)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestDoHeadersAndLocalhostNames(t *testing.T) {
	p := newPartner(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	c := devClient(t, Options{UserAgent: "tandem-test"})
	key := wire.NewAccessKey()
	token := wire.FormatToken("ag1", key)
	body := []byte(`{"uuid":"t1"}`)

	for _, host := range []string{"globex.localhost", "Acme.Localhost", "localhost", "127.0.0.1"} {
		t.Run(host, func(t *testing.T) {
			before := len(p.seen())
			u := "http://" + host + ":" + p.port() + "/sharing/tickets/t1"
			resp, err := c.Do(context.Background(), http.MethodPost, u, token, key, body)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if resp.Status != http.StatusCreated || Classify(resp.Status, nil) != Delivered {
				t.Fatalf("status %d", resp.Status)
			}
			got := p.seen()[before]
			if want := host + ":" + p.port(); got.host != want {
				t.Errorf("Host = %q, want %q (the original host must be kept)", got.host, want)
			}
			for name, want := range map[string]string{
				wire.TokenHeader:   token,
				wire.VersionHeader: "1",
				"Content-Type":     "application/json",
				"Accept":           "application/json",
				"User-Agent":       "tandem-test",
			} {
				if v := got.header.Get(name); v != want {
					t.Errorf("%s = %q, want %q", name, v, want)
				}
			}
			if string(got.body) != string(body) {
				t.Errorf("body = %q", got.body)
			}
			if err := wire.Verify(got.method, got.path, got.header, got.body, key, time.Now(), time.Minute); err != nil {
				t.Errorf("signature: %v", err)
			}
		})
	}

	// No token and no key: neither header is sent (Zendesk's first agreement POST).
	if _, err := c.Do(context.Background(), http.MethodGet, p.URL+"/sharing/agreements/a", "", "", nil); err != nil {
		t.Fatal(err)
	}
	last := p.seen()[len(p.seen())-1]
	if last.header.Get(wire.TokenHeader) != "" || last.header.Get(wire.SignatureHeader) != "" {
		t.Errorf("unexpected auth headers: %v", last.header)
	}
}

func TestMapLocalhost(t *testing.T) {
	tests := map[string]string{
		"localhost:80":              "127.0.0.1:80",
		"LOCALHOST:80":              "127.0.0.1:80",
		"globex.localhost:8081":     "127.0.0.1:8081",
		"a.b.localhost.:443":        "127.0.0.1:443",
		"localhost.example.com:80":  "localhost.example.com:80",
		"notlocalhost:80":           "notlocalhost:80",
		"example.com:443":           "example.com:443",
		"10.0.0.1:80":               "10.0.0.1:80",
		"[::1]:80":                  "[::1]:80",
		"missing-port.localhost":    "missing-port.localhost",
		"evil.localhost.attacker:1": "evil.localhost.attacker:1",
	}
	for in, want := range tests {
		if got := mapLocalhost(in); got != want {
			t.Errorf("mapLocalhost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrivateAddressRefused(t *testing.T) {
	p := newPartner(t, nil)
	c := New(Options{}) // AllowPrivate false, as in production
	defer c.CloseIdleConnections()

	for _, u := range []string{
		p.URL + "/sharing/tickets/t1",
		"http://globex.localhost:" + p.port() + "/sharing/tickets/t1",
		"http://localhost:" + p.port() + "/sharing",
		"http://0.0.0.0:" + p.port() + "/sharing",
	} {
		t.Run(u, func(t *testing.T) {
			resp, err := c.Do(context.Background(), http.MethodPut, u, "ag:key", "", []byte(`{}`))
			if err == nil {
				t.Fatalf("reached %s: %d", u, resp.Status)
			}
			if !IsBlockedAddress(err) {
				t.Fatalf("err = %v, want a blocked address", err)
			}
			if got := Classify(0, err); got != Fatal {
				t.Errorf("Classify = %v, want fatal", got)
			}
			if r := Reason(nil, err); !strings.Contains(r, "refused to connect") {
				t.Errorf("Reason = %q", r)
			}
		})
	}
	if n := len(p.seen()); n != 0 {
		t.Errorf("partner saw %d requests, want 0", n)
	}
}

// TestGuardControl checks the dial-time hook with the addresses a name might resolve to,
// which is what defeats DNS rebinding: the check sees the resolved IP, not the name.
func TestGuardControl(t *testing.T) {
	tests := []struct {
		addr    string
		blocked bool
	}{
		{"93.184.215.14:443", false},
		{"[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443", false},
		{"127.0.0.1:80", true},
		{"10.1.2.3:443", true},
		{"[::ffff:192.168.1.1]:443", true},
		{"[fe80::1%eth0]:80", true},
		{"not-an-address", true},
	}
	for _, tt := range tests {
		err := guardControl("tcp", tt.addr, nil)
		if IsBlockedAddress(err) != tt.blocked {
			t.Errorf("guardControl(%q) = %v, want blocked=%v", tt.addr, err, tt.blocked)
		}
	}
}

func TestNonPublic(t *testing.T) {
	tests := map[string]string{
		"8.8.8.8":                   "",
		"1.1.1.1":                   "",
		"172.15.255.255":            "",
		"172.32.0.0":                "",
		"100.63.255.255":            "",
		"100.128.0.0":               "",
		"2001:4860:4860::8888":      "",
		"64:ff9b::808:808":          "", // NAT64 of 8.8.8.8
		"2002:808:808::1":           "", // 6to4 of 8.8.8.8
		"127.0.0.1":                 "loopback",
		"127.255.255.254":           "loopback",
		"::1":                       "loopback",
		"10.0.0.1":                  "private",
		"172.16.0.1":                "private",
		"172.31.255.255":            "private",
		"192.168.0.1":               "private",
		"fc00::1":                   "private",
		"fd12:3456::1":              "private",
		"169.254.169.254":           "link-local", // cloud metadata
		"fe80::1":                   "link-local",
		"0.0.0.0":                   "unspecified",
		"::":                        "unspecified",
		"224.0.0.1":                 "link-local",
		"239.1.1.1":                 "multicast",
		"ff0e::1":                   "multicast",
		"100.64.0.1":                "carrier-grade NAT",
		"100.127.255.255":           "carrier-grade NAT",
		"0.1.2.3":                   "this-network",
		"255.255.255.255":           "reserved",
		"198.18.0.1":                "benchmarking",
		"::ffff:10.0.0.1":           "private",
		"::ffff:127.0.0.1":          "loopback",
		"::127.0.0.1":               "IPv4-compatible",
		"64:ff9b::a00:1":            "private",  // NAT64 of 10.0.0.1
		"64:ff9b::7f00:1":           "loopback", // NAT64 of 127.0.0.1
		"2002:a9fe:a9fe::1":         "link-local",
		"fec0::1":                   "site-local",
		"64:ff9b:1::1":              "local NAT64",
		"fe80::1%eth0":              "link-local",
		"fd00:ec2::254":             "private",
		"2001:db8::1":               "", // documentation, harmless
		"100::1":                    "discard-only",
		"192.0.0.170":               "IETF protocol",
		"ff02::1":                   "link-local",
		"::ffff:169.254.169.254":    "link-local",
		"::ffff:8.8.8.8":            "",
		"2a00:1450:4001:82b::200e":  "",
		"64:ff9b::ffff:ffff":        "reserved",
		"2002:c0a8:0101::1":         "private",
		"2002:0:0::1":               "unspecified",
		"64:ff9b::6440:1":           "carrier-grade NAT",
		"64:ff9b::a9fe:a9fe":        "link-local",
		"64:ff9b::e000:1":           "link-local",
		"64:ff9b::c612:1":           "benchmarking",
		"64:ff9b::c000:aa":          "IETF protocol",
		"64:ff9b::1":                "this-network",
		"64:ff9b::ffff:ff00":        "reserved",
		"64:ff9b::ac10:1":           "private",
		"64:ff9b::c0a8:1":           "private",
		"64:ff9b::ef01:101":         "multicast",
		"64:ff9b::":                 "unspecified",
		"64:ff9b::808:404":          "",
		"2002:ffff:ffff::":          "reserved",
		"2002:7f00:1::":             "loopback",
		"2002:a00:1::":              "private",
		"2002:6440:1::":             "carrier-grade NAT",
		"2002:0808:0808:0000::1234": "",
		"2002:1:2::":                "this-network",
	}
	for in, want := range tests {
		a, err := netipParse(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := nonPublic(a); got != want {
			t.Errorf("nonPublic(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestRedirects(t *testing.T) {
	key := wire.NewAccessKey()
	token := wire.FormatToken("ag1", key)
	elsewhere := newPartner(t, nil)
	var p *partner
	p = newPartner(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/target", http.StatusTemporaryRedirect)
		case "/moved":
			http.Redirect(w, r, "/target", http.StatusMovedPermanently) // still the same method
		case "/chain":
			http.Redirect(w, r, "/chain2", http.StatusFound)
		case "/chain2":
			http.Redirect(w, r, "target", http.StatusPermanentRedirect) // relative
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/cross-port":
			http.Redirect(w, r, elsewhere.URL+"/target", http.StatusTemporaryRedirect)
		case "/cross-host":
			http.Redirect(w, r, "http://other.localhost:"+p.port()+"/target", http.StatusTemporaryRedirect)
		case "/cross-scheme":
			http.Redirect(w, r, "https://127.0.0.1:"+p.port()+"/target", http.StatusTemporaryRedirect)
		case "/no-location":
			w.WriteHeader(http.StatusFound)
		case "/target":
			body, _ := io.ReadAll(r.Body)
			if err := wire.Verify(r.Method, r.URL.EscapedPath(), r.Header, body, key, time.Now(), time.Minute); err != nil {
				http.Error(w, "bad signature: "+err.Error(), http.StatusUnauthorized)
				return
			}
			if r.Method != http.MethodPut || string(body) != `{"x":1}` || r.Header.Get(wire.TokenHeader) != token {
				http.Error(w, "method, body or token lost", http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusOK)
		default:
			http.NotFound(w, r)
		}
	})
	c := devClient(t, Options{})

	tests := []struct {
		path    string
		status  int
		err     error
		outcome Outcome
	}{
		{"/same", 200, nil, Delivered},
		{"/moved", 200, nil, Delivered},
		{"/chain", 200, nil, Delivered},
		{"/loop", 0, ErrTooManyRedirects, Fatal},
		{"/cross-port", 0, ErrCrossOriginRedirect, Fatal},
		{"/cross-host", 0, ErrCrossOriginRedirect, Fatal},
		{"/cross-scheme", 0, ErrCrossOriginRedirect, Fatal},
		{"/no-location", 302, nil, Fatal},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			before := len(p.seen())
			resp, err := c.Do(context.Background(), http.MethodPut, p.URL+tt.path, token, key, []byte(`{"x":1}`))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			} else if resp.Status != tt.status {
				t.Fatalf("status %d (%s), want %d", resp.Status, resp.Body, tt.status)
			}
			status := 0
			if resp != nil {
				status = resp.Status
			}
			if got := Classify(status, err); got != tt.outcome {
				t.Errorf("Classify = %v, want %v (%s)", got, tt.outcome, Reason(resp, err))
			}
			for _, s := range p.seen()[before:] {
				if !strings.HasPrefix(s.host, "127.0.0.1:") {
					t.Errorf("a request reached host %q", s.host)
				}
			}
			if tt.path == "/loop" {
				if n := len(p.seen()) - before; n != 1+MaxRedirects {
					t.Errorf("%d requests for a redirect loop, want %d", n, 1+MaxRedirects)
				}
			}
		})
	}
	if n := len(elsewhere.seen()); n != 0 {
		t.Errorf("the other host saw %d requests; the token must never go there", n)
	}
}

func TestResponseBodyCap(t *testing.T) {
	big := strings.Repeat("x", 3000)
	p := newPartner(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			io.WriteString(w, big)
		case "/exact":
			io.WriteString(w, big[:1024])
		}
	})
	c := devClient(t, Options{MaxBody: 1024})
	tests := []struct {
		path      string
		truncated bool
	}{
		{"/big", true},
		{"/exact", false},
	}
	for _, tt := range tests {
		resp, err := c.Do(context.Background(), http.MethodGet, p.URL+tt.path, "", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Body) != 1024 || resp.Truncated != tt.truncated {
			t.Errorf("%s: len %d truncated %v, want 1024 %v", tt.path, len(resp.Body), resp.Truncated, tt.truncated)
		}
	}
	if New(Options{}).maxBody != DefaultMaxBody {
		t.Error("MaxBody default not applied")
	}
}

func TestTimeoutIsRetry(t *testing.T) {
	release := make(chan struct{})
	p := newPartner(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := devClient(t, Options{Timeout: 50 * time.Millisecond})
	resp, err := c.Do(context.Background(), http.MethodPut, p.URL+"/sharing/tickets/t1", "a:k", "", []byte(`{}`))
	if err == nil {
		t.Fatalf("got status %d, want a timeout", resp.Status)
	}
	if got := Classify(0, err); got != Retry {
		t.Errorf("Classify = %v, want retry", got)
	}
	if r := Reason(nil, err); r != "timed out waiting for the partner" {
		t.Errorf("Reason = %q", r)
	}

	// A caller's cancellation is also worth retrying later.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Do(ctx, http.MethodGet, p.URL, "", "", nil)
	if Classify(0, err) != Retry || !strings.Contains(Reason(nil, err), "canceled") {
		t.Errorf("canceled: %v, %q", Classify(0, err), Reason(nil, err))
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := devClient(t, Options{})
	_, err = c.Do(context.Background(), http.MethodGet, "http://"+addr+"/sharing", "", "", nil)
	if err == nil {
		t.Fatal("connected to a closed port")
	}
	if Classify(0, err) != Retry || Reason(nil, err) != "connection refused" {
		t.Errorf("got %v, %q", Classify(0, err), Reason(nil, err))
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	plain := newPartner(t, nil)

	untrusting := devClient(t, Options{})
	_, err := untrusting.Do(context.Background(), http.MethodGet, srv.URL, "", "", nil)
	if !IsTLSError(err) || Classify(0, err) != Fatal {
		t.Fatalf("untrusted certificate: err %v, tls %v, outcome %v", err, IsTLSError(err), Classify(0, err))
	}
	if r := Reason(nil, err); !strings.HasPrefix(r, "TLS certificate error: x509:") {
		t.Errorf("Reason = %q", r)
	}

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	trusting := devClient(t, Options{RootCAs: pool})
	resp, err := trusting.Do(context.Background(), http.MethodGet, srv.URL, "", "", nil)
	if err != nil || Classify(resp.Status, nil) != Delivered {
		t.Fatalf("trusted certificate: %v", err)
	}
	// The certificate names 127.0.0.1 and example.com, not this host.
	_, err = trusting.Do(context.Background(), http.MethodGet, strings.Replace(srv.URL, "127.0.0.1", "wrong.localhost", 1), "", "", nil)
	if !IsTLSError(err) || !strings.Contains(Reason(nil, err), "certificate") {
		t.Errorf("wrong host name: %v (%q)", err, Reason(nil, err))
	}
	// An https URL pointing at a plain-HTTP server is a TLS configuration problem.
	_, err = trusting.Do(context.Background(), http.MethodGet, strings.Replace(plain.URL, "http:", "https:", 1), "", "", nil)
	if !IsTLSError(err) || Classify(0, err) != Fatal {
		t.Errorf("https to http: %v, tls %v", err, IsTLSError(err))
	}
}

func TestBadURL(t *testing.T) {
	c := devClient(t, Options{})
	for _, u := range []string{"ftp://a.example/sharing", "/sharing", "http://", "https://user:pw@a.example/", "::nonsense", "file:///etc/passwd", "javascript:alert(1)"} {
		_, err := c.Do(context.Background(), http.MethodGet, u, "", "", nil)
		if !errors.Is(err, ErrBadURL) || Classify(0, err) != Fatal {
			t.Errorf("%q: err %v, outcome %v", u, err, Classify(0, err))
		}
	}
}

func TestRetryAfter(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	p := newPartner(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/seconds":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case "/date":
			w.Header().Set("Retry-After", date)
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/huge":
			w.Header().Set("Retry-After", "99999999999999999")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	c := devClient(t, Options{})
	resp, err := c.Do(context.Background(), http.MethodGet, p.URL+"/seconds", "", "", nil)
	if err != nil || resp.RetryAfter != 7*time.Second || Classify(resp.Status, nil) != Retry {
		t.Errorf("seconds: %v %+v", err, resp)
	}
	resp, err = c.Do(context.Background(), http.MethodGet, p.URL+"/date", "", "", nil)
	if err != nil || resp.RetryAfter <= 0 || resp.RetryAfter > 90*time.Second {
		t.Errorf("date: %v %+v", err, resp)
	}
	resp, err = c.Do(context.Background(), http.MethodGet, p.URL+"/huge", "", "", nil)
	if err != nil || resp.RetryAfter != MaxRetryAfter {
		t.Errorf("huge: %v %+v", err, resp)
	}

	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-5":                            0,
		"120":                           2 * time.Minute,
		" 3 ":                           3 * time.Second,
		"soon":                          0,
		"Mon, 01 Jan 2024 00:00:30 GMT": 30 * time.Second,
		"Sun, 31 Dec 2023 23:00:00 GMT": 0, // in the past
		"Tue, 02 Jan 2024 00:00:00 GMT": MaxRetryAfter,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestConcurrentDo(t *testing.T) {
	var hits atomic.Int32
	p := newPartner(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	c := devClient(t, Options{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := wire.NewAccessKey()
			if _, err := c.Do(context.Background(), http.MethodPut, p.URL+"/sharing/tickets/t", "a:"+key, key, []byte{byte('0' + i%10)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if hits.Load() != 20 {
		t.Errorf("hits = %d, want 20", hits.Load())
	}
}
