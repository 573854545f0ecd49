package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/live"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// TestLiveEventIsTheFinalChange proves where server.New registers the live hook: after
// the rules and the other after-hooks, so the event carries what triggers changed and
// the ids of the comments written. Registering it as a before-hook (or ahead of the
// rules) loses the trigger's priority and the comment's id.
func TestLiveEventIsTheFinalChange(t *testing.T) {
	t.Parallel()
	d := testkit.Start(t, store.SQLite)
	acme := d.Account(t, "acme", account.Enterprise)
	acme.Do(t, acme.Admin, "POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{
		"title":      "Urgent when it says urgent",
		"conditions": map[string]any{"all": []any{map[string]any{"field": "comment_includes_word", "operator": "includes", "value": "urgent"}}},
		"actions":    []any{map[string]any{"field": "priority", "value": "urgent"}}}}).Want(t, http.StatusCreated)
	id := testkit.ID(acme.Do(t, acme.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
		"subject": "Calm", "comment": map[string]any{"body": "hello"}}}).Want(t, http.StatusCreated).Obj("ticket"), "id")

	sub := d.Srv.Live.Subscribe(live.Viewer{Account: acme.ID})
	defer sub.Close()
	acme.Do(t, acme.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{
		"comment": map[string]any{"body": "this is urgent"}}}).Want(t, http.StatusOK)
	select {
	case ev := <-sub.Events():
		var priority string
		for _, f := range ev.Fields {
			if f.Field == "priority" {
				priority = f.Value
			}
		}
		if priority != "urgent" {
			t.Errorf("the event's fields %+v miss the trigger's priority", ev.Fields)
		}
		if len(ev.Comments) != 1 || ev.Comments[0].ID == 0 {
			t.Errorf("the event's comments %+v lack the written comment's id", ev.Comments)
		}
		if ev.ID == 0 || ev.Channel != "api" {
			t.Errorf("event id %d channel %q, want a numbered api event", ev.ID, ev.Channel)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event after the update committed")
	}
}
