package web

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/mail/send"
	"tandem/internal/org"
	"tandem/internal/people"
	"tandem/internal/store"
)

func (s *Server) peopleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/organizations", s.page(admin, s.orgsPage))
	mux.HandleFunc("GET /admin/organizations/new", s.page(admin, s.newOrgForm))
	mux.HandleFunc("POST /admin/organizations", s.page(admin, s.createOrg))
	mux.HandleFunc("GET /admin/organizations/{id}", s.page(admin, s.orgPage))
	mux.HandleFunc("POST /admin/organizations/{id}", s.page(admin, s.saveOrg))
	mux.HandleFunc("POST /admin/organizations/{id}/delete", s.page(admin, s.deleteOrg))
	mux.HandleFunc("POST /admin/organizations/{id}/members", s.page(admin, s.addOrgMember))
	mux.HandleFunc("POST /admin/organizations/{id}/members/{uid}/remove", s.page(admin, s.removeOrgMember))

	mux.HandleFunc("GET /admin/users", s.page(admin, s.usersPage))
	mux.HandleFunc("GET /admin/users/new", s.page(admin, s.newUserForm))
	mux.HandleFunc("POST /admin/users", s.page(admin, s.createUser))
	mux.HandleFunc("GET /admin/users/import", s.page(admin, s.importForm))
	mux.HandleFunc("POST /admin/users/import", s.page(admin, s.startImport))
	mux.HandleFunc("GET /admin/users/import/{job}", s.page(admin, s.importStatus))
	mux.HandleFunc("GET /admin/users/import/{job}/report.csv", s.page(admin, s.importReport))
	mux.HandleFunc("GET /admin/users/{id}", s.page(admin, s.userPage))
	mux.HandleFunc("POST /admin/users/{id}", s.page(admin, s.saveUser))
	mux.HandleFunc("POST /admin/users/{id}/organizations", s.page(admin, s.addUserOrg))
	mux.HandleFunc("POST /admin/users/{id}/organizations/{oid}/remove", s.page(admin, s.removeUserOrg))
	mux.HandleFunc("POST /admin/users/{id}/groups", s.page(admin, s.addUserGroup))
	mux.HandleFunc("POST /admin/users/{id}/groups/{gid}/remove", s.page(admin, s.removeUserGroup))
	mux.HandleFunc("POST /admin/users/{id}/tokens", s.page(admin, s.createToken))
	mux.HandleFunc("POST /admin/users/{id}/mail-bounce/clear", s.page(admin, s.clearUserBounce))
	mux.HandleFunc("POST /admin/users/{id}/tokens/{tid}/delete", s.page(admin, s.deleteToken))

	mux.HandleFunc("GET /admin/groups", s.page(admin, s.groupsPage))
	mux.HandleFunc("POST /admin/groups", s.page(admin, s.createGroup))
	mux.HandleFunc("GET /admin/groups/{id}", s.page(admin, s.groupPage))
	mux.HandleFunc("POST /admin/groups/{id}", s.page(admin, s.saveGroup))
	mux.HandleFunc("POST /admin/groups/{id}/delete", s.page(admin, s.deleteGroup))
	mux.HandleFunc("POST /admin/groups/{id}/members", s.page(admin, s.addGroupMember))
	mux.HandleFunc("POST /admin/groups/{id}/members/{uid}/remove", s.page(admin, s.removeGroupMember))
}

func pathInt(r *http.Request, name string) int64 {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// write runs f in a write transaction.
func (s *Server) write(ctx context.Context, f func(tx *store.Tx) error) error {
	return s.db.Write(ctx, f)
}

// splitList splits a list typed in one field, on commas and white space.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// Organizations.

type orgRow struct {
	*org.Organization
	Members int
}

type orgsData struct {
	Rows  []orgRow
	Total int
	Page  int
	Pages int
}

func (s *Server) orgsPage(w http.ResponseWriter, r *http.Request, c *call) error {
	pg := max(atoiDefault(r.URL.Query().Get("page"), 1), 1)
	list, total, err := listOrgs(r.Context(), s.db.R(), c.Acct.ID, 50, (pg-1)*50)
	if err != nil {
		return err
	}
	counts, err := orgMemberCounts(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	d := orgsData{Total: total, Page: pg, Pages: max((total+49)/50, 1)}
	for _, o := range list {
		d.Rows = append(d.Rows, orgRow{Organization: o, Members: counts[o.ID]})
	}
	return s.render(w, r, c, http.StatusOK, "admin_orgs", page{Title: "Organizations", Area: "admin", Nav: "orgs", Data: d})
}

type orgData struct {
	O       *org.Organization
	Domains string
	Tags    string
	Groups  []*org.Group
	Members []*identity.User
	New     bool
	Error   string
}

func (s *Server) newOrgForm(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.renderOrg(w, r, c, http.StatusOK, &orgData{O: &org.Organization{}, New: true})
}

func (s *Server) renderOrg(w http.ResponseWriter, r *http.Request, c *call, status int, d *orgData) error {
	var err error
	if d.Groups, err = liveGroups(r.Context(), s.db.R(), c.Acct.ID); err != nil {
		return err
	}
	if !d.New {
		if d.Members, err = orgMembers(r.Context(), s.db.R(), c.Acct.ID, d.O.ID); err != nil {
			return err
		}
	}
	if d.Domains == "" {
		d.Domains = strings.Join(d.O.DomainNames, ", ")
	}
	if d.Tags == "" {
		d.Tags = strings.Join(d.O.Tags, " ")
	}
	title := d.O.Name
	if d.New {
		title = "New organization"
	}
	return s.render(w, r, c, status, "admin_org", page{Title: title, Area: "admin", Nav: "orgs", Data: d})
}

// orgFromForm applies the organization form to o.
func orgFromForm(r *http.Request, o *org.Organization) {
	f := r.PostForm
	o.Name = f.Get("name")
	o.DomainNames = splitList(f.Get("domains"))
	o.Tags = splitList(f.Get("tags"))
	o.Details, o.Notes = f.Get("details"), f.Get("notes")
	o.GroupID = ids.Group(parseID(f.Get("group_id")))
	o.SharedTickets = f.Get("shared_tickets") == "on"
	o.SharedComments = f.Get("shared_comments") == "on"
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request, c *call) error {
	o := &org.Organization{AccountID: c.Acct.ID}
	orgFromForm(r, o)
	err := s.write(r.Context(), func(tx *store.Tx) error {
		res, err := people.WriteOrg(r.Context(), tx, c.Acct, c.actor(), &people.OrgChange{Org: o})
		if err == nil {
			o = res.Org
		}
		return err
	})
	if errs.Is(err, errs.Invalid) {
		return s.renderOrg(w, r, c, http.StatusUnprocessableEntity, &orgData{O: o, New: true, Domains: r.PostFormValue("domains"), Error: errorText(err)})
	}
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/admin/organizations/%d", o.ID), fmt.Sprintf("Organization %s created.", o.Name))
}

func (s *Server) pathOrg(r *http.Request, c *call) (*org.Organization, error) {
	return org.GetOrg(r.Context(), s.db.R(), c.Acct.ID, ids.Org(pathInt(r, "id")))
}

func (s *Server) orgPage(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := s.pathOrg(r, c)
	if err != nil {
		return err
	}
	return s.renderOrg(w, r, c, http.StatusOK, &orgData{O: o})
}

func (s *Server) saveOrg(w http.ResponseWriter, r *http.Request, c *call) error {
	before, err := s.pathOrg(r, c)
	if err != nil {
		return err
	}
	o := *before
	o.Fields = maps.Clone(before.Fields)
	orgFromForm(r, &o)
	err = s.write(r.Context(), func(tx *store.Tx) error {
		_, err := people.WriteOrg(r.Context(), tx, c.Acct, c.actor(), &people.OrgChange{Before: before, Org: &o})
		return err
	})
	if errs.Is(err, errs.Invalid) {
		return s.renderOrg(w, r, c, http.StatusUnprocessableEntity, &orgData{O: &o, Domains: r.PostFormValue("domains"), Error: errorText(err)})
	}
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/admin/organizations/%d", o.ID), "Organization saved.")
}

func (s *Server) deleteOrg(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := s.pathOrg(r, c)
	if err != nil {
		return err
	}
	if err := s.write(r.Context(), func(tx *store.Tx) error { return people.DeleteOrg(r.Context(), tx, c.Acct, c.actor(), o.ID) }); err != nil {
		return err
	}
	return redirect(w, r, "/admin/organizations", fmt.Sprintf("Organization %s deleted.", o.Name))
}

func (s *Server) addOrgMember(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := s.pathOrg(r, c)
	if err != nil {
		return err
	}
	back := fmt.Sprintf("/admin/organizations/%d", o.ID)
	email := r.PostFormValue("email")
	err = s.write(r.Context(), func(tx *store.Tx) error {
		u, err := identity.ByEmail(r.Context(), tx, c.Acct.ID, email)
		if err != nil {
			return errs.Invalidf("email", "InvalidValue", "no user has the email address %s", strings.TrimSpace(email))
		}
		_, err = people.AddMembership(r.Context(), tx, c.Acct, c.actor(), u.ID, o.ID, false)
		return err
	})
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.PlanRequired) {
		return redirectErr(w, r, back, err)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, back, "Member added.")
}

func (s *Server) removeOrgMember(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := s.pathOrg(r, c)
	if err != nil {
		return err
	}
	if err := s.removeMembership(r.Context(), c, ids.User(pathInt(r, "uid")), o.ID); err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/admin/organizations/%d", o.ID), "Member removed.")
}

func (s *Server) removeMembership(ctx context.Context, c *call, user ids.User, o ids.Org) error {
	return s.write(ctx, func(tx *store.Tx) error {
		m, err := org.FindMembership(ctx, tx, c.Acct.ID, user, o)
		if err != nil {
			return err
		}
		return people.RemoveMembership(ctx, tx, c.Acct, c.actor(), m.ID)
	})
}

// Users.

type usersData struct {
	Users []*identity.User
	Role  string
	Query string
	Total int
	Page  int
	Pages int
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	role := q.Get("role")
	if !identity.Role(role).Valid() {
		role = ""
	}
	pg := max(atoiDefault(q.Get("page"), 1), 1)
	list, total, err := listUsers(r.Context(), s.db.R(), c.Acct.ID, role, q.Get("q"), 50, (pg-1)*50)
	if err != nil {
		return err
	}
	d := usersData{Users: list, Role: role, Query: q.Get("q"), Total: total, Page: pg, Pages: max((total+49)/50, 1)}
	return s.render(w, r, c, http.StatusOK, "admin_users", page{Title: "Users", Area: "admin", Nav: "users", Data: d})
}

type userData struct {
	U          *identity.User
	New        bool
	Orgs       []*org.Organization
	AllOrgs    []*org.Organization
	Groups     []*org.Group
	UserGroups []*org.Group
	Tokens     []*identity.Token
	NewToken   string
	Error      string
	MultiOrgs  bool
	// Events are the latest role, suspension and membership changes, with the names
	// of who made them.
	Events      []*people.Event
	EventActors map[ids.User]string
	// Bounce is set when mail to the user's address bounced for good (outbound
	// mail holds it until cleared).
	Bounce *send.Bouncing
}

func (s *Server) newUserForm(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.renderUser(w, r, c, http.StatusOK, &userData{U: &identity.User{Role: identity.EndUser}, New: true})
}

func (s *Server) renderUser(w http.ResponseWriter, r *http.Request, c *call, status int, d *userData) error {
	ctx, q := r.Context(), s.db.R()
	var err error
	d.MultiOrgs = c.Acct.Plan.Allows(account.MultipleOrgs)
	if d.AllOrgs, _, err = listOrgs(ctx, q, c.Acct.ID, 300, 0); err != nil {
		return err
	}
	if d.Groups, err = liveGroups(ctx, q, c.Acct.ID); err != nil {
		return err
	}
	if !d.New {
		oids, err := org.UserOrgIDs(ctx, q, c.Acct.ID, d.U.ID)
		if err != nil {
			return err
		}
		if d.Orgs, err = org.GetOrgs(ctx, q, c.Acct.ID, oids); err != nil {
			return err
		}
		ms, err := org.UserGroupMemberships(ctx, q, c.Acct.ID, d.U.ID)
		if err != nil {
			return err
		}
		gids := make([]ids.Group, 0, len(ms))
		for _, m := range ms {
			gids = append(gids, m.GroupID)
		}
		if d.UserGroups, err = org.GetGroups(ctx, q, c.Acct.ID, gids); err != nil {
			return err
		}
		if d.Tokens, err = userTokens(ctx, q, c.Acct.ID, d.U.ID); err != nil {
			return err
		}
		if d.Events, d.EventActors, err = userHistory(ctx, q, c.Acct.ID, d.U.ID); err != nil {
			return err
		}
		if d.U.Email != "" {
			b, ok, err := send.BouncingAddress(ctx, q, c.Acct.ID, d.U.Email)
			if err != nil {
				return err
			}
			if ok {
				d.Bounce = &b
			}
		}
	}
	title := d.U.Name
	if d.New {
		title = "New user"
	}
	return s.render(w, r, c, status, "admin_user", page{Title: title, Area: "admin", Nav: "users", Data: d})
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, c *call) error {
	f := r.PostForm
	email, _ := identity.NormalizeEmail(f.Get("email"))
	u := &identity.User{AccountID: c.Acct.ID, Name: strings.TrimSpace(f.Get("name")), Email: email, Role: identity.Role(f.Get("role")), Verified: true}
	if email == "" && strings.TrimSpace(f.Get("email")) != "" {
		u.Email = strings.TrimSpace(f.Get("email")) // Validate names the problem
	}
	ch := &people.UserChange{User: u, Password: f.Get("password")}
	if oid := ids.Org(parseID(f.Get("organization_id"))); oid != 0 {
		ch.Organizations = []ids.Org{oid}
	}
	ctx := r.Context()
	err := s.write(ctx, func(tx *store.Tx) error {
		if u.Email == "" {
			// The admin center creates people who sign in; the API may create users
			// without an address.
			return errs.Invalidf("email", "BlankValue", "cannot be blank: people sign in with it")
		}
		res, err := people.WriteUser(ctx, tx, c.Acct, c.actor(), ch)
		if err != nil || ch.Password != "" || s.signups == nil {
			return err
		}
		// No password given: the welcome mail links to choosing one (internal/signup).
		return s.signups.SendWelcome(ctx, tx, c.Acct, res.User)
	})
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.PlanRequired) {
		return s.renderUser(w, r, c, http.StatusUnprocessableEntity, &userData{U: u, New: true, Error: errorText(err)})
	}
	if err != nil {
		return err
	}
	if ch.Password == "" && s.signups != nil {
		return redirect(w, r, fmt.Sprintf("/admin/users/%d", u.ID), fmt.Sprintf("We mailed %s a welcome link to choose a password.", u.Name))
	}
	return redirect(w, r, fmt.Sprintf("/admin/users/%d", u.ID), fmt.Sprintf("%s can now sign in at %s/login.", u.Name, baseURL(r)))
}

func (s *Server) pathUser(r *http.Request, c *call) (*identity.User, error) {
	u, err := identity.Get(r.Context(), s.db.R(), c.Acct.ID, ids.User(pathInt(r, "id")))
	if err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, errs.NotFoundf("user %d was deleted", u.ID)
	}
	return u, nil
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.pathUser(r, c)
	if err != nil {
		return err
	}
	return s.renderUser(w, r, c, http.StatusOK, &userData{U: u})
}

// clearUserBounce clears the user's address from the bouncing addresses and sends the
// mail held for it.
func (s *Server) clearUserBounce(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.pathUser(r, c)
	if err != nil {
		return err
	}
	if s.mailOut == nil || u.Email == "" {
		return errs.NotFoundf("no outgoing mail here")
	}
	if _, err := s.mailOut.ClearBounce(r.Context(), c.Acct.ID, u.Email); err != nil {
		return err
	}
	return redirect(w, r, userURL(u.ID), fmt.Sprintf("Mail to %s is sent again; the mail held for it is released.", u.Email))
}

func userURL(id ids.User) string { return fmt.Sprintf("/admin/users/%d", id) }

func (s *Server) saveUser(w http.ResponseWriter, r *http.Request, c *call) error {
	before, err := s.pathUser(r, c)
	if err != nil {
		return err
	}
	u := *before
	f := r.PostForm
	u.Name = strings.TrimSpace(f.Get("name"))
	if email, ok := identity.NormalizeEmail(f.Get("email")); ok {
		u.Email = email
	} else {
		u.Email = strings.TrimSpace(f.Get("email"))
	}
	u.Role = identity.Role(f.Get("role"))
	u.Suspended = f.Get("suspended") == "on"
	u.TicketRestriction = f.Get("ticket_restriction")
	ctx := r.Context()
	err = s.write(ctx, func(tx *store.Tx) error {
		_, err := people.WriteUser(ctx, tx, c.Acct, c.actor(), &people.UserChange{Before: before, User: &u, Password: f.Get("password")})
		return err
	})
	if errs.Is(err, errs.Forbidden) {
		return s.renderUser(w, r, c, http.StatusForbidden, &userData{U: &u, Error: errorText(err)})
	}
	if errs.Is(err, errs.Invalid) {
		return s.renderUser(w, r, c, http.StatusUnprocessableEntity, &userData{U: &u, Error: errorText(err)})
	}
	if err != nil {
		return err
	}
	return redirect(w, r, userURL(u.ID), "User saved.")
}

func (s *Server) addUserOrg(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.pathUser(r, c)
	if err != nil {
		return err
	}
	oid := ids.Org(parseID(r.PostFormValue("organization_id")))
	err = s.write(r.Context(), func(tx *store.Tx) error {
		if oid == 0 {
			return errs.Invalidf("organization_id", "InvalidValue", "choose an organization")
		}
		_, err := people.AddMembership(r.Context(), tx, c.Acct, c.actor(), u.ID, oid, false)
		return err
	})
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.PlanRequired) {
		return redirectErr(w, r, userURL(u.ID), err)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, userURL(u.ID), "Organization added.")
}

func (s *Server) removeUserOrg(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.pathUser(r, c)
	if err != nil {
		return err
	}
	if err := s.removeMembership(r.Context(), c, u.ID, ids.Org(pathInt(r, "oid"))); err != nil {
		return err
	}
	return redirect(w, r, userURL(u.ID), "Organization removed.")
}

func (s *Server) addUserGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.pathUser(r, c)
	if err != nil {
		return err
	}
	gid := ids.Group(parseID(r.PostFormValue("group_id")))
	err = s.write(r.Context(), func(tx *store.Tx) error {
		_, _, err := people.AddGroupMembership(r.Context(), tx, c.Acct, c.actor(), u.ID, gid, false)
		return err
	})
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.NotFound) {
		return redirectErr(w, r, userURL(u.ID), err)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, userURL(u.ID), "Group added.")
}

func (s *Server) removeGroupMembership(ctx context.Context, c *call, user ids.User, g ids.Group) error {
	return s.write(ctx, func(tx *store.Tx) error {
		ms, err := org.UserGroupMemberships(ctx, tx, c.Acct.ID, user)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.GroupID == g {
				return people.RemoveGroupMembership(ctx, tx, c.Acct, c.actor(), m.ID)
			}
		}
		return errs.NotFoundf("the user is not in that group")
	})
}

func (s *Server) removeUserGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.pathUser(r, c)
	if err != nil {
		return err
	}
	if err := s.removeGroupMembership(r.Context(), c, u.ID, ids.Group(pathInt(r, "gid"))); err != nil {
		return err
	}
	return redirect(w, r, userURL(u.ID), "Group removed.")
}

// createToken issues an API token; its secret is shown on this one response only.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.pathUser(r, c)
	if err != nil {
		return err
	}
	if !u.Role.IsStaff() {
		return redirectErr(w, r, userURL(u.ID), errs.Invalidf("role", "InvalidValue", "only agents and admins use the API"))
	}
	desc := strings.TrimSpace(r.PostFormValue("description"))
	if desc == "" {
		desc = "created in the admin center"
	}
	var secret string
	err = s.write(r.Context(), func(tx *store.Tx) error {
		var err error
		_, secret, err = identity.IssueToken(r.Context(), tx, c.Acct.ID, u.ID, desc)
		return err
	})
	if errs.Is(err, errs.Invalid) {
		return redirectErr(w, r, userURL(u.ID), err)
	}
	if err != nil {
		return err
	}
	return s.renderUser(w, r, c, http.StatusOK, &userData{U: u, NewToken: secret})
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.pathUser(r, c)
	if err != nil {
		return err
	}
	err = s.write(r.Context(), func(tx *store.Tx) error {
		t, err := identity.GetToken(r.Context(), tx, c.Acct.ID, pathInt(r, "tid"))
		if err != nil {
			return err
		}
		if t.UserID != u.ID {
			return errs.NotFoundf("API token not found")
		}
		return identity.DeleteToken(r.Context(), tx, c.Acct.ID, t.ID)
	})
	if err != nil {
		return err
	}
	return redirect(w, r, userURL(u.ID), "API token revoked.")
}

// Groups.

type groupRow struct {
	*org.Group
	Members int
}

type groupsData struct {
	Rows  []groupRow
	Error string
}

func (s *Server) groupsPage(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.renderGroups(w, r, c, http.StatusOK, "")
}

func (s *Server) renderGroups(w http.ResponseWriter, r *http.Request, c *call, status int, msg string) error {
	gs, err := liveGroups(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	d := groupsData{Error: msg}
	for _, g := range gs {
		ms, err := groupMembers(r.Context(), s.db.R(), c.Acct.ID, g.ID)
		if err != nil {
			return err
		}
		d.Rows = append(d.Rows, groupRow{Group: g, Members: len(ms)})
	}
	return s.render(w, r, c, status, "admin_groups", page{Title: "Groups", Area: "admin", Nav: "groups", Data: d})
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	g := &org.Group{AccountID: c.Acct.ID, Name: r.PostFormValue("name"), Description: r.PostFormValue("description"), IsPublic: true}
	err := s.write(r.Context(), func(tx *store.Tx) error { return people.CreateGroup(r.Context(), tx, c.Acct, c.actor(), g) })
	if errs.Is(err, errs.Invalid) {
		return s.renderGroups(w, r, c, http.StatusUnprocessableEntity, errorText(err))
	}
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/admin/groups/%d", g.ID), fmt.Sprintf("Group %s created.", g.Name))
}

type groupData struct {
	G       *org.Group
	Members []*identity.User
	Agents  []*identity.User
	Error   string
}

func (s *Server) pathGroup(r *http.Request, c *call) (*org.Group, error) {
	g, err := org.GetGroup(r.Context(), s.db.R(), c.Acct.ID, ids.Group(pathInt(r, "id")))
	if err != nil {
		return nil, err
	}
	if g.Deleted {
		return nil, errs.NotFoundf("group %d was deleted", g.ID)
	}
	return g, nil
}

func (s *Server) groupPage(w http.ResponseWriter, r *http.Request, c *call) error {
	g, err := s.pathGroup(r, c)
	if err != nil {
		return err
	}
	return s.renderGroup(w, r, c, http.StatusOK, &groupData{G: g})
}

func (s *Server) renderGroup(w http.ResponseWriter, r *http.Request, c *call, status int, d *groupData) error {
	var err error
	if d.Members, err = groupMembers(r.Context(), s.db.R(), c.Acct.ID, d.G.ID); err != nil {
		return err
	}
	if d.Agents, err = staffUsers(r.Context(), s.db.R(), c.Acct.ID); err != nil {
		return err
	}
	return s.render(w, r, c, status, "admin_group", page{Title: d.G.Name, Area: "admin", Nav: "groups", Data: d})
}

func (s *Server) saveGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	g, err := s.pathGroup(r, c)
	if err != nil {
		return err
	}
	g.Name, g.Description = r.PostFormValue("name"), r.PostFormValue("description")
	err = s.write(r.Context(), func(tx *store.Tx) error { return people.SaveGroup(r.Context(), tx, c.Acct, c.actor(), g) })
	if errs.Is(err, errs.Invalid) {
		return s.renderGroup(w, r, c, http.StatusUnprocessableEntity, &groupData{G: g, Error: errorText(err)})
	}
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/admin/groups/%d", g.ID), "Group saved.")
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	g, err := s.pathGroup(r, c)
	if err != nil {
		return err
	}
	err = s.write(r.Context(), func(tx *store.Tx) error { return people.DeleteGroup(r.Context(), tx, c.Acct, c.actor(), g.ID) })
	if errs.Is(err, errs.Invalid) {
		return redirectErr(w, r, fmt.Sprintf("/admin/groups/%d", g.ID), err)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/admin/groups", fmt.Sprintf("Group %s deleted.", g.Name))
}

func (s *Server) addGroupMember(w http.ResponseWriter, r *http.Request, c *call) error {
	g, err := s.pathGroup(r, c)
	if err != nil {
		return err
	}
	back := fmt.Sprintf("/admin/groups/%d", g.ID)
	uid := ids.User(parseID(r.PostFormValue("user_id")))
	err = s.write(r.Context(), func(tx *store.Tx) error {
		_, _, err := people.AddGroupMembership(r.Context(), tx, c.Acct, c.actor(), uid, g.ID, false)
		return err
	})
	if errs.Is(err, errs.Invalid) {
		return redirectErr(w, r, back, err)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, back, "Agent added to the group.")
}

func (s *Server) removeGroupMember(w http.ResponseWriter, r *http.Request, c *call) error {
	g, err := s.pathGroup(r, c)
	if err != nil {
		return err
	}
	if err := s.removeGroupMembership(r.Context(), c, ids.User(pathInt(r, "uid")), g.ID); err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/admin/groups/%d", g.ID), "Agent removed from the group.")
}

// actor is the signed-in admin as the people service sees them.
func (c *call) actor() people.Actor { return people.By(c.User) }

// userHistory reads the latest 20 recorded changes to a user and who made them.
func userHistory(ctx context.Context, q store.Queryer, acct ids.Account, user ids.User) ([]*people.Event, map[ids.User]string, error) {
	events, err := people.UserEvents(ctx, q, acct, user, 20)
	if err != nil {
		return nil, nil, err
	}
	actors := map[ids.User]string{0: "System"}
	var uids []ids.User
	for _, e := range events {
		uids = append(uids, e.ActorID)
	}
	us, err := identity.GetMany(ctx, q, acct, uids)
	if err != nil {
		return nil, nil, err
	}
	for _, u := range us {
		actors[u.ID] = u.Name
	}
	return events, actors, nil
}
