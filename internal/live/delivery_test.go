package live_test

import (
	"fmt"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/live"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestSharingPanelFollowsDeliveries: the sharing panel does not poll; the ticket's
// stream says when a delivery to the partner is recorded (at the sender) and when a
// partner's file has arrived (at the receiver), which is what refreshes the panel.
func TestSharingPanelFollowsDeliveries(t *testing.T) {
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			desk := testkit.Start(t, dia)
			<-desk.Srv.Live.Ready()
			a := desk.Account(t, "acme", account.Enterprise)
			b := desk.Account(t, "globex", account.Enterprise)
			setPasswords(t, desk, a.ID, a.Admin.UserID)
			setPasswords(t, desk, b.ID, b.Admin.UserID)
			inv := a.Do(t, a.Admin, "POST", "/api/v2/sharing_agreements.json", map[string]any{"sharing_agreement": map[string]any{"remote_subdomain": "globex"}}).Want(t, 201).Obj("sharing_agreement")
			agB := testkit.ID(b.Do(t, b.Admin, "GET", "/api/v2/sharing_agreements.json", nil).List("sharing_agreements")[0], "id")
			b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", agB), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}).Want(t, 200)
			agent := a.User(t, identity.Agent, "agent@acme.test", "Agnes")
			up := a.Do(t, agent, "POST", "/api/v2/uploads.json?filename=photo.txt", []byte("a photo, in words")).Want(t, 201).Obj("upload")
			id := testkit.ID(a.Do(t, agent, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Live panel",
				"comment": map[string]any{"body": "see the file", "uploads": []string{up["token"].(string)}}}}).Want(t, 201).Obj("ticket"), "id")

			sender := signIn(t, desk, "acme", a.Admin.Email)
			receiver := signIn(t, desk, "globex", b.Admin.Email)
			atSender := sender.stream("/agent/events", "")
			atReceiver := receiver.stream("/agent/events", "")
			a.Do(t, agent, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{testkit.ID(inv, "id")}}}).Want(t, 200)
			atSender.until(t, "the delivery event at the sender", func(m message, ev live.Event) bool {
				return m.Event == "delivery" && int64(ev.Ticket) == id
			})
			var copyID int64
			atReceiver.until(t, "the file's arrival at the receiver", func(m message, ev live.Event) bool {
				if m.Event == "ticket" && ev.Created {
					copyID = int64(ev.Ticket)
				}
				return m.Event == "delivery" && copyID != 0 && int64(ev.Ticket) == copyID
			})
			// The panel carries no polling.
			_, page := sender.get(fmt.Sprintf("/agent/tickets/%d", id))
			if !strings.Contains(page, `id="share-box"`) || strings.Contains(page, "every 2s") {
				t.Fatal("the sharing panel is missing or still polls")
			}
		})
	}
}
