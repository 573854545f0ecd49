package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// A stale ticket form never overwrites a colleague's change silently. The agent's form
// carries the ticket's updated_stamp and, for each property, the value it showed
// (was_<name>). On submit only the properties the agent changed are written; one a
// colleague changed too since the form was drawn is a conflict: the rest of the change
// (the reply, the other properties) is saved, and the page shows, for each conflict,
// the agent's value, the colleague's and who made it, with "Apply mine" and "Keep
// theirs". The write itself is guarded by the write path's safe update (Patch.SafeUpdate
// with the stamp just read), the rule the API's safe_update uses, so a change landing
// between the read and the write is caught too.

// formField is one ticket property of the agent's form.
type formField struct {
	Name, Label string
	// get reads the property from a ticket in the form's canonical text.
	get func(t *ticket.Ticket) string
	// canon brings a submitted value to the same text.
	canon func(v string) string
	// set writes a canonical value into a patch.
	set func(p *ticket.Patch, v string)
}

func idText(id int64) string { return strconv.FormatInt(id, 10) }

func canonID(v string) string { return idText(parseID(v)) }

func canonTags(v string) string { return strings.Join(ticket.NormalizeTags(strings.Fields(v)), " ") }

func plainText(v string) string { return strings.TrimSpace(v) }

// ticketFormFields are the properties the agent's ticket form edits, in page order.
var ticketFormFields = []formField{
	{"status", "Status", func(t *ticket.Ticket) string { return string(t.Status) }, plainText,
		func(p *ticket.Patch, v string) { p.Status = ticket.Ptr(ticket.Status(v)) }},
	{"assignee_id", "Assignee", func(t *ticket.Ticket) string { return idText(int64(t.AssigneeID)) }, canonID,
		func(p *ticket.Patch, v string) { p.AssigneeID = ticket.Ptr(ids.User(parseID(v))) }},
	{"group_id", "Group", func(t *ticket.Ticket) string { return idText(int64(t.GroupID)) }, canonID,
		func(p *ticket.Patch, v string) { p.GroupID = ticket.Ptr(ids.Group(parseID(v))) }},
	{"organization_id", "Organization", func(t *ticket.Ticket) string { return idText(int64(t.OrganizationID)) }, canonID,
		func(p *ticket.Patch, v string) { p.OrganizationID = ticket.Ptr(ids.Org(parseID(v))) }},
	{"type", "Type", func(t *ticket.Ticket) string { return t.Type }, plainText,
		func(p *ticket.Patch, v string) { p.Type = ticket.Ptr(v) }},
	{"priority", "Priority", func(t *ticket.Ticket) string { return t.Priority }, plainText,
		func(p *ticket.Patch, v string) { p.Priority = ticket.Ptr(v) }},
	{"tags", "Tags", func(t *ticket.Ticket) string { return strings.Join(t.Tags, " ") }, canonTags,
		func(p *ticket.Patch, v string) { tags := strings.Fields(v); p.Tags = &tags }},
}

// formState is what the form showed: the stamp and each property's value.
type formState struct {
	Stamp int64
	Was   []formValue
}

type formValue struct{ Name, Value string }

func formStateOf(t *ticket.Ticket) formState {
	st := formState{Stamp: store.Micros(t.UpdatedAt)}
	for _, ff := range ticketFormFields {
		st.Was = append(st.Was, formValue{ff.Name, ff.get(t)})
	}
	return st
}

// conflict is one property both the agent and a colleague changed.
type conflict struct {
	Name, Label  string
	Mine, Theirs string // canonical values
	// MineText and TheirsText are the values in words; By names who changed it.
	MineText, TheirsText, By string
}

// conflictBox is the panel shown when a stale form met a colleague's changes.
type conflictBox struct {
	TicketID ids.Ticket
	Saved    string
	Items    []conflict
	State    formState
	CSRF     string
}

// formPatch builds the change a submitted form asks for against the ticket as it is
// now: only properties the agent changed (the submitted value differs from the value
// the form showed, or the form predates was_ values), and none a colleague changed
// too since (returned as conflicts).
func formPatch(f map[string][]string, t *ticket.Ticket) (*ticket.Patch, []conflict) {
	get := func(k string) (string, bool) {
		v, ok := f[k]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	p := &ticket.Patch{Via: viaWeb()}
	var out []conflict
	for _, ff := range ticketFormFields {
		raw, ok := get(ff.Name)
		if !ok {
			continue
		}
		mine, theirs := ff.canon(raw), ff.get(t)
		if mine == theirs {
			continue
		}
		if wasRaw, ok := get("was_" + ff.Name); ok {
			was := ff.canon(wasRaw)
			if mine == was {
				continue // the agent left it alone: a colleague's value stays
			}
			if was != theirs {
				out = append(out, conflict{Name: ff.Name, Label: ff.Label, Mine: mine, Theirs: theirs})
				continue
			}
		}
		ff.set(p, mine)
	}
	return p, out
}

// updateTicket applies the properties panel and the reply box: one change through the
// ticket service, the one write path, without overwriting a colleague's change.
func (s *Server) updateTicket(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	f := r.PostForm
	var comment *ticket.CommentInput
	if body := strings.TrimSpace(f.Get("comment")); body != "" {
		public := f.Get("visibility") != "internal"
		comment = &ticket.CommentInput{Body: body, HTMLBody: s.markdownHTML(body), Public: &public, Uploads: formUploads(r)}
	}
	// A change landing between the read and the write is refused by the safe update;
	// read again and work the change out anew.
	for attempt := 0; ; attempt++ {
		t, _, err := s.pathTicket(r, c)
		if err != nil {
			return err
		}
		p, conflicts := formPatch(f, t)
		p.Comment, p.SafeUpdate, p.UpdatedStamp = comment, true, t.UpdatedAt
		// The macros the agent applied in the page (its script adds one macro_ids per
		// macro): recorded as AgentMacroReference events, what suggested macros learn.
		for _, m := range f["macro_ids"] {
			if id := parseID(m); id > 0 {
				p.MacroIDs = append(p.MacroIDs, id)
			}
		}
		res := &ticket.Result{Ticket: t}
		if !p.Empty() {
			res, err = s.tickets.Update(ctx, c.Acct, c.Actor(), t.ID, p)
		}
		switch {
		case errs.Is(err, errs.Conflict) && attempt < 3:
			continue
		case errs.Is(err, errs.Invalid) || errs.Is(err, errs.PlanRequired):
			return redirectErr(w, r, ticketURL(t.ID), err)
		case err != nil:
			return err
		}
		if len(conflicts) == 0 {
			return redirect(w, r, ticketURL(t.ID), fmt.Sprintf("Ticket #%d updated.", t.ID))
		}
		stamp, _ := strconv.ParseInt(f.Get("updated_stamp"), 10, 64)
		box, err := s.conflictBox(ctx, c, res.Ticket, stamp, conflicts, !p.Empty())
		if err != nil {
			return err
		}
		d, err := s.ticketData(ctx, c, res.Ticket)
		if err != nil {
			return err
		}
		d.Conflict = box
		return s.render(w, r, c, http.StatusConflict, "ticket", page{Title: fmt.Sprintf("#%d %s", res.Ticket.ID, res.Ticket.Subject), Area: "agent", Nav: "ticket", Data: d})
	}
}

// conflictBox words the conflicts: values by name, and who changed each since stamp.
func (s *Server) conflictBox(ctx context.Context, c *call, t *ticket.Ticket, stamp int64, cs []conflict, saved bool) (*conflictBox, error) {
	box := &conflictBox{TicketID: t.ID, Items: cs, State: formStateOf(t), CSRF: c.CSRF}
	if saved {
		box.Saved = "The rest of your update was saved."
	}
	as, err := audits(ctx, s.db.R(), c.Acct.ID, t.ID)
	if err != nil {
		return nil, err
	}
	for i := range cs {
		cf := &cs[i]
		cf.By = "A colleague"
		for _, a := range as {
			if store.Micros(a.CreatedAt) <= stamp {
				continue
			}
			for _, ev := range a.Events {
				if ev["type"] == "Change" && ev["field_name"] == cf.Name {
					cf.By = s.authorName(ctx, c, a)
				}
			}
		}
		cf.MineText, cf.TheirsText = s.valueText(ctx, c, cf.Name, cf.Mine), s.valueText(ctx, c, cf.Name, cf.Theirs)
	}
	return box, nil
}

// authorName names who made an audit: a user, a partner help desk or the system.
func (s *Server) authorName(ctx context.Context, c *call, a *ticket.Audit) string {
	if a.Origin != nil && a.Origin.Partner != "" {
		return a.Origin.Partner
	}
	if a.AuthorID > 0 {
		if u, err := identity.Get(ctx, s.db.R(), c.Acct.ID, a.AuthorID); err == nil {
			return u.Name
		}
	}
	if a.Via.ID == ticket.ViaRule {
		return "A trigger"
	}
	return "A colleague"
}

// valueText shows a form value in words: people, groups and organizations by name.
func (s *Server) valueText(ctx context.Context, c *call, name, v string) string {
	id := parseID(v)
	q := s.db.R()
	switch {
	case v == "" || (strings.HasSuffix(name, "_id") && id == 0):
		return "(none)"
	case name == "status":
		return statusLabel(ticket.Status(v))
	case name == "assignee_id":
		if u, err := identity.Get(ctx, q, c.Acct.ID, ids.User(id)); err == nil {
			return u.Name
		}
	case name == "group_id":
		if g, err := org.GetGroup(ctx, q, c.Acct.ID, ids.Group(id)); err == nil {
			return g.Name
		}
	case name == "organization_id":
		if o, err := org.GetOrg(ctx, q, c.Acct.ID, ids.Org(id)); err == nil {
			return o.Name
		}
	case name == "type" || name == "priority":
		return titleCase(v)
	}
	return v
}
