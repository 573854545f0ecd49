package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// TestWebhooksPage: the admin's Webhooks page lists the account's webhooks with their
// health and latest calls; "Send test" queues a test call that reaches the endpoint and
// shows in the log. Agents cannot open it, and another account's webhooks never show.
func TestWebhooksPage(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer rc.Close()
	desk := testkit.Start(t, store.SQLite)
	acme := desk.Account(t, "acme", account.Enterprise)
	globex := desk.Account(t, "globex", account.Enterprise)
	hook := func(name string) map[string]any {
		return map[string]any{"webhook": map[string]any{"name": name, "endpoint": rc.URL, "http_method": "POST", "request_format": "json",
			"status": "active", "subscriptions": []string{"conditional_ticket_events"}}}
	}
	id := acme.Do(t, acme.Admin, "POST", "/api/v2/webhooks", hook("Slack <relay>")).Want(t, 201).Obj("webhook")["id"].(string)
	globex.Do(t, globex.Admin, "POST", "/api/v2/webhooks", hook("Globex secret hook")).Want(t, 201)
	agent := acme.User(t, identity.Agent, "agent@acme.test", "Agent Acme")
	setPassword(t, desk, acme.ID, agent.UserID)

	c := newClient(t, desk, "acme")
	c.signIn("admin@acme.test", password)
	c.get("/admin/webhooks").want(t, http.StatusOK).has(t, "Slack &lt;relay&gt;", "Healthy", "No calls yet.", "Send test").hasNot(t, "Globex secret hook", "<relay>")
	c.post("/admin/webhooks/"+id+"/test", nil).want(t, http.StatusSeeOther)
	testkit.Eventually(t, 10*time.Second, "the test call", func() bool { return calls.Load() == 1 })
	testkit.Eventually(t, 10*time.Second, "the call in the log", func() bool {
		return strings.Contains(c.get("/admin/webhooks").Body, "Delivered")
	})

	ag := newClient(t, desk, "acme")
	ag.signIn("agent@acme.test", password)
	if p := ag.get("/admin/webhooks"); p.Status == http.StatusOK {
		t.Fatal("an agent may read the Webhooks page")
	}
}
