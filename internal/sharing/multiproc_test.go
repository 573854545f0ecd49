package sharing_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// TestSeveralServersOnePostgres: two server processes share one PostgreSQL database, as
// behind a load balancer; both run outbox workers, and every queued call reaches the
// partner exactly once (claims use FOR UPDATE SKIP LOCKED and leases).
func TestSeveralServersOnePostgres(t *testing.T) {
	t.Parallel()
	open := sharedPostgres(t)
	s1 := testkit.StartDB(t, open())
	s2 := testkit.StartDB(t, open())
	recv := testkit.Start(t, store.SQLite)
	rp := newRecordingProxy(t, recv)
	_, port, _ := net.SplitHostPort(rp.addr)
	a1 := s1.Account(t, "acme", account.Enterprise)
	a2 := &testkit.Acct{Desk: s2, Sub: "acme", ID: a1.ID, Plan: a1.Plan, Admin: a1.Admin}
	b := recv.Account(t, "globex", account.Enterprise)
	inv := a1.Do(t, a1.Admin, "POST", "/api/v2/sharing_agreements", map[string]any{"sharing_agreement": map[string]any{"remote_url": "http://globex.localhost:" + port + "/sharing"}}).Want(t, 201).Obj("sharing_agreement")
	agB := testkit.ID(b.Do(t, b.Admin, "GET", "/api/v2/sharing_agreements", nil).List("sharing_agreements")[0], "id")
	b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d", agB), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}).Want(t, 200)
	const tickets, rounds = 6, 8
	var ids []int64
	for i := 0; i < tickets; i++ {
		tk := a1.Do(t, a1.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{"subject": fmt.Sprintf("Multi %d", i), "comment": map[string]any{"body": "start"}}}).Want(t, 201).Obj("ticket")
		id := testkit.ID(tk, "id")
		a1.Do(t, a1.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{testkit.ID(inv, "id")}}}).Want(t, 200)
		ids = append(ids, id)
	}
	// Updates arrive through both servers; both workers deliver.
	for r := 0; r < rounds; r++ {
		for i, id := range ids {
			srv := a1
			if (r+i)%2 == 1 {
				srv = a2
			}
			srv.Do(t, srv.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": fmt.Sprintf("marker-%d-%02d", i, r)}}}).Want(t, 200)
		}
	}
	testkit.Eventually(t, 30*time.Second, "both outboxes to drain", func() bool {
		return s1.Srv.Sharing.Drained(t.Context()) && s2.Srv.Sharing.Drained(t.Context())
	})
	wireLog := rp.all()
	for i := range ids {
		for r := 0; r < rounds; r++ {
			m := fmt.Sprintf("marker-%d-%02d", i, r)
			if n := strings.Count(wireLog, `"`+m+`"`); n != 1 {
				t.Fatalf("%s crossed the wire %d times, want exactly once", m, n)
			}
		}
	}
	// And in order per ticket at the receiver.
	for i := range ids {
		id := (&pair{b: b}).copyOf(t, fmt.Sprintf("Multi %d", i))
		got := comments(t, b, id)
		for r := 0; r < rounds; r++ {
			if want := fmt.Sprintf("marker-%d-%02d|true", i, r); got[r+1] != want {
				t.Fatalf("ticket %d comment %d = %s, want %s", i, r+1, got[r+1], want)
			}
		}
	}
}
