package sharing_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// TestPoisonedShare: an SQLite desk holds a comment with a NUL character (written before
// the NUL rule, or by a path that does not decode input) and shares it with a partner on
// PostgreSQL when TANDEM_TEST_POSTGRES is set. The partner answers a permanent 422 naming
// the field instead of a 500 forever; the sender marks that ticket's share failed with
// the reason instead of retrying; other tickets keep flowing.
func TestPoisonedShare(t *testing.T) {
	t.Parallel()
	recvDialect := store.SQLite
	if storetest.PostgresURL() != "" {
		recvDialect = store.Postgres
	}
	sender := testkit.Start(t, store.SQLite)
	receiver := testkit.Start(t, recvDialect)
	a := sender.Account(t, "acme", account.Enterprise)
	b := receiver.Account(t, "globex", account.Enterprise)
	p := connect(t, a, b, false, nil)
	poisoned, _ := p.share(t, "Poisoned")
	healthy, healthyCopy := p.share(t, "Healthy")

	ctx := context.Background()
	acct, err := sender.Srv.Accounts.ByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sender.Srv.Tickets.Update(ctx, acct, ticket.Actor{UserID: ids.User(p.agentA.UserID), Role: p.agentA.Role, Name: "Agnes"}, ids.Ticket(poisoned),
		&ticket.Patch{Comment: &ticket.CommentInput{Body: "pasted log: \x00\x00"}}); err != nil {
		t.Fatal(err)
	}
	a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d", healthy), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "still flowing"}}}).Want(t, 200)

	var state, reason string
	testkit.Eventually(t, 15*time.Second, "the poisoned share to be marked failed", func() bool {
		for _, sh := range ticketOf(t, a, poisoned)["sharing"].([]any) {
			m := sh.(map[string]any)
			state, _ = m["state"].(string)
			reason, _ = m["state_reason"].(string)
		}
		return state == "failed"
	})
	if !strings.Contains(reason, "422") || !strings.Contains(reason, "comments[0].body") || !strings.Contains(reason, "NUL") {
		t.Fatalf("failed share's reason = %q, want the partner's 422 naming the field", reason)
	}
	testkit.Eventually(t, 10*time.Second, "the healthy ticket's update", func() bool {
		return hasComment(comments(t, b, healthyCopy), "still flowing")
	})
	// Not retried: the poisoned row is dead after one attempt, and nothing is pending.
	var attempts int
	if err := sender.DB.R().QueryRowContext(ctx, `SELECT MAX(attempts) FROM sharing_outbox WHERE status = 'dead'`).Scan(&attempts); err != nil || attempts != 1 {
		t.Fatalf("the poisoned call was tried %d times (%v), want once", attempts, err)
	}
	testkit.Eventually(t, 10*time.Second, "the outbox to drain", func() bool { return sender.Srv.Sharing.Drained(ctx) })
}
