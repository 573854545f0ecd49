package sharing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"tandem/internal/report"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/sharing/wire"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Handler serves the protocol endpoints under /sharing/ for the account in the request
// context: POST/PUT/GET /sharing/agreements/{uuid}, POST/PUT/GET/DELETE /sharing/tickets/{uuid}.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sharing/agreements/{uuid}", s.wrap(s.receiveInvite))
	mux.HandleFunc("PUT /sharing/agreements/{uuid}", s.wrap(s.receiveAgreementUpdate))
	mux.HandleFunc("GET /sharing/agreements/{uuid}", s.wrap(s.getAgreement))
	mux.HandleFunc("POST /sharing/tickets/{uuid}", s.wrap(s.receiveShare))
	mux.HandleFunc("PUT /sharing/tickets/{uuid}", s.wrap(s.receiveUpdate))
	mux.HandleFunc("GET /sharing/tickets/{uuid}", s.wrap(s.getTicket))
	mux.HandleFunc("DELETE /sharing/tickets/{uuid}", s.wrap(s.receiveUnshare))
	mux.HandleFunc("/sharing/", func(w http.ResponseWriter, r *http.Request) {
		protoErr(w, http.StatusNotFound, "NotFound", "no such sharing endpoint")
	})
	return mux
}

// protoError is a protocol failure with its status.
type protoError struct {
	status int
	code   string
	msg    string
}

func (e *protoError) Error() string { return e.msg }

func perr(status int, code, format string, args ...any) error {
	return &protoError{status, code, fmt.Sprintf(format, args...)}
}

func protoErr(w http.ResponseWriter, status int, code, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", wire.AuthScheme)
	}
	writeProto(w, status, map[string]any{"error": code, "description": msg})
}

func writeProto(w http.ResponseWriter, status int, v any) {
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	default:
		b, _ = json.Marshal(v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type protoCall struct {
	acct *account.Account
	body []byte
	ag   *Agreement // set by auth
	uuid string
	// replayInTx: the handler records the call's signature in its own write
	// transaction (recordSignature), set before auth; auth then leaves sig and sigAt.
	replayInTx bool
	sig        string
	sigAt      time.Time
}

func (s *Service) wrap(f func(w http.ResponseWriter, r *http.Request, c *protoCall) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		acct := account.FromContext(r.Context())
		if acct == nil {
			protoErr(w, http.StatusNotFound, "NotFound", "no help desk here")
			return
		}
		if v := r.Header.Get(wire.VersionHeader); v != "" && !wire.VersionOK(v) {
			protoErr(w, http.StatusPreconditionFailed, "UnsupportedVersion", "only protocol version 1 is supported")
			return
		}
		uuid := r.PathValue("uuid")
		if !wire.ValidUUID(uuid) {
			protoErr(w, http.StatusUnprocessableEntity, "InvalidUUID", "the uuid in the URL is not valid")
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxBody+1))
		if err != nil {
			protoErr(w, http.StatusBadRequest, "BadRequest", "could not read the body")
			return
		}
		if int64(len(body)) > s.cfg.MaxBody {
			protoErr(w, http.StatusRequestEntityTooLarge, "TooLarge", "the body is larger than the limit")
			return
		}
		c := &protoCall{acct: acct, body: body, uuid: uuid}
		if err := f(w, r, c); err != nil {
			var pe *protoError
			var de *wire.DecodeError
			switch {
			case errors.As(err, &pe):
				protoErr(w, pe.status, pe.code, pe.msg)
			case errors.As(err, &de):
				protoErr(w, de.HTTPStatus(), "InvalidBody", de.Error())
			case errs.Is(err, errs.NotFound):
				protoErr(w, http.StatusNotFound, "NotFound", "not found")
			case errs.Is(err, errs.Invalid):
				protoErr(w, http.StatusUnprocessableEntity, "Invalid", err.Error())
			case errs.Is(err, errs.PlanRequired), errs.Is(err, errs.Forbidden):
				protoErr(w, http.StatusForbidden, "Forbidden", err.Error())
			case store.IsDataException(err):
				// The database refuses a value of the payload: every retry would fail the
				// same way, so the answer is permanent and names the reason, and the
				// sender marks the share failed instead of retrying a poison message.
				s.log.Warn("sharing: payload cannot be stored", "path", r.URL.Path, "err", err)
				protoErr(w, http.StatusUnprocessableEntity, "Unstorable", "a value of this payload cannot be stored by this help desk: "+store.DataProblem(err))
			default:
				s.log.ErrorContext(r.Context(), "sharing: protocol handler", "path", r.URL.Path, "err", err)
				protoErr(w, http.StatusInternalServerError, "InternalError", "the request failed on our side; retry later")
			}
		}
	}
}

// auth checks the token (and, when present, the Tandem signature) against the
// agreement named by the token. Missing token: 401; wrong key or agreement: 403; a
// failed database read: the error itself (a 500 the sender retries).
func (s *Service) auth(r *http.Request, c *protoCall) error {
	h := r.Header.Get(wire.TokenHeader)
	if h == "" {
		return perr(http.StatusUnauthorized, "Unauthorized", "the %s header is missing", wire.TokenHeader)
	}
	uuid, key, ok := wire.ParseToken(h)
	if !ok {
		return perr(http.StatusUnauthorized, "Unauthorized", "the %s header is malformed", wire.TokenHeader)
	}
	ag, err := AgreementByUUID(r.Context(), s.db.R(), c.acct.ID, uuid)
	if err != nil && !errs.Is(err, errs.NotFound) {
		// The database did not answer (refused connection, timeout): say so with a 500
		// the sender retries, not a 403 that would make it give the delivery up.
		return err
	}
	if err != nil || !wire.KeyEqual(key, ag.AccessKey) {
		return perr(http.StatusForbidden, "Forbidden", "the token does not match an agreement of this help desk")
	}
	if r.Header.Get(wire.SignatureHeader) != "" || r.Header.Get(wire.TimestampHeader) != "" {
		now := time.Now()
		if err := wire.Verify(r.Method, r.URL.EscapedPath(), r.Header, c.body, ag.AccessKey, now, s.cfg.SignatureWindow); err != nil {
			return perr(http.StatusForbidden, "BadSignature", "request signature rejected: %v", err)
		}
		if c.replayInTx {
			c.sig, c.sigAt, c.ag = r.Header.Get(wire.SignatureHeader), now, ag
			return nil
		}
		replay, err := s.replayed(r.Context(), r.Header.Get(wire.SignatureHeader), now)
		if err != nil {
			return err
		}
		if replay {
			return errReplayed
		}
	}
	c.ag = ag
	return nil
}

func (s *Service) agreementJSON(ag *Agreement) []byte {
	wa := &wire.Agreement{UUID: ag.UUID, Name: ag.Name, Status: wireStatus(ag.Status), DeactivatedBy: ag.DeactivatedBy,
		SyncTags: ag.SyncTags, SyncCustomFields: ag.SyncCustomFields, AllowsPublicComments: ag.AllowsPublicComments,
		SharePrivateComments: ag.SharePrivateComments, SyncStatus: ag.SyncStatus}
	if ag.Direction == Outbound {
		wa.SenderURL, wa.ReceiverURL = ag.LocalURL, ag.RemoteURL
	} else {
		wa.SenderURL, wa.ReceiverURL = ag.RemoteURL, ag.LocalURL
	}
	b, _ := wire.EncodeAgreement(wa)
	return b
}

// wireStatus hides local delivery failures: on the wire an agreement is pending until
// the partner answers.
func wireStatus(st string) string {
	switch st {
	case Failed, SSLError, ConfigurationError:
		return Pending
	}
	return st
}

// receiveInvite stores a partner's invitation after verifying it with the sender.
func (s *Service) receiveInvite(w http.ResponseWriter, r *http.Request, c *protoCall) error {
	ctx := r.Context()
	in, err := wire.DecodeAgreement(bytes.NewReader(c.body), s.cfg.MaxBody)
	if err != nil {
		return err
	}
	if in.UUID != c.uuid {
		return perr(http.StatusUnprocessableEntity, "UUIDMismatch", "the uuid in the body differs from the URL")
	}
	if in.Status != "" && in.Status != Pending {
		return perr(http.StatusUnprocessableEntity, "InvalidStatus", "a new agreement must be pending")
	}
	if in.AccessKey == "" || in.SenderURL == "" {
		return perr(http.StatusUnprocessableEntity, "Invalid", "access_key and sender_url are required")
	}
	if !validPartnerURL(in.SenderURL) || strings.HasPrefix(in.SenderURL, "local://") && !isLocal(r) {
		return perr(http.StatusUnprocessableEntity, "Invalid", "sender_url must be an http(s) URL")
	}
	if err := c.acct.Require(account.TicketSharing); err != nil {
		return perr(http.StatusForbidden, "PlanRequired", "%s", err.Error())
	}
	if _, err := AgreementByUUID(ctx, s.db.R(), c.acct.ID, c.uuid); err == nil {
		return perr(http.StatusUnprocessableEntity, "Duplicate", "this agreement already exists")
	}
	// Verify the invitation really comes from the sender it names: call it back.
	verify, err := s.transport.Do(ctx, "GET", strings.TrimSuffix(in.SenderURL, "/")+"/agreements/"+url.PathEscape(c.uuid), wire.FormatToken(c.uuid, in.AccessKey), in.AccessKey, nil)
	if err != nil || verify.Status != http.StatusOK {
		_, reason := failureStatus(verify, err)
		return perr(http.StatusUnprocessableEntity, "Unverified", "the invitation could not be verified with its sender: %s", reason)
	}
	if got, err := wire.DecodeAgreement(bytes.NewReader(verify.Body), s.cfg.MaxBody); err != nil || got.UUID != c.uuid {
		return perr(http.StatusUnprocessableEntity, "Unverified", "the sender did not confirm this invitation")
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = in.SenderURL
	}
	if len(name) > 200 {
		name = name[:200]
	}
	ag := &Agreement{AccountID: c.acct.ID, UUID: c.uuid, AccessKey: in.AccessKey, Direction: Inbound, Name: name, RemoteURL: strings.TrimSuffix(in.SenderURL, "/"),
		LocalURL: in.ReceiverURL, Status: Pending, Verified: true,
		Terms: Terms{SharePrivateComments: in.SharePrivateComments, SyncStatus: in.SyncStatus, SyncTags: in.SyncTags, SyncCustomFields: in.SyncCustomFields, AllowsPublicComments: in.AllowsPublicComments}}
	if strings.HasPrefix(ag.RemoteURL, "local://") {
		ag.RemoteSubdomain = strings.SplitN(strings.TrimPrefix(ag.RemoteURL, "local://"), "/", 2)[0]
	}
	if ag.LocalURL == "" {
		ag.LocalURL = LocalURL(c.acct.Subdomain)
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if err := insertAgreement(ctx, tx, ag); err != nil {
			return err
		}
		if s.cfg.Invited != nil {
			return s.cfg.Invited(ctx, tx, ag.AccountID, ag.Name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeProto(w, http.StatusCreated, s.agreementJSON(ag))
	return nil
}

func validPartnerURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "local")
}

// receiveAgreementUpdate applies the partner's accept, decline or deactivation.
func (s *Service) receiveAgreementUpdate(w http.ResponseWriter, r *http.Request, c *protoCall) error {
	if err := s.auth(r, c); err != nil {
		return err
	}
	ctx := r.Context()
	in, err := wire.DecodeAgreement(bytes.NewReader(c.body), s.cfg.MaxBody)
	if err != nil {
		return err
	}
	if in.UUID != "" && in.UUID != c.uuid {
		return perr(http.StatusUnprocessableEntity, "UUIDMismatch", "the uuid in the body differs from the URL")
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		ag, err := GetAgreement(ctx, tx, c.acct.ID, c.ag.ID)
		if err != nil {
			return err
		}
		c.ag = ag
		st := strings.ToLower(in.Status)
		switch {
		case st == "" || st == wireStatus(ag.Status):
			// No status change (perhaps new terms from the sender).
		case ag.Status == Inactive:
			return perr(http.StatusUnprocessableEntity, "Inactive", "this agreement was deactivated and cannot be reactivated; send a new invitation")
		case st == Inactive:
			side := "receiver"
			if ag.Direction == Inbound {
				side = "sender"
			}
			return s.endAgreement(ctx, tx, ag, side, "deactivated by "+ag.Name)
		case (st == Accepted || st == Declined) && ag.Direction == Outbound && (ag.Status == Pending || ag.Status == Failed):
			if in.ReceiverURL != "" && validPartnerURL(in.ReceiverURL) && !strings.HasPrefix(ag.RemoteURL, "local://") {
				if _, err := tx.ExecContext(ctx, `UPDATE sharing_agreements SET remote_url = ? WHERE id = ?`, strings.TrimSuffix(in.ReceiverURL, "/"), ag.ID); err != nil {
					return err
				}
			}
			// An invitation by URL only knew the partner's host; now it tells its name.
			if name := strings.TrimSpace(in.Name); name != "" && ag.RemoteSubdomain == "" && len(name) <= 200 {
				if _, err := tx.ExecContext(ctx, `UPDATE sharing_agreements SET name = ? WHERE id = ?`, name, ag.ID); err != nil {
					return err
				}
				ag.Name = name
			}
			return setAgreementStatus(ctx, tx, ag, st, "", "")
		default:
			return perr(http.StatusUnprocessableEntity, "InvalidTransition", "cannot change this agreement from %s to %s", wireStatus(ag.Status), st)
		}
		if ag.Direction == Inbound && in.Has("sync_tags") {
			ag.Terms = Terms{SharePrivateComments: in.SharePrivateComments, SyncStatus: in.SyncStatus, SyncTags: in.SyncTags, SyncCustomFields: in.SyncCustomFields, AllowsPublicComments: in.AllowsPublicComments}
			_, err := tx.ExecContext(ctx, `UPDATE sharing_agreements SET share_private_comments = ?, sync_status = ?, sync_tags = ?, sync_custom_fields = ?, allows_public_comments = ?, updated_at = ? WHERE id = ?`,
				in.SharePrivateComments, in.SyncStatus, in.SyncTags, in.SyncCustomFields, in.AllowsPublicComments, store.Micros(store.Now()), ag.ID)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeProto(w, http.StatusOK, s.agreementJSON(c.ag))
	return nil
}

func (s *Service) getAgreement(w http.ResponseWriter, r *http.Request, c *protoCall) error {
	if err := s.auth(r, c); err != nil {
		return err
	}
	if c.ag.UUID != c.uuid {
		return perr(http.StatusForbidden, "Forbidden", "the token is for another agreement")
	}
	writeProto(w, http.StatusOK, s.agreementJSON(c.ag))
	return nil
}

// ticketAuth authenticates a ticket call: the agreement must be accepted.
func (s *Service) ticketAuth(r *http.Request, c *protoCall) error {
	if err := s.auth(r, c); err != nil {
		return err
	}
	if !c.ag.Active() {
		return perr(http.StatusForbidden, "AgreementNotAccepted", "the agreement is %s", wireStatus(c.ag.Status))
	}
	return nil
}

func partnerVia(ag *Agreement) *ticket.Via {
	v := ticket.ViaFor(ticket.ViaTicketShare)
	v.Source = map[string]any{"from": map[string]any{"agreement_id": ag.ID, "name": ag.Name}, "to": map[string]any{}, "rel": "ticket_sharing"}
	return &v
}

// partnerOrigin names the partner and share a change comes from (shareID 0 for the
// change that creates the local copy).
func partnerOrigin(ag *Agreement, shareID int64) *ticket.SharingOrigin {
	return &ticket.SharingOrigin{AgreementID: ag.ID, Partner: ag.Name, ShareID: shareID}
}

// commentInputs maps the partner's comments to local ones, skipping those already here.
// A comment already here that comes again marked private, and that is this partner's
// own public comment, is one the partner made private: it is returned in hide, for the
// write to make it private here too (a Tandem extension; the protocol has no retraction).
func (s *Service) commentInputs(ctx context.Context, tx *store.Tx, ag *Agreement, tid ids.Ticket, from string, in []wire.Comment, who partnerUsers) (out []*ticket.CommentInput, hide []ids.Comment, err error) {
	known := map[string]*ticket.Comment{}
	// Only the comments this call names are looked up (the unique index on account,
	// ticket and uuid): every comment of the ticket was read before, bodies and all, so
	// each update received cost more than the one before it on a long shared ticket.
	args := []any{ag.AccountID, tid}
	for _, wc := range in {
		if wc.UUID != "" {
			args = append(args, wc.UUID)
		}
	}
	if tid != 0 && len(args) > 2 {
		rows, err := tx.QueryContext(ctx, `SELECT `+ticket.CommentCols+` FROM ticket_comments WHERE account_id = ? AND ticket_id = ? AND uuid IN (`+store.In(len(args)-2)+`)`, args...)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			c, err := ticket.ScanComment(rows)
			if err != nil {
				rows.Close()
				return nil, nil, err
			}
			known[c.UUID] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	added := map[string]*ticket.CommentInput{}
	for _, wc := range in {
		if c := known[wc.UUID]; c != nil {
			if !wc.Public && c.Public && c.Origin != nil && c.Origin.AgreementID == ag.ID && !slices.Contains(hide, c.ID) {
				hide = append(hide, c.ID)
			}
			continue
		}
		if ci := added[wc.UUID]; ci != nil {
			if !wc.Public {
				ci.Public = ticket.Ptr(false) // made private before this batch arrived
			}
			continue
		}
		if wc.UUID == "" || (strings.TrimSpace(wc.Body) == "" && strings.TrimSpace(wc.HTMLBody) == "") {
			continue
		}
		author, err := who.of(ctx, tx, ag, wc.Author)
		if err != nil {
			return nil, nil, err
		}
		public := wc.Public
		if from == "receiver" && !ag.AllowsPublicComments {
			public = false // the terms keep the receiver from talking to the requester
		}
		ci := &ticket.CommentInput{Body: wc.Body, HTMLBody: wc.HTMLBody, Public: &public, AuthorID: author, UUID: wc.UUID,
			Origin: partnerOrigin(ag, 0)}
		if ci.HTMLBody != "" {
			ci.Body = ""
		}
		if !wc.AuthoredAt.IsZero() && wc.AuthoredAt.Before(time.Now().Add(time.Minute)) {
			ci.CreatedAt = wc.AuthoredAt.UTC().Truncate(time.Microsecond)
		}
		added[wc.UUID] = ci
		out = append(out, ci)
	}
	return out, hide, nil
}

func (s *Service) fieldValues(ctx context.Context, tx *store.Tx, acct ids.Account, in map[string]any) (map[int64]any, error) {
	if len(in) == 0 {
		return nil, nil
	}
	fields, err := ticket.Fields(ctx, tx, acct)
	if err != nil {
		return nil, err
	}
	out := map[int64]any{}
	for _, f := range fields {
		v, ok := in[f.Key]
		if !ok {
			continue
		}
		if norm, err := ticket.NormalizeFieldValue(f, v); err == nil {
			out[f.ID] = norm
		}
	}
	return out, nil
}

func localStatus(st string) ticket.Status {
	v := ticket.Status(wire.NormalizeStatus(st))
	if v == ticket.Closed {
		v = ticket.Solved // a copy is never created or forced closed; it closes by its own rules
	}
	return v
}

// receiveShare creates the local copy of a partner's ticket.
func (s *Service) receiveShare(w http.ResponseWriter, r *http.Request, c *protoCall) error {
	if err := s.ticketAuth(r, c); err != nil {
		return err
	}
	if c.ag.Direction != Inbound {
		return perr(http.StatusForbidden, "WrongDirection", "only the sender of an agreement shares tickets through it")
	}
	ctx := r.Context()
	in, err := wire.DecodeTicket(bytes.NewReader(c.body), s.cfg.MaxBody)
	if err != nil {
		return err
	}
	if in.UUID != "" && in.UUID != c.uuid {
		return perr(http.StatusUnprocessableEntity, "UUIDMismatch", "the uuid in the body differs from the URL")
	}
	var created ids.Ticket
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if sh, err := shareByUUID(ctx, tx, c.acct.ID, c.ag.ID, c.uuid); err == nil {
			created = sh.TicketID // a retry of a share already received: nothing to do
			return nil
		}
		who := partnerUsers{}
		requester, err := who.of(ctx, tx, c.ag, in.Requester)
		if err != nil {
			return err
		}
		actorID, err := who.of(ctx, tx, c.ag, in.CurrentActor)
		if err != nil {
			return err
		}
		comments, _, err := s.commentInputs(ctx, tx, c.ag, 0, "sender", in.Comments, who)
		if err != nil {
			return err
		}
		if len(comments) == 0 {
			comments = []*ticket.CommentInput{{Body: "(shared by " + c.ag.Name + " without a description)", Public: ticket.Ptr(false), AuthorID: actorID}}
		}
		subject := strings.TrimSpace(in.Subject)
		if len([]rune(subject)) > ticket.MaxSubject {
			subject = string([]rune(subject)[:ticket.MaxSubject])
		}
		p := &ticket.Patch{Subject: &subject, RequesterID: &requester, Comment: comments[0], MoreComments: comments[1:], Via: partnerVia(c.ag),
			Origin: partnerOrigin(c.ag, 0), Events: []ticket.Event{{"type": "TicketSharingEvent", "agreement_id": c.ag.ID, "action": "shared"}}}
		if c.ag.SyncStatus && in.Status != "" {
			st := localStatus(in.Status)
			p.Status = &st
		}
		if c.ag.SyncTags && in.Tags != nil {
			tags := append([]string{}, in.Tags...)
			p.Tags = &tags
		}
		if c.ag.SyncCustomFields {
			if p.CustomFields, err = s.fieldValues(ctx, tx, c.acct.ID, in.CustomFields); err != nil {
				return err
			}
		}
		actor := ticket.Actor{UserID: actorID, Role: "end-user", Name: c.ag.Name}
		res, err := s.tickets.Write(ctx, tx, c.acct, actor, 0, p)
		if err != nil {
			return err
		}
		created = res.Ticket.ID
		sh := &Share{AccountID: c.acct.ID, TicketID: res.Ticket.ID, AgreementID: c.ag.ID, UUID: c.uuid, Direction: "in", State: ShareActive, PartnerVersion: in.Version}
		if err := insertShare(ctx, tx, sh); err != nil {
			return err
		}
		// The reports count the share ("received from"): written after the ticket's
		// after-hooks ran, so tell them.
		if err := report.Refresh(ctx, tx, c.acct.ID, res.Ticket.ID); err != nil {
			return err
		}
		return s.queueFetches(ctx, tx, c.ag, sh, in.Comments, comments)
	})
	if err != nil {
		return err
	}
	writeProto(w, http.StatusCreated, map[string]any{"uuid": c.uuid, "original_id": created})
	return nil
}

// receiveUpdate applies a partner's update of a shared ticket, per the terms.
func (s *Service) receiveUpdate(w http.ResponseWriter, r *http.Request, c *protoCall) error {
	// The signature is recorded in the update's transaction rather than in one of its
	// own before it: one transaction (and one commit) less for each update received.
	// A replay is still refused: the copy's insert waits for the original's to commit
	// and then finds it. An update that fails leaves no signature, so the sender's same
	// call again is answered as the first was, not as a replay.
	c.replayInTx = true
	if err := s.ticketAuth(r, c); err != nil {
		return err
	}
	ctx := r.Context()
	in, err := wire.DecodeTicket(bytes.NewReader(c.body), s.cfg.MaxBody)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		// The update changes no setting: the field and ticket reads below share one read
		// of the settings version.
		unpin, err := tx.PinSettings(ctx, int64(c.acct.ID))
		if err != nil {
			return err
		}
		defer unpin()
		if c.sig != "" {
			fresh, err := s.recordSignature(ctx, tx, c.sig, c.sigAt)
			if err != nil {
				return err
			}
			if !fresh {
				return errReplayed
			}
		}
		sh, err := shareByUUID(ctx, tx, c.acct.ID, c.ag.ID, c.uuid)
		if err != nil {
			return err
		}
		if sh.State != ShareActive {
			return perr(http.StatusGone, "Unshared", "this ticket is no longer shared here (%s)", sh.State)
		}
		// The copy is read once, locked, and the write below takes it as read: what the
		// update changes is decided from the ticket as it is written. Only this share's
		// lane writes the copy from the partner (one call at a time), so its lock is
		// taken a few statements earlier than the write would take it at no cost to
		// other partner calls; and the share's row is then locked after the ticket's,
		// in the order of a local update of the copy.
		t, err := ticket.GetForUpdate(ctx, tx, c.acct.ID, sh.TicketID)
		if errs.Is(err, errs.NotFound) {
			return perr(http.StatusGone, "Gone", "the shared ticket was deleted here")
		}
		if err != nil {
			return err
		}
		if t.Status == ticket.Closed {
			return perr(http.StatusGone, "Closed", "the shared ticket is closed here; closed tickets stop syncing")
		}
		from := "sender"
		if sh.Direction == "out" {
			from = "receiver"
		}
		who := partnerUsers{}
		comments, hide, err := s.commentInputs(ctx, tx, c.ag, t.ID, from, in.Comments, who)
		if err != nil {
			return err
		}
		p := &ticket.Patch{Via: partnerVia(c.ag), Origin: partnerOrigin(c.ag, sh.ID), MakePrivate: hide}
		if len(comments) > 0 {
			p.Comment, p.MoreComments = comments[0], comments[1:]
		}
		// Field updates older than what we already applied are dropped; comments are not.
		fresh := in.Version == 0 || in.Version > sh.PartnerVersion
		if fresh {
			if c.ag.SyncStatus && in.Status != "" {
				st := localStatus(in.Status)
				if st != t.Status && !(st == ticket.New && t.Status != ticket.New) {
					p.Status = &st
				}
			}
			if c.ag.SyncTags && in.Tags != nil {
				tags := ticket.NormalizeTags(in.Tags)
				p.Tags = &tags
			}
			if c.ag.SyncCustomFields {
				if p.CustomFields, err = s.fieldValues(ctx, tx, c.acct.ID, in.CustomFields); err != nil {
					return err
				}
			}
			if from == "sender" && strings.TrimSpace(in.Subject) != "" && in.Subject != t.Subject {
				subj := strings.TrimSpace(in.Subject)
				if len([]rune(subj)) > ticket.MaxSubject {
					subj = string([]rune(subj)[:ticket.MaxSubject])
				}
				p.Subject = &subj
			}
			if in.Version > sh.PartnerVersion {
				if _, err := tx.ExecContext(ctx, `UPDATE ticket_shares SET partner_version = ?, updated_at = ? WHERE id = ?`, in.Version, store.Micros(store.Now()), sh.ID); err != nil {
					return err
				}
			}
		}
		if p.Empty() && !hasRedactions(in.Comments) {
			return nil
		}
		actorID, err := who.of(ctx, tx, c.ag, in.CurrentActor)
		if err != nil {
			return err
		}
		if err := s.partnerRedactions(ctx, tx, c.acct, c.ag, sh, t, actorID, in.Comments); err != nil {
			return err
		}
		if p.Empty() {
			return nil
		}
		actor := ticket.Actor{UserID: actorID, Role: "end-user", Name: c.ag.Name}
		if hasRedactions(in.Comments) {
			// The redactions wrote the ticket: the write reads it again.
			_, err = s.tickets.Write(ctx, tx, c.acct, actor, t.ID, p)
		} else {
			_, err = s.tickets.WriteLocked(ctx, tx, c.acct, actor, t, p)
		}
		if err != nil {
			return err
		}
		return s.queueFetches(ctx, tx, c.ag, sh, in.Comments, comments)
	})
	if err != nil {
		return err
	}
	writeProto(w, http.StatusOK, map[string]any{"uuid": c.uuid})
	return nil
}

// receiveUnshare ends sync: from the sender, the copy becomes an orphan; from a Tandem
// receiver (beyond the protocol), the sender's share stops.
func (s *Service) receiveUnshare(w http.ResponseWriter, r *http.Request, c *protoCall) error {
	if err := s.auth(r, c); err != nil {
		return err
	}
	ctx := r.Context()
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		sh, err := shareByUUID(ctx, tx, c.acct.ID, c.ag.ID, c.uuid)
		if err != nil {
			return err
		}
		if sh.State != ShareActive {
			return nil // already ended: unsharing is idempotent
		}
		state, reason := ShareOrphaned, "unshared by "+c.ag.Name
		if sh.Direction == "out" {
			state, reason = ShareUnshared, c.ag.Name+" stopped syncing"
		}
		if err := setShareState(ctx, tx, sh, state, reason); err != nil {
			return err
		}
		t, err := ticket.Get(ctx, tx, c.acct.ID, sh.TicketID)
		if err != nil || t.Status == ticket.Closed {
			return nil
		}
		p := &ticket.Patch{Via: partnerVia(c.ag), Origin: partnerOrigin(c.ag, sh.ID), Events: []ticket.Event{{"type": "TicketSharingEvent", "agreement_id": c.ag.ID, "action": "unshared"}}}
		_, err = s.tickets.Write(ctx, tx, c.acct, ticket.Actor{Role: "end-user", Name: c.ag.Name}, t.ID, p)
		return err
	})
	if err != nil {
		return err
	}
	writeProto(w, http.StatusOK, map[string]any{"uuid": c.uuid})
	return nil
}

// getTicket answers a partner's read of a shared ticket, per the terms.
func (s *Service) getTicket(w http.ResponseWriter, r *http.Request, c *protoCall) error {
	if err := s.ticketAuth(r, c); err != nil {
		return err
	}
	ctx := r.Context()
	q := s.db.R()
	sh, err := shareByUUID(ctx, q, c.acct.ID, c.ag.ID, c.uuid)
	if err != nil {
		return err
	}
	t, err := ticket.Get(ctx, q, c.acct.ID, sh.TicketID)
	if err != nil {
		return err
	}
	body, err := s.fullPayload(ctx, q, c.acct, c.ag, sh, t, 0)
	if err != nil {
		return err
	}
	writeProto(w, http.StatusOK, body)
	return nil
}
