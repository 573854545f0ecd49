package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"tandem/internal/clientaddr"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/people"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Users, their identities and passwords, API tokens, and the audit log of people.
//
// Routes say who may call; the people service (internal/people) decides who may change
// what, and owns every rule of a write. End users see only themselves.

func (s *Server) userRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/users", s.h(agent, s.listUsers))
	mux.HandleFunc("POST /api/v2/users", s.h(agent, s.createUser))
	mux.HandleFunc("GET /api/v2/users/me", s.h(anyone, s.showMe))
	mux.HandleFunc("GET /api/v2/users/count", s.h(agent, s.countUsers))
	mux.HandleFunc("GET /api/v2/users/show_many", s.h(agent, s.showManyUsers))
	mux.HandleFunc("GET /api/v2/users/search", s.h(agent, s.searchUsers))
	mux.HandleFunc("GET /api/v2/users/autocomplete", s.h(agent, s.autocompleteUsers))
	mux.HandleFunc("POST /api/v2/users/create_or_update", s.h(agent, s.createOrUpdateUser))
	mux.HandleFunc("POST /api/v2/users/create_many", s.h(agent, s.createManyUsers))
	mux.HandleFunc("POST /api/v2/users/create_or_update_many", s.h(agent, s.createOrUpdateManyUsers))
	mux.HandleFunc("PUT /api/v2/users/update_many", s.h(agent, s.updateManyUsers))
	mux.HandleFunc("DELETE /api/v2/users/destroy_many", s.h(admin, s.destroyManyUsers))
	mux.HandleFunc("GET /api/v2/users/{id}", s.h(endUser, s.showUser))
	mux.HandleFunc("PUT /api/v2/users/{id}", s.h(endUser, s.updateUser))
	mux.HandleFunc("DELETE /api/v2/users/{id}", s.h(admin, s.deleteUser))
	mux.HandleFunc("GET /api/v2/users/{id}/organizations", s.h(endUser, s.userOrganizations))
	mux.HandleFunc("GET /api/v2/users/{id}/organization_memberships", s.h(endUser, s.userOrgMemberships))
	mux.HandleFunc("GET /api/v2/users/{id}/group_memberships", s.h(agent, s.userGroupMemberships))
	mux.HandleFunc("GET /api/v2/users/{id}/groups", s.h(agent, s.userGroups))
	mux.HandleFunc("GET /api/v2/users/{id}/identities", s.h(endUser, s.listIdentities))
	mux.HandleFunc("POST /api/v2/users/{id}/identities", s.h(agent, s.addIdentity))
	mux.HandleFunc("GET /api/v2/users/{id}/identities/{iid}", s.h(endUser, s.showIdentity))
	mux.HandleFunc("DELETE /api/v2/users/{id}/identities/{iid}", s.h(agent, s.deleteIdentity))
	mux.HandleFunc("PUT /api/v2/users/{id}/identities/{iid}/make_primary", s.h(agent, s.makeIdentityPrimary))
	mux.HandleFunc("PUT /api/v2/users/{id}/identities/{iid}/verify", s.h(agent, s.verifyIdentity))
	mux.HandleFunc("PUT /api/v2/users/{id}/password", s.h(endUser, s.setPassword))
	mux.HandleFunc("POST /api/v2/users/{id}/password", s.h(endUser, s.setPassword))
	mux.HandleFunc("GET /api/v2/audit_logs", s.h(admin, s.listAuditLogs))
	mux.HandleFunc("GET /api/v2/audit_logs/{id}", s.h(admin, s.showAuditLog))
	mux.HandleFunc("GET /api/v2/api_tokens", s.h(admin, s.listTokens))
	mux.HandleFunc("POST /api/v2/api_tokens", s.h(admin, s.createToken))
	mux.HandleFunc("GET /api/v2/api_tokens/{id}", s.h(admin, s.showToken))
	mux.HandleFunc("DELETE /api/v2/api_tokens/{id}", s.h(admin, s.deleteToken))
}

// userIn is the writable part of a user in a request body.
type userIn struct {
	Name                optStr          `json:"name"`
	Email               optStr          `json:"email"`
	Role                optStr          `json:"role"`
	Verified            optBool         `json:"verified"`
	ExternalID          optStr          `json:"external_id"`
	Phone               optStr          `json:"phone"`
	TimeZone            optStr          `json:"time_zone"`
	IANATimeZone        optStr          `json:"iana_time_zone"`
	Locale              optStr          `json:"locale"`
	Details             optStr          `json:"details"`
	Notes               optStr          `json:"notes"`
	Alias               optStr          `json:"alias"`
	Signature           optStr          `json:"signature"`
	Tags                optStrings      `json:"tags"`
	UserFields          optPeopleObject `json:"user_fields"`
	TicketRestriction   optStr          `json:"ticket_restriction"`
	OnlyPrivateComments optBool         `json:"only_private_comments"`
	Suspended           optBool         `json:"suspended"`
	OrganizationID      peopleID        `json:"organization_id"`
	DefaultGroupID      peopleID        `json:"default_group_id"`
	Password            optStr          `json:"password"`
	Identities          []struct {
		Type     string  `json:"type"`
		Value    string  `json:"value"`
		Verified optBool `json:"verified"`
	} `json:"identities"`
}

func (s *Server) decodeUser(r *http.Request) (*userIn, error) {
	return decodeObject[userIn](s, r, "user")
}

// applyUser copies the request's fields onto u. Problems only the request can show
// (a malformed email, a null where a value is needed) go to v; identity.Validate
// checks the rest.
func applyUser(c *Call, u *identity.User, in *userIn, creating bool, v *errs.Validation) {
	str := func(o optStr, dst *string) {
		if o.Set {
			*dst = o.Value
		}
	}
	if in.Name.Set {
		u.Name = strings.TrimSpace(in.Name.Value)
	}
	if in.Email.Set {
		switch norm, ok := identity.NormalizeEmail(in.Email.Value); {
		case strings.TrimSpace(in.Email.Value) == "":
			if u.Email != "" {
				v.Add("email", "BlankValue", "cannot be removed (delete the identity instead)")
			}
		case !ok:
			v.Bad("email", fmt.Sprintf("%q is not a valid email address", in.Email.Value))
		case norm != u.Email:
			u.Email = norm
			if !creating {
				u.Verified = false // a new address is unverified until said otherwise
			}
		}
	}
	if in.Role.Set {
		u.Role = identity.Role(in.Role.Value)
	}
	if in.Verified.Set {
		u.Verified = in.Verified.Value
	}
	str(in.ExternalID, &u.ExternalID)
	str(in.Phone, &u.Phone)
	str(in.IANATimeZone, &u.TimeZone)
	str(in.TimeZone, &u.TimeZone)
	if u.TimeZone == "" {
		u.TimeZone = "UTC"
	}
	str(in.Locale, &u.Locale)
	if u.Locale == "" {
		u.Locale = "en-US"
	}
	if c.IsStaff() {
		// End users never see details and notes, so they can't send them back changed.
		str(in.Details, &u.Details)
		str(in.Notes, &u.Notes)
	}
	str(in.Alias, &u.Alias)
	str(in.Signature, &u.Signature)
	if in.Tags.Set {
		u.Tags = ticket.NormalizeTags(in.Tags.Value)
	}
	if in.UserFields.Set {
		u.UserFields = in.UserFields.Value
	}
	// For end users these mean nothing (people.WriteUser clears them).
	str(in.TicketRestriction, &u.TicketRestriction)
	if in.OnlyPrivateComments.Set {
		u.OnlyPrivateComments = in.OnlyPrivateComments.Value
	}
	if in.Suspended.Set {
		u.Suspended = in.Suspended.Value
	}
}

// userChange builds the people service's change from a request: before is nil to
// create a user.
func userChange(c *Call, before *identity.User, in *userIn) (*people.UserChange, error) {
	u := &identity.User{AccountID: c.Acct.ID, Role: identity.EndUser, Active: true, TimeZone: "UTC", Locale: "en-US", Tags: []string{}, UserFields: map[string]any{}}
	if before != nil {
		cp := *before
		cp.Tags = slices.Clone(before.Tags)
		u = &cp
	}
	var v errs.Validation
	applyUser(c, u, in, before == nil, &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	ch := &people.UserChange{Before: before, User: u, DefaultGroup: ids.Group(in.DefaultGroupID.Value)}
	if in.Password.Set {
		ch.Password = in.Password.Value
	}
	for _, id := range in.Identities {
		ch.Identities = append(ch.Identities, people.NewIdentity{Type: id.Type, Value: id.Value, Verified: id.Verified.Value})
	}
	if in.OrganizationID.Set {
		if oid := ids.Org(in.OrganizationID.Value); oid != 0 {
			ch.Organizations = []ids.Org{oid}
		} else {
			ch.LeaveDefaultOrganization = true
		}
	}
	return ch, nil
}

// writeUserTx creates (before == nil) or updates a user from a request inside tx.
func (s *Server) writeUserTx(ctx context.Context, tx *store.Tx, c *Call, before *identity.User, in *userIn) (*people.UserResult, error) {
	ch, err := userChange(c, before, in)
	if err != nil {
		return nil, err
	}
	return people.WriteUser(ctx, tx, c.Acct, c.actor(), ch)
}

func userPath(id ids.User) string {
	return "/api/v2/users/" + strconv.FormatInt(int64(id), 10) + ".json"
}

// pathUserID reads the {name} wildcard ("me" names the caller) and checks the caller may
// see that user: staff see everyone, end users only themselves.
func pathUserID(r *http.Request, c *Call, name string) (ids.User, error) {
	var id ids.User
	if r.PathValue(name) == "me" && c.User != nil {
		id = c.User.ID
	} else {
		n, err := pathID(r, name)
		if err != nil {
			return 0, err
		}
		id = ids.User(n)
	}
	if !c.IsStaff() && (c.User == nil || c.User.ID != id) {
		return 0, errs.Forbiddenf("You do not have access to this user.")
	}
	return id, nil
}

func (s *Server) pathUser(r *http.Request, c *Call, name string) (*identity.User, error) {
	id, err := pathUserID(r, c, name)
	if err != nil {
		return nil, err
	}
	return identity.Get(r.Context(), s.db.R(), c.Acct.ID, id)
}

// writeUser writes {"user": ...} with the sideloads asked for.
func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, c *Call, status int, u *identity.User) error {
	body := map[string]any{"user": renderUser(c, u)}
	if err := sideloadPeople(r.Context(), s.db.R(), c, body, peopleIncludes(r), []ids.User{u.ID}, nil, nil, true); err != nil {
		return err
	}
	if status == http.StatusCreated {
		peopleCreated(w, c, userPath(u.ID), body)
		return nil
	}
	writeJSON(w, status, body)
	return nil
}

func (s *Server) showMe(w http.ResponseWriter, r *http.Request, c *Call) error {
	if c.User == nil {
		writeJSON(w, http.StatusOK, map[string]any{"user": anonymousUser()})
		return nil
	}
	u, err := identity.Get(r.Context(), s.db.R(), c.Acct.ID, c.User.ID)
	if err != nil {
		return err
	}
	return s.writeUser(w, r, c, http.StatusOK, u)
}

func (s *Server) showUser(w http.ResponseWriter, r *http.Request, c *Call) error {
	u, err := s.pathUser(r, c, "id")
	if err != nil {
		return err
	}
	return s.writeUser(w, r, c, http.StatusOK, u)
}

var userSorts = map[string]string{"id": "u.id", "created_at": "u.created_at", "updated_at": "u.updated_at"}

// listUserQuery runs a user list and writes it with its sideloads.
func (s *Server) listUserQuery(w http.ResponseWriter, r *http.Request, c *Call, spec listSpec) error {
	spec.Cols, spec.IDCol = peopleCols(identity.UserCols, "u."), "u.id"
	if spec.From == "" {
		spec.From = "users u"
	}
	users, res, err := peopleList(r.Context(), s.db.R(), r, spec, userSorts, identity.ScanUser)
	if err != nil {
		return err
	}
	extra := map[string]any{}
	var uids []ids.User
	for _, u := range users {
		uids = append(uids, u.ID)
	}
	if err := sideloadPeople(r.Context(), s.db.R(), c, extra, peopleIncludes(r), uids, nil, nil, true); err != nil {
		return err
	}
	writePeopleList(w, r, "users", renderUsers(c, users), res, extra)
	return nil
}

// roleFilter reads role= and role[]= into a SQL condition on u.role.
func userRoleFilter(r *http.Request) (string, []any, error) {
	q := r.URL.Query()
	var roles []any
	for _, v := range append(q["role"], q["role[]"]...) {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if !identity.Role(p).Valid() {
				return "", nil, errs.E(errs.BadRequest, "role must be one of end-user, agent, admin, not %q", p)
			}
			roles = append(roles, p)
		}
	}
	if len(roles) == 0 {
		return "", nil, nil
	}
	return " AND u.role IN (" + store.In(len(roles)) + ")", roles, nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, c *Call) error {
	spec := listSpec{Where: "u.account_id = ? AND u.active = TRUE", Args: []any{c.Acct.ID}}
	cond, args, err := userRoleFilter(r)
	if err != nil {
		return err
	}
	spec.Where += cond
	spec.Args = append(spec.Args, args...)
	if ext := r.URL.Query().Get("external_id"); ext != "" {
		spec.Where += " AND u.external_id_lower = ?"
		spec.Args = append(spec.Args, strings.ToLower(ext))
	}
	return s.listUserQuery(w, r, c, spec)
}

func (s *Server) countUsers(w http.ResponseWriter, r *http.Request, c *Call) error {
	where := "u.account_id = ? AND u.active = TRUE"
	cond, args, err := userRoleFilter(r)
	if err != nil {
		return err
	}
	var n int
	err = s.db.R().QueryRowContext(r.Context(), "SELECT COUNT(*) FROM users u WHERE "+where+cond, append([]any{c.Acct.ID}, args...)...).Scan(&n)
	if err != nil {
		return fmt.Errorf("api: count users: %w", err)
	}
	writeJSON(w, http.StatusOK, peopleCountBody(n))
	return nil
}

func (s *Server) showManyUsers(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	users, err := showManyRecords(r,
		func(uids []ids.User) ([]*identity.User, error) {
			return identity.GetMany(ctx, s.db.R(), c.Acct.ID, uids)
		},
		func(ext string) (*identity.User, error) { return identity.ByExternalID(ctx, s.db.R(), c.Acct.ID, ext) })
	if err != nil {
		return err
	}
	body := map[string]any{"users": renderUsers(c, users)}
	showManyKeys(body, len(users))
	var uids []ids.User
	for _, u := range users {
		uids = append(uids, u.ID)
	}
	if err := sideloadPeople(ctx, s.db.R(), c, body, peopleIncludes(r), uids, nil, nil, true); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// searchUsers answers query= (words matched against name and email, plus email:,
// name:, role: and external_id: terms), external_id= and email=.
func (s *Server) searchUsers(w http.ResponseWriter, r *http.Request, c *Call) error {
	q := r.URL.Query()
	spec := listSpec{Where: "u.account_id = ? AND u.active = TRUE", Args: []any{c.Acct.ID}}
	and := func(cond string, args ...any) {
		spec.Where += " AND " + cond
		spec.Args = append(spec.Args, args...)
	}
	like := func(s string) string { return "%" + org.EscapeLike(strings.ToLower(s)) + "%" }
	if v := q.Get("external_id"); v != "" {
		and("u.external_id_lower = ?", strings.ToLower(v))
	}
	if v := q.Get("email"); v != "" {
		and(`u.id IN (SELECT user_id FROM user_identities WHERE account_id = ? AND type = 'email' AND value = ?)`, c.Acct.ID, strings.ToLower(strings.TrimSpace(v)))
	}
	query := strings.TrimSpace(q.Get("query"))
	if query == "" && q.Get("external_id") == "" && q.Get("email") == "" {
		return errs.E(errs.BadRequest, "Parameter query, external_id or email is required")
	}
	for _, tok := range strings.Fields(query) {
		tok = strings.Trim(tok, `"`)
		key, val, ok := strings.Cut(tok, ":")
		if !ok || val == "" {
			key, val = "", tok
		}
		switch key {
		case "email":
			and(`u.id IN (SELECT user_id FROM user_identities WHERE account_id = ? AND type = 'email' AND value LIKE ? ESCAPE '\')`, c.Acct.ID, like(val))
		case "name":
			and(`LOWER(u.name) LIKE ? ESCAPE '\'`, like(val))
		case "role":
			and("u.role = ?", strings.ToLower(val))
		case "external_id":
			and("u.external_id_lower = ?", strings.ToLower(val))
		default:
			and(`(LOWER(u.name) LIKE ? ESCAPE '\' OR u.email LIKE ? ESCAPE '\')`, like(tok), like(tok))
		}
	}
	return s.listUserQuery(w, r, c, spec)
}

func (s *Server) autocompleteUsers(w http.ResponseWriter, r *http.Request, c *Call) error {
	name := strings.TrimSpace(r.URL.Query().Get("name"))
	if name == "" {
		return errs.E(errs.BadRequest, "Parameter name is required")
	}
	return s.listUserQuery(w, r, c, listSpec{
		Where: `u.account_id = ? AND u.active = TRUE AND LOWER(u.name) LIKE ? ESCAPE '\'`,
		Args:  []any{c.Acct.ID, org.EscapeLike(strings.ToLower(name)) + "%"},
	})
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := s.decodeUser(r)
	if err != nil {
		return err
	}
	var res *people.UserResult
	err = s.db.Write(r.Context(), func(tx *store.Tx) error {
		res, err = s.writeUserTx(r.Context(), tx, c, nil, in)
		return err
	})
	if err != nil {
		return err
	}
	return s.writeUser(w, r, c, http.StatusCreated, res.User)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathUserID(r, c, "id")
	if err != nil {
		return err
	}
	in, err := s.decodeUser(r)
	if err != nil {
		return err
	}
	var res *people.UserResult
	err = s.db.Write(r.Context(), func(tx *store.Tx) error {
		before, err := identity.Get(r.Context(), tx, c.Acct.ID, id)
		if err != nil {
			return err
		}
		res, err = s.writeUserTx(r.Context(), tx, c, before, in)
		return err
	})
	if err != nil {
		return err
	}
	return s.writeUser(w, r, c, http.StatusOK, res.User)
}

// createOrUpdateUser matches by external_id, then by email (any of the user's email
// identities), case-insensitively: 200 with the updated user, or 201 with a new one.
func (s *Server) createOrUpdateUser(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := s.decodeUser(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var res *people.UserResult
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		item := *in // the store may run this function again
		var err error
		res, err = s.createOrUpdateUserTx(ctx, tx, c, &item)
		return err
	})
	if err != nil {
		return err
	}
	u, isNew := res.User, res.Created
	if isNew {
		return s.writeUser(w, r, c, http.StatusCreated, u)
	}
	return s.writeUser(w, r, c, http.StatusOK, u)
}

// deleteUser soft-deletes: the user stays readable with active false, can no longer sign
// in or use tokens, and leaves every group.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathUserID(r, c, "id")
	if err != nil {
		return err
	}
	var u *identity.User
	err = s.db.Write(r.Context(), func(tx *store.Tx) error {
		u, err = people.DeleteUser(r.Context(), tx, c.Acct, c.actor(), id)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": renderUser(c, u)})
	return nil
}

var orgSorts = map[string]string{"id": "o.id", "created_at": "o.created_at", "updated_at": "o.updated_at"}

func (s *Server) userOrganizations(w http.ResponseWriter, r *http.Request, c *Call) error {
	u, err := s.pathUser(r, c, "id")
	if err != nil {
		return err
	}
	return s.listOrgQuery(w, r, c, listSpec{
		From:  "organizations o JOIN organization_memberships m ON m.account_id = o.account_id AND m.organization_id = o.id",
		Where: "o.account_id = ? AND m.user_id = ?",
		Args:  []any{c.Acct.ID, u.ID},
	})
}

func (s *Server) userOrgMemberships(w http.ResponseWriter, r *http.Request, c *Call) error {
	u, err := s.pathUser(r, c, "id")
	if err != nil {
		return err
	}
	return s.listOrgMembershipQuery(w, r, c, "m.account_id = ? AND m.user_id = ?", []any{c.Acct.ID, u.ID})
}

func (s *Server) userGroupMemberships(w http.ResponseWriter, r *http.Request, c *Call) error {
	u, err := s.pathUser(r, c, "id")
	if err != nil {
		return err
	}
	return s.listGroupMembershipQuery(w, r, c, listSpec{Where: "m.account_id = ? AND m.user_id = ?", Args: []any{c.Acct.ID, u.ID}})
}

func (s *Server) userGroups(w http.ResponseWriter, r *http.Request, c *Call) error {
	u, err := s.pathUser(r, c, "id")
	if err != nil {
		return err
	}
	return s.listGroupQuery(w, r, c, listSpec{
		From:  "groups g JOIN group_memberships m ON m.account_id = g.account_id AND m.group_id = g.id",
		Where: "g.account_id = ? AND m.user_id = ?",
		Args:  []any{c.Acct.ID, u.ID},
	})
}

// Identities.

func (s *Server) listIdentities(w http.ResponseWriter, r *http.Request, c *Call) error {
	u, err := s.pathUser(r, c, "id")
	if err != nil {
		return err
	}
	scan := func(row interface{ Scan(...any) error }) (*identity.Identity, error) {
		var i identity.Identity
		var cr, up int64
		if err := row.Scan(&i.ID, &i.AccountID, &i.UserID, &i.Type, &i.Value, &i.Verified, &i.Primary, &cr, &up); err != nil {
			return nil, err
		}
		i.CreatedAt, i.UpdatedAt = store.Time(cr), store.Time(up)
		return &i, nil
	}
	list, res, err := peopleList(r.Context(), s.db.R(), r, listSpec{
		Cols:  "id, account_id, user_id, type, value, verified, is_primary, created_at, updated_at",
		From:  "user_identities",
		Where: "account_id = ? AND user_id = ?",
		Args:  []any{c.Acct.ID, u.ID},
		// The primary identity first, then by age.
		SortCol: "(CASE WHEN is_primary THEN 0 ELSE 1 END)",
		IDCol:   "id",
	}, nil, scan)
	if err != nil {
		return err
	}
	writePeopleList(w, r, "identities", renderIdentities(c, list), res, nil)
	return nil
}

func pathIdentity(r *http.Request) (int64, error) { return pathID(r, "iid") }

func (s *Server) showIdentity(w http.ResponseWriter, r *http.Request, c *Call) error {
	u, err := s.pathUser(r, c, "id")
	if err != nil {
		return err
	}
	iid, err := pathIdentity(r)
	if err != nil {
		return err
	}
	i, err := identity.GetIdentity(r.Context(), s.db.R(), c.Acct.ID, u.ID, iid)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"identity": renderIdentity(c, i)})
	return nil
}

func (s *Server) addIdentity(w http.ResponseWriter, r *http.Request, c *Call) error {
	var env struct {
		Identity *struct {
			Type     string  `json:"type"`
			Value    string  `json:"value"`
			Verified optBool `json:"verified"`
		} `json:"identity"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	if env.Identity == nil {
		return errs.E(errs.BadRequest, `The request body needs an "identity" object`)
	}
	uid, err := pathUserID(r, c, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	var i *identity.Identity
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		i, err = people.AddIdentity(ctx, tx, c.Acct, c.actor(), uid, people.NewIdentity{Type: env.Identity.Type, Value: env.Identity.Value, Verified: env.Identity.Verified.Value})
		return err
	})
	if err != nil {
		return err
	}
	peopleCreated(w, c, "/api/v2/users/"+strconv.FormatInt(int64(i.UserID), 10)+"/identities/"+strconv.FormatInt(i.ID, 10)+".json", map[string]any{"identity": renderIdentity(c, i)})
	return nil
}

func (s *Server) deleteIdentity(w http.ResponseWriter, r *http.Request, c *Call) error {
	iid, err := pathIdentity(r)
	if err != nil {
		return err
	}
	uid, err := pathUserID(r, c, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		return people.DeleteIdentity(ctx, tx, c.Acct, c.actor(), uid, iid)
	})
	if err != nil {
		return err
	}
	noContent(w)
	return nil
}

func (s *Server) makeIdentityPrimary(w http.ResponseWriter, r *http.Request, c *Call) error {
	iid, err := pathIdentity(r)
	if err != nil {
		return err
	}
	uid, err := pathUserID(r, c, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	var list []*identity.Identity
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if err := people.MakePrimary(ctx, tx, c.Acct, c.actor(), uid, iid); err != nil {
			return err
		}
		var err error
		list, err = identity.Identities(ctx, tx, c.Acct.ID, uid)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"identities": renderIdentities(c, list)})
	return nil
}

func (s *Server) verifyIdentity(w http.ResponseWriter, r *http.Request, c *Call) error {
	iid, err := pathIdentity(r)
	if err != nil {
		return err
	}
	uid, err := pathUserID(r, c, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	var i *identity.Identity
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		i, err = people.VerifyIdentity(ctx, tx, c.Acct, c.actor(), uid, iid)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"identity": renderIdentity(c, i)})
	return nil
}

// setPassword: admins set anyone else's password; a user changes their own, giving the
// previous one when they have one. The body is {"password": ..., "previous_password": ...}.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathUserID(r, c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Password         optStr `json:"password"`
		PreviousPassword optStr `json:"previous_password"`
	}
	if err := s.decode(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	// The previous password is checked like any other: within the attempt limits, so a
	// stolen token cannot be used to guess it, and outside the write transaction (the
	// hash is slow). The people service decides whether it was needed.
	checked := false
	if id == c.User.ID && c.User.PasswordHash != "" && in.PreviousPassword.Value != "" {
		_, err := s.cfg.Passwords.ByPassword(ctx, s.db.R(), c.Acct.ID, c.User.Email, in.PreviousPassword.Value, clientaddr.FromRequest(r))
		if errs.Is(err, errs.Unauthorized) {
			return errs.Invalidf("previous_password", "InvalidValue", "is not your current password")
		}
		if err != nil {
			return err
		}
		checked = true
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		return people.SetPassword(ctx, tx, c.Acct, c.actor(), id, in.Password.Value, checked)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{})
	return nil
}

// API tokens (a Tandem extension: Zendesk manages them in its admin center). The secret
// is shown once, in the answer to POST.

type tokenWire struct {
	URL         string `json:"url"`
	ID          int64  `json:"id"`
	UserID      int64  `json:"user_id"`
	Description string `json:"description"`
	Active      bool   `json:"active"`
	CreatedAt   any    `json:"created_at"`
	Token       string `json:"token,omitempty"`
}

func renderToken(c *Call, t *identity.Token, secret string) tokenWire {
	return tokenWire{
		URL:         c.URL("/api/v2/api_tokens/" + strconv.FormatInt(t.ID, 10) + ".json"),
		ID:          t.ID,
		UserID:      int64(t.UserID),
		Description: t.Description,
		Active:      true,
		CreatedAt:   ts(store.Time(t.CreatedAt)),
		Token:       secret,
	}
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, c *Call) error {
	scan := func(row interface{ Scan(...any) error }) (*identity.Token, error) {
		var t identity.Token
		if err := row.Scan(&t.ID, &t.UserID, &t.Description, &t.CreatedAt); err != nil {
			return nil, err
		}
		return &t, nil
	}
	list, res, err := peopleList(r.Context(), s.db.R(), r, listSpec{
		Cols:  "id, user_id, description, created_at",
		From:  "api_tokens",
		Where: "account_id = ? AND kind = 'api'",
		Args:  []any{c.Acct.ID},
		IDCol: "id",
	}, nil, scan)
	if err != nil {
		return err
	}
	out := make([]tokenWire, 0, len(list))
	for _, t := range list {
		out = append(out, renderToken(c, t, ""))
	}
	writePeopleList(w, r, "api_tokens", out, res, nil)
	return nil
}

func (s *Server) showToken(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := identity.GetToken(r.Context(), s.db.R(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"api_token": renderToken(c, t, "")})
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c *Call) error {
	var env struct {
		Token *struct {
			Description string   `json:"description"`
			UserID      peopleID `json:"user_id"`
		} `json:"api_token"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	if env.Token == nil {
		return errs.E(errs.BadRequest, `The request body needs an "api_token" object`)
	}
	owner := c.User.ID
	if env.Token.UserID.Value != 0 {
		owner = ids.User(env.Token.UserID.Value)
	}
	ctx := r.Context()
	var t *identity.Token
	var secret string
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		u, err := identity.Get(ctx, tx, c.Acct.ID, owner)
		if errs.Is(err, errs.NotFound) {
			return errs.Invalidf("user_id", "InvalidValue", "user %d does not exist", owner)
		}
		if err != nil {
			return err
		}
		if !u.Active {
			return errs.Invalidf("user_id", "InvalidValue", "user %d has been deleted", owner)
		}
		t, secret, err = identity.IssueToken(ctx, tx, c.Acct.ID, owner, strings.TrimSpace(env.Token.Description))
		return err
	})
	if err != nil {
		return err
	}
	peopleCreated(w, c, "/api/v2/api_tokens/"+strconv.FormatInt(t.ID, 10)+".json", map[string]any{"api_token": renderToken(c, t, secret)})
	return nil
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, c *Call) error {
	return s.removeByPathID(w, r, func(ctx context.Context, tx *store.Tx, id int64) error {
		return identity.DeleteToken(ctx, tx, c.Acct.ID, id)
	})
}

// actor is the caller as the people service sees them. Every route that writes people
// needs a signed-in user, so c.User is never nil there.
func (c *Call) actor() people.Actor { return people.By(c.User) }
