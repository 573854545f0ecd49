package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestTicketMailFollowsDefaultAddress: the mail a ticket create queues is sent from the
// account's default support address as it is when the ticket is written, on both
// databases: the write path keeps that address in the settings cache, and making
// another address the default, or renaming it, is seen by the next create.
func TestTicketMailFollowsDefaultAddress(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects() {
		t.Run(string(dialect), func(t *testing.T) {
			d := testkit.Start(t, dialect)
			acme := d.Account(t, "acme", account.Enterprise)
			n := 0
			fromOfNewTicket := func() (from, message string) {
				t.Helper()
				n++
				id := testkit.ID(acme.Do(t, acme.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
					"subject": fmt.Sprintf("Printer %d", n), "comment": map[string]any{"body": "It jams."},
					"requester": map[string]any{"name": "Carla Customer", "email": "carla@customer.example"},
				}}).Want(t, http.StatusCreated).Obj("ticket"), "id")
				err := d.DB.R().QueryRowContext(t.Context(), `SELECT mail_from, message FROM mail_outbox WHERE account_id = ? AND ticket_id = ? AND rcpt_to = ?`,
					acme.ID, id, "carla@customer.example").Scan(&from, &message)
				if err != nil {
					t.Fatalf("ticket %d: no mail to the requester: %v", id, err)
				}
				return from, message
			}
			addrs := acme.Do(t, acme.Admin, "GET", "/api/v2/recipient_addresses.json", nil).Want(t, http.StatusOK).List("recipient_addresses")
			def := addrs[0]["email"].(string)
			if from, _ := fromOfNewTicket(); from != def {
				t.Fatalf("first mail from %q, want the default address %s", from, def)
			}
			help := testkit.ID(acme.Do(t, acme.Admin, "POST", "/api/v2/recipient_addresses.json",
				map[string]any{"recipient_address": map[string]any{"email": "help@acme.example", "name": "Acme Help"}}).Want(t, http.StatusCreated).Obj("recipient_address"), "id")
			if from, _ := fromOfNewTicket(); from != def {
				t.Fatalf("mail from %q after adding an address, want still %s", from, def)
			}
			acme.Do(t, acme.Admin, "PUT", fmt.Sprintf("/api/v2/recipient_addresses/%d.json", help),
				map[string]any{"recipient_address": map[string]any{"default": true}}).Want(t, http.StatusOK)
			if from, msg := fromOfNewTicket(); from != "help@acme.example" || !strings.Contains(msg, "Acme Help") {
				t.Fatalf("mail from %q after the default changed, want help@acme.example (Acme Help):\n%s", from, msg)
			}
			acme.Do(t, acme.Admin, "PUT", fmt.Sprintf("/api/v2/recipient_addresses/%d.json", help),
				map[string]any{"recipient_address": map[string]any{"name": "Acme Desk"}}).Want(t, http.StatusOK)
			if from, msg := fromOfNewTicket(); from != "help@acme.example" || !strings.Contains(msg, "Acme Desk") || strings.Contains(msg, "Acme Help") {
				t.Fatalf("mail from %q after the rename, want help@acme.example (Acme Desk):\n%s", from, msg)
			}
		})
	}
}
