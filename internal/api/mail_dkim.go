package api

import (
	"net/http"

	"tandem/internal/errs"
	"tandem/internal/mail/send"
)

// The account's DKIM key (a Tandem extension: Zendesk has no public API for it;
// internal/mail/send, dkim_account.go), admins only. One key per account, a singleton
// resource: GET shows it and the DNS record to publish, POST generates a new one
// (rotating any old one), PUT turns signing on or off, DELETE removes it. The private
// key is never returned.

func (s *Server) dkimRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/dkim_key", s.h(admin, s.showDKIMKey))
	mux.HandleFunc("POST /api/v2/dkim_key", s.h(admin, s.generateDKIMKey))
	mux.HandleFunc("PUT /api/v2/dkim_key", s.h(admin, s.updateDKIMKey))
	mux.HandleFunc("DELETE /api/v2/dkim_key", s.h(admin, s.deleteDKIMKey))
}

func renderDKIMKey(r *http.Request, k *send.AccountKey) map[string]any {
	return map[string]any{"dkim_key": map[string]any{
		"url":             selfURL(r, "/api/v2/dkim_key.json"),
		"domain":          k.Domain,
		"selector":        k.Selector,
		"algorithm":       k.Algorithm,
		"dns_name":        k.DNSName(),
		"dns_record_type": "TXT",
		"dns_record":      k.Record,
		"enabled":         k.Enabled,
		"created_at":      ts(k.CreatedAt),
		"updated_at":      ts(k.UpdatedAt),
	}}
}

func (s *Server) showDKIMKey(w http.ResponseWriter, r *http.Request, c *Call) error {
	k, err := s.mailOut.AccountKey(r.Context(), c.Acct.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderDKIMKey(r, k))
	return nil
}

func (s *Server) generateDKIMKey(w http.ResponseWriter, r *http.Request, c *Call) error {
	var env struct {
		K *struct {
			Algorithm string `json:"algorithm"`
			Selector  string `json:"selector"`
			Domain    string `json:"domain"`
		} `json:"dkim_key"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	var in send.KeyInput
	if env.K != nil {
		in = send.KeyInput{Algorithm: env.K.Algorithm, Selector: env.K.Selector, Domain: env.K.Domain}
	}
	k, err := s.mailOut.GenerateKey(r.Context(), c.Acct, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, renderDKIMKey(r, k))
	return nil
}

func (s *Server) updateDKIMKey(w http.ResponseWriter, r *http.Request, c *Call) error {
	var env struct {
		K *struct {
			Enabled *bool `json:"enabled"`
		} `json:"dkim_key"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	if env.K == nil || env.K.Enabled == nil {
		return errs.E(errs.BadRequest, `The request body needs a "dkim_key" object with "enabled" (true or false); POST makes a new key`)
	}
	k, err := s.mailOut.SetKeyEnabled(r.Context(), c.Acct.ID, *env.K.Enabled)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderDKIMKey(r, k))
	return nil
}

func (s *Server) deleteDKIMKey(w http.ResponseWriter, r *http.Request, c *Call) error {
	if err := s.mailOut.DeleteKey(r.Context(), c.Acct.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
