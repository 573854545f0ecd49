// Package testkit starts real Tandem servers on loopback, each with its own real
// database, and gives tests a small client that speaks to them as API clients do
// (Host header per account, Basic token auth).
package testkit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// Desk is a running Tandem server.
type Desk struct {
	Srv  *server.Server
	DB   *store.DB
	Addr string // 127.0.0.1:port
	Port string
	stop context.CancelFunc
	done chan error
	t    testing.TB    // the test that started the desk; Stop reports to it
	wait time.Duration // how long Stop waits for Serve; stopTimeout when zero
}

// Option adjusts a desk's configuration before it starts.
type Option func(*server.Config)

// WithAddr makes the desk listen on a given address (to restart a server on its port).
func WithAddr(addr string) Option { return func(c *server.Config) { c.Addr = addr } }

// Start runs a server on a fresh database of the dialect, stopped at cleanup.
func Start(t testing.TB, d store.Dialect, opts ...Option) *Desk {
	t.Helper()
	return StartDB(t, storetest.Open(t, d), opts...)
}

// StartDB runs a server over an existing database.
func StartDB(t testing.TB, db *store.DB, opts ...Option) *Desk {
	t.Helper()
	// Passwords set by tests are hashed cheaply (the product's cost is tested in
	// internal/identity).
	identity.UseTestCost()
	cfg := server.Config{Addr: "127.0.0.1:0", BaseDomain: "localhost", RateLimit: -1, AllowPrivatePartners: true, SharingMaxBackoff: 300 * time.Millisecond,
		FilesDir: t.TempDir()}
	for _, o := range opts {
		o(&cfg)
	}
	level := slog.LevelError
	if os.Getenv("TANDEM_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	srv, err := server.New(cfg, db, log)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Desk{Srv: srv, DB: db, Addr: ln.Addr().String(), stop: cancel, done: make(chan error, 1), t: t}
	_, d.Port, _ = net.SplitHostPort(d.Addr)
	go func() { d.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(d.Stop)
	waitHealthy(t, d.Addr)
	return d
}

// stopTimeout bounds how long Stop waits for Serve to return. Serve gives in-flight
// requests 20 s, then stops the workers and waits for bulk jobs; a server still running
// after this is hung, not slow.
const stopTimeout = 40 * time.Second

// Stop shuts the server down (idempotent). It fails the test that started the desk when
// Serve returns an error or does not return within stopTimeout: a shutdown that hangs or
// fails would otherwise pass unseen.
func (d *Desk) Stop() {
	if d.stop == nil {
		return
	}
	d.stop()
	d.stop = nil
	wait := d.wait
	if wait == 0 {
		wait = stopTimeout
	}
	select {
	case err := <-d.done:
		if err != nil && d.t != nil {
			d.t.Errorf("server at %s: Serve returned %v", d.Addr, err)
		}
	case <-time.After(wait):
		if d.t != nil {
			d.t.Errorf("server at %s did not stop within %s; still running:\n%s", d.Addr, wait, tandemGoroutines())
		}
	}
}

// tandemGoroutines returns the stacks of the goroutines that run Tandem code, which is
// what a hung shutdown is waiting for.
func tandemGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "tandem/internal/") && !strings.Contains(g, "tandem/internal/testkit.tandemGoroutines") {
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return "(no goroutine in Tandem code)"
	}
	return strings.Join(out, "\n\n")
}

func waitHealthy(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("server at %s never became healthy", addr)
}

// SharingURL is the sharing endpoint of an account on this desk, as a partner calls it.
func (d *Desk) SharingURL(sub string) string { return "http://" + d.Host(sub) + "/sharing" }

// Eventually polls cond until it holds or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// Host returns the Host header addressing an account on this desk.
func (d *Desk) Host(sub string) string { return sub + ".localhost:" + d.Port }

// Acct is an account on a desk with its admin's credentials.
type Acct struct {
	Desk  *Desk
	Sub   string
	ID    ids.Account
	Plan  account.Plan
	Admin Cred
}

// Cred is a user's API credentials.
type Cred struct {
	Email  string
	Token  string
	UserID int64
	Role   identity.Role
}

// Anonymous is the empty credential.
var Anonymous = Cred{}

// Account creates an account with an admin.
func (d *Desk) Account(t testing.TB, sub string, plan account.Plan) *Acct {
	t.Helper()
	p, err := server.Provision(context.Background(), d.DB, server.NewAccount{Subdomain: sub, Name: strings.ToUpper(sub[:1]) + sub[1:], Plan: plan, AdminEmail: "admin@" + sub + ".test", AdminName: "Admin " + sub, AdminPassword: "correct horse battery"})
	if err != nil {
		t.Fatalf("provision %s: %v", sub, err)
	}
	return &Acct{Desk: d, Sub: sub, ID: p.Account.ID, Plan: plan, Admin: Cred{Email: p.Admin.Email, Token: p.APIToken, UserID: int64(p.Admin.ID), Role: identity.Admin}}
}

// Each runs f as a subtest on a desk of each database the tests run on
// (storetest.Dialects).
func Each(t *testing.T, f func(t *testing.T, desk *Desk), opts ...Option) {
	t.Helper()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { f(t, Start(t, d, opts...)) })
	}
}

// Loaded returns the account as the services take it, read from the database.
func (a *Acct) Loaded(t testing.TB) *account.Account {
	t.Helper()
	acct, err := a.Desk.Srv.Accounts.ByID(context.Background(), a.ID)
	if err != nil {
		t.Fatalf("load account %s: %v", a.Sub, err)
	}
	return acct
}

// Actor returns the user as the ticket service's actor (no group restriction).
func (c Cred) Actor() ticket.Actor { return ticket.Actor{UserID: ids.User(c.UserID), Role: c.Role} }

// User creates a user of the role with an API token, straight in the database.
func (a *Acct) User(t testing.TB, role identity.Role, email, name string) Cred {
	t.Helper()
	ctx := context.Background()
	var c Cred
	err := a.Desk.DB.Write(ctx, func(tx *store.Tx) error {
		u := &identity.User{AccountID: a.ID, Name: name, Email: email, Role: role, Verified: true}
		if err := identity.Insert(ctx, tx, u); err != nil {
			return err
		}
		tok, err := identity.CreateToken(ctx, tx, a.ID, u.ID, "test")
		c = Cred{Email: email, Token: tok, UserID: int64(u.ID), Role: role}
		return err
	})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return c
}

// Resp is a response with its body decoded when it is JSON.
type Resp struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

var client = &http.Client{Timeout: 30 * time.Second}

// Do sends a request as cred (Anonymous for none). body may be nil, a []byte or string
// (sent as is), or any value (sent as JSON).
func (a *Acct) Do(t testing.TB, cred Cred, method, path string, body any) *Resp {
	t.Helper()
	r, err := a.Try(cred, method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// Try is Do without failing the test on transport errors.
func (a *Acct) Try(cred Cred, method, path string, body any) (*Resp, error) {
	return a.Desk.Request(a.Sub, cred, method, path, body, nil)
}

// Request sends a request to an account of the desk with extra headers.
func (d *Desk) Request(sub string, cred Cred, method, path string, body any, hdr http.Header) (*Resp, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, "http://"+d.Addr+path, rd)
	if err != nil {
		return nil, err
	}
	req.Host = d.Host(sub)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if cred.Token != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred.Email+"/token:"+cred.Token)))
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := &Resp{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") && len(raw) > 0 {
		_ = json.Unmarshal(raw, &out.JSON)
	}
	return out, nil
}

// Want fails the test unless the response has the status.
func (r *Resp) Want(t testing.TB, status int) *Resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %s", r.Status, status, truncate(r.Body))
	}
	return r
}

// Obj returns a top-level object of the JSON body.
func (r *Resp) Obj(key string) map[string]any {
	m, _ := r.JSON[key].(map[string]any)
	return m
}

// List returns a top-level array of objects of the JSON body.
func (r *Resp) List(key string) []map[string]any {
	arr, _ := r.JSON[key].([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, x := range arr {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// ID reads an integer field of a JSON object.
func ID(m map[string]any, key string) int64 {
	switch v := m[key].(type) {
	case float64:
		return int64(v)
	case json.Number:
		n, _ := v.Int64()
		return n
	}
	return 0
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return string(b)
}
