// Package send calls webhooks: it is the webhook client of the shared delivery queue
// (internal/delivery) over the webhook_outbox table that internal/webhook fills in the
// transaction of each change. Calls of one webhook about one ticket (or user, or
// organization) go out in order; network errors, timeouts, 408, 409, 429 and 5xx are
// retried with backoff (never sooner than Retry-After) up to Config.MaxAttempts calls,
// then the call is given up on, the webhook marked failing and the account's admins
// notified. Each endpoint (scheme, host, port) has a circuit breaker and a cap on calls
// in flight, so a dead or hanging endpoint holds no worker that another webhook's call
// needs. Calls go
// through the sharing partners' guarded transport (no private or loopback addresses
// unless the operator allows them), follow no redirect, read at most
// Config.MaxResponse bytes of an answer, and time out.
package send

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"tandem/internal/delivery"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/sharing/peer"
	"tandem/internal/store"
	"tandem/internal/ticket"
	"tandem/internal/webhook"
)

// Defaults of Config.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxResponse = 64 << 10
	DefaultMaxAttempts = 10
	DefaultMaxBackoff  = 5 * time.Minute
	// excerptLen is how much of an answer the invocation log keeps.
	excerptLen = 500
	userAgent  = "Tandem-Webhook/1"
)

// Config configures webhook calls. A zero field takes its default.
type Config struct {
	// AllowPrivate lets webhooks call loopback and private addresses (the operator's
	// --allow-private-partners; development and tests).
	AllowPrivate bool
	// Timeout bounds one call, reading the answer included (10 s).
	Timeout time.Duration
	// MaxResponse is how much of an answer is read (64 KiB); the rest is dropped.
	MaxResponse int64
	// MaxAttempts is how many calls are made for one invocation before it is given up
	// on (10).
	MaxAttempts int
	// Workers is how many calls are made at once (32); MaxInFlight how many of them may
	// go to one webhook (Workers/2).
	Workers, MaxInFlight int
	// BaseBackoff and MaxBackoff bound the retry delays (500 ms, 5 minutes).
	BaseBackoff, MaxBackoff time.Duration
	// BreakAfter consecutive failures open a webhook's circuit for BreakFor (5, 5 s),
	// doubling while the trial call after it fails, up to MaxBackoff.
	BreakAfter int
	BreakFor   time.Duration
	// Owner names this process in leases.
	Owner string
	// Failing, if set, tells the account's admins, in the transaction that records it,
	// that a webhook started failing (internal/live's notifications).
	Failing func(ctx context.Context, tx *store.Tx, acct ids.Account, text string) error
}

// Service delivers the webhook outbox.
type Service struct {
	db      *store.DB
	log     *slog.Logger
	cfg     Config
	client  *http.Client
	breaker *breaker
	queue   *delivery.Queue[row]
}

// row is an invocation as the worker reads it.
type row struct {
	webhookID, invocationID, lane, eventType, body string
	// note carries the attempt from Deliver to Recorded (same job, copied by value).
	note *note
}

// note is what an attempt did, recorded with its outcome.
type note struct {
	attempt *webhook.Attempt // nil when no call was made
	hook    *webhook.Webhook
	gaveUp  bool
}

// New returns the webhook service; Run delivers the queue.
func New(db *store.DB, log *slog.Logger, cfg Config) *Service {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxResponse <= 0 {
		cfg.MaxResponse = DefaultMaxResponse
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 32
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = max(1, cfg.Workers/2)
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = min(500*time.Millisecond, cfg.MaxBackoff/4)
	}
	if cfg.BreakAfter <= 0 {
		cfg.BreakAfter = 5
	}
	if cfg.BreakFor <= 0 {
		cfg.BreakFor = min(5*time.Second, cfg.MaxBackoff)
	}
	s := &Service{db: db, log: log, cfg: cfg,
		client: &http.Client{
			Transport: peer.Transport(peer.Options{AllowPrivate: cfg.AllowPrivate, Timeout: cfg.Timeout}),
			// Redirects are not followed: a 3xx is the answer, and a permanent failure.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Timeout:       cfg.Timeout,
		},
		breaker: newBreaker(cfg.BreakAfter, cfg.BreakFor, cfg.MaxBackoff, cfg.MaxInFlight),
	}
	s.queue = delivery.New(db, delivery.Spec[row]{
		Name:    "webhook",
		Table:   "webhook_outbox",
		Lane:    []string{"webhook_id", "lane"},
		Columns: []string{"webhook_id", "invocation_id", "lane", "event_type", "body"},
		Fields: func(r *row) []any {
			r.note = &note{}
			return []any{&r.webhookID, &r.invocationID, &r.lane, &r.eventType, &r.body}
		},
		Deliver:  s.deliver,
		Recorded: s.recorded,
		Settled:  s.settled,
		LogAttrs: func(j delivery.Job[row]) []any {
			return []any{"webhook", j.Item.webhookID, "invocation", j.Item.invocationID}
		},
	}, delivery.Config{Workers: cfg.Workers, BaseBackoff: cfg.BaseBackoff, MaxBackoff: cfg.MaxBackoff,
		Timeout: cfg.Timeout + 5*time.Second, Owner: cfg.Owner}, log)
	return s
}

// Run delivers queued calls until ctx ends.
func (s *Service) Run(ctx context.Context) {
	s.queue.Run(ctx)
	s.client.CloseIdleConnections()
}

// Wake tells the worker calls were queued (after commit).
func (s *Service) Wake() { s.queue.Wake() }

// Drained reports whether no call is waiting (tests and benchmarks wait on it).
func (s *Service) Drained(ctx context.Context) bool { return s.queue.Drained(ctx) }

// Claims is how many claim transactions the worker has run (benchmarks).
func (s *Service) Claims() int64 { return s.queue.Claims() }

// Stats reports how many calls wait and for how long, over all accounts (metrics).
func (s *Service) Stats(ctx context.Context) (int64, time.Duration, error) { return s.queue.Stats(ctx) }

// Health is the delivery state of one webhook's calls.
func (s *Service) Health(ctx context.Context, acct ids.Account, id string) (delivery.Health, error) {
	return delivery.HealthOf(ctx, s.db.R(), "webhook_outbox", int64(acct), "webhook_id = ?", id)
}

// AfterWrite is the ticket write path's after-hook that queues the webhook calls the
// triggers and automations decided (their External audit events, rendered by the
// rules), in the change's transaction, in the ticket's lane.
func (s *Service) AfterWrite(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	queued := false
	for _, ev := range ch.Events {
		if ev["type"] != "External" {
			continue
		}
		id, _ := ev["resource"].(string)
		body, _ := ev["body"].(string)
		ok, err := webhook.QueueCall(ctx, tx, ch.Account.ID, id, webhook.TicketLane(ch.Ticket.ID), body)
		if err != nil {
			return err
		}
		queued = queued || ok
	}
	if queued {
		tx.AfterCommit(s.queue.Wake)
	}
	return nil
}

func (s *Service) deliver(ctx context.Context, j delivery.Job[row]) delivery.Result {
	r := j.Item
	w, err := webhook.Get(ctx, s.db.R(), ids.Account(j.AccountID), r.webhookID)
	if errs.Is(err, errs.NotFound) {
		return delivery.Result{Outcome: delivery.Fatal, Reason: "webhook no longer exists"}
	}
	if err != nil {
		// A database that did not answer (a timeout on a busy machine) is not a webhook
		// gone: the call waits for another attempt instead of being given up.
		return delivery.Result{Outcome: delivery.Retry, Reason: "read the webhook: " + err.Error()}
	}
	r.note.hook = w
	if w.Status != webhook.StatusActive && r.eventType != "test" {
		return delivery.Result{Outcome: delivery.Fatal, Reason: "webhook is inactive"}
	}
	endpoint := origin(w.Endpoint)
	ok, wait := s.breaker.acquire(endpoint)
	if !ok {
		// No call made: the circuit is open or enough calls are in flight to this
		// webhook; the row waits without holding a worker.
		return delivery.Result{Outcome: delivery.Deferred, RetryAfter: wait}
	}
	start := time.Now()
	resp, err := s.call(ctx, w, r.invocationID, w.SigningSecret, []byte(r.body))
	a := &webhook.Attempt{Latency: time.Since(start), CompletedAt: store.Now()}
	status := 0
	if resp != nil {
		status = resp.status
	}
	outcome := peer.Classify(status, err)
	s.breaker.release(endpoint, outcome != peer.Retry || status == http.StatusTooManyRequests || status == http.StatusConflict)
	res := delivery.Result{Status: status}
	a.StatusCode = status
	if resp != nil {
		res.RetryAfter = resp.retryAfter
		a.Response = resp.excerpt
	}
	switch outcome {
	case peer.Delivered:
		a.Status = "success"
		r.note.attempt = a
		return res
	case peer.Retry:
		res.Outcome = delivery.Retry
	default:
		res.Outcome = delivery.Fatal
	}
	a.Status = "failed"
	res.Reason = reason(resp, err)
	if a.Response == "" {
		a.Response = res.Reason
	}
	r.note.attempt = a
	if res.Outcome == delivery.Retry {
		n, err := webhook.CountAttempts(ctx, s.db.R(), ids.Account(j.AccountID), j.ID)
		if err == nil && n+1 >= s.cfg.MaxAttempts {
			res.Outcome = delivery.Fatal
			plural := "s"
			if n+1 == 1 {
				plural = ""
			}
			res.Reason = fmt.Sprintf("gave up after %d attempt%s: %s", n+1, plural, res.Reason)
		}
	}
	r.note.gaveUp = res.Outcome == delivery.Fatal
	if r.note.gaveUp && res.Reason != "" {
		r.note.attempt.Response = res.Reason
	}
	return res
}

// recorded writes the attempt and the webhook's health with the outcome.
func (s *Service) recorded(ctx context.Context, tx *store.Tx, j delivery.Job[row], status string) error {
	n, acct := j.Item.note, ids.Account(j.AccountID)
	if n.attempt == nil {
		return nil
	}
	if err := webhook.RecordAttempt(ctx, tx, acct, j.ID, j.Item.webhookID, n.attempt); err != nil {
		return err
	}
	switch {
	case status == "delivered":
		_, err := webhook.SetFailing(ctx, tx, acct, j.Item.webhookID, "")
		return err
	case status == "dead" && n.gaveUp:
		changed, err := webhook.SetFailing(ctx, tx, acct, j.Item.webhookID, n.attempt.Response)
		if err != nil || !changed || s.cfg.Failing == nil {
			return err
		}
		name := j.Item.webhookID
		if n.hook != nil {
			name = n.hook.Name
		}
		return s.cfg.Failing(ctx, tx, acct, fmt.Sprintf("Webhook %q is failing: %s", name, n.attempt.Response))
	}
	return nil
}

// settled hurries the calls waiting for a webhook that answers again.
func (s *Service) settled(ctx context.Context, j delivery.Job[row], res delivery.Result) {
	if res.Outcome != delivery.Delivered || j.Attempts == 0 {
		return // only a call that had failed before says the endpoint is back
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE webhook_outbox SET next_attempt_at = ? WHERE webhook_id = ? AND status = 'pending' AND attempts > 0 AND next_attempt_at > ?`,
			store.Micros(store.Now()), j.Item.webhookID, store.Micros(store.Now()))
		return err
	})
	if err != nil && ctx.Err() == nil {
		s.log.Error("webhook: retry calls waiting for an endpoint that answers again", "webhook", j.Item.webhookID, "err", err)
	}
	s.queue.Wake()
}

// answer is what an endpoint answered.
type answer struct {
	status     int
	header     http.Header
	body       []byte
	excerpt    string
	retryAfter time.Duration
}

// contentTypes are the Content-Type of each request format.
var contentTypes = map[string]string{
	"json":         "application/json",
	"xml":          "application/xml",
	"form_encoded": "application/x-www-form-urlencoded",
}

// call makes one signed call of w with body.
func (s *Service) call(ctx context.Context, w *webhook.Webhook, invocation, secret string, body []byte) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	target := w.Endpoint
	var rd io.Reader = http.NoBody
	switch {
	case w.HTTPMethod == http.MethodGet && w.RequestFormat == "form_encoded" && len(body) > 0:
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + string(body)
		body = nil
	case w.HTTPMethod == http.MethodGet:
		body = nil
	case len(body) > 0:
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, w.HTTPMethod, target, rd)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", peer.ErrBadURL, err)
	}
	for k, v := range w.CustomHeaders {
		req.Header.Set(k, v)
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", contentTypes[w.RequestFormat])
	}
	req.Header.Set("User-Agent", userAgent)
	ts := webhook.Timestamp(time.Now())
	req.Header.Set(webhook.SignatureHeader, webhook.Signature(secret, ts, body))
	req.Header.Set(webhook.SignatureTimestampHeader, ts)
	if w.ID != "" {
		req.Header.Set("X-Zendesk-Webhook-Id", w.ID)
	}
	if invocation != "" {
		req.Header.Set("X-Zendesk-Webhook-Invocation-Id", invocation)
	}
	req.Header.Set("X-Zendesk-Account-Id", fmt.Sprint(w.AccountID))
	if a := w.Auth; a != nil {
		switch a.Type {
		case "basic_auth":
			req.SetBasicAuth(a.Data["username"], a.Data["password"])
		case "bearer_token":
			req.Header.Set("Authorization", "Bearer "+a.Data["token"])
		case "api_key":
			req.Header.Set(a.Data["name"], a.Data["value"])
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxResponse))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: b, excerpt: peer.Excerpt(b, excerptLen),
		retryAfter: peer.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}, nil
}

// reason says in a sentence why a call failed.
func reason(a *answer, err error) string {
	if err != nil {
		var dnsErr *net.DNSError
		switch {
		case peer.IsBlockedAddress(err):
			var be *peer.BlockedAddressError
			errors.As(err, &be)
			return fmt.Sprintf("refused to connect to %s: %s address (webhook endpoints must resolve to public addresses)", be.Addr, be.Kind)
		case errors.Is(err, peer.ErrBadURL):
			return err.Error()
		case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
			return "timed out waiting for the endpoint"
		case errors.As(err, &dnsErr):
			return "DNS lookup failed: " + dnsErr.Err
		case errors.Is(err, syscall.ECONNREFUSED):
			return "connection refused"
		case errors.Is(err, syscall.ECONNRESET):
			return "connection reset by the endpoint"
		case peer.IsTLSError(err):
			return "TLS error: " + err.Error()
		}
		return "call failed: " + err.Error()
	}
	s := fmt.Sprintf("endpoint answered %d", a.status)
	if t := http.StatusText(a.status); t != "" {
		s += " " + t
	}
	if a.status >= 300 && a.status < 400 {
		return s + " (redirects are not followed)"
	}
	if a.excerpt != "" {
		s += ": " + a.excerpt
	}
	return s
}

// origin is the scheme, host and port an endpoint URL calls: the circuit breaker's key,
// so that webhooks calling the same dead endpoint share one circuit.
func origin(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	return u.Scheme + "://" + strings.ToLower(u.Host)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
