package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// logBuffer collects a server's JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns the lines logged since the last take.
func (b *logBuffer) take(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var lines []map[string]any
	sc := bufio.NewScanner(&b.buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	b.buf.Reset()
	return lines
}

// TestRequestIDOnEveryLogLine: a request that fails is answered with its request id
// (X-Request-Id, and the API's error body), and every log line about it (the access
// line and the surface's error line) carries that id, whether the client chose it or
// the server did.
func TestRequestIDOnEveryLogLine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		logs := &logBuffer{}
		srv, err := server.New(server.Config{BaseDomain: "localhost"}, db, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		ctx := context.Background()
		p, err := server.Provision(ctx, db, server.NewAccount{Subdomain: "acme", Name: "Acme", Plan: account.Enterprise, AdminEmail: "admin@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		// Break the tables the two requests read, so that each fails on our side.
		for _, table := range []string{"job_statuses", "sessions"} {
			if err := db.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `DROP TABLE `+table)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		logs.take(t)

		cases := []struct {
			name, path, clientID, errorLine string
			prepare                         func(r *http.Request)
		}{
			{"api, id from the client", "/api/v2/job_statuses/V3-0.json", "client-chosen-42", "api error",
				func(r *http.Request) { r.SetBasicAuth("admin@acme.test/token", p.APIToken) }},
			{"api, id from the server", "/api/v2/job_statuses/V3-0.json", "", "api error",
				func(r *http.Request) { r.SetBasicAuth("admin@acme.test/token", p.APIToken) }},
			{"web", "/login", "", "web error",
				func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "tandem_session", Value: "stale"}) }},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				req, err := http.NewRequest("GET", ts.URL+c.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = "acme.localhost"
				if c.clientID != "" {
					req.Header.Set("X-Request-Id", c.clientID)
				}
				c.prepare(req)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				id := resp.Header.Get("X-Request-Id")
				if resp.StatusCode != http.StatusInternalServerError || id == "" || c.clientID != "" && id != c.clientID {
					t.Fatalf("status %d, X-Request-Id %q: %s", resp.StatusCode, id, body)
				}
				if strings.HasPrefix(c.path, "/api/") && !strings.Contains(string(body), "the request ID is "+id) {
					t.Fatalf("the error body does not name the request id %s: %s", id, body)
				}
				var lines []map[string]any
				testkit.Eventually(t, 10*time.Second, "the access line", func() bool {
					lines = append(lines, logs.take(t)...)
					return slices.ContainsFunc(lines, func(l map[string]any) bool { return l["msg"] == "request" })
				})
				var msgs []string
				for _, l := range lines {
					msgs = append(msgs, l["msg"].(string))
					if l["request_id"] != id {
						t.Errorf("log line without the request id %s: %v", id, l)
					}
				}
				if !slices.Contains(msgs, c.errorLine) {
					t.Errorf("log lines %v, want a %q line", msgs, c.errorLine)
				}
			})
		}
	})
}

// Every request gets one access line at info level with what an operator looks for:
// method, path, status, duration, the account and the request id.
func TestAccessLinePerRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		logs := &logBuffer{}
		srv, err := server.New(server.Config{BaseDomain: "localhost"}, db, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		p, err := server.Provision(context.Background(), db, server.NewAccount{Subdomain: "acme", Name: "Acme", Plan: account.Enterprise, AdminEmail: "admin@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		logs.take(t)
		for _, path := range []string{"/api/v2/tickets.json", "/hc"} {
			req, _ := http.NewRequest("GET", ts.URL+path, nil)
			req.Host = "acme.localhost"
			req.SetBasicAuth("admin@acme.test/token", p.APIToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			id := resp.Header.Get("X-Request-Id")
			var access []map[string]any
			testkit.Eventually(t, 10*time.Second, "the access line of "+path, func() bool {
				for _, l := range logs.take(t) {
					if l["msg"] == "request" {
						access = append(access, l)
					}
				}
				return len(access) > 0
			})
			l := access[0]
			if len(access) != 1 || l["level"] != "INFO" || l["method"] != "GET" || l["path"] != path || l["status"] != float64(resp.StatusCode) ||
				l["account"] != "acme" || l["request_id"] != id || l["duration_ms"] == nil {
				t.Errorf("access lines for %s = %v, want one info line with method, path, status %d, account acme, request id %s and duration",
					path, access, resp.StatusCode, id)
			}
		}
	})
}
