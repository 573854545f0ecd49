// Package send is Tandem's outgoing mail. Mail is composed and queued (table mail_outbox)
// in the same transaction as the change that causes it: the trigger notifications of a
// ticket change (its Notification audit events, consumed by the AfterWrite hook) and
// account mail such as a welcome message (Queue). The shared delivery queue
// (internal/delivery) submits it to the configured SMTP relay: 4xx answers and network
// errors are retried with backoff, a 5xx answer fails the mail for good and is recorded
// on its ticket, where the agent sees it. With no relay configured the mail is kept
// (status "kept") and shown on the admin's Outgoing mail page instead of being sent.
//
// Every mail about a ticket carries the ticket's reply token (internal/mailthread): in
// its Message-ID and in the plus-address of its Reply-To, so inbound mail threads the
// reply; In-Reply-To and References chain it to the ticket's earlier mail.
package send

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"tandem/internal/account"
	"tandem/internal/delivery"
	"tandem/internal/files"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/mailthread"
	"tandem/internal/secretbox"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Config configures outgoing mail. A zero field takes its default.
type Config struct {
	// Relay is the SMTP relay URL (smtp://user:pass@host:587 or smtps://host:465); empty
	// keeps mail on the admin page instead of sending it.
	Relay string
	// TLS configures connections to the relay (tests give their own roots).
	TLS *tls.Config
	// MailDomain is the right-hand side of Message-IDs.
	MailDomain string
	// SupportAddress returns an account's default support address (server.Config's).
	SupportAddress func(subdomain string) string
	// DefaultAddress, when set, reads the account's default support address and its
	// From name from the support addresses (mailin.DefaultAddress) in the queuing
	// transaction; ok false falls back to SupportAddress.
	DefaultAddress func(ctx context.Context, q store.Queryer, acct ids.Account) (email, name string, ok bool, err error)
	// Workers is how many mails are submitted at once (default 16).
	Workers int
	// BaseBackoff and MaxBackoff bound the retry delays (defaults 2 s and 10 minutes).
	BaseBackoff, MaxBackoff time.Duration
	// Files, when set, gives notifications the files of the comments they are about
	// (files.go): attached up to AttachMax bytes in all (default 10 MB), the rest linked
	// with signed links valid for LinkTTL (default 30 days) under AccountURL(subdomain).
	Files      *files.Service
	AttachMax  int64
	LinkTTL    time.Duration
	AccountURL func(subdomain string) string
	// DKIM are the server's signing keys, one per domain (dkim.go); an account's own key
	// (dkim_account.go) takes precedence for its mail. None: mail is not signed.
	DKIM []DKIMKey
	// Secrets seals the accounts' DKIM keys kept in the database (nil or keyless: no
	// account key can be generated).
	Secrets *secretbox.Box
	// NoVERP sends mail with the From address as its envelope sender instead of a
	// per-message bounces+TOKEN@ address (for a relay that rewrites the envelope
	// sender); delivery reports are then matched by Message-ID (bounce.go).
	NoVERP bool
	// Suggest, when set, returns up to n help center articles that may answer a ticket
	// and that the recipient may read, for {{ticket.suggested_articles}} (the
	// acknowledgement of a new request lists them).
	Suggest func(ctx context.Context, q store.Queryer, acct *account.Account, reader *identity.User, t *ticket.Ticket, n int) ([]Suggestion, error)
}

// Suggestion is a help center article offered in a mail.
type Suggestion struct {
	Title, URL string
}

// Service queues and sends mail for every account of a server.
type Service struct {
	db       *store.DB
	tickets  *ticket.Service
	accounts *account.Store
	log      *slog.Logger
	cfg      Config
	relay    *relay // nil: keep mail
	dkim     *dkimSigner
	queue    *delivery.Queue[row]
	// keys caches the accounts' parsed DKIM keys (dkim_account.go).
	keyMu sync.Mutex
	keys  map[ids.Account]cachedKey
	// addrs caches each account's default support address behind its settings version
	// (migration 0046 bumps it when a support address changes).
	addrs store.SettingsCache[defaultAddress]
}

// defaultAddress is an account's default support address as DefaultAddress read it.
type defaultAddress struct {
	email, name string
	ok          bool
}

// row is a queued mail as the worker reads it.
type row struct {
	ticketID                   int64
	from, to, subject, message string
	envelope                   string // MAIL FROM; "" = from
	files                      string // ids of the files attached, comma-separated
}

// New returns the mail service; Run sends the queue.
func New(db *store.DB, tickets *ticket.Service, accounts *account.Store, log *slog.Logger, cfg Config) (*Service, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Minute
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = min(2*time.Second, cfg.MaxBackoff/4)
	}
	if cfg.MailDomain == "" {
		cfg.MailDomain = "localhost"
	}
	if cfg.SupportAddress == nil {
		cfg.SupportAddress = func(sub string) string { return "support@" + sub + "." + cfg.MailDomain }
	}
	if cfg.AttachMax <= 0 {
		cfg.AttachMax = DefaultAttachMax
	}
	if cfg.LinkTTL <= 0 {
		cfg.LinkTTL = DefaultLinkTTL
	}
	if cfg.AccountURL == nil {
		cfg.AccountURL = func(sub string) string { return "http://" + sub + ".localhost" }
	}
	s := &Service{db: db, tickets: tickets, accounts: accounts, log: log, cfg: cfg, dkim: newDKIMSigner(cfg.DKIM), keys: map[ids.Account]cachedKey{}}
	if cfg.Relay != "" {
		r, err := parseRelay(cfg.Relay, cfg.TLS, cfg.MailDomain, cfg.Workers)
		if err != nil {
			return nil, err
		}
		s.relay = r
	}
	s.queue = delivery.New(db, delivery.Spec[row]{
		Name:    "mail",
		Table:   "mail_outbox",
		Lane:    []string{"account_id", "ticket_id", "rcpt_to"},
		Columns: []string{"ticket_id", "mail_from", "rcpt_to", "subject", "message", "attachments", "envelope_from"},
		Fields: func(r *row) []any {
			return []any{&r.ticketID, &r.from, &r.to, &r.subject, &r.message, &r.files, &r.envelope}
		},
		Deliver: s.deliver,
		Settled: s.settled,
		LogAttrs: func(j delivery.Job[row]) []any {
			return []any{"ticket", j.Item.ticketID, "to", j.Item.to}
		},
	}, delivery.Config{Workers: cfg.Workers, BaseBackoff: cfg.BaseBackoff, MaxBackoff: cfg.MaxBackoff}, log)
	return s, nil
}

// Relay names the relay mail goes to ("" when mail is kept), without its password.
func (s *Service) Relay() string {
	if s.relay == nil {
		return ""
	}
	return s.relay.String()
}

// Run sends queued mail until ctx ends.
func (s *Service) Run(ctx context.Context) {
	s.queue.Run(ctx)
	if s.relay != nil {
		s.relay.close()
	}
}

// Drained reports whether no mail is waiting (tests and benchmarks wait on it).
func (s *Service) Drained(ctx context.Context) bool { return s.queue.Drained(ctx) }

// Stats reports how much mail waits and for how long, over all accounts (metrics).
func (s *Service) Stats(ctx context.Context) (int64, time.Duration, error) { return s.queue.Stats(ctx) }

// From is the address and display name an account's mail is sent from: its default
// support address (the one marked default among its support addresses, with that
// address's name), named after the account when the address has no name.
func (s *Service) From(ctx context.Context, q store.Queryer, acct *account.Account) (addr, name string, err error) {
	if s.cfg.DefaultAddress == nil {
		addr, name = s.fromAddress(acct, defaultAddress{})
		return addr, name, nil
	}
	email, n, ok, err := s.cfg.DefaultAddress(ctx, q, acct.ID)
	if err != nil {
		return s.cfg.SupportAddress(acct.Subdomain), acct.Name, err
	}
	addr, name = s.fromAddress(acct, defaultAddress{email: email, name: n, ok: ok})
	return addr, name, nil
}

// fromOn is From inside a write: the default support address comes from the settings
// cache at the version the write sees, read only when the account's settings changed.
func (s *Service) fromOn(ctx context.Context, tx *store.Tx, acct *account.Account) (addr, name string, err error) {
	if s.cfg.DefaultAddress == nil {
		addr, name = s.fromAddress(acct, defaultAddress{})
		return addr, name, nil
	}
	d, err := s.addrs.Get(ctx, tx, int64(acct.ID), func() (defaultAddress, error) {
		email, n, ok, err := s.cfg.DefaultAddress(ctx, tx, acct.ID)
		return defaultAddress{email: email, name: n, ok: ok}, err
	})
	if err != nil {
		return s.cfg.SupportAddress(acct.Subdomain), acct.Name, err
	}
	addr, name = s.fromAddress(acct, d)
	return addr, name, nil
}

// fromAddress is the From of the account's mail given its default support address:
// the configured support address and the account's name when it has none.
func (s *Service) fromAddress(acct *account.Account, d defaultAddress) (addr, name string) {
	if !d.ok {
		return s.cfg.SupportAddress(acct.Subdomain), acct.Name
	}
	if d.name != "" {
		return d.email, d.name
	}
	return d.email, acct.Name
}

func (s *Service) deliver(ctx context.Context, j delivery.Job[row]) delivery.Result {
	if s.relay == nil {
		return delivery.Result{Outcome: delivery.Kept}
	}
	msg, fail := s.prepare(ctx, j)
	if fail != nil {
		return *fail
	}
	envelope := j.Item.envelope
	if envelope == "" {
		envelope = j.Item.from
	}
	return s.relay.send(ctx, envelope, j.Item.to, msg)
}

// systemActor records what the mail system itself notes on a ticket.
var systemActor = ticket.Actor{Role: identity.Admin, Name: "Tandem mail"}

// failureEvent is the audit event type of a mail that could not be delivered; a change
// that carries it sends no mail (so a failing address cannot start a loop).
const failureEvent = "EmailDeliveryFailure"

// settled records a permanent failure on the mail's ticket, where the agent sees it.
func (s *Service) settled(ctx context.Context, j delivery.Job[row], res delivery.Result) {
	if res.Outcome != delivery.Fatal || j.Item.ticketID == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	acct, err := s.accounts.ByID(ctx, ids.Account(j.AccountID))
	if err == nil {
		_, err = s.tickets.Update(ctx, acct, systemActor, ids.Ticket(j.Item.ticketID), &ticket.Patch{
			Events: []ticket.Event{{"type": failureEvent, "recipient": j.Item.to, "subject": j.Item.subject, "reason": res.Reason}},
		})
	}
	if err != nil {
		s.log.Error("mail: record failure on ticket", "account", j.AccountID, "ticket", j.Item.ticketID, "err", err)
	}
}

// Outgoing is one mail to queue.
type Outgoing struct {
	// Kind says why it is sent (notification, welcome, ...); the admin page shows it.
	Kind    string
	ToName  string
	To      string
	Subject string
	Text    string
	HTML    string
	// Auto marks mail sent by a rule rather than written by a person.
	Auto bool
	// Ticket, when set, threads the mail with the ticket's.
	Ticket ids.Ticket
	// Files are sent with the mail: attached or linked (files.go).
	Files []*files.Attachment
}

// Queue composes the mail and queues it in tx; it is sent after commit. A recipient that
// is not one plain address is refused (errs would be the caller's; here it is an error).
func (s *Service) Queue(ctx context.Context, tx *store.Tx, acct *account.Account, m Outgoing) error {
	return s.queueOn(ctx, tx, acct, m, nil)
}

// thread is what the next mail about a ticket needs from those before it: the ticket's
// reply token and the Message-IDs its References name. AfterWrite keeps one across the
// mails of a change, so that only its first mail reads them, and no mail of a change that
// creates the ticket does (a ticket created in this transaction has neither yet).
type thread struct {
	known bool
	token string   // "" until a mail has been queued ("" and known: the ticket has none)
	first string   // the ticket's first Message-ID
	last  []string // its last nine, oldest first
}

// refs returns the References of the next mail, as references reads them.
func (th *thread) refs() []string {
	if len(th.last) == 9 && th.first != th.last[0] {
		return append([]string{th.first}, th.last...)
	}
	return slices.Clone(th.last)
}

// start sets the thread from what references read.
func (th *thread) start(refs []string) {
	switch {
	case len(refs) > 9:
		th.first, th.last = refs[0], refs[1:]
	case len(refs) > 0:
		th.first, th.last = refs[0], refs
	}
}

// add notes a mail queued on the thread.
func (th *thread) add(messageID string) {
	if th.first == "" {
		th.first = messageID
	}
	th.last = append(th.last, messageID)
	if len(th.last) > 9 {
		th.last = th.last[len(th.last)-9:]
	}
}

// queueOn is Queue, with the ticket's thread when the caller keeps one (nil: read it).
func (s *Service) queueOn(ctx context.Context, tx *store.Tx, acct *account.Account, m Outgoing, th *thread) error {
	if !validAddress(m.To) {
		return fmt.Errorf("send: %q is not a mail address", m.To)
	}
	from, fromName, err := s.fromOn(ctx, tx, acct)
	if err != nil {
		return fmt.Errorf("send: from address: %w", err)
	}
	attached, links, err := s.mailFiles(ctx, tx, acct, m.Files)
	if err != nil {
		return err
	}
	if links != "" {
		m.Text += links
		if m.HTML != "" {
			m.HTML += textToHTML(links)
		}
	}
	msg := Message{FromName: fromName, From: from, ToName: m.ToName, To: m.To, Subject: m.Subject,
		Text: m.Text, HTML: m.HTML, Auto: m.Auto, Date: store.Now()}
	// newThread: the ticket's reply token is new and goes into mail_threads with the
	// mail's own insert (PostgreSQL: one statement, not two).
	newThread := false
	if m.Ticket != 0 {
		if th == nil {
			th = &thread{}
		}
		if !th.known {
			refs, err := s.references(ctx, tx, acct.ID, m.Ticket)
			if err != nil {
				return err
			}
			th.start(refs)
			if th.token, err = mailthread.Token(ctx, tx, int64(acct.ID), int64(m.Ticket)); err != nil {
				return fmt.Errorf("send: reply token: %w", err)
			}
			th.known = true
		} else if th.token == "" {
			if tx.D() == store.Postgres {
				th.token, newThread = mailthread.NewToken(), true
			} else if th.token, err = mailthread.New(ctx, tx, int64(acct.ID), int64(m.Ticket)); err != nil {
				return fmt.Errorf("send: reply token: %w", err)
			}
		}
		msg.MessageID = mailthread.MessageID(th.token, s.cfg.MailDomain)
		msg.ReplyTo = mailthread.ReplyAddress(from, th.token)
		refs := th.refs()
		if len(refs) > 0 {
			msg.References, msg.InReplyTo = refs, refs[len(refs)-1]
		}
	} else {
		// Mail about no ticket (a welcome) needs no token: nothing threads a reply to it.
		msg.MessageID = "<m." + strings.ToLower(rand.Text()) + "@" + s.cfg.MailDomain + ">"
	}
	raw, err := compose(msg)
	if err != nil {
		return err
	}
	now := store.Micros(store.Now())
	fileIDs := make([]string, len(attached))
	for i, id := range attached {
		fileIDs[i] = strconv.FormatInt(id, 10)
	}
	envelope, token := s.envelope(acct)
	// With no relay the mail is kept, as the worker would record it (one attempt, kept
	// now), in this transaction rather than in two more write transactions (claim and
	// finish) after it; with one it waits for the worker. Either way the insert itself
	// holds it instead when the address bounced for good (one statement, not a read of
	// the address before it); the rare held mail then gets its reason.
	status, attempts, delivered := "pending", int64(0), int64(0)
	if s.relay == nil {
		status, attempts, delivered = "kept", 1, now
	}
	query, args := queueInsert, []any{acct.ID, m.Ticket, m.Kind, from, m.To, oneLine(m.Subject), msg.MessageID, m.Text, string(raw), strings.Join(fileIDs, ","), envelope, token,
		status, attempts, now, delivered, now, acct.ID, strings.ToLower(strings.TrimSpace(m.To))}
	if newThread {
		// The token is stored whether the mail is queued or held, as mailthread.New
		// would have stored it before the insert.
		query = `WITH th AS (` + mailthread.Insert + `) ` + queueInsert
		args = append([]any{acct.ID, m.Ticket, th.token, now}, args...)
	}
	// The statements that the write's earlier hooks left to ride (the reports') go in
	// with this one: it reads only mail_bounces (store.Tx.Carry).
	query, args = tx.Carry(query, args)
	var id int64
	err = tx.QueryRowContext(ctx, query, args...).Scan(&id, &status)
	if err != nil {
		return fmt.Errorf("send: queue: %w", err)
	}
	if status == "held" {
		// The address bounced for good: the mail waits, visible with the reason, until
		// an agent clears the address (ClearBounce).
		held, err := heldReason(ctx, tx, acct.ID, m.To)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET last_error = ? WHERE id = ?`, held, id); err != nil {
			return fmt.Errorf("send: queue: %w", err)
		}
		return nil
	}
	if m.Ticket != 0 {
		th.add(msg.MessageID)
	}
	if status == "pending" {
		tx.AfterCommit(s.queue.Wake)
	}
	return nil
}

// queueInsert queues a mail with the status, attempts and delivery time given, unless
// its recipient (the last argument, lowercased as mail_bounces keeps addresses) bounced
// for good: then held, with no attempt and no delivery (its reason is set after).
const queueInsert = `INSERT INTO mail_outbox (account_id, ticket_id, kind, mail_from, rcpt_to, subject, message_id, text_body, message, attachments, envelope_from, verp_token, status, attempts, next_attempt_at, delivered_at, created_at)
	SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN h.held THEN 'held' ELSE ? END, CASE WHEN h.held THEN CAST(0 AS BIGINT) ELSE ? END, ?, CASE WHEN h.held THEN CAST(0 AS BIGINT) ELSE ? END, ?
	FROM (SELECT EXISTS (SELECT 1 FROM mail_bounces WHERE account_id = ? AND email = ?) AS held) h
	RETURNING id, status`

// BouncePrefix is the local part of VERP envelope senders: bounces+TOKEN@domain.
const BouncePrefix = "bounces+"

// envelope returns a new mail's envelope sender and its VERP token:
// bounces+TOKEN@{the domain of the account's default support address shape}, which
// the inbound listener takes for the account (mailin's resolve); "" and "" with
// NoVERP (the From address is the envelope sender).
func (s *Service) envelope(acct *account.Account) (string, string) {
	if s.cfg.NoVERP {
		return "", ""
	}
	def := s.cfg.SupportAddress(acct.Subdomain)
	token := strings.ToLower(rand.Text())
	return BouncePrefix + token + def[strings.LastIndexByte(def, '@'):], token
}

// references are the Message-IDs of the ticket's earlier mail, oldest first (at most
// the first and the last nine, as long threads do).
func (s *Service) references(ctx context.Context, tx *store.Tx, acct ids.Account, t ids.Ticket) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT message_id FROM mail_outbox WHERE account_id = ? AND ticket_id = ? ORDER BY id DESC LIMIT 9`, acct, t)
	if err != nil {
		return nil, fmt.Errorf("send: references: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append([]string{id}, out...)
	}
	if err := rows.Err(); err != nil || len(out) < 9 {
		return out, err
	}
	var first string
	if err := tx.QueryRowContext(ctx, `SELECT message_id FROM mail_outbox WHERE account_id = ? AND ticket_id = ? ORDER BY id LIMIT 1`, acct, t).Scan(&first); err == nil && first != out[0] {
		out = append([]string{first}, out...)
	}
	return out, nil
}
