package sharing_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/sharing/wire"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestPartnerCommentTimes: a partner comment's time is stored as given; one at or
// before 1970-01-01 00:00:00 UTC (which the store could not tell from "no time") is
// refused with a 422 naming the field, never shown as created_at null.
func TestPartnerCommentTimes(t *testing.T) {
	t.Parallel()
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			desk := testkit.Start(t, dia)
			a := desk.Account(t, "acme", account.Enterprise)
			b := desk.Account(t, "globex", account.Enterprise)
			p := connect(t, a, b, false, nil)
			_, bID := p.share(t, "Old times")
			_, _, shareUUID, call := p.inbound(t)
			put := func(body string) *testkit.Resp { return call("PUT", "/sharing/tickets/"+shareUUID, body, nil) }
			comment := func(id, at string) string {
				return `{"comments":[{"uuid":"` + id + `","body":"from ` + at + `","authored_at":"` + at + `","author":{"uuid":"x","name":"X"}}]}`
			}
			r := put(comment("epoch", "1970-01-01 00:00:00 +0000"))
			if r.Status != 422 || !strings.Contains(string(r.Body), "comments[0].authored_at") {
				t.Fatalf("a comment dated at the epoch: %d %s, want 422 naming comments[0].authored_at", r.Status, r.Body)
			}
			put(comment("early", "1970-01-02 03:04:05 +0000")).Want(t, 200)
			found := false
			for _, c := range b.Do(t, b.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", bID), nil).Want(t, 200).List("comments") {
				if strings.HasPrefix(fmt.Sprint(c["body"]), "from 1970") {
					found = true
					if c["created_at"] != "1970-01-02T03:04:05Z" {
						t.Fatalf("comment of 1970-01-02 stored as created_at %v", c["created_at"])
					}
				}
				if c["created_at"] == nil {
					t.Fatalf("a comment without created_at: %v", c)
				}
			}
			if !found {
				t.Fatal("the 1970-01-02 comment was not stored")
			}
		})
	}
}

// TestReplayAcrossProcesses: a signed sharing call accepted by one server process is
// refused as a replay by another process on the same PostgreSQL database.
func TestReplayAcrossProcesses(t *testing.T) {
	t.Parallel()
	open := sharedPostgres(t)
	s1 := testkit.StartDB(t, open())
	s2 := testkit.StartDB(t, open())
	a := s1.Account(t, "acme", account.Enterprise)
	b := s1.Account(t, "globex", account.Enterprise)
	p := connect(t, a, b, false, nil)
	uuid, key, _, _ := p.inbound(t)
	newUUID := wire.NewUUID()
	path := "/sharing/tickets/" + newUUID
	body := `{"uuid":"` + newUUID + `","subject":"Once","comments":[{"uuid":"c1","body":"x","author":{"uuid":"u","name":"Eve"}}],"requester":{"uuid":"u","name":"Eve"}}`
	req, _ := http.NewRequest("POST", "http://x"+path, nil)
	wire.Sign(req, key, []byte(body), time.Now())
	h := req.Header.Clone()
	h.Set(wire.TokenHeader, wire.FormatToken(uuid, key))
	r1, err := s1.Request("globex", testkit.Anonymous, "POST", path, body, h)
	if err != nil || r1.Status != 201 {
		t.Fatalf("first call: %v %v", r1, err)
	}
	r2, err := s2.Request("globex", testkit.Anonymous, "POST", path, body, h)
	if err != nil || r2.Status != 409 || !strings.Contains(string(r2.Body), "Replayed") {
		t.Fatalf("the same signed call to another process: %d %s, want 409 Replayed", r2.Status, r2.Body)
	}
}

// TestPartnerRedirectsElsewhere: a partner that redirects a call to another host is
// not retried forever: the share is marked failed with the reason.
func TestPartnerRedirectsElsewhere(t *testing.T) {
	t.Parallel()
	sender := testkit.Start(t, storetest.Dialects()[0])
	receiver := testkit.Start(t, storetest.Dialects()[0])
	var redirecting atomic.Bool
	var calls atomic.Int64
	u, _ := url.Parse("http://" + receiver.Addr)
	proxy := httputil.NewSingleHostReverseProxy(u)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if redirecting.Load() {
			calls.Add(1)
			http.Redirect(w, r, "http://elsewhere.example"+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	a := sender.Account(t, "acme", account.Enterprise)
	b := receiver.Account(t, "globex", account.Enterprise)
	inv := a.Do(t, a.Admin, "POST", "/api/v2/sharing_agreements", map[string]any{"sharing_agreement": map[string]any{"remote_url": "http://globex.localhost:" + port + "/sharing"}}).Want(t, 201).Obj("sharing_agreement")
	agB := testkit.ID(b.Do(t, b.Admin, "GET", "/api/v2/sharing_agreements", nil).List("sharing_agreements")[0], "id")
	b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d", agB), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}).Want(t, 200)
	tk := a.Do(t, a.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{"subject": "Moved", "comment": map[string]any{"body": "start"}}}).Want(t, 201).Obj("ticket")
	id := testkit.ID(tk, "id")
	a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{testkit.ID(inv, "id")}}}).Want(t, 200)
	testkit.Eventually(t, 10*time.Second, "the share to be delivered", func() bool { return sender.Srv.Sharing.Drained(t.Context()) })

	redirecting.Store(true)
	a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "after the move"}}}).Want(t, 200)
	var state, reason string
	testkit.Eventually(t, 10*time.Second, "the share to be marked failed", func() bool {
		for _, sh := range ticketOf(t, a, id)["sharing"].([]any) {
			m := sh.(map[string]any)
			state, _ = m["state"].(string)
			reason, _ = m["state_reason"].(string)
		}
		return state == "failed"
	})
	if !strings.Contains(reason, "redirected") || !strings.Contains(reason, "elsewhere.example") {
		t.Fatalf("reason = %q, want the redirect named", reason)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("the redirecting partner was called %d times, want once", n)
	}
}
