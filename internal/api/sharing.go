package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/sharing"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

func (s *Server) sharingRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/sharing_agreements", s.h(agent, s.listAgreements))
	mux.HandleFunc("POST /api/v2/sharing_agreements", s.h(admin, s.createAgreement))
	mux.HandleFunc("GET /api/v2/sharing_agreements/{id}", s.h(agent, s.showAgreement))
	mux.HandleFunc("PUT /api/v2/sharing_agreements/{id}", s.h(admin, s.updateAgreement))
	mux.HandleFunc("DELETE /api/v2/sharing_agreements/{id}", s.h(admin, s.deleteAgreement))
}

func (s *Server) agreementJSON(ctx context.Context, c *Call, a *sharing.Agreement) map[string]any {
	h, _ := sharing.Health(ctx, s.db.R(), c.Acct.ID, a.ID)
	promised, _ := sharing.PromisedMinutes(ctx, s.db.R(), c.Acct.ID, a.ID)
	remoteURL := any(a.RemoteURL)
	if strings.HasPrefix(a.RemoteURL, "local://") {
		remoteURL = nil
	}
	return map[string]any{
		"id": a.ID, "url": c.URL("/api/v2/sharing_agreements/" + strconv.FormatInt(a.ID, 10) + ".json"),
		"name": a.Name, "type": a.Direction, "status": a.Status, "partner_name": nil,
		"remote_subdomain": nullStr(a.RemoteSubdomain), "created_at": ts(a.CreatedAt), "updated_at": ts(a.UpdatedAt),
		// Tandem additions: where the partner is, why the status is what it is, the
		// terms in force and how delivery is going.
		"remote_url": remoteURL, "status_reason": nullStr(a.StatusReason), "deactivated_by": nullStr(a.DeactivatedBy),
		// The response time the partner promised (issue 18), in minutes; null for none.
		"promised_response_minutes": nullID(promised),
		"terms": map[string]any{
			"share_private_comments": a.SharePrivateComments, "sync_status": a.SyncStatus, "sync_tags": a.SyncTags,
			"sync_custom_fields": a.SyncCustomFields, "allows_public_comments": a.AllowsPublicComments,
		},
		"delivery": map[string]any{
			"pending": h.Pending, "oldest_pending_age_seconds": int64(h.OldestPendingAge.Seconds()),
			"failed": h.Failed, "last_error": nullStr(h.LastError), "failures_since_start": s.sharing.Failures()[a.ID],
		},
	}
}

func (s *Server) listAgreements(w http.ResponseWriter, r *http.Request, c *Call) error {
	if err := c.Acct.Require(account.TicketSharing); err != nil {
		return err
	}
	list, err := sharing.Agreements(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, a := range list {
		out = append(out, s.agreementJSON(r.Context(), c, a))
	}
	body := map[string]any{"sharing_agreements": out}
	showManyKeys(body, len(out))
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) showAgreement(w http.ResponseWriter, r *http.Request, c *Call) error {
	if err := c.Acct.Require(account.TicketSharing); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := sharing.GetAgreement(r.Context(), s.db.R(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sharing_agreement": s.agreementJSON(r.Context(), c, a)})
	return nil
}

type agreementIn struct {
	RemoteSubdomain optStr `json:"remote_subdomain"`
	RemoteURL       optStr `json:"remote_url"`
	Status          optStr `json:"status"`
	Terms           *struct {
		SharePrivateComments optBool `json:"share_private_comments"`
		SyncStatus           optBool `json:"sync_status"`
		SyncTags             optBool `json:"sync_tags"`
		SyncCustomFields     optBool `json:"sync_custom_fields"`
		AllowsPublicComments optBool `json:"allows_public_comments"`
	} `json:"terms"`
	// The terms may also be given at the top level.
	SharePrivateComments optBool `json:"share_private_comments"`
	SyncStatus           optBool `json:"sync_status"`
	SyncTags             optBool `json:"sync_tags"`
	SyncCustomFields     optBool `json:"sync_custom_fields"`
	AllowsPublicComments optBool `json:"allows_public_comments"`
	// PromisedResponseMinutes is the partner's promised response time (outbound only).
	PromisedResponseMinutes *int64 `json:"promised_response_minutes"`
}

// terms merges given terms over base.
func (in *agreementIn) terms(base sharing.Terms) (sharing.Terms, bool) {
	set := false
	apply := func(o optBool, dst *bool) {
		if o.Set {
			*dst, set = o.Value, true
		}
	}
	t := base
	if in.Terms != nil {
		apply(in.Terms.SharePrivateComments, &t.SharePrivateComments)
		apply(in.Terms.SyncStatus, &t.SyncStatus)
		apply(in.Terms.SyncTags, &t.SyncTags)
		apply(in.Terms.SyncCustomFields, &t.SyncCustomFields)
		apply(in.Terms.AllowsPublicComments, &t.AllowsPublicComments)
	}
	apply(in.SharePrivateComments, &t.SharePrivateComments)
	apply(in.SyncStatus, &t.SyncStatus)
	apply(in.SyncTags, &t.SyncTags)
	apply(in.SyncCustomFields, &t.SyncCustomFields)
	apply(in.AllowsPublicComments, &t.AllowsPublicComments)
	return t, set
}

// DefaultTerms share public comments, status and tags, and let the receiver reply publicly.
var DefaultTerms = sharing.Terms{SyncStatus: true, SyncTags: true, AllowsPublicComments: true}

func (s *Server) localSharingURL(c *Call) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(strings.ReplaceAll(s.cfg.PublicURL, "{subdomain}", c.Acct.Subdomain), "/") + "/sharing"
	}
	return c.URL("/sharing")
}

func (s *Server) createAgreement(w http.ResponseWriter, r *http.Request, c *Call) error {
	var env struct {
		A *agreementIn `json:"sharing_agreement"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	if env.A == nil {
		return errs.Invalidf("sharing_agreement", "BlankValue", "the body must be {\"sharing_agreement\": {...}}")
	}
	if p := env.A.PromisedResponseMinutes; p != nil && (*p < 0 || *p > sharing.MaxPromisedMinutes) {
		return errs.Invalidf("promised_response_minutes", "InvalidValue", "a promised response time is 0 (none) to %d minutes", sharing.MaxPromisedMinutes)
	}
	terms, _ := env.A.terms(DefaultTerms)
	a, err := s.sharing.Invite(r.Context(), c.Acct, c.User.ID, sharing.InviteInput{
		RemoteSubdomain: env.A.RemoteSubdomain.Value, RemoteURL: env.A.RemoteURL.Value, LocalURL: s.localSharingURL(c), Terms: terms})
	if err != nil {
		return err
	}
	if p := env.A.PromisedResponseMinutes; p != nil {
		if err := s.sharing.SetPromise(r.Context(), c.Acct.ID, a.ID, *p); err != nil {
			return err
		}
	}
	obj := s.agreementJSON(r.Context(), c, a)
	w.Header().Set("Location", obj["url"].(string))
	writeJSON(w, http.StatusCreated, map[string]any{"sharing_agreement": obj})
	return nil
}

func (s *Server) updateAgreement(w http.ResponseWriter, r *http.Request, c *Call) error {
	if err := c.Acct.Require(account.TicketSharing); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var env struct {
		A *agreementIn `json:"sharing_agreement"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	if env.A == nil {
		return errs.Invalidf("sharing_agreement", "BlankValue", "the body must be {\"sharing_agreement\": {...}}")
	}
	ctx := r.Context()
	a, err := sharing.GetAgreement(ctx, s.db.R(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	if terms, set := env.A.terms(a.Terms); set {
		if a, err = s.sharing.UpdateTerms(ctx, c.Acct, id, terms); err != nil {
			return err
		}
	}
	if p := env.A.PromisedResponseMinutes; p != nil {
		if err := s.sharing.SetPromise(ctx, c.Acct.ID, id, *p); err != nil {
			return err
		}
	}
	if env.A.Status.Set && env.A.Status.Value != a.Status {
		switch st := strings.ToLower(env.A.Status.Value); st {
		case sharing.Accepted, sharing.Declined:
			a, err = s.sharing.Respond(ctx, c.Acct, c.User.ID, id, st)
		case sharing.Inactive:
			a, err = s.sharing.Deactivate(ctx, c.Acct, c.User.ID, id)
		default:
			err = errs.Invalidf("status", "InvalidValue", "can be set to accepted, declined (the receiver, for a pending invitation) or inactive (either side; this cannot be undone)")
		}
		if err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sharing_agreement": s.agreementJSON(ctx, c, a)})
	return nil
}

func (s *Server) deleteAgreement(w http.ResponseWriter, r *http.Request, c *Call) error {
	if err := c.Acct.Require(account.TicketSharing); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.sharing.Delete(r.Context(), c.Acct, c.User.ID, id); err != nil {
		return err
	}
	noContent(w)
	return nil
}

// sharesOf reads the shares of the tickets in list, for sharingJSON.
func sharesOf(ctx context.Context, q store.Queryer, acct ids.Account, list []*ticket.Ticket) (map[ids.Ticket][]sharing.ShareInfo, error) {
	tids := make([]ids.Ticket, len(list))
	for i, t := range list {
		tids[i] = t.ID
	}
	return sharing.SharingOf(ctx, q, acct, tids)
}

// sharingJSON renders one ticket's shares: the agreements it is actively shared on
// (sharing_agreement_ids) and every share with its delivery state (sharing).
func sharingJSON(infos []sharing.ShareInfo) ([]int64, []map[string]any) {
	agIDs := []int64{}
	shares := []map[string]any{}
	for _, si := range infos {
		if si.State == sharing.ShareActive {
			agIDs = append(agIDs, si.AgreementID)
		}
		shares = append(shares, map[string]any{
			"agreement_id": si.AgreementID, "direction": si.Direction, "partner": si.Partner, "state": si.State,
			"state_reason": nullStr(si.StateReason), "shared_at": ts(si.SharedAt),
			"delivery": map[string]any{"status": si.DeliveryNote, "pending": si.Pending, "last_error": nullStr(si.LastError), "next_attempt_at": ts(si.NextAttempt),
				"files": map[string]any{"pending": si.FilesPending, "failed": si.FilesFailed, "last_error": nullStr(si.FilesError)}},
		})
	}
	return agIDs, shares
}
