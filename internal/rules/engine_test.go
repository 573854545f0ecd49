package rules_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/people"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// TestTriggerEngine runs the condition/action engine through the real write path: each
// case sets up triggers, makes a change, and checks the ticket and the audit.
func TestTriggerEngine(t *testing.T) {
	type env struct {
		*rig
		sales  ids.Group
		acme   ids.Org
		ticket *ticket.Ticket // the ticket made by setup's create, if any
	}
	cases := []struct {
		name string
		// triggers creates the triggers, in position order.
		triggers func(e *env)
		// act makes the change under test and returns its result.
		act   func(e *env) *ticket.Result
		check func(t *testing.T, e *env, res *ticket.Result)
	}{
		{
			name: "a matching trigger's change lands in the same audit, via the trigger",
			triggers: func(e *env) {
				e.trigger("Escalate", []rules.Condition{c("update_type", "is", "Create")}, a("priority", "high"))
			},
			act: func(e *env) *ticket.Result { return e.create(&ticket.Patch{}) },
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if res.Ticket.Priority != "high" {
					t.Fatalf("priority = %q", res.Ticket.Priority)
				}
				if got := ruleEvents(res.Audit); !slices.Equal(got, []string{"Escalate:Change:priority"}) {
					t.Fatalf("rule events = %v", got)
				}
				for _, ev := range res.Audit.Events {
					if ev["field_name"] == "priority" && ev["type"] == "Change" {
						v := *ev["via"].(*ticket.Via)
						from := v.Source["from"].(map[string]any)
						if v.Channel != "rule" || v.Source["rel"] != "trigger" || from["deleted"] != false || from["id"] == nil {
							t.Fatalf("via = %+v", v)
						}
					}
				}
			},
		},
		{
			name: "after a trigger fires, checking restarts from the top",
			triggers: func(e *env) {
				e.trigger("Second", []rules.Condition{c("current_tags", "includes", "b")}, a("current_tags", "c"))
				e.trigger("First", []rules.Condition{c("update_type", "is", "Create")}, a("current_tags", "b"))
			},
			act: func(e *env) *ticket.Result { return e.create(&ticket.Patch{}) },
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if tags(res.Ticket) != "b c" {
					t.Fatalf("tags = %q", tags(res.Ticket))
				}
				if got := ruleEvents(res.Audit); !slices.Equal(got, []string{"First:Change:tags", "Second:Change:tags"}) {
					t.Fatalf("rule events = %v", got)
				}
			},
		},
		{
			name: "a trigger fires at most once per update",
			triggers: func(e *env) {
				// No nullifying condition: it matches on every pass.
				e.trigger("Always", []rules.Condition{c("status", "is_not", "closed")},
					a("notification_user", "requester_id", "Hello", "Hi {{ticket.requester.first_name}}"))
				e.trigger("Tagger", []rules.Condition{c("update_type", "is", "Create")}, a("current_tags", "x"))
			},
			act: func(e *env) *ticket.Result { return e.create(&ticket.Patch{}) },
			check: func(t *testing.T, e *env, res *ticket.Result) {
				n := 0
				for _, ev := range res.Audit.Events {
					if ev["type"] == "Notification" {
						n++
						if ev["body"] != "Hi Rita" || fmt.Sprint(ev["recipients"]) != fmt.Sprintf("[%d]", e.requester) {
							t.Fatalf("notification = %v", ev)
						}
					}
				}
				if n != 1 || tags(res.Ticket) != "x" {
					t.Fatalf("%d notifications, tags %q", n, tags(res.Ticket))
				}
			},
		},
		{
			name: "a trigger whose actions change nothing does not count as firing",
			triggers: func(e *env) {
				// Matches first but changes nothing; once Lower has run it has something to do.
				e.trigger("Urgent", []rules.Condition{c("current_tags", "includes", "vip")}, a("priority", "urgent"))
				e.trigger("Lower", []rules.Condition{c("update_type", "is", "Create")}, a("priority", "low"))
			},
			act: func(e *env) *ticket.Result {
				return e.create(&ticket.Patch{Priority: ticket.Ptr("urgent"), Tags: &[]string{"vip"}})
			},
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if res.Ticket.Priority != "urgent" {
					t.Fatalf("priority = %q: the no-op pass must not use up Urgent's one firing", res.Ticket.Priority)
				}
				if got := ruleEvents(res.Audit); !slices.Equal(got, []string{"Lower:Change:priority", "Urgent:Change:priority"}) {
					t.Fatalf("rule events = %v", got)
				}
			},
		},
		{
			name: "two triggers undoing each other stop after each fired once",
			triggers: func(e *env) {
				e.trigger("X to Y", []rules.Condition{c("current_tags", "includes", "x")}, a("remove_tags", "x"), a("current_tags", "y"))
				e.trigger("Y to X", []rules.Condition{c("current_tags", "includes", "y")}, a("remove_tags", "y"), a("current_tags", "x"))
			},
			act: func(e *env) *ticket.Result { return e.create(&ticket.Patch{Tags: &[]string{"x"}}) },
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if tags(res.Ticket) != "x" {
					t.Fatalf("tags = %q", tags(res.Ticket))
				}
				if got := ruleEvents(res.Audit); !slices.Equal(got, []string{"X to Y:Change:tags", "Y to X:Change:tags"}) {
					t.Fatalf("rule events = %v", got)
				}
			},
		},
		{
			name: "a ring of forty priority flippers ends",
			triggers: func(e *env) {
				prios := ticket.Priorities
				for i := range 40 {
					from, to := prios[i%4], prios[(i+1)%4]
					e.trigger(fmt.Sprintf("Flip %d", i), []rules.Condition{c("priority", "is", from)}, a("priority", to))
				}
			},
			act: func(e *env) *ticket.Result { return e.create(&ticket.Patch{Priority: ticket.Ptr("low")}) },
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if n := len(ruleEvents(res.Audit)); n != 40 {
					t.Fatalf("%d rule changes, want each of the 40 triggers once", n)
				}
			},
		},
		{
			name: "position order decides who wins",
			triggers: func(e *env) {
				e.trigger("High", []rules.Condition{c("update_type", "is", "Create")}, a("priority", "high"))
				e.trigger("Low", []rules.Condition{c("update_type", "is", "Create")}, a("priority", "low"))
			},
			act: func(e *env) *ticket.Result { return e.create(&ticket.Patch{}) },
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if res.Ticket.Priority != "low" {
					t.Fatalf("priority = %q, want the later trigger's", res.Ticket.Priority)
				}
			},
		},
		{
			name: "inactive triggers do not run",
			triggers: func(e *env) {
				tr := e.trigger("Off", []rules.Condition{c("update_type", "is", "Create")}, a("priority", "high"))
				if _, err := e.rules.UpdateTrigger(e.ctx, e.acct, tr.ID, func(t *rules.Trigger) error { t.Active = false; return nil }); err != nil {
					panic(err)
				}
			},
			act: func(e *env) *ticket.Result { return e.create(&ticket.Patch{}) },
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if res.Ticket.Priority != "" {
					t.Fatalf("priority = %q", res.Ticket.Priority)
				}
			},
		},
		{
			name: "changed, changed to and changed from",
			triggers: func(e *env) {
				e.trigger("To solved", []rules.Condition{c("status", "value", "solved")}, a("current_tags", "to_solved"))
				e.trigger("From open", []rules.Condition{c("status", "value_previous", "open")}, a("current_tags", "from_open"))
				e.trigger("Prio changed", []rules.Condition{c("priority", "changed", "")}, a("current_tags", "prio_changed"))
				e.trigger("Group same", []rules.Condition{c("group_id", "not_changed", ""), c("update_type", "is", "Change")}, a("current_tags", "group_same"))
				e.trigger("Not to pending", []rules.Condition{c("status", "not_value", "pending"), c("update_type", "is", "Change")}, a("current_tags", "not_pending"))
			},
			act: func(e *env) *ticket.Result {
				return e.update(e.agent, e.ticket.ID, &ticket.Patch{Status: ticket.Ptr(ticket.Solved)})
			},
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if got := tags(res.Ticket); got != "to_solved from_open group_same not_pending" {
					t.Fatalf("tags = %q", got)
				}
			},
		},
		{
			name: "comment conditions: words, string, public and private",
			triggers: func(e *env) {
				e.trigger("Refund word", []rules.Condition{c("comment_includes_word", "includes", "refund money")}, a("current_tags", "refund"))
				e.trigger("No thanks", []rules.Condition{c("comment_includes_word", "not_includes", "thanks")}, a("current_tags", "no_thanks"))
				e.trigger("Phrase", []rules.Condition{c("comment_includes_word", "is", "want my")}, a("current_tags", "phrase"))
				e.trigger("Private", []rules.Condition{c("comment_is_public", "is", "false")}, a("current_tags", "private_note"))
				e.trigger("Public", []rules.Condition{c("comment_is_public", "is", "true")}, a("current_tags", "public_reply"))
				e.trigger("Subject", []rules.Condition{c("subject_includes_word", "includes", "blender")}, a("current_tags", "blender"))
			},
			act: func(e *env) *ticket.Result {
				return e.update(e.agent, e.ticket.ID, &ticket.Patch{Comment: &ticket.CommentInput{Body: "Customer says: I want my REFUND now.", Public: ticket.Ptr(false)}})
			},
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if got := tags(res.Ticket); got != "refund no_thanks phrase private_note blender" {
					t.Fatalf("tags = %q", got)
				}
			},
		},
		{
			name: "channel and update channel: ticket sharing is 31",
			triggers: func(e *env) {
				e.trigger("From partner", []rules.Condition{c("current_via_id", "is", "31")}, a("current_tags", "partner_update"))
				e.trigger("Made by API", []rules.Condition{c("via_id", "is", "5")}, a("current_tags", "api_ticket"))
			},
			act: func(e *env) *ticket.Result {
				return e.update(e.agent, e.ticket.ID, &ticket.Patch{Via: ticket.Ptr(ticket.ViaFor(ticket.ViaTicketShare)), Comment: &ticket.CommentInput{Body: "From the manufacturer"}})
			},
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if got := tags(res.Ticket); got != "partner_update api_ticket" {
					t.Fatalf("tags = %q", got)
				}
			},
		},
		{
			name: "people: current user, requester, assignee, role",
			triggers: func(e *env) {
				e.trigger("Assigned to me", []rules.Condition{c("assignee_id", "is", "current_user")}, a("current_tags", "mine"))
				e.trigger("Requester is not me", []rules.Condition{c("requester_id", "is_not", "current_user")}, a("current_tags", "not_requester"))
				e.trigger("Agent", []rules.Condition{c("role", "is", "agent")}, a("current_tags", "by_agent"))
				e.trigger("Exact requester", []rules.Condition{c("requester_id", "is", fmt.Sprint(e.requester))}, a("current_tags", "rita"))
			},
			act: func(e *env) *ticket.Result {
				return e.update(e.agent, e.ticket.ID, &ticket.Patch{AssigneeID: ticket.Ptr(e.agent.UserID)})
			},
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if got := tags(res.Ticket); got != "mine not_requester by_agent rita" {
					t.Fatalf("tags = %q", got)
				}
			},
		},
		{
			name: "organization: its group mapping applies before triggers, and its fields are conditions",
			triggers: func(e *env) {
				e.trigger("Sales group", []rules.Condition{c("group_id", "is", fmt.Sprint(e.sales))}, a("current_tags", "sales"))
				e.trigger("Acme", []rules.Condition{c("organization_id", "is", fmt.Sprint(e.acme))}, a("current_tags", "acme"))
				e.trigger("Gold", []rules.Condition{c("organization.custom_fields.tier", "is", "gold")}, a("priority", "high"))
			},
			act: func(e *env) *ticket.Result { return e.create(&ticket.Patch{OrganizationID: ticket.Ptr(e.acme)}) },
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if res.Ticket.GroupID != e.sales || tags(res.Ticket) != "sales acme" || res.Ticket.Priority != "high" {
					t.Fatalf("group %d tags %q priority %q", res.Ticket.GroupID, tags(res.Ticket), res.Ticket.Priority)
				}
			},
		},
		{
			name: "organization: the requester's default organization routes the ticket before triggers run",
			triggers: func(e *env) {
				e.write(func(tx *store.Tx) error {
					_, err := people.AddMembership(e.ctx, tx, e.acct, people.System, e.requester, e.acme, true)
					return err
				})
				e.trigger("Sales group", []rules.Condition{c("group_id", "is", fmt.Sprint(e.sales)), c("update_type", "is", "Create")}, a("current_tags", "routed"))
				e.trigger("Gold", []rules.Condition{c("organization.custom_fields.tier", "is", "gold")}, a("priority", "high"))
			},
			act: func(e *env) *ticket.Result { return e.create(&ticket.Patch{}) },
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if res.Ticket.OrganizationID != e.acme || res.Ticket.GroupID != e.sales || tags(res.Ticket) != "routed" || res.Ticket.Priority != "high" {
					t.Fatalf("org %d group %d tags %q priority %q", res.Ticket.OrganizationID, res.Ticket.GroupID, tags(res.Ticket), res.Ticket.Priority)
				}
			},
		},
		{
			name: "actions: set, add and remove tags, status, type, group, assignee, private comment",
			triggers: func(e *env) {
				e.trigger("Triage", []rules.Condition{c("update_type", "is", "Create")},
					a("set_tags", "one two three"), a("remove_tags", "two"), a("current_tags", "four"),
					a("status", "open"), a("type", "incident"), a("group_id", fmt.Sprint(e.sales)), a("assignee_id", fmt.Sprint(e.agent.UserID)),
					a("comment_value", "Routed to {{ticket.group.name}} for #{{ticket.id}}"), a("comment_mode_is_public", "false"))
			},
			act: func(e *env) *ticket.Result { return e.create(&ticket.Patch{}) },
			check: func(t *testing.T, e *env, res *ticket.Result) {
				tk := res.Ticket
				if tags(tk) != "one three four" || tk.Status != ticket.Open || tk.Type != "incident" || tk.GroupID != e.sales || tk.AssigneeID != e.agent.UserID {
					t.Fatalf("ticket = %+v", tk)
				}
				if len(res.Comments) != 2 {
					t.Fatalf("%d comments", len(res.Comments))
				}
				cm := res.Comments[1]
				want := fmt.Sprintf("Routed to Sales for #%d", tk.ID)
				if cm.Public || cm.Body != want || cm.Via.Channel != "rule" || cm.AuthorID != e.agent.UserID {
					t.Fatalf("comment = %+v", cm)
				}
			},
		},
		{
			name: "notify a group: members recorded as recipients",
			triggers: func(e *env) {
				e.trigger("Tell sales", []rules.Condition{c("update_type", "is", "Create")},
					a("group_id", fmt.Sprint(e.sales)), a("notification_group", "group_id", "New: {{ticket.title}}", "{{ticket.description}}"))
			},
			act: func(e *env) *ticket.Result { return e.create(&ticket.Patch{}) },
			check: func(t *testing.T, e *env, res *ticket.Result) {
				for _, ev := range res.Audit.Events {
					if ev["type"] == "Notification" {
						if ev["subject"] != "New: Broken blender" || ev["body"] != "My blender is broken" || fmt.Sprint(ev["recipients"]) != fmt.Sprintf("[%d]", e.agent.UserID) {
							t.Fatalf("notification = %v", ev)
						}
						return
					}
				}
				t.Fatalf("no notification in %v", events(res.Audit))
			},
		},
		{
			name: "an action naming a deleted group is skipped and reported, the write goes on",
			triggers: func(e *env) {
				e.trigger("Route", []rules.Condition{c("update_type", "is", "Create")}, a("group_id", fmt.Sprint(e.sales)), a("priority", "low"))
				e.write(func(tx *store.Tx) error {
					_, err := tx.ExecContext(e.ctx, `UPDATE groups SET deleted = TRUE WHERE account_id = ? AND id = ?`, e.acct.ID, e.sales)
					return err
				})
			},
			act: func(e *env) *ticket.Result { return e.create(&ticket.Patch{}) },
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if res.Ticket.GroupID != 0 || res.Ticket.Priority != "low" || !slices.Contains(events(res.Audit), "Error") {
					t.Fatalf("ticket %+v events %v", res.Ticket, events(res.Audit))
				}
			},
		},
		{
			name: "triggers can fire while a ticket is being closed",
			triggers: func(e *env) {
				e.trigger("Closing", []rules.Condition{c("status", "value", "closed")}, a("current_tags", "closed_by_rule"))
			},
			act: func(e *env) *ticket.Result {
				return e.update(e.agent, e.ticket.ID, &ticket.Patch{Status: ticket.Ptr(ticket.Closed)})
			},
			check: func(t *testing.T, e *env, res *ticket.Result) {
				if tags(res.Ticket) != "closed_by_rule" {
					t.Fatalf("tags = %q", tags(res.Ticket))
				}
				// A closed ticket takes no more updates, so no trigger ever runs on it.
				_, err := e.tickets.Update(e.ctx, e.acct, e.agent, res.Ticket.ID, &ticket.Patch{Priority: ticket.Ptr("high")})
				if !errs.Is(err, errs.Invalid) {
					t.Fatalf("update of a closed ticket: %v", err)
				}
			},
		},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := &env{rig: newRig(t, db, account.Enterprise)}
				e.sales = e.group("Sales", e.agent.UserID)
				e.acme = e.org("Acme", e.sales, map[string]any{"tier": "gold"})
				if strings.Contains(tc.name, "changed") || strings.Contains(tc.name, "comment") || strings.Contains(tc.name, "channel") || strings.Contains(tc.name, "people") || strings.Contains(tc.name, "closed") {
					e.ticket = e.create(&ticket.Patch{Status: ticket.Ptr(ticket.Open)}).Ticket
				}
				tc.triggers(e)
				tc.check(t, e, tc.act(e))
			})
		}
	})
}

// TestTriggerCacheSeesChanges: the compiled triggers are cached, yet a change made through
// another service instance (another process) is seen by the next write.
func TestTriggerCacheSeesChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, account.Enterprise)
		tr := r.trigger("Tag", []rules.Condition{c("update_type", "is", "Change")}, a("current_tags", "first"))
		id := r.create(&ticket.Patch{}).Ticket.ID
		if got := tags(r.update(r.agent, id, &ticket.Patch{Priority: ticket.Ptr("low")}).Ticket); got != "first" {
			t.Fatalf("tags = %q", got)
		}
		other := rules.New(db, nil, rules.Config{})
		if _, err := other.UpdateTrigger(r.ctx, r.acct, tr.ID, func(t *rules.Trigger) error {
			t.Actions = []rules.Action{a("current_tags", "second")}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got := tags(r.update(r.agent, id, &ticket.Patch{Priority: ticket.Ptr("high")}).Ticket); got != "first second" {
			t.Fatalf("tags after the other process's edit = %q", got)
		}
		if err := other.DeleteTriggers(r.ctx, r.acct.ID, []int64{tr.ID}); err != nil {
			t.Fatal(err)
		}
		if got := tags(r.update(r.agent, id, &ticket.Patch{Priority: ticket.Ptr("low"), RemoveTags: []string{"second"}}).Ticket); got != "first" {
			t.Fatalf("tags after delete = %q", got)
		}
	})
}

// TestTriggerShareTicket: on Enterprise, "created and tagged warranty_claim → share with
// the partner" asks the sharing hook to share; on an account moved down to Professional
// the same trigger does not share.
func TestTriggerShareTicket(t *testing.T) {
	shareRequests := func(ch *ticket.Change) []int64 {
		start, _ := ch.Sharing()
		return start
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, account.Enterprise)
		out := r.agreement("outbound", "accepted")
		tr, err := r.rules.CreateWarrantyClaimTrigger(r.ctx, r.acct, out)
		if err != nil {
			t.Fatal(err)
		}
		// A before-hook registered after the rules sees the request, as the sharing hook does.
		var seen []int64
		r.tickets.Before(func(_ context.Context, _ *store.Tx, ch *ticket.Change) error {
			seen, _ = ch.Sharing()
			return nil
		})
		res := r.create(&ticket.Patch{Tags: &[]string{"warranty_claim"}})
		if !slices.Equal(shareRequests(res.Change), []int64{out}) || !slices.Equal(seen, []int64{out}) {
			t.Fatalf("share requests = %v (hook saw %v), want [%d]", shareRequests(res.Change), seen, out)
		}
		// Not tagged, or an update rather than a create: no share.
		plain := r.create(&ticket.Patch{})
		if len(shareRequests(plain.Change)) != 0 {
			t.Fatalf("untagged ticket shared: %v", shareRequests(plain.Change))
		}
		if up := r.update(r.agent, plain.Ticket.ID, &ticket.Patch{AddTags: []string{"warranty_claim"}}); len(shareRequests(up.Change)) != 0 {
			t.Fatalf("update shared: %v", shareRequests(up.Change))
		}
		// An agreement that is no longer accepted: no share, and the audit says why.
		r.write(func(tx *store.Tx) error {
			_, err := tx.ExecContext(r.ctx, `UPDATE sharing_agreements SET status = 'inactive' WHERE id = ?`, out)
			return err
		})
		res = r.create(&ticket.Patch{Tags: &[]string{"warranty_claim"}})
		if len(shareRequests(res.Change)) != 0 || !slices.Contains(events(res.Audit), "Error") {
			t.Fatalf("inactive agreement: requests %v events %v", shareRequests(res.Change), events(res.Audit))
		}
		r.write(func(tx *store.Tx) error {
			_, err := tx.ExecContext(r.ctx, `UPDATE sharing_agreements SET status = 'accepted' WHERE id = ?`, out)
			return err
		})
		// Downgraded to Professional: the existing trigger no longer shares.
		r.acct.Plan = account.Professional
		res = r.create(&ticket.Patch{Tags: &[]string{"warranty_claim"}})
		if len(shareRequests(res.Change)) != 0 {
			t.Fatalf("downgraded account shared: %v", shareRequests(res.Change))
		}
		found := false
		for _, ev := range res.Audit.Events {
			if ev["type"] == "Error" && strings.Contains(fmt.Sprint(ev["message"]), "Enterprise") {
				found = true
			}
		}
		if !found {
			t.Fatalf("the audit does not say why the ticket was not shared: %v", res.Audit.Events)
		}
		// And it cannot be saved active again on that plan; switching it off is allowed.
		_, err = r.rules.UpdateTrigger(r.ctx, r.acct, tr.ID, func(t *rules.Trigger) error { t.Title = "Renamed"; return nil })
		if e, ok := errs.As(err); !ok || e.Code != errs.PlanRequired || e.Plan != "enterprise" {
			t.Fatalf("saving a sharing trigger on Professional: %v", err)
		}
		if _, err := r.rules.UpdateTrigger(r.ctx, r.acct, tr.ID, func(t *rules.Trigger) error { t.Active = false; return nil }); err != nil {
			t.Fatalf("switching the trigger off: %v", err)
		}
	})
}

// TestTriggerValidation: bad rules are refused with the field at fault.
func TestTriggerValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, account.Enterprise)
		other := newRig(t, db, account.Enterprise)
		foreign := other.agreement("outbound", "accepted")
		inbound := r.agreement("inbound", "accepted")
		outbound := r.agreement("outbound", "accepted")
		end := r.user(identity.EndUser, "eve", "Eve End")
		ok := []rules.Condition{c("update_type", "is", "Create")}
		cases := []struct {
			name  string
			conds []rules.Condition
			acts  []rules.Action
			field string
		}{
			{"unknown field", []rules.Condition{c("colour", "is", "red")}, []rules.Action{a("priority", "high")}, "conditions.all[0].field"},
			{"bad operator", []rules.Condition{c("status", "includes", "open")}, []rules.Action{a("priority", "high")}, "conditions.all[0].operator"},
			{"bad status", []rules.Condition{c("status", "is", "done")}, []rules.Action{a("priority", "high")}, "conditions.all[0].value"},
			{"non-numeric group", []rules.Condition{c("group_id", "is", "sales")}, []rules.Action{a("priority", "high")}, "conditions.all[0].value"},
			{"bad priority action", ok, []rules.Action{a("priority", "urgentest")}, "actions[0].value"},
			{"assignee must be an agent", ok, []rules.Action{a("assignee_id", fmt.Sprint(end.UserID))}, "actions[0].value"},
			{"another account's agreement", []rules.Condition{c("sent_to", "is", fmt.Sprint(foreign))}, []rules.Action{a("priority", "high")}, "conditions.all[0].value"},
			{"share through another account's agreement", ok, []rules.Action{a("share_ticket", fmt.Sprint(foreign))}, "actions[0].value"},
			{"share through an inbound agreement", ok, []rules.Action{a("share_ticket", fmt.Sprint(inbound))}, "actions[0].value"},
			{"received_from an outbound agreement", []rules.Condition{c("received_from", "is", fmt.Sprint(outbound))}, []rules.Action{a("priority", "high")}, "conditions.all[0].value"},
			{"notification needs three parts", ok, []rules.Action{a("notification_user", "requester_id")}, "actions[0].value"},
			{"unknown action", ok, []rules.Action{a("launch_rocket", "now")}, "actions[0].field"},
			{"no actions", ok, nil, "actions"},
			{"oversized", ok, []rules.Action{a("comment_value", strings.Repeat("x", 70000))}, "base"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := r.rules.CreateTrigger(r.ctx, r.acct, &rules.Trigger{Title: "Bad", Active: true, Conditions: rules.Conditions{All: tc.conds}, Actions: tc.acts})
				e, ok := errs.As(err)
				if !ok || e.Code != errs.Invalid || len(e.Details[tc.field]) == 0 {
					t.Fatalf("err = %v; want invalid with details for %s", err, tc.field)
				}
			})
		}
		// Share on Professional: refused naming Enterprise.
		pro := newRig(t, db, account.Professional)
		proAg := pro.agreement("outbound", "accepted")
		err := pro.rules.CreateTrigger(pro.ctx, pro.acct, rules.WarrantyClaimTrigger(proAg))
		if e, ok := errs.As(err); !ok || e.Code != errs.PlanRequired || e.Plan != "enterprise" || !strings.Contains(e.Message, "Enterprise") {
			t.Fatalf("share_ticket on Professional: %v", err)
		}
	})
}

// TestTriggerLimit: an account has at most 7,000 active triggers; inactive ones are not
// counted.
func TestTriggerLimit(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	r := newRig(t, db, account.Enterprise)
	r.write(func(tx *store.Tx) error {
		now := store.Micros(store.Now())
		for i := range rules.MaxActiveTriggers {
			if _, err := tx.ExecContext(r.ctx, `INSERT INTO triggers (account_id, title, active, position, conditions, actions, created_at, updated_at) VALUES (?, ?, TRUE, ?, '{"all":[{"field":"status","operator":"is","value":"hold"}],"any":[]}', '[{"field":"priority","value":"low"}]', ?, ?)`,
				r.acct.ID, fmt.Sprint("T", i), i+1, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	tr := &rules.Trigger{Title: "One too many", Active: true, Conditions: rules.Conditions{All: []rules.Condition{c("status", "is", "open")}}, Actions: []rules.Action{a("priority", "high")}}
	err := r.rules.CreateTrigger(r.ctx, r.acct, tr)
	if e, ok := errs.As(err); !ok || e.Code != errs.Invalid || len(e.Details["active"]) == 0 {
		t.Fatalf("trigger 7,001: %v", err)
	}
	tr.Active = false
	if err := r.rules.CreateTrigger(r.ctx, r.acct, tr); err != nil {
		t.Fatalf("an inactive trigger past the limit: %v", err)
	}
	if _, err := r.rules.UpdateTrigger(r.ctx, r.acct, tr.ID, func(t *rules.Trigger) error { t.Active = true; return nil }); !errs.Is(err, errs.Invalid) {
		t.Fatalf("activating trigger 7,001: %v", err)
	}
}
