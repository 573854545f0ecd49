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
	"tandem/internal/testkit"
)

// history phrasings of two intents with distinct words, varied by a counter.
var (
	cardPhrases = []string{"my card has not arrived yet", "when will my new card arrive", "still waiting for the card delivery", "card not delivered after two weeks", "where is my debit card, it never came", "the card you posted is late"}
	passPhrases = []string{"I forgot my password", "reset my password please", "cannot log in, wrong password", "password reset link does not work", "locked out after password attempts", "how do I change my password"}
)

type triageWorld struct {
	a, other      *testkit.Acct
	agent         testkit.Cred
	cards, logins int64
	intent        int64
}

func ticketOf(t *testing.T, a *testkit.Acct, cred testkit.Cred, id int64) map[string]any {
	t.Helper()
	return a.Do(t, cred, "GET", fmt.Sprintf("/api/v2/tickets/%d.json", id), nil).Want(t, 200).Obj("ticket")
}

func fieldValue(tk map[string]any, field int64) any {
	for _, cf := range tk["custom_fields"].([]any) {
		if m := cf.(map[string]any); testkit.ID(m, "id") == field {
			return m["value"]
		}
	}
	return nil
}

func tags(tk map[string]any) []string {
	var out []string
	for _, x := range tk["tags"].([]any) {
		out = append(out, x.(string))
	}
	return out
}

// newTriageWorld builds an account with two groups, an intent drop-down, a trigger that
// routes on the predicted group, 60 solved tickets, settings, and a trained model.
func newTriageWorld(t *testing.T, d *testkit.Desk) *triageWorld {
	w := &triageWorld{a: d.Account(t, "acme", account.Enterprise), other: d.Account(t, "globex", account.Enterprise)}
	a := w.a
	w.agent = a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
	w.cards = testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/groups.json", map[string]any{"group": map[string]any{"name": "Cards"}}).Want(t, 201).Obj("group"), "id")
	w.logins = testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/groups.json", map[string]any{"group": map[string]any{"name": "Logins"}}).Want(t, 201).Obj("group"), "id")
	w.intent = testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/ticket_fields.json", map[string]any{"ticket_field": map[string]any{
		"type": "tagger", "title": "Intent", "custom_field_options": []any{
			map[string]any{"name": "Card arrival", "value": "card_arrival"}, map[string]any{"name": "Password", "value": "password_reset"}}}}).Want(t, 201).Obj("ticket_field"), "id")
	// A trigger that routes on what triage sets: the group and the intent tag.
	a.Do(t, a.Admin, "POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{"title": "Cards desk",
		"conditions": map[string]any{"all": []any{
			map[string]any{"field": "update_type", "operator": "is", "value": "Create"},
			map[string]any{"field": "group_id", "operator": "is", "value": strconv.FormatInt(w.cards, 10)},
			map[string]any{"field": "current_tags", "operator": "includes", "value": "intent__card_arrival"}}},
		"actions": []any{map[string]any{"field": "current_tags", "value": "routed_by_trigger"}}}}).Want(t, http.StatusCreated)
	for i := range 60 {
		grp, intent, phrase := w.cards, "card_arrival", cardPhrases[i%len(cardPhrases)]
		if i%2 == 1 {
			grp, intent, phrase = w.logins, "password_reset", passPhrases[i%len(passPhrases)]
		}
		a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": fmt.Sprintf("%s (%d)", phrase, i), "status": "solved", "group_id": grp,
			"priority": "normal", "custom_fields": []any{map[string]any{"id": w.intent, "value": intent}}, "comment": map[string]any{"body": phrase}}}).Want(t, 201)
	}
	cf := ai.CustomFieldTarget(w.intent)
	a.Do(t, a.Admin, "PUT", "/api/v2/ai/settings.json", map[string]any{"ai_settings": map[string]any{"triage": true,
		"targets": []string{ai.TargetGroup, cf}, "intent_target": cf, "thresholds": map[string]any{ai.TargetGroup: 0.6, cf: 0.6}}}).Want(t, 200)
	job := a.Do(t, a.Admin, "POST", "/api/v2/ai/models/train.json", nil).Want(t, 200).Obj("job_status")
	var st map[string]any
	testkit.Eventually(t, 60*time.Second, "training finished", func() bool {
		st = a.Do(t, a.Admin, "GET", "/api/v2/job_statuses/"+job["id"].(string)+".json", nil).Want(t, 200).Obj("job_status")
		return st["status"] != "queued" && st["status"] != "working"
	})
	if st["status"] != "completed" {
		t.Fatalf("training job: %v", st)
	}
	return w
}

// TestTriage: a trained account's new tickets get the predicted group and intent at or
// above the thresholds, applied by the AI user via "ai" and audited with confidences;
// a trigger routing on the predicted group and intent tag fires; below the threshold
// the AI abstains; a deleted group is never applied; an agent's override is recorded;
// another account is untouched; settings and training are admins' only and bad
// settings are 422. On SQLite and PostgreSQL.
func TestTriage(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		ctx := context.Background()
		w := newTriageWorld(t, d)
		a := w.a
		models := a.Do(t, a.Admin, "GET", "/api/v2/ai/models.json", nil).Want(t, 200)
		list := models.List("models")
		if len(list) != 1 || testkit.ID(list[0], "version") != 1 || testkit.ID(list[0], "examples") != 60 {
			t.Fatalf("models: %s", models.Body)
		}
		figs := list[0]["targets"].(map[string]any)[ai.TargetGroup].(map[string]any)
		if figs["kind"] == "" || figs["top1"].(float64) < 0.8 {
			t.Errorf("group figures %v", figs)
		}

		// Triage on creation, through the web form's channel as well as the API's.
		tk := a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Card", "comment": map[string]any{"body": "my new card has still not arrived"}}}).Want(t, 201).Obj("ticket")
		id := testkit.ID(tk, "id")
		if testkit.ID(tk, "group_id") != w.cards || fieldValue(tk, w.intent) != "card_arrival" {
			t.Fatalf("triaged ticket: group %v (cards %d) intent %v; models %s; audits %s", tk["group_id"], w.cards, fieldValue(tk, w.intent), models.Body, a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", id), nil).Body)
		}
		if tg := tags(tk); !slices.Contains(tg, "intent__card_arrival") || !slices.Contains(tg, "routed_by_trigger") {
			t.Errorf("tags %v: want the intent tag and the trigger's", tg)
		}
		audits := a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", id), nil).Want(t, 200).List("audits")
		var aiChanges, triage int
		for _, ev := range audits[0]["events"].([]any) {
			e := ev.(map[string]any)
			via, _ := e["via"].(map[string]any)
			if e["type"] == "Change" && via != nil && via["channel"] == "ai" {
				aiChanges++
				if from := via["source"].(map[string]any)["from"].(map[string]any); from["name"] != ai.UserName {
					t.Errorf("AI change by %v", from)
				}
			}
			if e["type"] == ai.EventTriage {
				triage++
				for _, p := range e["predictions"].([]any) {
					pm := p.(map[string]any)
					if c := pm["confidence"].(float64); pm["applied"] == true && c < 0.6 || c > 1 {
						t.Errorf("prediction %v applied under its threshold", pm)
					}
				}
			}
		}
		// group_id, the field, its option tag and the intent tag: every AI change audited.
		if aiChanges < 2 || triage != 1 {
			t.Errorf("audit: %d AI changes, %d triage events: %v", aiChanges, triage, audits[0]["events"])
		}

		// Abstain: with the thresholds at 1 nothing is set, the predictions are recorded.
		a.Do(t, a.Admin, "PUT", "/api/v2/ai/settings.json", map[string]any{"ai_settings": map[string]any{"thresholds": map[string]any{ai.TargetGroup: 1, ai.CustomFieldTarget(w.intent): 1}}}).Want(t, 200)
		tk2 := a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Password", "comment": map[string]any{"body": "I forgot my password again"}}}).Want(t, 201).Obj("ticket")
		if tk2["group_id"] != nil || fieldValue(tk2, w.intent) != nil || slices.Contains(tags(tk2), "routed_by_trigger") {
			t.Errorf("below threshold: group %v intent %v tags %v", tk2["group_id"], fieldValue(tk2, w.intent), tags(tk2))
		}
		var n int
		if err := d.DB.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM ai_predictions WHERE account_id = ? AND ticket_id = ? AND applied = ?`, a.ID, testkit.ID(tk2, "id"), false).Scan(&n); err != nil || n != 2 {
			t.Errorf("abstentions recorded: %d (%v)", n, err)
		}

		// A value outside the allowed set is never applied: a deleted group is skipped.
		a.Do(t, a.Admin, "PUT", "/api/v2/ai/settings.json", map[string]any{"ai_settings": map[string]any{"thresholds": map[string]any{ai.TargetGroup: 0.6, ai.CustomFieldTarget(w.intent): 0.6}}}).Want(t, 200)
		a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/groups/%d.json", w.logins), nil)
		tk3 := a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Login", "comment": map[string]any{"body": "reset my password please, locked out"}}}).Want(t, 201).Obj("ticket")
		if tk3["group_id"] != nil || fieldValue(tk3, w.intent) != "password_reset" {
			t.Errorf("deleted group applied: %v (intent %v)", tk3["group_id"], fieldValue(tk3, w.intent))
		}

		// An agent's override is recorded against the model.
		put(t, a, w.agent, id, map[string]any{"group_id": nil}, 200)
		var outcome, final string
		if err := d.DB.R().QueryRowContext(ctx, `SELECT outcome, final_value FROM ai_predictions WHERE account_id = ? AND ticket_id = ? AND target = ?`, a.ID, id, ai.TargetGroup).Scan(&outcome, &final); err != nil || outcome != ai.OutcomeOverridden || final != "" {
			t.Errorf("override: %q %q %v", outcome, final, err)
		}
		// Solving settles the intent prediction the agent kept.
		put(t, a, w.agent, id, map[string]any{"status": "solved"}, 200)
		if err := d.DB.R().QueryRowContext(ctx, `SELECT outcome FROM ai_predictions WHERE account_id = ? AND ticket_id = ? AND target = ?`, a.ID, id, ai.CustomFieldTarget(w.intent)).Scan(&outcome); err != nil || outcome != ai.OutcomeAccepted {
			t.Errorf("kept prediction: %q %v", outcome, err)
		}

		// Another account: no models, no triage, no figures of acme's.
		o := w.other
		otk := o.Do(t, o.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Card", "comment": map[string]any{"body": "my new card has still not arrived"}}}).Want(t, 201).Obj("ticket")
		if otk["group_id"] != nil || slices.Contains(tags(otk), "intent__card_arrival") {
			t.Errorf("globex triaged with acme's model: %v", otk)
		}
		if r := o.Do(t, o.Admin, "GET", "/api/v2/ai/models.json", nil).Want(t, 200); len(r.List("models")) != 0 {
			t.Errorf("globex sees models: %s", r.Body)
		}
		if s := o.Do(t, o.Admin, "GET", "/api/v2/ai/settings.json", nil).Want(t, 200).Obj("ai_settings"); s["triage"] != false || len(s["targets"].([]any)) != 0 {
			t.Errorf("globex settings %v", s)
		}

		// Roles: agents and end users neither read nor change the AI's settings or models.
		eu := a.User(t, identity.EndUser, "eu@acme.test", "Eve")
		for _, cred := range []testkit.Cred{w.agent, eu} {
			for _, req := range [][2]string{{"GET", "/api/v2/ai/settings.json"}, {"PUT", "/api/v2/ai/settings.json"}, {"GET", "/api/v2/ai/models.json"}, {"POST", "/api/v2/ai/models/train.json"}} {
				if r := a.Do(t, cred, req[0], req[1], map[string]any{"ai_settings": map[string]any{"triage": false}}); r.Status != http.StatusForbidden {
					t.Errorf("%s %s as %s: %d", req[0], req[1], cred.Role, r.Status)
				}
			}
		}
		// Bad input: 422 (400 for malformed JSON), and nothing changes.
		for _, body := range []any{
			map[string]any{"ai_settings": map[string]any{"targets": []string{"colour"}}},
			map[string]any{"ai_settings": map[string]any{"thresholds": map[string]any{ai.TargetGroup: 2}}},
			map[string]any{"ai_settings": map[string]any{"targets": []string{ai.TargetTags}, "tag_set": []string{}}},
			map[string]any{"ai_settings": map[string]any{"intent_target": "priority"}},
			map[string]any{"ai_settings": map[string]any{"retrain_after": -1}},
			map[string]any{"ai_settings": map[string]any{"targets": "group_id"}},
		} {
			a.Do(t, a.Admin, "PUT", "/api/v2/ai/settings.json", body).Want(t, http.StatusUnprocessableEntity)
		}
		a.Do(t, a.Admin, "PUT", "/api/v2/ai/settings.json", "{not json").Want(t, http.StatusBadRequest)
		if s := a.Do(t, a.Admin, "GET", "/api/v2/ai/settings.json", nil).Want(t, 200).Obj("ai_settings"); s["triage"] != true || len(s["targets"].([]any)) != 2 {
			t.Errorf("settings changed by refused input: %v", s)
		}
		// Training without targets is a 422 on the other account.
		o.Do(t, o.Admin, "POST", "/api/v2/ai/models/train.json", nil).Want(t, http.StatusUnprocessableEntity)
	})
}
