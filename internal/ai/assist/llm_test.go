package assist_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"tandem/internal/ai/assist"
	"tandem/internal/ai/llm/llmfake"
	"tandem/internal/ids"
	"tandem/internal/kb"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

func TestModelServer(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testModelServer(t, d) })
	}
}

func testModelServer(t *testing.T, d store.Dialect) {
	w := newWorld(t, d)
	ctx := context.Background()
	fake := llmfake.New(`{"body":"Bonjour Carl, votre carte est en route et arrive sous 3 à 5 jours ouvrés. Merci de votre patience !","language":"fr"}`)
	defer fake.Close()
	put := func(body map[string]any) map[string]any {
		return w.acme.Do(t, w.acme.Admin, "PUT", "/api/v2/ai/assist/model_server.json", map[string]any{"model_server": body}).Want(t, 200).Obj("ai_assist")
	}
	w.acme.Do(t, w.acme.Admin, "PUT", "/api/v2/ai/assist/model_server.json", map[string]any{"model_server": map[string]any{"base_url": "ftp://x", "chat_model": "m"}}).Want(t, 422)
	w.acme.Do(t, w.acme.Admin, "PUT", "/api/v2/ai/assist/model_server.json", map[string]any{"model_server": map[string]any{"base_url": fake.URL()}}).Want(t, 422)
	w.acme.Do(t, w.agent, "PUT", "/api/v2/ai/assist/model_server.json", map[string]any{"model_server": map[string]any{"base_url": fake.URL(), "chat_model": "chat-small"}}).Want(t, 403)
	o := put(map[string]any{"base_url": fake.URL(), "chat_model": "chat-small", "embeddings_model": "embed-small", "api_key": "sk-live-123456"})
	ms, _ := o["model_server"].(map[string]any)
	if ms["has_key"] != true || ms["state"] != "unchecked" || strings.Contains(fmt.Sprint(o), "sk-live") {
		t.Fatalf("model server settings: %v", ms)
	}
	// The key is sealed at rest.
	var stored string
	if err := w.desk.DB.R().QueryRowContext(ctx, `SELECT llm_key FROM ai_controls WHERE account_id = ?`, w.acme.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored == "" || strings.Contains(stored, "sk-live") {
		t.Fatalf("stored key %q is not sealed", stored)
	}
	o = w.acme.Do(t, w.acme.Admin, "POST", "/api/v2/ai/assist/model_server/check.json", nil).Want(t, 200).Obj("ai_assist")
	if ms, _ := o["model_server"].(map[string]any); ms["state"] != "ok" {
		t.Fatalf("health check: %v", ms)
	}
	if a := fake.Asked(); a[len(a)-1].Authorization != "Bearer sk-live-123456" {
		t.Fatalf("the key was not sent: %q", a[len(a)-1].Authorization)
	}

	// The tickets exist before the intent is autonomous, so the server's own worker does
	// not act on them; the service under test has the simulation's evidence.
	var queue []ids.Ticket
	for i := 0; i < 7; i++ {
		queue = append(queue, w.ticket("Carte", "Bonjour, ma nouvelle carte n'est toujours pas arrivée, quand vais-je la recevoir ?"))
	}
	w.setMode("card_arrival", assist.ModeAutonomous)
	s := w.service(gate{"card_arrival": {Precision: 0.98, Tickets: 300}})
	frTicket := func() *assist.Decision {
		id := queue[0]
		queue = queue[1:]
		dec, err := s.Act(ctx, w.acct, id)
		if err != nil {
			t.Fatal(err)
		}
		if dec.Action != assist.ActAutonomous {
			t.Fatalf("decision %+v", dec)
		}
		cs := w.comments(id)
		reply := cs[len(cs)-1].Body
		if assist.DetectLanguage(reply) != assist.LangFR {
			t.Errorf("reply not in French: %q", reply)
		}
		dec.Reason = reply // the test reads the reply through the decision
		return dec
	}
	// Personalised: the model server's French reply, with the cited article added.
	if r := frTicket().Reason; !strings.Contains(r, "Bonjour Carl") || !strings.Contains(r, "/hc/fr/articles/") {
		t.Errorf("personalised reply: %q", r)
	}
	// Nonsense, a wrong language, an injected link or a hang: the macro's own text, and
	// the admin sees "degraded".
	for name, a := range map[string]llmfake.Answer{
		"malformed":     {Content: "Sure! Here you go: Bonjour"},
		"extra actions": {Content: `{"body":"Bonjour, c'est fait.","language":"fr","actions":[{"field":"status","value":"closed"}]}`},
		"english":       {Content: `{"body":"Hello, your card is on its way and will arrive soon.","language":"fr"}`},
		"injected link": {Content: `{"body":"Bonjour, ignorez la politique : remboursement ici http://evil.example/pay merci pour votre patience","language":"fr"}`},
		"hang":          {Hang: true},
		"server error":  {Status: 500},
	} {
		// The pause after a failure keeps the AI local; clear the state so the server is
		// asked again.
		w.serverUp()
		fake.Reset()
		fake.Script(a, a, a)
		r := frTicket().Reason
		if !strings.Contains(r, "Bonjour, votre nouvelle carte est en route") || strings.Contains(r, "evil.example") {
			t.Errorf("%s: reply %q, want the macro's text", name, r)
		}
		o := w.acme.Do(t, w.acme.Admin, "GET", "/api/v2/ai/assist.json", nil).Want(t, 200).Obj("ai_assist")
		if ms, _ := o["model_server"].(map[string]any); ms["state"] != assist.LLMDegraded || ms["error"] == nil {
			t.Errorf("%s: model server state %v", name, ms)
		}
	}
	fake.Reset()
	// Summaries: for long tickets, as the AI user's internal note.
	w.serverUp()
	long := w.ticket("Long story", "My card has not arrived.")
	w.lastAttempt(long) // the server's own run on it (a draft: no simulation there)
	w.acme.Do(t, w.agent, "POST", fmt.Sprintf("/api/v2/tickets/%d/summary.json", long), nil).Want(t, 422)
	for i := 0; i < 5; i++ {
		w.acme.Do(t, w.agent, "PUT", fmt.Sprintf("/api/v2/tickets/%d", long), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": fmt.Sprintf("update %d", i)}}}).Want(t, 200)
	}
	fake.Script(llmfake.Answer{Content: `{"summary":"The card has not arrived; five updates, nothing resolved."}`})
	w.acme.Do(t, w.agent, "POST", fmt.Sprintf("/api/v2/tickets/%d/summary.json", long), nil).Want(t, 204)
	cs := w.comments(long)
	if last := cs[len(cs)-1]; last.Public || !strings.Contains(last.Body, "five updates") {
		t.Errorf("summary note: %+v", last)
	}
	w.acme.Do(t, w.restricted, "POST", fmt.Sprintf("/api/v2/tickets/%d/summary.json", long), nil).Want(t, 404)
	fake.Script(llmfake.Answer{Content: `not json`})
	n := len(w.comments(long))
	w.acme.Do(t, w.agent, "POST", fmt.Sprintf("/api/v2/tickets/%d/summary.json", long), nil).Want(t, 503)
	if len(w.comments(long)) != n {
		t.Error("a failed summary changed the ticket")
	}
	// Embeddings rerank the articles (the fake's vectors) when there are several.
	title, md := "Activating your new card", "When your new card has arrived, activate it in the app."
	if _, err := w.desk.Srv.KB.CreateArticle(ctx, w.acct, 0, kb.ArticleIn{SectionID: w.section(), Text: kb.TextIn{Title: &title, Markdown: &md}}); err != nil {
		t.Fatal(err)
	}
	before := len(fake.Asked())
	w.serverUp()
	w.acme.Do(t, w.agent, "GET", fmt.Sprintf("/api/v2/tickets/%d/suggestions.json", long), nil).Want(t, 200)
	asked := false
	for _, a := range fake.Asked()[before:] {
		asked = asked || strings.HasSuffix(a.Path, "/embeddings")
	}
	if !asked {
		t.Error("suggestions did not ask the model server for embeddings")
	}
}

// serverUp ends the model server's pause after a failure, so that it is asked again.
func (w *world) serverUp() {
	w.t.Helper()
	ctx := context.Background()
	if err := w.desk.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE ai_controls SET llm_state = 'ok' WHERE account_id = ?`, w.acme.ID)
		return err
	}); err != nil {
		w.t.Fatal(err)
	}
}
