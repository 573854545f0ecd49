// Package server wires Tandem together: it resolves the account from the Host header,
// mounts the API, the sharing protocol and the web UI, runs background workers, and
// shuts down gracefully (stop intake, finish in-flight work, close the database last).
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/ai/assist"
	"tandem/internal/ai/sim"
	"tandem/internal/api"
	"tandem/internal/clientaddr"
	"tandem/internal/errs"
	"tandem/internal/files"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/jobs"
	"tandem/internal/kb"
	"tandem/internal/limit"
	"tandem/internal/live"
	"tandem/internal/mail/send"
	"tandem/internal/mailin"
	"tandem/internal/report"
	"tandem/internal/requestid"
	"tandem/internal/rules"
	"tandem/internal/search"
	"tandem/internal/sharing"
	"tandem/internal/sharing/peer"
	"tandem/internal/signup"
	"tandem/internal/sla"
	"tandem/internal/store"
	"tandem/internal/ticket"
	"tandem/internal/web"
	whsend "tandem/internal/webhook/send"
)

// Config is the server's configuration (built once in main, validated, passed down).
// A zero field takes its value from DefaultConfig.
type Config struct {
	// Addr is the listen address, e.g. ":8080" or "127.0.0.1:0".
	Addr string
	// BaseDomain: accounts are addressed as {subdomain}.{BaseDomain}.
	BaseDomain string
	// MailDomain: each account's default support address is
	// support@{subdomain}.{MailDomain} (SupportAddress); BaseDomain when empty.
	MailDomain string
	// SMTPRelay is where outgoing mail is submitted (smtp:// or smtps:// URL); empty keeps
	// mail on the admin's Outgoing mail page.
	SMTPRelay string
	// MailMaxBackoff caps the retry delay of outgoing mail (default 10 minutes).
	MailMaxBackoff time.Duration
	// DefaultAccount serves requests whose host names no account (single-company installs).
	DefaultAccount string
	// MaxBody is the largest request body accepted, in bytes.
	MaxBody int64
	// RateLimit: 0 = plan defaults, <0 = off, >0 = requests per minute for every account.
	RateLimit int
	// ExportRateLimit: incremental export requests per minute per account; 0 =
	// Zendesk's 10 (off when RateLimit is negative), <0 = off.
	ExportRateLimit int
	// ExportLag: incremental exports leave out what changed within this long of a
	// request; 0 = Zendesk's minute, <0 = nothing left out.
	ExportLag time.Duration
	// AllowPrivatePartners lets sharing call partners on loopback and private addresses.
	AllowPrivatePartners bool
	// PublicURL, when set, is this server's external base URL (for partner callbacks;
	// {subdomain} is replaced by the account's); otherwise it is derived from each
	// request's host.
	PublicURL string
	// SharingMaxBackoff caps the retry delay of partner deliveries.
	SharingMaxBackoff time.Duration
	// TrustedProxies are the load balancers and reverse proxies whose X-Forwarded-For
	// names the client (for sign-in limits); empty trusts no one.
	TrustedProxies []netip.Prefix
	// AutomationInterval is the automation period: one pass per interval across every
	// process on the database (an hour by default; at least a minute).
	AutomationInterval time.Duration
	// AutomationClock is the time automations read (the wall clock when nil; tests
	// move their own).
	AutomationClock rules.Clock
	// AITrainInterval is how often the AI looks for accounts with enough newly solved
	// tickets to train their models again (0: every 5 minutes).
	AITrainInterval time.Duration

	// Inbound mail (internal/mailin, ListenMail). SMTPAddr and LMTPAddr are where the
	// mail listeners listen (empty = not at all); MailSpoolDir holds large messages and
	// attachments; MailMaxSize is the largest message taken (0 = mailin's default);
	// MailAuthServID is the authserv-id of the relay whose Authentication-Results are
	// trusted (empty = none); MailSenderRate is how many messages a sender may send an
	// account an hour before the rest are suspended (0 = mailin's default); MailWorkers
	// is how many inbound messages are processed at once (0 = mailin's default);
	// MailBacklog is how many stored messages may wait for them before the listeners
	// hold their 250s (0 = mailin's default, negative = never hold).
	SMTPAddr       string
	LMTPAddr       string
	MailSpoolDir   string
	MailMaxSize    int64
	MailAuthServID string
	MailSenderRate int
	MailWorkers    int
	MailBacklog    int
	// Attachments (internal/files). FilesDir is the directory of the disk blob store
	// ({data-dir}/files from the command line); BlobStore, when set, names an
	// S3-compatible store instead (s3://bucket?endpoint=...); with neither, uploads are
	// refused. Clamd (unix:///path or tcp://host:port) scans every upload. Files bounds
	// uploads (sizes, quota, expiry).
	FilesDir  string
	BlobStore string
	Clamd     string
	Files     files.Config
	// SecretKey seals secrets kept in the database (an account's model server key);
	// SecretKeyFile holds it instead (created with a random key if missing). With
	// neither, such secrets cannot be stored.
	SecretKey     string
	SecretKeyFile string
	// Webhooks tunes webhook calls (docs/WEBHOOKS.md); AllowPrivatePartners also lets
	// them reach loopback and private addresses.
	Webhooks whsend.Config
	// Mail files and signing (internal/mail/send): MailAttachMax is the largest total of
	// files attached to one outgoing mail (0 = 10 MB; the rest are signed links);
	// DKIMKeys sign outgoing mail, one key per domain (none: unsigned; an account's own
	// key, generated by its admin, takes precedence for its mail); MailNoVERP sends
	// mail with the From address as envelope sender instead of a per-message
	// bounces+TOKEN@ address (bounces then matched by Message-ID only).
	MailAttachMax int64
	DKIMKeys      []send.DKIMKey
	MailNoVERP    bool
	// IMAPInterval is how often polled IMAP mailboxes are read (0 = a minute); IMAPTLS
	// configures TLS to IMAP servers (nil = the system's roots).
	IMAPInterval time.Duration
	IMAPTLS      *tls.Config
}

// DefaultConfig is the configuration used when nothing is set: the one place the
// server's defaults are written (main's flags start from it, New fills zero fields
// from it).
func DefaultConfig() Config {
	return Config{
		Addr:       ":8080",
		BaseDomain: "localhost",
		MaxBody:    1 << 20,
		// Retries to a partner that is down back off up to this long.
		SharingMaxBackoff:  sharing.DefaultMaxBackoff,
		AutomationInterval: rules.DefaultAutomationInterval,
		MailMaxSize:        mailin.DefaultMaxSize,
		MailSenderRate:     mailin.DefaultSenderRate,
		MailWorkers:        mailin.DefaultWorkers,
		MailBacklog:        mailin.DefaultBacklog,
		Files:              files.DefaultConfig(),
		MailAttachMax:      send.DefaultAttachMax,
		IMAPInterval:       time.Minute,
	}
}

// withDefaults returns c with its zero fields set from DefaultConfig and the base
// domain in canonical form.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Addr == "" {
		c.Addr = d.Addr
	}
	if c.BaseDomain == "" {
		c.BaseDomain = d.BaseDomain
	}
	c.BaseDomain = strings.ToLower(strings.Trim(c.BaseDomain, "."))
	c.MailDomain = strings.ToLower(strings.Trim(c.MailDomain, "."))
	if c.MailDomain == "" {
		c.MailDomain = c.BaseDomain
	}
	if c.MaxBody <= 0 {
		c.MaxBody = d.MaxBody
	}
	if c.SharingMaxBackoff <= 0 {
		c.SharingMaxBackoff = d.SharingMaxBackoff
	}
	if c.AutomationInterval <= 0 {
		c.AutomationInterval = d.AutomationInterval
	}
	return c
}

// SupportAddress is an account's default support address, the one it has from its
// creation: support@{subdomain}.{mail domain}.
func (c Config) SupportAddress(subdomain string) string {
	c = c.withDefaults()
	return "support@" + subdomain + "." + c.MailDomain
}

// Validate checks the configuration; it changes nothing.
func (c *Config) Validate() error {
	if c.DefaultAccount != "" && !account.ValidSubdomain(c.DefaultAccount) {
		return fmt.Errorf("default account %q is not a valid subdomain", c.DefaultAccount)
	}
	if c.AutomationInterval != 0 && c.AutomationInterval < time.Minute {
		return fmt.Errorf("automation interval %s is shorter than a minute", c.AutomationInterval)
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
	// Rules runs triggers, views and macros.
	Rules *rules.Service
	// Sharing is the ticket sharing service.
	Sharing *sharing.Service
	// Mail queues and sends outgoing mail.
	MailOut *send.Service
	// Jobs runs the API's bulk jobs and the CSV imports.
	Jobs *jobs.Runner
	// SLA keeps schedules, SLA policies and the tickets' SLA targets.
	SLA *sla.Service
	// Automations runs the automation passes (a worker).
	Automations *rules.AutomationRunner
	// KB is the knowledge base (help center articles, search, suggestions).
	KB *kb.Service
	// Live tells open pages what changed (event streams, presence, notifications).
	Live *live.Hub
	// Passwords checks every password (web and API) within one set of attempt limits.
	Passwords *identity.Guard
	// Mail is inbound email: support addresses, the inbox, suspended tickets.
	Mail *mailin.Service
	// Files keeps uploads and attachments.
	Files *files.Service
	// AI is the AI layer's models: the model store, triage, training (issue 14).
	AI *ai.Service
	// Simulations replays the account's history to measure the AI (and gates autonomy).
	Simulations *sim.Service
	API         *api.Server
	// Assist is the AI's help for agents and its guarded autonomy (internal/ai/assist).
	Assist *assist.Service
	// Webhooks calls the accounts' webhooks (the webhook outbox's worker).
	Webhooks *whsend.Service
	// workers run until the server's context ends; Serve waits for them.
	workers []func(ctx context.Context)
	handler http.Handler
	metrics *metrics
	limits  limit.Counter
	// mailLns are the mail listeners ListenMail opened, served by Serve.
	mailLns  []mailListener
	mailMu   sync.Mutex
	smtpAddr net.Addr
}

// New builds a server over an open database. It is Tandem's composition root: every
// service is built here, in dependency order, and every hook on the ticket write path
// is registered here, in the order it runs (docs/ARCHITECTURE.md, "Composition root").
func New(cfg Config, db *store.DB, log *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Every line logged with a request's context carries its request_id.
	log = requestid.Logger(log)
	s := &Server{cfg: cfg, db: db, log: log, metrics: newMetrics()}
	var err error

	// 1. Domain services.
	s.Accounts = account.NewStore(db)
	s.Tickets = ticket.NewService(db)
	// Request and sign-in counters: in the database on PostgreSQL, so that limits hold
	// across processes; one guard checks every password, web and API alike.
	limits := limit.New(db)
	s.limits = limits
	s.Passwords = identity.NewGuard(limits, identity.GuardConfig{})
	s.Rules = rules.New(db, log, rules.Config{TicketURL: s.ticketURL, RatingURL: s.ratingURL})
	// Live events (internal/live): built before sharing, whose deliveries it reports.
	s.Live = live.New(db, log, live.Config{})
	s.Sharing = sharing.New(db, s.Tickets, s.Accounts, &sharing.NetTransport{
		BaseDomain: cfg.BaseDomain,
		Remote:     peer.New(peer.Options{AllowPrivate: cfg.AllowPrivatePartners}),
		// Accounts on this server are reached through this server's own handler
		// (s.handler is set at the end of New, before anything is delivered).
		Local: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }),
	}, log, sharing.Config{MaxBackoff: cfg.SharingMaxBackoff, DeliveryChanged: s.Live.DeliveryChanged, Invited: s.Live.Invited})
	// Attachments (internal/files): before mail, which sends and receives them.
	if s.Files, err = newFiles(cfg, db, log); err != nil {
		return nil, err
	}
	// Outgoing mail, through the shared delivery queue like sharing's outbox. The
	// accounts' DKIM keys are sealed with the server key, as IMAP passwords are.
	mailBox, err := secretBoxOf(cfg)
	if err != nil {
		return nil, err
	}
	s.MailOut, err = send.New(db, s.Tickets, s.Accounts, log, send.Config{Relay: cfg.SMTPRelay, MailDomain: cfg.MailDomain,
		SupportAddress: cfg.SupportAddress, DefaultAddress: mailin.DefaultAddress, MaxBackoff: cfg.MailMaxBackoff,
		Files: s.Files, AttachMax: cfg.MailAttachMax, AccountURL: func(sub string) string { return AccountURL(cfg, sub) }, DKIM: cfg.DKIMKeys,
		Secrets: mailBox, NoVERP: cfg.MailNoVERP,
		Suggest: s.suggestArticles}) // suggest.go
	if err != nil {
		return nil, err
	}
	searcher := search.New(db)
	s.Jobs = jobs.NewRunner(db, log)
	s.SLA = sla.New(db, s.Rules)
	// Automations: one pass per interval over every account (issue 18).
	s.Automations = rules.NewAutomationRunner(db, s.Rules, s.Tickets, s.Accounts, log, rules.AutomationConfig{Every: cfg.AutomationInterval, Clock: cfg.AutomationClock})
	// The knowledge base: the help center's write path and ranker (internal/kb).
	s.KB = kb.NewService(db)
	// The AI layer's simulations on history (internal/ai/sim); its reports gate autonomy.
	s.Simulations = sim.NewService(db, ai.NewHistory(db), s.KB)
	// The AI layer's models (internal/ai): store, triage hooks, training jobs.
	s.AI = ai.New(db, s.Jobs, log, ai.Config{Every: cfg.AITrainInterval})
	// Inbound mail (internal/mailin): writes tickets through s.Tickets, keeps
	// attachments through s.Files.
	if s.Mail, err = s.newMail(); err != nil {
		return nil, err
	}
	// Webhooks (internal/webhook): calls through the shared delivery queue; a webhook
	// given up on is told to the account's admins as a live notification.
	whcfg := cfg.Webhooks
	whcfg.AllowPrivate = whcfg.AllowPrivate || cfg.AllowPrivatePartners
	whcfg.Failing = func(ctx context.Context, tx *store.Tx, acct ids.Account, text string) error {
		return s.Live.NotifyAdmins(ctx, tx, acct, live.NoteWebhook, text)
	}
	s.Webhooks = whsend.New(db, log, whcfg)
	// Files of shared comments travel to partners and partners' files are fetched.
	s.Sharing.UseFiles(s.Files)

	// 2. The ticket write path's hooks, in the order they run. Before-hooks run inside
	// the write transaction after the change is applied; after-hooks run once the
	// ticket, its comments and its audit are written.
	//
	// Order matters: the rules' before-hook runs the triggers, whose share_ticket action
	// asks for a share on the change; the sharing before-hook, after it, turns those
	// requests (and sharing_agreement_ids) into shares and audit events. The other way
	// round a trigger's share would be ignored (TestShareTicketTrigger proves it).
	// A hook that must see the final ticket (what triggers changed, the shares) is an
	// after-hook, or a before-hook registered after these.
	// AI triage (issue 14) runs first, on creation: what it predicts at or above the
	// thresholds is applied by the AI user, so the triggers below route on it.
	s.Tickets.Before(s.AI.Triage.BeforeWrite)
	s.Tickets.Before(s.Rules.Run)
	s.Tickets.Before(s.Sharing.BeforeWrite)
	// After-hooks: the sharing outbox queues protocol calls in the same transaction.
	// Later features add theirs here, below it (email notifications, webhooks, AI
	// triage, live events): they see the committed shape of the change, shares included.
	// The files hook runs first of the after-hooks: it attaches comment.uploads to the
	// comments just written (a bad token fails the write), so every later hook sees the
	// comments with their files.
	s.Tickets.After(s.Files.AttachHook)
	// It also keeps what partners owe on outbound shares (issue 18), once the shares are
	// recorded.
	s.Tickets.After(s.Sharing.AfterWrite)
	// SLA targets (issue 18): an after-hook, so they follow the final ticket (what the
	// triggers and automations changed) and the comments as written.
	s.Tickets.After(s.SLA.AfterWrite)
	// The reports' daily aggregates (issue 18): after the hooks that write what they
	// count (shares, SLA targets), in the write's transaction.
	s.Tickets.After(report.AfterWrite)
	// The knowledge base records the article links agents send in replies and, when a
	// ticket is solved, learns its requester's phrasing for those articles. It only
	// reads the final change, so it runs last.
	s.Tickets.After(s.KB.Learn)
	// Mail: queues the notifications the triggers decided (their Notification events),
	// in the same transaction; after the rules, so it sees every trigger's.
	s.Tickets.After(s.MailOut.AfterWrite)
	// The AI's assist half: queues its runs on new tickets (after commit, on its own
	// delivery queue) and records what agents did with its suggestions. Autonomy per
	// intent is gated by the latest simulation's evidence (s.Simulations is the ai.Gate).
	if s.Assist, err = s.newAssist(s.AI.Store, s.Simulations); err != nil {
		return nil, err
	}
	s.Tickets.After(s.Assist.AfterWrite)
	// Webhooks: queues the calls the triggers decided (their External events), in the
	// same transaction; after the rules, like mail.
	s.Tickets.After(s.Webhooks.AfterWrite)
	// Live events: last, so the event describes the final change (triggers' changes and
	// shares included); it is published only once the transaction commits.
	s.Tickets.After(s.Live.AfterWrite)
	// AI: what became of triage's predictions (an agent's override, the solved value).
	s.Tickets.After(s.AI.Triage.AfterWrite)

	// 3. Surfaces.
	s.API, err = api.New(api.Deps{
		DB:       db,
		Accounts: s.Accounts,
		Tickets:  s.Tickets,
		Rules:    s.Rules,
		Sharing:  s.Sharing,
		Search:   searcher,
		Jobs:     s.Jobs,
		SLA:      s.SLA,
		KB:       s.KB,
		Mail:     s.Mail,
		MailOut:  s.MailOut,
		Files:    s.Files,
		Assist:   s.Assist,
		AI:       s.AI,
		Webhooks: s.Webhooks,
		Log:      log,
		// The AI layer's simulations (issue 14).
		Simulations: s.Simulations,
		Config: api.Config{MaxBody: cfg.MaxBody, RateLimit: cfg.RateLimit, PublicURL: cfg.PublicURL,
			Limits: limits, Passwords: s.Passwords,
			// Incremental exports (docs/EXPORTS.md).
			ExportRateLimit: cfg.ExportRateLimit, ExportLag: cfg.ExportLag},
	})
	if err != nil {
		return nil, err
	}
	webUI, err := web.New(web.Deps{
		DB:             db,
		Accounts:       s.Accounts,
		Tickets:        s.Tickets,
		Rules:          s.Rules,
		Sharing:        s.Sharing,
		Search:         searcher,
		Jobs:           s.Jobs,
		Mail:           s.Mail,
		Log:            log,
		AccountForHost: s.AccountForHost,
		PublicURL:      cfg.PublicURL,
		Passwords:      s.Passwords,
		KB:             s.KB,
		MailOut:        s.MailOut,
		Signups:        signup.New(db, s.MailOut, limits, func(sub string) string { return AccountURL(cfg, sub) }, log),
		Live:           s.Live,
		Files:          s.Files,
		Assist:         s.Assist,
		Simulations:    s.Simulations,
		AI:             s.AI,
		Webhooks:       s.Webhooks,
	})
	if err != nil {
		return nil, err
	}

	// 4. Background workers (Serve starts them and waits for them) and metrics.
	s.workers = []func(ctx context.Context){s.Sharing.Run, s.MailOut.Run, s.retain, s.Automations.Run, s.Mail.Run, s.Live.Run, s.Files.Run, s.AI.Run, s.Assist.Run, s.Webhooks.Run}
	s.workers = append(s.workers, s.pollIMAP) // IMAP mailboxes (mail.go)
	// The reports' count deltas folded into their totals (PostgreSQL; internal/report/fold.go).
	s.workers = append(s.workers, func(ctx context.Context) { report.RunFolds(ctx, s.db, s.log) })
	s.sharingMetrics()
	s.mailMetrics()
	s.webhookMetrics()

	// 5. Routes.
	s.handler = s.routes(webUI.Handler())
	return s, nil
}

// DB returns the server's database.
func (s *Server) DB() *store.DB { return s.db }

// Config returns the server's configuration.
func (s *Server) Config() Config { return s.cfg }

// Log returns the server's logger.
func (s *Server) Log() *slog.Logger { return s.log }

// Handler returns the whole HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// routes mounts every surface: health and metrics, the API under /api/, the sharing
// protocol under /sharing/ and the web interface at the root of every account's host.
func (s *Server) routes(webUI http.Handler) http.Handler {
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
	mux.Handle("/api/", s.tenant(s.API.Handler()))
	mux.Handle("/sharing/", s.tenant(s.Sharing.Handler()))
	// Signed, expiring file links (mail, partners): no credentials, the signature is
	// the permission (files.go).
	mux.Handle("GET /attachments/{id}/{name}", s.tenant(http.HandlerFunc(s.signedFile)))
	mux.Handle("/", webUI)
	return requestid.Middleware(clientaddr.New(s.cfg.TrustedProxies).Middleware(s.observe(mux)))
}

// AccountForHost resolves a Host header to an account (nil if none).
func (s *Server) AccountForHost(ctx context.Context, host string) (*account.Account, error) {
	a, err := s.accountForHost(ctx, host)
	if err == nil {
		noteAccount(ctx, a.Subdomain)
	}
	return a, err
}

func (s *Server) accountForHost(ctx context.Context, host string) (*account.Account, error) {
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
				s.log.ErrorContext(r.Context(), "account lookup", "host", r.Host, "err", err)
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

// stoppedOr is nil when ctx has ended (the caller was asked to stop, and err is only
// how the interrupted step said so), else err.
func stoppedOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// jobsShutdown bounds how long Serve waits for cancelled jobs to record their end.
const jobsShutdown = 15 * time.Second

// Serve listens on ln and serves until ctx ends, then shuts down gracefully: stop
// accepting, finish in-flight requests (up to 20 s), stop workers, then cancel running
// jobs and wait (up to jobsShutdown) for them to record how far they got.
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
	// Once per start, before serving: the reports' daily aggregates of accounts not built
	// yet (or built in another time zone), and the default rules added since an account
	// was created (docs/SERVICE_LEVELS.md).
	// A stop asked for during these steps is a clean stop, not their error.
	if err := report.Backfill(ctx, s.db, s.log); err != nil {
		return stoppedOr(ctx, err)
	}
	if _, err := rules.ApplyDefaults(ctx, s.db, s.log); err != nil {
		return stoppedOr(ctx, err)
	}
	stopMail, err := s.serveMail()
	if err != nil {
		return err
	}
	// Event streams never finish on their own: they end when shutdown starts, so that
	// Shutdown does not wait for them.
	srv.RegisterOnShutdown(s.Live.Close)
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
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	// The mail listeners stop before the workers: a message accepted is in the inbox.
	stopMail()
	stopWorkers()
	for range s.workers {
		<-done
	}
	// Running jobs are cancelled and record how far they got before the database is
	// closed; a job that cannot is marked failed later by retention.
	jctx, cancel := context.WithTimeout(context.Background(), jobsShutdown)
	if jerr := s.Jobs.Shutdown(jctx); jerr != nil {
		s.log.Error("jobs did not stop in time", "err", jerr)
	}
	cancel()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
