package rules

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// compiled is an active trigger ready to run: its conditions as predicates.
type compiled struct {
	t   *Trigger
	all []pred
	any []pred
	via ticket.Via
}

func compileTrigger(t *Trigger) (*compiled, error) {
	c := &compiled{t: t, via: TriggerVia(t.ID, t.Title)}
	for _, cond := range t.Conditions.All {
		p, err := compileCondition(cond)
		if err != nil {
			return nil, err
		}
		c.all = append(c.all, p)
	}
	for _, cond := range t.Conditions.Any {
		p, err := compileCondition(cond)
		if err != nil {
			return nil, err
		}
		c.any = append(c.any, p)
	}
	return c, nil
}

func (c *compiled) matches(e *eval) bool {
	for _, p := range c.all {
		if !p(e) {
			return false
		}
	}
	if len(c.any) == 0 {
		return true
	}
	for _, p := range c.any {
		if p(e) {
			return true
		}
	}
	return false
}

// TriggerVia is the via of what a trigger does: audit events and comments it adds name
// it as their source, as Zendesk's do.
func TriggerVia(id int64, title string) ticket.Via {
	return ticket.Via{Channel: "rule", ID: ticket.ViaRule, Source: map[string]any{
		"from": map[string]any{"id": id, "title": title, "deleted": false},
		"to":   map[string]any{},
		"rel":  "trigger",
	}}
}

// Run is the ticket service's before-hook: it runs the account's active triggers on the
// change in progress. Triggers are checked in position order; when one fires (its
// actions change something), checking starts again from the top; each trigger fires at
// most once per update. So the run always ends, after at most as many passes as there
// are triggers. Everything the triggers do lands in the change's one audit.
func (s *Service) Run(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	if ch.Before != nil && ch.Before.Status == ticket.Closed {
		return nil // triggers never run on closed tickets
	}
	if ch.Ticket.Deleted() {
		// A deletion is audited and told to partners, but fires no trigger (nor does it in
		// Zendesk): a trigger could only act on a ticket nobody sees any more, or notify
		// its requester (a spammer, often) that it changed.
		return nil
	}
	list, err := s.activeTriggers(ctx, tx, ch.Account.ID)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return nil
	}
	e := newEval(ctx, tx, ch, s)
	fired := make([]bool, len(list))
	for again := true; again; {
		again = false
		for i, c := range list {
			if fired[i] || !c.matches(e) {
				continue
			}
			changed, err := e.fire(c)
			if err != nil {
				return fmt.Errorf("rules: trigger %d: %w", c.t.ID, err)
			}
			if changed {
				fired[i] = true
				again = true
				break
			}
		}
	}
	return e.flushNotifications()
}

// eval is one trigger run: the change, plus facts loaded on first use.
type eval struct {
	ctx context.Context
	tx  *store.Tx
	ch  *ticket.Change
	svc *Service
	now time.Time
	// prev is the ticket before this update (an empty ticket on create).
	prev *ticket.Ticket
	// comments are the comments the update itself adds (not those of triggers).
	comments []*ticket.Comment
	text     *string

	sharesLoaded bool
	shares       []shareRow
	org          *org.Organization // loaded for orgID
	orgID        ids.Org
	req          *identity.User // loaded for reqID
	reqID        ids.User
	fields       []*ticket.Field
	fieldsLoaded bool
	words        map[string]map[string]bool

	notes []pendingNote
	// timed: an automation pass (no update in progress; time conditions read the ticket).
	timed    bool
	reported map[string]bool
	firstAdm ids.User
}

type shareRow struct {
	agreement int64
	in        bool
	state     string
	sharedAt  time.Time
}

// pendingNote is a notification a fired trigger asked for, rendered once the run ends.
type pendingNote struct {
	via       ticket.Via
	group     bool   // notification_group (else notification_user)
	recipient string // as the action names it: requester_id, a user or group id, ...
	subject   string
	body      string
	// webhook is the webhook a notification_webhook action calls ("" for mail).
	webhook string
}

func newEval(ctx context.Context, tx *store.Tx, ch *ticket.Change, svc *Service) *eval {
	e := &eval{ctx: ctx, tx: tx, ch: ch, svc: svc, now: store.Now(), prev: ch.Before, comments: append([]*ticket.Comment(nil), ch.Comments...)}
	if e.prev == nil {
		e.prev = &ticket.Ticket{}
	}
	return e
}

// commentText is the update's own comments, lowercased, for word conditions.
func (e *eval) commentText() string {
	if e.text == nil {
		var b strings.Builder
		for _, c := range e.comments {
			b.WriteString(c.PlainBody)
			b.WriteByte('\n')
		}
		s := strings.ToLower(b.String())
		e.text = &s
	}
	return *e.text
}

// partnerOwed is since when a partner has owed an answer on the ticket (its oldest
// debt on an active outbound share), if it owes one.
func (e *eval) partnerOwed() (time.Time, bool) {
	if e.ch.Created {
		return time.Time{}, false
	}
	var since int64
	err := e.tx.QueryRowContext(e.ctx, `SELECT COALESCE(MIN(owed_since), 0) FROM ticket_shares WHERE account_id = ? AND ticket_id = ? AND direction = 'out' AND state = 'active' AND owed_since > 0`,
		e.ch.Account.ID, e.ch.Ticket.ID).Scan(&since)
	if err != nil || since == 0 {
		return time.Time{}, false
	}
	return store.Time(since), true
}

// lastBreach is when the ticket's SLA targets last ran out, if one has by now.
func (e *eval) lastBreach() (time.Time, bool) {
	if e.ch.Created {
		return time.Time{}, false
	}
	var at int64
	err := e.tx.QueryRowContext(e.ctx, `SELECT COALESCE(MAX(`+breachTime+`), 0) FROM sla_targets s WHERE s.account_id = ? AND s.ticket_id = ? AND `+breachTime+` <= ?`,
		e.ch.Account.ID, e.ch.Ticket.ID, store.Micros(e.now)).Scan(&at)
	if err != nil || at == 0 {
		return time.Time{}, false
	}
	return store.Time(at), true
}

func (e *eval) loadShares() {
	if e.sharesLoaded {
		return
	}
	e.sharesLoaded = true
	if e.ch.Created {
		// A copy arriving from a partner: its share is recorded after the write.
		if o := e.ch.Origin; o != nil && e.ch.Via.ID == ticket.ViaTicketShare {
			e.shares = append(e.shares, shareRow{agreement: o.AgreementID, in: true, state: "active", sharedAt: e.now})
		}
		return
	}
	rows, err := e.tx.QueryContext(e.ctx, `SELECT agreement_id, direction, state, shared_at FROM ticket_shares WHERE account_id = ? AND ticket_id = ?`, e.ch.Account.ID, e.ch.Ticket.ID)
	if err != nil {
		e.svc.log.ErrorContext(e.ctx, "rules: load shares", "err", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var r shareRow
		var dir string
		var at int64
		if err := rows.Scan(&r.agreement, &dir, &r.state, &at); err != nil {
			return
		}
		r.in, r.sharedAt = dir == "in", store.Time(at)
		e.shares = append(e.shares, r)
	}
}

// live reports whether a share in this state counts as shared (sent to / received from).
func live(state string) bool { return state == "active" || state == "failed" }

// liveShares returns the agreements the ticket is shared through (outbound) or received
// from (inbound), counting the shares this very update asks for.
func (e *eval) liveShares(in bool) map[int64]bool {
	e.loadShares()
	out := map[int64]bool{}
	p := e.ch.Patch
	for _, r := range e.shares {
		if r.in == in && live(r.state) && (in || p.SharingAgreementIDs == nil) {
			out[r.agreement] = true
		}
	}
	if !in {
		if p.SharingAgreementIDs != nil {
			for _, id := range *p.SharingAgreementIDs {
				out[id] = true
			}
		}
		requested, _ := e.ch.Sharing()
		for _, id := range requested {
			out[id] = true
		}
	}
	return out
}

func (e *eval) orphaned() bool {
	e.loadShares()
	for _, r := range e.shares {
		if r.in && r.state == "orphaned" {
			return true
		}
	}
	return false
}

// lastShared is when the ticket was last shared or received (ok false if never).
func (e *eval) lastShared() (time.Time, bool) {
	e.loadShares()
	var last time.Time
	ok := false
	for _, r := range e.shares {
		if !ok || r.sharedAt.After(last) {
			last, ok = r.sharedAt, true
		}
	}
	if requested, _ := e.ch.Sharing(); len(requested) > 0 {
		return e.now, true
	}
	return last, ok
}

// organization is the ticket's organization, else the requester's default one (nil if
// neither), loaded once per value.
func (e *eval) organization() *org.Organization {
	id := e.ch.Ticket.OrganizationID
	if id == 0 {
		if u := e.requester(); u != nil {
			id = u.OrganizationID
		}
	}
	if id == 0 {
		return nil
	}
	if e.orgID != id {
		e.orgID = id
		e.org, _ = org.GetOrg(e.ctx, e.tx, e.ch.Account.ID, id)
	}
	return e.org
}

// requester is the ticket's requester, loaded once per value.
func (e *eval) requester() *identity.User {
	id := e.ch.Ticket.RequesterID
	if e.reqID != id {
		e.reqID = id
		e.req, _ = identity.Get(e.ctx, e.tx, e.ch.Account.ID, id)
	}
	return e.req
}

// wordSet returns the words of a text, remembered for the rest of the run.
func (e *eval) wordSet(text string) map[string]bool {
	if w, ok := e.words[text]; ok {
		return w
	}
	if e.words == nil {
		e.words = map[string]map[string]bool{}
	}
	w := wordSet(text)
	e.words[text] = w
	return w
}

// The resolver methods let the action engine check, at run time, what a trigger names.

func (e *eval) groupOK(id ids.Group) bool {
	g, err := org.GetGroup(e.ctx, e.tx, e.ch.Account.ID, id)
	return err == nil && !g.Deleted
}

func (e *eval) agentOK(id ids.User) bool {
	u, err := identity.Get(e.ctx, e.tx, e.ch.Account.ID, id)
	return err == nil && u.Active && u.Role.IsStaff()
}

func (e *eval) ticketField(id int64) *ticket.Field {
	if !e.fieldsLoaded {
		e.fieldsLoaded = true
		e.fields, _ = ticket.Fields(e.ctx, e.tx, e.ch.Account.ID)
	}
	for _, f := range e.fields {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// commentAuthor is who a trigger's comment is written as: the assignee, else the agent
// making the update, else the account's first admin.
func (e *eval) commentAuthor() ids.User {
	t := e.ch.Ticket
	if t.AssigneeID != 0 {
		return t.AssigneeID
	}
	if e.ch.Actor.IsStaff() && e.ch.Actor.UserID > 0 {
		return e.ch.Actor.UserID
	}
	if e.firstAdm == 0 {
		_ = e.tx.QueryRowContext(e.ctx, `SELECT id FROM users WHERE account_id = ? AND role = 'admin' AND active = TRUE ORDER BY id LIMIT 1`, e.ch.Account.ID).Scan(&e.firstAdm)
	}
	return e.firstAdm
}

func (e *eval) renderer() *renderer {
	return &renderer{ctx: e.ctx, q: e.tx, acct: e.ch.Account, t: e.ch.Ticket, actor: e.ch.Actor.UserID, comments: e.ch.Comments, ticketURL: e.svc.cfg.TicketURL, ratingURL: e.svc.cfg.RatingURL}
}

// report records, once per update, that a trigger's action could not be carried out.
func (e *eval) report(c *compiled, msg string) {
	if e.reported == nil {
		e.reported = map[string]bool{}
	}
	key := fmt.Sprintf("%d:%s", c.t.ID, msg)
	if e.reported[key] {
		return
	}
	e.reported[key] = true
	noun := "Trigger"
	if c.via.Source["rel"] == "automation" {
		noun = "Automation"
	}
	e.ch.Events = append(e.ch.Events, ticket.Event{"type": "Error", "message": fmt.Sprintf("%s %q: %s", noun, c.t.Title, msg), "via": c.via})
}

// fire carries out a matching trigger's actions and reports whether they changed
// anything (only then does the trigger count as fired).
func (e *eval) fire(c *compiled) (bool, error) {
	ch := e.ch
	plan := planActions(c.t.Actions, ch.Ticket, ch.Actor.UserID, e)
	for _, msg := range plan.skipped {
		e.report(c, msg)
	}
	changed := false
	if plan.comment != nil {
		r := e.renderer()
		r.t = applyInMemory(ch.Ticket, &plan.patch) // placeholders see the trigger's own changes
		plan.comment.Body, plan.comment.HTMLBody = r.render(plan.comment.Body), r.render(plan.comment.HTMLBody)
		plan.comment.AuthorID = e.commentAuthor()
		plan.patch.Comment = plan.comment
	}
	if !plan.patch.Empty() {
		before := ch.Ticket.Clone()
		nEvents, nComments := len(ch.Events), len(ch.Comments)
		via := c.via
		if err := ch.Apply(e.ctx, &plan.patch, &via); err != nil {
			if !errs.Is(err, errs.Invalid) {
				return false, err
			}
			// The ticket refused the change (a rule written before the data changed):
			// undo it, say why in the audit, and carry on with the other triggers.
			*ch.Ticket = *before
			ch.Events, ch.Comments = ch.Events[:nEvents], ch.Comments[:nComments]
			e.report(c, "could not be applied: "+err.Error())
		} else {
			changed = len(ch.Events) > nEvents || len(ch.Comments) > nComments
		}
	}
	for _, id := range plan.shares {
		if e.share(c, id) {
			changed = true
		}
	}
	for _, n := range plan.notes {
		n.via = c.via
		e.notes = append(e.notes, n)
		changed = true
	}
	return changed, nil
}

// share asks the sharing hook to share the ticket through an agreement, if the plan and
// the agreement allow it now; it reports whether that is a new share.
func (e *eval) share(c *compiled, agreement int64) bool {
	ch := e.ch
	if err := ch.Account.Require(account.TriggerSharing); err != nil {
		e.report(c, "did not share the ticket: "+err.Error())
		return false
	}
	if e.liveShares(false)[agreement] {
		return false // already shared there
	}
	if ch.Ticket.Status == ticket.Closed {
		e.report(c, "did not share the ticket: closed tickets cannot be shared")
		return false
	}
	var dir, status string
	err := e.tx.QueryRowContext(e.ctx, `SELECT direction, status FROM sharing_agreements WHERE account_id = ? AND id = ?`, ch.Account.ID, agreement).Scan(&dir, &status)
	switch {
	case err != nil:
		e.report(c, fmt.Sprintf("did not share the ticket: sharing agreement %d no longer exists", agreement))
		return false
	case dir != "outbound":
		e.report(c, fmt.Sprintf("did not share the ticket: sharing agreement %d is inbound", agreement))
		return false
	case status != "accepted":
		e.report(c, fmt.Sprintf("did not share the ticket: sharing agreement %d is %s, not accepted", agreement, status))
		return false
	}
	ch.ShareWith(agreement)
	return true
}
