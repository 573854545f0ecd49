// Package api is Tandem's REST API v2, wire-compatible with Zendesk's Support API so that
// existing clients and scripts work unchanged. It maps domain types to Zendesk JSON; the
// domain packages never see JSON shapes.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/ai/assist"
	"tandem/internal/ai/sim"
	"tandem/internal/errs"
	"tandem/internal/export"
	"tandem/internal/files"
	"tandem/internal/identity"
	"tandem/internal/input"
	"tandem/internal/jobs"
	"tandem/internal/kb"
	"tandem/internal/limit"
	"tandem/internal/mail/send"
	"tandem/internal/mailin"
	"tandem/internal/rules"
	"tandem/internal/search"
	"tandem/internal/sharing"
	"tandem/internal/sla"
	"tandem/internal/store"
	"tandem/internal/ticket"
	whsend "tandem/internal/webhook/send"
)

// Config holds the API's operator settings.
type Config struct {
	// MaxBody is the largest request body accepted, in bytes.
	MaxBody int64
	// RateLimit overrides the plans' requests per minute: 0 keeps the plan defaults,
	// a negative value turns rate limiting off.
	RateLimit int
	// PublicURL is this server's external base URL ({subdomain} is replaced by the
	// account's); empty means derive it from each request's host.
	PublicURL string
	// Passwords checks Basic auth passwords within the attempt limits; the server
	// shares one with the web sign-in. Required.
	Passwords *identity.Guard
	// Limits counts API requests per account (limit.New for the database). Required.
	Limits limit.Counter
	// ExportRateLimit is the incremental exports' requests per minute per account:
	// 0 = Zendesk's 10 (off when RateLimit is negative), negative = off.
	ExportRateLimit int
	// ExportLag: exports leave out what changed within this long of a request (0 =
	// Zendesk's minute, negative = nothing left out).
	ExportLag time.Duration
}

// Deps are what the API needs from the rest of Tandem; every one is required.
type Deps struct {
	DB       *store.DB
	Accounts *account.Store
	// Tickets is the single write path for tickets, its hooks already registered.
	Tickets *ticket.Service
	// Rules serves triggers, views and macros (the same service as the tickets'
	// before-hook).
	Rules   *rules.Service
	Sharing *sharing.Service
	Search  search.Searcher
	// Jobs runs the bulk endpoints' jobs.
	Jobs *jobs.Runner
	// SLA serves business-hours schedules and SLA policies (issue 18).
	SLA *sla.Service
	// KB is the knowledge base (help center API).
	KB *kb.Service
	// Mail is inbound email: support addresses and suspended tickets.
	Mail *mailin.Service
	// Files keeps uploads and attachments.
	Files *files.Service
	// MailOut is outgoing mail: the bouncing addresses (optional: their routes exist
	// only when set).
	MailOut *send.Service
	// Assist is the AI's assist half (optional: its routes exist only when set).
	Assist *assist.Service
	// AI is the AI layer's models half (issue 14); nil leaves its routes out.
	AI *ai.Service
	// Simulations runs and stores the AI layer's simulations on history (optional).
	Simulations *sim.Service
	// Webhooks makes the test calls of webhooks (internal/webhook/send).
	Webhooks *whsend.Service
	Log      *slog.Logger
	Config   Config
}

// Server serves /api/v2 for every account.
type Server struct {
	db       *store.DB
	accounts *account.Store
	tickets  *ticket.Service
	sharing  *sharing.Service
	rules    *rulesAPI
	sla      *slaAPI
	search   *searchAPI
	log      *slog.Logger
	cfg      Config
	limiter  *rateLimiter
	jobs     *jobs.Runner
	kb       *kb.Service
	exports  *export.Exporter
	mail     *mailin.Service
	mailOut  *send.Service
	files    *files.Service
	assist   *assist.Service
	sims     *sim.Service
	ai       *ai.Service
	webhooks *whsend.Service
	routes   []string // the patterns Handler registered
}

// routeMux is a ServeMux that remembers its patterns, so that tests can walk every
// route (Routes).
type routeMux struct {
	*http.ServeMux
	patterns []string
}

// HandleFunc registers f for pattern and remembers the pattern.
func (m *routeMux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, f)
}

// Handle registers h for pattern and remembers the pattern.
func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// Routes returns the "METHOD /path" patterns of the routes Handler registered, in
// registration order.
func (s *Server) Routes() []string { return slices.Clone(s.routes) }

// New returns an API server.
func New(d Deps) (*Server, error) {
	if d.DB == nil || d.Accounts == nil || d.Tickets == nil || d.Rules == nil || d.Sharing == nil || d.Search == nil || d.Jobs == nil || d.KB == nil || d.Mail == nil || d.Files == nil || d.Log == nil || d.SLA == nil || d.Webhooks == nil {
		return nil, errors.New("api: missing dependencies")
	}
	if d.Config.Limits == nil || d.Config.Passwords == nil {
		return nil, errors.New("api: missing Limits or Passwords")
	}
	if d.Config.MaxBody <= 0 {
		return nil, errors.New("api: MaxBody must be positive")
	}
	s := &Server{db: d.DB, accounts: d.Accounts, tickets: d.Tickets, sharing: d.Sharing, log: d.Log, cfg: d.Config,
		limiter: newRateLimiter(d.Config.RateLimit, d.Config.Limits), jobs: d.Jobs, kb: d.KB, exports: exportsOf(d.DB, d.Config), mail: d.Mail, mailOut: d.MailOut, files: d.Files, ai: d.AI, assist: d.Assist, webhooks: d.Webhooks}
	s.sims = d.Simulations
	s.rules = &rulesAPI{s: s, svc: d.Rules}
	s.sla = &slaAPI{s: s, svc: d.SLA}
	s.search = &searchAPI{s: s, sr: d.Search}
	return s, nil
}

// Handler returns the API handler. It expects the account in the request context.
func (s *Server) Handler() http.Handler {
	mux := &routeMux{ServeMux: http.NewServeMux()}
	s.userRoutes(mux)
	s.orgRoutes(mux)
	s.groupRoutes(mux)
	s.ticketRoutes(mux)
	s.requestRoutes(mux)
	s.jobRoutes(mux)
	s.sharingRoutes(mux)
	s.mailRoutes(mux)
	s.attachmentRoutes(mux)
	s.rules.routes(mux)
	s.rules.automationRoutes(mux) // automations (issue 18)
	s.sla.routes(mux)             // schedules and SLA policies (issue 18)
	s.sla.metricRoutes(mux)       // ticket metrics (issue 18)
	s.satisfactionRoutes(mux)     // satisfaction ratings (issue 18)
	s.sla.orgScheduleRoutes(mux)  // organizations' default schedules (issue 18)
	s.search.routes(mux)
	s.helpCenterRoutes(mux) // knowledge base (helpcenter.go)
	s.incrementalRoutes(mux)
	s.assistRoutes(mux)       // the AI's suggestions and autonomy (ai_assist.go)
	s.aiSimulationRoutes(mux) // the AI layer's simulations (ai_simulations.go)
	s.aiModelRoutes(mux)      // AI models and settings (ai_models.go, issue 14)
	s.webhookRoutes(mux)      // webhooks (webhooks.go)
	s.routes = mux.patterns
	mux.ServeMux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		// The path exists with other methods: say so (405 with Allow), as HTTP wants.
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "/api/" && pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, errBody{Error: "MethodNotAllowed", Description: r.Method + " is not supported here; use " + strings.Join(allow, ", ")})
			return
		}
		writeErr(w, r, errNoEndpoint)
	})
	return stripJSON(helpCenterLocale(s.authenticate(s.rateLimit(mux))))
}

// Role levels for handler access.
type level int

const (
	anyone level = iota
	endUser
	agent
	admin
)

// Call is what a handler knows about the request: its account and its user (nil for
// anonymous requests).
type Call struct {
	Acct *account.Account
	User *identity.User
	r    *http.Request
}

// Actor returns the ticket actor for this call.
func (c *Call) Actor() ticket.Actor {
	if c.User == nil {
		return ticket.Actor{}
	}
	return ticket.Actor{UserID: c.User.ID, Role: c.User.Role, Name: c.User.Name, Restriction: c.User.TicketRestriction}
}

// IsAdmin reports whether the caller is an admin.
func (c *Call) IsAdmin() bool { return c.User != nil && c.User.Role == identity.Admin }

// IsStaff reports whether the caller is an agent or admin.
func (c *Call) IsStaff() bool { return c.User != nil && c.User.Role.IsStaff() }

// URL returns an absolute URL for path on the request's host.
func (c *Call) URL(path string) string { return baseURL(c.r) + path }

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *Call) error

// h adapts a handler: it checks the caller's level and maps returned errors to HTTP.
func (s *Server) h(min level, f handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &Call{Acct: account.FromContext(r.Context()), User: identity.FromContext(r.Context()), r: r}
		if c.Acct == nil {
			writeErr(w, r, errs.NotFoundf("Not found"))
			return
		}
		if err := input.Values(r.URL.Query()); err != nil {
			writeErr(w, r, err) // no database can be asked about text it cannot store
			return
		}
		if min > anyone && c.User == nil {
			writeErr(w, r, identity.ErrAuth)
			return
		}
		if min >= agent && !c.IsStaff() || min >= admin && !c.IsAdmin() {
			writeErr(w, r, errs.Forbiddenf("You do not have access to this page. Please contact the account owner of this help desk for further help."))
			return
		}
		if err := f(w, r, c); err != nil {
			if errs.CodeOf(err) == errs.Internal {
				s.log.ErrorContext(r.Context(), "api error", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeErr(w, r, err)
		}
	}
}

type ctxKey int

const jsonSuffixKey ctxKey = 1

// stripJSON removes a trailing ".json" so /tickets/1.json and /tickets/1 route the same.
func stripJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := strings.CutSuffix(r.URL.Path, ".json"); ok {
			r.URL.Path = p
			r.URL.RawPath = ""
			r = r.WithContext(context.WithValue(r.Context(), jsonSuffixKey, true))
		}
		next.ServeHTTP(w, r)
	})
}
