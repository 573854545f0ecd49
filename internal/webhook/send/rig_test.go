package send_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/testkit"
	"tandem/internal/webhook/send"
)

// call is one request a receiver got.
type call struct {
	Method, Path, Invocation, ContentType, Auth string
	Body                                        []byte
	SignatureOK                                 bool
}

// receiver is a webhook endpoint on loopback that verifies every call's signature the
// way Zendesk documents it: base64(HMAC-SHA256(signing secret, timestamp + raw body)),
// compared with the X-Zendesk-Webhook-Signature header.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	// secret verifies the signatures ("" until the test knows it).
	secret string
	calls  []call
	// status is what it answers (200 by default).
	status int
	// got counts every request, answered or not.
	got int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: 200}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		ts := req.Header.Get("X-Zendesk-Webhook-Signature-Timestamp")
		sig := req.Header.Get("X-Zendesk-Webhook-Signature")
		r.mu.Lock()
		r.got++
		status, secret := r.status, r.secret
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts + string(body)))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		c := call{Method: req.Method, Path: req.URL.RequestURI(), Invocation: req.Header.Get("X-Zendesk-Webhook-Invocation-Id"),
			ContentType: req.Header.Get("Content-Type"), Auth: req.Header.Get("Authorization"), Body: body,
			SignatureOK: ts != "" && hmac.Equal([]byte(sig), []byte(want))}
		if status < 300 {
			r.calls = append(r.calls, c)
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) URL() string { return r.srv.URL + "/hook" }

func (r *receiver) set(secret string, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if secret != "" {
		r.secret = secret
	}
	if status != 0 {
		r.status = status
	}
}

// answered are the calls answered with 2xx, in arrival order.
func (r *receiver) answered() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

func (r *receiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got
}

// fast makes retries quick enough for tests.
func fast(c *server.Config) {
	c.Webhooks = send.Config{MaxBackoff: 100 * time.Millisecond, BaseBackoff: 10 * time.Millisecond, BreakFor: 50 * time.Millisecond,
		Timeout: 2 * time.Second, MaxAttempts: 1000}
}

// desk starts a server with an enterprise account "acme".
func desk(t *testing.T, d store.Dialect, opts ...testkit.Option) (*testkit.Desk, *testkit.Acct) {
	dk := testkit.Start(t, d, append([]testkit.Option{fast}, opts...)...)
	return dk, dk.Account(t, "acme", account.Enterprise)
}

// createHook creates a webhook through the API and returns its id and signing secret.
func createHook(t *testing.T, a *testkit.Acct, hook map[string]any) (id, secret string) {
	t.Helper()
	w := a.Do(t, a.Admin, "POST", "/api/v2/webhooks", map[string]any{"webhook": hook}).Want(t, 201).Obj("webhook")
	id, _ = w["id"].(string)
	s := a.Do(t, a.Admin, "GET", "/api/v2/webhooks/"+id+"/signing_secret", nil).Want(t, 200).Obj("signing_secret")
	secret, _ = s["secret"].(string)
	return id, secret
}

func hookFor(url string, subs ...string) map[string]any {
	if len(subs) == 0 {
		subs = []string{"conditional_ticket_events"}
	}
	return map[string]any{"name": "Hook", "endpoint": url, "http_method": "POST", "request_format": "json", "status": "active", "subscriptions": subs}
}

// webhookTrigger makes a trigger that calls webhook id on every ticket change with a
// JSON body naming the ticket and its latest comment.
func webhookTrigger(t *testing.T, a *testkit.Acct, id string) {
	t.Helper()
	body := `{"ticket": "{{ticket.id}}", "title": "{{ticket.title}}", "comment": "{{ticket.latest_comment}}"}`
	a.Do(t, a.Admin, "POST", "/api/v2/triggers", map[string]any{"trigger": map[string]any{
		"title":      "Call the hook",
		"conditions": map[string]any{"any": []any{map[string]any{"field": "update_type", "operator": "is", "value": "Create"}, map[string]any{"field": "update_type", "operator": "is", "value": "Change"}}},
		"actions":    []any{map[string]any{"field": "notification_webhook", "value": []string{id, body}}},
	}}).Want(t, 201)
}
