package server

import (
	"errors"
	"net/http"

	"tandem/internal/web"
)

func init() { extensions = append(extensions, setupWeb) }

// setupWeb mounts the HTML interface (agent workspace, admin center, help center and
// sign-in) at the root of every account's host. It runs after the sharing set-up
// (extensions run in file order), so the share menu and the agreements pages have the
// sharing service.
func setupWeb(s *Server) error {
	if s.Sharing == nil {
		return errors.New("server: the web interface needs the sharing service set up first")
	}
	w, err := web.New(web.Deps{
		DB:             s.db,
		Accounts:       s.Accounts,
		Tickets:        s.Tickets,
		Sharing:        s.Sharing,
		Log:            s.log,
		AccountForHost: s.AccountForHost,
		PublicURL:      s.cfg.PublicURL,
		Rules:          s.Rules,
		Passwords:      s.Passwords,
	})
	if err != nil {
		return err
	}
	h := w.Handler()
	s.MountRoot(func(mux *http.ServeMux) { mux.Handle("/", h) })
	s.AddWorker(w.Run)
	return nil
}
