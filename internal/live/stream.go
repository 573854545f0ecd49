package live

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
)

// Streams: an event stream is a connection taken over from the HTTP server (hijacked)
// and handed to the hub, which writes to it from a few writer goroutines. An idle stream
// therefore costs a socket, its subscription and a small buffer, and no goroutine: the
// writers wake for a stream only when it has something to send.

// Stream timings.
const (
	// heartbeat: a comment line this often keeps proxies from closing an idle stream,
	// finds closed tabs (the write fails) and ends streams whose session ended
	// elsewhere (signed out on another process, user suspended, expired).
	heartbeat = 20 * time.Second
	// writeTimeout: a client that does not take a write within it loses its stream.
	writeTimeout = 5 * time.Second
	// retryMs is the browser's reconnection delay.
	retryMs = 2000
	// writers is how many goroutines write to streams.
	writers = 8
)

// streamHeader starts the HTTP response of a hijacked stream: no length, no chunking,
// the body ends when the connection closes.
const streamHeader = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nX-Accel-Buffering: no\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"

// streamState is what an attached subscription needs to write.
type streamState struct {
	nc  net.Conn
	wmu sync.Mutex // one writer at a time
	// replayed are the events sent as missed when the stream (re)connected: the same
	// events may also wait in the subscription, and are not sent twice. (Ids are not a
	// high-water mark: on PostgreSQL a lower id may commit after a higher one.)
	replayed map[int64]bool
	expires  time.Time
	err      error
}

func (st *streamState) write(s string) {
	if st.err != nil {
		return
	}
	_ = st.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, st.err = io.WriteString(st.nc, s)
}

// Serve takes over nc, a connection whose request opened sub's stream: it writes the
// response header, what was missed since last (Last-Event-ID; 0 for a fresh stream,
// which starts from now) and hands the stream to the hub's writers. It returns at once;
// the stream ends at sign-out, at expires, when the client goes, or at shutdown.
func (h *Hub) Serve(ctx context.Context, sub *Sub, nc net.Conn, expires time.Time, last int64) {
	st := &streamState{nc: nc, expires: expires}
	st.wmu.Lock()
	st.write(streamHeader)
	st.write(fmt.Sprintf("retry: %d\n\n", retryMs))
	if last > 0 {
		evs, complete, err := h.Since(ctx, sub.Viewer.Account, last)
		if err != nil {
			h.log.WarnContext(ctx, "live: replay", "err", err)
			complete = false
		}
		if !complete {
			st.write(resyncLine)
		}
		st.replayed = make(map[int64]bool, len(evs))
		for _, ev := range evs {
			h.writeEvent(ctx, sub, st, ev)
			st.replayed[ev.ID] = true
		}
	} else if id, err := h.LastID(ctx); err == nil {
		st.write(fmt.Sprintf("id: %d\n: now\n\n", id))
	}
	st.wmu.Unlock()
	if st.err != nil {
		sub.Close()
		nc.Close()
		return
	}
	h.mu.Lock()
	closed := isDone(sub)
	if !closed {
		sub.stream = st
	}
	h.mu.Unlock()
	if closed {
		h.end(st)
		return
	}
	h.wake(sub) // events that arrived during the replay
}

func isDone(s *Sub) bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

const (
	resyncLine = "event: resync\ndata: {}\n\n"
	endLine    = "event: end\ndata: {}\n\n"
)

// wake queues an attached subscription for a writer, once.
func (h *Hub) wake(s *Sub) {
	if s.queued.Swap(true) {
		return
	}
	select {
	case h.work <- s:
	default:
		// Every writer is busy and the queue is full: the stream catches up (or
		// resyncs) at its next wake-up or heartbeat.
		s.queued.Store(false)
	}
}

// writer writes queued streams until ctx ends.
func (h *Hub) writer(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-h.work:
			s.queued.Store(false)
			h.flush(ctx, s)
		}
	}
}

// flush writes what a stream has waiting.
func (h *Hub) flush(ctx context.Context, s *Sub) {
	h.mu.Lock()
	st := s.stream
	h.mu.Unlock()
	if st == nil {
		return
	}
	st.wmu.Lock()
	for st.err == nil {
		if s.Lost() {
			st.write(resyncLine)
		}
		if s.beat.Swap(false) {
			st.write(": heartbeat\n\n")
		}
		select {
		case ev := <-s.c:
			h.writeEvent(ctx, s, st, ev)
			continue
		default:
		}
		break
	}
	failed := st.err != nil
	st.wmu.Unlock()
	if failed {
		s.Close() // the client is gone or stalled
	}
}

// writeEvent writes ev as the subscription's viewer may see it (or only its id, to keep
// the browser's Last-Event-ID current).
func (h *Hub) writeEvent(ctx context.Context, s *Sub, st *streamState, ev *Event) {
	if st.replayed[ev.ID] {
		return
	}
	out, ok, err := Visible(ctx, h.db.R(), s.Viewer, ev)
	if err != nil {
		h.log.WarnContext(ctx, "live: visibility", "ticket", ev.Ticket, "err", err)
		st.write(resyncLine)
		return
	}
	var b strings.Builder
	if ev.ID != 0 {
		fmt.Fprintf(&b, "id: %d\n", ev.ID)
	}
	if ok {
		data, _ := json.Marshal(out)
		fmt.Fprintf(&b, "event: %s\ndata: %s\n", out.Kind, data)
		if s.Viewer.Actor.IsStaff() && slices.Contains(ev.Notify, s.Viewer.Actor.UserID) {
			fmt.Fprintf(&b, "\nevent: notification\ndata: {\"ticket\":%d}\n", ev.Ticket)
		}
	}
	if b.Len() > 0 {
		b.WriteString("\n")
		st.write(b.String())
	}
}

// end says goodbye to a stream and closes its connection.
func (h *Hub) end(st *streamState) {
	st.wmu.Lock()
	st.write(endLine)
	st.wmu.Unlock()
	st.nc.Close()
}

// heartbeats, every heartbeat: ends the streams whose session is gone or expired and
// wakes the others with a heartbeat line.
func (h *Hub) heartbeats(ctx context.Context) {
	t := time.NewTicker(heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		byAcct := map[ids.Account][]*Sub{}
		h.mu.Lock()
		for a, m := range h.subs {
			for s := range m {
				if s.stream != nil {
					byAcct[a] = append(byAcct[a], s)
				}
			}
		}
		h.mu.Unlock()
		now := time.Now()
		for a, subs := range byAcct {
			alive, err := h.liveSessions(ctx, a, subs, now)
			if err != nil {
				if ctx.Err() == nil {
					h.log.Warn("live: check sessions", "err", err)
				}
				alive = nil // a database hiccup ends no stream
			}
			for _, s := range subs {
				if alive != nil && !alive[s.Viewer.Session] || now.After(s.stream.expires) {
					s.Close()
					continue
				}
				s.beat.Store(true)
				h.wake(s)
			}
		}
	}
}

// liveSessions returns which of the subscriptions' web sessions are still signed in with
// an active user (the sessions table is the web interface's; streams outlive the
// request that checked theirs).
func (h *Hub) liveSessions(ctx context.Context, acct ids.Account, subs []*Sub, now time.Time) (map[string]bool, error) {
	alive := map[string]bool{}
	var hashes []any
	for _, s := range subs {
		if s.Viewer.Session != "" {
			hashes = append(hashes, s.Viewer.Session)
		}
	}
	for len(hashes) > 0 {
		n := min(len(hashes), 500)
		args := append([]any{acct, store.Micros(now)}, hashes[:n]...)
		hashes = hashes[n:]
		rows, err := h.db.R().QueryContext(ctx, `SELECT s.token_hash FROM sessions s JOIN users u ON u.account_id = s.account_id AND u.id = s.user_id
			WHERE s.account_id = ? AND s.expires_at > ? AND u.active = TRUE AND u.suspended = FALSE AND s.token_hash IN (`+store.In(n)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var hash string
			if err := rows.Scan(&hash); err != nil {
				rows.Close()
				return nil, err
			}
			alive[hash] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return alive, nil
}
