package ai_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/identity"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

func eachDesk(t *testing.T, f func(t *testing.T, d *testkit.Desk)) {
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			f(t, testkit.Start(t, dia))
		})
	}
}

func put(t *testing.T, a *testkit.Acct, cred testkit.Cred, id int64, body map[string]any, status int) *testkit.Resp {
	t.Helper()
	return a.Do(t, cred, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": body}).Want(t, status)
}

// TestHistoryRecords: the history of solved tickets holds what was known at creation
// (subject as first written, first comment, requester's locale, channel) and the final
// labels: group, priority, type, tags, a drop-down field, the macros recorded with
// macro_ids, the articles linked in replies; the agents' public replies, the first of
// them, and a reopen within 7 days. Open tickets, other accounts' tickets and tickets
// outside the window are left out. On SQLite and PostgreSQL.
func TestHistoryRecords(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		ctx := context.Background()
		a := d.Account(t, "acme", account.Enterprise)
		other := d.Account(t, "globex", account.Enterprise)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		grp := testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/groups.json", map[string]any{"group": map[string]any{"name": "Cards"}}).Want(t, 201).Obj("group"), "id")
		field := testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/ticket_fields.json", map[string]any{"ticket_field": map[string]any{
			"type": "tagger", "title": "Intent", "custom_field_options": []any{
				map[string]any{"name": "Card arrival", "value": "card_arrival"}, map[string]any{"name": "Refund", "value": "refund"}}}}).Want(t, 201).Obj("ticket_field"), "id")
		macro := testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/macros.json", map[string]any{"macro": map[string]any{"title": "Card on its way",
			"actions": []any{map[string]any{"field": "status", "value": "solved"}}}}).Want(t, 201).Obj("macro"), "id")
		cat := testkit.ID(a.Do(t, ag, "POST", "/api/v2/help_center/categories.json", map[string]any{"category": map[string]any{"name": "Cards", "locale": "en-us"}}).Want(t, 201).Obj("category"), "id")
		sec := testkit.ID(a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/categories/%d/sections.json", cat), map[string]any{"section": map[string]any{"name": "Delivery"}}).Want(t, 201).Obj("section"), "id")
		art := a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/sections/%d/articles.json", sec), map[string]any{"article": map[string]any{"title": "When does my card arrive?", "body": "<p>Within a week.</p>", "locale": "en-us"}}).Want(t, 201).Obj("article")

		start := time.Now().Add(-time.Minute)
		tk := a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Card not here",
			"comment": map[string]any{"body": "My new card has not arrived yet"}, "requester": map[string]any{"name": "Rita", "email": "rita@x.test", "locale": "fr"}}}).Want(t, 201).Obj("ticket")
		id := testkit.ID(tk, "id")
		put(t, a, ag, id, map[string]any{"subject": "Card delivery (edited)", "group_id": grp, "priority": "high", "type": "question", "additional_tags": []string{"vip"},
			"custom_fields": []any{map[string]any{"id": field, "value": "card_arrival"}}, "macro_ids": []int64{macro},
			"comment": map[string]any{"body": "It is on its way: " + art["html_url"].(string), "public": true}}, 200)
		put(t, a, ag, id, map[string]any{"comment": map[string]any{"body": "internal note", "public": false}, "status": "solved"}, 200)
		put(t, a, ag, id, map[string]any{"status": "open"}, 200) // reopened at once: within 7 days
		put(t, a, ag, id, map[string]any{"status": "solved", "comment": map[string]any{"body": "Second answer"}}, 200)

		// Unknown macro: refused, nothing written.
		put(t, a, ag, id, map[string]any{"macro_ids": []int64{987654}}, http.StatusUnprocessableEntity)
		// Another account's macro is unknown here.
		om := testkit.ID(other.Do(t, other.Admin, "POST", "/api/v2/macros.json", map[string]any{"macro": map[string]any{"title": "Theirs",
			"actions": []any{map[string]any{"field": "status", "value": "open"}}}}).Want(t, 201).Obj("macro"), "id")
		put(t, a, ag, id, map[string]any{"macro_ids": []int64{om}}, http.StatusUnprocessableEntity)

		open := a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Still open", "comment": map[string]any{"body": "x"}}}).Want(t, 201).Obj("ticket")
		_ = open
		oid := testkit.ID(other.Do(t, other.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Theirs", "comment": map[string]any{"body": "y"}}}).Want(t, 201).Obj("ticket"), "id")
		put(t, other, other.Admin, oid, map[string]any{"status": "solved"}, 200)

		h := ai.NewHistory(d.DB)
		recs, err := h.Solved(ctx, a.ID, start, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 {
			t.Fatalf("%d records, want the one solved ticket: %+v", len(recs), recs)
		}
		r := recs[0]
		if int64(r.TicketID) != id || r.Subject != "Card not here" || r.Body != "My new card has not arrived yet" || r.Locale != "fr" || r.Channel != "api" {
			t.Errorf("known at creation: %+v", r)
		}
		g := strconv.FormatInt(grp, 10)
		want := map[string][]string{ai.TargetGroup: {g}, ai.TargetPriority: {"high"}, ai.TargetType: {"question"},
			ai.CustomFieldTarget(field): {"card_arrival"}, ai.TargetMacro: {strconv.FormatInt(macro, 10)},
			ai.TargetArticle: {strconv.FormatInt(testkit.ID(art, "id"), 10)}}
		for k, v := range want {
			if !slices.Equal(r.Labels[k], v) {
				t.Errorf("label %s = %v, want %v", k, r.Labels[k], v)
			}
		}
		if !slices.Contains(r.Labels[ai.TargetTags], "vip") || !slices.Contains(r.Labels[ai.TargetTags], "card_arrival") {
			t.Errorf("tags %v", r.Labels[ai.TargetTags])
		}
		if r.PublicReplies != 2 || !r.Reopened || r.SolvedAt.IsZero() || r.Reply == "" || r.Reply[:10] != "It is on i" {
			t.Errorf("replies %d reopened %v solved %v reply %q", r.PublicReplies, r.Reopened, r.SolvedAt, r.Reply)
		}
		// The window: nothing created after now.
		if recs, err := h.Solved(ctx, a.ID, start, start.Add(time.Second)); err != nil || len(recs) != 0 {
			t.Errorf("window before the ticket: %d, %v", len(recs), err)
		}
		// The web page's apply records the macro too (the form's macro_ids).
	})
}
