package assist_test

import (
	"fmt"
	"strings"
	"testing"

	"tandem/internal/ai/assist"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

func TestSuggestionsAPI(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testSuggestions(t, d) })
	}
}

func testSuggestions(t *testing.T, d store.Dialect) {
	w := newWorld(t, d)
	en := w.ticket("Card", "Hello, my new card has not arrived yet, when will it arrive?")
	fr := w.ticket("Carte", "Bonjour, ma nouvelle carte n'est toujours pas arrivée, quand vais-je la recevoir ?")
	path := func(id any) string { return fmt.Sprintf("/api/v2/tickets/%v/suggestions.json", id) }

	r := w.acme.Do(t, w.agent, "GET", path(en), nil).Want(t, 200)
	sg := r.Obj("suggestions")
	if sg == nil || sg["model_version"] == nil {
		t.Fatalf("no suggestions or model version: %s", r.Body)
	}
	for _, k := range []string{"fields", "macros", "articles", "reply"} {
		if _, ok := sg[k]; !ok {
			t.Errorf("suggestions lack %q", k)
		}
	}
	fields := list(sg["fields"])
	if len(fields) != 1 || fields[0]["field"] != "priority" || fields[0]["value"] != "normal" || fields[0]["applied"] != false {
		t.Errorf("fields = %v, want priority normal not applied", fields)
	}
	if c, _ := fields[0]["confidence"].(float64); c <= 0 || c > 1 {
		t.Errorf("confidence %v out of 0..1", fields[0]["confidence"])
	}
	macros := list(sg["macros"])
	if len(macros) == 0 || len(macros) > 3 || testkit.ID(macros[0], "id") != w.macros["card_en"] {
		t.Fatalf("macros = %v, want the English card macro first, at most 3", macros)
	}
	arts := list(sg["articles"])
	if len(arts) != 1 || testkit.ID(arts[0], "id") != w.articles["card"] || !strings.Contains(str(arts[0]["html_url"]), "/hc/en-us/articles/") {
		t.Fatalf("articles = %v, want only the public card article (the agents-only one is not the requester's to read)", arts)
	}
	reply, _ := sg["reply"].(map[string]any)
	if reply == nil || testkit.ID(reply, "macro_id") != w.macros["card_en"] || !strings.Contains(str(reply["body"]), "3 to 5 working days") ||
		!strings.Contains(str(reply["body"]), "/hc/en-us/articles/") || assist.DetectLanguage(str(reply["body"])) != assist.LangEN {
		t.Fatalf("reply = %v, want the card macro's English text citing the article", reply)
	}
	if strings.Contains(str(reply["body"]), "{{") {
		t.Errorf("reply keeps a placeholder: %v", reply["body"])
	}

	// The French requester gets the French macro and the French translation.
	sg = w.acme.Do(t, w.agent, "GET", path(fr), nil).Want(t, 200).Obj("suggestions")
	reply, _ = sg["reply"].(map[string]any)
	if reply == nil || testkit.ID(reply, "macro_id") != w.macros["card_fr"] || assist.DetectLanguage(str(reply["body"])) != assist.LangFR || !strings.Contains(str(reply["body"]), "/hc/fr/articles/") {
		t.Fatalf("French reply = %v", reply)
	}

	// Who may see them: agents of the account who may see the ticket.
	w.acme.Do(t, w.restricted, "GET", path(en), nil).Want(t, 404)
	w.acme.Do(t, w.customer, "GET", path(en), nil).Want(t, 403)
	w.globex.Do(t, w.globex.Admin, "GET", path(en), nil).Want(t, 404)
	w.acme.Do(t, testkit.Anonymous, "GET", path(en), nil).Want(t, 401)
	w.acme.Do(t, w.agent, "GET", path(99999), nil).Want(t, 404)

	// Verdicts: explicit, and read from what the agent then does.
	fb := func(cred testkit.Cred, body map[string]any) *testkit.Resp {
		return w.acme.Do(t, cred, "POST", fmt.Sprintf("/api/v2/tickets/%d/suggestions/feedback.json", en), map[string]any{"feedback": body})
	}
	fb(w.agent, map[string]any{"kind": "reply", "value": w.macros["card_en"], "outcome": "edited"}).Want(t, 204)
	fb(w.agent, map[string]any{"kind": "reply", "value": w.macros["card_en"], "outcome": "bogus"}).Want(t, 422)
	fb(w.agent, map[string]any{"kind": "macro", "value": "123456", "outcome": "accepted"}).Want(t, 404)
	fb(w.restricted, map[string]any{"kind": "reply", "value": w.macros["card_en"], "outcome": "accepted"}).Want(t, 404)
	w.acme.Do(t, w.agent, "POST", fmt.Sprintf("/api/v2/tickets/%d/suggestions/feedback.json", en), `{"feedback":`).Want(t, 400)
	// The agent applies the suggested macro (macro_ids), sets another priority than the
	// suggested one and links the article, then solves.
	w.acme.Do(t, w.agent, "PUT", fmt.Sprintf("/api/v2/tickets/%d", en), map[string]any{"ticket": map[string]any{
		"macro_ids": []int64{w.macros["card_en"]}, "priority": "high", "status": "solved",
		"comment": map[string]any{"body": "See " + str(arts[0]["html_url"])}}}).Want(t, 200)
	o := w.acme.Do(t, w.acme.Admin, "GET", "/api/v2/ai/assist.json", nil).Want(t, 200).Obj("ai_assist")
	got := map[string]map[string]any{}
	for _, p := range list(o["live_precision"]) {
		got[str(p["kind"])] = p
	}
	want := map[string][2]float64{"macro": {1, 0}, "article": {1, 0}, "field": {0, 1}, "reply": {0, 0}}
	for kind, n := range want {
		if got[kind]["accepted"] != n[0] || got[kind]["overridden"] != n[1] {
			t.Errorf("live precision of %s = %v, want accepted %v overridden %v", kind, got[kind], n[0], n[1])
		}
	}
	if got["reply"]["edited"] != float64(1) || got["macro"]["ignored"] != float64(len(macros)-1) {
		t.Errorf("reply edited / other macros ignored on solve: %v / %v", got["reply"], got["macro"])
	}
	// The admin page's API is for admins of the account only.
	w.acme.Do(t, w.agent, "GET", "/api/v2/ai/assist.json", nil).Want(t, 403)
	if p := w.globex.Do(t, w.globex.Admin, "GET", "/api/v2/ai/assist.json", nil).Want(t, 200).Obj("ai_assist"); len(list(p["intents"])) != 0 {
		t.Errorf("globex sees acme's intents: %v", p["intents"])
	}
}

func list(v any) []map[string]any {
	arr, _ := v.([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, x := range arr {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
