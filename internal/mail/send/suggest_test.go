package send_test

import (
	"fmt"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestAcknowledgementSuggestsArticles: the acknowledgement of a new request lists up to
// three help center articles that may answer it, only among those its requester may
// read (an organization's article to its members, never an agents-only one), and says
// nothing of articles when none matches.
func TestAcknowledgementSuggestsArticles(t *testing.T) {
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			d := testkit.Start(t, dia)
			a := d.Account(t, "ackkb", account.Professional)
			ag := a.User(t, identity.Agent, "ag@ackkb.test", "Agent")
			walkIn := a.User(t, identity.EndUser, "walkin@example.test", "Walk In")
			dealer := a.User(t, identity.EndUser, "dealer@example.test", "Dealer")
			orgID := testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/organizations.json", map[string]any{"organization": map[string]any{"name": "Dealers"}}).Want(t, 201).Obj("organization"), "id")
			a.Do(t, a.Admin, "POST", "/api/v2/organization_memberships.json", map[string]any{"organization_membership": map[string]any{"user_id": dealer.UserID, "organization_id": orgID}}).Want(t, 201)

			cat := testkit.ID(a.Do(t, ag, "POST", "/api/v2/help_center/categories.json", map[string]any{"category": map[string]any{"name": "Returns"}}).Want(t, 201).Obj("category"), "id")
			sec := testkit.ID(a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/categories/%d/sections.json", cat), map[string]any{"section": map[string]any{"name": "Stoves"}}).Want(t, 201).Obj("section"), "id")
			article := func(title, body string, extra map[string]any) int64 {
				art := map[string]any{"title": title, "body": "<p>" + body + "</p>"}
				for k, v := range extra {
					art[k] = v
				}
				return testkit.ID(a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/sections/%d/articles.json", sec), map[string]any{"article": art}).Want(t, 201).Obj("article"), "id")
			}
			public := article("How do I return a broken stove?", "Print the return label for your stove and drop it at a post office.", nil)
			article("Stove returns for dealers", "Dealers return broken stoves in bulk with form D-12.", map[string]any{"visibility": "organizations", "organization_ids": []int64{orgID}})
			article("Internal stove return checklist", "Agents: check the broken stove serial before a return.", map[string]any{"visibility": "agents"})
			article("Gift cards", "Gift cards never expire.", nil)

			ack := func(cred testkit.Cred, subject, body string) string {
				t.Helper()
				id := testkit.ID(a.Do(t, cred, "POST", "/api/v2/requests.json", map[string]any{"request": map[string]any{"subject": subject, "comment": map[string]any{"body": body}}}).Want(t, 201).Obj("request"), "id")
				var text string
				if err := d.DB.R().QueryRowContext(t.Context(), `SELECT text_body FROM mail_outbox WHERE account_id = ? AND ticket_id = ? AND rcpt_to = ?`, a.ID, id, cred.Email).Scan(&text); err != nil {
					t.Fatalf("no acknowledgement to %s: %v", cred.Email, err)
				}
				return text
			}
			text := ack(walkIn, "Return my broken stove", "My stove arrived broken, how do I return it?")
			url := fmt.Sprintf("/hc/en-us/articles/%d-how-do-i-return-a-broken-stove", public)
			if !strings.Contains(text, "How do I return a broken stove?") || !strings.Contains(text, url) {
				t.Fatalf("the acknowledgement does not offer the public article:\n%s", text)
			}
			if strings.Contains(text, "dealers") || strings.Contains(text, "checklist") || strings.Contains(text, "{{") {
				t.Fatalf("the acknowledgement to a walk-in customer offers what they may not read:\n%s", text)
			}
			if text := ack(dealer, "Return a broken stove", "A customer's stove is broken; how do we return it?"); !strings.Contains(text, "Stove returns for dealers") || strings.Contains(text, "checklist") {
				t.Fatalf("the dealer's acknowledgement:\n%s", text)
			}
			if text := ack(walkIn, "Zxqv", "Qwzx vvkk"); strings.Contains(text, "While you wait") || strings.Contains(text, "{{") || !strings.Contains(text, "has been received") {
				t.Fatalf("an acknowledgement with nothing to suggest:\n%s", text)
			}
		})
	}
}
