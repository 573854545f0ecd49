package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/rules"
	"tandem/internal/ticket"
)

// The macro editors. Admins manage the account's shared macros in the admin center
// (/admin/macros); every agent manages their personal macros (/agent/macros), which
// only they see and use: Zendesk's restriction {"type": "User", "id": <agent>}, the
// same one the API stores. Actions are the rows of the trigger editor, offered from
// the same registry (rules.Definitions), and validated and stored by the rules
// service; the role rule is the API's (rules.Audience.Edits). A preview applies the
// unsaved macro to a ticket and lists what would change, without writing anything.

// macroScope is the set of macros one editor manages.
type macroScope struct {
	Personal bool
	Base     string // the editor's URL
	Area     string // the page layout: admin center or agent workspace
}

var (
	sharedScope   = macroScope{Base: "/admin/macros", Area: "admin"}
	personalScope = macroScope{Personal: true, Base: "/agent/macros", Area: "agent"}
)

func (s *Server) macroRoutes(mux *http.ServeMux) {
	for _, sc := range []macroScope{sharedScope, personalScope} {
		lvl := admin
		if sc.Personal {
			lvl = staff
		}
		with := func(f func(w http.ResponseWriter, r *http.Request, c *call, sc macroScope) error) http.HandlerFunc {
			return s.page(lvl, func(w http.ResponseWriter, r *http.Request, c *call) error { return f(w, r, c, sc) })
		}
		mux.HandleFunc("GET "+sc.Base, with(s.macrosPage))
		mux.HandleFunc("GET "+sc.Base+"/new", with(s.newMacroForm))
		mux.HandleFunc("POST "+sc.Base, with(s.createMacro))
		mux.HandleFunc("GET "+sc.Base+"/{id}", with(s.macroEditPage))
		mux.HandleFunc("POST "+sc.Base+"/{id}", with(s.saveMacro))
		mux.HandleFunc("POST "+sc.Base+"/{id}/delete", with(s.deleteMacro))
	}
	mux.HandleFunc("POST /agent/macros/from-reply", s.page(staff, s.macroFromReply))
}

// restriction is what a new macro of the scope is restricted to.
func (sc macroScope) restriction(c *call) *rules.Restriction {
	if sc.Personal {
		return &rules.Restriction{Type: "User", ID: int64(c.User.ID)}
	}
	return nil
}

// holds reports whether a macro belongs to the scope for this user: their own
// personal macros, or the account's macros that are not personal.
func (sc macroScope) holds(c *call, m *rules.Macro) bool {
	personal := m.Restriction != nil && m.Restriction.Type == "User"
	if sc.Personal {
		return personal && m.Restriction.ID == int64(c.User.ID)
	}
	return !personal
}

// allow is the role rule of the API: admins edit any macro, agents only their own
// personal ones; and an editor edits only the macros of its scope.
func (sc macroScope) allow(c *call) func(m *rules.Macro) error {
	aud := rules.Audience{User: c.User}
	return func(m *rules.Macro) error {
		if !sc.holds(c, m) || !aud.Edits(m.Restriction) {
			return errs.NotFoundf("macro %d not found", m.ID)
		}
		return nil
	}
}

// macroSummary is a macro as the list reads it back.
type macroSummary struct {
	ID       int64
	Position int64
	Title    string
	Desc     string
	Active   bool
	Group    bool
	Then     []string
}

type macroList struct {
	Scope  macroScope
	Macros []macroSummary
}

func (s *Server) macrosPage(w http.ResponseWriter, r *http.Request, c *call, sc macroScope) error {
	all, err := rules.Macros(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	d := macroList{Scope: sc}
	for _, m := range all {
		if !sc.holds(c, m) {
			continue
		}
		sum := macroSummary{ID: m.ID, Position: m.Position, Title: m.Title, Desc: m.Description, Active: m.Active, Group: m.Restriction != nil}
		for _, a := range m.Actions {
			sum.Then = append(sum.Then, actionText(a))
		}
		d.Macros = append(d.Macros, sum)
	}
	title := "Macros"
	if sc.Personal {
		title = "My macros"
	}
	return s.render(w, r, c, http.StatusOK, "macros", page{Title: title, Area: sc.Area, Nav: "macros", Data: d})
}

// macroForm is the macro editor.
type macroForm struct {
	Scope       macroScope
	ID          int64
	New         bool
	Title       string
	Description string
	Active      bool
	Position    int64
	Actions     []ruleRow
	ActionKinds []option
	Ref         ruleRef
	Error       string
	// Sample is the ticket the preview applies the macro to; Preview what it showed.
	Sample  string
	Preview *macroPreview
}

// macroPreview is what a macro would do to a ticket: nothing is written.
type macroPreview struct {
	TicketID ids.Ticket
	Subject  string
	Changes  []previewChange
	Comment  string
	Internal bool
}

type previewChange struct{ Field, Before, After string }

func (s *Server) macroForm(ctx context.Context, c *call, sc macroScope) (*macroForm, error) {
	f := &macroForm{Scope: sc, Active: true}
	_, acts := rules.Definitions(rules.KindMacro)
	f.ActionKinds = labelled(acts, actionLabels)
	fields, err := ticket.Fields(ctx, s.db.R(), c.Acct.ID)
	if err != nil {
		return nil, err
	}
	f.ActionKinds = append(f.ActionKinds, customFieldActions(fields)...)
	if f.Ref.Groups, err = liveGroups(ctx, s.db.R(), c.Acct.ID); err != nil {
		return nil, err
	}
	if f.Ref.Agents, err = staffUsers(ctx, s.db.R(), c.Acct.ID); err != nil {
		return nil, err
	}
	return f, nil
}

// customFieldActions are the "set a custom field" actions of the account's fields.
func customFieldActions(fields []*ticket.Field) []option {
	var out []option
	for _, fd := range fields {
		if fd.Active {
			out = append(out, option{"custom_fields_" + strconv.FormatInt(fd.ID, 10), "Set " + fd.Title})
		}
	}
	return out
}

func (f *macroForm) fromForm(r *http.Request) {
	p := r.PostForm
	f.Title, f.Description, f.Active = p.Get("title"), p.Get("description"), p.Get("active") == "on"
	f.Position, _ = strconv.ParseInt(strings.TrimSpace(p.Get("position")), 10, 64)
	f.Actions = readRows(r, "act")
	f.Sample = strings.TrimPrefix(strings.TrimSpace(p.Get("sample")), "#")
}

func (f *macroForm) apply(m *rules.Macro) {
	m.Title, m.Description, m.Active, m.Actions = f.Title, f.Description, f.Active, actionsOf(f.Actions)
	if f.Position > 0 {
		m.Position = f.Position
	}
}

func (s *Server) renderMacroForm(w http.ResponseWriter, r *http.Request, c *call, status int, f *macroForm) error {
	f.Actions = append(f.Actions, ruleRow{}, ruleRow{})
	title := f.Title
	if f.New {
		title = "New macro"
	}
	return s.render(w, r, c, status, "macro", page{Title: title, Area: f.Scope.Area, Nav: "macros", Data: f})
}

func (s *Server) newMacroForm(w http.ResponseWriter, r *http.Request, c *call, sc macroScope) error {
	f, err := s.macroForm(r.Context(), c, sc)
	if err != nil {
		return err
	}
	f.New = true
	f.Actions = []ruleRow{{Field: "comment_value"}}
	return s.renderMacroForm(w, r, c, http.StatusOK, f)
}

// previewing reports whether the editor's Preview button sent the form, and if so
// renders the preview instead of saving.
func (s *Server) previewing(w http.ResponseWriter, r *http.Request, c *call, f *macroForm, m *rules.Macro) (bool, error) {
	if r.PostFormValue("preview") == "" {
		return false, nil
	}
	ctx := r.Context()
	if err := rules.ValidateMacro(ctx, s.db.R(), c.Acct, m); err != nil {
		return true, s.macroError(w, r, c, f, err)
	}
	t, err := s.sampleTicket(ctx, c, f.Sample)
	if err != nil {
		return true, s.macroError(w, r, c, f, err)
	}
	f.Sample = strconv.FormatInt(int64(t.ID), 10)
	if f.Preview, err = s.previewMacro(ctx, c, m, t); err != nil {
		return true, err
	}
	return true, s.renderMacroForm(w, r, c, http.StatusOK, f)
}

// sampleTicket is the ticket a preview uses: the one named, or the latest the user sees.
func (s *Server) sampleTicket(ctx context.Context, c *call, number string) (*ticket.Ticket, error) {
	if number != "" {
		id, err := strconv.ParseInt(number, 10, 64)
		if err != nil || id <= 0 {
			return nil, errs.Invalidf("sample", "InvalidValue", "the sample ticket is a ticket number, such as 12")
		}
		t, _, err := ticket.GetVisible(ctx, s.db.R(), c.Acct.ID, c.Actor(), ids.Ticket(id))
		if errs.Is(err, errs.NotFound) {
			return nil, errs.Invalidf("sample", "InvalidValue", "there is no ticket #%d to preview on", id)
		}
		return t, err
	}
	rows, _, err := ticket.List(ctx, s.db.R(), ticket.ListQuery{Account: c.Acct.ID, Viewer: c.Actor(), Size: 1,
		Order: []ticket.SortKey{{Expr: "t.updated_at", Desc: true}, {Expr: "t.id", Desc: true}}})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errs.Invalidf("sample", "InvalidValue", "there is no ticket yet to preview the macro on")
	}
	return rows[0].Ticket, nil
}

// previewMacro works out what the macro would change on t, in words.
func (s *Server) previewMacro(ctx context.Context, c *call, m *rules.Macro, t *ticket.Ticket) (*macroPreview, error) {
	q := s.db.R()
	res := rules.ApplyMacro(ctx, q, c.Acct, m, t, c.User.ID, func(_ *account.Account, id ids.Ticket) string { return baseURL(c.r) + ticketURL(id) })
	pv := &macroPreview{TicketID: t.ID, Subject: t.Subject}
	after := res.Ticket
	name := func(kind string, id int64) string {
		if id == 0 {
			return "(none)"
		}
		switch kind {
		case "user":
			if u, err := identity.Get(ctx, q, c.Acct.ID, ids.User(id)); err == nil {
				return u.Name
			}
		case "group":
			if g, err := org.GetGroup(ctx, q, c.Acct.ID, ids.Group(id)); err == nil {
				return g.Name
			}
		}
		return "#" + strconv.FormatInt(id, 10)
	}
	text := func(v string) string {
		if v == "" {
			return "(none)"
		}
		return titleCase(v)
	}
	for _, ch := range []previewChange{
		{"Status", statusLabel(t.Status), statusLabel(after.Status)},
		{"Priority", text(t.Priority), text(after.Priority)},
		{"Type", text(t.Type), text(after.Type)},
		{"Subject", t.Subject, after.Subject},
		{"Group", name("group", int64(t.GroupID)), name("group", int64(after.GroupID))},
		{"Assignee", name("user", int64(t.AssigneeID)), name("user", int64(after.AssigneeID))},
		{"Tags", strings.Join(t.Tags, " "), strings.Join(after.Tags, " ")},
	} {
		if ch.Before != ch.After {
			pv.Changes = append(pv.Changes, ch)
		}
	}
	fields, err := ticket.Fields(ctx, q, c.Acct.ID)
	if err != nil {
		return nil, err
	}
	for _, fd := range fields {
		b, a := fmt.Sprint(t.CustomFields[fd.ID]), fmt.Sprint(after.CustomFields[fd.ID])
		if b != a {
			pv.Changes = append(pv.Changes, previewChange{fd.Title, strings.ReplaceAll(b, "<nil>", "(none)"), strings.ReplaceAll(a, "<nil>", "(none)")})
		}
	}
	if cm := res.Comment; cm != nil {
		pv.Comment = cm.Body
		if pv.Comment == "" {
			pv.Comment = ticket.PlainText(s.ugc.Sanitize(cm.HTMLBody))
		}
		pv.Internal = cm.Public != nil && !*cm.Public
	}
	return pv, nil
}

func (s *Server) macroError(w http.ResponseWriter, r *http.Request, c *call, f *macroForm, err error) error {
	if errs.Is(err, errs.Invalid) {
		f.Error = errorText(err)
		return s.renderMacroForm(w, r, c, statusOf(err), f)
	}
	return err
}

func (s *Server) createMacro(w http.ResponseWriter, r *http.Request, c *call, sc macroScope) error {
	f, err := s.macroForm(r.Context(), c, sc)
	if err != nil {
		return err
	}
	f.New = true
	f.fromForm(r)
	m := &rules.Macro{Restriction: sc.restriction(c)}
	f.apply(m)
	if done, err := s.previewing(w, r, c, f, m); done {
		return err
	}
	if err := s.rules.CreateMacro(r.Context(), c.Acct, m); err != nil {
		return s.macroError(w, r, c, f, err)
	}
	return redirect(w, r, sc.Base, fmt.Sprintf("Macro “%s” created.", m.Title))
}

// scopedMacro loads a macro the editor may change (or answers not found), and its
// editor.
func (s *Server) scopedMacro(r *http.Request, c *call, sc macroScope) (*rules.Macro, *macroForm, error) {
	m, err := rules.GetMacro(r.Context(), s.db.R(), c.Acct.ID, pathInt(r, "id"))
	if err != nil {
		return nil, nil, err
	}
	if err := sc.allow(c)(m); err != nil {
		return nil, nil, err
	}
	f, err := s.macroForm(r.Context(), c, sc)
	return m, f, err
}

func (s *Server) macroEditPage(w http.ResponseWriter, r *http.Request, c *call, sc macroScope) error {
	m, f, err := s.scopedMacro(r, c, sc)
	if err != nil {
		return err
	}
	f.ID, f.Title, f.Description, f.Active, f.Position, f.Actions = m.ID, m.Title, m.Description, m.Active, m.Position, actionRows(m.Actions)
	return s.renderMacroForm(w, r, c, http.StatusOK, f)
}

func (s *Server) saveMacro(w http.ResponseWriter, r *http.Request, c *call, sc macroScope) error {
	m, f, err := s.scopedMacro(r, c, sc)
	if err != nil {
		return err
	}
	f.ID = m.ID
	f.fromForm(r)
	f.apply(m)
	if done, err := s.previewing(w, r, c, f, m); done {
		return err
	}
	allow := sc.allow(c)
	_, err = s.rules.UpdateMacro(r.Context(), c.Acct, f.ID, func(m *rules.Macro) error {
		if err := allow(m); err != nil {
			return err
		}
		f.apply(m)
		return nil
	})
	if err != nil {
		return s.macroError(w, r, c, f, err)
	}
	return redirect(w, r, sc.Base, fmt.Sprintf("Macro “%s” saved.", f.Title))
}

func (s *Server) deleteMacro(w http.ResponseWriter, r *http.Request, c *call, sc macroScope) error {
	if err := s.rules.DeleteMacros(r.Context(), c.Acct.ID, []int64{pathInt(r, "id")}, sc.allow(c)); err != nil {
		return err
	}
	return redirect(w, r, sc.Base, "Macro deleted.")
}

// macroFromReply saves the reply box of a ticket as a personal macro of the agent:
// "Save as my macro" on the ticket page.
func (s *Server) macroFromReply(w http.ResponseWriter, r *http.Request, c *call) error {
	p := r.PostForm
	back := personalScope.Base
	if id := parseID(p.Get("ticket_id")); id != 0 {
		back = ticketURL(ids.Ticket(id))
	}
	body := strings.TrimSpace(p.Get("comment"))
	title := strings.TrimSpace(p.Get("macro_title"))
	if title == "" {
		title = firstWords(body, 8)
	}
	acts := []rules.Action{{Field: "comment_value", Value: []string{body}}}
	if p.Get("visibility") == "internal" {
		acts = append(acts, rules.Action{Field: "comment_mode_is_public", Value: []string{"false"}})
	}
	m := &rules.Macro{Title: title, Active: true, Actions: acts, Restriction: personalScope.restriction(c)}
	if body == "" {
		return redirectErr(w, r, back, errs.Invalidf("comment", "BlankValue", "write the reply to save as a macro first"))
	}
	if err := s.rules.CreateMacro(r.Context(), c.Acct, m); err != nil {
		if errs.Is(err, errs.Invalid) {
			return redirectErr(w, r, back, err)
		}
		return err
	}
	return redirect(w, r, back, fmt.Sprintf("Saved as your macro “%s”. Only you see it, in the macro menu and under My macros.", m.Title))
}

// firstWords is the start of a text, for a title.
func firstWords(s string, n int) string {
	words := strings.Fields(s)
	if len(words) > n {
		words = append(slices.Clip(words[:n]), "…")
	}
	return strings.Join(words, " ")
}
