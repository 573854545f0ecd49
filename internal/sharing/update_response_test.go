package sharing_test

import (
	"fmt"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestUpdateResponseShowsSharing: an update's response shows the ticket's shares as a
// read of the ticket does, live or ended, and none for a ticket shared with nobody
// (which it renders without reading them); the partner's copy names the updating agent
// as the agent is (the payload takes the caller as its authentication read it).
func TestUpdateResponseShowsSharing(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			desk := testkit.Start(t, d)
			a := desk.Account(t, "acme", account.Enterprise)
			b := desk.Account(t, "globex", account.Enterprise)
			p := connect(t, a, b, true, nil)
			aID, bID := p.share(t, "Shown")
			update := func(id int64, body map[string]any) map[string]any {
				t.Helper()
				return a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": body}).Want(t, 200).Obj("ticket")
			}
			sharing := func(what string, tk map[string]any, ids int, states ...string) {
				t.Helper()
				list := tk["sharing"].([]any)
				if len(list) != len(states) || len(tk["sharing_agreement_ids"].([]any)) != ids {
					t.Fatalf("%s: sharing %v, sharing_agreement_ids %v", what, tk["sharing"], tk["sharing_agreement_ids"])
				}
				for i, st := range states {
					sh := list[i].(map[string]any)
					if sh["state"] != st || testkit.ID(sh, "agreement_id") != p.agA || sh["delivery"] == nil {
						t.Fatalf("%s: share %d = %v, want state %s", what, i, sh, st)
					}
				}
			}
			sharing("shared", update(aID, map[string]any{"comment": map[string]any{"body": "Seeded author"}}), 1, "active")
			testkit.Eventually(t, 10*time.Second, "the comment at the partner", func() bool {
				return hasComment(comments(t, b, bID), "Seeded author")
			})
			for _, c := range b.Do(t, b.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", bID), nil).Want(t, 200).List("comments") {
				if c["body"] != "Seeded author" {
					continue
				}
				u := b.Do(t, b.Admin, "GET", fmt.Sprintf("/api/v2/users/%d.json", testkit.ID(c, "author_id")), nil).Want(t, 200).Obj("user")
				if u["name"] != "Agnes acme" {
					t.Fatalf("the partner names the comment's author %v", u["name"])
				}
			}
			update(aID, map[string]any{"sharing_agreement_ids": []int64{}})
			sharing("unshared", update(aID, map[string]any{"comment": map[string]any{"body": "After"}}), 0, "unshared")
			tk := a.Do(t, p.agentA, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Alone", "comment": map[string]any{"body": "x"}}}).Want(t, 201).Obj("ticket")
			sharing("never shared", update(testkit.ID(tk, "id"), map[string]any{"comment": map[string]any{"body": "y"}}), 0)
		})
	}
}
