package send_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestTriggerCallsWebhook: a trigger's notification_webhook action calls the webhook
// with its body rendered (placeholders escaped so the JSON stays valid), signed so that
// a receiver written to Zendesk's documentation verifies it; the invocation log shows
// the call and its attempt.
func TestTriggerCallsWebhook(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			_, a := desk(t, d)
			rc := newReceiver(t)
			hook := hookFor(rc.URL())
			hook["authentication"] = map[string]any{"type": "bearer_token", "data": map[string]any{"token": "s3cret"}, "add_position": "header"}
			id, secret := createHook(t, a, hook)
			rc.set(secret, 0)
			webhookTrigger(t, a, id)
			tk := a.Do(t, a.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{"subject": `Printer "on fire"`, "comment": map[string]any{"body": "help\nplease"}}}).Want(t, 201).Obj("ticket")
			testkit.Eventually(t, 20*time.Second, "the webhook call", func() bool { return len(rc.answered()) == 1 })
			c := rc.answered()[0]
			if !c.SignatureOK {
				t.Fatalf("signature does not verify: %+v", c)
			}
			if c.Method != "POST" || c.ContentType != "application/json" || c.Auth != "Bearer s3cret" {
				t.Fatalf("call = %s %s auth %q", c.Method, c.ContentType, c.Auth)
			}
			var got map[string]string
			if err := json.Unmarshal(c.Body, &got); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, c.Body)
			}
			if got["ticket"] != strconv.FormatInt(testkit.ID(tk, "id"), 10) || got["title"] != `Printer "on fire"` || got["comment"] != "help\nplease" {
				t.Fatalf("body = %v", got)
			}
			// The invocation log.
			var invs []map[string]any
			testkit.Eventually(t, 10*time.Second, "the invocation logged as a success", func() bool {
				invs = a.Do(t, a.Admin, "GET", "/api/v2/webhooks/"+id+"/invocations", nil).Want(t, 200).List("invocations")
				return len(invs) == 1 && invs[0]["status"] == "success"
			})
			if invs[0]["id"] != c.Invocation || testkit.ID(invs[0], "status_code") != 200 {
				t.Fatalf("invocation = %v, call invocation %q", invs[0], c.Invocation)
			}
			atts := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/webhooks/%s/invocations/%s/attempts", id, c.Invocation), nil).Want(t, 200).List("attempts")
			if len(atts) != 1 || atts[0]["status"] != "success" || atts[0]["latency"] == nil || !strings.Contains(fmt.Sprint(atts[0]["response"]), `"ok":true`) {
				t.Fatalf("attempts = %v", atts)
			}
			// The ticket's audit records the call as Zendesk's External event.
			audits := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits", testkit.ID(tk, "id")), nil).Want(t, 200)
			if !strings.Contains(string(audits.Body), `"External"`) {
				t.Fatalf("no External event in the audits: %s", audits.Body)
			}
		})
	}
}

// TestEndpointDownThenBack: the endpoint answers 503 while 200 changes are made on 10
// tickets, then recovers: every change is delivered exactly once, in order per ticket.
func TestEndpointDownThenBack(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			_, a := desk(t, d)
			rc := newReceiver(t)
			id, secret := createHook(t, a, hookFor(rc.URL()))
			rc.set(secret, 503)
			webhookTrigger(t, a, id)
			const tickets, rounds = 10, 20
			var tids []int64
			for i := 0; i < tickets; i++ {
				tk := a.Do(t, a.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{"subject": fmt.Sprintf("T%d", i), "comment": map[string]any{"body": "c-00"}}}).Want(t, 201).Obj("ticket")
				tids = append(tids, testkit.ID(tk, "id"))
			}
			for r := 1; r < rounds; r++ {
				for _, tid := range tids {
					a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", tid), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": fmt.Sprintf("c-%02d", r)}}}).Want(t, 200)
				}
			}
			testkit.Eventually(t, 20*time.Second, "calls refused while down", func() bool { return rc.requests() >= 5 })
			if n := len(rc.answered()); n != 0 {
				t.Fatalf("%d calls answered while down", n)
			}
			rc.set("", 200)
			testkit.Eventually(t, 60*time.Second, "every change delivered", func() bool { return len(rc.answered()) >= tickets*rounds })
			seen := map[string]bool{}
			last := map[string]string{}
			for _, c := range rc.answered() {
				if !c.SignatureOK {
					t.Fatalf("signature does not verify")
				}
				var b map[string]string
				if err := json.Unmarshal(c.Body, &b); err != nil {
					t.Fatal(err)
				}
				key := b["ticket"] + "/" + b["comment"]
				if seen[key] {
					t.Fatalf("%s delivered twice", key)
				}
				seen[key] = true
				if b["comment"] <= last[b["ticket"]] {
					t.Fatalf("ticket %s: %s after %s", b["ticket"], b["comment"], last[b["ticket"]])
				}
				last[b["ticket"]] = b["comment"]
			}
			if len(seen) != tickets*rounds {
				t.Fatalf("%d distinct changes delivered, want %d", len(seen), tickets*rounds)
			}
		})
	}
}

// TestGiveUpTellsAdmins: an endpoint that keeps failing is given up on after the
// configured attempts; the webhook is marked failing and the admins are notified.
func TestGiveUpTellsAdmins(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			dk, a := desk(t, d, func(c *server.Config) { c.Webhooks.MaxAttempts = 3 })
			rc := newReceiver(t)
			rc.set("", 500)
			id, _ := createHook(t, a, hookFor(rc.URL()))
			webhookTrigger(t, a, id)
			a.Do(t, a.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{"subject": "x", "comment": map[string]any{"body": "y"}}}).Want(t, 201)
			var inv map[string]any
			testkit.Eventually(t, 20*time.Second, "the call given up", func() bool {
				invs := a.Do(t, a.Admin, "GET", "/api/v2/webhooks/"+id+"/invocations", nil).List("invocations")
				if len(invs) == 1 && invs[0]["status"] == "failed" {
					inv = invs[0]
					return true
				}
				return false
			})
			if rc.requests() != 3 || !strings.Contains(fmt.Sprint(inv["error"]), "gave up after 3 attempts") {
				t.Fatalf("%d requests; invocation %v", rc.requests(), inv)
			}
			atts := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/webhooks/%s/invocations/%s/attempts", id, inv["id"]), nil).List("attempts")
			if len(atts) != 3 {
				t.Fatalf("%d attempts logged, want 3", len(atts))
			}
			var failing int64
			var body string
			if err := dk.DB.R().QueryRowContext(t.Context(), `SELECT failing_since FROM webhooks WHERE id = ?`, id).Scan(&failing); err != nil || failing == 0 {
				t.Fatalf("webhook not marked failing (%d, %v)", failing, err)
			}
			if err := dk.DB.R().QueryRowContext(t.Context(), `SELECT body FROM live_notifications WHERE account_id = ? AND user_id = ? AND kind = 'webhook'`, a.ID, a.Admin.UserID).Scan(&body); err != nil || !strings.Contains(body, "is failing") {
				t.Fatalf("admin not notified: %q %v", body, err)
			}
		})
	}
}

// TestPeopleEvents: user and organization changes reach the webhooks subscribed to them.
func TestPeopleEvents(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			_, a := desk(t, d)
			rc := newReceiver(t)
			_, secret := createHook(t, a, hookFor(rc.URL(), "zen:event-type:user.created", "zen:event-type:user.name_changed", "zen:event-type:organization.created"))
			rc.set(secret, 0)
			u := a.Do(t, a.Admin, "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "Ann Lee", "email": "ann@example.com"}}).Want(t, 201).Obj("user")
			a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d", testkit.ID(u, "id")), map[string]any{"user": map[string]any{"name": "Ann Smith"}}).Want(t, 200)
			a.Do(t, a.Admin, "POST", "/api/v2/organizations", map[string]any{"organization": map[string]any{"name": "Initech"}}).Want(t, 201)
			testkit.Eventually(t, 20*time.Second, "three events", func() bool { return len(rc.answered()) == 3 })
			types := map[string]map[string]any{}
			for _, c := range rc.answered() {
				if !c.SignatureOK {
					t.Fatal("signature does not verify")
				}
				var ev map[string]any
				if err := json.Unmarshal(c.Body, &ev); err != nil {
					t.Fatal(err)
				}
				types[fmt.Sprint(ev["type"])] = ev
			}
			ch := types["zen:event-type:user.name_changed"]
			if ch == nil || types["zen:event-type:user.created"] == nil || types["zen:event-type:organization.created"] == nil {
				t.Fatalf("events: %v", types)
			}
			if e, _ := ch["event"].(map[string]any); e["current"] != "Ann Smith" || e["previous"] != "Ann Lee" || ch["subject"] != fmt.Sprintf("zen:user:%d", testkit.ID(u, "id")) {
				t.Fatalf("name change event = %v", ch)
			}
		})
	}
}

// TestContained: a hanging endpoint, one answering garbage and one redirecting are each
// contained (timed out, failed, not followed) while a healthy webhook is served.
func TestContained(t *testing.T) {
	t.Parallel()
	dk, a := desk(t, store.SQLite, func(c *server.Config) {
		c.Webhooks.Timeout = 300 * time.Millisecond
		c.Webhooks.MaxAttempts = 2
	})
	_ = dk
	hang := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(hang) }) })
	hanging := newRawServer(t, func(conn rawConn) { <-hang })
	garbage := newRawServer(t, func(conn rawConn) { _, _ = conn.Write([]byte("\x00\x01 not http at all\r\n\r\n")) })
	target := newReceiver(t)
	redirect := newRawServer(t, func(conn rawConn) {
		_, _ = conn.Write([]byte("HTTP/1.1 302 Found\r\nLocation: " + target.URL() + "\r\nContent-Length: 0\r\n\r\n"))
	})
	healthy := newReceiver(t)
	ids := map[string]string{}
	for name, url := range map[string]string{"hanging": hanging, "garbage": garbage, "redirect": redirect, "healthy": healthy.URL()} {
		id, secret := createHook(t, a, hookFor(url))
		if name == "healthy" {
			healthy.set(secret, 0)
		}
		ids[name] = id
		webhookTrigger(t, a, id)
	}
	a.Do(t, a.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{"subject": "x", "comment": map[string]any{"body": "y"}}}).Want(t, 201)
	testkit.Eventually(t, 20*time.Second, "the healthy webhook called", func() bool { return len(healthy.answered()) == 1 })
	for _, name := range []string{"hanging", "garbage", "redirect"} {
		var inv map[string]any
		testkit.Eventually(t, 20*time.Second, name+" given up", func() bool {
			invs := a.Do(t, a.Admin, "GET", "/api/v2/webhooks/"+ids[name]+"/invocations", nil).List("invocations")
			if len(invs) == 1 && invs[0]["status"] == "failed" {
				inv = invs[0]
				return true
			}
			return false
		})
		want := map[string]string{"hanging": "timed out", "garbage": "call failed", "redirect": "redirects are not followed"}[name]
		if !strings.Contains(fmt.Sprint(inv["error"]), want) {
			t.Fatalf("%s: error %q, want %q", name, inv["error"], want)
		}
	}
	if target.requests() != 0 {
		t.Fatal("a redirect was followed")
	}
}

// TestPrivateAddressesRefused: without the operator's permission, a webhook on a
// loopback address is never called; the invocation fails with the reason.
func TestPrivateAddressesRefused(t *testing.T) {
	t.Parallel()
	_, a := desk(t, store.SQLite, func(c *server.Config) { c.AllowPrivatePartners = false })
	rc := newReceiver(t)
	id, _ := createHook(t, a, hookFor(rc.URL()))
	webhookTrigger(t, a, id)
	a.Do(t, a.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{"subject": "x", "comment": map[string]any{"body": "y"}}}).Want(t, 201)
	var inv map[string]any
	testkit.Eventually(t, 20*time.Second, "the call refused", func() bool {
		invs := a.Do(t, a.Admin, "GET", "/api/v2/webhooks/"+id+"/invocations", nil).List("invocations")
		if len(invs) == 1 && invs[0]["status"] == "failed" {
			inv = invs[0]
			return true
		}
		return false
	})
	if !strings.Contains(fmt.Sprint(inv["error"]), "loopback address") || rc.requests() != 0 {
		t.Fatalf("error %q, %d requests", inv["error"], rc.requests())
	}
	// The synchronous test call is refused the same way.
	res := a.Do(t, a.Admin, "POST", "/api/v2/webhooks/"+id+"/test", nil).Want(t, 200).Obj("response")
	if !strings.Contains(fmt.Sprint(res["error"]), "loopback address") || rc.requests() != 0 {
		t.Fatalf("test call: %v", res)
	}
}

// TestTwoServersDeliverOnce: two serve processes on one PostgreSQL deliver each
// invocation exactly once.
func TestTwoServersDeliverOnce(t *testing.T) {
	t.Parallel()
	if storetest.PostgresURL() == "" {
		t.Skip("TANDEM_TEST_POSTGRES not set")
	}
	opts := storetest.Options(t, store.Postgres)
	open := func() *store.DB {
		db, err := store.Open(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	s1 := testkit.StartDB(t, open(), fast)
	s2 := testkit.StartDB(t, open(), fast)
	a1 := s1.Account(t, "acme", account.Enterprise)
	a2 := &testkit.Acct{Desk: s2, Sub: "acme", ID: a1.ID, Plan: a1.Plan, Admin: a1.Admin}
	rc := newReceiver(t)
	id, secret := createHook(t, a1, hookFor(rc.URL()))
	rc.set(secret, 0)
	webhookTrigger(t, a1, id)
	const n = 40
	for i := 0; i < n; i++ {
		srv := a1
		if i%2 == 1 {
			srv = a2
		}
		srv.Do(t, srv.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{"subject": fmt.Sprintf("T%d", i), "comment": map[string]any{"body": "x"}}}).Want(t, 201)
	}
	testkit.Eventually(t, 30*time.Second, "both outboxes drained", func() bool {
		return len(rc.answered()) >= n && s1.Srv.Webhooks.Drained(t.Context()) && s2.Srv.Webhooks.Drained(t.Context())
	})
	seen := map[string]bool{}
	for _, c := range rc.answered() {
		if seen[c.Invocation] {
			t.Fatalf("invocation %s delivered twice", c.Invocation)
		}
		seen[c.Invocation] = true
	}
	if len(seen) != n {
		t.Fatalf("%d invocations delivered, want %d", len(seen), n)
	}
}

// TestWebhookAccess: every webhook route is for admins of the account: agents and end
// users are refused, other accounts find nothing, anonymous callers must sign in.
func TestWebhookAccess(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			dk, a := desk(t, d)
			other := dk.Account(t, "globex", account.Enterprise)
			agent := a.User(t, identity.Agent, "agent@acme.test", "Agent")
			end := a.User(t, identity.EndUser, "end@acme.test", "End")
			rc := newReceiver(t)
			id, _ := createHook(t, a, hookFor(rc.URL()))
			routes := []struct{ method, path string }{
				{"GET", "/api/v2/webhooks"}, {"POST", "/api/v2/webhooks"}, {"GET", "/api/v2/webhooks/" + id},
				{"PUT", "/api/v2/webhooks/" + id}, {"PATCH", "/api/v2/webhooks/" + id}, {"DELETE", "/api/v2/webhooks/" + id},
				{"POST", "/api/v2/webhooks/" + id + "/test"}, {"GET", "/api/v2/webhooks/" + id + "/signing_secret"},
				{"POST", "/api/v2/webhooks/" + id + "/signing_secret"}, {"GET", "/api/v2/webhooks/" + id + "/invocations"},
				{"GET", "/api/v2/webhooks/" + id + "/invocations/X/attempts"}, {"POST", "/api/v2/webhooks/test?webhook_id=" + id},
			}
			body := map[string]any{"webhook": hookFor(rc.URL())}
			for _, r := range routes {
				for _, who := range []struct {
					cred testkit.Cred
					want int
				}{{agent, 403}, {end, 403}, {testkit.Anonymous, 401}} {
					if got := a.Do(t, who.cred, r.method, r.path, body).Status; got != who.want {
						t.Errorf("%s %s as %s: %d, want %d", r.method, r.path, who.cred.Email, got, who.want)
					}
				}
				if strings.Contains(r.path, id) {
					if got := other.Do(t, other.Admin, r.method, r.path, body).Status; got != 404 {
						t.Errorf("%s %s from another account: %d, want 404", r.method, r.path, got)
					}
				}
			}
			if rc.requests() != 0 {
				t.Fatal("a refused call reached the endpoint")
			}
			if n := len(other.Do(t, other.Admin, "GET", "/api/v2/webhooks", nil).Want(t, 200).List("webhooks")); n != 0 {
				t.Fatalf("another account lists %d webhooks", n)
			}
			// The webhook survived every refused call.
			a.Do(t, a.Admin, "GET", "/api/v2/webhooks/"+id, nil).Want(t, 200)
		})
	}
}
