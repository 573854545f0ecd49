package rules_test

import (
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/org"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// TestViewCountCache: a view's count is served from the cache while the account's
// tickets do not change, is flagged stale (with the previous value) once one changes
// until the background recount lands, and is kept apart per account, per viewer and per
// restriction (an agent limited to their groups counts again when the groups change).
func TestViewCountCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, account.Enterprise)
		other := newRig(t, db, account.Enterprise)
		other.rules = r.rules // one service (one cache) for both accounts, as in a server
		recounts := rules.CountInBackground(r.rules)
		unsolved := rules.Conditions{All: []rules.Condition{c("status", "less_than", "solved")}}
		mine := rules.Conditions{All: []rules.Condition{c("status", "less_than", "solved"), c("assignee_id", "is", "current_user")}}
		out := rules.Output{SortBy: "updated", SortOrder: "desc"}
		count := func(r *rig, viewer ticket.Actor, conds rules.Conditions) rules.ViewCount {
			t.Helper()
			n, err := r.rules.CountView(r.ctx, r.acct.ID, viewer, conds, out)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		want := func(what string, got rules.ViewCount, n int64, fresh bool) {
			t.Helper()
			if got.N != n || got.Fresh != fresh {
				t.Fatalf("%s = %+v, want %d fresh=%v", what, got, n, fresh)
			}
		}
		r.create(&ticket.Patch{AssigneeID: &r.agent.UserID})
		r.create(&ticket.Patch{})
		other.create(&ticket.Patch{})
		want("first count", count(r, r.agent, unsolved), 2, true)
		want("unchanged account", count(r, r.agent, unsolved), 2, true)
		want("the agent's own", count(r, r.agent, mine), 1, true)
		want("another account", count(other, other.agent, unsolved), 1, true)

		// A change: the old value, stale, until the recount lands; the other account's
		// count is untouched.
		r.create(&ticket.Patch{})
		want("after a create", count(r, r.agent, unsolved), 2, false)
		<-recounts
		want("after the recount", count(r, r.agent, unsolved), 3, true)
		want("another account after the create", count(other, other.agent, unsolved), 1, true)
		// The viewer is part of the key: another agent's "mine" is theirs.
		second := r.user(identity.Agent, "second", "Sam Second")
		want("another agent's own", count(r, second, mine), 0, true)

		// A restricted agent counts what they may see, and again when their groups change.
		lim := r.user(identity.Agent, "lim", "Lim Ited")
		lim.Restriction = identity.RestrictGroups
		g := r.group("Tier 2")
		r.create(&ticket.Patch{GroupID: &g})
		want("restricted, no groups", count(r, lim, unsolved), 0, true)
		r.write(func(tx *store.Tx) error {
			_, _, err := org.AddGroupMembership(r.ctx, tx, r.acct.ID, lim.UserID, g, false)
			return err
		})
		want("restricted, in the group", count(r, lim, unsolved), 1, true)
		want("unrestricted after all that", count(r, r.agent, unsolved), 3, false)
		<-recounts
		want("unrestricted, recounted", count(r, r.agent, unsolved), 4, true)
	})
}
