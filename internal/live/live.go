// Package live tells open pages what changed: every committed ticket change (and every
// change of a share's delivery state) becomes an event, numbered and kept for a few
// minutes in live_events, and handed to the subscriptions of the ticket's account —
// each one a signed-in person's event stream, which shows them only what they may see
// (Visible). Presence (who views a ticket, who types) lives in live_presence.
//
// On SQLite one process holds every subscription: events are dispatched once their
// transaction has committed (store.Tx.AfterCommit). On PostgreSQL several processes
// share the database: once the writing transaction has committed, its process sends a
// NOTIFY naming the event's id and account (outside the transaction: notifier.go), and
// every process, its own included, listens on a dedicated connection, reads the event
// and dispatches it to its subscriptions (not reading it when it has none of the
// account); a recheck every second finds the events whose
// notification was lost (a process that died right after its commit).
//
// Publishers never wait for a reader: each subscription has a bounded buffer, and a
// subscription whose buffer is full loses the event and is told to resync instead.
// docs/LIVE.md describes the whole design.
package live

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// The kinds of event.
const (
	KindTicket   = "ticket"   // a ticket was created, changed, commented on or deleted
	KindDelivery = "delivery" // a share's delivery to a partner changed state
	KindPresence = "presence" // who views or types on a ticket changed (not numbered)
	// KindNotice is a notification about no ticket (an invitation to share tickets):
	// only the agents it notifies receive it.
	KindNotice = "notice"
)

// Event is one thing that happened to a ticket, as its stream sends it.
type Event struct {
	// ID numbers numbered events (ticket and delivery changes); 0 for presence.
	ID      int64       `json:"id,omitempty"`
	Account ids.Account `json:"-"`
	Ticket  ids.Ticket  `json:"ticket"`
	Kind    string      `json:"kind"`
	// Channel is how the change came: agent, help_center, api, trigger, partner, email
	// or ai.
	Channel string   `json:"channel,omitempty"`
	ByID    ids.User `json:"by_id,omitempty"`
	By      string   `json:"by,omitempty"`
	Created bool     `json:"created,omitempty"`
	Deleted bool     `json:"deleted,omitempty"`
	// Fields are the properties the change set.
	Fields []FieldChange `json:"fields,omitempty"`
	// Comments are the comments it added.
	Comments []CommentAdded `json:"comments,omitempty"`
	// Notify are the agents this change notifies (mentions, assignments, partner
	// replies); their streams say so. Never sent to anyone.
	Notify []ids.User `json:"-"`
	// Viewers is who views the ticket (presence events).
	Viewers []Present `json:"viewers,omitempty"`
	At      time.Time `json:"at"`
}

// FieldChange is one property a change set.
type FieldChange struct {
	Field    string `json:"field"`
	Value    string `json:"value"`
	Previous string `json:"previous,omitempty"`
}

// CommentAdded is one comment a change added.
type CommentAdded struct {
	ID     ids.Comment `json:"id"`
	Public bool        `json:"public"`
	Author ids.User    `json:"author,omitempty"`
}

// Config tunes the hub. A zero field takes its default.
type Config struct {
	// Keep is how long numbered events stay available to reconnecting streams
	// (default 10 minutes).
	Keep time.Duration
	// Buffer is how many events a subscription holds for its reader (default 64).
	Buffer int
	// PresenceTTL is how long a tab stays present after its last heartbeat (default 12 s).
	PresenceTTL time.Duration
	// Sweep is how often expired presence is looked for (default 2 s).
	Sweep time.Duration
	// Recheck is how often a hub looks for events it was not notified of (PostgreSQL:
	// a process died between a commit and its notification; default 1 s).
	Recheck time.Duration
}

// channel is the PostgreSQL NOTIFY channel every process listens on.
const channel = "tandem_live"

// Hub dispatches events to the subscriptions of one process.
type Hub struct {
	db  *store.DB
	log *slog.Logger
	cfg Config

	mu     sync.Mutex
	subs   map[ids.Account]map[*Sub]struct{}
	closed bool

	// lastID is the highest event id dispatched (PostgreSQL: where a listener that
	// reconnects catches up from).
	lastID atomic.Int64
	// dispatched remembers the ids of the last events dispatched, so that one that comes
	// twice (from its notification and from a catch-up, which on PostgreSQL also reads
	// events numbered below lastID that may have committed after it) goes out once.
	dispatched recent
	// ready is closed once events from every process arrive (at once on SQLite; on
	// PostgreSQL when the listener first listens).
	ready     chan struct{}
	readyOnce sync.Once
	// work queues streams with something to write for the writers.
	work chan *Sub
	// notes sends this process's notifications after their writes commit, window is
	// what its rechecks know (PostgreSQL).
	notes  notifier
	window window
	// read counts the events read back by id after their notification or a recheck
	// (PostgreSQL; tests).
	read atomic.Int64
}

// New returns a hub over db. Run must run (as a server worker) for PostgreSQL's events
// and for housekeeping.
func New(db *store.DB, log *slog.Logger, cfg Config) *Hub {
	if cfg.Keep <= 0 {
		cfg.Keep = 10 * time.Minute
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 64
	}
	if cfg.PresenceTTL <= 0 {
		cfg.PresenceTTL = 12 * time.Second
	}
	if cfg.Sweep <= 0 {
		cfg.Sweep = 2 * time.Second
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = time.Second
	}
	h := &Hub{db: db, log: log, cfg: cfg, subs: map[ids.Account]map[*Sub]struct{}{}, ready: make(chan struct{}),
		work: make(chan *Sub, 4096), notes: notifier{wake: make(chan struct{}, 1)}}
	if db.Dialect != store.Postgres {
		h.markReady()
	}
	return h
}

// Config returns the hub's configuration, defaults filled in.
func (h *Hub) Config() Config { return h.cfg }

// Ready is closed once the hub receives every process's events.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

func (h *Hub) markReady() { h.readyOnce.Do(func() { close(h.ready) }) }

// Viewer is who a subscription belongs to.
type Viewer struct {
	Account ids.Account
	Actor   ticket.Actor
	// Session names the web session (its token hash), so signing out closes its streams.
	Session string
}

// Sub is one subscription: one open event stream.
type Sub struct {
	hub    *Hub
	Viewer Viewer
	c      chan *Event
	lost   atomic.Bool
	done   chan struct{}
	once   sync.Once
	// stream is the connection once Serve attached it (guarded by hub.mu).
	stream *streamState
	// queued: waiting for a writer; beat: a heartbeat is due.
	queued, beat atomic.Bool
}

// Events delivers the account's events, unfiltered (the writers check Visible).
func (s *Sub) Events() <-chan *Event { return s.c }

// Lost reports (and forgets) whether events were dropped because the buffer was full;
// the stream then tells its client to resync.
func (s *Sub) Lost() bool { return s.lost.Swap(false) }

// Done is closed when the subscription ends: closed by its reader, by sign-out, or by
// the hub's shutdown.
func (s *Sub) Done() <-chan struct{} { return s.done }

// Close ends the subscription, and its stream: a last "end" event tells the page not
// to reconnect, then the connection closes.
func (s *Sub) Close() {
	s.once.Do(func() {
		close(s.done)
		h := s.hub
		h.mu.Lock()
		if m := h.subs[s.Viewer.Account]; m != nil {
			delete(m, s)
			if len(m) == 0 {
				delete(h.subs, s.Viewer.Account)
			}
		}
		st := s.stream
		h.mu.Unlock()
		if st != nil {
			h.end(st)
		}
	})
}

// Subscribe opens a subscription to v's account. After Close (shutdown) the
// subscription returned is already done.
func (h *Hub) Subscribe(v Viewer) *Sub {
	s := &Sub{hub: h, Viewer: v, c: make(chan *Event, h.cfg.Buffer), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.once.Do(func() { close(s.done) })
		return s
	}
	m := h.subs[v.Account]
	if m == nil {
		m = map[*Sub]struct{}{}
		h.subs[v.Account] = m
	}
	m[s] = struct{}{}
	return s
}

// Subscribers counts the open subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.subs {
		n += len(m)
	}
	return n
}

// dispatch hands ev to every subscription of its account without ever waiting: a full
// buffer loses the event and marks the subscription for a resync.
func (h *Hub) dispatch(ev *Event) {
	if ev.ID > 0 && !h.counted(ev.ID) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[ev.Account] {
		select {
		case s.c <- ev:
		default:
			s.lost.Store(true)
		}
		if s.stream != nil {
			h.wake(s)
		}
	}
}

// counted records that the numbered event id has been dispatched (or skipped, having
// no subscription here: unwatched) and reports whether it had not been before.
func (h *Hub) counted(id int64) bool {
	if !h.dispatched.add(id) {
		return false
	}
	if h.db.Dialect == store.Postgres {
		h.window.saw(id)
	}
	for {
		last := h.lastID.Load()
		if id <= last || h.lastID.CompareAndSwap(last, id) {
			return true
		}
	}
}

// EndSession closes the subscriptions of a web session (on sign-out).
func (h *Hub) EndSession(acct ids.Account, session string) {
	for _, s := range h.matching(acct, func(s *Sub) bool { return s.Viewer.Session == session }) {
		s.Close()
	}
}

// SignedOut ends a web session's streams on every process: at once on this one and,
// on PostgreSQL, through NOTIFY on the others, which end theirs as soon as it arrives
// rather than at their next heartbeat. The payload names the session by a digest of
// its hash, never the hash itself.
func (h *Hub) SignedOut(ctx context.Context, acct ids.Account, session string) error {
	h.EndSession(acct, session)
	if h.db.Dialect != store.Postgres {
		return nil
	}
	h.notes.add("s:" + strconv.FormatInt(int64(acct), 10) + ":" + sessionTag(session))
	return nil
}

// sessionTag is how a sign-out names a session between processes.
func sessionTag(session string) string {
	sum := sha256.Sum256([]byte("tandem-live-session:" + session))
	return hex.EncodeToString(sum[:12])
}

// signedOutElsewhere ends the streams of a session another process signed out.
func (h *Hub) signedOutElsewhere(acct ids.Account, tag string) {
	for _, s := range h.matching(acct, func(s *Sub) bool { return s.Viewer.Session != "" && sessionTag(s.Viewer.Session) == tag }) {
		s.Close()
	}
}

// EndUser closes every subscription of a user (suspended, deleted, role changed).
func (h *Hub) EndUser(acct ids.Account, user ids.User) {
	for _, s := range h.matching(acct, func(s *Sub) bool { return s.Viewer.Actor.UserID == user }) {
		s.Close()
	}
}

func (h *Hub) matching(acct ids.Account, f func(*Sub) bool) []*Sub {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*Sub
	for s := range h.subs[acct] {
		if f(s) {
			out = append(out, s)
		}
	}
	return out
}

// Close ends every subscription and refuses new ones: at shutdown, before the HTTP
// server waits for its requests, so open streams end at once.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	var all []*Sub
	for _, m := range h.subs {
		for s := range m {
			all = append(all, s)
		}
	}
	h.mu.Unlock()
	// Each goodbye may wait for a slow client (up to writeTimeout): all at once.
	var wg sync.WaitGroup
	for _, s := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Close()
		}()
	}
	wg.Wait()
}

// Run is the hub's worker: on PostgreSQL it listens for every process's events
// (reconnecting when the connection fails); everywhere it expires presence and deletes
// events older than Keep.
func (h *Hub) Run(ctx context.Context) {
	var wg sync.WaitGroup
	background := []func(context.Context){h.heartbeats}
	for range writers {
		background = append(background, h.writer)
	}
	if h.db.Dialect == store.Postgres {
		background = append(background, h.listen, h.sendNotifications, h.rechecks)
	}
	for _, f := range background {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(ctx)
		}()
	}
	sweep := time.NewTicker(h.cfg.Sweep)
	defer sweep.Stop()
	house := time.NewTicker(time.Minute)
	defer house.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-sweep.C:
			if err := h.SweepPresence(ctx, time.Now()); err != nil && ctx.Err() == nil {
				h.log.Warn("live: sweep presence", "err", err)
			}
		case <-house.C:
			if err := h.Trim(ctx, time.Now()); err != nil && ctx.Err() == nil {
				h.log.Warn("live: trim events", "err", err)
			}
		}
	}
}

// Trim deletes events older than Keep (as of now).
func (h *Hub) Trim(ctx context.Context, now time.Time) error {
	return h.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM live_events WHERE created_at < ?`, store.Micros(now.Add(-h.cfg.Keep)))
		return err
	})
}

// recent is a bounded set of the last event ids added.
type recent struct {
	mu    sync.Mutex
	ids   map[int64]struct{}
	order []int64 // ring of the ids in ids
	next  int
}

// recentSize is how many dispatched ids a hub remembers: far more than can be in flight
// at once.
const recentSize = 8192

// add adds id and reports whether it was new.
func (r *recent) add(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids, r.order = make(map[int64]struct{}, recentSize), make([]int64, 0, recentSize)
	}
	if _, ok := r.ids[id]; ok {
		return false
	}
	if len(r.order) < recentSize {
		r.order = append(r.order, id)
	} else {
		delete(r.ids, r.order[r.next])
		r.order[r.next] = id
		r.next = (r.next + 1) % recentSize
	}
	r.ids[id] = struct{}{}
	return true
}
