package sharing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"tandem/internal/account"
	"tandem/internal/delivery"
	"tandem/internal/errs"
	"tandem/internal/files"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/people"
	"tandem/internal/sharing/wire"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Response is a partner's answer to a protocol call.
type Response struct {
	Status     int
	Body       []byte
	RetryAfter time.Duration
}

// Transport makes protocol calls. URLs are partner base URLs plus a path; local://SUB/...
// names an account on this server.
type Transport interface {
	Do(ctx context.Context, method, url, token, signKey string, body []byte) (*Response, error)
}

// DefaultMaxBackoff is the longest wait between retries of a delivery unless
// configured otherwise.
const DefaultMaxBackoff = 5 * time.Minute

// Config tunes sharing. A zero field takes its default.
type Config struct {
	// MaxBackoff caps the retry delay (default DefaultMaxBackoff).
	MaxBackoff time.Duration
	// BaseBackoff is the first retry delay (default 500 ms).
	BaseBackoff time.Duration
	// MaxBody bounds protocol request bodies (default 8 MiB).
	MaxBody int64
	// SignatureWindow is how old a signed request may be (default 5 minutes).
	SignatureWindow time.Duration
	// Workers is how many deliveries run at once (default 16).
	Workers int
	// Owner names this process in outbox leases.
	Owner string
	// DeliveryChanged, when set, runs in the transaction that records a delivery
	// attempt's outcome, for the share it was for and the share's ticket, as the queued
	// row names it (live updates of the sharing panel).
	DeliveryChanged func(ctx context.Context, tx *store.Tx, acct ids.Account, ticket ids.Ticket, shareID int64) error
	// Invited, when set, runs in the transaction that stores a partner's invitation
	// (notifications for the account's admins).
	Invited func(ctx context.Context, tx *store.Tx, acct ids.Account, partner string) error
	// AttachmentLinkTTL is how long the signed link to a shared file stays valid after
	// the delivery that carries it (default DefaultAttachmentLinkTTL).
	AttachmentLinkTTL time.Duration
}

// Service runs ticket sharing for every account of a server.
type Service struct {
	db        *store.DB
	tickets   *ticket.Service
	accounts  *account.Store
	log       *slog.Logger
	transport Transport
	cfg       Config
	outbox    *delivery.Queue[outboxRow]
	// files keeps the files of shared comments (UseFiles); fetches fetches partners' files.
	files   *files.Service
	fetches *delivery.Queue[fetchRow]

	mu       sync.Mutex
	failures map[int64]int64      // agreement id -> delivery failures since start
	hurries  map[int64]hurryState // agreement id -> when to hurry its waiting rows (outbox.go)
	// hurriesPruned is when pruneHurries last swept hurries.
	hurriesPruned time.Time
}

// New returns the sharing service. Its hooks on the ticket write path, BeforeWrite and
// AfterWrite, are registered by the caller (the server), which orders them with the
// other hooks.
func New(db *store.DB, tickets *ticket.Service, accounts *account.Store, transport Transport, log *slog.Logger, cfg Config) *Service {
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = wire.DefaultMaxBody
	}
	if cfg.SignatureWindow <= 0 {
		cfg.SignatureWindow = wire.DefaultSignatureWindow
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.AttachmentLinkTTL <= 0 {
		cfg.AttachmentLinkTTL = DefaultAttachmentLinkTTL
	}
	if cfg.Owner == "" {
		cfg.Owner = wire.NewUUID()[:12]
	}
	s := &Service{db: db, tickets: tickets, accounts: accounts, log: log, transport: transport, cfg: cfg,
		failures: map[int64]int64{}, hurries: map[int64]hurryState{}}
	s.outbox = s.newOutbox()
	s.fetches = s.newFetches()
	return s
}

// Wake tells the outbox worker there is work.
func (s *Service) Wake() { s.outbox.Wake() }

// actorUUID is a stable protocol id for one of our users.
func actorUUID(acct ids.Account, u ids.User) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("tandem-actor:%d:%d", acct, u)))
	return hex.EncodeToString(h[:20])
}

// actorFor describes one of our users on the wire. Users who came from a partner keep
// the partner's actor uuid.
func actorFor(ctx context.Context, q store.Queryer, acct ids.Account, uid ids.User) *wire.Actor {
	if uid <= 0 {
		return &wire.Actor{UUID: actorUUID(acct, 0), Name: "System", Role: "agent"}
	}
	u, err := identity.Get(ctx, q, acct, uid)
	if err != nil {
		return unknownActor(acct, uid)
	}
	return userActor(ctx, q, acct, u)
}

// unknownActor stands for a user that no longer exists.
func unknownActor(acct ids.Account, uid ids.User) *wire.Actor {
	return &wire.Actor{UUID: actorUUID(acct, uid), Name: "Unknown", Role: "end-user"}
}

// userActor describes user u on the wire (actorFor).
func userActor(ctx context.Context, q store.Queryer, acct ids.Account, u *identity.User) *wire.Actor {
	uid := u.ID
	a := &wire.Actor{UUID: actorUUID(acct, uid), Name: u.Name, Role: actorRole(u)}
	if u.Shared {
		var uuid string
		if q.QueryRowContext(ctx, `SELECT actor_uuid FROM sharing_actors WHERE account_id = ? AND user_id = ? LIMIT 1`, acct, uid).Scan(&uuid) == nil {
			a.UUID = uuid
		}
	}
	return a
}

// actorRole is a user's role on the wire.
func actorRole(u *identity.User) string {
	if u.Role.IsStaff() || u.SharedAgent {
		return "agent"
	}
	return "end-user"
}

// actors remembers the users one payload describes (actorFor), so that a user named
// twice (the change's actor is most often its comment's author) is read once. A nil
// actors reads every time.
type actors map[ids.User]*wire.Actor

func (m actors) of(ctx context.Context, q store.Queryer, acct ids.Account, uid ids.User) *wire.Actor {
	if a, ok := m[uid]; ok {
		return a
	}
	a := actorFor(ctx, q, acct, uid)
	if m != nil {
		m[uid] = a
	}
	return a
}

// seed takes the users the caller already read (ticket.Patch.ReadUsers), as of reads
// them, so that the payload does not read them again while the ticket is locked. A
// user who came from a partner is left to of, which reads the partner's actor uuid.
func (m actors) seed(acct ids.Account, users []*identity.User) {
	for _, u := range users {
		if u == nil || u.AccountID != acct || u.ID <= 0 || u.Shared {
			continue
		}
		if _, ok := m[u.ID]; !ok {
			m[u.ID] = &wire.Actor{UUID: actorUUID(acct, u.ID), Name: u.Name, Role: actorRole(u)}
		}
	}
}

// load reads the users among uids that m does not know yet in one statement, where of
// reads each in turn: a shared ticket's update names its requester, its actor and its
// comments' authors, read while the ticket's row is locked.
func (m actors) load(ctx context.Context, q store.Queryer, acct ids.Account, uids ...ids.User) error {
	var want []any
	for _, uid := range uids {
		if _, ok := m[uid]; ok || uid <= 0 || slices.Contains(want, any(uid)) {
			continue
		}
		want = append(want, uid)
	}
	if len(want) < 2 {
		return nil // of reads it as it would
	}
	rows, err := q.QueryContext(ctx, `SELECT `+identity.UserCols+` FROM users WHERE account_id = ? AND id IN (`+store.In(len(want))+`)`, append([]any{acct}, want...)...)
	users, err := store.ScanAll(rows, err, identity.ScanUser)
	if err != nil {
		return fmt.Errorf("sharing: users of a payload: %w", err)
	}
	for _, id := range want {
		m[id.(ids.User)] = unknownActor(acct, id.(ids.User))
	}
	for _, u := range users {
		m[u.ID] = userActor(ctx, q, acct, u)
	}
	return nil
}

// partnerUsers remembers the local users of the partner's actors that one received call
// names (partnerUser), by actor uuid: a batch of an outage's updates names the same
// person for each of its comments, and as the call's current actor, read once now.
type partnerUsers map[string]ids.User

func (m partnerUsers) of(ctx context.Context, tx *store.Tx, ag *Agreement, a *wire.Actor) (ids.User, error) {
	key := ""
	if a != nil {
		key = a.UUID
	}
	if uid, ok := m[key]; ok {
		return uid, nil
	}
	uid, err := partnerUser(ctx, tx, ag, a)
	if err == nil {
		m[key] = uid
	}
	return uid, err
}

// partnerUser maps a partner's actor to a local user, creating one on first sight.
//
// A known actor (nearly every call) is read without a lock: its row is never changed
// once written. Only an actor not found takes the lock, then looks again (the holder
// may have just created it), so two transactions never both create it. Taking the lock
// first, as before, made every update received from one partner's person wait for the
// one before it to commit, whatever its ticket: on PostgreSQL a receiver applied one
// update at a time, and a backlog's requests timed out queued on the lock.
func partnerUser(ctx context.Context, tx *store.Tx, ag *Agreement, a *wire.Actor) (ids.User, error) {
	if a == nil || a.UUID == "" {
		a = &wire.Actor{UUID: "unknown-" + ag.UUID, Name: ag.Name}
	}
	find := func() (ids.User, bool, error) {
		var uid ids.User
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM sharing_actors WHERE account_id = ? AND agreement_id = ? AND actor_uuid = ?`, ag.AccountID, ag.ID, a.UUID).Scan(&uid)
		if errors.Is(err, store.ErrNoRows) {
			return 0, false, nil
		}
		return uid, err == nil, err
	}
	if uid, ok, err := find(); ok || err != nil {
		return uid, err
	}
	if err := tx.Lock(ctx, fmt.Sprintf("sharing-actor:%d:%s", ag.ID, a.UUID)); err != nil {
		return 0, err
	}
	if uid, ok, err := find(); ok || err != nil {
		return uid, err
	}
	name := strings.TrimSpace(a.Name)
	if name == "" {
		name = "Partner user"
	}
	if len(name) > 200 {
		name = name[:200]
	}
	u := &identity.User{AccountID: ag.AccountID, Name: name, Role: identity.EndUser, Shared: true, SharedAgent: a.Role == "agent", Verified: false,
		Notes: "Person at sharing partner " + ag.Name}
	acct := account.FromContext(ctx)
	if acct == nil || acct.ID != ag.AccountID {
		// A partner's person has no email and joins no organization, so no plan rule
		// reads the account beyond its ID.
		acct = &account.Account{ID: ag.AccountID}
	}
	res, err := people.WriteUser(ctx, tx, acct, people.System, &people.UserChange{User: u})
	if err != nil {
		return 0, err
	}
	u = res.User
	if _, err := tx.ExecContext(ctx, `INSERT INTO sharing_actors (account_id, agreement_id, actor_uuid, user_id) VALUES (?, ?, ?, ?)`, ag.AccountID, ag.ID, a.UUID, u.ID); err != nil {
		return 0, err
	}
	return u.ID, nil
}

// BeforeWrite is the ticket before-hook that turns sharing_agreement_ids and rule share
// requests (ch.Shares) into share decisions and TicketSharingEvents, in the same audit as
// the change. It runs after the rules' hook, whose share_ticket actions it carries out,
// and leaves in ch.Shares what it decided (shares to start, shares to end) for AfterWrite.
func (s *Service) BeforeWrite(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	p := ch.Patch
	requested, _ := ch.Sharing()
	deleting := ch.Ticket.Deleted()
	if p.SharingAgreementIDs == nil && len(requested) == 0 && !deleting && len(ch.MadePrivate) == 0 {
		return nil
	}
	var current []*Share
	if !ch.Created {
		var err error
		if current, err = SharesOfTicket(ctx, tx, ch.Account.ID, ch.Ticket.ID); err != nil {
			return err
		}
	}
	if err := s.checkMadePrivate(ctx, tx, ch, current); err != nil {
		return err
	}
	if deleting {
		// A deleted ticket is shared with nobody: every live share ends, and each
		// partner is told (its copy becomes an orphan, or the sender sees that we stopped).
		p, requested = &ticket.Patch{SharingAgreementIDs: &[]int64{}}, nil
	}
	have := map[int64]*Share{}
	for _, sh := range current {
		if sh.State == ShareActive {
			have[sh.AgreementID] = sh
		}
	}
	want := map[int64]bool{}
	var order []int64
	addWant := func(id int64) {
		if !want[id] {
			want[id] = true
			order = append(order, id)
		}
	}
	if p.SharingAgreementIDs != nil {
		for _, id := range *p.SharingAgreementIDs {
			addWant(id)
		}
	} else {
		for _, sh := range current {
			if have[sh.AgreementID] == sh {
				addWant(sh.AgreementID)
			}
		}
	}
	for _, id := range requested {
		addWant(id)
	}
	var decided []ticket.ShareRequest
	for _, id := range order {
		if have[id] != nil {
			continue
		}
		ag, err := GetAgreement(ctx, tx, ch.Account.ID, id)
		if err != nil {
			return errs.Invalidf("sharing_agreement_ids", "InvalidValue", "sharing agreement %d does not exist", id)
		}
		if err := ch.Account.Require(account.TicketSharing); err != nil {
			return err
		}
		if ag.Direction != Outbound {
			return errs.Invalidf("sharing_agreement_ids", "InvalidValue", "agreement %d is inbound: tickets can only be shared through agreements this account sent", id)
		}
		if !ag.Active() {
			return errs.Invalidf("sharing_agreement_ids", "InvalidValue", "agreement %d with %s is %s, not accepted", id, ag.Name, ag.Status)
		}
		if ch.Ticket.Status == ticket.Closed {
			return errs.Invalidf("sharing_agreement_ids", "InvalidValue", "closed tickets cannot be shared")
		}
		decided = append(decided, ticket.ShareRequest{AgreementID: id})
		ch.Events = append(ch.Events, ticket.Event{"type": "TicketSharingEvent", "agreement_id": ag.ID, "action": "shared"})
	}
	for _, sh := range current {
		if have[sh.AgreementID] != sh || want[sh.AgreementID] {
			continue
		}
		reason := "unshared by " + ch.Actor.Name
		switch {
		case deleting:
			reason = "ticket deleted by " + ch.Actor.Name
		case sh.Direction == "in":
			reason = "sync stopped by " + ch.Actor.Name
		}
		decided = append(decided, ticket.ShareRequest{AgreementID: sh.AgreementID, End: true, Reason: reason})
		ch.Events = append(ch.Events, ticket.Event{"type": "TicketSharingEvent", "agreement_id": sh.AgreementID, "action": "unshared"})
	}
	ch.Shares = decided
	return nil
}

// checkMadePrivate refuses to make a comment private when a partner already holds it
// and the agreement's terms do not let internal notes travel: the sharing protocol has
// no way to take a comment back, so the partner would keep showing it as public. Where
// the terms do carry internal notes, the partner keeps the comment and is told it is now
// private (deltaPayload); a comment that came from a partner may always be hidden here.
func (s *Service) checkMadePrivate(ctx context.Context, tx *store.Tx, ch *ticket.Change, shares []*Share) error {
	for _, c := range ch.MadePrivate {
		for _, sh := range shares {
			if !heldBy(sh, c) || c.Origin != nil && c.Origin.AgreementID == sh.AgreementID {
				continue
			}
			ag, err := GetAgreement(ctx, tx, ch.Account.ID, sh.AgreementID)
			if err != nil {
				return err
			}
			if !ag.SharePrivateComments {
				return errs.Invalidf("comment", "AlreadyShared", "this comment was already shared with %s; it cannot be made private", ag.Name)
			}
		}
	}
	return nil
}

// heldBy reports whether the partner of a share may hold a (public) comment: the share
// was live at some time since the comment was written (the first share of a ticket
// carries its whole thread). Queued but undelivered counts as held: the delivery may be
// under way.
func heldBy(sh *Share, c *ticket.Comment) bool {
	return sh.EndedAt.IsZero() || !sh.EndedAt.Before(c.CreatedAt)
}

// AfterWrite is the ticket after-hook that records new shares and queues the protocol
// calls for every partner the ticket is shared with, in the same transaction as the
// change, and then keeps what partners owe on the outbound shares (owe).
//
// It runs while the ticket's row is locked, so concurrent updates of a shared ticket
// wait for it: the ticket's shares come with their agreements in one statement, the
// users a payload names in one more, and owed_since is written only when it changes.
func (s *Service) AfterWrite(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	acct := ch.Account.ID
	var origin int64
	if ch.Origin != nil {
		origin = ch.Origin.ShareID
	}
	started, _ := ch.Sharing()
	var current []shareWithAgreement
	if !ch.Created {
		var err error
		if current, err = sharesForWrite(ctx, tx, acct, ch.Ticket.ID); err != nil {
			return err
		}
		ch.Unshared = len(current) == 0 && len(started) == 0
	}
	// queued: a row queued as its lane's head (or on SQLite); behind: one behind a head.
	queued, behind := false, false
	who := actors{} // one read of each user for every partner's payload
	seeded := false
	for _, id := range started {
		ag, err := GetAgreement(ctx, tx, acct, id)
		if err != nil {
			return err
		}
		sh := &Share{AccountID: acct, TicketID: ch.Ticket.ID, AgreementID: ag.ID, UUID: wire.NewUUID(), Direction: "out", State: ShareActive}
		if err := insertShare(ctx, tx, sh); err != nil {
			return err
		}
		body, err := s.fullPayload(ctx, tx, ch.Account, ag, sh, ch.Ticket, ch.Actor.UserID)
		if err != nil {
			return err
		}
		if err := s.enqueue(ctx, tx, ag, sh, "create", "POST", body); err != nil {
			return err
		}
		queued = true
	}
	ended := map[int64]bool{}
	for _, r := range ch.Shares {
		if !r.End {
			continue
		}
		for _, sh := range current {
			if sh.AgreementID != r.AgreementID || sh.State != ShareActive {
				continue
			}
			if err := setShareState(ctx, tx, sh.Share, ShareUnshared, r.Reason); err != nil {
				return err
			}
			if err := s.enqueue(ctx, tx, sh.ag, sh.Share, "unshare", "DELETE", nil); err != nil {
				return err
			}
			ended[sh.ID] = true
			queued = true
		}
	}
	for _, sh := range current {
		if sh.State != ShareActive || sh.ID == origin || ended[sh.ID] || slices.Contains(started, sh.AgreementID) {
			continue
		}
		if !sh.ag.Active() {
			continue
		}
		if !seeded {
			who.seed(acct, ch.Patch.ReadUsers)
			seeded = true
		}
		if err := who.load(ctx, tx, acct, payloadUsers(ch)...); err != nil {
			return err
		}
		body, ok, err := s.deltaPayload(ctx, tx, ch, sh.ag, sh.Share, who)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		head, err := s.enqueueRow(ctx, tx, sh.ag, sh.Share, "update", "PUT", body)
		if err != nil {
			return err
		}
		if head {
			queued = true
		} else {
			behind = true
		}
	}
	switch {
	case queued:
		tx.AfterCommit(s.Wake)
	case behind:
		// Every update queued behind its lane's head, whose delivery wakes a worker when
		// it finishes: waking now made a claim that found nothing, once per update of a
		// busy ticket. See delivery's WakeLater for why it still wakes if no claim
		// starts within the delay.
		tx.AfterCommit(func() { s.outbox.WakeLater(wakeBehindHead) })
	}
	return s.owe(ctx, tx, ch, current)
}

// payloadUsers are the users an update's payload names: the ticket's requester, the
// change's actor and its comments' authors.
func payloadUsers(ch *ticket.Change) []ids.User {
	out := []ids.User{ch.Ticket.RequesterID, ch.Actor.UserID}
	for _, c := range ch.Comments {
		out = append(out, c.AuthorID)
	}
	for _, c := range ch.MadePrivate {
		out = append(out, c.AuthorID)
	}
	return out
}

// commentTravels decides whether a comment goes to the partner of ag, per the terms.
func commentTravels(ag *Agreement, c *ticket.Comment) bool {
	if c.Origin != nil && c.Origin.AgreementID == ag.ID {
		return false // it came from this partner: never echo it back
	}
	return c.Public || ag.SharePrivateComments
}

func (s *Service) wireComment(ctx context.Context, q store.Queryer, acct ids.Account, ag *Agreement, dir string, c *ticket.Comment, who actors) wire.Comment {
	public := c.Public
	if dir == "in" && !ag.AllowsPublicComments {
		public = false // the receiver may not talk to the requester
	}
	return wire.Comment{UUID: c.UUID, Author: who.of(ctx, q, acct, c.AuthorID), Body: c.PlainBody, HTMLBody: c.HTMLBody,
		AuthoredAt: wire.Time{Time: c.CreatedAt}, Public: public}
}

// travelComment is a comment as it travels to the partner of ag, with its files. A
// comment written by the change at hand (fresh) has files only if it was written with
// uploads: the files hook, the one after-hook before sharing's, attaches them, and mail
// attaches its files after the write, as before this read was skipped.
func (s *Service) travelComment(ctx context.Context, q store.Queryer, acct ids.Account, ag *Agreement, dir string, c *ticket.Comment, who actors, fresh bool) (wire.Comment, error) {
	wc := s.wireComment(ctx, q, acct, ag, dir, c, who)
	if fresh && len(c.Uploads) == 0 {
		return wc, nil
	}
	var err error
	wc.Attachments, err = s.wireAttachments(ctx, q, acct, ag, c)
	return wc, err
}

// fields renders custom field values by stable key, for agreements that sync them.
func fieldsByKey(ctx context.Context, q store.Queryer, acct ids.Account, t *ticket.Ticket) (map[string]any, error) {
	fields, err := ticket.Fields(ctx, q, acct)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, f := range fields {
		if v, ok := t.CustomFields[f.ID]; ok {
			out[f.Key] = v
		}
	}
	return out, nil
}

func (s *Service) baseTicket(ctx context.Context, q store.Queryer, acct ids.Account, ag *Agreement, sh *Share, t *ticket.Ticket, actor ids.User, who actors) (*wire.Ticket, error) {
	wt := &wire.Ticket{UUID: sh.UUID, Subject: t.Subject, RequestedAt: wire.Time{Time: t.CreatedAt}, Requester: who.of(ctx, q, acct, t.RequesterID),
		CurrentActor: who.of(ctx, q, acct, actor), OriginalID: strconv.FormatInt(int64(t.ID), 10), Version: t.Version}
	if ag.SyncStatus {
		wt.Status = string(t.Status)
	}
	if ag.SyncTags {
		wt.Tags = append([]string{}, t.Tags...)
	}
	if ag.SyncCustomFields {
		f, err := fieldsByKey(ctx, q, acct, t)
		if err != nil {
			return nil, err
		}
		wt.CustomFields = f
	}
	return wt, nil
}

// fullPayload is the first share of a ticket: everything, with the thread so far.
func (s *Service) fullPayload(ctx context.Context, q store.Queryer, acct *account.Account, ag *Agreement, sh *Share, t *ticket.Ticket, actor ids.User) ([]byte, error) {
	who := actors{}
	wt, err := s.baseTicket(ctx, q, acct.ID, ag, sh, t, actor, who)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT `+ticket.CommentCols+` FROM ticket_comments WHERE account_id = ? AND ticket_id = ? ORDER BY id`, acct.ID, t.ID)
	if err != nil {
		return nil, err
	}
	var comments []*ticket.Comment
	for rows.Next() {
		c, err := ticket.ScanComment(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		comments = append(comments, c)
	}
	rows.Close()
	for _, c := range comments {
		if commentTravels(ag, c) {
			wc, err := s.travelComment(ctx, q, acct.ID, ag, sh.Direction, c, who, false)
			if err != nil {
				return nil, err
			}
			wt.Comments = append(wt.Comments, wc)
		}
	}
	return wire.EncodeTicket(wt)
}

// deltaPayload is an update: the new comments that travel and the synced fields.
func (s *Service) deltaPayload(ctx context.Context, tx *store.Tx, ch *ticket.Change, ag *Agreement, sh *Share, who actors) ([]byte, bool, error) {
	wt, err := s.baseTicket(ctx, tx, ch.Account.ID, ag, sh, ch.Ticket, ch.Actor.UserID, who)
	if err != nil {
		return nil, false, err
	}
	send := false
	for _, c := range ch.Comments {
		if commentTravels(ag, c) {
			wc, err := s.travelComment(ctx, tx, ch.Account.ID, ag, sh.Direction, c, who, true)
			if err != nil {
				return nil, false, err
			}
			wt.Comments = append(wt.Comments, wc)
			send = true
		}
	}
	// A file redacted here is redacted at the partner too (attachments.go).
	redactions, err := s.redactionComments(ctx, tx, ch, ag, sh, who)
	if err != nil {
		return nil, false, err
	}
	if len(redactions) > 0 {
		wt.Comments = append(wt.Comments, redactions...)
		send = true
	}
	// A comment made private goes again, now private, to partners that hold it (the
	// terms let notes travel, or checkMadePrivate refused): a Tandem receiver hides its
	// copy; other implementations skip a comment uuid they know.
	for _, c := range ch.MadePrivate {
		if commentTravels(ag, c) && heldBy(sh, c) {
			wc := s.wireComment(ctx, tx, ch.Account.ID, ag, sh.Direction, c, who)
			wc.Public = false
			wt.Comments = append(wt.Comments, wc)
			send = true
		}
	}
	for _, e := range ch.Events {
		name, _ := e["field_name"].(string)
		switch {
		case name == "status" && ag.SyncStatus, name == "tags" && ag.SyncTags, name == "subject" && sh.Direction == "out":
			send = true
		case ag.SyncCustomFields && name != "" && name[0] >= '0' && name[0] <= '9':
			send = true
		}
	}
	if !send {
		return nil, false, nil
	}
	body, err := wire.EncodeTicket(wt)
	return body, true, err
}

// enqueue writes an outbox row in the caller's transaction.
func (s *Service) enqueue(ctx context.Context, tx *store.Tx, ag *Agreement, sh *Share, kind, method string, body []byte) error {
	_, err := s.enqueueRow(ctx, tx, ag, sh, kind, method, body)
	return err
}

// enqueueRow is enqueue, and says whether the row was its lane's head when inserted (on
// PostgreSQL; on SQLite, where a write and the outcomes of its lane commit one at a
// time, it says true: the caller wakes the worker at once, as for every row before).
func (s *Service) enqueueRow(ctx context.Context, tx *store.Tx, ag *Agreement, sh *Share, kind, method string, body []byte) (head bool, err error) {
	u := strings.TrimSuffix(ag.RemoteURL, "/")
	var shareID int64
	var tid ids.Ticket
	if sh != nil {
		u += "/tickets/" + url.PathEscape(sh.UUID)
		shareID, tid = sh.ID, sh.TicketID
	} else {
		u += "/agreements/" + url.PathEscape(ag.UUID)
	}
	now := store.Micros(store.Now())
	q := `INSERT INTO sharing_outbox (account_id, agreement_id, share_id, ticket_id, kind, method, url, body, status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`
	args := []any{ag.AccountID, ag.ID, shareID, tid, kind, method, u, string(body), now, now}
	if tx.D() == store.Postgres {
		err = tx.QueryRowContext(ctx, q+` RETURNING head`, args...).Scan(&head)
	} else {
		_, err = tx.ExecContext(ctx, q, args...)
		head = true
	}
	if err != nil {
		return false, fmt.Errorf("sharing: enqueue: %w", err)
	}
	return head, nil
}

// ShareInfo is one share of a ticket as the API shows it.
type ShareInfo struct {
	AgreementID  int64
	Direction    string // outbound / inbound
	Partner      string
	State        string
	StateReason  string
	SharedAt     time.Time
	Pending      int
	LastError    string
	NextAttempt  time.Time
	DeliveryNote string
	// FilesPending and FilesFailed count the partner's files of this share still to
	// fetch and given up on (refused or failed for good); FilesError is the latest reason.
	FilesPending int
	FilesFailed  int
	FilesError   string
}

// SharedAnySQL is whether any ticket of the account (its one argument) has a share, in
// either direction and any state: a read of tickets selects it in its own statement and
// reads SharingOf only when it holds.
const SharedAnySQL = `EXISTS (SELECT 1 FROM ticket_shares WHERE account_id = ?)`

// SharingOf returns the shares of the given tickets, for rendering.
func SharingOf(ctx context.Context, q store.Queryer, acct ids.Account, tickets []ids.Ticket) (map[ids.Ticket][]ShareInfo, error) {
	out := map[ids.Ticket][]ShareInfo{}
	if len(tickets) == 0 {
		return out, nil
	}
	args := []any{acct}
	for _, t := range tickets {
		args = append(args, t)
	}
	// Each share's first pending row (h) is found once, by the lowest id, and read by
	// its key; the share's pending rows are then counted from it on, which skips the
	// index entries that rows delivered before it leave until vacuum, and nothing is
	// counted when nothing is pending. (Before, each of the count and the first row's
	// two columns walked the share's pending entries from the start.)
	rows, err := q.QueryContext(ctx, `SELECT s.ticket_id, s.agreement_id, s.direction, a.name, s.state, s.state_reason, s.shared_at,
		CASE WHEN h.id IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM sharing_outbox o WHERE o.share_id = s.id AND o.status = 'pending' AND o.id >= h.id) END,
		COALESCE(h.last_error, ''), COALESCE(h.next_attempt_at, 0),
		(SELECT COUNT(*) FROM sharing_attachment_fetches f WHERE f.account_id = s.account_id AND f.share_id = s.id AND f.status = 'pending'),
		(SELECT COUNT(*) FROM sharing_attachment_fetches f WHERE f.account_id = s.account_id AND f.share_id = s.id AND f.status = 'dead'),
		COALESCE((SELECT f.file_name || ': ' || f.last_error FROM sharing_attachment_fetches f WHERE f.account_id = s.account_id AND f.share_id = s.id AND f.status = 'dead' ORDER BY f.id DESC LIMIT 1), '')
		FROM ticket_shares s JOIN sharing_agreements a ON a.id = s.agreement_id AND a.account_id = s.account_id
		LEFT JOIN sharing_outbox h ON h.id = (SELECT MIN(o.id) FROM sharing_outbox o WHERE o.share_id = s.id AND o.status = 'pending')
		WHERE s.account_id = ? AND s.ticket_id IN (`+store.In(len(tickets))+`) ORDER BY s.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sharing: shares of tickets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tid ids.Ticket
		var si ShareInfo
		var at, next int64
		if err := rows.Scan(&tid, &si.AgreementID, &si.Direction, &si.Partner, &si.State, &si.StateReason, &at, &si.Pending, &si.LastError, &next,
			&si.FilesPending, &si.FilesFailed, &si.FilesError); err != nil {
			return nil, err
		}
		si.SharedAt, si.NextAttempt = store.Time(at), store.Time(next)
		if si.Direction == "out" {
			si.Direction = Outbound
		} else {
			si.Direction = Inbound
		}
		switch {
		case si.State != ShareActive:
			si.DeliveryNote = si.State
		case si.Pending == 0:
			si.DeliveryNote = "delivered"
		case si.LastError != "":
			si.DeliveryNote = "retrying"
		default:
			si.DeliveryNote = "sending"
		}
		out[tid] = append(out[tid], si)
	}
	return out, rows.Err()
}

// AgreementHealth is the delivery state of one agreement, in the shared delivery
// queue's terms.
type AgreementHealth = delivery.Health

// Health returns the delivery health of an agreement.
func Health(ctx context.Context, q store.Queryer, acct ids.Account, agreement int64) (AgreementHealth, error) {
	return delivery.HealthOf(ctx, q, "sharing_outbox", int64(acct), "agreement_id = ?", agreement)
}
