package ticket

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/people"
	"tandem/internal/store"
)

// Limits on ticket content.
const (
	MaxSubject     = 255
	MaxCommentSize = 65536 // bytes
	MaxTags        = 100
	MaxTagLen      = 80
	MaxExternalID  = 255
	MaxCCs         = 48
)

// Hook runs inside the write transaction. Before-hooks run after the change is applied
// and may apply more (business rules); after-hooks run once the ticket, its comments and
// its audit are written (sharing outbox, search).
type Hook func(ctx context.Context, tx *store.Tx, ch *Change) error

// Service is the single write path for tickets.
type Service struct {
	db     *store.DB
	before []Hook
	after  []Hook
	html   *bluemonday.Policy
	// fields caches each account's custom fields behind its settings version.
	fields store.SettingsCache[[]*Field]
}

// NewService returns the ticket service.
func NewService(db *store.DB) *Service {
	return &Service{db: db, html: bluemonday.UGCPolicy()}
}

// DB returns the service's database.
func (s *Service) DB() *store.DB { return s.db }

// Before registers a hook run before the change is written (in registration order).
func (s *Service) Before(h Hook) { s.before = append(s.before, h) }

// After registers a hook run after the change is written.
func (s *Service) After(h Hook) { s.after = append(s.after, h) }

// Change is one create or update in progress. Hooks read it and may Apply more.
type Change struct {
	Account *account.Account
	Actor   Actor
	Via     Via
	Created bool
	// Before is the ticket as it was (nil on create); Ticket is the ticket being written.
	Before *Ticket
	Ticket *Ticket
	// Comments are the comments this change adds.
	Comments []*Comment
	// MadePrivate are the comments this change turns into internal notes (Patch.
	// MakePrivate), as they were before: still public.
	MadePrivate []*Comment
	// Events are the audit's events so far.
	Events []Event
	// Audit is set once written (after-hooks).
	Audit *Audit
	// Patch is the change as asked for.
	Patch *Patch
	// Origin is the sharing partner the change came from (Patch.Origin), nil for a
	// local change.
	Origin *SharingOrigin
	// Shares are what the change does to the ticket's sharing. Business rules add
	// requests to share (ShareWith, the share_ticket action); the sharing hook, run after
	// the rules, checks them against the ticket's shares and sharing_agreement_ids and
	// leaves here what it decided (shares to start, shares to end), which its after-hook
	// carries out once the ticket is written.
	Shares []ShareRequest
	// Requester is the new ticket's requester as the create read it (nil on update), for
	// the hooks that need the user (the acknowledgement mail) not to read it again.
	Requester *identity.User
	// Unshared is set by the sharing after-hook when it found the updated ticket shared
	// with nobody, in any state, and started no share: the API then renders the
	// ticket's sharing empty without reading it again.
	Unshared bool

	svc *Service
	tx  *store.Tx
	// fields caches the account's custom fields for the change (nil until loaded).
	fields []*Field
	// rating is the satisfaction change applied (written with the ticket).
	rating *Satisfaction
	// liveAdded is set when the create's statement also inserted its live-count
	// difference (PostgreSQL, insertCreated).
	liveAdded bool
}

// Tx returns the change's transaction.
func (ch *Change) Tx() *store.Tx { return ch.tx }

// LoadedFields returns the account's ticket fields as the change read them (a cached
// copy: callers must not modify them), or nil when it read none (it failed first).
func (ch *Change) LoadedFields() []*Field { return ch.fields }

// Service returns the ticket service (for hooks that write through it).
func (ch *Change) Service() *Service { return ch.svc }

// Result is what a write returns.
type Result struct {
	Ticket   *Ticket
	Audit    *Audit
	Comments []*Comment
	Change   *Change
}

// Create creates a ticket in its own transaction.
func (s *Service) Create(ctx context.Context, acct *account.Account, actor Actor, p *Patch) (*Result, error) {
	var res *Result
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		res, err = s.Write(ctx, tx, acct, actor, 0, p)
		return err
	})
	return res, err
}

// Update changes a ticket in its own transaction.
func (s *Service) Update(ctx context.Context, acct *account.Account, actor Actor, id ids.Ticket, p *Patch) (*Result, error) {
	var res *Result
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		res, err = s.Write(ctx, tx, acct, actor, id, p)
		return err
	})
	return res, err
}

// Write creates (id == 0) or updates a ticket inside tx: the one write path.
func (s *Service) Write(ctx context.Context, tx *store.Tx, acct *account.Account, actor Actor, id ids.Ticket, p *Patch) (*Result, error) {
	return s.write(ctx, tx, acct, actor, id, nil, p)
}

// WriteLocked updates ticket t, which the caller read in tx with GetForUpdate, without
// reading it again: a caller that decides from the locked ticket what to change (a
// partner's update) reads it once. The caller must not change t.
func (s *Service) WriteLocked(ctx context.Context, tx *store.Tx, acct *account.Account, actor Actor, t *Ticket, p *Patch) (*Result, error) {
	if t == nil || t.AccountID != acct.ID || t.ID == 0 {
		return nil, fmt.Errorf("ticket: write: the locked ticket is not one of account %d", acct.ID)
	}
	return s.write(ctx, tx, acct, actor, t.ID, t, p)
}

// write is Write, with the ticket already read under its lock when locked is not nil.
func (s *Service) write(ctx context.Context, tx *store.Tx, acct *account.Account, actor Actor, id ids.Ticket, locked *Ticket, p *Patch) (*Result, error) {
	via := ViaFor(ViaAPI)
	if p.Via != nil {
		via = *p.Via
	}
	ch := &Change{Account: acct, Actor: actor, Via: via, Patch: p, Origin: p.Origin, svc: s, tx: tx}
	// A ticket write changes no setting: its hooks read the settings version once.
	unpin, err := tx.PinSettings(ctx, int64(acct.ID))
	if err != nil {
		return nil, err
	}
	defer unpin()
	// The account's fields, kept by this process at the settings version just read
	// (read now, before any row is locked, only when it keeps none): the change's
	// fields and tags take them, and so does the caller that renders the ticket
	// (LoadedFields), which then reads nothing.
	if _, err := ch.ticketFields(ctx); err != nil {
		return nil, err
	}
	now := store.Now()
	if id == 0 {
		if err := s.startCreate(ctx, ch, now); err != nil {
			return nil, err
		}
	} else {
		t := locked
		if t == nil {
			var err error
			if t, err = GetForUpdate(ctx, tx, acct.ID, id); err != nil {
				return nil, err
			}
		}
		// A closed ticket is read-only, except that it may be deleted or have a comment
		// made private (neither changes what the ticket says).
		rest := *p
		rest.Delete, rest.MakePrivate, rest.Satisfaction = false, nil, nil
		if t.Status == Closed && !rest.Empty() {
			return nil, errs.Invalidf("status", "InvalidValue", "closed prevents ticket update")
		}
		if p.Delete && !rest.Empty() {
			return nil, errs.Invalidf("ticket", "InvalidValue", "a delete cannot change the ticket as well")
		}
		if p.SafeUpdate && !p.UpdatedStamp.IsZero() && stale(t.UpdatedAt, p.UpdatedStamp) {
			return nil, errs.E(errs.Conflict, "Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again.")
		}
		ch.Before = t
		ch.Ticket = t.Clone()
		if err := ch.apply(ctx, p, nil, false); err != nil {
			return nil, err
		}
		if p.Delete {
			// Zendesk's audits show a deleted ticket as a change of status to "deleted".
			ch.Ticket.DeletedAt = now
			ch.Events = append(ch.Events, Event{"type": "Change", "field_name": "status", "value": "deleted", "previous_value": string(t.Status)})
		}
	}
	if p.Rule != nil && !ch.Created {
		if err := p.Rule(ctx, ch); err != nil {
			return nil, err
		}
	}
	if !p.SkipRules {
		for _, h := range s.before {
			if err := h(ctx, tx, ch); err != nil {
				return nil, err
			}
		}
	}
	if !ch.Created && len(ch.Events) == 0 && len(ch.Comments) == 0 {
		return &Result{Ticket: ch.Ticket, Change: ch}, nil // nothing changed: no audit
	}
	if err := s.persist(ctx, ch, now); err != nil {
		return nil, err
	}
	for _, h := range s.after {
		if err := h(ctx, tx, ch); err != nil {
			return nil, err
		}
	}
	// On SQLite nextNumber counted a new ticket with its number; on PostgreSQL the
	// create's own statement usually did (insertCreated).
	counted := ch.Created && (tx.D() != store.Postgres || ch.liveAdded)
	if (ch.Created || p.Delete) && !counted {
		// Last statement of the write: on SQLite the account row is locked only until
		// commit; PostgreSQL takes no shared row (addLive).
		step := 1
		if p.Delete {
			step = -1
		}
		if err := addLive(ctx, tx, acct.ID, step); err != nil {
			return nil, fmt.Errorf("ticket: count live tickets: %w", err)
		}
	} else if ch.liveAdded {
		if err := foldLiveSometimes(ctx, tx, acct.ID); err != nil {
			return nil, fmt.Errorf("ticket: count live tickets: %w", err)
		}
	}
	return &Result{Ticket: ch.Ticket, Audit: ch.Audit, Comments: ch.Comments, Change: ch}, nil
}

func (s *Service) startCreate(ctx context.Context, ch *Change, now time.Time) error {
	p, tx, acct := ch.Patch, ch.tx, ch.Account
	ch.Created = true
	t := &Ticket{AccountID: acct.ID, Status: New, Via: ch.Via, CustomFields: map[int64]any{}, Tags: []string{}, IsPublic: true, Version: 1}
	// The requester: named by object (find or create by email), by ID, or the caller.
	switch {
	case p.Requester != nil:
		by := people.Actor{ID: ch.Actor.UserID, Role: ch.Actor.Role, Restriction: ch.Actor.Restriction}
		u, err := people.FindOrCreateUser(ctx, tx, acct, by, p.Requester.Name, p.Requester.Email, p.Requester.Locale)
		if err != nil {
			return err
		}
		t.RequesterID = u.ID
	case p.RequesterID != nil && *p.RequesterID != 0:
		t.RequesterID = *p.RequesterID
	default:
		t.RequesterID = ch.Actor.UserID
	}
	if t.RequesterID == 0 {
		return errs.Invalidf("requester", "BlankValue", "cannot be blank")
	}
	t.SubmitterID = ch.Actor.UserID
	if p.SubmitterID != nil && *p.SubmitterID != 0 && ch.Actor.IsStaff() {
		if !ch.userOf(ctx, *p.SubmitterID, false) {
			return errs.Invalidf("submitter_id", "InvalidValue", "user %d does not exist", *p.SubmitterID)
		}
		t.SubmitterID = *p.SubmitterID
	}
	if t.SubmitterID == 0 {
		t.SubmitterID = t.RequesterID
	}
	if p.Comment == nil || strings.TrimSpace(p.Comment.Body) == "" && strings.TrimSpace(p.Comment.HTMLBody) == "" {
		return errs.Invalidf("description", "BlankValue", "cannot be blank")
	}
	events := p.Events
	ch.Ticket = t
	// Apply the patch without the requester fields (already resolved) and without
	// recording events: the create audit lists the final state as Create events.
	q := *p
	q.Requester, q.RequesterID, q.SubmitterID, q.Events = nil, nil, nil, nil
	if err := ch.apply(ctx, &q, nil, true); err != nil {
		return err
	}
	requester := p.RequesterUser
	if requester == nil || requester.ID != t.RequesterID || requester.AccountID != acct.ID {
		var err error
		if requester, err = identity.Get(ctx, tx, acct.ID, t.RequesterID); err != nil {
			return errs.Invalidf("requester_id", "InvalidValue", "user %d does not exist", t.RequesterID)
		}
	}
	if !requester.Active {
		return errs.Invalidf("requester_id", "InvalidValue", "user %d is deleted", t.RequesterID)
	}
	ch.Requester = requester
	// Organization defaults to the requester's default organization; its group mapping
	// routes the ticket when no group was given.
	if p.OrganizationID == nil && requester.OrganizationID != 0 {
		t.OrganizationID = requester.OrganizationID
	}
	if t.OrganizationID != 0 && t.GroupID == 0 {
		o, err := org.GetOrg(ctx, tx, acct.ID, t.OrganizationID)
		if err != nil {
			return errs.Invalidf("organization_id", "InvalidValue", "organization %d does not exist", t.OrganizationID)
		}
		if o.GroupID != 0 {
			if g, err := org.GetGroup(ctx, tx, acct.ID, o.GroupID); err == nil && !g.Deleted {
				t.GroupID = o.GroupID
			}
		}
	}
	if p.Status == nil && t.AssigneeID != 0 {
		t.Status = Open
	}
	if !p.CreatedAt.IsZero() {
		t.CreatedAt = p.CreatedAt
	}
	seq, err := nextNumber(ctx, tx, acct.ID)
	if err != nil {
		return err
	}
	t.ID = ids.Ticket(seq)
	for _, c := range ch.Comments {
		c.TicketID = t.ID
	}
	if len(ch.Comments) > 0 {
		t.Description = ch.Comments[0].PlainBody
	}
	// Create events: every field set, in Zendesk's style.
	vals := eventValues(t)
	for _, k := range eventFields(t) {
		v := vals[k]
		if v == nil && k != "subject" {
			continue
		}
		ch.Events = append(ch.Events, Event{"type": "Create", "field_name": k, "value": v})
	}
	ch.Events = append(ch.Events, events...)
	return nil
}

// ShareWith asks the sharing hook to share the ticket through an agreement.
func (ch *Change) ShareWith(agreementID int64) {
	if !slices.ContainsFunc(ch.Shares, func(r ShareRequest) bool { return r.AgreementID == agreementID && !r.End }) {
		ch.Shares = append(ch.Shares, ShareRequest{AgreementID: agreementID})
	}
}

// Rated reports whether the change gives the ticket a satisfaction rating (written with
// the ticket, before the after-hooks run).
func (ch *Change) Rated() bool { return ch.rating != nil }

// Sharing returns the agreements the change shares the ticket through (start) or ends
// its share with (end), as the sharing hook decided or, before it ran, as rules asked.
func (ch *Change) Sharing() (start, end []int64) {
	for _, r := range ch.Shares {
		if r.End {
			end = append(end, r.AgreementID)
		} else {
			start = append(start, r.AgreementID)
		}
	}
	return start, end
}

// nextNumber allocates the account's next ticket number. PostgreSQL uses the account's
// sequence (no row lock, so concurrent creates do not queue; a create that fails leaves
// a gap); SQLite, with one writer, counts on the account row, and counts the new ticket
// among the live ones in the same statement (a create that fails rolls both back).
func nextNumber(ctx context.Context, tx *store.Tx, acct ids.Account) (int64, error) {
	var seq int64
	var err error
	if tx.D() == store.Postgres {
		err = tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT nextval('ticket_numbers_%d')`, int64(acct))).Scan(&seq)
	} else {
		err = tx.QueryRowContext(ctx, `UPDATE accounts SET ticket_seq = ticket_seq + 1, live_tickets = live_tickets + 1 WHERE id = ? RETURNING ticket_seq`, acct).Scan(&seq)
	}
	if err != nil {
		return 0, fmt.Errorf("ticket: allocate number: %w", err)
	}
	return seq, nil
}

// Apply applies a patch on top of the change (business rules call it). via, when not nil,
// is recorded on the events (e.g. the trigger that made them).
func (ch *Change) Apply(ctx context.Context, p *Patch, via *Via) error {
	return ch.apply(ctx, p, via, false)
}

func (ch *Change) apply(ctx context.Context, p *Patch, via *Via, creating bool) error {
	t, tx, acct := ch.Ticket, ch.tx, ch.Account.ID
	before := eventValues(t)
	var v errs.Validation
	if p.Subject != nil {
		s := strings.TrimSpace(*p.Subject)
		checkLen(&v, "subject", s, MaxSubject)
		t.Subject = s
	}
	if p.Type != nil {
		if *p.Type != "" && !slices.Contains(Types, *p.Type) {
			v.Bad("type", "must be one of problem, incident, question, task")
		}
		t.Type = *p.Type
	}
	if p.Priority != nil {
		if *p.Priority != "" && !slices.Contains(Priorities, *p.Priority) {
			v.Bad("priority", "must be one of low, normal, high, urgent")
		}
		t.Priority = *p.Priority
	}
	if p.Status != nil {
		st := *p.Status
		switch {
		case st.Rank() < 0:
			v.Bad("status", "must be one of new, open, pending, hold, solved, closed")
		case st == New && !creating && ch.Before != nil && ch.Before.Status != New:
			v.Bad("status", "cannot be set back to new")
		default:
			t.Status = st
		}
	}
	if p.ExternalID != nil {
		checkLen(&v, "external_id", *p.ExternalID, MaxExternalID)
		t.ExternalID = *p.ExternalID
	}
	if p.Recipient != nil {
		t.Recipient = *p.Recipient
	}
	if p.RequesterID != nil && *p.RequesterID != t.RequesterID {
		if *p.RequesterID == 0 {
			v.Blank("requester_id")
		} else if !ch.userOf(ctx, *p.RequesterID, false) {
			v.Bad("requester_id", fmt.Sprintf("user %d does not exist", *p.RequesterID))
		} else {
			t.RequesterID = *p.RequesterID
		}
	}
	if p.SubmitterID != nil && *p.SubmitterID != 0 && *p.SubmitterID != t.SubmitterID {
		if !ch.userOf(ctx, *p.SubmitterID, false) {
			v.Bad("submitter_id", fmt.Sprintf("user %d does not exist", *p.SubmitterID))
		} else {
			t.SubmitterID = *p.SubmitterID
		}
	}
	if p.AssigneeID != nil && *p.AssigneeID != t.AssigneeID {
		if *p.AssigneeID == 0 {
			t.AssigneeID = 0
		} else if !ch.userOf(ctx, *p.AssigneeID, true) {
			v.Bad("assignee_id", fmt.Sprintf("user %d is not an agent of this account", *p.AssigneeID))
		} else {
			t.AssigneeID = *p.AssigneeID
		}
	}
	if p.GroupID != nil && *p.GroupID != t.GroupID {
		if *p.GroupID == 0 {
			t.GroupID = 0
		} else if g, err := org.GetGroup(ctx, tx, acct, *p.GroupID); err != nil || g.Deleted {
			v.Bad("group_id", fmt.Sprintf("group %d does not exist", *p.GroupID))
		} else {
			t.GroupID = *p.GroupID
		}
	}
	if p.OrganizationID != nil && *p.OrganizationID != t.OrganizationID {
		if *p.OrganizationID == 0 {
			t.OrganizationID = 0
		} else if _, err := org.GetOrg(ctx, tx, acct, *p.OrganizationID); err != nil {
			v.Bad("organization_id", fmt.Sprintf("organization %d does not exist", *p.OrganizationID))
		} else {
			t.OrganizationID = *p.OrganizationID
		}
	}
	if p.ProblemID != nil && *p.ProblemID != t.ProblemID {
		if *p.ProblemID != 0 && (*p.ProblemID == t.ID || !exists(ctx, tx, acct, *p.ProblemID)) {
			v.Bad("problem_id", fmt.Sprintf("ticket %d does not exist", *p.ProblemID))
		} else {
			t.ProblemID = *p.ProblemID
		}
	}
	if p.DueAt != nil {
		t.DueAt = *p.DueAt
	}
	if p.ScheduleID != nil && *p.ScheduleID != t.ScheduleID {
		var n int
		if *p.ScheduleID != 0 && (tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schedules WHERE account_id = ? AND id = ?`, acct, *p.ScheduleID).Scan(&n) != nil || n == 0) {
			v.Bad("schedule_id", fmt.Sprintf("schedule %d does not exist", *p.ScheduleID))
		} else {
			t.ScheduleID = *p.ScheduleID
		}
	}
	if p.Tags != nil {
		t.Tags = NormalizeTags(*p.Tags)
	}
	if len(p.AddTags) > 0 {
		t.Tags = NormalizeTags(append(append([]string{}, t.Tags...), p.AddTags...))
	}
	if len(p.RemoveTags) > 0 {
		drop := map[string]bool{}
		for _, x := range NormalizeTags(p.RemoveTags) {
			drop[x] = true
		}
		kept := t.Tags[:0:0]
		for _, x := range t.Tags {
			if !drop[x] {
				kept = append(kept, x)
			}
		}
		t.Tags = kept
	}
	if len(p.CustomFields) > 0 {
		if err := ch.applyFields(ctx, p.CustomFields, &v); err != nil {
			return err
		}
	}
	// Drop-down fields and their tags move together, whichever of the two the patch
	// changed (Zendesk's tagger fields).
	if len(p.CustomFields) > 0 || !sameValue(before["tags"], t.Tags) {
		fields, err := ch.ticketFields(ctx)
		if err != nil {
			return err
		}
		syncTaggers(fields, before, t, p.CustomFields)
	}
	if len(t.Tags) > MaxTags {
		v.Add("tags", "TooLong", fmt.Sprintf("a ticket can have at most %d tags", MaxTags))
	}
	for _, tag := range t.Tags {
		if utf8.RuneCountInString(tag) > MaxTagLen {
			v.Add("tags", "TooLong", fmt.Sprintf("tag %.20q... is longer than %d characters", tag, MaxTagLen))
			break
		}
	}
	for _, pair := range []struct {
		field string
		in    *[]ids.User
		out   *[]ids.User
	}{{"collaborator_ids", p.CollaboratorIDs, &t.CollaboratorIDs}, {"follower_ids", p.FollowerIDs, &t.FollowerIDs}, {"email_cc_ids", p.EmailCCIDs, &t.EmailCCIDs}} {
		if pair.in == nil {
			continue
		}
		list := dedupeUsers(*pair.in)
		if len(list) > MaxCCs {
			v.Add(pair.field, "TooLong", fmt.Sprintf("at most %d users", MaxCCs))
			continue
		}
		if len(list) > 0 {
			found, err := identity.GetMany(ctx, tx, acct, list)
			if err != nil {
				return err
			}
			if len(found) != len(list) {
				v.Bad(pair.field, "names a user that does not exist")
				continue
			}
		}
		*pair.out = list
	}
	var inputs []*CommentInput
	if p.Comment != nil {
		inputs = append(inputs, p.Comment)
	}
	inputs = append(inputs, p.MoreComments...)
	for _, in := range inputs {
		c, err := ch.newComment(ctx, in, via, &v)
		if err != nil {
			return err
		}
		if c != nil {
			ch.Comments = append(ch.Comments, c)
			if c.Public {
				t.IsPublic = true
			} else if creating && len(ch.Comments) == 1 {
				t.IsPublic = false
			}
		}
	}
	for _, id := range p.MakePrivate {
		if err := ch.makePrivate(ctx, id, creating); err != nil {
			return err
		}
	}
	if p.Satisfaction != nil {
		ch.applySatisfaction(p.Satisfaction, &v)
	}
	ch.Events = append(ch.Events, p.Events...)
	if err := ch.macroReferences(ctx, p.MacroIDs, via, &v); err != nil {
		return err
	}
	if err := v.Err(); err != nil {
		return err
	}
	ch.stampTimes()
	if creating {
		return nil
	}
	after := eventValues(t)
	for _, k := range eventFields(t) {
		if !sameValue(before[k], after[k]) {
			e := Event{"type": "Change", "field_name": k, "value": after[k], "previous_value": before[k]}
			if via != nil {
				e["via"] = via
			}
			ch.Events = append(ch.Events, e)
		}
	}
	return nil
}

// stale reports whether a ticket updated at updated has changed since stamp, compared
// at the stamp's precision: the API's updated_stamp has whole seconds (as Zendesk's
// JSON; a client may send milliseconds), the agent pages' form carries the stored
// microseconds, so two changes within one second are told apart there.
func stale(updated, stamp time.Time) bool {
	prec := time.Microsecond
	switch ns := stamp.Nanosecond(); {
	case ns == 0:
		prec = time.Second
	case ns%int(time.Millisecond) == 0:
		prec = time.Millisecond
	}
	return !updated.Truncate(prec).Equal(stamp.Truncate(prec))
}

// userOf reports whether id names an active user of the change's account (an agent or
// admin when staff is set). Every user id of a write body goes through it, so another
// account's user, a deleted user or a made-up id is refused, never stored.
func (ch *Change) userOf(ctx context.Context, id ids.User, staff bool) bool {
	u, err := identity.Get(ctx, ch.tx, ch.Account.ID, id)
	return err == nil && u.Active && (!staff || u.Role.IsStaff())
}

// exists reports whether a ticket of the account exists (and is not deleted).
func exists(ctx context.Context, q store.Queryer, acct ids.Account, id ids.Ticket) bool {
	_, err := Get(ctx, q, acct, id)
	return err == nil
}

// makePrivate turns a stored public comment into an internal note (written by persist).
// A comment already private changes nothing, as Zendesk answers make_private twice.
func (ch *Change) makePrivate(ctx context.Context, id ids.Comment, creating bool) error {
	if creating {
		return errs.Invalidf("comment", "InvalidValue", "a new ticket has no comment to make private")
	}
	if slices.ContainsFunc(ch.MadePrivate, func(c *Comment) bool { return c.ID == id }) {
		return nil
	}
	c, err := GetComment(ctx, ch.tx, ch.Account.ID, ch.Ticket.ID, id)
	if err != nil {
		return err
	}
	if !c.Public {
		return nil
	}
	ch.MadePrivate = append(ch.MadePrivate, c)
	ch.Events = append(ch.Events, Event{"type": "CommentPrivacyChange", "comment_id": int64(c.ID), "public": false})
	return nil
}

func (ch *Change) newComment(ctx context.Context, in *CommentInput, via *Via, v *errs.Validation) (*Comment, error) {
	body, htmlIn := in.Body, in.HTMLBody
	if strings.TrimSpace(body) == "" && strings.TrimSpace(htmlIn) == "" {
		v.Blank("comment")
		return nil, nil
	}
	if len(body) > MaxCommentSize || len(htmlIn) > MaxCommentSize {
		v.Add("comment", "TooLong", fmt.Sprintf("is too long (maximum is %d bytes)", MaxCommentSize))
		return nil, nil
	}
	c := &Comment{AccountID: ch.Account.ID, TicketID: ch.Ticket.ID, AuthorID: in.AuthorID, Public: true, UUID: in.UUID, Via: ch.Via, Origin: in.Origin,
		Metadata: in.Origin.commentMetadata(), CreatedAt: in.CreatedAt, Uploads: in.Uploads}
	if via != nil {
		c.Via = *via
	}
	if in.Public != nil {
		c.Public = *in.Public
	}
	if c.AuthorID == 0 {
		c.AuthorID = ch.Actor.UserID
	}
	if c.AuthorID == 0 {
		c.AuthorID = ch.Ticket.RequesterID
	}
	if c.AuthorID != ch.Actor.UserID {
		// Resolved inside the account; a deleted author is allowed (an imported or a
		// partner's comment may be older than the author's account here).
		if _, err := identity.Get(ctx, ch.tx, ch.Account.ID, c.AuthorID); err != nil {
			v.Bad("comment", fmt.Sprintf("author %d does not exist", c.AuthorID))
			return nil, nil
		}
	}
	if htmlIn != "" {
		c.HTMLBody = ch.svc.html.Sanitize(htmlIn)
		c.PlainBody = PlainText(c.HTMLBody)
		c.Body = c.PlainBody
		if body != "" {
			c.Body = body
		}
	} else {
		c.Body = body
		c.PlainBody = body
		c.HTMLBody = TextToHTML(body)
	}
	if c.UUID == "" {
		c.UUID = NewUUID()
	}
	return c, nil
}

func (s *Service) persist(ctx context.Context, ch *Change, now time.Time) error {
	t, tx := ch.Ticket, ch.tx
	if ch.Created {
		if t.CreatedAt.IsZero() {
			t.CreatedAt = now
		}
		t.UpdatedAt = now
		ch.stampActor(now)
		if tx.D() == store.Postgres && ch.rating == nil {
			return ch.insertCreated(ctx)
		}
		if err := insertTicket(ctx, tx, t); err != nil {
			return err
		}
		if err := setTags(ctx, tx, t, nil); err != nil {
			return err
		}
	} else {
		if err := ch.hideComments(ctx); err != nil {
			return err
		}
		t.Version = ch.Before.Version + 1
		t.UpdatedAt = now
		if !t.UpdatedAt.After(ch.Before.UpdatedAt) {
			t.UpdatedAt = ch.Before.UpdatedAt.Add(1000) // keep updated_at strictly increasing
		}
		ch.stampActor(now)
		ch.stampFirstReply(now)
		if err := setTags(ctx, tx, t, ch.Before.Tags); err != nil {
			return err
		}
		// On PostgreSQL the ticket's UPDATE goes out with its audit (saveWithAudit,
		// below): fewer statements while the ticket's row is locked.
		if tx.D() != store.Postgres {
			if err := saveTicket(ctx, tx, t); err != nil {
				return err
			}
		}
	}
	a := ch.newAudit()
	ch.stampComments()
	comments := ch.Comments
	if !ch.Created && tx.D() == store.Postgres {
		// The ticket's UPDATE, its audit and its first comment in one statement.
		var first *Comment
		if len(comments) > 0 {
			first, comments = comments[0], comments[1:]
		}
		if err := saveWithAudit(ctx, tx, t, a, first); err != nil {
			return err
		}
	} else if err := insertAudit(ctx, tx, a); err != nil {
		return err
	}
	ch.Audit = a
	if err := ch.saveRating(ctx, t.UpdatedAt); err != nil {
		return err
	}
	for _, c := range comments {
		c.AuditID = a.ID
		if err := insertComment(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}

// newAudit is the audit of the change, not yet written.
func (ch *Change) newAudit() *Audit {
	t := ch.Ticket
	// Comment events go first, as Zendesk orders them.
	events := make([]Event, 0, len(ch.Events)+len(ch.Comments))
	for _, c := range ch.Comments {
		events = append(events, Event{"type": "Comment", "comment_uuid": c.UUID})
	}
	events = append(events, ch.Events...)
	a := &Audit{AccountID: t.AccountID, TicketID: t.ID, AuthorID: ch.Actor.UserID, Via: ch.Via, Origin: ch.Origin, Metadata: ch.Origin.auditMetadata(), Events: events, CreatedAt: t.UpdatedAt}
	if a.AuthorID == 0 {
		a.AuthorID = -1 // Zendesk's system user
	}
	return a
}

// stampComments gives the change's comments their ticket and, unless set, the ticket's
// update time.
func (ch *Change) stampComments() {
	for _, c := range ch.Comments {
		c.TicketID = ch.Ticket.ID
		if c.CreatedAt.IsZero() {
			c.CreatedAt = ch.Ticket.UpdatedAt
		}
	}
}

// insertCreated writes a new ticket on PostgreSQL: the rows persist writes one by one
// (the ticket, its tags, its audit, the audit's comments), and the live-count
// difference addLive would insert after the hooks, in one statement. None of them
// reads another's result but the comments, which take the audit's id inside the
// statement, so the create's transaction waits for one round trip instead of five.
// The values, the rows' order within each table and the errors are persist's.
func (ch *Change) insertCreated(ctx context.Context) error {
	t := ch.Ticket
	a := ch.newAudit()
	ch.stampComments()
	if err := insertCreated(ctx, ch.tx, t, a, ch.Comments); err != nil {
		return err
	}
	ch.liveAdded = true
	ch.Audit = a
	for _, c := range ch.Comments {
		c.AuditID = a.ID
	}
	return nil
}

// hideComments writes the change's make-private, and keeps is_public (true while any
// comment is public) true to it.
func (ch *Change) hideComments(ctx context.Context) error {
	if len(ch.MadePrivate) == 0 {
		return nil
	}
	t, tx := ch.Ticket, ch.tx
	for _, c := range ch.MadePrivate {
		if _, err := tx.ExecContext(ctx, `UPDATE ticket_comments SET public = FALSE WHERE account_id = ? AND ticket_id = ? AND id = ?`, t.AccountID, t.ID, c.ID); err != nil {
			return fmt.Errorf("ticket: make comment private: %w", err)
		}
	}
	var public bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM ticket_comments WHERE account_id = ? AND ticket_id = ? AND public = TRUE)`, t.AccountID, t.ID).Scan(&public); err != nil {
		return fmt.Errorf("ticket: make comment private: %w", err)
	}
	t.IsPublic = public || slices.ContainsFunc(ch.Comments, func(c *Comment) bool { return c.Public })
	return nil
}

// eventFields lists the audited fields in a stable order, custom fields last.
func eventFields(t *Ticket) []string {
	f := []string{"subject", "status", "type", "priority", "requester_id", "submitter_id", "assignee_id", "group_id", "organization_id", "tags", "due_at", "problem_id", "external_id", "collaborator_ids", "follower_ids", "email_cc_ids", "schedule_id"}
	keys := make([]int64, 0, len(t.CustomFields))
	for k := range t.CustomFields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f = append(f, strconv.FormatInt(k, 10))
	}
	return f
}

// eventValues renders each audited field as Zendesk's events do: strings (IDs too), null
// for unset, arrays for tags.
func eventValues(t *Ticket) map[string]any {
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	id := func(v int64) any {
		if v == 0 {
			return nil
		}
		return strconv.FormatInt(v, 10)
	}
	ulist := func(us []ids.User) any {
		out := make([]string, len(us))
		for i, u := range us {
			out[i] = strconv.FormatInt(int64(u), 10)
		}
		return out
	}
	m := map[string]any{
		"subject":          t.Subject,
		"status":           string(t.Status),
		"type":             str(t.Type),
		"priority":         str(t.Priority),
		"requester_id":     id(int64(t.RequesterID)),
		"submitter_id":     id(int64(t.SubmitterID)),
		"assignee_id":      id(int64(t.AssigneeID)),
		"group_id":         id(int64(t.GroupID)),
		"organization_id":  id(int64(t.OrganizationID)),
		"tags":             append([]string{}, t.Tags...),
		"problem_id":       id(int64(t.ProblemID)),
		"external_id":      str(t.ExternalID),
		"collaborator_ids": ulist(t.CollaboratorIDs),
		"follower_ids":     ulist(t.FollowerIDs),
		"email_cc_ids":     ulist(t.EmailCCIDs),
		"schedule_id":      id(t.ScheduleID),
		"due_at":           nil,
	}
	if !t.DueAt.IsZero() {
		m["due_at"] = t.DueAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	for k, v := range t.CustomFields {
		m[strconv.FormatInt(k, 10)] = v
	}
	return m
}

func sameValue(a, b any) bool {
	if as, ok := a.([]string); ok {
		bs, ok := b.([]string)
		if !ok || len(as) != len(bs) {
			return false
		}
		for i := range as {
			if as[i] != bs[i] {
				return false
			}
		}
		return true
	}
	if _, ok := b.([]string); ok {
		return false
	}
	return a == b
}

// NormalizeTags lowercases tags, splits on whitespace, and drops duplicates and empties.
func NormalizeTags(in []string) []string {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, raw := range in {
		for _, tag := range strings.Fields(strings.ToLower(raw)) {
			tag = strings.Trim(tag, ",")
			if tag == "" || seen[tag] {
				continue
			}
			seen[tag] = true
			out = append(out, tag)
		}
	}
	return out
}

// TextToHTML renders a plain-text comment as Zendesk's html_body does.
func TextToHTML(body string) string {
	var b strings.Builder
	b.WriteString(`<div class="zd-comment" dir="auto">`)
	for _, para := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(para) == "" {
			continue
		}
		b.WriteString(`<p dir="auto">`)
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString(`</p>`)
	}
	b.WriteString(`</div>`)
	return b.String()
}

var stripAll = bluemonday.StrictPolicy()

// PlainText reduces sanitised HTML to text.
func PlainText(h string) string {
	h = strings.NewReplacer("<br>", "\n", "<br/>", "\n", "</p>", "\n\n", "</div>", "\n", "</li>", "\n").Replace(h)
	return strings.TrimSpace(html.UnescapeString(stripAll.Sanitize(h)))
}

// NewUUID returns a 40-character hex identifier (the sharing protocol's form).
func NewUUID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func dedupeUsers(in []ids.User) []ids.User {
	out := make([]ids.User, 0, len(in))
	seen := map[ids.User]bool{}
	for _, u := range in {
		if u != 0 && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

func checkLen(v *errs.Validation, field, s string, max int) {
	if utf8.RuneCountInString(s) > max {
		v.Add(field, "TooLong", fmt.Sprintf("is too long (maximum is %d characters)", max))
	}
}

// stampTimes records when the ticket entered its status and got its assignee, for the
// "hours since" conditions of automations and views. A status or assignee the ticket
// already had before this change keeps its time.
func (ch *Change) stampTimes() {
	t, was := ch.Ticket, ch.Before
	if was == nil {
		was = &Ticket{}
	}
	if t.Status != was.Status {
		now := store.Now()
		switch t.Status {
		case Open:
			t.OpenedAt = now
		case Pending:
			t.PendingAt = now
		case Hold:
			t.HoldAt = now
		case Solved:
			t.SolvedAt = now
		}
	}
	if t.AssigneeID != 0 && t.AssigneeID != was.AssigneeID {
		t.AssignedAt = store.Now()
	}
}

// stampActor records an update made by the ticket's requester or its assignee.
func (ch *Change) stampActor(now time.Time) {
	t, who := ch.Ticket, ch.Actor.UserID
	if who <= 0 {
		return
	}
	if who == t.RequesterID {
		t.RequesterUpdatedAt = now
	}
	if who == t.AssigneeID {
		t.AssigneeUpdatedAt = now
	}
}
