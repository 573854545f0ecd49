package api

import (
	"context"
	"net/http"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/store"
)

// Bulk endpoints for users and organizations: create_many, create_or_update_many,
// update_many and destroy_many. Each takes at most 100 items (400 TooManyValues beyond)
// and answers at once with a job_status; the job does one item per transaction, with
// exactly the rules of the single-item endpoint (so an agent may create and update end
// users but not staff, and an item the caller may not write fails alone with
// Forbidden). An update that would change nothing writes nothing: its result says
// "unchanged": true and the record's updated_at stays.
//
// Who may call: create_many, create_or_update_many and update_many of users, and
// update_many of organizations, are open to agents, as their single-item endpoints are;
// destroy_many (users and organizations) and create_or_update_many of organizations are
// for admins. organizations/create_or_update_many is a Tandem extension (Zendesk has
// only the single create_or_update); it matches by id, then external_id, never by name.

// userBulkIn is a user in a bulk body, which may name the user to update.
type userBulkIn struct {
	ID peopleID `json:"id"`
	userIn
}

// bulkTarget is one record an update_many or destroy_many item names.
type bulkTarget struct {
	id  int64
	ext string
}

// label is how the target appears in a result (the ID when known).
func (t bulkTarget) label() any {
	if t.id != 0 {
		return t.id
	}
	return t.ext
}

// bulkTargets reads ?ids= or ?external_ids= (at most 100).
func bulkTargets(r *http.Request) ([]bulkTarget, error) {
	idList, err := queryIDs(r, "ids", maxPerPage)
	if err != nil {
		return nil, err
	}
	exts, err := peopleQueryStrings(r, "external_ids", maxPerPage)
	if err != nil {
		return nil, err
	}
	var out []bulkTarget
	for _, id := range idList {
		out = append(out, bulkTarget{id: id})
	}
	for _, e := range exts {
		out = append(out, bulkTarget{ext: e})
	}
	return out, nil
}

// bulkItem is one record of an update_many and the changes for it.
type bulkItem[In any] struct {
	target bulkTarget
	in     In
}

// bulkUpdateItems reads an update_many request of users or organizations: one body
// (one) for the records ?ids= or ?external_ids= name, or n listed bodies, each naming
// its record (at(i); a nil body is skipped).
func bulkUpdateItems[In any](r *http.Request, one *In, n int, at func(i int) (bulkTarget, *In), noun, plural string) ([]bulkItem[In], error) {
	var items []bulkItem[In]
	if one != nil {
		targets, err := bulkTargets(r)
		if err != nil {
			return nil, err
		}
		if len(targets) == 0 {
			return nil, errs.Invalidf("ids", "BlankValue", "give ?ids=1,2,3 or ?external_ids=a,b with a single %s body", noun)
		}
		for _, t := range targets {
			items = append(items, bulkItem[In]{t, *one})
		}
	} else {
		if n > maxPerPage {
			return nil, errs.E(errs.TooMany, "Parameter %s cannot specify more than %d values", plural, maxPerPage)
		}
		for i := range n {
			if t, in := at(i); in != nil {
				items = append(items, bulkItem[In]{t, *in})
			}
		}
	}
	if len(items) == 0 {
		return nil, errs.Invalidf(plural, "BlankValue", "cannot be blank")
	}
	return items, nil
}

// startBulkUpdate runs an update_many job, one item per transaction: update changes the
// record the target names and reports its id and whether anything changed.
func startBulkUpdate[In any](s *Server, w http.ResponseWriter, c *Call, jobType, noun string, items []bulkItem[In],
	update func(ctx context.Context, tx *store.Tx, t bulkTarget, in *In) (int64, bool, error)) error {
	job, err := s.StartJob(c, jobType, len(items), func(ctx context.Context, i int) map[string]any {
		it := items[i]
		if it.target.id == 0 && it.target.ext == "" {
			return s.jobItemError(i, errs.Invalidf("id", "BlankValue", "every %s needs an id or an external_id", noun))
		}
		var id int64
		var changed bool
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			in := it.in
			var err error
			id, changed, err = update(ctx, tx, it.target, &in)
			return err
		})
		if err != nil {
			return withID(s.jobItemError(i, err), it.target.label())
		}
		return bulkUpdated(id, changed)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_status": job})
	return nil
}

// startBulkDelete runs a destroy_many job over the records ?ids= or ?external_ids= name,
// one per transaction: del deletes the record the target names and reports its id.
func startBulkDelete(s *Server, w http.ResponseWriter, r *http.Request, c *Call, jobType string,
	del func(ctx context.Context, tx *store.Tx, t bulkTarget) (int64, error)) error {
	targets, err := bulkTargets(r)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return errs.Invalidf("ids", "BlankValue", "give ?ids=1,2,3 or ?external_ids=a,b")
	}
	job, err := s.StartJob(c, jobType, len(targets), func(ctx context.Context, i int) map[string]any {
		var id int64
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			var err error
			id, err = del(ctx, tx, targets[i])
			return err
		})
		if err != nil {
			return withID(s.jobItemError(i, err), targets[i].label())
		}
		return bulkDeleted(id)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_status": job})
	return nil
}

func bulkUpdated(id any, changed bool) map[string]any {
	m := map[string]any{"action": "update", "id": id, "status": "Updated", "success": true}
	if !changed {
		m["unchanged"] = true
	}
	return m
}

func bulkDeleted(id any) map[string]any {
	return map[string]any{"action": "delete", "id": id, "status": "Deleted", "success": true}
}

// withID adds the record an item named to its error result.
func withID(m map[string]any, id any) map[string]any {
	m["id"] = id
	return m
}

// Users.

func userCreated(i int, u *identity.User, status string) map[string]any {
	m := map[string]any{"index": i, "id": int64(u.ID), "status": status}
	if u.Email != "" {
		m["email"] = u.Email
	}
	if u.ExternalID != "" {
		m["external_id"] = u.ExternalID
	}
	return m
}

func (s *Server) decodeUsers(r *http.Request) ([]*userBulkIn, error) {
	var env struct {
		Users []*userBulkIn `json:"users"`
	}
	if err := s.decode(r, &env); err != nil {
		return nil, err
	}
	if len(env.Users) > maxPerPage {
		return nil, errs.E(errs.TooMany, "Maximum 100 users may be created per call")
	}
	if len(env.Users) == 0 {
		return nil, errs.Invalidf("users", "BlankValue", "must list at least one user")
	}
	return env.Users, nil
}

func (s *Server) createManyUsers(w http.ResponseWriter, r *http.Request, c *Call) error {
	list, err := s.decodeUsers(r)
	if err != nil {
		return err
	}
	job, err := s.StartJob(c, "bulk_create_users", len(list), func(ctx context.Context, i int) map[string]any {
		in := &userIn{}
		if list[i] != nil {
			in = &list[i].userIn
		}
		var u *identity.User
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			var err error
			u, err = s.createUserTx(ctx, tx, c, in)
			return err
		})
		if err != nil {
			return s.jobItemError(i, err)
		}
		return userCreated(i, u, "Created")
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_status": job})
	return nil
}

func (s *Server) createOrUpdateManyUsers(w http.ResponseWriter, r *http.Request, c *Call) error {
	list, err := s.decodeUsers(r)
	if err != nil {
		return err
	}
	job, err := s.StartJob(c, "bulk_create_or_update_users", len(list), func(ctx context.Context, i int) map[string]any {
		in := userIn{}
		if list[i] != nil {
			in = list[i].userIn
		}
		var u *identity.User
		var created, changed bool
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			item := in // the store may run this function again
			var err error
			u, created, changed, err = s.createOrUpdateUserTx(ctx, tx, c, &item)
			return err
		})
		switch {
		case err != nil:
			return s.jobItemError(i, err)
		case created:
			return userCreated(i, u, "Created")
		}
		m := userCreated(i, u, "Updated")
		if !changed {
			m["unchanged"] = true
		}
		return m
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_status": job})
	return nil
}

// createOrUpdateUserTx is POST /users/create_or_update for one user: it matches by
// external_id, then by email (any of the user's addresses), case-insensitively.
func (s *Server) createOrUpdateUserTx(ctx context.Context, tx *store.Tx, c *Call, in *userIn) (u *identity.User, created, changed bool, err error) {
	var existing *identity.User
	if in.ExternalID.Set && in.ExternalID.Value != "" {
		existing, err = identity.ByExternalID(ctx, tx, c.Acct.ID, in.ExternalID.Value)
		if errs.Is(err, errs.NotFound) {
			existing, err = nil, nil
		}
		if err != nil {
			return nil, false, false, err
		}
	}
	if existing == nil && in.Email.Set && in.Email.Value != "" {
		if norm, ok := identity.NormalizeEmail(in.Email.Value); ok {
			e, err := identity.ByEmail(ctx, tx, c.Acct.ID, norm)
			if err != nil && !errs.Is(err, errs.NotFound) {
				return nil, false, false, err
			}
			if e != nil {
				// Matched by one of the user's addresses: the primary one stays.
				existing, in.Email.Set = e, false
			}
		}
	}
	if existing == nil {
		u, err = s.createUserTx(ctx, tx, c, in)
		return u, true, true, err
	}
	u, changed, err = s.updateUserIfChangedTx(ctx, tx, c, existing, in)
	return u, false, changed, err
}

// updateUserIfChangedTx is updateUserTx, except that a request that changes nothing
// writes nothing (after the same permission check).
func (s *Server) updateUserIfChangedTx(ctx context.Context, tx *store.Tx, c *Call, before *identity.User, in *userIn) (*identity.User, bool, error) {
	if !userRequestChanges(c, before, in) {
		if err := checkUserWrite(c, before, before, nil); err != nil {
			return nil, false, err
		}
		return before, false, nil
	}
	u, err := s.updateUserTx(ctx, tx, c, before, in)
	return u, true, err
}

// userRequestChanges reports whether applying in to before would change anything
// (invalid requests count as changes: updateUserTx reports their errors).
func userRequestChanges(c *Call, before *identity.User, in *userIn) bool {
	if len(in.Identities) > 0 || in.Password.Set && in.Password.Value != "" ||
		in.OrganizationID.Set && ids.Org(in.OrganizationID.Value) != before.OrganizationID ||
		in.DefaultGroupID.Set && in.DefaultGroupID.Value != 0 && ids.Group(in.DefaultGroupID.Value) != before.DefaultGroupID {
		return true
	}
	u := *before
	var v errs.Validation
	applyUser(c, &u, in, false, &v)
	return v.Has() || len(userChanges(before, &u)) > 0
}

func (s *Server) updateManyUsers(w http.ResponseWriter, r *http.Request, c *Call) error {
	var body struct {
		User  *userIn       `json:"user"`
		Users []*userBulkIn `json:"users"`
	}
	if err := s.decode(r, &body); err != nil {
		return err
	}
	items, err := bulkUpdateItems(r, body.User, len(body.Users), func(i int) (bulkTarget, *userIn) {
		in := body.Users[i]
		if in == nil {
			return bulkTarget{}, nil
		}
		return bulkTarget{id: in.ID.Value, ext: in.ExternalID.Value}, &in.userIn
	}, "user", "users")
	if err != nil {
		return err
	}
	return startBulkUpdate(s, w, c, "bulk_update_users", "user", items, func(ctx context.Context, tx *store.Tx, t bulkTarget, in *userIn) (int64, bool, error) {
		before, err := s.bulkUser(ctx, tx, c, t)
		if err != nil {
			return 0, false, err
		}
		u, changed, err := s.updateUserIfChangedTx(ctx, tx, c, before, in)
		if err != nil {
			return 0, false, err
		}
		return int64(u.ID), changed, nil
	})
}

// bulkUser loads the user a bulk item names.
func (s *Server) bulkUser(ctx context.Context, tx *store.Tx, c *Call, t bulkTarget) (*identity.User, error) {
	if t.id != 0 {
		return identity.Get(ctx, tx, c.Acct.ID, ids.User(t.id))
	}
	return identity.ByExternalID(ctx, tx, c.Acct.ID, t.ext)
}

// destroyManyUsers soft-deletes users as DELETE /users/{id} does.
func (s *Server) destroyManyUsers(w http.ResponseWriter, r *http.Request, c *Call) error {
	return startBulkDelete(s, w, r, c, "bulk_delete_users", func(ctx context.Context, tx *store.Tx, t bulkTarget) (int64, error) {
		u, err := s.bulkUser(ctx, tx, c, t)
		if err != nil {
			return 0, err
		}
		if u.ID == c.User.ID {
			return int64(u.ID), errs.Forbiddenf("You cannot delete yourself.")
		}
		u.Active = false
		if err := identity.Save(ctx, tx, u); err != nil {
			return int64(u.ID), err
		}
		return int64(u.ID), org.RemoveUserGroupMemberships(ctx, tx, c.Acct.ID, u.ID)
	})
}

// Organizations.

// updateOrgIfChangedTx is updateOrgTx, except that a request that changes nothing
// writes nothing (after the same permission check).
func (s *Server) updateOrgIfChangedTx(ctx context.Context, tx *store.Tx, c *Call, before *org.Organization, in *orgIn) (*org.Organization, bool, error) {
	o := *before
	o.Tags, o.DomainNames = append([]string(nil), before.Tags...), append([]string(nil), before.DomainNames...)
	applyOrg(&o, in)
	if len(orgChanges(before, &o)) == 0 {
		if !c.IsAdmin() && c.User.TicketRestriction != "" {
			return nil, false, errs.Forbiddenf("Restricted agents cannot edit organizations.")
		}
		return before, false, nil
	}
	u, err := s.updateOrgTx(ctx, tx, c, before, in)
	return u, true, err
}

// bulkOrg loads the organization a bulk item names.
func (s *Server) bulkOrg(ctx context.Context, tx *store.Tx, c *Call, t bulkTarget) (*org.Organization, error) {
	if t.id != 0 {
		return org.GetOrg(ctx, tx, c.Acct.ID, ids.Org(t.id))
	}
	return org.OrgByExternalID(ctx, tx, c.Acct.ID, t.ext)
}

func (s *Server) updateManyOrgs(w http.ResponseWriter, r *http.Request, c *Call) error {
	var body struct {
		Org  *orgIn   `json:"organization"`
		Orgs []*orgIn `json:"organizations"`
	}
	if err := s.decode(r, &body); err != nil {
		return err
	}
	// A body naming an organization by external_id keeps it (it is the key).
	items, err := bulkUpdateItems(r, body.Org, len(body.Orgs), func(i int) (bulkTarget, *orgIn) {
		in := body.Orgs[i]
		if in == nil {
			return bulkTarget{}, nil
		}
		return bulkTarget{id: in.ID.Value, ext: in.ExternalID.Value}, in
	}, "organization", "organizations")
	if err != nil {
		return err
	}
	return startBulkUpdate(s, w, c, "bulk_update_organizations", "organization", items, func(ctx context.Context, tx *store.Tx, t bulkTarget, in *orgIn) (int64, bool, error) {
		before, err := s.bulkOrg(ctx, tx, c, t)
		if err != nil {
			return 0, false, err
		}
		o, changed, err := s.updateOrgIfChangedTx(ctx, tx, c, before, in)
		if err != nil {
			return 0, false, err
		}
		return int64(o.ID), changed, nil
	})
}

func (s *Server) destroyManyOrgs(w http.ResponseWriter, r *http.Request, c *Call) error {
	return startBulkDelete(s, w, r, c, "bulk_delete_organizations", func(ctx context.Context, tx *store.Tx, t bulkTarget) (int64, error) {
		o, err := s.bulkOrg(ctx, tx, c, t)
		if err != nil {
			return 0, err
		}
		return int64(o.ID), org.DeleteOrg(ctx, tx, c.Acct.ID, o.ID)
	})
}

// createOrUpdateManyOrgs is POST /organizations/create_or_update for up to 100
// organizations (a Tandem extension).
func (s *Server) createOrUpdateManyOrgs(w http.ResponseWriter, r *http.Request, c *Call) error {
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
	job, err := s.StartJob(c, "bulk_create_or_update_organizations", len(env.Orgs), func(ctx context.Context, i int) map[string]any {
		in := orgIn{}
		if env.Orgs[i] != nil {
			in = *env.Orgs[i]
		}
		var o *org.Organization
		var created, changed bool
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			var existing *org.Organization
			var err error
			if in.ID.Value != 0 {
				existing, err = org.GetOrg(ctx, tx, c.Acct.ID, ids.Org(in.ID.Value))
				if err != nil && !errs.Is(err, errs.NotFound) {
					return err
				}
			}
			if existing == nil && strings.TrimSpace(in.ExternalID.Value) != "" {
				existing, err = org.OrgByExternalID(ctx, tx, c.Acct.ID, in.ExternalID.Value)
				if err != nil && !errs.Is(err, errs.NotFound) {
					return err
				}
			}
			if existing == nil {
				created, changed = true, true
				o, err = s.createOrgTx(ctx, tx, c, &in)
				return err
			}
			created = false
			o, changed, err = s.updateOrgIfChangedTx(ctx, tx, c, existing, &in)
			return err
		})
		if err != nil {
			return s.jobItemError(i, err)
		}
		m := map[string]any{"index": i, "id": int64(o.ID), "status": "Updated"}
		switch {
		case created:
			m["status"] = "Created"
		case !changed:
			m["unchanged"] = true
		}
		return m
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_status": job})
	return nil
}
