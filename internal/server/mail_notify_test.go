package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// TestMailNotifications: the default triggers of a new account send mail (kept here:
// no relay is configured): the requester hears of the new request and of public
// replies, the group of a new unassigned ticket, and the assignee of a sharing
// partner's reply on a shared ticket. An internal note never reaches the requester.
func TestMailNotifications(t *testing.T) {
	t.Parallel()
	d := testkit.Start(t, store.SQLite)
	acme := d.Account(t, "acme", account.Enterprise)
	globex := d.Account(t, "globex", account.Enterprise)
	agent := acme.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
	colleague := acme.User(t, identity.Agent, "colleague@acme.test", "Colin Colleague")
	group := testkit.ID(acme.Do(t, acme.Admin, "POST", "/api/v2/groups.json", map[string]any{"group": map[string]any{"name": "Support"}}).Want(t, http.StatusCreated).Obj("group"), "id")
	acme.Do(t, acme.Admin, "POST", "/api/v2/group_memberships.json", map[string]any{"group_membership": map[string]any{"user_id": colleague.UserID, "group_id": group}}).Want(t, http.StatusCreated)

	out := testkit.ID(acme.Do(t, acme.Admin, "POST", "/api/v2/sharing_agreements.json",
		map[string]any{"sharing_agreement": map[string]any{"remote_subdomain": "globex"}}).Want(t, http.StatusCreated).Obj("sharing_agreement"), "id")
	in := testkit.ID(globex.Do(t, globex.Admin, "GET", "/api/v2/sharing_agreements.json", nil).Want(t, http.StatusOK).List("sharing_agreements")[0], "id")
	globex.Do(t, globex.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", in),
		map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}).Want(t, http.StatusOK)

	// A new unassigned ticket in the group: the requester and the group hear of it.
	unassigned := testkit.ID(acme.Do(t, acme.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
		"subject": "Toaster", "group_id": group, "comment": map[string]any{"body": "It burns everything."},
		"requester": map[string]any{"name": "Rita", "email": "rita@example.test"}}}).Want(t, http.StatusCreated).Obj("ticket"), "id")
	// A shared ticket assigned to Agnes; Globex replies on its copy.
	shared := testkit.ID(acme.Do(t, acme.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
		"subject": "Blender warranty", "assignee_id": agent.UserID, "sharing_agreement_ids": []int64{out},
		"comment": map[string]any{"body": "It stopped."}, "requester": map[string]any{"name": "Rita", "email": "rita@example.test"}}}).Want(t, http.StatusCreated).Obj("ticket"), "id")
	acme.Do(t, acme.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", shared), map[string]any{"ticket": map[string]any{
		"comment": map[string]any{"body": "internal: customer is grumpy", "public": false}}}).Want(t, http.StatusOK)
	var copyID int64
	testkit.Eventually(t, 30*time.Second, "Globex to receive the shared ticket", func() bool {
		l := globex.Do(t, globex.Admin, "GET", "/api/v2/tickets.json", nil).List("tickets")
		if len(l) == 1 {
			copyID = testkit.ID(l[0], "id")
		}
		return copyID != 0
	})
	globex.Do(t, globex.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", copyID), map[string]any{"ticket": map[string]any{
		"comment": map[string]any{"body": "Send it to us, we will replace it.", "public": true}}}).Want(t, http.StatusOK)

	type mail struct{ to, subject, body string }
	mails := func(ticket int64) []mail {
		rows, err := d.DB.R().QueryContext(t.Context(), `SELECT rcpt_to, subject, text_body FROM mail_outbox WHERE account_id = ? AND ticket_id = ? ORDER BY id`, acme.ID, ticket)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []mail
		for rows.Next() {
			var m mail
			if err := rows.Scan(&m.to, &m.subject, &m.body); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
		return out
	}
	has := func(ms []mail, to, text string) bool {
		for _, m := range ms {
			if m.to == to && strings.Contains(m.body, text) {
				return true
			}
		}
		return false
	}
	testkit.Eventually(t, 30*time.Second, "the assignee to be told of the partner's reply", func() bool {
		return has(mails(shared), "agent@acme.test", "Send it to us, we will replace it.")
	})
	if ms := mails(unassigned); !has(ms, "rita@example.test", "has been received") || !has(ms, "colleague@acme.test", "needs an agent") {
		t.Fatalf("new ticket mail = %+v, want the requester's acknowledgement and the group's notice", ms)
	}
	for _, m := range mails(shared) {
		if m.to == "rita@example.test" && strings.Contains(m.body, "grumpy") {
			t.Fatalf("an internal note reached the requester: %+v", m)
		}
	}
	// Mail kept (no relay) is final, not retried.
	testkit.Eventually(t, 10*time.Second, "mail to be kept", func() bool { return d.Srv.MailOut.Drained(t.Context()) })
	var kept int
	if err := d.DB.R().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM mail_outbox WHERE status = 'kept'`).Scan(&kept); err != nil || kept == 0 {
		t.Fatalf("kept mail = %d (%v)", kept, err)
	}
}

// TestSupportAddressesAndOutboundMail: outgoing mail is sent from the account's default
// support address with its name, and a new support address's verification message goes
// out on the outbound queue (inbound and outbound mail meet in the composition root).
func TestSupportAddressesAndOutboundMail(t *testing.T) {
	t.Parallel()
	d := testkit.Start(t, store.SQLite)
	acme := d.Account(t, "acme", account.Enterprise)
	addrs := acme.Do(t, acme.Admin, "GET", "/api/v2/recipient_addresses.json", nil).Want(t, http.StatusOK).List("recipient_addresses")
	if len(addrs) != 1 {
		t.Fatalf("recipient addresses = %v, want the default one", addrs)
	}
	def := addrs[0]["email"].(string)
	acme.Do(t, acme.Admin, "PUT", fmt.Sprintf("/api/v2/recipient_addresses/%d.json", testkit.ID(addrs[0], "id")),
		map[string]any{"recipient_address": map[string]any{"name": "Acme Care"}}).Want(t, http.StatusOK)
	acme.Do(t, acme.Admin, "POST", "/api/v2/recipient_addresses.json",
		map[string]any{"recipient_address": map[string]any{"email": "help@acme.example", "name": "Acme Help"}}).Want(t, http.StatusCreated)
	var from, message string
	err := d.DB.R().QueryRowContext(t.Context(), `SELECT mail_from, message FROM mail_outbox WHERE account_id = ? AND kind = 'verification' AND rcpt_to = ?`,
		acme.ID, "help@acme.example").Scan(&from, &message)
	if err != nil {
		t.Fatalf("no verification mail queued for the new address: %v", err)
	}
	if from != def || !strings.Contains(message, "Acme Care") || !strings.Contains(message, "tandem-verify-") {
		t.Fatalf("verification mail from %q:\n%s\nwant it from %s (Acme Care) with the code", from, message, def)
	}
}
