package sharing_test

import (
	"fmt"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestOwedKeptAcrossUpdates follows what the partner owes on an outbound share through
// the updates that leave it alone (the write then skips its statement) and those that
// change it: sharing starts the debt; a local public reply while it is owed keeps its
// start; the partner's reply answers it and gives its first answer time, which a later
// reply keeps; an internal note asks nothing; a local public reply owes again; solving
// ends it.
func TestOwedKeptAcrossUpdates(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			desk := testkit.Start(t, d)
			p := connect(t, desk.Account(t, "acme", account.Enterprise), desk.Account(t, "globex", account.Enterprise), true, nil)
			aID, bID := p.share(t, "Owed along the way")
			owed := func() (since, first int64) {
				t.Helper()
				err := desk.DB.R().QueryRowContext(t.Context(), `SELECT owed_since, first_answer_at FROM ticket_shares WHERE ticket_id = ? AND direction = 'out' AND account_id = ?`,
					aID, p.a.ID).Scan(&since, &first)
				if err != nil {
					t.Fatal(err)
				}
				return since, first
			}
			put := func(acct *testkit.Acct, cred testkit.Cred, id int64, ticket map[string]any) {
				t.Helper()
				acct.Do(t, cred, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": ticket}).Want(t, 200)
			}
			reply := func(body string) map[string]any {
				return map[string]any{"comment": map[string]any{"body": body, "public": true}}
			}
			s0, f0 := owed()
			if s0 == 0 || f0 != 0 {
				t.Fatalf("after sharing: owed_since %d, first_answer_at %d; want owed, no answer", s0, f0)
			}
			put(p.a, p.agentA, aID, reply("Any news?"))
			if s, _ := owed(); s != s0 {
				t.Fatalf("a reply while owed moved owed_since from %d to %d", s0, s)
			}
			put(p.b, p.agentB, bID, reply("On its way"))
			var f1 int64
			testkit.Eventually(t, 10*time.Second, "the partner's answer", func() bool {
				s, f := owed()
				f1 = f
				return s == 0 && f != 0
			})
			put(p.b, p.agentB, bID, reply("Shipped"))
			testkit.Eventually(t, 10*time.Second, "the partner's second reply", func() bool {
				return len(p.a.Do(t, p.agentA, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", aID), nil).Want(t, 200).List("comments")) >= 4
			})
			if s, f := owed(); s != 0 || f != f1 {
				t.Fatalf("after a second answer: owed_since %d, first_answer_at %d; want 0, %d", s, f, f1)
			}
			put(p.a, p.agentA, aID, map[string]any{"comment": map[string]any{"body": "Note to self", "public": false}})
			if s, _ := owed(); s != 0 {
				t.Fatalf("an internal note made the partner owe (%d)", s)
			}
			put(p.a, p.agentA, aID, reply("Thanks, one more thing"))
			if s, _ := owed(); s == 0 {
				t.Fatal("a public reply after the answer did not make the partner owe again")
			}
			put(p.a, p.agentA, aID, map[string]any{"status": "solved"})
			if s, _ := owed(); s != 0 {
				t.Fatalf("solving left owed_since %d", s)
			}
		})
	}
}
