package web

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/input"
	"tandem/internal/store"
)

// Cookie names. The session cookie holds a random secret whose SHA-256 is the key of a
// row in the sessions table; the CSRF cookie only serves signed-out forms (sign-in).
const (
	sessionCookie = "tandem_session"
	csrfCookie    = "tandem_csrf"
	flashCookie   = "tandem_flash"
	csrfField     = "csrf_token"
	csrfHeader    = "X-CSRF-Token"
)

// Session lifetimes: a session lasts two weeks after its last renewal; it is renewed
// when less than half of that remains, so an active user stays signed in.
const (
	sessionTTL   = 14 * 24 * time.Hour
	sessionRenew = sessionTTL / 2
)

// session is a signed-in browser.
type session struct {
	hash      string
	accountID ids.Account
	userID    ids.User
	CSRF      string `json:"csrf"`
	expires   time.Time
}

// createSession signs a user in: a new random secret (never the one of a previous
// session, so a planted cookie cannot be promoted) and its row.
func (s *Server) createSession(ctx context.Context, acct ids.Account, user ids.User) (string, *session, error) {
	secret := identity.NewSecret()
	sess := &session{hash: identity.HashToken(secret), accountID: acct, userID: user, CSRF: identity.NewSecret(), expires: store.Now().Add(sessionTTL)}
	data, _ := json.Marshal(sess)
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, account_id, user_id, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			sess.hash, acct, user, string(data), store.Micros(store.Now()), store.Micros(sess.expires))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET last_login_at = ? WHERE account_id = ? AND id = ?`, store.Micros(store.Now()), acct, user)
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("web: create session: %w", err)
	}
	return secret, sess, nil
}

// loadSession finds the live session of a cookie secret in the account.
func (s *Server) loadSession(ctx context.Context, acct ids.Account, secret string) (*session, error) {
	sess := &session{hash: identity.HashToken(secret), accountID: acct}
	var data string
	var exp int64
	err := s.db.R().QueryRowContext(ctx, `SELECT user_id, data, expires_at FROM sessions WHERE token_hash = ? AND account_id = ?`, sess.hash, acct).Scan(&sess.userID, &data, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("web: load session: %w", err)
	}
	sess.expires = store.Time(exp)
	if time.Now().After(sess.expires) {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(data), sess); err != nil {
		return nil, fmt.Errorf("web: session data: %w", err)
	}
	if sess.CSRF == "" {
		return nil, nil
	}
	return sess, nil
}

// renewSession pushes the expiry of a session that has used half its life.
func (s *Server) renewSession(ctx context.Context, sess *session) bool {
	if time.Until(sess.expires) > sessionRenew {
		return false
	}
	sess.expires = store.Now().Add(sessionTTL)
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET expires_at = ? WHERE token_hash = ? AND account_id = ?`, store.Micros(sess.expires), sess.hash, sess.accountID)
		return err
	})
	if err != nil {
		s.log.WarnContext(ctx, "renew session", "err", err)
		return false
	}
	return true
}

func (s *Server) deleteSession(ctx context.Context, sess *session) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ? AND account_id = ?`, sess.hash, sess.accountID)
		return err
	})
}

// setCookie sets a cookie with the flags every Tandem cookie has: HttpOnly, SameSite=Lax,
// Secure when the request came over https, and host-only (each account's subdomain has
// its own cookies).
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: scheme(r) == "https", SameSite: http.SameSiteLaxMode})
}

// withSession loads the signed-in user, if any, and the CSRF token forms must carry.
func (s *Server) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		c := &call{Acct: account.FromContext(ctx), r: r}
		if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
			sess, err := s.loadSession(ctx, c.Acct.ID, ck.Value)
			if err != nil {
				s.renderError(w, r, nil, err)
				return
			}
			if sess != nil {
				u, err := identity.Get(ctx, s.db.R(), c.Acct.ID, sess.userID)
				switch {
				case err == nil && u.Active && !u.Suspended:
					c.User, c.CSRF = u, sess.CSRF
					if s.renewSession(ctx, sess) {
						setCookie(w, r, sessionCookie, ck.Value, int(sessionTTL.Seconds()))
					}
					ctx = context.WithValue(ctx, sessionKey, sess)
				case err != nil && !errs.Is(err, errs.NotFound):
					s.renderError(w, r, nil, err)
					return
				}
			}
			if c.User == nil {
				setCookie(w, r, sessionCookie, "", -1)
			}
		}
		if c.User == nil {
			// Signed-out forms (sign-in) use a double-submit token: a random cookie
			// echoed in a hidden field.
			if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
				c.CSRF = ck.Value
			} else {
				c.CSRF = identity.NewSecret()
				setCookie(w, r, csrfCookie, c.CSRF, 0)
			}
		}
		if c.User != nil {
			ctx = identity.NewContext(ctx, c.User)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, callKey, c)))
	})
}

const sessionKey ctxKey = 2

func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey).(*session)
	return s
}

// checkCSRF refuses state-changing requests whose token does not match the session's.
// Cross-origin requests were already refused by net/http's CrossOriginProtection; the
// token also stops same-site attacks and browsers that send no Sec-Fetch-Site.
func (s *Server) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		limit := int64(1 << 20)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			limit = maxImportBytes + 64<<10
		}
		if r.URL.Path == uploadPath {
			limit = s.files.Config().MaxFileSize + 1 // the files service refuses past its limit, naming it
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		c := callOf(r)
		got := r.Header.Get(csrfHeader)
		if got == "" {
			got = r.PostFormValue(csrfField)
			if got == "" && r.MultipartForm == nil && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				if err := r.ParseMultipartForm(8 << 20); err == nil {
					got = r.PostFormValue(csrfField)
				}
			}
		}
		if c.CSRF == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.CSRF)) != 1 {
			s.renderError(w, r, c, errs.Forbiddenf("This form has expired or did not come from Tandem, so it was refused. Reload the page and try again."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuseNUL applies the NUL rule (package input) to the query and the form once, where
// they are decoded, so no handler hands a database text it cannot store.
func (s *Server) refuseNUL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := input.Values(r.URL.Query())
		if err == nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				if r.MultipartForm == nil {
					_ = r.ParseMultipartForm(8 << 20) // as checkCSRF does; a broken form fails in its handler
				}
			} else {
				_ = r.ParseForm()
			}
			err = input.Values(r.PostForm)
		}
		if err != nil {
			s.renderError(w, r, callOf(r), err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Flash messages survive one redirect in a short-lived cookie. Only our own handlers
// write them, and templates escape them like any text.
type flash struct {
	Kind string // ok, error
	Text string
}

func setFlash(w http.ResponseWriter, r *http.Request, kind, text string) {
	setCookie(w, r, flashCookie, url.QueryEscape(kind+"|"+text), 60)
}

func takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	ck, err := r.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	setCookie(w, r, flashCookie, "", -1)
	v, err := url.QueryUnescape(ck.Value)
	if err != nil {
		return nil
	}
	kind, text, ok := strings.Cut(v, "|")
	if !ok || (kind != "ok" && kind != "error") || len(text) > 500 {
		return nil
	}
	return &flash{Kind: kind, Text: text}
}

// redirect answers a form post: 303 to the next page with a message.
func redirect(w http.ResponseWriter, r *http.Request, to, msg string) error {
	if msg != "" {
		setFlash(w, r, "ok", msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// redirectErr answers a form post that failed in a way best shown on the page it came
// from.
func redirectErr(w http.ResponseWriter, r *http.Request, to string, err error) error {
	setFlash(w, r, "error", errorText(err))
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
