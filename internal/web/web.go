// Package web is Tandem's HTML interface: the agent workspace (/agent), the admin center
// (/admin) and the help center for end users (/hc), with sign-in at /login. Pages are
// html/template files rendered on the server and embedded in the binary, with a little
// vendored JavaScript (htmx 2 and one small script) and one hand-written stylesheet.
//
// Every page resolves its account from the Host header, as the API does. Sessions live
// in the database, so several server processes share them. Every form carries a
// per-session CSRF token on top of net/http's cross-origin protection, every user-supplied
// text is escaped by html/template, and comment markup is sanitised again on output.
package web

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/ai/assist"
	"tandem/internal/ai/sim"
	"tandem/internal/errs"
	"tandem/internal/files"
	"tandem/internal/identity"
	"tandem/internal/jobs"
	"tandem/internal/kb"
	"tandem/internal/live"
	"tandem/internal/mail/send"
	"tandem/internal/mailin"
	"tandem/internal/rules"
	"tandem/internal/search"
	"tandem/internal/sharing"
	"tandem/internal/signup"
	"tandem/internal/store"
	"tandem/internal/ticket"
	whsend "tandem/internal/webhook/send"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps are what the web interface needs from the rest of Tandem.
type Deps struct {
	DB       *store.DB
	Accounts *account.Store
	Tickets  *ticket.Service
	Sharing  *sharing.Service
	Log      *slog.Logger
	// AccountForHost resolves a Host header to its account (a NotFound error if none).
	AccountForHost func(ctx context.Context, host string) (*account.Account, error)
	// PublicURL is the server's external base URL ({subdomain} replaced by the
	// account's), used for the sharing endpoint given to partners; empty means derive
	// it from the request.
	PublicURL string
	// Rules is the server's business rules service (the same as the tickets' before-hook).
	Rules *rules.Service
	// Search answers the agent workspace's search box.
	Search search.Searcher
	// Jobs runs CSV imports in the background.
	Jobs *jobs.Runner
	// Mail is inbound email: support addresses and suspended tickets.
	Mail *mailin.Service
	// Passwords checks sign-in passwords within the attempt limits (shared with the
	// API's Basic auth).
	Passwords *identity.Guard
	// KB is the knowledge base: help center articles, search and suggestions.
	KB *kb.Service
	// Mail is outgoing mail (the Outgoing mail page); nil shows the page without relay.
	MailOut *send.Service
	// Signups mails end users their password links (sign-up, forgot password); nil
	// turns those pages off.
	Signups *signup.Service
	// Live sends pages what changed (event streams, presence, notifications).
	Live *live.Hub
	// Webhooks, if set, is woken when the admin page queues a test call.
	Webhooks *whsend.Service
	// Files keeps uploads and attachments (files.go).
	Files *files.Service
	// Assist is the AI's assist half (optional: its pages exist only when set).
	Assist *assist.Service
	// Simulations runs and stores the AI layer's simulations (ai_simulations.go);
	// nil leaves the page out.
	Simulations *sim.Service
	// AI is the AI layer's models (admin_ai.go); nil leaves the AI page out.
	AI *ai.Service
}

// Server serves the HTML interface of every account.
type Server struct {
	db        *store.DB
	accounts  *account.Store
	tickets   *ticket.Service
	sharing   *sharing.Service
	mailOut   *send.Service
	signups   *signup.Service
	log       *slog.Logger
	resolve   func(ctx context.Context, host string) (*account.Account, error)
	publicURL string

	pagesMu   sync.Mutex // held only while a page is first cloned
	pages     sync.Map   // page name → *template.Template bound to this server (pageTemplate)
	static    fs.FS
	staticVer string
	ugc       *bluemonday.Policy
	md        goldmark.Markdown
	passwords *identity.Guard
	handler   http.Handler
	searcher  search.Searcher
	// rules writes triggers and views from the admin center.
	rules *rules.Service
	// jobs runs CSV imports.
	jobs *jobs.Runner
	// kb is the knowledge base (kb.go, kb_agent.go).
	kb *kb.Service
	// mail is inbound email: support addresses and suspended tickets.
	mail *mailin.Service
	// live holds the event streams.
	live *live.Hub
	// webhooks is woken by the Webhooks page's test calls (nil: the worker finds them).
	webhooks *whsend.Service
	// files keeps attachments.
	files *files.Service
	// assist is the AI's suggestions and autonomy (ai_assist.go).
	assist *assist.Service
	// sims runs the AI simulations (ai_simulations.go).
	sims *sim.Service
	// ai is the AI layer's models (admin_ai.go).
	ai *ai.Service
}

// New builds the web interface.
func New(d Deps) (*Server, error) {
	if d.DB == nil || d.Tickets == nil || d.Accounts == nil || d.AccountForHost == nil || d.Rules == nil || d.Search == nil || d.Jobs == nil || d.Mail == nil || d.Log == nil || d.Passwords == nil || d.KB == nil || d.Live == nil || d.Files == nil {
		return nil, errors.New("web: missing dependencies")
	}
	s := &Server{db: d.DB, accounts: d.Accounts, tickets: d.Tickets, sharing: d.Sharing, mailOut: d.MailOut, signups: d.Signups, log: d.Log, resolve: d.AccountForHost,
		publicURL: d.PublicURL, ugc: bluemonday.UGCPolicy(), md: newMarkdown(), passwords: d.Passwords,
		searcher: d.Search, rules: d.Rules, jobs: d.Jobs, kb: d.KB, mail: d.Mail, live: d.Live, files: d.Files, sims: d.Simulations, ai: d.AI, assist: d.Assist, webhooks: d.Webhooks}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	s.static = static
	s.staticVer, err = versionOf(static)
	if err != nil {
		return nil, err
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	s.authRoutes(mux)
	s.agentRoutes(mux)
	s.adminRoutes(mux)
	s.mailRoutes(mux)
	s.hcRoutes(mux)
	s.kbRoutes(mux)   // knowledge base pages (kb.go, kb_agent.go)
	s.liveRoutes(mux) // live updates: event streams, presence, notifications
	s.fileRoutes(mux)
	s.aiAssistRoutes(mux)     // the AI's sidebar and autonomy page (ai_assist.go)
	s.aiSimulationRoutes(mux) // the AI layer's simulation page (ai_simulations.go)
	s.aiRoutes(mux)           // the AI page of the admin center (admin_ai.go)
	s.satisfactionRoutes(mux) // rating pages (satisfaction.go)
	s.reportRoutes(mux)       // reports (reports.go)
	mux.HandleFunc("/", s.page(anyone, func(w http.ResponseWriter, r *http.Request, c *call) error {
		return errs.NotFoundf("There is no page at this address.")
	}))
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, nil, errs.Forbiddenf("This form was sent from another site, so it was refused."))
	}))
	tenant := s.tenant(s.withSession(cop.Handler(s.checkCSRF(s.refuseNUL(articleFilePaths(mux))))))
	s.handler = securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/static/") {
			s.serveStatic(w, r)
			return
		}
		tenant.ServeHTTP(w, r)
	}))
	return s, nil
}

// Handler returns the web interface's handler, to mount at the root of the server.
func (s *Server) Handler() http.Handler { return s.handler }

// versionOf hashes the static files, so their URLs change when they do and browsers
// may cache them for good.
func versionOf(fsys fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12], err
}

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/") {
		http.NotFound(w, r) // no directory listings
		return
	}
	if r.URL.Query().Get("v") == s.staticVer {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=300")
	}
	http.StripPrefix("/static", http.FileServerFS(s.static)).ServeHTTP(w, r)
}

// securityHeaders sets the headers every HTML response carries. The content security
// policy allows scripts and styles from this origin only, so even markup that slipped
// past the sanitiser could not run script.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// tenant resolves the account from the Host header.
func (s *Server) tenant(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.resolve(r.Context(), r.Host)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				err = errs.NotFoundf("No help desk is served at this address.")
			}
			s.renderError(w, r, nil, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(account.NewContext(r.Context(), a)))
	})
}

// level is who may open a page.
type level int

const (
	anyone   level = iota // signed in or not
	signedIn              // any signed-in user (help center)
	staff                 // agents and admins
	admin                 // admins
)

// call is what a handler knows about its request.
type call struct {
	Acct *account.Account
	User *identity.User // nil when signed out
	CSRF string
	r    *http.Request
	// liveSince is the last live event before the handler read anything (GET pages of
	// a signed-in user): the page's stream resumes after it, so a change committed
	// while the page was being built still reaches it.
	liveSince int64
	liveKnown bool
}

// Actor is the ticket actor of the signed-in user.
func (c *call) Actor() ticket.Actor {
	if c.User == nil {
		return ticket.Actor{}
	}
	return ticket.Actor{UserID: c.User.ID, Role: c.User.Role, Name: c.User.Name, Restriction: c.User.TicketRestriction}
}

// IsAdmin reports whether the user is an admin.
func (c *call) IsAdmin() bool { return c.User != nil && c.User.Role == identity.Admin }

// IsStaff reports whether the user is an agent or admin.
func (c *call) IsStaff() bool { return c.User != nil && c.User.Role.IsStaff() }

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call) error

// page adapts a handler: it checks who may see the page and renders returned errors.
func (s *Server) page(min level, f handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := callOf(r)
		if min > anyone && c.User == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.renderError(w, r, c, errs.E(errs.Unauthorized, "Your session has ended. Sign in again."))
			return
		}
		if min >= staff && !c.IsStaff() {
			s.renderError(w, r, c, errs.Forbiddenf("This page is for agents. Your requests are in the help center."))
			return
		}
		if min >= admin && !c.IsAdmin() {
			s.renderError(w, r, c, errs.Forbiddenf("Only administrators can open the admin center."))
			return
		}
		// Only full pages open a stream: htmx fragments and the stream itself skip the
		// query (a fragment that renders a whole page reads it at render time).
		if r.Method == http.MethodGet && c.User != nil && r.Header.Get("HX-Request") == "" && r.Header.Get("Accept") != "text/event-stream" {
			if id, err := s.live.LastID(r.Context()); err == nil {
				c.liveSince, c.liveKnown = id, true
			}
		}
		if err := f(w, r, c); err != nil {
			s.renderError(w, r, c, err)
		}
	}
}

type ctxKey int

const callKey ctxKey = 1

func callOf(r *http.Request) *call {
	c, _ := r.Context().Value(callKey).(*call)
	if c == nil {
		c = &call{Acct: account.FromContext(r.Context()), r: r}
	}
	c.r = r
	return c
}

// baseURL is the request's scheme and host.
func baseURL(r *http.Request) string {
	return scheme(r) + "://" + r.Host
}

func scheme(r *http.Request) string {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return "https"
	}
	return "http"
}

// localSharingURL is this account's sharing endpoint as a partner should call it.
func (s *Server) localSharingURL(c *call) string {
	if s.publicURL != "" {
		return strings.TrimSuffix(strings.ReplaceAll(s.publicURL, "{subdomain}", c.Acct.Subdomain), "/") + "/sharing"
	}
	return baseURL(c.r) + "/sharing"
}
