package mailin_test

import (
	"fmt"
	"net/http"
	"testing"

	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestSignupRequired: with "users must sign up" (PUT /api/v2/email_settings, admins
// only), mail from an unknown address is suspended as "Submitted by unregistered user"
// and creates no user; a known user's mail is a ticket; recovering the suspended one
// makes its ticket; another account's setting is its own.
func TestSignupRequired(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		acme, globex := r.acme, r.globex
		if v := acme.Do(t, acme.Admin, "GET", "/api/v2/email_settings.json", nil).Want(t, http.StatusOK).Obj("email_settings")["signup_required"]; v != false {
			t.Fatalf("default signup_required = %v, want false", v)
		}
		agent := acme.User(t, identity.Agent, "agent@acme.test", "Agent")
		acme.Do(t, agent, "PUT", "/api/v2/email_settings.json", map[string]any{"email_settings": map[string]any{"signup_required": true}}).Want(t, http.StatusForbidden)
		acme.Do(t, acme.Admin, "PUT", "/api/v2/email_settings.json", map[string]any{"email_settings": map[string]any{}}).Want(t, http.StatusBadRequest)
		got := acme.Do(t, acme.Admin, "PUT", "/api/v2/email_settings.json", map[string]any{"email_settings": map[string]any{"signup_required": true}}).Want(t, http.StatusOK)
		if got.Obj("email_settings")["signup_required"] != true {
			t.Fatalf("PUT answered %s", got.Body)
		}
		acme.User(t, identity.EndUser, "known@customer.test", "Known")

		r.mustSend(t, "stranger@customer.test", []string{"support@acme.localhost"}, msg("stranger@customer.test", "support@acme.localhost", "From a stranger", "", "Hello?"))
		r.mustSend(t, "known@customer.test", []string{"support@acme.localhost"}, msg("known@customer.test", "support@acme.localhost", "From a user", "", "Hi."))
		r.mustSend(t, "stranger@customer.test", []string{"support@globex.localhost"}, msg("stranger@customer.test", "support@globex.localhost", "To globex", "", "Hello globex."))
		r.settle(t)
		if n := len(r.tickets(t, acme)); n != 1 {
			t.Fatalf("acme has %d tickets, want 1 (the known user's)", n)
		}
		if n := len(r.tickets(t, globex)); n != 1 {
			t.Fatalf("globex (anyone can submit) has %d tickets, want 1", n)
		}
		sus := r.suspended(t, acme)
		if len(sus) != 1 || sus[0]["cause"] != "Submitted by unregistered user (the account requires sign-up)" {
			t.Fatalf("suspended = %v", sus)
		}
		if _, err := identity.ByEmail(t.Context(), db.R(), acme.ID, "stranger@customer.test"); err == nil {
			t.Fatal("the stranger was made a user of acme")
		}
		if n := len(r.suspended(t, globex)); n != 0 {
			t.Fatalf("globex suspended %d", n)
		}
		acme.Do(t, acme.Admin, "PUT", fmt.Sprintf("/api/v2/suspended_tickets/%d/recover.json", testkit.ID(sus[0], "id")), nil).Want(t, http.StatusOK)
		if n := len(r.tickets(t, acme)); n != 2 {
			t.Fatalf("after recovery acme has %d tickets, want 2", n)
		}
	})
}
