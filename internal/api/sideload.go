package api

import (
	"context"
	"net/http"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// sideload adds include=users,groups,organizations arrays for the tickets in a response
// (include=slas is written inside each ticket, by renderTicketPage and renderTicket).
func (s *Server) sideload(ctx context.Context, q store.Queryer, c *Call, r *http.Request, body map[string]any, tickets []*ticket.Ticket) error {
	inc := peopleIncludes(r)
	if len(inc) == 0 {
		return nil
	}
	var users []ids.User
	var orgs []ids.Org
	var groups []ids.Group
	for _, t := range tickets {
		users = append(users, t.RequesterID, t.SubmitterID, t.AssigneeID)
		users = append(users, t.CollaboratorIDs...)
		orgs = append(orgs, t.OrganizationID)
		groups = append(groups, t.GroupID)
	}
	return sideloadPeople(ctx, q, c, body, inc, peopleNonZero(users), orgs, groups, false)
}

// sideloadUsers adds include=users for the given users (comment authors).
func (s *Server) sideloadUsers(ctx context.Context, q store.Queryer, c *Call, r *http.Request, body map[string]any, users []ids.User) error {
	inc := peopleIncludes(r)
	if !inc["users"] {
		return nil
	}
	return sideloadPeople(ctx, q, c, body, map[string]bool{"users": true}, users, nil, nil, false)
}
