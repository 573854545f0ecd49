package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"tandem/internal/clientaddr"
	"tandem/internal/errs"
	"tandem/internal/identity"
)

func (s *Server) authRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.page(anyone, s.landing))
	mux.HandleFunc("GET /login", s.page(anyone, s.loginForm))
	mux.HandleFunc("POST /login", s.page(anyone, s.login))
	mux.HandleFunc("POST /logout", s.page(anyone, s.logout))
	s.passwordRoutes(mux)
}

// home is where a user lands after signing in.
func home(u *identity.User) string {
	if u != nil && u.Role.IsStaff() {
		return "/agent"
	}
	return "/hc"
}

func (s *Server) landing(w http.ResponseWriter, r *http.Request, c *call) error {
	if c.User != nil {
		http.Redirect(w, r, home(c.User), http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, c, http.StatusOK, "landing", page{Title: c.Acct.Name, Area: "auth"})
}

type loginData struct {
	Email string
	Next  string
	Error string
}

// safeNext keeps only a local path as the place to go after signing in, so the sign-in
// page cannot be used to send people to another site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.ContainsAny(next, "\r\n") {
		return ""
	}
	return next
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request, c *call) error {
	next := safeNext(r.URL.Query().Get("next"))
	if c.User != nil {
		if next == "" {
			next = home(c.User)
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, c, http.StatusOK, "login", page{Title: "Sign in", Area: "auth", Data: loginData{Next: next}})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, c *call) error {
	email := strings.TrimSpace(r.PostFormValue("email"))
	pw := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	again := func(status int, msg string) error {
		return s.render(w, r, c, status, "login", page{Title: "Sign in", Area: "auth", Data: loginData{Email: email, Next: next, Error: msg}})
	}
	if email == "" || pw == "" {
		return again(http.StatusUnprocessableEntity, "Enter your email address and your password.")
	}
	u, err := s.passwords.ByPassword(r.Context(), s.db.R(), c.Acct.ID, email, pw, clientaddr.FromRequest(r))
	var th *identity.Throttled
	switch {
	case errors.As(err, &th):
		w.Header().Set("Retry-After", fmt.Sprint(th.RetryAfter()))
		if th.Busy {
			return again(http.StatusServiceUnavailable, "Too many people are signing in right now. Try again in a moment.")
		}
		return again(http.StatusTooManyRequests, fmt.Sprintf("Too many sign-in attempts. Try again in %s.", roundUp(th.Wait)))
	case errs.Is(err, errs.Unauthorized):
		return again(http.StatusUnauthorized, "That email address and password do not match.")
	case err != nil:
		return err
	}
	if old := sessionOf(r); old != nil {
		_ = s.deleteSession(r.Context(), old)
	}
	secret, _, err := s.createSession(r.Context(), c.Acct.ID, u.ID)
	if err != nil {
		return err
	}
	setCookie(w, r, sessionCookie, secret, int(sessionTTL.Seconds()))
	setCookie(w, r, csrfCookie, "", -1)
	if next == "" || strings.HasPrefix(next, "/agent") && !u.Role.IsStaff() || strings.HasPrefix(next, "/admin") && u.Role != identity.Admin {
		next = home(u)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func roundUp(d time.Duration) string {
	m := int(d.Minutes()) + 1
	if m == 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, c *call) error {
	if sess := sessionOf(r); sess != nil {
		if err := s.deleteSession(r.Context(), sess); err != nil {
			return err
		}
		// Its event streams end now, on every process.
		if err := s.live.SignedOut(r.Context(), sess.accountID, sess.hash); err != nil {
			s.log.WarnContext(r.Context(), "sign-out: end streams on other processes", "err", err)
		}
	}
	setCookie(w, r, sessionCookie, "", -1)
	return redirect(w, r, "/login", "You are signed out.")
}
