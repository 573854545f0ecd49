package api

import (
	"context"
	"net/http"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/people"
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
		var res *people.UserResult
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			var err error
			res, err = s.writeUserTx(ctx, tx, c, nil, in)
			return err
		})
		if err != nil {
			return s.jobItemError(i, err)
		}
		return userCreated(i, res.User, "Created")
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
		var res *people.UserResult
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			item := in // the store may run this function again
			var err error
			res, err = s.createOrUpdateUserTx(ctx, tx, c, &item)
			return err
		})
		switch {
		case err != nil:
			return s.jobItemError(i, err)
		case res.Created:
			return userCreated(i, res.User, "Created")
		}
		m := userCreated(i, res.User, "Updated")
		if !res.Changed {
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
func (s *Server) createOrUpdateUserTx(ctx context.Context, tx *store.Tx, c *Call, in *userIn) (*people.UserResult, error) {
	var existing *identity.User
	if in.ExternalID.Set && in.ExternalID.Value != "" {
		e, err := identity.ByExternalID(ctx, tx, c.Acct.ID, in.ExternalID.Value)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
		existing = e
	}
	if existing == nil && in.Email.Set && in.Email.Value != "" {
		if norm, ok := identity.NormalizeEmail(in.Email.Value); ok {
			e, err := identity.ByEmail(ctx, tx, c.Acct.ID, norm)
			if err != nil && !errs.Is(err, errs.NotFound) {
				return nil, err
			}
			if e != nil {
				// Matched by one of the user's addresses: the primary one stays.
				existing, in.Email.Set = e, false
			}
		}
	}
	return s.writeUserTx(ctx, tx, c, existing, in)
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
		res, err := s.writeUserTx(ctx, tx, c, before, in)
		if err != nil {
			return 0, false, err
		}
		return int64(res.User.ID), res.Changed, nil
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
		_, err = people.DeleteUser(ctx, tx, c.Acct, c.actor(), u.ID)
		return int64(u.ID), err
	})
}

// Organizations.

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
		res, err := s.writeOrgTx(ctx, tx, c, before, in)
		if err != nil {
			return 0, false, err
		}
		return int64(res.Org.ID), res.Changed, nil
	})
}

func (s *Server) destroyManyOrgs(w http.ResponseWriter, r *http.Request, c *Call) error {
	return startBulkDelete(s, w, r, c, "bulk_delete_organizations", func(ctx context.Context, tx *store.Tx, t bulkTarget) (int64, error) {
		o, err := s.bulkOrg(ctx, tx, c, t)
		if err != nil {
			return 0, err
		}
		return int64(o.ID), people.DeleteOrg(ctx, tx, c.Acct, c.actor(), o.ID)
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
		var res *people.OrgResult
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			var err error
			res, err = s.createOrUpdateOrgTx(ctx, tx, c, &in)
			return err
		})
		if err != nil {
			return s.jobItemError(i, err)
		}
		m := map[string]any{"index": i, "id": int64(res.Org.ID), "status": "Updated"}
		switch {
		case res.Created:
			m["status"] = "Created"
		case !res.Changed:
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
