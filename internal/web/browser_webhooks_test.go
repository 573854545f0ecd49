package web_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// TestBrowserWebhooksPage: in a real browser, the admin opens Admin > Webhooks, sees a
// failing webhook marked as such and a healthy one, presses "Send test" on the healthy
// one and sees the call delivered in its log.
func TestBrowserWebhooksPage(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	var calls atomic.Int32
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer down.Close()
	desk := testkit.Start(t, store.SQLite, func(c *server.Config) { c.Webhooks.MaxAttempts = 1 })
	acme := desk.Account(t, "acme", account.Enterprise)
	hook := func(name, url string) string {
		return acme.Do(t, acme.Admin, "POST", "/api/v2/webhooks", map[string]any{"webhook": map[string]any{"name": name, "endpoint": url, "http_method": "POST",
			"request_format": "json", "status": "active", "subscriptions": []string{"conditional_ticket_events"}}}).Want(t, 201).Obj("webhook")["id"].(string)
	}
	hook("Team chat", ok.URL+"/chat")
	broken := hook("Old CRM", down.URL+"/crm")
	acme.Do(t, acme.Admin, "POST", "/api/v2/triggers", map[string]any{"trigger": map[string]any{"title": "CRM",
		"conditions": map[string]any{"all": []any{map[string]any{"field": "update_type", "operator": "is", "value": "Create"}}},
		"actions":    []any{map[string]any{"field": "notification_webhook", "value": []string{broken, `{"id": "{{ticket.id}}"}`}}}}}).Want(t, 201)
	acme.Do(t, acme.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{"subject": "Hello", "comment": map[string]any{"body": "Hi"}}}).Want(t, 201)
	passwordFor(t, desk, "acme", "admin@acme.test")

	base := "http://" + desk.Host("acme")
	tb := b.tab()
	tb.signIn(base, "admin@acme.test", password)
	tb.open(base + "/admin/webhooks")
	tb.waitText("Failing since", true)
	tb.click("form[action$='/test'] button[type=submit]", "is on its way")
	tb.waitText("Delivered", true)
	tb.shot("admin-webhooks")
	if calls.Load() != 1 {
		t.Fatalf("the healthy endpoint got %d calls, want the one test call", calls.Load())
	}
}
