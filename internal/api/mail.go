package api

import (
	"net/http"
	"strconv"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/mail/send"
	"tandem/internal/mailin"
)

// Inbound email's two resources (internal/mailin): support addresses
// (/recipient_addresses, admins) and suspended tickets (/suspended_tickets, agents), in
// Zendesk's shapes.

func (s *Server) mailRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/recipient_addresses", s.h(admin, s.listRecipientAddresses))
	mux.HandleFunc("POST /api/v2/recipient_addresses", s.h(admin, s.createRecipientAddress))
	mux.HandleFunc("GET /api/v2/recipient_addresses/{id}", s.h(admin, s.showRecipientAddress))
	mux.HandleFunc("PUT /api/v2/recipient_addresses/{id}", s.h(admin, s.updateRecipientAddress))
	mux.HandleFunc("DELETE /api/v2/recipient_addresses/{id}", s.h(admin, s.deleteRecipientAddress))
	mux.HandleFunc("PUT /api/v2/recipient_addresses/{id}/verify", s.h(admin, s.verifyRecipientAddress))

	mux.HandleFunc("GET /api/v2/suspended_tickets", s.h(agent, s.listSuspendedTickets))
	mux.HandleFunc("GET /api/v2/suspended_tickets/{id}", s.h(agent, s.showSuspendedTicket))
	mux.HandleFunc("PUT /api/v2/suspended_tickets/{id}/recover", s.h(agent, s.recoverSuspendedTicket))
	mux.HandleFunc("DELETE /api/v2/suspended_tickets/{id}", s.h(agent, s.deleteSuspendedTicket))

	s.imapRoutes(mux) // mail_imap.go

	if s.mailOut != nil {
		mux.HandleFunc("GET /api/v2/mail_bounces", s.h(agent, s.listMailBounces))
		mux.HandleFunc("GET /api/v2/mail_bounces/{email}", s.h(agent, s.showMailBounce))
		mux.HandleFunc("DELETE /api/v2/mail_bounces/{email}", s.h(agent, s.clearMailBounce))
		s.dkimRoutes(mux) // mail_dkim.go
	}
}

// Bouncing addresses (a Tandem extension; internal/mail/send): addresses whose mail
// bounced for good, read back from delivery status notifications. Mail to them is
// held until an agent clears the address (DELETE), which sends it.

func renderBounce(b send.Bouncing) map[string]any {
	return map[string]any{"email": b.Email, "status": b.Status, "reason": b.Reason, "created_at": ts(b.CreatedAt)}
}

func (s *Server) listMailBounces(w http.ResponseWriter, r *http.Request, c *Call) error {
	list, err := send.BouncingAddresses(r.Context(), s.db.R(), c.Acct.ID, 1000)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(list))
	for i, b := range list {
		out[i] = renderBounce(b)
	}
	writeJSON(w, http.StatusOK, map[string]any{"mail_bounces": out, "count": len(out)})
	return nil
}

func (s *Server) showMailBounce(w http.ResponseWriter, r *http.Request, c *Call) error {
	b, ok, err := send.BouncingAddress(r.Context(), s.db.R(), c.Acct.ID, r.PathValue("email"))
	if err != nil {
		return err
	}
	if !ok {
		return errs.NotFoundf("mail to %s does not bounce", r.PathValue("email"))
	}
	writeJSON(w, http.StatusOK, map[string]any{"mail_bounce": renderBounce(b)})
	return nil
}

func (s *Server) clearMailBounce(w http.ResponseWriter, r *http.Request, c *Call) error {
	ok, err := s.mailOut.ClearBounce(r.Context(), c.Acct.ID, r.PathValue("email"))
	if err != nil {
		return err
	}
	if !ok {
		return errs.NotFoundf("mail to %s does not bounce", r.PathValue("email"))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) renderAddress(r *http.Request, a *mailin.Address) map[string]any {
	return map[string]any{
		"id":                         a.ID,
		"url":                        selfURL(r, "/api/v2/recipient_addresses/"+strconv.FormatInt(a.ID, 10)+".json"),
		"brand_id":                   nil,
		"default":                    a.Default,
		"email":                      a.Email,
		"name":                       a.Name,
		"group_id":                   nullID(a.GroupID),
		"forwarding_status":          a.ForwardingStatus,
		"spf_status":                 "unknown",
		"cname_status":               "unknown",
		"domain_verification_status": "unknown",
		"created_at":                 ts(a.CreatedAt),
		"updated_at":                 ts(a.UpdatedAt),
	}
}

type addressIn struct {
	Email   optStr  `json:"email"`
	Name    optStr  `json:"name"`
	GroupID optID   `json:"group_id"`
	Default optBool `json:"default"`
}

func (s *Server) decodeAddress(r *http.Request) (mailin.AddressInput, error) {
	a, err := decodeObject[addressIn](s, r, "recipient_address")
	if err != nil {
		return mailin.AddressInput{}, err
	}
	var in mailin.AddressInput
	if a.Email.Set {
		in.Email = &a.Email.Value
	}
	if a.Name.Set {
		in.Name = &a.Name.Value
	}
	if a.GroupID.Set {
		g := ids.Group(a.GroupID.Value)
		in.GroupID = &g
	}
	if a.Default.Set {
		in.Default = &a.Default.Value
	}
	return in, nil
}

func (s *Server) listRecipientAddresses(w http.ResponseWriter, r *http.Request, c *Call) error {
	list, err := s.mail.Addresses(r.Context(), c.Acct)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, a := range list {
		out = append(out, s.renderAddress(r, a))
	}
	writeJSON(w, http.StatusOK, map[string]any{"recipient_addresses": out, "count": len(out), "next_page": nil, "previous_page": nil})
	return nil
}

func (s *Server) showRecipientAddress(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.mail.Address(r.Context(), c.Acct, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recipient_address": s.renderAddress(r, a)})
	return nil
}

func (s *Server) createRecipientAddress(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := s.decodeAddress(r)
	if err != nil {
		return err
	}
	a, err := s.mail.CreateAddress(r.Context(), c.Acct, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"recipient_address": s.renderAddress(r, a)})
	return nil
}

func (s *Server) updateRecipientAddress(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in, err := s.decodeAddress(r)
	if err != nil {
		return err
	}
	a, err := s.mail.UpdateAddress(r.Context(), c.Acct, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recipient_address": s.renderAddress(r, a)})
	return nil
}

func (s *Server) deleteRecipientAddress(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.mail.DeleteAddress(r.Context(), c.Acct, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// verifyRecipientAddress starts forwarding verification again (Zendesk's
// {"type": "forwarding"}; the other types check DNS, which Tandem does not).
func (s *Server) verifyRecipientAddress(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.mail.VerifyAddress(r.Context(), c.Acct, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recipient_address": s.renderAddress(r, a)})
	return nil
}

func (s *Server) renderSuspended(r *http.Request, t *mailin.Suspended) map[string]any {
	return map[string]any{
		"id":         t.ID,
		"url":        selfURL(r, "/api/v2/suspended_tickets/"+strconv.FormatInt(t.ID, 10)+".json"),
		"author":     map[string]any{"id": nil, "name": t.AuthorName, "email": t.AuthorEmail},
		"brand_id":   nil,
		"cause":      t.Cause,
		"cause_id":   t.CauseID,
		"content":    t.Content,
		"subject":    t.Subject,
		"message_id": t.MessageID,
		"recipient":  t.Recipient,
		"ticket_id":  nil,
		"via": map[string]any{"channel": "email", "source": map[string]any{
			"from": map[string]any{"address": t.AuthorEmail, "name": t.AuthorName},
			"to":   map[string]any{"address": t.Recipient},
			"rel":  nil,
		}},
		"attachments": []any{},
		"created_at":  ts(t.CreatedAt),
		"updated_at":  ts(t.UpdatedAt),
	}
}

// listSuspendedTickets lists newest first, 100 a page; next_page continues below the
// page's last id (?before_id=).
func (s *Server) listSuspendedTickets(w http.ResponseWriter, r *http.Request, c *Call) error {
	var before int64
	if v := r.URL.Query().Get("before_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return errs.Invalidf("before_id", "InvalidValue", "must be a positive number")
		}
		before = n
	}
	const per = 100
	list, err := s.mail.SuspendedList(r.Context(), c.Acct.ID, before, per)
	if err != nil {
		return err
	}
	n, err := s.mail.SuspendedCount(r.Context(), c.Acct.ID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, t := range list {
		out = append(out, s.renderSuspended(r, t))
	}
	var next any
	if len(list) == per {
		next = selfURL(r, "/api/v2/suspended_tickets.json?before_id="+strconv.FormatInt(list[len(list)-1].ID, 10))
	}
	writeJSON(w, http.StatusOK, map[string]any{"suspended_tickets": out, "count": n, "next_page": next, "previous_page": nil})
	return nil
}

func (s *Server) showSuspendedTicket(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.mail.SuspendedTicket(r.Context(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"suspended_ticket": s.renderSuspended(r, t)})
	return nil
}

func (s *Server) recoverSuspendedTicket(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.mail.Recover(r.Context(), c.Acct, id)
	if err != nil {
		return err
	}
	body, err := s.renderTicket(r.Context(), s.db.R(), c, t, false)
	if err != nil {
		return err
	}
	writeJSONPage(w, http.StatusOK, map[string]any{"ticket": body}, "ticket")
	return nil
}

func (s *Server) deleteSuspendedTicket(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.mail.DeleteSuspended(r.Context(), c.Acct.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// selfURL is an absolute URL on the request's host.
func selfURL(r *http.Request, path string) string { return baseURL(r) + path }
