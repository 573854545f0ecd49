package sharing

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"tandem/internal/sharing/peer"
	"tandem/internal/sharing/wire"
)

// NetTransport sends protocol calls: local://SUB/... URLs to this server's own handler
// (accounts on the same server use the same protocol code path, without a socket), and
// everything else to remote partners through the guarded peer client.
type NetTransport struct {
	// Local serves this server's requests (set once the server's handler exists).
	Local http.Handler
	// BaseDomain addresses local accounts as SUB.BaseDomain.
	BaseDomain string
	// Remote calls other servers.
	Remote *peer.Client
}

// Do implements Transport.
func (t *NetTransport) Do(ctx context.Context, method, rawURL, token, signKey string, body []byte) (*Response, error) {
	if rest, ok := strings.CutPrefix(rawURL, "local://"); ok {
		return t.local(ctx, method, rest, token, signKey, body)
	}
	resp, err := t.Remote.Do(ctx, method, rawURL, token, signKey, body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.Status, Body: resp.Body, RetryAfter: resp.RetryAfter}, nil
}

func (t *NetTransport) local(ctx context.Context, method, rest, token, signKey string, body []byte) (*Response, error) {
	if t.Local == nil {
		return nil, fmt.Errorf("sharing: local transport not ready")
	}
	sub, path, _ := strings.Cut(rest, "/")
	req, err := http.NewRequestWithContext(ctx, method, "http://"+sub+"."+t.BaseDomain+"/"+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("sharing: bad local URL: %w", err)
	}
	req = req.WithContext(context.WithValue(ctx, localCall{}, true))
	req.Host = sub + "." + t.BaseDomain
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(wire.VersionHeader, wire.ProtocolVersion)
	if token != "" {
		req.Header.Set(wire.TokenHeader, token)
	}
	if signKey != "" {
		wire.Sign(req, signKey, body, time.Now())
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	t.Local.ServeHTTP(rec, req)
	resp := &Response{Status: rec.status, Body: rec.body.Bytes()}
	if ra := rec.header.Get("Retry-After"); ra != "" {
		if n, err := strconv.Atoi(ra); err == nil {
			resp.RetryAfter = time.Duration(n) * time.Second
		}
	}
	return resp, nil
}

// localCall marks requests made in-process by this server's own transport.
type localCall struct{}

// isLocal reports whether r came from this server's own transport (not the network).
func isLocal(r *http.Request) bool { v, _ := r.Context().Value(localCall{}).(bool); return v }

// recorder is a minimal in-memory ResponseWriter.
type recorder struct {
	header      http.Header
	status      int
	body        bytes.Buffer
	wroteHeader bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	return r.body.Write(b)
}

// Fetch implements Fetcher: a GET whose body streams. Files of accounts on this server
// (local://SUB/...) come from this server's own handler through a pipe, so neither
// path holds a whole file in memory.
func (t *NetTransport) Fetch(ctx context.Context, rawURL, token, signKey string) (*peer.Download, error) {
	rest, ok := strings.CutPrefix(rawURL, "local://")
	if !ok {
		return t.Remote.Fetch(ctx, rawURL, token, signKey)
	}
	if t.Local == nil {
		return nil, fmt.Errorf("sharing: local transport not ready")
	}
	sub, path, _ := strings.Cut(rest, "/")
	req, err := http.NewRequestWithContext(context.WithValue(ctx, localCall{}, true), http.MethodGet, "http://"+sub+"."+t.BaseDomain+"/"+path, nil)
	if err != nil {
		return nil, fmt.Errorf("sharing: bad local URL: %w", err)
	}
	req.Host = sub + "." + t.BaseDomain
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set(wire.VersionHeader, wire.ProtocolVersion)
	if token != "" {
		req.Header.Set(wire.TokenHeader, token)
	}
	if signKey != "" {
		wire.Sign(req, signKey, nil, time.Now())
	}
	pr, pw := io.Pipe()
	w := &pipeWriter{header: http.Header{}, status: http.StatusOK, pw: pw, ready: make(chan struct{})}
	go func() {
		defer func() {
			w.start()
			pw.Close()
		}()
		t.Local.ServeHTTP(w, req)
	}()
	select {
	case <-w.ready:
	case <-ctx.Done():
		pr.CloseWithError(ctx.Err())
		return nil, ctx.Err()
	}
	return &peer.Download{Status: w.status, Header: w.sent, Body: pr}, nil
}

// pipeWriter is a ResponseWriter whose body goes into a pipe; ready closes once the
// status and headers are known.
type pipeWriter struct {
	header http.Header
	sent   http.Header // the header as it was when the status was written
	status int
	pw     *io.PipeWriter
	ready  chan struct{}
	once   sync.Once
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) {
	w.once.Do(func() {
		w.status, w.sent = code, w.header.Clone()
		close(w.ready)
	})
}

func (w *pipeWriter) start() { w.WriteHeader(http.StatusOK) }

func (w *pipeWriter) Write(b []byte) (int, error) {
	w.start()
	return w.pw.Write(b)
}
