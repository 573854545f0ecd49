package sim_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/ai/synth"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// seedSmall writes a small tandem-synth world into a fresh account and returns it.
func seedSmall(t *testing.T, d *testkit.Desk, sub string, n int) (*testkit.Acct, *synth.World) {
	t.Helper()
	ctx := context.Background()
	a := d.Account(t, sub, account.Enterprise)
	agent := a.User(t, identity.Agent, "agent@"+sub+".test", "Agent "+sub)
	acct, err := d.Srv.Accounts.BySubdomain(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	w := synth.Generate(synth.Config{Seed: 7, Tickets: n, Months: 6, Start: synth.StartFor(time.Now(), 6)})
	svc := synth.Services{DB: d.DB, Tickets: d.Srv.Tickets, KB: d.Srv.KB, Rules: d.Srv.Rules}
	if _, err := synth.Seed(ctx, svc, acct, []ids.User{ids.User(agent.UserID)}, w); err != nil {
		t.Fatal(err)
	}
	return a, w
}

// TestSimulationOnSeededHistory seeds a synthetic history through the write paths, runs
// the simulation through the API as a job, and reads the report: what History reads
// back (macros from AgentMacroReference, articles from kb links, backdated solves)
// must be what the generator meant, and only the account's admins may see it.
func TestSimulationOnSeededHistory(t *testing.T) {
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			d := testkit.Start(t, dia)
			ctx := context.Background()
			a, w := seedSmall(t, d, "acme", 240)
			other := d.Account(t, "globex", account.Enterprise)
			agent := a.User(t, identity.Agent, "sam@acme.test", "Sam")

			// History reads back the generator's labels.
			recs, err := ai.NewHistory(d.DB).Solved(ctx, a.ID, time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(w.Tickets) {
				t.Fatalf("history has %d records, generated %d", len(recs), len(w.Tickets))
			}
			var withMacro, withArticle, wantMacro, wantArticle int
			for i, r := range recs {
				if len(r.Labels[ai.TargetMacro]) > 0 {
					withMacro++
				}
				if len(r.Labels[ai.TargetArticle]) > 0 {
					withArticle++
				}
				if w.Tickets[i].Truth.Macro != 0 {
					wantMacro++
				}
				if w.Tickets[i].Truth.Article != 0 {
					wantArticle++
				}
				if !r.SolvedAt.Equal(w.Tickets[i].SolvedAt) {
					t.Fatalf("record %d solved at %s, generated %s", i, r.SolvedAt, w.Tickets[i].SolvedAt)
				}
			}
			if withMacro != wantMacro || withArticle != wantArticle {
				t.Fatalf("macros %d/%d, articles %d/%d", withMacro, wantMacro, withArticle, wantArticle)
			}

			// Bad input loses nothing and says why.
			a.Do(t, a.Admin, "POST", "/api/v2/ai/simulations.json", map[string]any{"simulation": map[string]any{"from": "yesterday"}}).Want(t, http.StatusUnprocessableEntity)
			a.Do(t, a.Admin, "POST", "/api/v2/ai/simulations.json", map[string]any{"simulation": map[string]any{"from": "2026-05-01", "to": "2026-04-01"}}).Want(t, http.StatusUnprocessableEntity)
			a.Do(t, a.Admin, "POST", "/api/v2/ai/simulations.json", "{not json").Want(t, http.StatusBadRequest)
			// Agents may not start or read simulations.
			a.Do(t, agent, "POST", "/api/v2/ai/simulations.json", nil).Want(t, http.StatusForbidden)

			resp := a.Do(t, a.Admin, "POST", "/api/v2/ai/simulations.json", nil).Want(t, http.StatusOK)
			job := resp.Obj("job_status")
			id := testkit.ID(resp.Obj("simulation"), "id")
			testkit.Eventually(t, 20*time.Second, "the simulation job finishes", func() bool {
				st := a.Do(t, a.Admin, "GET", "/api/v2/job_statuses/"+job["id"].(string)+".json", nil).Want(t, http.StatusOK).Obj("job_status")
				return st["status"] == "completed" || st["status"] == "failed"
			})
			path := fmt.Sprintf("/api/v2/ai/simulations/%d.json", id)
			s := a.Do(t, a.Admin, "GET", path, nil).Want(t, http.StatusOK).Obj("simulation")
			if s["status"] != "finished" {
				t.Fatalf("simulation: %v", s)
			}
			rep := s["report"].(map[string]any)
			if rep["replayed"].(float64) < 50 || rep["intent_target"] != w.IntentTarget() && !strings.HasPrefix(rep["intent_target"].(string), "custom_field_") {
				t.Fatalf("report: replayed %v, intent target %v", rep["replayed"], rep["intent_target"])
			}
			res := rep["resolution"].(map[string]any)
			for _, k := range []string{"rate", "precision", "tickets", "from", "to", "threshold"} {
				if _, ok := res[k]; !ok {
					t.Fatalf("resolution without %s: %v", k, res)
				}
			}
			if arts := rep["articles"].(map[string]any); arts["tickets"].(float64) == 0 {
				t.Fatalf("no article was measured: %v", arts)
			}
			// The autonomy verdict says why not on a small history.
			if au := rep["autonomy"].(map[string]any); au["possible"] == true || len(au["reasons"].([]any)) == 0 {
				t.Fatalf("autonomy on 240 tickets: %v", au)
			}
			a.Do(t, agent, "GET", path, nil).Want(t, http.StatusForbidden)
			// Another account sees neither the simulation nor the list's entries.
			other.Do(t, other.Admin, "GET", path, nil).Want(t, http.StatusNotFound)
			if list := other.Do(t, other.Admin, "GET", "/api/v2/ai/simulations.json", nil).Want(t, http.StatusOK).List("simulations"); len(list) != 0 {
				t.Fatalf("globex lists acme's simulations: %v", list)
			}
			if list := a.Do(t, a.Admin, "GET", "/api/v2/ai/simulations.json", nil).Want(t, http.StatusOK).List("simulations"); len(list) != 1 {
				t.Fatalf("acme's list: %v", list)
			}

			// The gate answers from the latest finished report, per account.
			sims := d.Srv.Simulations
			ev, ok, err := sims.Evidence(ctx, a.ID, rep["intent_target"].(string), synth.OtherIntent)
			if err != nil || !ok || ev.SimulationID != id || ev.Tickets == 0 {
				t.Fatalf("evidence for other: %+v %v %v", ev, ok, err)
			}
			if _, ok, err := sims.Evidence(ctx, other.ID, rep["intent_target"].(string), synth.OtherIntent); ok || err != nil {
				t.Fatalf("globex has acme's evidence: %v %v", ok, err)
			}
			_ = store.Now
		})
	}
}

