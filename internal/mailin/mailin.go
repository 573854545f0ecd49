// Package mailin is Tandem's inbound email: each account's support addresses
// (recipient_addresses), the SMTP/LMTP listener that takes mail for them into a durable
// inbox before answering 250, the worker that turns inbox messages into tickets and
// comments through the ticket write path (threading by reply token, Message-ID and
// subject marker), and the suspended tickets that automated, spoofed or unwanted mail
// becomes instead. docs/EMAIL.md describes it.
package mailin

import (
	"context"
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"tandem/internal/account"
	"tandem/internal/files"
	"tandem/internal/limit"
	"tandem/internal/secretbox"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Config configures inbound mail.
type Config struct {
	// SupportAddress is an account's default support address (server.Config's).
	SupportAddress func(subdomain string) string
	// MailDomain is the domain of the default support addresses: support@{sub}.{domain}.
	MailDomain string
	// SpoolDir holds messages too large to keep in the inbox row, and attachments.
	SpoolDir string
	// MaxSize is the largest message accepted, in bytes (552 above it).
	MaxSize int64
	// AuthServID is the authserv-id of the trusted relay whose Authentication-Results
	// headers are believed (DMARC, DKIM, SPF); empty believes none.
	AuthServID string
	// SenderRate is how many messages one sender may send an account per hour before
	// the rest are suspended.
	SenderRate int
	// SignupRequired reports whether the account takes mail only from users it knows
	// ("users must sign up"); nil reads the account's setting (signup.go).
	SignupRequired func(ctx context.Context, acct *account.Account) bool
	// SendVerification, when set, queues the verification message of a support address
	// (outbound mail's queue) in tx; nil only logs it.
	SendVerification func(ctx context.Context, tx *store.Tx, acct *account.Account, to, subject, text string) error
	// Bounced, when set, applies a delivery status notification about mail Tandem sent
	// (outbound mail's send.Service.RecordBounce) in tx: token is the VERP token of the
	// bounce address it came back to ("" when it came to a support address); messageID
	// is the reported mail's, with angle brackets; hard is a permanent failure. It
	// reports whether the notification was about mail of the account.
	Bounced func(ctx context.Context, tx *store.Tx, acct *account.Account, token, messageID, recipient, status, reason string, hard bool) (bool, error)
	// Files stores the attachments and inline images of inbound mail (nil: none are
	// kept, a note on the comment says so).
	Files *files.Service
	// IMAPTLS, when set, configures TLS to IMAP servers (tests give their own roots).
	IMAPTLS *tls.Config
	// Secrets seals the IMAP mailbox passwords kept in the database (nil or keyless:
	// mailboxes with a password cannot be added).
	Secrets *secretbox.Box
	// Workers is how many messages are processed at once.
	Workers int
	// Backlog bounds the messages stored and not yet processed: above it the listener
	// holds each 250 (the message already stored) until the workers bring the backlog
	// back to it (backlog.go). 0 is DefaultBacklog; negative holds nothing.
	Backlog int
	// BacklogHold is the longest a 250 is held (0: DefaultBacklogHold).
	BacklogHold time.Duration
	// Hostname is the name the listener greets with.
	Hostname string
}

// Defaults for Config's zero fields.
const (
	DefaultMaxSize    = 50 << 20
	DefaultSenderRate = 30
	// DefaultWorkers is how many messages are processed at once: enough that on
	// SQLite the group commit gathers several messages into each transaction.
	DefaultWorkers = 16
)

// Service is inbound mail: addresses, inbox, worker and suspended tickets.
type Service struct {
	cfg      Config
	db       *store.DB
	tickets  *ticket.Service
	accounts *account.Store
	limits   limit.Counter
	log      *slog.Logger
	// wake tells the worker that the inbox has new rows.
	wake chan struct{}
	// pollWake tells the IMAP poller that a mailbox was added.
	pollWake chan struct{}
	// inflight are the messages claimed and not yet processed (ingest.go).
	inflight inflight
	// routes caches the support addresses' lookups (routecache.go).
	routes routeCache
	// backlog holds the listener's replies while too many stored messages wait for the
	// worker (backlog.go).
	backlog backlog
	// fresh hands the rows the listener stored to the worker (fresh.go).
	fresh freshRows
}

// New returns the inbound mail service.
func New(db *store.DB, tickets *ticket.Service, accounts *account.Store, limits limit.Counter, log *slog.Logger, cfg Config) *Service {
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.SenderRate <= 0 {
		cfg.SenderRate = DefaultSenderRate
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = filepath.Join(os.TempDir(), "tandem-mail-spool")
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	if cfg.Backlog == 0 {
		cfg.Backlog = DefaultBacklog
	}
	if cfg.BacklogHold <= 0 {
		cfg.BacklogHold = DefaultBacklogHold
	}
	s := &Service{cfg: cfg, db: db, tickets: tickets, accounts: accounts, limits: limits, log: log, wake: make(chan struct{}, 1), pollWake: make(chan struct{}, 1)}
	s.backlog.bound, s.backlog.hold = cfg.Backlog, cfg.BacklogHold
	return s
}

// MaxSize returns the largest message accepted, in bytes.
func (s *Service) MaxSize() int64 { return s.cfg.MaxSize }

// notify wakes the worker without blocking.
func (s *Service) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// micros is a stored time.
func micros(t time.Time) int64 { return store.Micros(t) }
