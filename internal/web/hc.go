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
	"tandem/internal/kb"
	"tandem/internal/org"
	"tandem/internal/ticket"
	"tandem/internal/ticket/tfield"
)

func (s *Server) hcRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /hc", s.page(anyone, s.hcHome))
	mux.HandleFunc("GET /hc/requests", s.page(signedIn, s.myRequests))
	mux.HandleFunc("GET /hc/requests/organization", s.page(signedIn, s.orgRequests))
	mux.HandleFunc("GET /hc/requests/new", s.page(signedIn, s.newRequestForm))
	mux.HandleFunc("POST /hc/requests", s.page(signedIn, s.createRequest))
	mux.HandleFunc("GET /hc/requests/{id}", s.page(signedIn, s.requestPage))
	mux.HandleFunc("POST /hc/requests/{id}", s.page(signedIn, s.replyRequest))
}

// sharedOrgs lists the organizations of the user whose members see each other's
// requests.
func (s *Server) sharedOrgs(ctx context.Context, c *call) ([]*org.Organization, error) {
	oids, err := org.UserOrgIDs(ctx, s.db.R(), c.Acct.ID, c.User.ID)
	if err != nil {
		return nil, err
	}
	all, err := org.GetOrgs(ctx, s.db.R(), c.Acct.ID, oids)
	if err != nil {
		return nil, err
	}
	var out []*org.Organization
	for _, o := range all {
		if o.SharedTickets {
			out = append(out, o)
		}
	}
	return out, nil
}

type hcHomeData struct {
	SharedOrgs []*org.Organization
	KB         *kbTree // the knowledge base's categories (kb.go)
}

func (s *Server) hcHome(w http.ResponseWriter, r *http.Request, c *call) error {
	d := hcHomeData{}
	var err error
	if d.KB, err = s.kbHomeTree(r.Context(), c); err != nil {
		return err
	}
	if c.User != nil {
		if d.SharedOrgs, err = s.sharedOrgs(r.Context(), c); err != nil {
			return err
		}
	}
	return s.render(w, r, c, http.StatusOK, "hc_home", page{Title: "Help center", Area: "hc", Nav: "home", Data: d})
}

// hcRow is a request in a help center list.
type hcRow struct {
	T         *ticket.Ticket
	Requester *identity.User
}

type requestsData struct {
	Tab        string // mine, organization
	Rows       []hcRow
	Total      int
	Page       int
	Pages      int
	SharedOrgs []*org.Organization
}

// requestList lists the requests matching cond, which is what the user may see there,
// most recently updated first.
func (s *Server) requestList(w http.ResponseWriter, r *http.Request, c *call, tab, cond string, args []any) error {
	ctx := r.Context()
	lq := listQuery{Page: min(max(atoiDefault(r.URL.Query().Get("page"), 1), 1), 10000), PerPage: 25}
	tl := ticket.ListQuery{Account: c.Acct.ID, Unscoped: true, Where: cond, Args: args,
		Order: []ticket.SortKey{{Expr: tfield.ByName("updated_at").Sort, Desc: true}, {Expr: "t.id", Desc: true}},
		Size:  lq.PerPage, Offset: (lq.Page - 1) * lq.PerPage}
	n, err := ticket.CountList(ctx, s.db.R(), tl)
	if err != nil {
		return err
	}
	total := int(n)
	rows, _, err := ticket.List(ctx, s.db.R(), tl)
	if err != nil {
		return err
	}
	list := make([]*ticket.Ticket, len(rows))
	for i, row := range rows {
		list[i] = row.Ticket
	}
	var uids []ids.User
	for _, t := range list {
		uids = append(uids, t.RequesterID)
	}
	users, err := usersByID(ctx, s.db.R(), c.Acct.ID, uids)
	if err != nil {
		return err
	}
	d := requestsData{Tab: tab, Total: total, Page: lq.Page, Pages: max((total+24)/25, 1)}
	for _, t := range list {
		d.Rows = append(d.Rows, hcRow{T: t, Requester: users[t.RequesterID]})
	}
	if d.SharedOrgs, err = s.sharedOrgs(ctx, c); err != nil {
		return err
	}
	title := "My requests"
	if tab == "organization" {
		title = "Organization requests"
	}
	return s.render(w, r, c, http.StatusOK, "hc_requests", page{Title: title, Area: "hc", Nav: "requests", Data: d})
}

func (s *Server) myRequests(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.requestList(w, r, c, "mine", `t.requester_id = ?`, []any{c.User.ID})
}

// orgRequests lists the requests of the user's organizations that share tickets, only.
func (s *Server) orgRequests(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.requestList(w, r, c, "organization", `t.organization_id IN (SELECT m.organization_id FROM organization_memberships m
		JOIN organizations o ON o.account_id = m.account_id AND o.id = m.organization_id WHERE m.account_id = ? AND m.user_id = ? AND o.shared_tickets = TRUE)`,
		[]any{c.Acct.ID, c.User.ID})
}

type newRequestData struct {
	Subject, Description string
	Deflection           string // the form's deflection session (kb.go)
	SharedWith           *org.Organization
	Error                string
}

// defaultSharedOrg is the user's default organization when it shares tickets: where a
// new request will be visible.
func (s *Server) defaultSharedOrg(ctx context.Context, c *call) *org.Organization {
	if c.User.OrganizationID == 0 {
		return nil
	}
	o, err := org.GetOrg(ctx, s.db.R(), c.Acct.ID, c.User.OrganizationID)
	if err != nil || !o.SharedTickets {
		return nil
	}
	return o
}

func (s *Server) newRequestForm(w http.ResponseWriter, r *http.Request, c *call) error {
	d := &newRequestData{SharedWith: s.defaultSharedOrg(r.Context(), c), Deflection: newDeflectionSession()}
	return s.render(w, r, c, http.StatusOK, "hc_new", page{Title: "Submit a request", Area: "hc", Nav: "new", Data: d})
}

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request, c *call) error {
	d := &newRequestData{Subject: r.PostFormValue("subject"), Description: r.PostFormValue("description"), SharedWith: s.defaultSharedOrg(r.Context(), c), Deflection: r.PostFormValue("ds")}
	var v errs.Validation
	if strings.TrimSpace(d.Subject) == "" {
		v.Blank("subject")
	}
	if strings.TrimSpace(d.Description) == "" {
		v.Blank("description")
	}
	err := v.Err()
	var res *ticket.Result
	if err == nil {
		via := ticket.ViaFor(ticket.ViaHelpCenter)
		public := true
		res, err = s.tickets.Create(r.Context(), c.Acct, c.Actor(), &ticket.Patch{Subject: &d.Subject, Via: &via,
			Comment: &ticket.CommentInput{Body: d.Description, HTMLBody: s.markdownHTML(d.Description), Public: &public, Uploads: formUploads(r)}})
	}
	if errs.Is(err, errs.Invalid) {
		d.Error = errorText(err)
		return s.render(w, r, c, http.StatusUnprocessableEntity, "hc_new", page{Title: "Submit a request", Area: "hc", Nav: "new", Data: d})
	}
	if err != nil {
		return err
	}
	// Counted for deflection: this form's session submitted a request (kb.go).
	if err := s.kb.RecordDeflection(r.Context(), c.Acct.ID, d.Deflection, kb.Submitted, 0); err != nil {
		return err
	}
	return redirect(w, r, requestURL(res.Ticket.ID), "Your request was received. We will reply here, on this page.")
}

func requestURL(id ids.Ticket) string { return "/hc/requests/" + strconv.FormatInt(int64(id), 10) }

type requestData struct {
	T         *ticket.Ticket
	Requester *identity.User
	Org       *org.Organization
	// SharedOrg is set when the request is visible to the whole organization.
	SharedOrg *org.Organization
	Timeline  []entry
	Access    ticket.Access
	Mine      bool
	Closed    bool
}

func (s *Server) pathRequest(r *http.Request, c *call) (*ticket.Ticket, ticket.Access, error) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		return nil, ticket.Access{}, errs.NotFoundf("There is no request %q.", r.PathValue("id"))
	}
	return ticket.GetVisible(r.Context(), s.db.R(), c.Acct.ID, c.Actor(), ids.Ticket(n))
}

func (s *Server) requestPage(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	t, acc, err := s.pathRequest(r, c)
	if err != nil {
		return err
	}
	d := &requestData{T: t, Access: acc, Mine: t.RequesterID == c.User.ID, Closed: t.Status == ticket.Closed}
	cs, err := comments(ctx, s.db.R(), c.Acct.ID, t.ID, true)
	if err != nil {
		return err
	}
	uids := []ids.User{t.RequesterID}
	for _, cm := range cs {
		uids = append(uids, cm.AuthorID)
	}
	users, err := usersByID(ctx, s.db.R(), c.Acct.ID, uids)
	if err != nil {
		return err
	}
	d.Requester = users[t.RequesterID]
	for _, cm := range cs {
		d.Timeline = append(d.Timeline, entry{Comment: cm, Author: users[cm.AuthorID], At: cm.CreatedAt})
	}
	if err := s.withFiles(ctx, c, d.Timeline); err != nil {
		return err
	}
	if t.OrganizationID != 0 {
		if o, err := org.GetOrg(ctx, s.db.R(), c.Acct.ID, t.OrganizationID); err == nil {
			d.Org = o
			if o.SharedTickets {
				d.SharedOrg = o
			}
		}
	}
	return s.render(w, r, c, http.StatusOK, "hc_request", page{Title: t.Subject, Area: "hc", Nav: "requests", Data: d})
}

func (s *Server) replyRequest(w http.ResponseWriter, r *http.Request, c *call) error {
	t, acc, err := s.pathRequest(r, c)
	if err != nil {
		return err
	}
	if !acc.Comment {
		return errs.Forbiddenf("You can read this request, but only its requester can reply to it.")
	}
	body := strings.TrimSpace(r.PostFormValue("comment"))
	if body == "" {
		return redirectErr(w, r, requestURL(t.ID), errs.Invalidf("comment", "BlankValue", "cannot be blank"))
	}
	via := ticket.ViaFor(ticket.ViaHelpCenter)
	public := true
	p := &ticket.Patch{Via: &via, Comment: &ticket.CommentInput{Body: body, HTMLBody: s.markdownHTML(body), Public: &public, Uploads: formUploads(r)}}
	if !c.IsStaff() && (t.Status == ticket.Solved || t.Status == ticket.Pending) {
		open := ticket.Open
		p.Status = &open // a reply from the customer reopens the request, as in Zendesk
	}
	if _, err := s.tickets.Update(r.Context(), c.Acct, c.Actor(), t.ID, p); err != nil {
		if errs.Is(err, errs.Invalid) {
			return redirectErr(w, r, requestURL(t.ID), err)
		}
		return err
	}
	return redirect(w, r, requestURL(t.ID), fmt.Sprintf("Your reply was added to request #%d.", t.ID))
}
