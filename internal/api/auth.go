package api

import (
	"encoding/base64"
	"net/http"
	"strings"

	"tandem/internal/account"
	"tandem/internal/clientaddr"
	"tandem/internal/errs"
	"tandem/internal/identity"
)

// authenticate resolves the Authorization header to a user of the request's account:
// Basic "email/token:TOKEN" (API token), Basic "email:password", or Bearer TOKEN. A request
// without credentials proceeds anonymously; one with bad credentials is refused with 401.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acct := account.FromContext(r.Context())
		h := r.Header.Get("Authorization")
		if acct == nil || h == "" {
			next.ServeHTTP(w, r)
			return
		}
		u, err := s.authUser(r, acct, h)
		if err != nil {
			if errs.Is(err, errs.Unauthorized) {
				w.Header().Set("WWW-Authenticate", `Basic realm="Web Password"`)
			}
			writeErr(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(identity.NewContext(r.Context(), u)))
	})
}

func (s *Server) authUser(r *http.Request, acct *account.Account, h string) (*identity.User, error) {
	ctx := r.Context()
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "bearer":
		if cred == "" {
			return nil, identity.ErrAuth
		}
		return identity.ByToken(ctx, s.db.R(), acct.ID, "", cred)
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return nil, identity.ErrAuth
		}
		user, secret, ok := strings.Cut(string(raw), ":")
		if !ok || secret == "" {
			return nil, identity.ErrAuth
		}
		if email, isToken := strings.CutSuffix(user, "/token"); isToken {
			return identity.ByToken(ctx, s.db.R(), acct.ID, email, secret)
		}
		return s.cfg.Passwords.ByPassword(ctx, s.db.R(), acct.ID, user, secret, clientaddr.FromRequest(r))
	}
	return nil, identity.ErrAuth
}
