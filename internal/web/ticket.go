package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/rules"
	"tandem/internal/satisfaction"
	"tandem/internal/sharing"
	"tandem/internal/ticket"
)

// entry is one item of a ticket's conversation: a comment, or a line saying what
// happened (shared, unshared).
type entry struct {
	Comment *ticket.Comment
	Author  *identity.User
	// Partner names the partner help desk a comment came through ("" for local ones).
	Partner string
	Event   string
	At      time.Time
	// Email links the original email the comment came from (agent page only).
	Email string
	// Files are the comment's attachments (withFiles).
	Files []fileView
}

// ticketData is the agent's ticket page.
type ticketData struct {
	T            *ticket.Ticket
	Requester    *identity.User
	Assignee     *identity.User
	Org          *org.Organization
	Group        *org.Group
	Timeline     []entry
	Badges       []badge
	Sharing      *shareBox
	Agents       []*identity.User
	Groups       []*org.Group
	Orgs         []*org.Organization
	Tags         string
	Macros       []macro
	Comment      string
	Internal     bool
	PublicToPart bool // a public reply on an inbound ticket goes to the partner's requester
	// SLAs are the ticket's SLA targets (issue 18), with the time left.
	SLAs []slaRow
	// Rating is the requester's satisfaction rating (nil: none offered).
	Rating *satisfaction.Rating
	// Form is what the form shows, so a stale submit is told from a fresh one;
	// Conflict is set when a stale submit met a colleague's changes.
	Form     formState
	Conflict *conflictBox
}

// shareBox is the sharing panel: the ticket's shares with their delivery state and the
// partners it may still be shared with.
type shareBox struct {
	TicketID ids.Ticket
	Shares   []shareView
	Options  []*sharing.Agreement
	// Blocked explains why the ticket cannot be shared (plan, no agreement, closed).
	Blocked string
	// Busy is true while a delivery (or a partner file) is under way. The panel does not
	// poll: each recorded attempt is a delivery event on the page's stream, on which
	// live.js fetches the page and swaps the panel.
	Busy bool
	CSRF string
}

// shareView is one share as the panel shows it.
type shareView struct {
	sharing.ShareInfo
	Outbound bool
	Active   bool
	// Delivery is delivered, sending, retrying or failed; Reason says why.
	Delivery string
	Reason   string
	// Owed says how long the partner has owed an answer ("waiting on Globex for 3 h
	// 12 min (promised 4 h)"); OwedLate that it is past its promise.
	Owed     string
	OwedLate bool
}

func (s *Server) shareBox(ctx context.Context, c *call, t *ticket.Ticket) (*shareBox, error) {
	box := &shareBox{TicketID: t.ID, CSRF: c.CSRF}
	info, err := sharing.SharingOf(ctx, s.db.R(), c.Acct.ID, []ids.Ticket{t.ID})
	if err != nil {
		return nil, err
	}
	shared := map[int64]bool{}
	owed, err := sharing.OwedOn(ctx, s.db.R(), c.Acct.ID, t.ID)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	for _, si := range info[t.ID] {
		v := shareView{ShareInfo: si, Outbound: si.Direction == sharing.Outbound, Active: si.State == sharing.ShareActive, Delivery: si.DeliveryNote}
		if o, ok := owed[si.AgreementID]; ok && v.Outbound && v.Active {
			v.Owed, v.OwedLate = owedText(o, now), o.Late(now)
		}
		switch si.DeliveryNote {
		case "retrying":
			v.Reason = si.LastError
			if !si.NextAttempt.IsZero() {
				v.Reason += " — next attempt " + untilText(si.NextAttempt)
			}
			box.Busy = true
		case "sending":
			box.Busy = true
		case sharing.ShareFailed:
			v.Delivery, v.Reason = "failed", si.StateReason
		case sharing.ShareOrphaned, sharing.ShareUnshared:
			v.Reason = si.StateReason
		}
		if si.FilesPending > 0 {
			box.Busy = true // partner files on their way
		}
		if v.Active {
			shared[si.AgreementID] = true
		}
		box.Shares = append(box.Shares, v)
	}
	switch {
	case s.sharing == nil:
		box.Blocked = "Ticket sharing is not enabled on this server."
	case c.Acct.Require(account.TicketSharing) != nil:
		box.Blocked = c.Acct.Require(account.TicketSharing).Error()
	case t.Status == ticket.Closed:
		box.Blocked = "Closed tickets cannot be shared."
	default:
		ags, err := sharing.Agreements(ctx, s.db.R(), c.Acct.ID)
		if err != nil {
			return nil, err
		}
		for _, ag := range ags {
			if ag.Direction == sharing.Outbound && ag.Active() && !shared[ag.ID] {
				box.Options = append(box.Options, ag)
			}
		}
		if len(box.Options) == 0 && len(shared) == 0 {
			box.Blocked = "No partner has accepted a sharing agreement yet."
			if c.IsAdmin() {
				box.Blocked += " Invite one in Admin › Ticket sharing."
			}
		}
	}
	return box, nil
}

func untilText(t time.Time) string {
	d := time.Until(t)
	if d <= time.Second {
		return "now"
	}
	return "in " + d.Round(time.Second).String()
}

func (s *Server) ticketPage(w http.ResponseWriter, r *http.Request, c *call) error {
	t, _, err := s.pathTicket(r, c)
	if err != nil {
		return err
	}
	d, err := s.ticketData(r.Context(), c, t)
	if err != nil {
		return err
	}
	// The agent has now seen the ticket: its unread marker goes (live updates).
	if err := s.live.SawTicket(r.Context(), c.Acct.ID, c.User.ID, t.ID); err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "ticket", page{Title: fmt.Sprintf("#%d %s", t.ID, t.Subject), Area: "agent", Nav: "ticket", Data: d})
}

func (s *Server) ticketData(ctx context.Context, c *call, t *ticket.Ticket) (*ticketData, error) {
	q := s.db.R()
	d := &ticketData{T: t, Tags: strings.Join(t.Tags, " "), Form: formStateOf(t)}
	var err error
	if d.Macros, err = s.macrosFor(ctx, c, t); err != nil {
		return nil, err
	}
	cs, err := comments(ctx, q, c.Acct.ID, t.ID, false)
	if err != nil {
		return nil, err
	}
	uids := []ids.User{t.RequesterID, t.AssigneeID}
	for _, cm := range cs {
		uids = append(uids, cm.AuthorID)
	}
	users, err := usersByID(ctx, q, c.Acct.ID, uids)
	if err != nil {
		return nil, err
	}
	d.Requester, d.Assignee = users[t.RequesterID], users[t.AssigneeID]
	if d.Timeline, err = s.timeline(ctx, c, t, cs, users); err != nil {
		return nil, err
	}
	// Comments that came by email link their original message (inbound mail).
	emailed, err := s.mail.EmailComments(ctx, c.Acct.ID, t.ID)
	if err != nil {
		return nil, err
	}
	for i, e := range d.Timeline {
		if e.Comment != nil && emailed[e.Comment.ID] {
			d.Timeline[i].Email = fmt.Sprintf("/agent/tickets/%d/comments/%d/email", t.ID, e.Comment.ID)
		}
	}
	if err := s.withFiles(ctx, c, d.Timeline); err != nil {
		return nil, err
	}
	if t.OrganizationID != 0 {
		if d.Org, err = org.GetOrg(ctx, q, c.Acct.ID, t.OrganizationID); err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
	}
	if t.GroupID != 0 {
		if d.Group, err = org.GetGroup(ctx, q, c.Acct.ID, t.GroupID); err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
	}
	if d.Sharing, err = s.shareBox(ctx, c, t); err != nil {
		return nil, err
	}
	for _, sh := range d.Sharing.Shares {
		if sh.Active && !sh.Outbound {
			d.PublicToPart = true
		}
	}
	d.Badges = badgesOf(sharingInfos(d.Sharing.Shares))
	if d.Agents, err = staffUsers(ctx, q, c.Acct.ID); err != nil {
		return nil, err
	}
	if d.Groups, err = liveGroups(ctx, q, c.Acct.ID); err != nil {
		return nil, err
	}
	// The organization menu offers the requester's organizations (and the current one).
	oids, err := org.UserOrgIDs(ctx, q, c.Acct.ID, t.RequesterID)
	if err != nil {
		return nil, err
	}
	if t.OrganizationID != 0 && !slices.Contains(oids, t.OrganizationID) {
		oids = append(oids, t.OrganizationID)
	}
	if d.Orgs, err = org.GetOrgs(ctx, q, c.Acct.ID, oids); err != nil {
		return nil, err
	}
	if d.SLAs, err = s.slaRows(ctx, c.Acct.ID, t, time.Now()); err != nil {
		return nil, err
	}
	d.Rating = s.ticketRating(ctx, c, t)
	return d, nil
}

func sharingInfos(v []shareView) []sharing.ShareInfo {
	out := make([]sharing.ShareInfo, len(v))
	for i := range v {
		out[i] = v[i].ShareInfo
	}
	return out
}

// timeline merges the comments with the sharing events of the ticket's audits.
func (s *Server) timeline(ctx context.Context, c *call, t *ticket.Ticket, cs []*ticket.Comment, users map[ids.User]*identity.User) ([]entry, error) {
	as, err := audits(ctx, s.db.R(), c.Acct.ID, t.ID)
	if err != nil {
		return nil, err
	}
	byAudit := map[ids.Audit][]*ticket.Comment{}
	for _, cm := range cs {
		byAudit[cm.AuditID] = append(byAudit[cm.AuditID], cm)
	}
	names := map[int64]string{}
	if s.sharing != nil {
		ags, err := sharing.Agreements(ctx, s.db.R(), c.Acct.ID)
		if err != nil {
			return nil, err
		}
		for _, ag := range ags {
			names[ag.ID] = ag.Name
		}
	}
	var out []entry
	for _, a := range as {
		for _, cm := range byAudit[a.ID] {
			e := entry{Comment: cm, Author: users[cm.AuthorID], At: cm.CreatedAt}
			if cm.Origin != nil {
				e.Partner = cm.Origin.Partner
			}
			out = append(out, e)
		}
		who := "Someone"
		if u := users[a.AuthorID]; u != nil {
			who = u.Name
		} else if a.AuthorID > 0 {
			if u, err := identity.Get(ctx, s.db.R(), c.Acct.ID, a.AuthorID); err == nil {
				who = u.Name
			}
		}
		if a.Origin != nil && a.Origin.Partner != "" {
			who = a.Origin.Partner
		}
		for _, ev := range a.Events {
			if ev["type"] == "EmailDeliveryFailure" { // internal/mail/send: a 5xx from the relay
				out = append(out, entry{Event: fmt.Sprintf("An email could not be delivered to %v: %v", ev["recipient"], ev["reason"]), At: a.CreatedAt})
				continue
			}
			if ev["type"] == "EmailDeliveryDelayed" { // internal/mail/send: a delay report read back
				out = append(out, entry{Event: fmt.Sprintf("Delivery of an email to %v is delayed: %v", ev["recipient"], ev["reason"]), At: a.CreatedAt})
				continue
			}
			if ev["type"] != "TicketSharingEvent" {
				continue
			}
			id, _ := ev["agreement_id"].(float64)
			partner := names[int64(id)]
			if partner == "" {
				partner = "a partner"
			}
			text := ""
			switch ev["action"] {
			case "shared":
				text = who + " shared this ticket with " + partner
				if a.Via.ID == ticket.ViaTicketShare {
					text = partner + " shared this ticket with you"
				}
			case "unshared":
				text = who + " stopped sharing this ticket with " + partner
				if a.Via.ID == ticket.ViaTicketShare {
					text = partner + " stopped sharing this ticket; your copy is kept as an orphan"
				}
			default:
				continue
			}
			out = append(out, entry{Event: text, At: a.CreatedAt})
		}
	}
	return out, nil
}

// sharingBox is the sharing panel alone, which refreshes while a delivery is under way.
func (s *Server) sharingBox(w http.ResponseWriter, r *http.Request, c *call) error {
	t, _, err := s.pathTicket(r, c)
	if err != nil {
		return err
	}
	box, err := s.shareBox(r.Context(), c, t)
	if err != nil {
		return err
	}
	return s.renderBlock(w, c, "ticket", "share-box", box)
}

func viaWeb() *ticket.Via { v := ticket.ViaFor(ticket.ViaWebForm); return &v }

// activeAgreements lists the agreements a ticket is shared through now.
func activeAgreements(ctx context.Context, s *Server, c *call, t ids.Ticket) ([]int64, error) {
	shares, err := sharing.SharesOfTicket(ctx, s.db.R(), c.Acct.ID, t)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, sh := range shares {
		if sh.State == sharing.ShareActive {
			out = append(out, sh.AgreementID)
		}
	}
	return out, nil
}

// shareTicket shares a ticket with a partner: "Share ticket with" in the sharing panel.
func (s *Server) shareTicket(w http.ResponseWriter, r *http.Request, c *call) error {
	t, _, err := s.pathTicket(r, c)
	if err != nil {
		return err
	}
	ag := parseID(r.PostFormValue("agreement_id"))
	if ag == 0 {
		return redirectErr(w, r, ticketURL(t.ID), errs.Invalidf("agreement_id", "BlankValue", "choose the partner to share the ticket with"))
	}
	list, err := activeAgreements(r.Context(), s, c, t.ID)
	if err != nil {
		return err
	}
	if !slices.Contains(list, ag) {
		list = append(list, ag)
	}
	if _, err := s.tickets.Update(r.Context(), c.Acct, c.Actor(), t.ID, &ticket.Patch{SharingAgreementIDs: &list, Via: viaWeb()}); err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.PlanRequired) {
			return redirectErr(w, r, ticketURL(t.ID), err)
		}
		return err
	}
	name := "the partner"
	if a, err := sharing.GetAgreement(r.Context(), s.db.R(), c.Acct.ID, ag); err == nil {
		name = a.Name
	}
	return redirect(w, r, ticketURL(t.ID), fmt.Sprintf("Ticket #%d is shared with %s.", t.ID, name))
}

// unshareTicket stops sharing a ticket through one agreement. The partner keeps its copy.
func (s *Server) unshareTicket(w http.ResponseWriter, r *http.Request, c *call) error {
	t, _, err := s.pathTicket(r, c)
	if err != nil {
		return err
	}
	ag := parseID(r.PostFormValue("agreement_id"))
	list, err := activeAgreements(r.Context(), s, c, t.ID)
	if err != nil {
		return err
	}
	if !slices.Contains(list, ag) {
		return redirectErr(w, r, ticketURL(t.ID), errs.Invalidf("agreement_id", "InvalidValue", "the ticket is not shared through that agreement"))
	}
	list = slices.DeleteFunc(list, func(x int64) bool { return x == ag })
	if _, err := s.tickets.Update(r.Context(), c.Acct, c.Actor(), t.ID, &ticket.Patch{SharingAgreementIDs: &list, Via: viaWeb()}); err != nil {
		if errs.Is(err, errs.Invalid) {
			return redirectErr(w, r, ticketURL(t.ID), err)
		}
		return err
	}
	return redirect(w, r, ticketURL(t.ID), fmt.Sprintf("Ticket #%d is no longer shared. The partner keeps its copy.", t.ID))
}

// newTicketData is the new ticket form.
type newTicketData struct {
	RequesterEmail, RequesterName, Subject, Comment, Tags string
	Priority, Type                                        string
	AssigneeID                                            ids.User
	GroupID                                               ids.Group
	Internal                                              bool
	Agents                                                []*identity.User
	Groups                                                []*org.Group
	Error                                                 string
}

func (s *Server) newTicketForm(w http.ResponseWriter, r *http.Request, c *call) error {
	d := &newTicketData{AssigneeID: c.User.ID}
	return s.renderNewTicket(w, r, c, http.StatusOK, d)
}

func (s *Server) renderNewTicket(w http.ResponseWriter, r *http.Request, c *call, status int, d *newTicketData) error {
	var err error
	if d.Agents, err = staffUsers(r.Context(), s.db.R(), c.Acct.ID); err != nil {
		return err
	}
	if d.Groups, err = liveGroups(r.Context(), s.db.R(), c.Acct.ID); err != nil {
		return err
	}
	return s.render(w, r, c, status, "ticket_new", page{Title: "New ticket", Area: "agent", Nav: "new", Data: d})
}

func (s *Server) createTicket(w http.ResponseWriter, r *http.Request, c *call) error {
	f := r.PostForm
	d := &newTicketData{RequesterEmail: strings.TrimSpace(f.Get("requester_email")), RequesterName: strings.TrimSpace(f.Get("requester_name")),
		Subject: f.Get("subject"), Comment: f.Get("comment"), Tags: f.Get("tags"), Priority: f.Get("priority"), Type: f.Get("type"),
		AssigneeID: ids.User(parseID(f.Get("assignee_id"))), GroupID: ids.Group(parseID(f.Get("group_id"))), Internal: f.Get("visibility") == "internal"}
	public := !d.Internal
	p := &ticket.Patch{Subject: ticket.Ptr(d.Subject), Priority: ticket.Ptr(d.Priority), Type: ticket.Ptr(d.Type), AssigneeID: &d.AssigneeID, GroupID: &d.GroupID,
		Via: viaWeb(), Comment: &ticket.CommentInput{Body: d.Comment, HTMLBody: s.markdownHTML(d.Comment), Public: &public}}
	if strings.TrimSpace(d.Comment) == "" {
		p.Comment.HTMLBody = ""
	}
	if tags := ticket.NormalizeTags(strings.Fields(d.Tags)); len(tags) > 0 {
		p.Tags = &tags
	}
	var v errs.Validation
	if strings.TrimSpace(d.Subject) == "" {
		v.Blank("subject")
	}
	if d.RequesterEmail == "" {
		p.RequesterID = &c.User.ID
	} else if email, ok := identity.NormalizeEmail(d.RequesterEmail); ok {
		p.Requester = &ticket.NewRequester{Name: d.RequesterName, Email: email}
	} else {
		v.Bad("requester", "enter the requester's email address")
	}
	if err := v.Err(); err != nil {
		d.Error = errorText(err)
		return s.renderNewTicket(w, r, c, http.StatusUnprocessableEntity, d)
	}
	res, err := s.tickets.Create(r.Context(), c.Acct, c.Actor(), p)
	if err != nil {
		if errs.Is(err, errs.Invalid) {
			d.Error = errorText(err)
			return s.renderNewTicket(w, r, c, http.StatusUnprocessableEntity, d)
		}
		return err
	}
	return redirect(w, r, ticketURL(res.Ticket.ID), fmt.Sprintf("Ticket #%d created.", res.Ticket.ID))
}

// macro is a canned set of changes an agent applies to the ticket form before submitting
// (the page fills the form; nothing is saved until the agent submits), in the shape the
// page's script reads.
type macro struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Comment    string   `json:"comment,omitempty"`
	Internal   bool     `json:"internal,omitempty"`
	Status     string   `json:"status,omitempty"`
	Priority   string   `json:"priority,omitempty"`
	Type       string   `json:"type,omitempty"`
	AssigneeID int64    `json:"assignee_id,omitempty"`
	GroupID    int64    `json:"group_id,omitempty"`
	AddTags    []string `json:"add_tags,omitempty"`
	SetTags    []string `json:"set_tags,omitempty"`
}

// macrosFor lists the account's active macros the agent may use, each worked out
// against this ticket by the rules package (placeholders filled, tags computed). An
// account without macros gets a few starters.
func (s *Server) macrosFor(ctx context.Context, c *call, t *ticket.Ticket) ([]macro, error) {
	q := s.db.R()
	all, err := rules.Macros(ctx, q, c.Acct.ID)
	if err != nil {
		return nil, err
	}
	aud, err := rules.AudienceOf(ctx, q, c.User)
	if err != nil {
		return nil, err
	}
	var out []macro
	for _, m := range all {
		if !m.Active || !aud.Sees(m.Restriction) {
			continue
		}
		res := rules.ApplyMacro(ctx, q, c.Acct, m, t, c.User.ID, func(a *account.Account, id ids.Ticket) string {
			return baseURL(c.r) + ticketURL(id)
		})
		mc := macro{ID: strconv.FormatInt(m.ID, 10), Title: m.Title}
		p := res.Changes
		if p.Status != nil {
			mc.Status = string(*p.Status)
		}
		if p.Priority != nil {
			mc.Priority = *p.Priority
		}
		if p.Type != nil {
			mc.Type = *p.Type
		}
		if p.AssigneeID != nil {
			mc.AssigneeID = int64(*p.AssigneeID)
		}
		if p.GroupID != nil {
			mc.GroupID = int64(*p.GroupID)
		}
		if res.Ticket != nil && !slices.Equal(res.Ticket.Tags, t.Tags) {
			mc.SetTags = append([]string{}, res.Ticket.Tags...)
		}
		if cm := res.Comment; cm != nil {
			mc.Comment = cm.Body
			if mc.Comment == "" && cm.HTMLBody != "" {
				mc.Comment = ticket.PlainText(s.ugc.Sanitize(cm.HTMLBody))
			}
			mc.Internal = cm.Public != nil && !*cm.Public
		}
		out = append(out, mc)
	}
	if len(all) == 0 {
		return starterMacros, nil
	}
	return out, nil
}

// starterMacros stand in while an account has no macros of its own.
var starterMacros = []macro{
	{ID: "more-info", Title: "Ask for more details", Status: "pending",
		Comment: "Thanks for reaching out. To look into this, could you send us your order number and, if you can, a photo of the problem?"},
	{ID: "solve-thanks", Title: "Close and thank", Status: "solved",
		Comment: "Glad we could sort this out. If anything else comes up, just reply to this message and the ticket reopens."},
	{ID: "escalate", Title: "Escalate to a partner (internal)", Internal: true, Priority: "high", AddTags: []string{"escalated"},
		Comment: "Escalating: the manufacturer needs to look at this. Sharing the ticket with them from the sharing panel."},
	{ID: "urgent", Title: "Mark urgent", Priority: "urgent", AddTags: []string{"urgent"}},
}
