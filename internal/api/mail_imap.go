package api

import (
	"net/http"
	"strconv"

	"tandem/internal/errs"
	"tandem/internal/mailin"
)

// IMAP mailboxes polled for an account's support addresses (internal/mailin, imap.go)
// and the account's email settings (signup.go): Tandem extensions, admins only. The
// password given in an IMAP URL is kept for the poller and never shown again.

func (s *Server) imapRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/email_settings", s.h(admin, s.showEmailSettings))
	mux.HandleFunc("PUT /api/v2/email_settings", s.h(admin, s.updateEmailSettings))
	mux.HandleFunc("GET /api/v2/imap_mailboxes", s.h(admin, s.listIMAPMailboxes))
	mux.HandleFunc("POST /api/v2/imap_mailboxes", s.h(admin, s.createIMAPMailbox))
	mux.HandleFunc("GET /api/v2/imap_mailboxes/{id}", s.h(admin, s.showIMAPMailbox))
	mux.HandleFunc("DELETE /api/v2/imap_mailboxes/{id}", s.h(admin, s.deleteIMAPMailbox))
}

func (s *Server) showEmailSettings(w http.ResponseWriter, r *http.Request, c *Call) error {
	v, err := mailin.SignupRequired(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"email_settings": map[string]any{"signup_required": v}})
	return nil
}

func (s *Server) updateEmailSettings(w http.ResponseWriter, r *http.Request, c *Call) error {
	var env struct {
		S *struct {
			SignupRequired *bool `json:"signup_required"`
		} `json:"email_settings"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	if env.S == nil || env.S.SignupRequired == nil {
		return errs.E(errs.BadRequest, `The request body needs an "email_settings" object with "signup_required" (true or false)`)
	}
	if err := s.mail.SetSignupRequired(r.Context(), c.Acct.ID, *env.S.SignupRequired); err != nil {
		return err
	}
	return s.showEmailSettings(w, r, c)
}

func (s *Server) renderMailbox(r *http.Request, m *mailin.Mailbox) map[string]any {
	return map[string]any{
		"id":          m.ID,
		"url":         selfURL(r, "/api/v2/imap_mailboxes/"+strconv.FormatInt(m.ID, 10)+".json"),
		"address":     m.Address,
		"imap_url":    m.URL,
		"tls_ca":      m.TLSCA,
		"uidvalidity": m.UIDValidity,
		"last_uid":    m.LastUID,
		"last_error":  m.LastError,
		"polled_at":   ts(m.PolledAt),
		"created_at":  ts(m.CreatedAt),
	}
}

func (s *Server) listIMAPMailboxes(w http.ResponseWriter, r *http.Request, c *Call) error {
	list, err := s.mail.Mailboxes(r.Context(), c.Acct.ID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, m := range list {
		out = append(out, s.renderMailbox(r, m))
	}
	writeJSON(w, http.StatusOK, map[string]any{"imap_mailboxes": out, "count": len(out)})
	return nil
}

func (s *Server) showIMAPMailbox(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	m, err := s.mail.Mailbox(r.Context(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"imap_mailbox": s.renderMailbox(r, m)})
	return nil
}

func (s *Server) createIMAPMailbox(w http.ResponseWriter, r *http.Request, c *Call) error {
	var env struct {
		M *struct {
			Address string `json:"address"`
			URL     string `json:"imap_url"`
			TLSCA   string `json:"tls_ca"`
		} `json:"imap_mailbox"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	if env.M == nil {
		return errs.E(errs.BadRequest, `The request body needs an "imap_mailbox" object`)
	}
	m, err := s.mail.CreateMailbox(r.Context(), c.Acct, mailin.MailboxInput{Address: env.M.Address, URL: env.M.URL, TLSCA: env.M.TLSCA})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"imap_mailbox": s.renderMailbox(r, m)})
	return nil
}

func (s *Server) deleteIMAPMailbox(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.mail.DeleteMailbox(r.Context(), c.Acct.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
