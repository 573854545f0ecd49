package demo

import (
	"context"
	"fmt"
	"net/http"
)

// accountSeed is the state of one account's seeding: the API client acting as the
// account's admin, and the IDs of what has been created so far.
type accountSeed struct {
	spec   accountSpec
	api    *client
	users  map[string]int64 // email -> user ID
	groups map[string]int64 // name -> group ID
	orgs   map[string]int64 // name -> organization ID
}

func (a *accountSeed) user(email string) (int64, error) {
	id, ok := a.users[email]
	if !ok {
		return 0, fmt.Errorf("demo data: %s is not a user of %s", email, a.spec.Subdomain)
	}
	return id, nil
}

// seedAgents creates the agents: POST /api/v2/users.
func seedAgents(ctx context.Context, a *accountSeed) error {
	for _, p := range a.spec.Agents {
		id, err := a.api.create(ctx, "/api/v2/users.json", "user", map[string]any{
			"name": p.Name, "email": p.Email, "role": "agent", "verified": true, "password": Password,
		})
		if err != nil {
			return err
		}
		a.users[p.Email] = id
	}
	return nil
}

// seedGroups creates the groups and their memberships: POST /api/v2/groups and
// /api/v2/group_memberships.
func seedGroups(ctx context.Context, a *accountSeed) error {
	for _, g := range a.spec.Groups {
		gid, err := a.api.create(ctx, "/api/v2/groups.json", "group", map[string]any{"name": g.Name})
		if err != nil {
			return err
		}
		a.groups[g.Name] = gid
		for _, email := range g.Members {
			uid, err := a.user(email)
			if err != nil {
				return err
			}
			if _, err := a.api.create(ctx, "/api/v2/group_memberships.json", "group_membership", map[string]any{
				"user_id": uid, "group_id": gid,
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// seedOrgs creates the organizations: POST /api/v2/organizations.
func seedOrgs(ctx context.Context, a *accountSeed) error {
	for _, o := range a.spec.Orgs {
		body := map[string]any{
			"name":            o.Name,
			"details":         o.Details,
			"domain_names":    o.DomainNames,
			"shared_tickets":  o.SharedTickets,
			"shared_comments": o.SharedComments,
			"tags":            o.Tags,
		}
		if o.Group != "" {
			gid, ok := a.groups[o.Group]
			if !ok {
				return fmt.Errorf("demo data: organization %s maps to unknown group %s", o.Name, o.Group)
			}
			body["group_id"] = gid
		}
		id, err := a.api.create(ctx, "/api/v2/organizations.json", "organization", body)
		if err != nil {
			return err
		}
		a.orgs[o.Name] = id
	}
	return nil
}

// seedCustomers creates the end users, in their organization when they have one:
// POST /api/v2/users.
func seedCustomers(ctx context.Context, a *accountSeed) error {
	for _, c := range a.spec.Customers {
		body := map[string]any{"name": c.Name, "email": c.Email, "role": "end-user", "verified": true, "password": Password}
		if c.Org != "" {
			oid, ok := a.orgs[c.Org]
			if !ok {
				return fmt.Errorf("demo data: %s belongs to unknown organization %s", c.Email, c.Org)
			}
			body["organization_id"] = oid
		}
		id, err := a.api.create(ctx, "/api/v2/users.json", "user", body)
		if err != nil {
			return err
		}
		a.users[c.Email] = id
	}
	return nil
}

// seedTickets creates each ticket with its requester's first comment (POST
// /api/v2/tickets), then adds the conversation one update at a time (PUT
// /api/v2/tickets/{id}), the last update setting the final status.
func seedTickets(ctx context.Context, a *accountSeed) error {
	for i, t := range a.spec.Tickets {
		if err := seedTicket(ctx, a, t); err != nil {
			return fmt.Errorf("ticket %d (%q): %w", i+1, t.Subject, err)
		}
	}
	return nil
}

func seedTicket(ctx context.Context, a *accountSeed, t ticketSpec) error {
	var assignee int64
	if t.Assignee != "" {
		var err error
		if assignee, err = a.user(t.Assignee); err != nil {
			return err
		}
	}
	body := map[string]any{
		"subject":  t.Subject,
		"type":     t.Type,
		"priority": t.Priority,
		"tags":     t.Tags,
	}
	if t.Phoned != nil {
		// The caller is named inline; the API finds or creates the end user. The agent
		// who took the call writes the first comment.
		body["requester"] = map[string]any{"name": t.Phoned.Name, "email": t.Phoned.Email}
		comment := map[string]any{"body": t.Body}
		if assignee != 0 {
			comment["author_id"] = assignee
		}
		body["comment"] = comment
	} else {
		rid, err := a.user(t.From)
		if err != nil {
			return err
		}
		body["requester_id"] = rid
		body["submitter_id"] = rid
		body["comment"] = map[string]any{"body": t.Body, "author_id": rid}
	}
	if t.Group != "" {
		gid, ok := a.groups[t.Group]
		if !ok {
			return fmt.Errorf("demo data: unknown group %s", t.Group)
		}
		body["group_id"] = gid
	}
	if assignee != 0 {
		body["assignee_id"] = assignee
	}
	switch {
	case len(t.Posts) == 0:
		body["status"] = t.Status
	case assignee != 0:
		body["status"] = "open"
	}

	var created struct {
		Ticket struct {
			ID        int64 `json:"id"`
			Requester int64 `json:"requester_id"`
		} `json:"ticket"`
	}
	if err := a.api.do(ctx, http.MethodPost, "/api/v2/tickets.json", map[string]any{"ticket": body}, &created); err != nil {
		return err
	}
	id := created.Ticket.ID
	if id == 0 {
		return fmt.Errorf("POST /api/v2/tickets.json: the response has no ticket.id")
	}

	for i, p := range t.Posts {
		author := assignee
		switch {
		case p.By == byRequester:
			author = created.Ticket.Requester
		case p.By != "":
			var err error
			if author, err = a.user(p.By); err != nil {
				return err
			}
		}
		comment := map[string]any{"body": p.Body, "public": !p.Private}
		if author != 0 {
			comment["author_id"] = author
		}
		update := map[string]any{"comment": comment}
		if i == len(t.Posts)-1 {
			update["status"] = t.Status
		}
		if err := a.api.do(ctx, http.MethodPut, fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": update}, nil); err != nil {
			return err
		}
	}
	return nil
}

// seedMacros creates a few shared macros and a personal macro of the first agent (seen
// only by them): POST /api/v2/macros, with Zendesk's restriction for the personal one.
func seedMacros(ctx context.Context, a *accountSeed) error {
	type act = map[string]any
	macros := []map[string]any{
		{"title": "Ask for more details", "actions": []act{{"field": "status", "value": "pending"},
			{"field": "comment_value", "value": "Thanks for reaching out, {{ticket.requester.first_name}}. Could you send us your order number and, if you can, a photo of the problem?"}}},
		{"title": "Close and thank", "actions": []act{{"field": "status", "value": "solved"},
			{"field": "comment_value", "value": "Glad we could sort this out. If anything else comes up, just reply to this message and the ticket reopens."}}},
		{"title": "Mark urgent", "actions": []act{{"field": "priority", "value": "urgent"}, {"field": "current_tags", "value": "urgent"}}},
	}
	if len(a.spec.Agents) > 0 {
		p := a.spec.Agents[0]
		id, err := a.user(p.Email)
		if err != nil {
			return err
		}
		macros = append(macros, map[string]any{"title": "My sign-off", "restriction": map[string]any{"type": "User", "id": id},
			"actions": []act{{"field": "comment_value", "value": "Best wishes,\n" + p.Name}}})
	}
	for _, m := range macros {
		if _, err := a.api.create(ctx, "/api/v2/macros.json", "macro", m); err != nil {
			return err
		}
	}
	return nil
}
