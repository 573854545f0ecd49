package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestShareTicketTrigger proves the order of the ticket write hooks where server.New
// registers them: a trigger's share_ticket action (the rules' before-hook) is carried
// out by the sharing hooks, so a ticket created through the API that matches the
// trigger reaches the partner. Registering the sharing before-hook ahead of the rules'
// makes it fail.
func TestShareTicketTrigger(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		d := testkit.StartDB(t, db)
		acme := d.Account(t, "acme", account.Enterprise)
		globex := d.Account(t, "globex", account.Enterprise)

		// Acme invites Globex, an account on the same server; Globex accepts.
		out := testkit.ID(acme.Do(t, acme.Admin, "POST", "/api/v2/sharing_agreements.json",
			map[string]any{"sharing_agreement": map[string]any{"remote_subdomain": "globex"}}).Want(t, http.StatusCreated).Obj("sharing_agreement"), "id")
		in := testkit.ID(globex.Do(t, globex.Admin, "GET", "/api/v2/sharing_agreements.json", nil).Want(t, http.StatusOK).List("sharing_agreements")[0], "id")
		globex.Do(t, globex.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", in),
			map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}).Want(t, http.StatusOK)

		acme.Do(t, acme.Admin, "POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{
			"title": "Warranty claims to Globex",
			"conditions": map[string]any{"all": []any{
				map[string]any{"field": "update_type", "operator": "is", "value": "Create"},
				map[string]any{"field": "current_tags", "operator": "includes", "value": "warranty_claim"}}},
			"actions": []any{map[string]any{"field": "share_ticket", "value": fmt.Sprint(out)}}}}).Want(t, http.StatusCreated)

		create := func(subject string, tags []string) map[string]any {
			return acme.Do(t, acme.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
				"subject": subject, "tags": tags, "comment": map[string]any{"body": "It stopped working."},
				"requester": map[string]any{"name": "Rita", "email": "rita@example.test"}}}).Want(t, http.StatusCreated).Obj("ticket")
		}
		plain := create("A plain question", nil)
		claim := create("Blender warranty claim", []string{"warranty_claim"})

		if got := fmt.Sprint(claim["sharing_agreement_ids"]); got != fmt.Sprintf("[%d]", out) {
			t.Fatalf("the matching ticket's sharing_agreement_ids = %s, want [%d]: the trigger's share_ticket was not carried out", got, out)
		}
		if got := fmt.Sprint(plain["sharing_agreement_ids"]); got != "[]" {
			t.Fatalf("the ticket that does not match is shared: %s", got)
		}
		subjects := func() []string {
			var s []string
			for _, tk := range globex.Do(t, globex.Admin, "GET", "/api/v2/tickets.json", nil).Want(t, http.StatusOK).List("tickets") {
				s = append(s, fmt.Sprint(tk["subject"]))
			}
			return s
		}
		testkit.Eventually(t, 30*time.Second, "Globex to receive the warranty claim", func() bool {
			return slices.Contains(subjects(), "Blender warranty claim")
		})
		testkit.Eventually(t, 30*time.Second, "the outbox to drain", func() bool { return d.Srv.Sharing.Drained(t.Context()) })
		if got := subjects(); slices.Contains(got, "A plain question") {
			t.Fatalf("Globex received the ticket that does not match the trigger: %v", got)
		}
	})
}
