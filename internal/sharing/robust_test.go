package sharing_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/sharing/wire"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// recordingProxy sits in front of a partner and records every request body it forwards.
type recordingProxy struct {
	mu     sync.Mutex
	bodies []string
	addr   string
}

func newRecordingProxy(t *testing.T, target *testkit.Desk) *recordingProxy {
	t.Helper()
	rp := &recordingProxy{}
	u, _ := url.Parse("http://" + target.Addr)
	proxy := httputil.NewSingleHostReverseProxy(u)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rp.addr = ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rp.mu.Lock()
		rp.bodies = append(rp.bodies, r.Method+" "+r.URL.Path+" "+string(b))
		rp.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		proxy.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rp
}

func (rp *recordingProxy) all() string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return strings.Join(rp.bodies, "\n")
}

// TestTermsOnTheWire: with comments limited to public, a private comment's body never
// appears in any request the partner receives.
func TestTermsOnTheWire(t *testing.T) {
	t.Parallel()
	d1, d2 := testkit.Start(t, storetest.Dialects()[0]), testkit.Start(t, storetest.Dialects()[0])
	a := d1.Account(t, "acme", account.Enterprise)
	b := d2.Account(t, "globex", account.Enterprise)
	rp := newRecordingProxy(t, d2)
	_, port, _ := net.SplitHostPort(rp.addr)
	inv := a.Do(t, a.Admin, "POST", "/api/v2/sharing_agreements", map[string]any{"sharing_agreement": map[string]any{
		"remote_url": "http://globex.localhost:" + port + "/sharing", "share_private_comments": false}}).Want(t, 201).Obj("sharing_agreement")
	agA := testkit.ID(inv, "id")
	agB := testkit.ID(b.Do(t, b.Admin, "GET", "/api/v2/sharing_agreements", nil).List("sharing_agreements")[0], "id")
	b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d", agB), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}).Want(t, 200)
	tk := a.Do(t, a.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{"subject": "Terms", "comment": map[string]any{"body": "public start"}}}).Want(t, 201).Obj("ticket")
	id := testkit.ID(tk, "id")
	// A private note before the share, and others after it.
	a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "SECRET-BEFORE-SHARE", "public": false}}}).Want(t, 200)
	a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{agA}}}).Want(t, 200)
	a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"html_body": "<p>SECRET-AFTER-SHARE</p>", "public": false}}}).Want(t, 200)
	a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "visible reply"}}}).Want(t, 200)
	testkit.Eventually(t, 10*time.Second, "the public reply to cross", func() bool { return strings.Contains(rp.all(), "visible reply") })
	wireLog := rp.all()
	if !strings.Contains(wireLog, "public start") {
		t.Fatalf("the share never crossed: %s", wireLog)
	}
	for _, secret := range []string{"SECRET-BEFORE-SHARE", "SECRET-AFTER-SHARE"} {
		if strings.Contains(wireLog, secret) {
			t.Fatalf("%s appeared on the wire:\n%s", secret, wireLog)
		}
	}
}

// TestPartnerOutage: the receiver is down while the sender makes 200 changes on 20
// shared tickets; when it comes back every change arrives once, in order per ticket.
func TestPartnerOutage(t *testing.T) {
	t.Parallel()
	dia := storetest.Dialects()[0]
	d1 := testkit.Start(t, dia)
	dbB := storetest.Open(t, dia)
	d2 := testkit.StartDB(t, dbB)
	a := d1.Account(t, "acme", account.Enterprise)
	b := d2.Account(t, "globex", account.Enterprise)
	p := connect(t, a, b, false, nil)
	const tickets, changes = 20, 10
	ids := make([]int64, tickets)
	for i := range ids {
		ids[i], _ = p.share(t, fmt.Sprintf("Outage %02d", i))
	}
	addr := d2.Addr
	d2.Stop()
	for round := 0; round < changes; round++ {
		for i, id := range ids {
			a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": fmt.Sprintf("t%02d change %02d", i, round)}}}).Want(t, 200)
		}
	}
	// The sender shows the backlog waiting.
	ag := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/sharing_agreements/%d", p.agA), nil).Want(t, 200).Obj("sharing_agreement")
	if testkit.ID(ag["delivery"].(map[string]any), "pending") == 0 {
		t.Fatalf("no backlog visible: %v", ag["delivery"])
	}
	d2 = testkit.StartDB(t, dbB, testkit.WithAddr(addr))
	b.Desk = d2
	testkit.Eventually(t, 60*time.Second, "the backlog to drain", func() bool { return d1.Srv.Sharing.Drained(t.Context()) })
	for i := range ids {
		bid := p.copyOf(t, fmt.Sprintf("Outage %02d", i))
		got := comments(t, b, bid)
		if len(got) != changes+1 {
			t.Fatalf("ticket %d has %d comments at the partner, want %d: %v", i, len(got), changes+1, got)
		}
		for round := 0; round < changes; round++ {
			if want := fmt.Sprintf("t%02d change %02d|true", i, round); got[round+1] != want {
				t.Fatalf("ticket %d comment %d = %q, want %q (order or duplicates wrong)", i, round+1, got[round+1], want)
			}
		}
	}
}

// TestProtocolRefusals: forged or missing tokens, wrong or inactive agreement, replayed
// signed request, garbage and oversized bodies are refused with the right status and
// nothing is written.
func TestProtocolRefusals(t *testing.T) {
	t.Parallel()
	desk := testkit.Start(t, storetest.Dialects()[0])
	a := desk.Account(t, "acme", account.Enterprise)
	b := desk.Account(t, "globex", account.Enterprise)
	other := desk.Account(t, "initech", account.Enterprise)
	p := connect(t, a, b, false, nil)
	_, _ = p.share(t, "Refusals")
	// The agreement's secret as the receiver knows it.
	var uuid, key string
	if err := desk.DB.R().QueryRowContext(t.Context(), `SELECT uuid, access_key FROM sharing_agreements WHERE id = ?`, p.agB).Scan(&uuid, &key); err != nil {
		t.Fatal(err)
	}
	var shareUUID string
	desk.DB.R().QueryRowContext(t.Context(), `SELECT uuid FROM ticket_shares WHERE agreement_id = ?`, p.agB).Scan(&shareUUID)
	countTickets := func() int {
		var n int
		desk.DB.R().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM tickets`).Scan(&n)
		return n
	}
	before := countTickets()
	newUUID := wire.NewUUID()
	good := `{"uuid":"` + newUUID + `","subject":"Injected","comments":[{"uuid":"c1","body":"x","author":{"uuid":"u","name":"Eve"}}],"requester":{"uuid":"u","name":"Eve"}}`
	send := func(sub, method, path, token, body string, hdr http.Header) *testkit.Resp {
		h := http.Header{}
		for k, v := range hdr {
			h[k] = v
		}
		if token != "" {
			h.Set(wire.TokenHeader, token)
		}
		r, err := desk.Request(sub, testkit.Anonymous, method, path, body, h)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	signed := func(method, path, body string, at time.Time) http.Header {
		req, _ := http.NewRequest(method, "http://x"+path, nil)
		wire.Sign(req, key, []byte(body), at)
		return req.Header
	}
	tok := wire.FormatToken(uuid, key)
	path := "/sharing/tickets/" + newUUID
	cases := []struct {
		name       string
		sub        string
		method     string
		path       string
		token      string
		body       string
		hdr        http.Header
		wantStatus int
	}{
		{"missing token", "globex", "POST", path, "", good, nil, 401},
		{"malformed token", "globex", "POST", path, "nocolon", good, nil, 401},
		{"forged key", "globex", "POST", path, uuid + ":" + strings.Repeat("0", 40), good, nil, 403},
		{"unknown agreement", "globex", "POST", path, wire.NewUUID() + ":" + key, good, nil, 403},
		{"right token, other account", "initech", "POST", path, tok, good, nil, 403},
		{"garbage body", "globex", "POST", path, tok, "not json at all", nil, 400},
		{"wrong types", "globex", "POST", path, tok, `{"uuid":"` + newUUID + `","comments":"x"}`, nil, 422},
		{"oversized body", "globex", "POST", path, tok, `{"subject":"` + strings.Repeat("x", 9<<20) + `"}`, nil, 413},
		{"bad version", "globex", "POST", path, tok, good, http.Header{wire.VersionHeader: {"2"}}, 412},
		{"bad signature", "globex", "POST", path, tok, good, http.Header{wire.TimestampHeader: {fmt.Sprint(time.Now().Unix())}, wire.SignatureHeader: {"v1=" + strings.Repeat("ab", 32)}}, 403},
		{"stale signature", "globex", "POST", path, tok, good, signed("POST", path, good, time.Now().Add(-time.Hour)), 403},
		{"sender cannot be updated by a stranger", "acme", "PUT", "/sharing/tickets/" + shareUUID, wire.NewUUID() + ":x", `{}`, nil, 403},
		{"unknown ticket", "globex", "PUT", "/sharing/tickets/" + wire.NewUUID(), tok, `{"subject":"x"}`, nil, 404},
		{"bad uuid in URL", "globex", "PUT", "/sharing/tickets/has%3Acolon", tok, `{}`, nil, 422},
	}
	for _, tc := range cases {
		r := send(tc.sub, tc.method, tc.path, tc.token, tc.body, tc.hdr)
		if r.Status != tc.wantStatus {
			t.Errorf("%s: %d, want %d: %s", tc.name, r.Status, tc.wantStatus, r.Body)
		}
	}
	if n := countTickets(); n != before {
		t.Fatalf("refused requests wrote %d tickets", n-before)
	}
	// A correctly signed request goes through once; replaying it is refused.
	h := signed("POST", path, good, time.Now())
	send("globex", "POST", path, tok, good, h).Want(t, 201)
	if r := send("globex", "POST", path, tok, good, h); r.Status != 409 {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	// Inactive agreement: refused.
	b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d", p.agB), map[string]any{"sharing_agreement": map[string]any{"status": "inactive"}}).Want(t, 200)
	u2 := wire.NewUUID()
	if r := send("globex", "POST", "/sharing/tickets/"+u2, tok, strings.ReplaceAll(good, newUUID, u2), nil); r.Status != 403 {
		t.Fatalf("inactive agreement: %d %s", r.Status, r.Body)
	}
	// An inactive agreement cannot be reactivated.
	if r := b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d", p.agB), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}); r.Status != 422 {
		t.Fatalf("reactivation: %d %s", r.Status, r.Body)
	}
	_ = other
}

// TestZendeskClientPayloads: payloads shaped as Zendesk's open-source ticket_sharing
// client sends them (no version header, its time format, all-null fields, public absent,
// numeric original_id, empty-body DELETE) are accepted.
func TestZendeskClientPayloads(t *testing.T) {
	t.Parallel()
	desk := testkit.Start(t, storetest.Dialects()[0])
	a := desk.Account(t, "acme", account.Enterprise)
	b := desk.Account(t, "globex", account.Enterprise)
	p := connect(t, a, b, false, nil)
	var uuid, key string
	desk.DB.R().QueryRowContext(t.Context(), `SELECT uuid, access_key FROM sharing_agreements WHERE id = ?`, p.agB).Scan(&uuid, &key)
	tu := wire.NewUUID()
	body := `{"uuid":"` + tu + `","subject":"From a Zendesk desk","requested_at":"2011-01-17 01:01:01 -0800","status":"new",
	 "requester":{"uuid":"r1","name":"Zed Requester","role":null},
	 "comments":[{"uuid":"zc1","author":{"uuid":"r1","name":"Zed Requester","role":null},"body":"The printer is on fire","html_body":null,"authored_at":"2011-01-17 01:01:01 -0800","attachments":null,"custom_fields":null}],
	 "current_actor":{"uuid":"a1","name":"Zoe Agent","role":"agent"},"tags":null,"original_id":12,"custom_fields":null,"custom_status":null}`
	h := http.Header{wire.TokenHeader: {wire.FormatToken(uuid, key)}}
	r, err := desk.Request("globex", testkit.Anonymous, "POST", "/sharing/tickets/"+tu, body, h)
	if err != nil || r.Status != 201 {
		t.Fatalf("zendesk-shaped share: %v %d %s", err, r.Status, r.Body)
	}
	id := p.copyOf(t, "From a Zendesk desk")
	if got := comments(t, b, id); len(got) != 1 || got[0] != "The printer is on fire|true" {
		t.Fatalf("public must default to true when absent: %v", got)
	}
	upd := `{"uuid":"` + tu + `","comments":[{"uuid":"zc2","author":{"uuid":"a1","name":"Zoe Agent","role":"agent"},"body":"Extinguished","authored_at":"2011-01-17 02:01:01 -0800","public":null}],"tags":null,"status":null,"custom_fields":null}`
	r, _ = desk.Request("globex", testkit.Anonymous, "PUT", "/sharing/tickets/"+tu, upd, h)
	if r.Status != 200 {
		t.Fatalf("zendesk-shaped update: %d %s", r.Status, r.Body)
	}
	if got := comments(t, b, id); len(got) != 2 || got[1] != "Extinguished|false" {
		t.Fatalf("explicit public:null means private: %v", got)
	}
	hd := http.Header{wire.TokenHeader: {wire.FormatToken(uuid, key)}, "Content-Type": {"application/json"}}
	r, _ = desk.Request("globex", testkit.Anonymous, "DELETE", "/sharing/tickets/"+tu, nil, hd)
	if r.Status != 200 {
		t.Fatalf("empty-body DELETE: %d %s", r.Status, r.Body)
	}
	if sh := ticketOf(t, b, id)["sharing"].([]any)[0].(map[string]any); sh["state"] != "orphaned" {
		t.Fatalf("after DELETE: %v", sh)
	}
}

// TestSharingPlanGates: Team and Growth cannot use agreements; Professional can.
func TestSharingPlanGates(t *testing.T) {
	t.Parallel()
	desk := testkit.Start(t, storetest.Dialects()[0])
	for _, plan := range []account.Plan{account.Team, account.Growth} {
		a := desk.Account(t, "small-"+string(plan), plan)
		r := a.Do(t, a.Admin, "GET", "/api/v2/sharing_agreements", nil).Want(t, 403)
		if !strings.Contains(string(r.Body), "professional") {
			t.Fatalf("%s: 403 must name the plan: %s", plan, r.Body)
		}
		a.Do(t, a.Admin, "POST", "/api/v2/sharing_agreements", map[string]any{"sharing_agreement": map[string]any{"remote_subdomain": "x"}}).Want(t, 403)
	}
	pro := desk.Account(t, "pro", account.Professional)
	pro.Do(t, pro.Admin, "GET", "/api/v2/sharing_agreements", nil).Want(t, 200)
	other := desk.Account(t, "other", account.Professional)
	ag := pro.User(t, "agent", "agent@pro.test", "Agent")
	// Agents read agreements but cannot create them.
	pro.Do(t, ag, "GET", "/api/v2/sharing_agreements", nil).Want(t, 200)
	pro.Do(t, ag, "POST", "/api/v2/sharing_agreements", map[string]any{"sharing_agreement": map[string]any{"remote_subdomain": "other"}}).Want(t, 403)
	// Tenant isolation: another account's agreement ids are not found.
	inv := pro.Do(t, pro.Admin, "POST", "/api/v2/sharing_agreements", map[string]any{"sharing_agreement": map[string]any{"remote_subdomain": "other"}}).Want(t, 201).Obj("sharing_agreement")
	id := testkit.ID(inv, "id")
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		if r := other.Do(t, other.Admin, m, fmt.Sprintf("/api/v2/sharing_agreements/%d", id), map[string]any{"sharing_agreement": map[string]any{"status": "inactive"}}); r.Status != 404 {
			t.Fatalf("%s another account's agreement: %d", m, r.Status)
		}
	}
}

// TestBacklogIsCoalesced: updates queued while the partner is down go out in a few
// requests (comments in order, latest fields), not one request per update.
func TestBacklogIsCoalesced(t *testing.T) {
	t.Parallel()
	dia := storetest.Dialects()[0]
	d1 := testkit.Start(t, dia)
	dbB := storetest.Open(t, dia)
	d2 := testkit.StartDB(t, dbB)
	rp := newRecordingProxy(t, d2)
	_, port, _ := net.SplitHostPort(rp.addr)
	a := d1.Account(t, "acme", account.Enterprise)
	b := d2.Account(t, "globex", account.Enterprise)
	inv := a.Do(t, a.Admin, "POST", "/api/v2/sharing_agreements", map[string]any{"sharing_agreement": map[string]any{"remote_url": "http://globex.localhost:" + port + "/sharing"}}).Want(t, 201).Obj("sharing_agreement")
	agB := testkit.ID(b.Do(t, b.Admin, "GET", "/api/v2/sharing_agreements", nil).List("sharing_agreements")[0], "id")
	b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d", agB), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}).Want(t, 200)
	p := &pair{a: a, b: b, agA: testkit.ID(inv, "id"), agentA: a.Admin}
	id, bid := p.share(t, "Coalesce me")
	addr := d2.Addr
	d2.Stop()
	const n = 30
	for i := 0; i < n; i++ {
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": fmt.Sprintf("queued %02d", i)}, "tags": []string{fmt.Sprintf("v%02d", i)}}}).Want(t, 200)
	}
	before := strings.Count(rp.all(), "PUT /sharing/tickets/")
	d2 = testkit.StartDB(t, dbB, testkit.WithAddr(addr))
	b.Desk = d2
	testkit.Eventually(t, 30*time.Second, "the backlog to drain", func() bool { return d1.Srv.Sharing.Drained(t.Context()) })
	puts := strings.Count(rp.all(), "PUT /sharing/tickets/") - before
	if puts >= n/2 {
		t.Fatalf("%d requests for %d queued updates: not coalesced", puts, n)
	}
	got := comments(t, b, bid)
	if len(got) != n+1 {
		t.Fatalf("%d comments at the partner, want %d", len(got), n+1)
	}
	for i := 0; i < n; i++ {
		if want := fmt.Sprintf("queued %02d|true", i); got[i+1] != want {
			t.Fatalf("comment %d = %s, want %s", i+1, got[i+1], want)
		}
	}
	if tags := fmt.Sprint(ticketOf(t, b, bid)["tags"]); tags != fmt.Sprintf("[v%02d]", n-1) {
		t.Fatalf("tags at the partner = %s, want the latest", tags)
	}
}
