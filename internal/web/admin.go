package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/sharing"
)

func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin", s.page(admin, func(w http.ResponseWriter, r *http.Request, c *call) error {
		http.Redirect(w, r, "/admin/sharing", http.StatusSeeOther)
		return nil
	}))
	mux.HandleFunc("GET /admin/plan", s.page(admin, s.planPage))
	mux.HandleFunc("GET /admin/sharing", s.page(admin, s.agreementsPage))
	mux.HandleFunc("POST /admin/sharing", s.page(admin, s.invite))
	mux.HandleFunc("POST /admin/sharing/{id}/respond", s.page(admin, s.respond))
	mux.HandleFunc("POST /admin/sharing/{id}/deactivate", s.page(admin, s.deactivate))
	mux.HandleFunc("POST /admin/sharing/{id}/terms", s.page(admin, s.updateTerms))
	s.peopleRoutes(mux)
	s.rulesRoutes(mux)
	s.macroRoutes(mux) // macro editors: shared (admin center) and personal (agents)
	s.outgoingMailRoutes(mux)
	s.webhookRoutes(mux) // admin_webhooks.go
}

// planRow is one feature of the plans table.
type planRow struct {
	Title   string
	Detail  string
	Allowed []bool // per plan, in account.Plans order
}

type planData struct {
	Plans   []account.Plan
	Current account.Plan
	Rows    []planRow
}

func (s *Server) planPage(w http.ResponseWriter, r *http.Request, c *call) error {
	d := planData{Plans: account.Plans, Current: c.Acct.Plan}
	for _, f := range []struct {
		f             account.Feature
		title, detail string
	}{
		{account.SharedOrganizations, "Shared organizations", "End users see, and may comment on, the requests of their whole organization."},
		{account.TicketSharing, "Ticket sharing with partner help desks", "Sharing agreements, sharing tickets from the ticket page, and the sharing agreements API."},
		{account.TriggerSharing, "Automatic sharing by trigger", "A trigger's “Share ticket with” action shares matching tickets by itself."},
		{account.MultipleOrgs, "Several organizations per user", fmt.Sprintf("Up to %d organizations per user; on other plans a user belongs to one.", account.Enterprise.MaxOrgsPerUser())},
	} {
		row := planRow{Title: f.title, Detail: f.detail}
		for _, p := range account.Plans {
			row.Allowed = append(row.Allowed, p.Allows(f.f))
		}
		d.Rows = append(d.Rows, row)
	}
	return s.render(w, r, c, http.StatusOK, "admin_plan", page{Title: "Plan", Area: "admin", Nav: "plan", Data: d})
}

// agreementView is an agreement with its delivery health, as the admin center shows it.
type agreementView struct {
	*sharing.Agreement
	Health   sharing.AgreementHealth
	Failures int64
	Local    bool // the partner is an account on this server
	Where    string
	Problem  string // what is wrong with the deliveries, in words ("" if nothing)
}

type agreementsData struct {
	Enabled      bool
	Blocked      string
	Pending      []agreementView // invitations waiting for our answer
	Outbound     []agreementView
	Inbound      []agreementView
	Ended        []agreementView
	LocalURL     string
	Default      sharing.Terms
	FormPartner  string
	FormError    string
	AccountPlan  account.Plan
	NeedPlanName string
}

func (s *Server) agreementsPage(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.renderAgreements(w, r, c, http.StatusOK, "", "")
}

func (s *Server) renderAgreements(w http.ResponseWriter, r *http.Request, c *call, status int, partner, formErr string) error {
	d := agreementsData{LocalURL: s.localSharingURL(c), Default: defaultTerms, FormPartner: partner, FormError: formErr, AccountPlan: c.Acct.Plan}
	switch err := c.Acct.Require(account.TicketSharing); {
	case s.sharing == nil:
		d.Blocked = "Ticket sharing is not enabled on this server."
	case err != nil:
		d.Blocked = err.Error()
		d.NeedPlanName = account.MinPlan(account.TicketSharing).Title()
	default:
		d.Enabled = true
		ags, err := sharing.Agreements(r.Context(), s.db.R(), c.Acct.ID)
		if err != nil {
			return err
		}
		failures := s.sharing.Failures()
		for _, ag := range ags {
			h, err := sharing.Health(r.Context(), s.db.R(), c.Acct.ID, ag.ID)
			if err != nil {
				return err
			}
			v := agreementView{Agreement: ag, Health: h, Failures: failures[ag.ID], Local: strings.HasPrefix(ag.RemoteURL, "local://")}
			v.Problem = deliveryProblem(ag.Name, h, time.Now())
			v.Where = ag.RemoteURL
			if v.Local {
				v.Where = "on this server (" + ag.RemoteSubdomain + ")"
			}
			switch {
			case ag.Status == sharing.Inactive || ag.Status == sharing.Declined:
				d.Ended = append(d.Ended, v)
			case ag.Direction == sharing.Inbound && ag.Status == sharing.Pending:
				d.Pending = append(d.Pending, v)
			case ag.Direction == sharing.Inbound:
				d.Inbound = append(d.Inbound, v)
			default:
				d.Outbound = append(d.Outbound, v)
			}
		}
	}
	return s.render(w, r, c, status, "admin_sharing", page{Title: "Ticket sharing", Area: "admin", Nav: "sharing", Data: d})
}

// defaultTerms share public comments, status and tags, and let the partner reply
// publicly (the API's defaults too).
var defaultTerms = sharing.Terms{SyncStatus: true, SyncTags: true, AllowsPublicComments: true}

func termsFromForm(r *http.Request) sharing.Terms {
	f := r.PostForm
	return sharing.Terms{
		SharePrivateComments: f.Get("comments") == "all",
		SyncStatus:           f.Get("sync_status") == "on",
		SyncTags:             f.Get("sync_tags") == "on",
		SyncCustomFields:     f.Get("sync_custom_fields") == "on",
		AllowsPublicComments: f.Get("allows_public_comments") == "on",
	}
}

// invite sends an invitation: to an account of this server by subdomain, or to a help
// desk elsewhere by its sharing URL. One field takes either.
func (s *Server) invite(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.sharing == nil {
		return errs.NotFoundf("Ticket sharing is not enabled on this server.")
	}
	partner := strings.TrimSpace(r.PostFormValue("partner"))
	in := sharing.InviteInput{LocalURL: s.localSharingURL(c), Terms: termsFromForm(r)}
	switch {
	case partner == "":
		return s.renderAgreements(w, r, c, http.StatusUnprocessableEntity, partner, "Enter the partner's subdomain or the URL of its sharing endpoint.")
	case strings.Contains(partner, "://"):
		in.RemoteURL = partner
	default:
		in.RemoteSubdomain = strings.ToLower(partner)
	}
	ag, err := s.sharing.Invite(r.Context(), c.Acct, c.User.ID, in)
	if err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.PlanRequired) {
			return s.renderAgreements(w, r, c, statusOf(err), partner, errorText(err))
		}
		return err
	}
	if ag.Status != sharing.Pending {
		setFlash(w, r, "error", fmt.Sprintf("The invitation to %s could not be delivered: %s", ag.Name, ag.StatusReason))
		http.Redirect(w, r, "/admin/sharing", http.StatusSeeOther)
		return nil
	}
	return redirect(w, r, "/admin/sharing", fmt.Sprintf("Invitation sent to %s. It is pending until their administrator accepts it.", ag.Name))
}

func pathAgreement(r *http.Request) int64 {
	n, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return n
}

func (s *Server) respond(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.sharing == nil {
		return errs.NotFoundf("Ticket sharing is not enabled on this server.")
	}
	answer := r.PostFormValue("answer")
	if answer != sharing.Accepted && answer != sharing.Declined {
		return errs.Invalidf("answer", "InvalidValue", "accept or decline")
	}
	ag, err := s.sharing.Respond(r.Context(), c.Acct, c.User.ID, pathAgreement(r), answer)
	if err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Unavailable) || errs.Is(err, errs.NotFound) {
			return redirectErr(w, r, "/admin/sharing", err)
		}
		return err
	}
	if answer == sharing.Accepted {
		return redirect(w, r, "/admin/sharing", fmt.Sprintf("You accepted %s's invitation. Tickets they share will arrive in the “Received from partners” view.", ag.Name))
	}
	return redirect(w, r, "/admin/sharing", fmt.Sprintf("You declined %s's invitation.", ag.Name))
}

func (s *Server) deactivate(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.sharing == nil {
		return errs.NotFoundf("Ticket sharing is not enabled on this server.")
	}
	if r.PostFormValue("confirm") != "yes" {
		return redirectErr(w, r, "/admin/sharing", errs.Invalidf("confirm", "BlankValue", "tick the box to confirm that you understand deactivation cannot be undone"))
	}
	ag, err := s.sharing.Deactivate(r.Context(), c.Acct, c.User.ID, pathAgreement(r))
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return redirectErr(w, r, "/admin/sharing", err)
		}
		return err
	}
	return redirect(w, r, "/admin/sharing", fmt.Sprintf("The agreement with %s is deactivated. Shared tickets stay on both sides but no longer sync.", ag.Name))
}

func (s *Server) updateTerms(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.sharing == nil {
		return errs.NotFoundf("Ticket sharing is not enabled on this server.")
	}
	ag, err := s.sharing.UpdateTerms(r.Context(), c.Acct, pathAgreement(r), termsFromForm(r))
	if err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.NotFound) {
			return redirectErr(w, r, "/admin/sharing", err)
		}
		return err
	}
	return redirect(w, r, "/admin/sharing", fmt.Sprintf("New terms saved for %s.", ag.Name))
}
