package assist_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"tandem/internal/ai/assist"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

func TestQueueKillSwitchRateAndPendingReplies(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testQueue(t, d) })
	}
}

// lastAttempt waits for the AI's run on a ticket (queued in its create transaction,
// run after commit by the server's worker) and returns its decision.
func (w *world) lastAttempt(id ids.Ticket) *assist.Attempt {
	w.t.Helper()
	var a *assist.Attempt
	testkit.Eventually(w.t, 10*time.Second, fmt.Sprintf("the AI's run on ticket %d", id), func() bool {
		list := w.attempts(id)
		if len(list) == 0 {
			return false
		}
		a = list[len(list)-1]
		return true
	})
	return a
}

func testQueue(t *testing.T, d store.Dialect) {
	w := newWorld(t, d)
	settings := func(body map[string]any) *testkit.Resp {
		return w.acme.Do(t, w.acme.Admin, "PUT", "/api/v2/ai/assist.json", map[string]any{"ai_assist": body})
	}
	settings(map[string]any{"target_precision": 0.5}).Want(t, 422)
	settings(map[string]any{"min_tickets": 10}).Want(t, 422)
	settings(map[string]any{"draft_kind": "email"}).Want(t, 422)
	w.acme.Do(t, w.agent, "PUT", "/api/v2/ai/assist.json", map[string]any{"ai_assist": map[string]any{"kill_switch": true}}).Want(t, 403)
	w.acme.Do(t, w.acme.Admin, "PUT", "/api/v2/ai/assist/autonomy.json", map[string]any{"autonomy": map[string]any{"intent": "card_arrival", "mode": "yolo"}}).Want(t, 422)

	w.setMode("card_arrival", assist.ModeAutonomous) // no simulation covers it: drafts, saying why
	// A draft as an internal note (the default kind).
	noted := w.ticket("Card", "Hello, my new card has not arrived yet, when will it arrive?")
	if a := w.lastAttempt(noted); a.Action != assist.ActDraft {
		t.Fatalf("draft run: %+v", a)
	}
	if cs := w.comments(noted); len(cs) != 2 || cs[1].Public || !strings.Contains(cs[1].Body, "3 to 5 working days") || w.get(noted).Status != ticket.New {
		t.Fatalf("draft note: %+v", cs)
	}
	settings(map[string]any{"draft_kind": "pending", "rate_per_hour": 60}).Want(t, 200)
	first := w.ticket("Card", "Hello, my new card has not arrived yet, when will it arrive?")
	a := w.lastAttempt(first)
	if a.Action != assist.ActPending || a.State != "pending" || !strings.Contains(a.Reason, "simulation") || assist.DetectLanguage(a.Body) != assist.LangEN {
		t.Fatalf("first run: %+v", a)
	}
	if tk := w.get(first); tk.Status != ticket.New || len(w.comments(first)) != 2 || w.comments(first)[1].Public {
		t.Fatalf("a pending reply changed the ticket: status %s, comments %d", tk.Status, len(w.comments(first)))
	}
	// One click sends it, as the agent, with the macro's allowed actions.
	got := w.acme.Do(t, w.agent, "GET", fmt.Sprintf("/api/v2/tickets/%d/ai_attempts.json", first), nil).Want(t, 200).List("ai_attempts")
	if len(got) != 1 || got[0]["state"] != "pending" || got[0]["body"] == nil {
		t.Fatalf("attempts API: %v", got)
	}
	w.acme.Do(t, w.restricted, "POST", fmt.Sprintf("/api/v2/tickets/%d/ai_attempts/%d/send.json", first, a.ID), nil).Want(t, 404)
	w.acme.Do(t, w.agent, "POST", fmt.Sprintf("/api/v2/tickets/%d/ai_attempts/%d/send.json", first, a.ID), nil).Want(t, 204)
	w.acme.Do(t, w.agent, "POST", fmt.Sprintf("/api/v2/tickets/%d/ai_attempts/%d/send.json", first, a.ID), nil).Want(t, 409)
	cs := w.comments(first)
	if last := cs[len(cs)-1]; !last.Public || last.AuthorID != ids.User(w.agent.UserID) || !strings.Contains(last.Body, "3 to 5 working days") {
		t.Errorf("sent reply: %+v", last)
	}
	if tk := w.get(first); tk.Status != ticket.Solved || tk.AssigneeID != 0 {
		t.Errorf("after send: status %s assignee %d", tk.Status, tk.AssigneeID)
	}

	// The kill switch holds at once, for every process on the database.
	other := testkit.StartDB(t, w.desk.DB)
	settings(map[string]any{"kill_switch": true}).Want(t, 200)
	r, err := other.Request("acme", w.acme.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{
		"subject": "Card", "comment": map[string]any{"body": "Hello, my new card has not arrived yet, when will it arrive?"}, "requester_id": w.customer.UserID}}, nil)
	if err != nil || r.Status != 201 {
		t.Fatalf("create on the second process: %v %v", err, r)
	}
	killed := ids.Ticket(testkit.ID(r.Obj("ticket"), "id"))
	if a := w.lastAttempt(killed); a.Action != assist.ActNone || !strings.Contains(a.Reason, "kill switch") {
		t.Errorf("with the kill switch on: %+v", a)
	}
	if n := len(w.comments(killed)); n != 1 {
		t.Errorf("the AI wrote %d comments with the kill switch on", n-1)
	}
	// The rate limit: two drafts or replies an hour, already used.
	settings(map[string]any{"kill_switch": false, "rate_per_hour": 2}).Want(t, 200)
	limited := w.ticket("Card", "Hello, my new card has not arrived yet, when will it arrive?")
	if a := w.lastAttempt(limited); a.Action != assist.ActNone || !strings.Contains(a.Reason, "limit") {
		t.Errorf("over the rate limit: %+v", a)
	}
	// Hand-offs are not limited.
	human := w.ticket("Card", "My card has not arrived. I want to talk to a human.")
	if a := w.lastAttempt(human); a.Action != assist.ActHandoff {
		t.Errorf("hand-off over the rate limit: %+v", a)
	}
	if !w.desk.Srv.Assist.Drained(context.Background()) {
		testkit.Eventually(t, 5*time.Second, "the AI queue to drain", func() bool { return w.desk.Srv.Assist.Drained(context.Background()) })
	}
}
