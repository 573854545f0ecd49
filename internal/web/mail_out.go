package web

import (
	"net/http"

	"tandem/internal/delivery"
	"tandem/internal/mail/send"
)

// The admin's Outgoing mail page: the account's latest mail with its delivery state.
// With no relay configured (the demo, a laptop) mail is kept here instead of being sent,
// so the whole flow is visible without a mail server.

type mailPageData struct {
	Relay  string // "" = mail is kept
	Health delivery.Health
	Mails  []send.Sent
}

func (s *Server) outgoingMailRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/mail", s.page(admin, s.mailPage))
}

func (s *Server) mailPage(w http.ResponseWriter, r *http.Request, c *call) error {
	d := mailPageData{}
	if s.mailOut != nil {
		d.Relay = s.mailOut.Relay()
	}
	var err error
	if d.Health, err = send.Health(r.Context(), s.db.R(), c.Acct.ID); err != nil {
		return err
	}
	if d.Mails, err = send.List(r.Context(), s.db.R(), c.Acct.ID, 100); err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "admin_mail", page{Title: "Outgoing mail", Area: "admin", Nav: "mail", Data: d})
}
