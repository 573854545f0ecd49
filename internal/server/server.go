// Package server wires Tandem together: it resolves the account from the Host header,
// mounts the API, the sharing protocol and the web UI, runs background workers, and
// shuts down gracefully (stop intake, finish in-flight work, close the database last).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/api"
	"tandem/internal/clientaddr"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/limit"
	"tandem/internal/rules"
	"tandem/internal/sharing"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Config is the server's configuration (built once in main, validated, passed down).
type Config struct {
	// Addr is the listen address, e.g. ":8080" or "127.0.0.1:0".
	Addr string
	// BaseDomain: accounts are addressed as {subdomain}.{BaseDomain}.
	BaseDomain string
	// DefaultAccount serves requests whose host names no account (single-company installs).
	DefaultAccount string
	// MaxBody is the largest request body accepted, in bytes.
	MaxBody int64
	// RateLimit: 0 = plan defaults, <0 = off, >0 = requests per minute for every account.
	RateLimit int
	// AllowPrivatePartners lets sharing call partners on loopback and private addresses.
	AllowPrivatePartners bool
	// PublicURL, when set, is this server's external base URL (for partner callbacks;
	// {subdomain} is replaced by the account's); otherwise it is derived from each
	// request's host.
	PublicURL string
	// SharingMaxBackoff caps the retry delay of partner deliveries (default 5 minutes).
	SharingMaxBackoff time.Duration
	// TrustedProxies are the load balancers and reverse proxies whose X-Forwarded-For
	// names the client (for sign-in limits); empty trusts no one.
	TrustedProxies []netip.Prefix
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.BaseDomain == "" {
		c.BaseDomain = "localhost"
	}
	c.BaseDomain = strings.ToLower(strings.Trim(c.BaseDomain, "."))
	if c.MaxBody <= 0 {
		c.MaxBody = 1 << 20
	}
	if c.DefaultAccount != "" && !account.ValidSubdomain(c.DefaultAccount) {
		return fmt.Errorf("default account %q is not a valid subdomain", c.DefaultAccount)
	}
	return nil
}

// Server is a running Tandem.
type Server struct {
	cfg      Config
	db       *store.DB
	log      *slog.Logger
	Accounts *account.Store
	Tickets  *ticket.Service
	API      *api.Server
	// workers run until the server's context ends; Shutdown waits for them.
	workers []func(ctx context.Context)
	// roots are extra handlers mounted at the root mux (sharing protocol, web UI).
	roots   []func(mux *http.ServeMux)
	handler http.Handler
	metrics *metrics
	// Sharing is the ticket sharing service.
	Sharing *sharing.Service
	// Rules runs triggers, views and macros.
	Rules *rules.Service
	// Passwords checks every password (web and API) within one set of attempt limits.
	Passwords *identity.Guard
}

// New builds a server over an open database.
func New(cfg Config, db *store.DB, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, db: db, log: log, metrics: newMetrics()}
	s.Accounts = account.NewStore(db)
	s.Tickets = ticket.NewService(db)
	limits := limit.New(db)
	s.Passwords = identity.NewGuard(limits, identity.GuardConfig{})
	s.API = api.New(db, s.Accounts, s.Tickets, log, api.Config{MaxBody: cfg.MaxBody, RateLimit: cfg.RateLimit, PublicURL: cfg.PublicURL,
		Limits: limits, Passwords: s.Passwords})
	for _, setup := range extensions {
		if err := setup(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// extensions are set-up functions other files of this package register (sharing, web).
var extensions []func(s *Server) error

// DB returns the server's database.
func (s *Server) DB() *store.DB { return s.db }

// Config returns the server's configuration.
func (s *Server) Config() Config { return s.cfg }

// Log returns the server's logger.
func (s *Server) Log() *slog.Logger { return s.log }

// AddWorker registers a background worker started by Serve.
func (s *Server) AddWorker(w func(ctx context.Context)) { s.workers = append(s.workers, w) }

// MountRoot registers handlers on the root mux (outside /api/v2).
func (s *Server) MountRoot(f func(mux *http.ServeMux)) { s.roots = append(s.roots, f) }

// Handler returns the whole HTTP handler.
func (s *Server) Handler() http.Handler {
	if s.handler != nil {
		return s.handler
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.db.Ping(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", s.metricsHandler())
	apiH := s.API.Handler()
	mux.Handle("/api/", s.tenant(apiH))
	for _, f := range s.roots {
		f(mux)
	}
	s.handler = api.RequestID(clientaddr.New(s.cfg.TrustedProxies).Middleware(s.observe(mux)))
	return s.handler
}

// AccountForHost resolves a Host header to an account (nil if none).
func (s *Server) AccountForHost(ctx context.Context, host string) (*account.Account, error) {
	h := strings.ToLower(host)
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	if sub, ok := strings.CutSuffix(h, "."+s.cfg.BaseDomain); ok && sub != "" && !strings.Contains(sub, ".") {
		a, err := s.Accounts.BySubdomain(ctx, sub)
		if err == nil || !errs.Is(err, errs.NotFound) || s.cfg.DefaultAccount == "" {
			return a, err
		}
	}
	if s.cfg.DefaultAccount != "" {
		return s.Accounts.BySubdomain(ctx, s.cfg.DefaultAccount)
	}
	return nil, errs.NotFoundf("no account for host %s", host)
}

// tenant puts the request's account in its context; unknown hosts get 404.
func (s *Server) tenant(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.AccountForHost(r.Context(), r.Host)
		if err != nil {
			if !errs.Is(err, errs.NotFound) {
				s.log.Error("account lookup", "host", r.Host, "err", err)
				http.Error(w, `{"error":"Unavailable"}`, http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"RecordNotFound","description":"No help desk is served at this address"}` + "\n"))
			return
		}
		next.ServeHTTP(w, r.WithContext(account.NewContext(r.Context(), a)))
	})
}

// Tenant exposes the tenancy middleware to other surfaces (sharing, web).
func (s *Server) Tenant(next http.Handler) http.Handler { return s.tenant(next) }

// Serve listens on ln and serves until ctx ends, then shuts down gracefully: stop
// accepting, finish in-flight requests (up to 20 s), stop workers.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	wctx, stopWorkers := context.WithCancel(context.Background())
	done := make(chan struct{}, len(s.workers))
	for _, w := range s.workers {
		go func() {
			defer func() { done <- struct{}{} }()
			w(wctx)
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	stopWorkers()
	for range s.workers {
		<-done
	}
	// Bulk jobs started before shutdown finish before the database is closed.
	s.API.WaitJobs()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
