package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

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

// eventStream is a Server-Sent Events stream of the changes the user may see. The
// connection is taken over from the HTTP server and handed to the live hub, which writes
// to it from then on (an idle stream holds no goroutine); this handler returns at once.
func (s *Server) eventStream(w http.ResponseWriter, r *http.Request, c *call) error {
	sess := sessionOf(r)
	if sess == nil {
		return errs.E(errs.Unauthorized, "Your session has ended. Sign in again.")
	}
	var last int64
	if v := firstNonEmpty(r.Header.Get("Last-Event-ID"), r.URL.Query().Get("last")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return errs.Invalidf("Last-Event-ID", "InvalidValue", "Last-Event-ID must be an event number")
		}
		last = n
	}
	// Subscribe before reading what was missed, so nothing falls between the two.
	sub := s.live.Subscribe(live.Viewer{Account: c.Acct.ID, Actor: c.Actor(), Session: sess.hash})
	nc, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		sub.Close()
		return fmt.Errorf("web: event stream needs HTTP/1.1: %w", err)
	}
	_ = buf // nothing more is read from the client; its closing shows when a write fails
	s.live.Serve(context.WithoutCancel(r.Context()), sub, nc, sess.expires, last)
	return nil
}

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
	if r.PostFormValue("next") == "sharing" && c.IsAdmin() {
		return redirect(w, r, "/admin/sharing", "") // an invitation to share tickets
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

// LiveURL is the event stream the page opens: from the page's last event on, when
// known (a reconnection's Last-Event-ID takes over).
func (p page) LiveURL() string {
	u := liveStreamURL(p.User)
	if u != "" && p.LiveSince > 0 {
		u += "?last=" + strconv.FormatInt(p.LiveSince, 10)
	}
	return u
}

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
