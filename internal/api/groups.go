package api

import (
	"context"
	"net/http"
	"strconv"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/people"
	"tandem/internal/store"
)

// Groups and group memberships: agents read, admins write. Deleting a group keeps it
// readable with deleted true. Only agents and admins can be members.

func (s *Server) groupRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/groups", s.h(agent, s.listGroups))
	mux.HandleFunc("POST /api/v2/groups", s.h(admin, s.createGroup))
	mux.HandleFunc("GET /api/v2/groups/assignable", s.h(agent, s.assignableGroups))
	mux.HandleFunc("GET /api/v2/groups/count", s.h(agent, s.countGroups))
	mux.HandleFunc("GET /api/v2/groups/{id}", s.h(agent, s.showGroup))
	mux.HandleFunc("PUT /api/v2/groups/{id}", s.h(admin, s.updateGroup))
	mux.HandleFunc("DELETE /api/v2/groups/{id}", s.h(admin, s.deleteGroup))
	mux.HandleFunc("GET /api/v2/groups/{id}/users", s.h(agent, s.groupUsers))
	mux.HandleFunc("GET /api/v2/groups/{id}/memberships", s.h(agent, s.groupGroupMemberships))

	mux.HandleFunc("GET /api/v2/group_memberships", s.h(agent, s.listGroupMemberships))
	mux.HandleFunc("POST /api/v2/group_memberships", s.h(admin, s.createGroupMembership))
	mux.HandleFunc("POST /api/v2/group_memberships/create_many", s.h(admin, s.createManyGroupMemberships))
	mux.HandleFunc("GET /api/v2/group_memberships/assignable", s.h(agent, s.assignableGroupMemberships))
	mux.HandleFunc("GET /api/v2/group_memberships/{id}", s.h(agent, s.showGroupMembership))
	mux.HandleFunc("DELETE /api/v2/group_memberships/{id}", s.h(admin, s.deleteGroupMembership))
	mux.HandleFunc("PUT /api/v2/users/{uid}/group_memberships/{id}/make_default", s.h(agent, s.makeDefaultGroupMembership))
}

type groupIn struct {
	Name        optStr  `json:"name"`
	Description optStr  `json:"description"`
	IsPublic    optBool `json:"is_public"`
}

func (s *Server) decodeGroup(r *http.Request) (*groupIn, error) {
	return decodeObject[groupIn](s, r, "group")
}

func applyGroup(g *org.Group, in *groupIn) {
	if in.Name.Set {
		g.Name = in.Name.Value
	}
	if in.Description.Set {
		g.Description = in.Description.Value
	}
	if in.IsPublic.Set {
		g.IsPublic = in.IsPublic.Value
	}
}

var groupSorts = map[string]string{"id": "g.id", "created_at": "g.created_at", "updated_at": "g.updated_at"}

func (s *Server) listGroupQuery(w http.ResponseWriter, r *http.Request, c *Call, spec listSpec) error {
	spec.Cols, spec.IDCol = peopleCols(org.GroupCols, "g."), "g.id"
	if spec.From == "" {
		spec.From = "groups g"
	}
	list, res, err := peopleList(r.Context(), s.db.R(), r, spec, groupSorts, org.ScanGroup)
	if err != nil {
		return err
	}
	writePeopleList(w, r, "groups", renderGroups(c, list), res, nil)
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, c *Call) error {
	spec := listSpec{Where: "g.account_id = ?", Args: []any{c.Acct.ID}}
	if r.URL.Query().Get("exclude_deleted") == "true" {
		spec.Where += " AND g.deleted = FALSE"
	}
	return s.listGroupQuery(w, r, c, spec)
}

func (s *Server) assignableGroups(w http.ResponseWriter, r *http.Request, c *Call) error {
	return s.listGroupQuery(w, r, c, listSpec{Where: "g.account_id = ? AND g.deleted = FALSE", Args: []any{c.Acct.ID}})
}

func (s *Server) countGroups(w http.ResponseWriter, r *http.Request, c *Call) error {
	n, err := org.CountGroups(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, peopleCountBody(n))
	return nil
}

func (s *Server) pathGroup(r *http.Request, c *Call) (*org.Group, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return org.GetGroup(r.Context(), s.db.R(), c.Acct.ID, ids.Group(id))
}

func (s *Server) showGroup(w http.ResponseWriter, r *http.Request, c *Call) error {
	g, err := s.pathGroup(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"group": renderGroup(c, g)})
	return nil
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := s.decodeGroup(r)
	if err != nil {
		return err
	}
	g := &org.Group{AccountID: c.Acct.ID, IsPublic: true}
	applyGroup(g, in)
	err = s.db.Write(r.Context(), func(tx *store.Tx) error {
		if err := people.CreateGroup(r.Context(), tx, c.Acct, c.actor(), g); err != nil {
			return err
		}
		g, err = org.GetGroup(r.Context(), tx, c.Acct.ID, g.ID)
		return err
	})
	if err != nil {
		return err
	}
	peopleCreated(w, c, "/api/v2/groups/"+strconv.FormatInt(int64(g.ID), 10)+".json", map[string]any{"group": renderGroup(c, g)})
	return nil
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in, err := s.decodeGroup(r)
	if err != nil {
		return err
	}
	var g *org.Group
	err = s.db.Write(r.Context(), func(tx *store.Tx) error {
		g, err = org.GetGroup(r.Context(), tx, c.Acct.ID, ids.Group(id))
		if err != nil {
			return err
		}
		if g.Deleted {
			return errs.NotFoundf("group %d has been deleted", id)
		}
		applyGroup(g, in)
		if err := people.SaveGroup(r.Context(), tx, c.Acct, c.actor(), g); err != nil {
			return err
		}
		g, err = org.GetGroup(r.Context(), tx, c.Acct.ID, g.ID)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"group": renderGroup(c, g)})
	return nil
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, c *Call) error {
	return s.removeByPathID(w, r, func(ctx context.Context, tx *store.Tx, id int64) error {
		return people.DeleteGroup(ctx, tx, c.Acct, c.actor(), ids.Group(id))
	})
}

func (s *Server) groupUsers(w http.ResponseWriter, r *http.Request, c *Call) error {
	g, err := s.pathGroup(r, c)
	if err != nil {
		return err
	}
	return s.listUserQuery(w, r, c, listSpec{
		From:  "users u JOIN group_memberships m ON m.account_id = u.account_id AND m.user_id = u.id",
		Where: "u.account_id = ? AND m.group_id = ? AND u.active = TRUE",
		Args:  []any{c.Acct.ID, g.ID},
	})
}

func (s *Server) groupGroupMemberships(w http.ResponseWriter, r *http.Request, c *Call) error {
	g, err := s.pathGroup(r, c)
	if err != nil {
		return err
	}
	return s.listGroupMembershipQuery(w, r, c, listSpec{Where: "m.account_id = ? AND m.group_id = ?", Args: []any{c.Acct.ID, g.ID}})
}

// Group memberships.

func (s *Server) listGroupMembershipQuery(w http.ResponseWriter, r *http.Request, c *Call, spec listSpec) error {
	ctx := r.Context()
	spec.Cols, spec.IDCol = peopleCols(org.GroupMembershipCols, "m."), "m.id"
	if spec.From == "" {
		spec.From = "group_memberships m"
	}
	list, res, err := peopleList(ctx, s.db.R(), r, spec, map[string]string{"id": "m.id", "created_at": "m.created_at", "updated_at": "m.updated_at"}, org.ScanGroupMembership)
	if err != nil {
		return err
	}
	extra := map[string]any{}
	var uids []ids.User
	var gids []ids.Group
	for _, m := range list {
		uids, gids = append(uids, m.UserID), append(gids, m.GroupID)
	}
	if err := sideloadPeople(ctx, s.db.R(), c, extra, peopleIncludes(r), uids, nil, gids, false); err != nil {
		return err
	}
	writePeopleList(w, r, "group_memberships", renderGroupMemberships(c, list), res, extra)
	return nil
}

func (s *Server) listGroupMemberships(w http.ResponseWriter, r *http.Request, c *Call) error {
	return s.listGroupMembershipQuery(w, r, c, listSpec{Where: "m.account_id = ?", Args: []any{c.Acct.ID}})
}

func (s *Server) assignableGroupMemberships(w http.ResponseWriter, r *http.Request, c *Call) error {
	return s.listGroupMembershipQuery(w, r, c, listSpec{
		From:  "group_memberships m JOIN groups g ON g.account_id = m.account_id AND g.id = m.group_id",
		Where: "m.account_id = ? AND g.deleted = FALSE",
		Args:  []any{c.Acct.ID},
	})
}

func (s *Server) showGroupMembership(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	m, err := org.GetGroupMembership(r.Context(), s.db.R(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"group_membership": renderGroupMembership(c, m)})
	return nil
}

type groupMembershipIn struct {
	UserID  peopleID `json:"user_id"`
	GroupID peopleID `json:"group_id"`
	Default optBool  `json:"default"`
}

func (s *Server) createGroupMembershipTx(ctx context.Context, tx *store.Tx, c *Call, in *groupMembershipIn) (*org.GroupMembership, error) {
	var v errs.Validation
	if in.UserID.Value == 0 {
		v.Blank("user_id")
	}
	if in.GroupID.Value == 0 {
		v.Blank("group_id")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	m, isNew, err := people.AddGroupMembership(ctx, tx, c.Acct, c.actor(), ids.User(in.UserID.Value), ids.Group(in.GroupID.Value), in.Default.Value)
	if err != nil {
		return nil, err
	}
	if !isNew {
		return nil, errs.Invalidf("user_id", "DuplicateValue", "user %d is already a member of group %d", in.UserID.Value, in.GroupID.Value)
	}
	return org.GetGroupMembership(ctx, tx, c.Acct.ID, m.ID)
}

func (s *Server) createGroupMembership(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := decodeObject[groupMembershipIn](s, r, "group_membership")
	if err != nil {
		return err
	}
	var m *org.GroupMembership
	err = s.db.Write(r.Context(), func(tx *store.Tx) error {
		m, err = s.createGroupMembershipTx(r.Context(), tx, c, in)
		return err
	})
	if err != nil {
		return err
	}
	peopleCreated(w, c, "/api/v2/group_memberships/"+strconv.FormatInt(m.ID, 10)+".json", map[string]any{"group_membership": renderGroupMembership(c, m)})
	return nil
}

func (s *Server) createManyGroupMemberships(w http.ResponseWriter, r *http.Request, c *Call) error {
	return createManyJob(s, w, r, c, "group_memberships", "group memberships", "bulk_create_group_memberships",
		func(ctx context.Context, tx *store.Tx, in *groupMembershipIn) (int64, error) {
			m, err := s.createGroupMembershipTx(ctx, tx, c, in)
			if err != nil {
				return 0, err
			}
			return m.ID, nil
		})
}

func (s *Server) deleteGroupMembership(w http.ResponseWriter, r *http.Request, c *Call) error {
	return s.removeByPathID(w, r, func(ctx context.Context, tx *store.Tx, id int64) error {
		return people.RemoveGroupMembership(ctx, tx, c.Acct, c.actor(), id)
	})
}

// makeDefaultGroupMembership: admins for anyone, agents for themselves. It answers with
// the user's memberships, as Zendesk does.
func (s *Server) makeDefaultGroupMembership(w http.ResponseWriter, r *http.Request, c *Call) error {
	uid, err := pathUserID(r, c, "uid")
	if err != nil {
		return err
	}
	mid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	var list []*org.GroupMembership
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		m, err := org.GetGroupMembership(ctx, tx, c.Acct.ID, mid)
		if err != nil {
			return err
		}
		if m.UserID != uid {
			return errs.NotFoundf("group membership %d is not user %d's", mid, uid)
		}
		if err := people.SetDefaultGroup(ctx, tx, c.Acct, c.actor(), m); err != nil {
			return err
		}
		list, err = org.UserGroupMemberships(ctx, tx, c.Acct.ID, uid)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"group_memberships": renderGroupMemberships(c, list)})
	return nil
}
