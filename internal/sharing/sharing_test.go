package sharing_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/sharing/wire"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// pair is a sender and a receiver with an accepted agreement.
type pair struct {
	a, b    *testkit.Acct
	agentA  testkit.Cred
	agentB  testkit.Cred
	agA     int64 // the agreement's id at A (outbound)
	agB     int64 // ... and at B (inbound)
	sameSrv bool
}

// connect invites b from a with the terms, and b accepts.
func connect(t *testing.T, a, b *testkit.Acct, sameServer bool, terms map[string]any) *pair {
	t.Helper()
	body := map[string]any{}
	for k, v := range terms {
		body[k] = v
	}
	if sameServer {
		body["remote_subdomain"] = b.Sub
	} else {
		body["remote_url"] = b.Desk.SharingURL(b.Sub)
	}
	inv := a.Do(t, a.Admin, "POST", "/api/v2/sharing_agreements.json", map[string]any{"sharing_agreement": body}).Want(t, 201).Obj("sharing_agreement")
	if inv["status"] != "pending" || inv["type"] != "outbound" {
		t.Fatalf("invite = %v", inv)
	}
	list := b.Do(t, b.Admin, "GET", "/api/v2/sharing_agreements.json", nil).Want(t, 200).List("sharing_agreements")
	if len(list) != 1 || list[0]["type"] != "inbound" || list[0]["status"] != "pending" {
		t.Fatalf("receiver's agreements = %v", list)
	}
	agB := testkit.ID(list[0], "id")
	acc := b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", agB), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}).Want(t, 200).Obj("sharing_agreement")
	if acc["status"] != "accepted" {
		t.Fatalf("accept = %v", acc)
	}
	agA := testkit.ID(inv, "id")
	got := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/sharing_agreements/%d", agA), nil).Want(t, 200).Obj("sharing_agreement")
	if got["status"] != "accepted" {
		t.Fatalf("sender's agreement after accept = %v", got)
	}
	if want := strings.ToUpper(b.Sub[:1]) + b.Sub[1:]; got["name"] != want {
		t.Fatalf("the sender knows the partner as %q, want its account name %q", got["name"], want)
	}
	return &pair{a: a, b: b, agA: agA, agB: agB, sameSrv: sameServer,
		agentA: a.User(t, identity.Agent, "agent@"+a.Sub+".test", "Agnes "+a.Sub),
		agentB: b.User(t, identity.Agent, "agent@"+b.Sub+".test", "Boris "+b.Sub)}
}

// share creates a ticket at A and shares it; it returns A's id and B's copy id.
func (p *pair) share(t *testing.T, subject string) (int64, int64) {
	t.Helper()
	tk := p.a.Do(t, p.agentA, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
		"subject": subject, "tags": []string{"warranty"}, "comment": map[string]any{"body": "First words of " + subject},
		"requester": map[string]any{"name": "Rita Requester", "email": "rita@example.test"}}}).Want(t, 201).Obj("ticket")
	id := testkit.ID(tk, "id")
	up := p.a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{p.agA}}}).Want(t, 200)
	if !strings.Contains(string(up.Body), `"TicketSharingEvent"`) {
		t.Fatalf("share audit lacks TicketSharingEvent: %s", up.Body)
	}
	return id, p.copyOf(t, subject)
}

// copyOf waits for B's copy of the ticket with the subject.
func (p *pair) copyOf(t *testing.T, subject string) int64 {
	t.Helper()
	var id int64
	testkit.Eventually(t, 10*time.Second, "the partner's copy of "+subject, func() bool {
		for _, tk := range p.b.Do(t, p.b.Admin, "GET", "/api/v2/tickets.json", nil).List("tickets") {
			if tk["subject"] == subject {
				id = testkit.ID(tk, "id")
				return true
			}
		}
		return false
	})
	return id
}

// inbound returns what the receiver knows of the agreement, its uuid and key, and the
// uuid of its first share, and sends protocol calls to the receiver as the sender would.
func (p *pair) inbound(t *testing.T) (uuid, key, shareUUID string, call func(method, path, body string, hdr http.Header) *testkit.Resp) {
	t.Helper()
	desk := p.b.Desk
	desk.DB.R().QueryRowContext(t.Context(), `SELECT uuid, access_key FROM sharing_agreements WHERE id = ?`, p.agB).Scan(&uuid, &key)
	desk.DB.R().QueryRowContext(t.Context(), `SELECT uuid FROM ticket_shares WHERE agreement_id = ?`, p.agB).Scan(&shareUUID)
	call = func(method, path, body string, hdr http.Header) *testkit.Resp {
		h := http.Header{wire.TokenHeader: {wire.FormatToken(uuid, key)}}
		for k, v := range hdr {
			h[k] = v
		}
		r, err := desk.Request(p.b.Sub, testkit.Anonymous, method, path, body, h)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	return uuid, key, shareUUID, call
}

// sharedPostgres returns a function opening another connection pool on one fresh
// PostgreSQL database, as each of several server processes would; it skips the test
// without TANDEM_TEST_POSTGRES.
func sharedPostgres(t *testing.T) func() *store.DB {
	t.Helper()
	if storetest.PostgresURL() == "" {
		t.Skip("TANDEM_TEST_POSTGRES not set")
	}
	opts := storetest.Options(t, store.Postgres)
	return func() *store.DB {
		db, err := store.Open(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

func comments(t *testing.T, a *testkit.Acct, id int64) []string {
	var out []string
	for _, c := range a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", id), nil).Want(t, 200).List("comments") {
		out = append(out, fmt.Sprintf("%v|%v", c["body"], c["public"]))
	}
	return out
}

func ticketOf(t *testing.T, a *testkit.Acct, id int64) map[string]any {
	return a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d.json", id), nil).Want(t, 200).Obj("ticket")
}

// waitDrained waits until neither desk has anything left to deliver, so that a negative
// assertion after it cannot pass merely because a wrong delivery has not arrived yet. A
// delivery applied at one desk may queue a reply at the other before its own row is done,
// so both outboxes must be seen empty twice in a row.
func (p *pair) waitDrained(t *testing.T) {
	t.Helper()
	desks := []*testkit.Desk{p.a.Desk}
	if p.b.Desk != p.a.Desk {
		desks = append(desks, p.b.Desk)
	}
	testkit.Eventually(t, 20*time.Second, "both outboxes to drain", func() bool {
		for range 2 { // each desk, then each again
			for _, d := range desks {
				if !d.Srv.Sharing.Drained(t.Context()) {
					return false
				}
			}
		}
		return true
	})
}

func hasComment(list []string, body string) bool {
	for _, c := range list {
		if strings.HasPrefix(c, body+"|") {
			return true
		}
	}
	return false
}

// scenario is the whole story both on one server and across two servers.
func scenario(t *testing.T, p *pair) {
	aID, bID := p.share(t, "Broken blender")
	bt := ticketOf(t, p.b, bID)
	sh := bt["sharing"].([]any)[0].(map[string]any)
	if sh["direction"] != "inbound" || sh["state"] != "active" || bt["via"].(map[string]any)["channel"] != "ticket_sharing" {
		t.Fatalf("copy = %v", bt)
	}
	if fmt.Sprint(bt["tags"]) != "[warranty]" || bt["status"] != "new" {
		t.Fatalf("copy tags/status = %v/%v", bt["tags"], bt["status"])
	}
	if got := comments(t, p.b, bID); len(got) != 1 || got[0] != "First words of Broken blender|true" {
		t.Fatalf("copy comments = %v", got)
	}
	at := ticketOf(t, p.a, aID)
	if ash := at["sharing"].([]any)[0].(map[string]any); ash["direction"] != "outbound" || fmt.Sprint(at["sharing_agreement_ids"]) != fmt.Sprintf("[%d]", p.agA) {
		t.Fatalf("sender's ticket = %v", at)
	}
	// A: a public reply, an internal note (terms: public only), status and tags.
	p.a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d", aID), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "Sent to the manufacturer"}, "status": "pending", "additional_tags": []string{"urgent_repair"}}}).Want(t, 200)
	p.a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d", aID), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "INTERNAL margin is thin", "public": false}}}).Want(t, 200)
	testkit.Eventually(t, 10*time.Second, "A's reply at B", func() bool { return hasComment(comments(t, p.b, bID), "Sent to the manufacturer") })
	bt = ticketOf(t, p.b, bID)
	if bt["status"] != "pending" || !strings.Contains(fmt.Sprint(bt["tags"]), "urgent_repair") {
		t.Fatalf("status/tags did not sync: %v %v", bt["status"], bt["tags"])
	}
	// B replies; the reply reaches A with its author's name, and is not echoed back.
	p.b.Do(t, p.agentB, "PUT", fmt.Sprintf("/api/v2/tickets/%d", bID), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "Replacement unit shipped"}, "status": "open"}}).Want(t, 200)
	testkit.Eventually(t, 10*time.Second, "B's reply at A", func() bool { return hasComment(comments(t, p.a, aID), "Replacement unit shipped") })
	if at := ticketOf(t, p.a, aID); at["status"] != "open" {
		t.Fatalf("status from B did not sync: %v", at["status"])
	}
	cs := p.a.Do(t, p.a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json?include=users", aID), nil).Want(t, 200)
	if !strings.Contains(string(cs.Body), "Boris "+p.b.Sub) {
		t.Fatalf("partner author not attributed: %s", cs.Body)
	}
	p.waitDrained(t)
	if n := len(comments(t, p.b, bID)); n != 3 { // first, A's reply, B's reply: no echo, no internal note
		t.Fatalf("B has %d comments: %v", n, comments(t, p.b, bID))
	}
	for _, c := range comments(t, p.b, bID) {
		if strings.Contains(c, "INTERNAL") {
			t.Fatal("an internal note crossed an agreement that shares public comments only")
		}
	}
	// The partner's update is in A's history as a ticket-sharing update.
	audits := p.a.Do(t, p.a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", aID), nil).Want(t, 200)
	if !strings.Contains(string(audits.Body), `"channel":"ticket_sharing"`) {
		t.Fatalf("no ticket_sharing audit at A: %s", audits.Body)
	}
	// Unshare: B keeps its copy as an orphan; later changes stay at A.
	p.a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d", aID), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{}}}).Want(t, 200)
	testkit.Eventually(t, 10*time.Second, "the orphaned copy", func() bool {
		sh := ticketOf(t, p.b, bID)["sharing"].([]any)[0].(map[string]any)
		return sh["state"] == "orphaned"
	})
	p.a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d", aID), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "After unshare"}}}).Want(t, 200)
	p.waitDrained(t)
	if hasComment(comments(t, p.b, bID), "After unshare") {
		t.Fatal("a comment crossed after unshare")
	}
	if bt := ticketOf(t, p.b, bID); len(bt["sharing_agreement_ids"].([]any)) != 0 {
		t.Fatalf("orphan still lists agreements: %v", bt["sharing_agreement_ids"])
	}
}

func TestSharingSameServer(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			desk := testkit.Start(t, d)
			a := desk.Account(t, "acme", account.Enterprise)
			b := desk.Account(t, "globex", account.Enterprise)
			scenario(t, connect(t, a, b, true, nil))
		})
	}
}

func TestSharingAcrossServers(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			d1, d2 := testkit.Start(t, d), testkit.Start(t, d)
			a := d1.Account(t, "acme", account.Enterprise)
			b := d2.Account(t, "globex", account.Enterprise)
			scenario(t, connect(t, a, b, false, nil))
		})
	}
}
