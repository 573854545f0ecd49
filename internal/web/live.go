package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/live"
)

// Live updates (docs/LIVE.md): each signed-in person's page holds one event stream,
// /agent/events for staff and /hc/events for end users, which sends what changed on
// the tickets they may see; ticket pages report who views them and who types.

func (s *Server) liveRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /agent/events", s.page(staff, s.eventStream))
	mux.HandleFunc("GET /hc/events", s.page(signedIn, s.eventStream))
	mux.HandleFunc("POST /agent/tickets/{id}/presence", s.page(staff, s.presence))
	mux.HandleFunc("GET /agent/notifications", s.page(staff, s.notificationsPage))
	mux.HandleFunc("POST /agent/notifications/read", s.page(staff, s.readNotifications))
}

// Stream timings: a comment line every streamHeartbeat keeps proxies from closing an
// idle stream and rechecks the session (signed out elsewhere, user suspended); a write
// that a client does not take within streamWriteTimeout ends its stream.
const (
	streamHeartbeat    = 20 * time.Second
	streamWriteTimeout = 10 * time.Second
	streamRetry        = 2000 // ms, the browser's reconnection delay
)

// eventStream is a Server-Sent Events stream of the changes the user may see.
func (s *Server) eventStream(w http.ResponseWriter, r *http.Request, c *call) error {
	sess := sessionOf(r)
	if sess == nil {
		return errs.E(errs.Unauthorized, "Your session has ended. Sign in again.")
	}
	ctx := r.Context()
	rc := http.NewResponseController(w)
	// The server's write timeout is for ordinary responses; a stream sets a deadline
	// per write instead.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		return fmt.Errorf("web: event stream: %w", err)
	}
	viewer := live.Viewer{Account: c.Acct.ID, Actor: c.Actor(), Session: sess.hash}
	// Subscribe before reading what was missed, so nothing falls between the two.
	sub := s.live.Subscribe(viewer)
	defer sub.Close()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	st := &stream{w: w, rc: rc}
	st.printf("retry: %d\n: stream of %s\n\n", streamRetry, c.Acct.Subdomain)

	var sent int64 // highest event id sent, so replayed events are not sent twice
	if last, err := strconv.ParseInt(firstNonEmpty(r.Header.Get("Last-Event-ID"), r.URL.Query().Get("last")), 10, 64); err == nil && last > 0 {
		evs, complete, err := s.live.Since(ctx, c.Acct.ID, last)
		if err != nil {
			s.log.WarnContext(ctx, "live: replay", "err", err)
			complete = false
		}
		if !complete {
			st.resync()
		}
		for _, ev := range evs {
			s.send(ctx, st, viewer, ev)
			sent = ev.ID
		}
	} else if last, err := s.live.LastID(ctx); err == nil {
		// A fresh stream starts from now: its first id lets the browser resume later.
		st.printf("id: %d\n: now\n\n", last)
	}
	if st.err != nil {
		return nil
	}
	hb := time.NewTicker(streamHeartbeat)
	defer hb.Stop()
	expiry := time.NewTimer(time.Until(sess.expires))
	defer expiry.Stop()
	for st.err == nil {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Done():
			// Signed out, or the server is shutting down: tell the page not to come back
			// until it is reloaded.
			st.printf("event: end\ndata: {}\n\n")
			return nil
		case <-expiry.C:
			st.printf("event: end\ndata: {}\n\n")
			return nil
		case <-sub.Kicked():
			if sub.Lost() {
				st.resync()
			}
		case ev := <-sub.Events():
			if ev.ID != 0 && ev.ID <= sent {
				continue
			}
			s.send(ctx, st, viewer, ev)
			if ev.ID > sent {
				sent = ev.ID
			}
		case <-hb.C:
			if !s.sessionAlive(ctx, sess) {
				st.printf("event: end\ndata: {}\n\n")
				return nil
			}
			st.printf(": heartbeat\n\n")
		}
	}
	return nil
}

// sessionAlive reports whether a stream's session is still signed in with an active
// user (a stream outlives the request that checked it).
func (s *Server) sessionAlive(ctx context.Context, sess *session) bool {
	var n int
	if err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions s JOIN users u ON u.account_id = s.account_id AND u.id = s.user_id
		WHERE s.token_hash = ? AND s.account_id = ? AND s.expires_at > ? AND u.active = TRUE AND u.suspended = FALSE`,
		sess.hash, sess.accountID, time.Now().UnixMicro()).Scan(&n); err != nil {
		return true // a database hiccup does not end streams; the next heartbeat retries
	}
	return n > 0
}

// send writes ev if the viewer may see it, as they may see it.
func (s *Server) send(ctx context.Context, st *stream, v live.Viewer, ev *live.Event) {
	out, ok, err := live.Visible(ctx, s.db.R(), v, ev)
	if err != nil {
		s.log.WarnContext(ctx, "live: visibility", "ticket", ev.Ticket, "err", err)
		st.resync()
		return
	}
	if !ok {
		if ev.ID != 0 {
			st.printf("id: %d\n\n", ev.ID) // keeps Last-Event-ID current
		}
		return
	}
	data, err := json.Marshal(out)
	if err != nil {
		return
	}
	if ev.ID != 0 {
		st.printf("id: %d\n", ev.ID)
	}
	st.printf("event: %s\ndata: %s\n\n", out.Kind, data)
	if v.Actor.IsStaff() && slices.Contains(ev.Notify, v.Actor.UserID) {
		st.printf("event: notification\ndata: {\"ticket\":%d}\n\n", ev.Ticket)
	}
}

// stream writes Server-Sent Events, each under a write deadline; the first failure
// sticks and ends the stream.
type stream struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	err error
}

func (st *stream) printf(format string, args ...any) {
	if st.err != nil {
		return
	}
	_ = st.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, st.err = fmt.Fprintf(st.w, format, args...); st.err == nil {
		st.err = st.rc.Flush()
	}
}

// resync tells the page it missed events: it reloads what it shows.
func (st *stream) resync() { st.printf("event: resync\ndata: {}\n\n") }

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// presence records a ticket tab's heartbeat (tab, typing) or its closing (leave).
func (s *Server) presence(w http.ResponseWriter, r *http.Request, c *call) error {
	t, _, err := s.pathTicket(r, c)
	if err != nil {
		return err
	}
	tab := r.PostFormValue("tab")
	if r.PostFormValue("leave") != "" {
		err = s.live.Leave(r.Context(), c.Acct.ID, c.User.ID, tab)
	} else {
		err = s.live.Heartbeat(r.Context(), c.Acct.ID, c.User.ID, t.ID, tab, r.PostFormValue("typing"))
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// notificationsData is the notifications page.
type notificationsData struct {
	Items  []live.Notification
	Unread int
}

func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request, c *call) error {
	items, unread, err := s.live.Notifications(r.Context(), c.Acct.ID, c.User.ID, 50)
	if err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "notifications", page{Title: "Notifications", Area: "agent", Nav: "notifications",
		Data: notificationsData{Items: items, Unread: unread}})
}

// readNotifications marks one notification (id) or all read, then opens its ticket
// (or goes back to the list).
func (s *Server) readNotifications(w http.ResponseWriter, r *http.Request, c *call) error {
	id, _ := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	if err := s.live.MarkRead(r.Context(), c.Acct.ID, c.User.ID, id); err != nil {
		return err
	}
	if t, err := strconv.ParseInt(r.PostFormValue("ticket"), 10, 64); err == nil && t > 0 {
		return redirect(w, r, ticketURL(ids.Ticket(t)), "")
	}
	return redirect(w, r, "/agent/notifications", "")
}

// liveStreamURL is the event stream a page of this user opens ("" for none).
func liveStreamURL(u *identity.User) string {
	switch {
	case u == nil:
		return ""
	case u.Role.IsStaff():
		return "/agent/events"
	}
	return "/hc/events"
}

// LiveURL is the event stream the page opens.
func (p page) LiveURL() string { return liveStreamURL(p.User) }

// unreadNotifications fills the topbar's count of unread notifications.
func (s *Server) unreadNotifications(ctx context.Context, c *call, p *page) error {
	_, n, err := s.live.Notifications(ctx, c.Acct.ID, c.User.ID, 0)
	p.Unread = n
	return err
}

// liveMarks are a ticket list's eye icons (someone views the ticket) and unread markers.
func (s *Server) liveMarks(ctx context.Context, c *call, tids []ids.Ticket) (map[ids.Ticket]int, map[ids.Ticket]bool, error) {
	watched, err := s.live.Watched(ctx, c.Acct.ID, tids)
	if err != nil {
		return nil, nil, err
	}
	unread, err := s.live.Unread(ctx, c.Acct.ID, c.User.ID, tids)
	return watched, unread, err
}
