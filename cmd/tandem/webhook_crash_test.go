package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/testkit"
)

// TestWebhookCrashKeepsTheBacklog: the server is killed with SIGKILL while webhook calls
// are queued and in flight; after a restart every change has reached the endpoint, in
// order per ticket. A call made just before the kill whose outcome was not recorded is
// made again, with the same invocation id (at least once, as Zendesk's webhooks are: a
// receiver dedupes by X-Zendesk-Webhook-Invocation-Id); nothing else is repeated.
func TestWebhookCrashKeepsTheBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	created := createAcme(t, dir)
	type got struct{ invocation, ticket, comment string }
	var mu sync.Mutex
	var calls []got
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]string
		_ = json.Unmarshal(b, &body)
		time.Sleep(20 * time.Millisecond) // slow enough for a backlog to build
		mu.Lock()
		calls = append(calls, got{r.Header.Get("X-Zendesk-Webhook-Invocation-Id"), body["ticket"], body["comment"]})
		mu.Unlock()
	}))
	defer rc.Close()
	received := func() []got {
		mu.Lock()
		defer mu.Unlock()
		return append([]got(nil), calls...)
	}

	addr := freeAddr(t)
	serve := []string{"serve", "--data-dir", dir, "--addr", addr, "--allow-private-partners", "--rate-limit", "-1", "--log-level", "error"}
	p := startProcess(t, serve...)
	waitUp(t, addr)
	_, port, _ := net.SplitHostPort(addr)
	a := &testkit.Acct{Desk: &testkit.Desk{Addr: addr, Port: port}, Sub: "acme", Plan: account.Enterprise, Admin: testkit.Cred{Email: "admin@acme.test", Token: created.Token}}
	hook := a.Do(t, a.Admin, "POST", "/api/v2/webhooks", map[string]any{"webhook": map[string]any{"name": "Crash", "endpoint": rc.URL, "http_method": "POST",
		"request_format": "json", "status": "active", "subscriptions": []string{"conditional_ticket_events"}}}).Want(t, 201).Obj("webhook")
	a.Do(t, a.Admin, "POST", "/api/v2/triggers", map[string]any{"trigger": map[string]any{"title": "Hook",
		"conditions": map[string]any{"any": []any{map[string]any{"field": "update_type", "operator": "is", "value": "Create"}, map[string]any{"field": "update_type", "operator": "is", "value": "Change"}}},
		"actions":    []any{map[string]any{"field": "notification_webhook", "value": []string{hook["id"].(string), `{"ticket": "{{ticket.id}}", "comment": "{{ticket.latest_comment}}"}`}}}}}).Want(t, 201)
	const tickets, rounds = 4, 10
	var ids []int64
	for i := 0; i < tickets; i++ {
		ids = append(ids, testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{"subject": fmt.Sprintf("T%d", i), "comment": map[string]any{"body": "c-00"}}}).Want(t, 201).Obj("ticket"), "id"))
	}
	for r := 1; r < rounds; r++ {
		for _, id := range ids {
			a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": fmt.Sprintf("c-%02d", r)}}}).Want(t, 200)
		}
	}
	before := len(received())
	if before >= tickets*rounds {
		t.Fatal("everything was delivered before the kill: no backlog to test")
	}
	p.kill() // SIGKILL: the backlog is only in the database
	t.Logf("killed with %d of %d calls received", before, tickets*rounds)
	startProcess(t, serve...)
	waitUp(t, addr)
	distinct := func() int {
		seen := map[string]bool{}
		for _, c := range received() {
			seen[c.ticket+"/"+c.comment] = true
		}
		return len(seen)
	}
	testkit.Eventually(t, 60*time.Second, "every change delivered after the restart", func() bool { return distinct() == tickets*rounds })
	byChange := map[string]string{}
	repeated := 0
	last := map[string]string{}
	for _, c := range received() {
		key := c.ticket + "/" + c.comment
		if inv, ok := byChange[key]; ok {
			if inv != c.invocation {
				t.Fatalf("%s delivered twice under different invocations", key)
			}
			repeated++
			continue
		}
		byChange[key] = c.invocation
		if c.comment < last[c.ticket] {
			t.Fatalf("ticket %s: %s after %s", c.ticket, c.comment, last[c.ticket])
		}
		last[c.ticket] = c.comment
	}
	// At most the calls in flight at the kill (one per ticket) are made again.
	if repeated > tickets {
		t.Fatalf("%d calls repeated after the restart, more than the %d that could be in flight", repeated, tickets)
	}
}
