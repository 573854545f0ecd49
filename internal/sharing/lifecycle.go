package sharing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"tandem/internal/account"
	"tandem/internal/delivery"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/sharing/peer"
	"tandem/internal/sharing/wire"
	"tandem/internal/store"
)

// InviteInput is what an admin fills in to invite a partner.
type InviteInput struct {
	// RemoteSubdomain names an account on this server; RemoteURL a partner's sharing
	// endpoint on another server (http(s)://host/sharing). Exactly one is set.
	RemoteSubdomain string
	RemoteURL       string
	// LocalURL is our own sharing base URL as the partner should call it.
	LocalURL string
	Terms
}

// LocalURL is the base URL of an account's sharing endpoint on this server.
func LocalURL(sub string) string { return "local://" + sub + "/sharing" }

// Invite creates an outbound agreement and sends the invitation. The agreement is kept
// even if delivery fails, with a status and reason the admin can act on.
func (s *Service) Invite(ctx context.Context, acct *account.Account, by ids.User, in InviteInput) (*Agreement, error) {
	if err := acct.Require(account.TicketSharing); err != nil {
		return nil, err
	}
	ag := &Agreement{AccountID: acct.ID, UUID: wire.NewUUID(), AccessKey: wire.NewAccessKey(), Direction: Outbound, Status: Pending, Terms: in.Terms, CreatedBy: by}
	switch {
	case in.RemoteSubdomain != "" && in.RemoteURL != "":
		return nil, errs.Invalidf("remote_url", "InvalidValue", "give either remote_subdomain (an account on this server) or remote_url, not both")
	case in.RemoteSubdomain != "":
		sub := strings.ToLower(strings.TrimSpace(in.RemoteSubdomain))
		if sub == acct.Subdomain {
			return nil, errs.Invalidf("remote_subdomain", "InvalidValue", "an account cannot share tickets with itself")
		}
		partner, err := s.accounts.BySubdomain(ctx, sub)
		if err != nil {
			return nil, errs.Invalidf("remote_subdomain", "InvalidValue", "no account %q on this server; for a help desk on another server give its remote_url", sub)
		}
		ag.RemoteSubdomain, ag.RemoteURL, ag.LocalURL, ag.Name = sub, LocalURL(sub), LocalURL(acct.Subdomain), partner.Name
	case in.RemoteURL != "":
		u, err := url.Parse(strings.TrimSpace(in.RemoteURL))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return nil, errs.Invalidf("remote_url", "InvalidValue", "must be the partner's sharing endpoint, an http(s) URL such as https://partner.example.com/sharing")
		}
		u.RawQuery, u.Fragment = "", ""
		ag.RemoteURL, ag.LocalURL, ag.Name = strings.TrimSuffix(u.String(), "/"), in.LocalURL, u.Host
	default:
		return nil, errs.Invalidf("remote_subdomain", "BlankValue", "name the partner: remote_subdomain (an account on this server) or remote_url")
	}
	if ag.LocalURL == "" {
		return nil, errs.Invalidf("local_url", "BlankValue", "this server's public URL is unknown; set --public-url")
	}
	if err := s.db.Write(ctx, func(tx *store.Tx) error { return insertAgreement(ctx, tx, ag) }); err != nil {
		return nil, err
	}
	invite := &wire.Agreement{UUID: ag.UUID, AccessKey: ag.AccessKey, Name: acct.Name, Status: Pending, SenderURL: ag.LocalURL, ReceiverURL: ag.RemoteURL,
		CurrentActor: actorFor(ctx, s.db.R(), acct.ID, by), SyncTags: ag.SyncTags, SyncCustomFields: ag.SyncCustomFields,
		AllowsPublicComments: ag.AllowsPublicComments, SharePrivateComments: ag.SharePrivateComments, SyncStatus: ag.SyncStatus}
	body, err := wire.EncodeAgreement(invite)
	if err != nil {
		return nil, err
	}
	// The invite goes out now, so the admin sees at once whether the partner got it.
	resp, err := s.transport.Do(ctx, "POST", ag.RemoteURL+"/agreements/"+url.PathEscape(ag.UUID), "", ag.AccessKey, body)
	status, reason := Pending, ""
	if err != nil || resp.Status/100 != 2 {
		status, reason = failureStatus(resp, err)
	}
	if status != Pending {
		if err := s.db.Write(ctx, func(tx *store.Tx) error { return setAgreementStatus(ctx, tx, ag, status, reason, "") }); err != nil {
			return nil, err
		}
	}
	return ag, nil
}

// failureStatus maps a failed call to an agreement status and a reason an admin can act on.
func failureStatus(resp *Response, err error) (string, string) {
	if err != nil {
		msg := err.Error()
		switch {
		case errors.Is(err, peer.ErrCrossOriginRedirect), errors.Is(err, peer.ErrTooManyRedirects):
			return Failed, peer.Reason(nil, err) // "partner redirected to another origin: ..."
		case strings.Contains(msg, "certificate") || strings.Contains(msg, "tls:") || strings.Contains(msg, "x509"):
			return SSLError, "TLS problem reaching the partner: " + msg
		case strings.Contains(msg, "not allowed") || strings.Contains(msg, "private") || strings.Contains(msg, "no such host") || strings.Contains(msg, "unsupported"):
			return ConfigurationError, "cannot reach the partner: " + msg
		}
		return Failed, "the partner did not answer: " + msg
	}
	body := strings.TrimSpace(string(resp.Body))
	if len(body) > 300 {
		body = body[:300] + "..."
	}
	if resp.Status == 404 || resp.Status == 405 {
		return ConfigurationError, fmt.Sprintf("the partner answered %d: is the URL its sharing endpoint? %s", resp.Status, body)
	}
	return Failed, fmt.Sprintf("the partner answered %d: %s", resp.Status, body)
}

// Respond accepts or declines an inbound invitation. The sender must hear of it, so the
// call is made now; if the sender cannot be reached the status does not change.
func (s *Service) Respond(ctx context.Context, acct *account.Account, by ids.User, id int64, status string) (*Agreement, error) {
	if err := acct.Require(account.TicketSharing); err != nil {
		return nil, err
	}
	ag, err := GetAgreement(ctx, s.db.R(), acct.ID, id)
	if err != nil {
		return nil, err
	}
	if ag.Direction != Inbound {
		return nil, errs.Invalidf("status", "InvalidValue", "only the receiving account accepts or declines an invitation")
	}
	if ag.Status != Pending {
		return nil, errs.Invalidf("status", "InvalidValue", "the invitation is %s, not pending", ag.Status)
	}
	msg := &wire.Agreement{UUID: ag.UUID, Name: acct.Name, Status: status, ReceiverURL: ag.LocalURL, CurrentActor: actorFor(ctx, s.db.R(), acct.ID, by)}
	body, _ := wire.EncodeAgreement(msg)
	resp, err := s.transport.Do(ctx, "PUT", ag.RemoteURL+"/agreements/"+url.PathEscape(ag.UUID), wire.FormatToken(ag.UUID, ag.AccessKey), ag.AccessKey, body)
	if err != nil || resp.Status/100 != 2 {
		_, reason := failureStatus(resp, err)
		return nil, errs.E(errs.Unavailable, "Could not tell %s: %s. Nothing changed; try again later.", ag.Name, reason)
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error { return setAgreementStatus(ctx, tx, ag, status, "", "") })
	return ag, err
}

// Deactivate ends an agreement from either side: sync stops for every ticket shared
// through it and it can never be reactivated. The partner is told through the outbox,
// so deactivation works even when the partner is down.
func (s *Service) Deactivate(ctx context.Context, acct *account.Account, by ids.User, id int64) (*Agreement, error) {
	var ag *Agreement
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if ag, err = GetAgreement(ctx, tx, acct.ID, id); err != nil {
			return err
		}
		if ag.Status == Inactive {
			return nil
		}
		side := "sender"
		if ag.Direction == Inbound {
			side = "receiver"
		}
		wasLive := ag.Status == Accepted || ag.Status == Pending
		if err := s.endAgreement(ctx, tx, ag, side, "deactivated by this account"); err != nil {
			return err
		}
		if wasLive {
			msg := &wire.Agreement{UUID: ag.UUID, Status: Inactive, DeactivatedBy: side, CurrentActor: actorFor(ctx, tx, acct.ID, by)}
			body, _ := wire.EncodeAgreement(msg)
			if err := s.enqueue(ctx, tx, ag, nil, "agreement", "PUT", body); err != nil {
				return err
			}
			tx.AfterCommit(s.Wake)
		}
		return nil
	})
	return ag, err
}

// endAgreement marks an agreement inactive and stops sync of its shares (inbound copies
// become orphans).
func (s *Service) endAgreement(ctx context.Context, tx *store.Tx, ag *Agreement, side, reason string) error {
	if err := setAgreementStatus(ctx, tx, ag, Inactive, reason, side); err != nil {
		return err
	}
	now := store.Micros(store.Now())
	if _, err := tx.ExecContext(ctx, `UPDATE ticket_shares SET state = CASE WHEN direction = 'in' THEN 'orphaned' ELSE 'unshared' END, state_reason = ?, updated_at = ?, ended_at = ?
		WHERE account_id = ? AND agreement_id = ? AND state = 'active'`, "agreement deactivated", now, now, ag.AccountID, ag.ID); err != nil {
		return err
	}
	// Queued ticket updates for this partner will not be delivered any more.
	return delivery.Cancel(ctx, tx, "sharing_outbox", "agreement deactivated", "account_id = ? AND agreement_id = ? AND kind <> 'agreement'", ag.AccountID, ag.ID)
}

// Delete deactivates an agreement and removes it when no ticket was ever shared through
// it (otherwise it stays, inactive, so shared tickets keep their history).
func (s *Service) Delete(ctx context.Context, acct *account.Account, by ids.User, id int64) error {
	if _, err := s.Deactivate(ctx, acct, by, id); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ticket_shares WHERE account_id = ? AND agreement_id = ?`, acct.ID, id).Scan(&n); err != nil {
			return err
		}
		var pending int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sharing_outbox WHERE account_id = ? AND agreement_id = ? AND status = 'pending'`, acct.ID, id).Scan(&pending); err != nil {
			return err
		}
		if n > 0 || pending > 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sharing_agreements WHERE account_id = ? AND id = ?`, acct.ID, id)
		return err
	})
}

// UpdateTerms lets the sender change the terms of an agreement. The partner learns of
// them with the next agreement update.
func (s *Service) UpdateTerms(ctx context.Context, acct *account.Account, id int64, t Terms) (*Agreement, error) {
	var ag *Agreement
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if ag, err = GetAgreement(ctx, tx, acct.ID, id); err != nil {
			return err
		}
		if ag.Direction != Outbound {
			return errs.Invalidf("terms", "InvalidValue", "only the sending account sets the terms")
		}
		ag.Terms = t
		_, err = tx.ExecContext(ctx, `UPDATE sharing_agreements SET share_private_comments = ?, sync_status = ?, sync_tags = ?, sync_custom_fields = ?, allows_public_comments = ?, updated_at = ? WHERE id = ?`,
			t.SharePrivateComments, t.SyncStatus, t.SyncTags, t.SyncCustomFields, t.AllowsPublicComments, store.Micros(store.Now()), ag.ID)
		if err != nil {
			return err
		}
		if ag.Active() {
			msg := &wire.Agreement{UUID: ag.UUID, Status: ag.Status, SyncTags: t.SyncTags, SyncCustomFields: t.SyncCustomFields, AllowsPublicComments: t.AllowsPublicComments, SharePrivateComments: t.SharePrivateComments, SyncStatus: t.SyncStatus}
			body, _ := wire.EncodeAgreement(msg)
			if err := s.enqueue(ctx, tx, ag, nil, "agreement", "PUT", body); err != nil {
				return err
			}
			tx.AfterCommit(s.Wake)
		}
		return nil
	})
	return ag, err
}
