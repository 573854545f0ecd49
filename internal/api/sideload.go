package api

import (
	"context"
	"net/http"
	"strconv"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// sideload adds include=users,groups,organizations arrays for the tickets in a response.
func (s *Server) sideload(ctx context.Context, q store.Queryer, c *Call, r *http.Request, body map[string]any, tickets []*ticket.Ticket) error {
	if r.URL.Query().Get("include") == "" {
		return nil
	}
	if includes(r, "users") {
		seen := map[int64]bool{}
		var list []int64
		add := func(id int64) {
			if id != 0 && !seen[id] {
				seen[id] = true
				list = append(list, id)
			}
		}
		for _, t := range tickets {
			add(int64(t.RequesterID))
			add(int64(t.SubmitterID))
			add(int64(t.AssigneeID))
			for _, u := range t.CollaboratorIDs {
				add(int64(u))
			}
		}
		users, err := s.sideUsers(ctx, q, c, list)
		if err != nil {
			return err
		}
		body["users"] = users
	}
	if includes(r, "groups") {
		out := []map[string]any{}
		seen := map[ids.Group]bool{}
		for _, t := range tickets {
			if t.GroupID == 0 || seen[t.GroupID] {
				continue
			}
			seen[t.GroupID] = true
			if g, err := org.GetGroup(ctx, q, c.Acct.ID, t.GroupID); err == nil {
				out = append(out, sideGroup(c, g))
			}
		}
		body["groups"] = out
	}
	if includes(r, "organizations") {
		out := []map[string]any{}
		seen := map[ids.Org]bool{}
		for _, t := range tickets {
			if t.OrganizationID == 0 || seen[t.OrganizationID] {
				continue
			}
			seen[t.OrganizationID] = true
			if o, err := org.GetOrg(ctx, q, c.Acct.ID, t.OrganizationID); err == nil {
				out = append(out, sideOrg(c, o))
			}
		}
		body["organizations"] = out
	}
	return nil
}

// sideUsers renders users for sideloading. End users only learn names of others.
func (s *Server) sideUsers(ctx context.Context, q store.Queryer, c *Call, list []int64) ([]map[string]any, error) {
	uids := make([]ids.User, len(list))
	for i, x := range list {
		uids[i] = ids.User(x)
	}
	users, err := identity.GetMany(ctx, q, c.Acct.ID, uids)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(users))
	for _, u := range users {
		m := map[string]any{
			"id": int64(u.ID), "url": c.URL("/api/v2/users/" + strconv.FormatInt(int64(u.ID), 10) + ".json"),
			"name": u.Name, "role": string(u.Role), "photo": nil,
		}
		if c.IsStaff() || c.User != nil && c.User.ID == u.ID {
			m["email"] = nullStr(u.Email)
			m["organization_id"] = nullID(u.OrganizationID)
			m["active"] = u.Active
			m["verified"] = u.Verified
			m["created_at"] = ts(u.CreatedAt)
			m["updated_at"] = ts(u.UpdatedAt)
			m["external_id"] = nullStr(u.ExternalID)
			m["shared"] = u.Shared
			m["shared_agent"] = u.SharedAgent
		}
		out = append(out, m)
	}
	return out, nil
}

func sideGroup(c *Call, g *org.Group) map[string]any {
	return map[string]any{
		"url": c.URL("/api/v2/groups/" + strconv.FormatInt(int64(g.ID), 10) + ".json"), "id": int64(g.ID), "name": g.Name,
		"description": g.Description, "is_public": g.IsPublic, "default": g.Default, "deleted": g.Deleted,
		"created_at": ts(g.CreatedAt), "updated_at": ts(g.UpdatedAt),
	}
}

func sideOrg(c *Call, o *org.Organization) map[string]any {
	return map[string]any{
		"url": c.URL("/api/v2/organizations/" + strconv.FormatInt(int64(o.ID), 10) + ".json"), "id": int64(o.ID), "name": o.Name,
		"shared_tickets": o.SharedTickets, "shared_comments": o.SharedComments, "external_id": nullStr(o.ExternalID),
		"created_at": ts(o.CreatedAt), "updated_at": ts(o.UpdatedAt), "domain_names": strList(o.DomainNames),
		"details": o.Details, "notes": o.Notes, "group_id": nullID(o.GroupID), "tags": strList(o.Tags), "organization_fields": o.Fields,
	}
}
