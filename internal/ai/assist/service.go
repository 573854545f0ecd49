// Package assist is the AI layer's help for agents and its guarded autonomy: the
// suggestions shown beside a ticket (predicted fields not applied, macros, articles the
// requester may read, a suggested reply) and what became of them (live precision); the
// per-intent ladder off → suggest → draft → autonomous with its hand-off rules, kill
// switch and rate limit; and the optional use of the account's own model server
// (internal/ai/llm) for personalised drafts, summaries and article embeddings.
//
// The AI never acts inside a ticket's create transaction: an after-hook queues a run in
// the shared delivery queue (table ai_outbox), which decides after commit and writes
// through the ticket write path as the account's AI user, with via channel "ai", so
// triggers fire and the audit shows it. What the AI may do is a closed set decided by
// the server (hand-off, internal note, pending reply, a macro's allowed actions); text
// in a ticket can only send it to people.
package assist

import (
	"context"
	"log/slog"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/ai/llm"
	"tandem/internal/delivery"
	"tandem/internal/kb"
	"tandem/internal/secretbox"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Config configures the service. Models and Actor are required for the AI to act.
type Config struct {
	// Models gives each account's current trained models.
	Models ai.Source
	// Gate gives the simulation evidence per intent; nil means no simulation has run,
	// so no intent may be autonomous.
	Gate ai.Gate
	// Actor returns the account's AI user (no seat) as a ticket actor, inside tx.
	Actor func(ctx context.Context, tx *store.Tx, acct *account.Account) (ticket.Actor, error)
	// Secrets seals model server keys at rest; without a key none can be stored.
	Secrets *secretbox.Box
	// AccountURL is an account's base URL (for article links in replies).
	AccountURL func(subdomain string) string
	// AllowPrivate lets model servers be on loopback or private addresses (the
	// operator's --allow-private-partners).
	AllowPrivate bool
	// LLMTimeout and LLMBudget bound one model server attempt and one whole call
	// (llm's defaults when zero).
	LLMTimeout, LLMBudget time.Duration
	// Workers, BaseBackoff and MaxBackoff tune the run queue.
	Workers                 int
	BaseBackoff, MaxBackoff time.Duration
}

// Service is the assist half of the AI layer for every account of a server.
type Service struct {
	db       *store.DB
	tickets  *ticket.Service
	accounts *account.Store
	kb       *kb.Service
	log      *slog.Logger
	cfg      Config
	queue    *delivery.Queue[run]
	emb      *embeddings
	// autonomous caches, behind each account's settings version, whether any intent
	// is drafted or answered by the AI (autonomy.go).
	autonomous store.SettingsCache[bool]
}

// New returns the service; Run works its queue.
func New(db *store.DB, tickets *ticket.Service, accounts *account.Store, kbs *kb.Service, log *slog.Logger, cfg Config) *Service {
	if cfg.Secrets == nil {
		cfg.Secrets = &secretbox.Box{}
	}
	if cfg.AccountURL == nil {
		cfg.AccountURL = func(sub string) string { return "http://" + sub + ".localhost" }
	}
	s := &Service{db: db, tickets: tickets, accounts: accounts, kb: kbs, log: log, cfg: cfg, emb: newEmbeddings()}
	s.queue = delivery.New(db, delivery.Spec[run]{
		Name:    "ai",
		Table:   "ai_outbox",
		Lane:    []string{"account_id", "ticket_id"},
		Columns: []string{"ticket_id", "kind"},
		Fields:  func(r *run) []any { return []any{&r.ticketID, &r.kind} },
		Deliver: s.deliver,
		LogAttrs: func(j delivery.Job[run]) []any {
			return []any{"ticket", j.Item.ticketID, "kind", j.Item.kind}
		},
	}, delivery.Config{Workers: max(cfg.Workers, 2), BaseBackoff: cfg.BaseBackoff, MaxBackoff: cfg.MaxBackoff}, log)
	return s
}

// Run works the AI queue until ctx ends.
func (s *Service) Run(ctx context.Context) { s.queue.Run(ctx) }

// Wake tells the worker that runs were queued (after commit).
func (s *Service) Wake() { s.queue.Wake() }

// Drained reports whether no AI run waits (tests wait on it).
func (s *Service) Drained(ctx context.Context) bool { return s.queue.Drained(ctx) }

// Secrets returns the box that seals model server keys.
func (s *Service) Secrets() *secretbox.Box { return s.cfg.Secrets }

// llmClient returns a client for the account's model server, or nil when none is set
// or its key cannot be opened (then the AI stays local and says so).
func (s *Service) llmClient(acct *account.Account, c *Controls) (*llm.Client, error) {
	if !c.LLM.Configured() {
		return nil, nil
	}
	key, err := s.cfg.Secrets.Open(c.LLM.SealedKey, keyContext(acct.ID))
	if err != nil {
		return nil, err
	}
	return llm.New(llm.Config{BaseURL: c.LLM.BaseURL, ChatModel: c.LLM.ChatModel, EmbedModel: c.LLM.EmbedModel, Key: key,
		AllowPrivate: s.cfg.AllowPrivate, Timeout: s.cfg.LLMTimeout, Budget: s.cfg.LLMBudget})
}
