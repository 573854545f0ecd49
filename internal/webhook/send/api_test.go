package send_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"tandem/internal/store/storetest"
	"tandem/internal/webhook"
)

// TestWebhookCRUD: Zendesk's shapes and statuses for create, show, list, update,
// patch, the signing secret and delete; credentials are never shown back.
func TestWebhookCRUD(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			_, a := desk(t, d)
			rc := newReceiver(t)
			hook := hookFor(rc.URL())
			hook["authentication"] = map[string]any{"type": "basic_auth", "data": map[string]any{"username": "u", "password": "p4ss"}, "add_position": "header"}
			hook["custom_headers"] = map[string]any{"X-Team": "support"}
			created := a.Do(t, a.Admin, "POST", "/api/v2/webhooks", map[string]any{"webhook": hook}).Want(t, 201)
			w := created.Obj("webhook")
			id, _ := w["id"].(string)
			if len(id) != 26 || created.Header.Get("Location") == "" || w["status"] != "active" || w["created_by"] != fmt.Sprint(a.Admin.UserID) {
				t.Fatalf("created = %v", w)
			}
			if strings.Contains(string(created.Body), "p4ss") {
				t.Fatal("the password is shown back")
			}
			a.Do(t, a.Admin, "PATCH", "/api/v2/webhooks/"+id, map[string]any{"webhook": map[string]any{"status": "inactive"}}).Want(t, 204)
			got := a.Do(t, a.Admin, "GET", "/api/v2/webhooks/"+id+".json", nil).Want(t, 200).Obj("webhook")
			auth, _ := got["authentication"].(map[string]any)
			if got["status"] != "inactive" || got["name"] != "Hook" || auth["type"] != "basic_auth" {
				t.Fatalf("after patch = %v", got)
			}
			put := hookFor(rc.URL())
			put["name"] = "Renamed"
			a.Do(t, a.Admin, "PUT", "/api/v2/webhooks/"+id, map[string]any{"webhook": put}).Want(t, 204)
			got = a.Do(t, a.Admin, "GET", "/api/v2/webhooks/"+id, nil).Want(t, 200).Obj("webhook")
			if got["name"] != "Renamed" || got["authentication"] != nil || got["status"] != "active" {
				t.Fatalf("after put = %v", got)
			}
			for i := 0; i < 2; i++ {
				a.Do(t, a.Admin, "POST", "/api/v2/webhooks", map[string]any{"webhook": hookFor(rc.URL())}).Want(t, 201)
			}
			page := a.Do(t, a.Admin, "GET", "/api/v2/webhooks?page[size]=2", nil).Want(t, 200)
			meta := page.Obj("meta")
			if len(page.List("webhooks")) != 2 || meta["has_more"] != true {
				t.Fatalf("first page = %s", page.Body)
			}
			rest := a.Do(t, a.Admin, "GET", "/api/v2/webhooks?page[size]=2&page[after]="+fmt.Sprint(meta["after_cursor"]), nil).Want(t, 200)
			if len(rest.List("webhooks")) != 1 || rest.Obj("meta")["has_more"] != false {
				t.Fatalf("second page = %s", rest.Body)
			}
			if n := len(a.Do(t, a.Admin, "GET", "/api/v2/webhooks?filter[name_contains]=renam", nil).List("webhooks")); n != 1 {
				t.Fatalf("name filter found %d", n)
			}
			s1 := a.Do(t, a.Admin, "GET", "/api/v2/webhooks/"+id+"/signing_secret", nil).Want(t, 200).Obj("signing_secret")
			s2 := a.Do(t, a.Admin, "POST", "/api/v2/webhooks/"+id+"/signing_secret", nil).Want(t, 201).Obj("signing_secret")
			if s1["algorithm"] != "SHA256" || s1["secret"] == s2["secret"] || s2["secret"] == "" {
				t.Fatalf("secrets %v then %v", s1, s2)
			}
			a.Do(t, a.Admin, "DELETE", "/api/v2/webhooks/"+id, nil).Want(t, 204)
			a.Do(t, a.Admin, "GET", "/api/v2/webhooks/"+id, nil).Want(t, 404)
		})
	}
}

// TestWebhookBadInput: bad input is a 422 naming each bad field, and nothing is stored.
func TestWebhookBadInput(t *testing.T) {
	t.Parallel()
	_, a := desk(t, "sqlite")
	ok := func() map[string]any { return hookFor("https://hooks.example.com/x") }
	cases := []struct {
		name  string
		edit  func(h map[string]any)
		field string
	}{
		{"no endpoint", func(h map[string]any) { delete(h, "endpoint") }, "endpoint"},
		{"ftp endpoint", func(h map[string]any) { h["endpoint"] = "ftp://x.example.com" }, "endpoint"},
		{"credentials in URL", func(h map[string]any) { h["endpoint"] = "https://u:p@x.example.com" }, "endpoint"},
		{"no name", func(h map[string]any) { h["name"] = " " }, "name"},
		{"method", func(h map[string]any) { h["http_method"] = "TRACE" }, "http_method"},
		{"format", func(h map[string]any) { h["request_format"] = "yaml" }, "request_format"},
		{"status", func(h map[string]any) { h["status"] = "on" }, "status"},
		{"no subscriptions", func(h map[string]any) { h["subscriptions"] = []string{} }, "subscriptions"},
		{"unknown subscription", func(h map[string]any) { h["subscriptions"] = []string{"zen:event-type:user.exploded"} }, "subscriptions"},
		{"events need POST json", func(h map[string]any) {
			h["subscriptions"] = []string{"zen:event-type:user.created"}
			h["request_format"] = "xml"
		}, "subscriptions"},
		{"auth type", func(h map[string]any) {
			h["authentication"] = map[string]any{"type": "magic", "add_position": "header"}
		}, "authentication.type"},
		{"auth data", func(h map[string]any) {
			h["authentication"] = map[string]any{"type": "bearer_token", "data": map[string]any{}, "add_position": "header"}
		}, "authentication.data.token"},
		{"reserved header", func(h map[string]any) { h["custom_headers"] = map[string]any{"Authorization": "x"} }, "custom_headers"},
		{"name of the wrong type", func(h map[string]any) { h["name"] = 5 }, "name"},
	}
	for _, c := range cases {
		h := ok()
		c.edit(h)
		r := a.Do(t, a.Admin, "POST", "/api/v2/webhooks", map[string]any{"webhook": h}).Want(t, 422)
		if _, found := r.Obj("details")[c.field]; !found {
			t.Errorf("%s: details %s do not name %s", c.name, r.Body, c.field)
		}
	}
	a.Do(t, a.Admin, "POST", "/api/v2/webhooks", "{not json").Want(t, 400)
	if n := len(a.Do(t, a.Admin, "GET", "/api/v2/webhooks", nil).List("webhooks")); n != 0 {
		t.Fatalf("%d webhooks stored from bad input", n)
	}
	// A trigger naming a webhook that does not exist is refused too.
	r := a.Do(t, a.Admin, "POST", "/api/v2/triggers", map[string]any{"trigger": map[string]any{"title": "x",
		"conditions": map[string]any{"all": []any{map[string]any{"field": "update_type", "operator": "is", "value": "Create"}}},
		"actions":    []any{map[string]any{"field": "notification_webhook", "value": []string{"01NOSUCHWEBHOOK0000000000", "{}"}}}}}).Want(t, 422)
	if !strings.Contains(string(r.Body), "does not exist") {
		t.Fatalf("trigger error: %s", r.Body)
	}
}

// TestWebhookTestEndpoint: Zendesk's test call, for a webhook being written (signed with
// Zendesk's static test secret) and for a stored one (its own secret), answers with
// what the endpoint answered.
func TestWebhookTestEndpoint(t *testing.T) {
	t.Parallel()
	_, a := desk(t, "sqlite")
	rc := newReceiver(t)
	rc.set(webhook.TestSecret, 0)
	res := a.Do(t, a.Admin, "POST", "/api/v2/webhooks/test", map[string]any{"request": map[string]any{
		"endpoint": rc.URL(), "http_method": "POST", "request_format": "json", "payload": `{"hello":"world"}`}}).Want(t, 200).Obj("response")
	if testkitNum(res["status"]) != 200 || !strings.Contains(fmt.Sprint(res["body"]), "ok") {
		t.Fatalf("response = %v", res)
	}
	c := rc.answered()[0]
	if !c.SignatureOK || string(c.Body) != `{"hello":"world"}` {
		t.Fatalf("call = %+v", c)
	}
	id, secret := createHook(t, a, hookFor(rc.URL()))
	rc.set(secret, 0)
	a.Do(t, a.Admin, "POST", "/api/v2/webhooks/"+id+"/test", nil).Want(t, 200)
	if c := rc.answered()[1]; !c.SignatureOK {
		t.Fatal("a stored webhook's test call is not signed with its secret")
	}
	// The same signature as a receiver computes it by hand.
	mac := hmac.New(sha256.New, []byte("secret"))
	mac.Write([]byte("2021-10-27T18:02:01Z" + `{"a":1}`))
	if webhook.Signature("secret", "2021-10-27T18:02:01Z", []byte(`{"a":1}`)) != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Fatal("Signature differs from Zendesk's recipe")
	}
}

func testkitNum(v any) int {
	f, _ := v.(float64)
	return int(f)
}
