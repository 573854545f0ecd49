package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/people"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Organizations and organization memberships. Agents read; admins write, except that
// unrestricted agents may change an organization's notes. End users see their own
// memberships and organizations (through /users/{id}/...).

func (s *Server) orgRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/organizations", s.h(agent, s.listOrgs))
	mux.HandleFunc("POST /api/v2/organizations", s.h(admin, s.createOrg))
	mux.HandleFunc("GET /api/v2/organizations/count", s.h(agent, s.countOrgs))
	mux.HandleFunc("GET /api/v2/organizations/show_many", s.h(agent, s.showManyOrgs))
	mux.HandleFunc("GET /api/v2/organizations/autocomplete", s.h(agent, s.autocompleteOrgs))
	mux.HandleFunc("GET /api/v2/organizations/search", s.h(agent, s.searchOrgs))
	mux.HandleFunc("POST /api/v2/organizations/create_many", s.h(admin, s.createManyOrgs))
	mux.HandleFunc("POST /api/v2/organizations/create_or_update", s.h(admin, s.createOrUpdateOrg))
	mux.HandleFunc("POST /api/v2/organizations/create_or_update_many", s.h(admin, s.createOrUpdateManyOrgs))
	mux.HandleFunc("PUT /api/v2/organizations/update_many", s.h(agent, s.updateManyOrgs))
	mux.HandleFunc("DELETE /api/v2/organizations/destroy_many", s.h(admin, s.destroyManyOrgs))
	mux.HandleFunc("GET /api/v2/organizations/{id}", s.h(agent, s.showOrg))
	mux.HandleFunc("PUT /api/v2/organizations/{id}", s.h(agent, s.updateOrg))
	mux.HandleFunc("DELETE /api/v2/organizations/{id}", s.h(admin, s.deleteOrg))
	mux.HandleFunc("GET /api/v2/organizations/{id}/users", s.h(agent, s.orgUsers))
	mux.HandleFunc("GET /api/v2/organizations/{id}/related", s.h(agent, s.orgRelated))
	mux.HandleFunc("GET /api/v2/organizations/{id}/organization_memberships", s.h(agent, s.orgOrgMemberships))

	mux.HandleFunc("GET /api/v2/organization_memberships", s.h(endUser, s.listOrgMemberships))
	mux.HandleFunc("POST /api/v2/organization_memberships", s.h(admin, s.createOrgMembership))
	mux.HandleFunc("POST /api/v2/organization_memberships/create_many", s.h(admin, s.createManyOrgMemberships))
	mux.HandleFunc("GET /api/v2/organization_memberships/{id}", s.h(endUser, s.showOrgMembership))
	mux.HandleFunc("DELETE /api/v2/organization_memberships/{id}", s.h(admin, s.deleteOrgMembership))
	mux.HandleFunc("PUT /api/v2/users/{uid}/organization_memberships/{id}/make_default", s.h(endUser, s.makeDefaultOrgMembership))
	mux.HandleFunc("PUT /api/v2/users/{uid}/organizations/{oid}/make_default", s.h(endUser, s.makeDefaultOrg))
	mux.HandleFunc("DELETE /api/v2/users/{uid}/organizations/{oid}", s.h(admin, s.unassignOrg))
}

// orgIn is the writable part of an organization in a request body.
type orgIn struct {
	ID                 peopleID        `json:"id"`
	Name               optStr          `json:"name"`
	Details            optStr          `json:"details"`
	Notes              optStr          `json:"notes"`
	ExternalID         optStr          `json:"external_id"`
	GroupID            peopleID        `json:"group_id"`
	SharedTickets      optBool         `json:"shared_tickets"`
	SharedComments     optBool         `json:"shared_comments"`
	Tags               optStrings      `json:"tags"`
	DomainNames        optStrings      `json:"domain_names"`
	OrganizationFields optPeopleObject `json:"organization_fields"`
}

func (s *Server) decodeOrg(r *http.Request) (*orgIn, error) {
	return decodeObject[orgIn](s, r, "organization")
}

// applyOrg copies the request's fields onto o, normalized as they will be stored (so
// that sending back what was read changes nothing).
func applyOrg(o *org.Organization, in *orgIn) {
	str := func(v optStr, dst *string) {
		if v.Set {
			*dst = v.Value
		}
	}
	if in.Name.Set {
		o.Name = strings.TrimSpace(in.Name.Value)
	}
	str(in.Details, &o.Details)
	str(in.Notes, &o.Notes)
	str(in.ExternalID, &o.ExternalID)
	if in.GroupID.Set {
		o.GroupID = ids.Group(in.GroupID.Value)
	}
	if in.SharedTickets.Set {
		o.SharedTickets = in.SharedTickets.Value
	}
	if in.SharedComments.Set {
		o.SharedComments = in.SharedComments.Value
	}
	if in.Tags.Set {
		o.Tags = ticket.NormalizeTags(in.Tags.Value)
	}
	if in.DomainNames.Set {
		if norm, bad := org.NormalizeDomains(in.DomainNames.Value); len(bad) == 0 {
			o.DomainNames = norm
		} else {
			o.DomainNames = in.DomainNames.Value // CreateOrg/SaveOrg name the bad ones
		}
	}
	if in.OrganizationFields.Set {
		o.Fields = in.OrganizationFields.Value
	}
}

func orgPath(id ids.Org) string {
	return "/api/v2/organizations/" + strconv.FormatInt(int64(id), 10) + ".json"
}

// writeOrgTx creates (before == nil) or updates an organization from a request.
func (s *Server) writeOrgTx(ctx context.Context, tx *store.Tx, c *Call, before *org.Organization, in *orgIn) (*people.OrgResult, error) {
	o := &org.Organization{AccountID: c.Acct.ID}
	if before != nil {
		cp := *before
		cp.Tags, cp.DomainNames = slices.Clone(before.Tags), slices.Clone(before.DomainNames)
		o = &cp
	}
	applyOrg(o, in)
	return people.WriteOrg(ctx, tx, c.Acct, c.actor(), &people.OrgChange{Before: before, Org: o})
}

// createOrUpdateOrgTx matches an organization by id, then external_id (never by name),
// and updates it, or creates one.
func (s *Server) createOrUpdateOrgTx(ctx context.Context, tx *store.Tx, c *Call, in *orgIn) (*people.OrgResult, error) {
	var existing *org.Organization
	var err error
	if in.ID.Value != 0 {
		existing, err = org.GetOrg(ctx, tx, c.Acct.ID, ids.Org(in.ID.Value))
		if err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
	}
	if existing == nil && strings.TrimSpace(in.ExternalID.Value) != "" {
		existing, err = org.OrgByExternalID(ctx, tx, c.Acct.ID, in.ExternalID.Value)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
	}
	return s.writeOrgTx(ctx, tx, c, existing, in)
}

func (s *Server) listOrgQuery(w http.ResponseWriter, r *http.Request, c *Call, spec listSpec) error {
	spec.Cols, spec.IDCol = peopleCols(org.OrgCols, "o."), "o.id"
	if spec.From == "" {
		spec.From = "organizations o"
	}
	list, res, err := peopleList(r.Context(), s.db.R(), r, spec, orgSorts, org.ScanOrg)
	if err != nil {
		return err
	}
	writePeopleList(w, r, "organizations", renderOrgs(c, list), res, nil)
	return nil
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request, c *Call) error {
	return s.listOrgQuery(w, r, c, listSpec{Where: "o.account_id = ?", Args: []any{c.Acct.ID}})
}

func (s *Server) countOrgs(w http.ResponseWriter, r *http.Request, c *Call) error {
	n, err := org.CountOrgs(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, peopleCountBody(n))
	return nil
}

func (s *Server) showManyOrgs(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	list, err := showManyRecords(r,
		func(oids []ids.Org) ([]*org.Organization, error) { return org.GetOrgs(ctx, s.db.R(), c.Acct.ID, oids) },
		func(ext string) (*org.Organization, error) { return org.OrgByExternalID(ctx, s.db.R(), c.Acct.ID, ext) })
	if err != nil {
		return err
	}
	body := map[string]any{"organizations": renderOrgs(c, list)}
	showManyKeys(body, len(list))
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) autocompleteOrgs(w http.ResponseWriter, r *http.Request, c *Call) error {
	name := strings.TrimSpace(r.URL.Query().Get("name"))
	if name == "" {
		return errs.E(errs.BadRequest, "Parameter name is required")
	}
	return s.listOrgQuery(w, r, c, listSpec{
		Where: `o.account_id = ? AND o.name_lower LIKE ? ESCAPE '\'`,
		Args:  []any{c.Acct.ID, org.EscapeLike(strings.ToLower(name)) + "%"},
	})
}

// searchOrgs answers name= (exact, case-insensitive) or external_id=.
func (s *Server) searchOrgs(w http.ResponseWriter, r *http.Request, c *Call) error {
	q := r.URL.Query()
	spec := listSpec{Where: "o.account_id = ?", Args: []any{c.Acct.ID}}
	switch {
	case q.Get("external_id") != "":
		spec.Where += " AND o.external_id_lower = ?"
		spec.Args = append(spec.Args, strings.ToLower(q.Get("external_id")))
	case q.Get("name") != "":
		spec.Where += " AND o.name_lower = ?"
		spec.Args = append(spec.Args, strings.ToLower(strings.TrimSpace(q.Get("name"))))
	default:
		return errs.E(errs.BadRequest, "Parameter name or external_id is required")
	}
	return s.listOrgQuery(w, r, c, spec)
}

func (s *Server) showOrg(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := org.GetOrg(r.Context(), s.db.R(), c.Acct.ID, ids.Org(id))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"organization": renderOrg(c, o)})
	return nil
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := s.decodeOrg(r)
	if err != nil {
		return err
	}
	var res *people.OrgResult
	err = s.db.Write(r.Context(), func(tx *store.Tx) error {
		res, err = s.writeOrgTx(r.Context(), tx, c, nil, in)
		return err
	})
	if err != nil {
		return err
	}
	peopleCreated(w, c, orgPath(res.Org.ID), map[string]any{"organization": renderOrg(c, res.Org)})
	return nil
}

func (s *Server) updateOrg(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in, err := s.decodeOrg(r)
	if err != nil {
		return err
	}
	var res *people.OrgResult
	err = s.db.Write(r.Context(), func(tx *store.Tx) error {
		before, err := org.GetOrg(r.Context(), tx, c.Acct.ID, ids.Org(id))
		if err != nil {
			return err
		}
		res, err = s.writeOrgTx(r.Context(), tx, c, before, in)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"organization": renderOrg(c, res.Org)})
	return nil
}

func (s *Server) deleteOrg(w http.ResponseWriter, r *http.Request, c *Call) error {
	return s.removeByPathID(w, r, func(ctx context.Context, tx *store.Tx, id int64) error {
		return people.DeleteOrg(ctx, tx, c.Acct, c.actor(), ids.Org(id))
	})
}

// createOrUpdateOrg matches by id, then external_id (never by name).
func (s *Server) createOrUpdateOrg(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := s.decodeOrg(r)
	if err != nil {
		return err
	}
	var res *people.OrgResult
	err = s.db.Write(r.Context(), func(tx *store.Tx) error {
		item := *in // the store may run this function again
		res, err = s.createOrUpdateOrgTx(r.Context(), tx, c, &item)
		return err
	})
	if err != nil {
		return err
	}
	body := map[string]any{"organization": renderOrg(c, res.Org)}
	if res.Created {
		peopleCreated(w, c, orgPath(res.Org.ID), body)
		return nil
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// createManyOrgs creates up to 100 organizations in a background job, each in its own
// transaction.
func (s *Server) createManyOrgs(w http.ResponseWriter, r *http.Request, c *Call) error {
	var env struct {
		Orgs []*orgIn `json:"organizations"`
	}
	if err := s.decode(r, &env); err != nil {
		return err
	}
	if len(env.Orgs) > maxPerPage {
		return peopleTooMany("organizations")
	}
	if len(env.Orgs) == 0 {
		return errs.Invalidf("organizations", "BlankValue", "must list at least one organization")
	}
	job, err := s.StartJob(c, "bulk_create_organizations", len(env.Orgs), func(ctx context.Context, i int) map[string]any {
		in := env.Orgs[i]
		if in == nil {
			in = &orgIn{}
		}
		var res *people.OrgResult
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			var err error
			res, err = s.writeOrgTx(ctx, tx, c, nil, in)
			return err
		})
		if err != nil {
			return s.jobItemError(i, err)
		}
		return map[string]any{"index": i, "id": int64(res.Org.ID), "status": "Created"}
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_status": job})
	return nil
}

func (s *Server) pathOrg(r *http.Request, c *Call) (*org.Organization, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return org.GetOrg(r.Context(), s.db.R(), c.Acct.ID, ids.Org(id))
}

func (s *Server) orgUsers(w http.ResponseWriter, r *http.Request, c *Call) error {
	o, err := s.pathOrg(r, c)
	if err != nil {
		return err
	}
	spec := listSpec{
		From:  "users u JOIN organization_memberships m ON m.account_id = u.account_id AND m.user_id = u.id",
		Where: "u.account_id = ? AND m.organization_id = ? AND u.active = TRUE",
		Args:  []any{c.Acct.ID, o.ID},
	}
	cond, args, err := userRoleFilter(r)
	if err != nil {
		return err
	}
	spec.Where += cond
	spec.Args = append(spec.Args, args...)
	return s.listUserQuery(w, r, c, spec)
}

func (s *Server) orgRelated(w http.ResponseWriter, r *http.Request, c *Call) error {
	o, err := s.pathOrg(r, c)
	if err != nil {
		return err
	}
	tickets, users, err := org.Related(r.Context(), s.db.R(), c.Acct.ID, o.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"organization_related": map[string]any{"tickets_count": tickets, "users_count": users}})
	return nil
}

func (s *Server) orgOrgMemberships(w http.ResponseWriter, r *http.Request, c *Call) error {
	o, err := s.pathOrg(r, c)
	if err != nil {
		return err
	}
	return s.listOrgMembershipQuery(w, r, c, "m.account_id = ? AND m.organization_id = ?", []any{c.Acct.ID, o.ID})
}

// Organization memberships.

func (s *Server) listOrgMembershipQuery(w http.ResponseWriter, r *http.Request, c *Call, where string, args []any) error {
	ctx := r.Context()
	list, res, err := peopleList(ctx, s.db.R(), r, listSpec{
		Cols:  peopleCols(org.MembershipCols, "m."),
		From:  "organization_memberships m",
		Where: where,
		Args:  args,
		IDCol: "m.id",
	}, map[string]string{"id": "m.id", "created_at": "m.created_at", "updated_at": "m.updated_at"}, org.ScanMembership)
	if err != nil {
		return err
	}
	out, err := renderOrgMemberships(ctx, s.db.R(), c, list)
	if err != nil {
		return err
	}
	extra := map[string]any{}
	var uids []ids.User
	var oids []ids.Org
	for _, m := range list {
		uids, oids = append(uids, m.UserID), append(oids, m.OrgID)
	}
	if err := sideloadPeople(ctx, s.db.R(), c, extra, peopleIncludes(r), uids, oids, nil, false); err != nil {
		return err
	}
	writePeopleList(w, r, "organization_memberships", out, res, extra)
	return nil
}

func (s *Server) listOrgMemberships(w http.ResponseWriter, r *http.Request, c *Call) error {
	if !c.IsStaff() {
		return s.listOrgMembershipQuery(w, r, c, "m.account_id = ? AND m.user_id = ?", []any{c.Acct.ID, c.User.ID})
	}
	return s.listOrgMembershipQuery(w, r, c, "m.account_id = ?", []any{c.Acct.ID})
}

// writeOrgMembership writes {"organization_membership": ...}.
func (s *Server) writeOrgMembership(w http.ResponseWriter, r *http.Request, c *Call, status int, m *org.Membership) error {
	out, err := renderOrgMemberships(r.Context(), s.db.R(), c, []*org.Membership{m})
	if err != nil {
		return err
	}
	body := map[string]any{"organization_membership": out[0]}
	if status == http.StatusCreated {
		peopleCreated(w, c, "/api/v2/organization_memberships/"+strconv.FormatInt(m.ID, 10)+".json", body)
		return nil
	}
	writeJSON(w, status, body)
	return nil
}

func (s *Server) showOrgMembership(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	m, err := org.GetMembership(r.Context(), s.db.R(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	if !c.IsStaff() && m.UserID != c.User.ID {
		return errs.Forbiddenf("You do not have access to this membership.")
	}
	return s.writeOrgMembership(w, r, c, http.StatusOK, m)
}

type orgMembershipIn struct {
	UserID         peopleID `json:"user_id"`
	OrganizationID peopleID `json:"organization_id"`
	Default        optBool  `json:"default"`
}

// createOrgMembershipTx adds a membership; an existing one is a DuplicateValue.
func (s *Server) createOrgMembershipTx(ctx context.Context, tx *store.Tx, c *Call, in *orgMembershipIn) (*org.Membership, error) {
	return people.AddMembership(ctx, tx, c.Acct, c.actor(), ids.User(in.UserID.Value), ids.Org(in.OrganizationID.Value), in.Default.Value)
}

func (s *Server) createOrgMembership(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := decodeObject[orgMembershipIn](s, r, "organization_membership")
	if err != nil {
		return err
	}
	var m *org.Membership
	err = s.db.Write(r.Context(), func(tx *store.Tx) error {
		m, err = s.createOrgMembershipTx(r.Context(), tx, c, in)
		return err
	})
	if err != nil {
		return err
	}
	return s.writeOrgMembership(w, r, c, http.StatusCreated, m)
}

func (s *Server) createManyOrgMemberships(w http.ResponseWriter, r *http.Request, c *Call) error {
	return createManyJob(s, w, r, c, "organization_memberships", "organization memberships", "bulk_create_organization_memberships",
		func(ctx context.Context, tx *store.Tx, in *orgMembershipIn) (int64, error) {
			m, err := s.createOrgMembershipTx(ctx, tx, c, in)
			if err != nil {
				return 0, err
			}
			return m.ID, nil
		})
}

func (s *Server) deleteOrgMembership(w http.ResponseWriter, r *http.Request, c *Call) error {
	return s.removeByPathID(w, r, func(ctx context.Context, tx *store.Tx, id int64) error {
		return people.RemoveMembership(ctx, tx, c.Acct, c.actor(), id)
	})
}

// makeDefaultOrgMembership answers with the user's memberships, as Zendesk does.
func (s *Server) makeDefaultOrgMembership(w http.ResponseWriter, r *http.Request, c *Call) error {
	uid, err := pathUserID(r, c, "uid")
	if err != nil {
		return err
	}
	mid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	var list []*org.Membership
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		m, err := org.GetMembership(ctx, tx, c.Acct.ID, mid)
		if err != nil {
			return err
		}
		if m.UserID != uid {
			return errs.NotFoundf("membership %d is not user %d's", mid, uid)
		}
		if err := people.SetDefaultOrganization(ctx, tx, c.Acct, c.actor(), m); err != nil {
			return err
		}
		list, err = org.UserMemberships(ctx, tx, c.Acct.ID, uid)
		return err
	})
	if err != nil {
		return err
	}
	out, err := renderOrgMemberships(ctx, s.db.R(), c, list)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"organization_memberships": out})
	return nil
}

func (s *Server) makeDefaultOrg(w http.ResponseWriter, r *http.Request, c *Call) error {
	uid, err := pathUserID(r, c, "uid")
	if err != nil {
		return err
	}
	oid, err := pathID(r, "oid")
	if err != nil {
		return err
	}
	ctx := r.Context()
	var m *org.Membership
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		found, err := org.FindMembership(ctx, tx, c.Acct.ID, uid, ids.Org(oid))
		if err != nil {
			return err
		}
		if err := people.SetDefaultOrganization(ctx, tx, c.Acct, c.actor(), found); err != nil {
			return err
		}
		m, err = org.GetMembership(ctx, tx, c.Acct.ID, found.ID)
		return err
	})
	if err != nil {
		return err
	}
	return s.writeOrgMembership(w, r, c, http.StatusOK, m)
}

func (s *Server) unassignOrg(w http.ResponseWriter, r *http.Request, c *Call) error {
	uid, err := pathUserID(r, c, "uid")
	if err != nil {
		return err
	}
	oid, err := pathID(r, "oid")
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		m, err := org.FindMembership(ctx, tx, c.Acct.ID, uid, ids.Org(oid))
		if err != nil {
			return err
		}
		return people.RemoveMembership(ctx, tx, c.Acct, c.actor(), m.ID)
	})
	if err != nil {
		return err
	}
	noContent(w)
	return nil
}
