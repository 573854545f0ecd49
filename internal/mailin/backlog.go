package mailin

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"tandem/internal/store"
)

// Back-pressure. The listener answers 250 once a message is durable in the inbox, which
// takes one insert; turning it into a ticket takes the worker several times longer. A
// sender faster than the worker would otherwise see every 250 at once while the
// accepted messages pile up in the inbox, and each waits there longer than the one
// before it: the time from the final dot to the ticket grows with the length of the
// burst. Instead, once the message is stored (so the 250 still means durable), a
// session whose message finds more than Config.Backlog messages waiting holds its 250
// until the workers have brought the backlog down to the bound, for at most
// Config.BacklogHold: the sender's MTA sees a slow 250 (normal; RFC 5321 gives the
// client 10 minutes for it) and sends its next message that much later, so the backlog
// and with it the delay to the ticket stay bounded whatever the burst. Nothing is held
// before the message is stored, and nothing is refused.
//
// What counts as waiting: on SQLite the serving process is the only one, so the
// messages its listeners stored and its workers have not yet processed, kept in memory
// (no query per message). On PostgreSQL several processes share the inbox and any of
// them may process a message another one stored, so the count is of the inbox itself:
// the rows waiting a first attempt, read at most every backlogPoll by one session of
// the process for all of them (plus the rows the process stored since). The bound there is the whole inbox's, whatever the
// number of processes serving it. A message waiting for a retry does not count: a
// failing message must not slow the others down.

// DefaultBacklog is the default bound of Config.Backlog: at the worker's rate of about a
// thousand messages a second (SQLite), a few tens of milliseconds of waiting, and more
// than the lanes, so that each group commit still gathers a message from every lane.
const DefaultBacklog = 32

// DefaultBacklogHold is the default of Config.BacklogHold, the longest a 250 is held:
// far below the minutes an MTA waits for it, so no client ever times out.
const DefaultBacklogHold = 10 * time.Second

// backlogPoll is how often the inbox's backlog is read on PostgreSQL while replies are
// held (and at most how often it is read at all).
const backlogPoll = 5 * time.Millisecond

// backlog is the state of the back-pressure: the messages stored and not yet processed
// (SQLite), the sessions holding their reply, and the count read from the inbox
// (PostgreSQL).
type backlog struct {
	bound int
	hold  time.Duration

	mu sync.Mutex
	// waiting are the inbox ids this process's listeners stored whose processing by its
	// workers has not ended (SQLite).
	waiting map[int64]struct{}
	// drained is closed, and cleared, when the backlog falls to the bound while a
	// session holds its reply (nil when none does).
	drained chan struct{}
	// holding is the number of sessions holding their reply.
	holding atomic.Int64

	// counted and countedAt are the last count of the inbox's backlog (PostgreSQL);
	// countMu lets one session read it for all.
	countMu   sync.Mutex
	counted   int
	countedAt time.Time
}

// add notes messages stored by a listener (SQLite).
func (b *backlog) add(ids ...int64) {
	if len(ids) == 0 {
		return
	}
	b.mu.Lock()
	if b.waiting == nil {
		b.waiting = map[int64]struct{}{}
	}
	for _, id := range ids {
		b.waiting[id] = struct{}{}
	}
	b.mu.Unlock()
}

// done notes that messages are processed, or were not stored after all, and lets held
// replies go when the backlog is at the bound. Ids never added are ignored (messages
// from the IMAP poller, from before a restart).
func (b *backlog) done(ids ...int64) {
	b.mu.Lock()
	for _, id := range ids {
		delete(b.waiting, id)
	}
	if b.drained != nil && len(b.waiting) <= b.bound {
		close(b.drained)
		b.drained = nil
	}
	b.mu.Unlock()
}

// over reports whether the local backlog is above the bound (SQLite) and, when it is,
// returns a channel closed once it no longer is.
func (b *backlog) over() (bool, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.waiting) <= b.bound {
		return false, nil
	}
	if b.drained == nil {
		b.drained = make(chan struct{})
	}
	return true, b.drained
}

// storedRows adds rows this process just stored to the last count of the inbox's
// backlog (PostgreSQL): a reply checked before the next read sees them.
func (b *backlog) storedRows(n int) {
	b.countMu.Lock()
	b.counted += n
	b.countMu.Unlock()
}

// inboxOver reports whether the inbox's backlog is above the bound (PostgreSQL), from a
// count at most backlogPoll old. A failed read holds nothing: the message is stored.
func (s *Service) inboxOver(ctx context.Context) bool {
	b := &s.backlog
	b.countMu.Lock()
	defer b.countMu.Unlock()
	if time.Since(b.countedAt) >= backlogPoll {
		var n int
		err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM mail_inbox WHERE state = 'new' AND attempts = 0 LIMIT ?) w`, b.bound+1).Scan(&n)
		if err != nil {
			return false
		}
		b.counted, b.countedAt = n, time.Now()
	}
	return b.counted > b.bound
}

// holdReply returns once the backlog is at most the bound, at the latest after the
// hold time or when ctx ends. The listener calls it after storing a message, before
// answering.
func (s *Service) holdReply(ctx context.Context) {
	b := &s.backlog
	if b.bound <= 0 {
		return
	}
	var timer *time.Timer
	var poll *time.Ticker
	defer func() {
		if timer != nil {
			timer.Stop()
			b.holding.Add(-1)
		}
		if poll != nil {
			poll.Stop()
		}
	}()
	for {
		var drained <-chan struct{}
		var pollC <-chan time.Time
		if s.db.Dialect == store.SQLite {
			var over bool
			if over, drained = b.over(); !over {
				return
			}
		} else {
			if !s.inboxOver(ctx) {
				return
			}
			if poll == nil {
				poll = time.NewTicker(backlogPoll)
			}
			pollC = poll.C
		}
		if timer == nil {
			timer = time.NewTimer(b.hold)
			b.holding.Add(1)
		}
		select {
		case <-drained:
		case <-pollC:
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// HeldReplies is the number of SMTP/LMTP sessions holding their 250 because the
// backlog of stored messages is above Config.Backlog.
func (s *Service) HeldReplies() int { return int(s.backlog.holding.Load()) }
