package rules_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// rig is one account on a real database with the ticket write path and the rules hook.
type rig struct {
	t       testing.TB
	ctx     context.Context
	db      *store.DB
	tickets *ticket.Service
	rules   *rules.Service
	acct    *account.Account
	admin   ticket.Actor
	agent   ticket.Actor
	// requester is an end user with an email.
	requester ids.User
}

var rigSeq int

func newRig(t testing.TB, db *store.DB, plan account.Plan) *rig {
	t.Helper()
	rigSeq++
	r := &rig{t: t, ctx: context.Background(), db: db, tickets: ticket.NewService(db)}
	r.rules = rules.New(db, nil, rules.Config{})
	r.tickets.Before(r.rules.Run)
	sub := fmt.Sprintf("rig%d", rigSeq)
	err := db.Write(r.ctx, func(tx *store.Tx) error {
		var err error
		if r.acct, err = account.Create(r.ctx, tx, sub, "Rig "+sub, plan); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.admin = r.user(identity.Admin, "admin", "Ada Admin")
	r.agent = r.user(identity.Agent, "agent", "Agnes Agent")
	r.requester = r.user(identity.EndUser, "rita", "Rita Requester").UserID
	return r
}

// user creates a user of the role.
func (r *rig) user(role identity.Role, local, name string) ticket.Actor {
	r.t.Helper()
	u := &identity.User{AccountID: r.acct.ID, Name: name, Email: local + "@" + r.acct.Subdomain + ".test", Role: role, Verified: true}
	r.write(func(tx *store.Tx) error { return identity.Insert(r.ctx, tx, u) })
	return ticket.Actor{UserID: u.ID, Role: role, Name: name}
}

func (r *rig) write(f func(tx *store.Tx) error) {
	r.t.Helper()
	if err := r.db.Write(r.ctx, f); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) group(name string, members ...ids.User) ids.Group {
	r.t.Helper()
	g := &org.Group{AccountID: r.acct.ID, Name: name, IsPublic: true}
	r.write(func(tx *store.Tx) error {
		if err := org.CreateGroup(r.ctx, tx, g); err != nil {
			return err
		}
		for _, m := range members {
			if _, _, err := org.AddGroupMembership(r.ctx, tx, r.acct.ID, m, g.ID, false); err != nil {
				return err
			}
		}
		return nil
	})
	return g.ID
}

func (r *rig) org(name string, group ids.Group, fields map[string]any) ids.Org {
	r.t.Helper()
	o := &org.Organization{AccountID: r.acct.ID, Name: name, GroupID: group, Fields: fields}
	r.write(func(tx *store.Tx) error { return org.CreateOrg(r.ctx, tx, r.acct, o) })
	return o.ID
}

// agreement records a sharing agreement of the account directly.
func (r *rig) agreement(direction, status string) int64 {
	r.t.Helper()
	var id int64
	r.write(func(tx *store.Tx) error {
		now := store.Micros(store.Now())
		return tx.QueryRowContext(r.ctx, `INSERT INTO sharing_agreements (account_id, uuid, access_key, direction, name, remote_url, local_url, status, created_at, updated_at)
			VALUES (?, ?, 'key', ?, 'Partner', 'local://partner/sharing', 'local://me/sharing', ?, ?, ?) RETURNING id`,
			r.acct.ID, ticket.NewUUID(), direction, status, now, now).Scan(&id)
	})
	return id
}

func c(field, op, value string) rules.Condition {
	return rules.Condition{Field: field, Operator: op, Value: value}
}

func a(field string, value ...string) rules.Action {
	return rules.Action{Field: field, Value: value, List: len(value) > 1}
}

// trigger creates an active trigger (position order = creation order unless given).
func (r *rig) trigger(title string, all []rules.Condition, acts ...rules.Action) *rules.Trigger {
	r.t.Helper()
	t := &rules.Trigger{Title: title, Active: true, Conditions: rules.Conditions{All: all}, Actions: acts}
	if err := r.rules.CreateTrigger(r.ctx, r.acct, t); err != nil {
		r.t.Fatalf("create trigger %q: %v", title, err)
	}
	return t
}

// create makes a ticket as the agent, requested by the rig's requester.
func (r *rig) create(p *ticket.Patch) *ticket.Result {
	r.t.Helper()
	if p.RequesterID == nil {
		p.RequesterID = &r.requester
	}
	if p.Comment == nil {
		p.Comment = &ticket.CommentInput{Body: "My blender is broken"}
	}
	if p.Subject == nil {
		p.Subject = ticket.Ptr("Broken blender")
	}
	res, err := r.tickets.Create(r.ctx, r.acct, r.agent, p)
	if err != nil {
		r.t.Fatalf("create ticket: %v", err)
	}
	return res
}

func (r *rig) update(actor ticket.Actor, id ids.Ticket, p *ticket.Patch) *ticket.Result {
	r.t.Helper()
	res, err := r.tickets.Update(r.ctx, r.acct, actor, id, p)
	if err != nil {
		r.t.Fatalf("update ticket %d: %v", id, err)
	}
	return res
}

func tags(t *ticket.Ticket) string { return strings.Join(t.Tags, " ") }

// events lists an audit's events as "Type:field" (Change/Create) or "Type".
func events(a *ticket.Audit) []string {
	var out []string
	if a == nil {
		return out
	}
	for _, e := range a.Events {
		s := fmt.Sprint(e["type"])
		if f, ok := e["field_name"]; ok {
			s += ":" + fmt.Sprint(f)
		}
		out = append(out, s)
	}
	return out
}

// ruleEvents lists the events a trigger made, as "title:Type:field".
func ruleEvents(a *ticket.Audit) []string {
	var out []string
	for _, e := range a.Events {
		v, ok := e["via"].(ticket.Via)
		if p, isPtr := e["via"].(*ticket.Via); isPtr {
			v, ok = *p, true
		}
		if !ok || v.Channel != "rule" {
			continue
		}
		from := v.Source["from"].(map[string]any)
		s := fmt.Sprintf("%v:%v", from["title"], e["type"])
		if f, ok := e["field_name"]; ok {
			s += ":" + fmt.Sprint(f)
		}
		out = append(out, s)
	}
	return out
}
