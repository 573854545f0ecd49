package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai/synth"
	"tandem/internal/ids"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestAISimulationsPage runs a simulation from the admin page on a seeded synthetic
// history and reads its report: the SVG curve, the resolution with its precision, the
// per-intent table, samples; agents may not open it and another account's admin sees
// nothing of it.
func TestAISimulationsPage(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			ctx := context.Background()
			acct, err := f.desk.Srv.Accounts.BySubdomain(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			w := synth.Generate(synth.Config{Seed: 5, Tickets: 200, Months: 6, Start: synth.StartFor(time.Now(), 6)})
			svc := synth.Services{DB: f.desk.DB, Tickets: f.desk.Srv.Tickets, KB: f.desk.Srv.KB, Rules: f.desk.Srv.Rules}
			if _, err := synth.Seed(ctx, svc, acct, []ids.User{ids.User(f.agent.UserID)}, w); err != nil {
				t.Fatal(err)
			}
			admin := f.signedIn(t, f.admin)
			admin.get("/admin/ai/simulations").want(t, http.StatusOK).has(t, "No simulation has finished yet", "Run a simulation")
			p := admin.post("/admin/ai/simulations", nil).want(t, http.StatusSeeOther)
			if !strings.HasPrefix(p.Location, "/admin/ai/simulations?id=") {
				t.Fatalf("redirect to %q", p.Location)
			}
			id := strings.TrimPrefix(p.Location, "/admin/ai/simulations?id=")
			testkit.Eventually(t, 20*time.Second, "the simulation finishes", func() bool {
				return strings.Contains(admin.get(p.Location).Body, "Report "+id)
			})
			admin.get(p.Location).want(t, http.StatusOK).has(t, `<svg class="pc-chart"`, "<polyline", "Would have auto-resolved:", "at precision", "Per intent",
				"Autonomy stays off", "Would-be answers beside the agents", "AI simulations")
			f.signedIn(t, f.agent).get("/admin/ai/simulations").want(t, http.StatusForbidden)

			other := f.desk.Account(t, "globex", account.Enterprise)
			setPassword(t, f.desk, other.ID, other.Admin.UserID)
			g := newClient(t, f.desk, "globex")
			g.signIn(other.Admin.Email, password)
			g.get(fmt.Sprintf("/admin/ai/simulations?id=%s", id)).want(t, http.StatusNotFound)
			g.get("/admin/ai/simulations").want(t, http.StatusOK).has(t, "No simulation has finished yet")
		})
	}
}
