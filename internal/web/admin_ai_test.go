package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// TestAIPage: the AI page is the admins' only (agents and end users are refused, both
// reading and posting); an admin chooses targets and thresholds, a refused form says
// why and keeps what was typed, training without history says why; another account's
// admin sees its own settings only. The agent page records an applied macro (the
// form's macro_ids) as an AgentMacroReference audit event. On SQLite and PostgreSQL.
func TestAIPage(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			admin, agent, alice := f.signedIn(t, f.admin), f.signedIn(t, f.agent), f.signedIn(t, f.alice)
			admin.get("/admin/ai").want(t, http.StatusOK).has(t, "What the AI learns", "No model yet")
			agent.get("/admin/ai").want(t, http.StatusForbidden)
			alice.get("/admin/ai").want(t, http.StatusForbidden)
			agent.get("/agent/tickets")
			agent.post("/admin/ai", url.Values{"target": {"group_id"}, "triage": {"on"}, "retrain_after": {"5"}}).want(t, http.StatusForbidden)
			agent.post("/admin/ai/train", nil).want(t, http.StatusForbidden)

			admin.post("/admin/ai", url.Values{"target": {"group_id", "priority"}, "threshold_group_id": {"0.85"}, "triage": {"on"}, "retrain_after": {"50"}}).want(t, http.StatusSeeOther)
			admin.get("/admin/ai").want(t, http.StatusOK).has(t, `value="0.85"`, `value="50"`)
			admin.post("/admin/ai", url.Values{"target": {"group_id"}, "threshold_group_id": {"3"}, "retrain_after": {"50"}, "tag_set": {"kept-typing"}}).
				want(t, http.StatusUnprocessableEntity).has(t, "between 0.5 and 1", "kept-typing")
			admin.post("/admin/ai", url.Values{"target": {"colour"}, "retrain_after": {"x"}}).want(t, http.StatusUnprocessableEntity).has(t, "whole number")
			admin.get("/admin/ai")
			p := admin.post("/admin/ai/train", nil).want(t, http.StatusSeeOther)
			admin.get(p.Location).has(t, "Training started")

			// Tenants: globex's admin sees globex's (empty) settings.
			g := f.desk.Account(t, "globex", account.Enterprise)
			setPassword(t, f.desk, g.ID, g.Admin.UserID)
			gc := newClient(t, f.desk, "globex")
			gc.signIn(g.Admin.Email, password)
			gc.get("/admin/ai").want(t, http.StatusOK).hasNot(t, `value="0.85"`, `value="50"`)

			// Macro use from the agent page.
			m := testkit.ID(f.acct.Do(t, f.admin, "POST", "/api/v2/macros.json", map[string]any{"macro": map[string]any{"title": "Thanks",
				"actions": []any{map[string]any{"field": "comment_value", "value": "Thanks!"}}}}).Want(t, 201).Obj("macro"), "id")
			agent.get(fmt.Sprintf("/agent/tickets/%d", f.ticket)).want(t, http.StatusOK)
			agent.post(fmt.Sprintf("/agent/tickets/%d", f.ticket), url.Values{"comment": {"Thanks!"}, "macro_ids": {fmt.Sprint(m)}}).want(t, http.StatusSeeOther)
			a, err := ticket.LastAudit(context.Background(), f.desk.DB.R(), f.acct.ID, ids.Ticket(f.ticket))
			if err != nil {
				t.Fatal(err)
			}
			if got := ticket.MacroIDsOf(a.Events); len(got) != 1 || got[0] != m {
				t.Errorf("macro use from the page: %v in %v", got, a.Events)
			}

			// The AI user is an agent, but nobody assigns work to it: the ticket page's
			// assignee picker leaves it out.
			acct, err := f.desk.Srv.Accounts.ByID(context.Background(), f.acct.ID)
			if err != nil {
				t.Fatal(err)
			}
			err = f.desk.DB.Write(context.Background(), func(tx *store.Tx) error {
				_, err := ai.Actor(context.Background(), tx, acct)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			agent.get(fmt.Sprintf("/agent/tickets/%d", f.ticket)).want(t, http.StatusOK).hasNot(t, ">"+ai.UserName+"</option>")
		})
	}
}
