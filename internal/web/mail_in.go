package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/mail/send"
	"tandem/internal/mailin"
	"tandem/internal/org"
)

// Inbound email's pages (internal/mailin): the admin center's support addresses and the
// agents' suspended tickets.

func (s *Server) mailRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/email", s.page(admin, s.emailPage))
	mux.HandleFunc("POST /admin/email", s.page(admin, s.addAddress))
	mux.HandleFunc("POST /admin/email/{id}/default", s.page(admin, s.defaultAddress))
	mux.HandleFunc("POST /admin/email/{id}/verify", s.page(admin, s.verifyAddress))
	mux.HandleFunc("POST /admin/email/{id}/delete", s.page(admin, s.deleteAddress))
	mux.HandleFunc("POST /admin/email/settings", s.page(admin, s.emailSettings))
	mux.HandleFunc("POST /admin/email/dkim", s.page(admin, s.generateDKIM))
	mux.HandleFunc("POST /admin/email/dkim/enabled", s.page(admin, s.enableDKIM))
	mux.HandleFunc("POST /admin/email/dkim/delete", s.page(admin, s.deleteDKIM))
	mux.HandleFunc("GET /agent/suspended", s.page(staff, s.suspendedPage))
	mux.HandleFunc("POST /agent/suspended/{id}/recover", s.page(staff, s.recoverSuspended))
	mux.HandleFunc("POST /agent/suspended/{id}/delete", s.page(staff, s.deleteSuspended))
	mux.HandleFunc("GET /agent/tickets/{id}/comments/{cid}/email", s.page(staff, s.originalEmail))
}

// originalEmail shows the whole message a comment came from, as plain text (never
// rendered: it is what the sender wrote, markup and all). The agent must be able to
// see the ticket.
func (s *Server) originalEmail(w http.ResponseWriter, r *http.Request, c *call) error {
	t, _, err := s.pathTicket(r, c)
	if err != nil {
		return err
	}
	raw, err := s.mail.Original(r.Context(), c.Acct.ID, t.ID, ids.Comment(pathInt(r, "cid")))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, err = w.Write(raw)
	return err
}

type emailData struct {
	Addresses []*mailin.Address
	Groups    map[ids.Group]string
	AllGroups []*org.Group
	Error     string
	// SignupRequired is the "users must sign up" setting.
	SignupRequired bool
	// Signing: whether outgoing mail is configured (DKIM keys can be made), and the
	// account's DKIM key (nil: none).
	Signing bool
	DKIM    *send.AccountKey
}

func (s *Server) emailPage(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.renderEmail(w, r, c, http.StatusOK, "")
}

func (s *Server) renderEmail(w http.ResponseWriter, r *http.Request, c *call, status int, msg string) error {
	list, err := s.mail.Addresses(r.Context(), c.Acct)
	if err != nil {
		return err
	}
	gs, err := liveGroups(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	required, err := mailin.SignupRequired(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	d := emailData{Addresses: list, Groups: map[ids.Group]string{}, AllGroups: gs, Error: msg, SignupRequired: required, Signing: s.mailOut != nil}
	if s.mailOut != nil {
		k, err := s.mailOut.AccountKey(r.Context(), c.Acct.ID)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		d.DKIM = k
	}
	for _, g := range gs {
		d.Groups[g.ID] = g.Name
	}
	return s.render(w, r, c, status, "admin_email", page{Title: "Email", Area: "admin", Nav: "email", Data: d})
}

func (s *Server) addAddress(w http.ResponseWriter, r *http.Request, c *call) error {
	email, name := r.PostFormValue("email"), r.PostFormValue("name")
	in := mailin.AddressInput{Email: &email, Name: &name}
	if g := ids.Group(parseID(r.PostFormValue("group_id"))); g != 0 {
		in.GroupID = &g
	}
	a, err := s.mail.CreateAddress(r.Context(), c.Acct, in)
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
		return s.renderEmail(w, r, c, http.StatusUnprocessableEntity, errorText(err))
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/admin/email", fmt.Sprintf("%s added. Forward it to your default support address: it is verified when the verification message comes back.", a.Email))
}

// emailSettings saves who may create tickets by email.
func (s *Server) emailSettings(w http.ResponseWriter, r *http.Request, c *call) error {
	required := r.PostFormValue("submitters") == "registered"
	if err := s.mail.SetSignupRequired(r.Context(), c.Acct.ID, required); err != nil {
		return err
	}
	if required {
		return redirect(w, r, "/admin/email", "Users must sign up: mail from unknown addresses is suspended.")
	}
	return redirect(w, r, "/admin/email", "Anyone can submit tickets by email.")
}

// generateDKIM makes the account a new DKIM key (rotating the old one).
func (s *Server) generateDKIM(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.mailOut == nil {
		return errs.NotFoundf("outgoing mail is not configured")
	}
	k, err := s.mailOut.GenerateKey(r.Context(), c.Acct, send.KeyInput{Algorithm: r.PostFormValue("algorithm")})
	if errs.Is(err, errs.Invalid) {
		return s.renderEmail(w, r, c, http.StatusUnprocessableEntity, errorText(err))
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/admin/email", fmt.Sprintf("New DKIM key: publish its TXT record at %s. Mail is signed with it from now on.", k.DNSName()))
}

// enableDKIM turns signing with the account's key on or off.
func (s *Server) enableDKIM(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.mailOut == nil {
		return errs.NotFoundf("outgoing mail is not configured")
	}
	on := r.PostFormValue("enabled") == "true"
	if _, err := s.mailOut.SetKeyEnabled(r.Context(), c.Acct.ID, on); err != nil {
		return redirectErr(w, r, "/admin/email", err)
	}
	if on {
		return redirect(w, r, "/admin/email", "Outgoing mail is signed with the DKIM key.")
	}
	return redirect(w, r, "/admin/email", "DKIM signing with the account's key is off (the key is kept).")
}

// deleteDKIM removes the account's DKIM key.
func (s *Server) deleteDKIM(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.mailOut == nil {
		return errs.NotFoundf("outgoing mail is not configured")
	}
	if err := s.mailOut.DeleteKey(r.Context(), c.Acct.ID); err != nil {
		return redirectErr(w, r, "/admin/email", err)
	}
	return redirect(w, r, "/admin/email", "DKIM key deleted; remove its TXT record once mail signed with it has arrived.")
}

func (s *Server) defaultAddress(w http.ResponseWriter, r *http.Request, c *call) error {
	yes := true
	_, err := s.mail.UpdateAddress(r.Context(), c.Acct, pathInt(r, "id"), mailin.AddressInput{Default: &yes})
	if err != nil {
		return redirectErr(w, r, "/admin/email", err)
	}
	return redirect(w, r, "/admin/email", "Default support address changed.")
}

func (s *Server) verifyAddress(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.mail.VerifyAddress(r.Context(), c.Acct, pathInt(r, "id")); err != nil {
		return redirectErr(w, r, "/admin/email", err)
	}
	return redirect(w, r, "/admin/email", "Verification started again.")
}

func (s *Server) deleteAddress(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.mail.DeleteAddress(r.Context(), c.Acct, pathInt(r, "id")); err != nil {
		return redirectErr(w, r, "/admin/email", err)
	}
	return redirect(w, r, "/admin/email", "Support address deleted.")
}

type suspendedData struct {
	Rows   []*mailin.Suspended
	Count  int
	Before int64 // next page: rows below this id
}

func (s *Server) suspendedPage(w http.ResponseWriter, r *http.Request, c *call) error {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	const per = 50
	list, err := s.mail.SuspendedList(r.Context(), c.Acct.ID, before, per)
	if err != nil {
		return err
	}
	n, err := s.mail.SuspendedCount(r.Context(), c.Acct.ID)
	if err != nil {
		return err
	}
	d := suspendedData{Rows: list, Count: n}
	if len(list) == per {
		d.Before = list[len(list)-1].ID
	}
	return s.render(w, r, c, http.StatusOK, "agent_suspended", page{Title: "Suspended tickets", Area: "agent", Nav: "suspended", Data: d})
}

func (s *Server) recoverSuspended(w http.ResponseWriter, r *http.Request, c *call) error {
	t, err := s.mail.Recover(r.Context(), c.Acct, pathInt(r, "id"))
	if err != nil {
		return redirectErr(w, r, "/agent/suspended", err)
	}
	return redirect(w, r, fmt.Sprintf("/agent/tickets/%d", t.ID), fmt.Sprintf("Recovered as ticket #%d.", t.ID))
}

func (s *Server) deleteSuspended(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.mail.DeleteSuspended(r.Context(), c.Acct.ID, pathInt(r, "id")); err != nil {
		return redirectErr(w, r, "/agent/suspended", err)
	}
	return redirect(w, r, "/agent/suspended", "Suspended ticket deleted.")
}

// mailExcerpt shortens a suspended message's text for the list.
func mailExcerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 160 {
		return string(r[:159]) + "…"
	}
	return s
}
