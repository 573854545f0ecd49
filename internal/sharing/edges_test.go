package sharing_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/sharing/wire"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestReceiverPublicCommentBecomesPrivate: when the terms forbid the receiver to talk
// to the requester, its public reply arrives at the sender as an internal note.
func TestReceiverPublicCommentBecomesPrivate(t *testing.T) {
	t.Parallel()
	desk := testkit.Start(t, storetest.Dialects()[0])
	a := desk.Account(t, "acme", account.Enterprise)
	b := desk.Account(t, "globex", account.Enterprise)
	p := connect(t, a, b, true, map[string]any{"allows_public_comments": false})
	aID, bID := p.share(t, "Quiet partner")
	b.Do(t, p.agentB, "PUT", fmt.Sprintf("/api/v2/tickets/%d", bID), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "Dear customer, we will call you"}}}).Want(t, 200)
	testkit.Eventually(t, 10*time.Second, "the partner's reply", func() bool {
		return hasComment(comments(t, a, aID), "Dear customer, we will call you")
	})
	for _, c := range comments(t, a, aID) {
		if strings.HasPrefix(c, "Dear customer") && c != "Dear customer, we will call you|false" {
			t.Fatalf("the receiver's comment must arrive private: %s", c)
		}
	}
}

// TestStaleUpdatesAndClosedTickets: an update carrying an older ticket version does not
// overwrite newer fields (its new comments still land); a closed ticket stops syncing.
func TestStaleUpdatesAndClosedTickets(t *testing.T) {
	t.Parallel()
	desk := testkit.Start(t, storetest.Dialects()[0])
	a := desk.Account(t, "acme", account.Enterprise)
	b := desk.Account(t, "globex", account.Enterprise)
	p := connect(t, a, b, false, nil)
	_, bID := p.share(t, "Versions")
	_, _, shareUUID, call := p.inbound(t)
	put := func(body string) *testkit.Resp { return call("PUT", "/sharing/tickets/"+shareUUID, body, nil) }
	put(`{"status":"pending","version":50}`).Want(t, 200)
	put(`{"status":"open","version":40,"comments":[{"uuid":"late-1","body":"late but welcome","author":{"uuid":"x","name":"X"}}]}`).Want(t, 200)
	tk := ticketOf(t, b, bID)
	if tk["status"] != "pending" {
		t.Fatalf("a stale update overwrote the status: %v", tk["status"])
	}
	if !hasComment(comments(t, b, bID), "late but welcome") {
		t.Fatal("the stale update's new comment was dropped")
	}
	// Replaying the same comment does not duplicate it.
	put(`{"version":60,"comments":[{"uuid":"late-1","body":"late but welcome","author":{"uuid":"x","name":"X"}}]}`).Want(t, 200)
	if n := strings.Count(strings.Join(comments(t, b, bID), "\n"), "late but welcome"); n != 1 {
		t.Fatalf("comment appears %d times", n)
	}
	// Closed at the receiver: the partner is told the ticket no longer syncs.
	b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", bID), map[string]any{"ticket": map[string]any{"status": "closed"}}).Want(t, 200)
	if r := put(`{"version":70,"comments":[{"uuid":"after-close","body":"x","author":{"uuid":"x"}}]}`); r.Status != 410 {
		t.Fatalf("update of a closed ticket: %d %s", r.Status, r.Body)
	}
}

// TestSharingMetrics: /metrics exposes the outbox depth and age and delivery failures.
func TestSharingMetrics(t *testing.T) {
	t.Parallel()
	desk := testkit.Start(t, storetest.Dialects()[0])
	desk.Account(t, "acme", account.Enterprise)
	r, err := http.Get("http://" + desk.Addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	for _, m := range []string{"tandem_sharing_outbox_pending", "tandem_sharing_outbox_oldest_pending_seconds", "tandem_http_request_duration_seconds"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

// TestSignedUpdateRecordedWithItsWrite: a signed update's signature is recorded in the
// update's own transaction: replaying an applied update is refused (409) and applies
// nothing, on every database; an update refused by its write (a closed ticket here)
// records no signature, so the same call again gets the same answer, not 409.
func TestSignedUpdateRecordedWithItsWrite(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			desk := testkit.Start(t, d)
			a := desk.Account(t, "acme", account.Enterprise)
			b := desk.Account(t, "globex", account.Enterprise)
			p := connect(t, a, b, false, nil)
			_, bID := p.share(t, "Signed")
			_, key, shareUUID, call := p.inbound(t)
			path := "/sharing/tickets/" + shareUUID
			signed := func(body string) http.Header {
				req, _ := http.NewRequest("PUT", "http://x"+path, nil)
				wire.Sign(req, key, []byte(body), time.Now())
				return req.Header
			}
			body := `{"comments":[{"uuid":"signed-1","body":"signed once","author":{"uuid":"x","name":"X"}}]}`
			h := signed(body)
			call("PUT", path, body, h).Want(t, 200)
			if r := call("PUT", path, body, h); r.Status != 409 || !strings.Contains(string(r.Body), "Replayed") {
				t.Fatalf("replayed update: %d %s, want 409 Replayed", r.Status, r.Body)
			}
			if n := strings.Count(strings.Join(comments(t, b, bID), "\n"), "signed once"); n != 1 {
				t.Fatalf("comment appears %d times", n)
			}
			b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", bID), map[string]any{"ticket": map[string]any{"status": "closed"}}).Want(t, 200)
			body = `{"comments":[{"uuid":"signed-2","body":"after close","author":{"uuid":"x","name":"X"}}]}`
			h = signed(body)
			for i := range 2 {
				if r := call("PUT", path, body, h); r.Status != 410 {
					t.Fatalf("call %d of a refused signed update: %d %s, want 410", i+1, r.Status, r.Body)
				}
			}
		})
	}
}
