package live

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
)

// notifier sends this process's notifications on PostgreSQL, after the writes they
// announce have committed, outside them. A NOTIFY sent inside a writing transaction
// makes its COMMIT take the database-wide notification lock and hold it through the
// commit's WAL flush: every notifying commit of every account then ran one at a time.
// Here the writes commit without it, and one goroutine sends what they queued, events'
// ids joined into few payloads ("e:1,2,3"), in one short statement whose commit waits
// for no WAL flush (the notifications are not data: the events are already committed).
//
// A process that dies between a commit and its notification loses the notification,
// not the event: every hub also checks now and then for events it was not told of
// (recheck), and a listener that reconnects catches up (catchUp).
type notifier struct {
	mu      sync.Mutex
	pending []string
	wake    chan struct{}
	// off drops every notification (tests: a process that dies before notifying).
	off bool
}

// maxPending bounds the notifications waiting to be sent (a database that does not
// answer): beyond it they are dropped, and the other processes' rechecks find the events.
const maxPending = 65536

// maxPayload keeps joined payloads below PostgreSQL's 8,000-byte limit.
const maxPayload = 7000

// add queues a notification.
func (n *notifier) add(payload string) {
	n.mu.Lock()
	if !n.off && len(n.pending) < maxPending {
		n.pending = append(n.pending, payload)
	}
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// take returns the queued notifications, events' ids joined.
func (n *notifier) take() []string {
	n.mu.Lock()
	ps := n.pending
	n.pending = nil
	n.mu.Unlock()
	var out []string
	var ev strings.Builder
	for _, p := range ps {
		id, ok := strings.CutPrefix(p, "e:")
		if !ok {
			out = append(out, p)
			continue
		}
		if ev.Len() > 0 && ev.Len()+1+len(id) > maxPayload {
			out = append(out, ev.String())
			ev.Reset()
		}
		if ev.Len() == 0 {
			ev.WriteString("e:")
		} else {
			ev.WriteByte(',')
		}
		ev.WriteString(id)
	}
	if ev.Len() > 0 {
		out = append(out, ev.String())
	}
	return out
}

// notifyAfter sends payload to every process once tx commits (never if it rolls back).
func (h *Hub) notifyAfter(tx *store.Tx, payload string) {
	tx.AfterCommit(func() { h.notes.add(payload) })
}

// sendNotifications is the notifier's worker (PostgreSQL).
func (h *Hub) sendNotifications(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.notes.wake:
		}
		ps := h.notes.take()
		for len(ps) > 0 && ctx.Err() == nil {
			// One statement, its own transaction, which commits without waiting for the
			// WAL flush (set_config's setting lasts until the statement's commit).
			_, err := h.db.R().ExecContext(ctx, `SELECT pg_notify(?, p) FROM (SELECT set_config('synchronous_commit', 'off', true)) AS c, unnest(?::text[]) AS p`, channel, ps)
			if err == nil {
				break
			}
			// Try again shortly; the rechecks find the events meanwhile.
			h.log.Warn("live: notify", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// window is what a hub's recheck knows (PostgreSQL): every event numbered up to mark
// has been dispatched (or was recorded before the hub started listening), and seen
// holds the ids above mark dispatched since.
type window struct {
	mu   sync.Mutex
	mark int64
	seen map[int64]struct{}
	// marks are the candidates for mark, each with the first transaction id not yet
	// assigned when it was read: once every transaction older than that has ended,
	// every event numbered up to it has committed (or rolled back) and been read.
	marks   []windowMark
	prevMin uint64 // the oldest running transaction at the end of the last recheck
}

type windowMark struct {
	id   int64
	xmax uint64
}

// saw records a dispatched event.
func (w *window) saw(id int64) {
	w.mu.Lock()
	if id > w.mark {
		if w.seen == nil {
			w.seen = map[int64]struct{}{}
		}
		w.seen[id] = struct{}{}
	}
	w.mu.Unlock()
}

// start sets mark when the listener starts: the catch-up that follows dispatches what
// may commit after it.
func (w *window) start(mark int64) {
	w.mu.Lock()
	w.mark = max(w.mark, mark)
	w.mu.Unlock()
}

// recheck dispatches the events committed since the last recheck that this hub was not
// told of (a process died between a commit and its notification). Every event numbered
// above mark is read by id (an index range, a few seconds' worth); mark moves up to an
// id once every transaction that could still hold an event numbered below it has ended.
func (h *Hub) recheck(ctx context.Context) error {
	w := &h.window
	w.mu.Lock()
	mark := w.mark
	w.mu.Unlock()
	var above []int64
	err := store.Each(ctx, h.db.R(), `SELECT id FROM live_events WHERE id > ? ORDER BY id LIMIT 10000`, []any{mark}, func(r store.Row) error {
		var id int64
		err := r.Scan(&id)
		above = append(above, id)
		return err
	})
	if err != nil {
		return err
	}
	var xminText, xmaxText string
	if err := h.db.R().QueryRowContext(ctx, `SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text FROM pg_current_snapshot() AS s`).Scan(&xminText, &xmaxText); err != nil {
		return err
	}
	xmin, err1 := strconv.ParseUint(xminText, 10, 64)
	xmax, err2 := strconv.ParseUint(xmaxText, 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	w.mu.Lock()
	var missed []int64
	for _, id := range above {
		if _, ok := w.seen[id]; !ok {
			missed = append(missed, id)
		}
	}
	// Marks whose transactions had all ended before this recheck read the ids: every
	// event up to them was read above.
	for len(w.marks) > 0 && w.marks[0].xmax <= w.prevMin {
		w.mark = max(w.mark, w.marks[0].id)
		w.marks = w.marks[1:]
	}
	for id := range w.seen {
		if id <= w.mark {
			delete(w.seen, id)
		}
	}
	if len(above) > 0 {
		w.marks = append(w.marks, windowMark{above[len(above)-1], xmax})
	}
	w.prevMin = xmin
	w.mu.Unlock()
	if len(missed) == 0 {
		return nil
	}
	return h.dispatchIDs(ctx, missed)
}

// each runs query and calls f with each row's id.

// rechecks runs recheck every cfg.Recheck (PostgreSQL).
func (h *Hub) rechecks(ctx context.Context) {
	t := time.NewTicker(h.cfg.Recheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := h.recheck(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("live: recheck events", "err", err)
		}
	}
}

// notified is an event named by a notification: its id, and its account (0 when the
// notification did not say: it is read whatever the account).
type notified struct {
	id   int64
	acct ids.Account
}

// parseEvents reads a notification's "ID/ACCOUNT,ID/ACCOUNT,..." (or "ID,ID,...", as a
// process of an earlier version sends them).
func parseEvents(s string) []notified {
	var out []notified
	for part := range strings.SplitSeq(s, ",") {
		id, acct, _ := strings.Cut(part, "/")
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			continue
		}
		a, err := strconv.ParseInt(acct, 10, 64)
		if err != nil {
			a = 0
		}
		out = append(out, notified{n, ids.Account(a)})
	}
	return out
}
