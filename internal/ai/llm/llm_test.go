package llm_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"tandem/internal/ai/llm"
	"tandem/internal/ai/llm/llmfake"
)

type draft struct {
	Body     string `json:"body"`
	Language string `json:"language"`
}

func (d *draft) Validate() error {
	if strings.TrimSpace(d.Body) == "" {
		return errors.New("empty body")
	}
	return nil
}

// waits records the client's pauses instead of sleeping.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func client(t *testing.T, f *llmfake.Server, w *waits, mod func(*llm.Config)) *llm.Client {
	t.Helper()
	cfg := llm.Config{BaseURL: f.URL(), ChatModel: "chat-small", EmbedModel: "embed-small", Key: "sk-test", AllowPrivate: true, Sleep: w.sleep}
	if mod != nil {
		mod(&cfg)
	}
	c, err := llm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChatStrictJSON(t *testing.T) {
	f := llmfake.New(`{"body":"Bonjour, voici la réponse.","language":"fr"}`)
	defer f.Close()
	w := &waits{}
	c := client(t, f, w, nil)
	ctx := context.Background()
	var d draft
	if err := c.Chat(ctx, []llm.Message{{Role: "user", Content: "hi"}}, &d); err != nil || d.Language != "fr" {
		t.Fatalf("canned answer: %+v %v", d, err)
	}
	if got := f.Asked()[0]; got.Authorization != "Bearer sk-test" || got.Body["model"] != "chat-small" {
		t.Fatalf("request: %+v", got)
	}
	for name, content := range map[string]string{
		"not json":       `Sure! Here is your reply: hello`,
		"unknown field":  `{"body":"x","language":"en","actions":[{"field":"status","value":"solved"}]}`,
		"trailing data":  `{"body":"x","language":"en"} {"body":"y"}`,
		"fails validate": `{"body":"   ","language":"en"}`,
		"wrong type":     `{"body":42}`,
	} {
		f.Script(llmfake.Answer{Content: content})
		var d draft
		if err := c.Chat(ctx, nil, &d); llm.KindOf(err) != llm.Malformed {
			t.Errorf("%s: err = %v, want malformed", name, err)
		}
	}
	f.Script(llmfake.Answer{Raw: `{"choices":[]}`}, llmfake.Answer{Raw: `<html>gateway</html>`})
	for i := 0; i < 2; i++ {
		if err := c.Chat(ctx, nil, &d); llm.KindOf(err) != llm.Malformed {
			t.Errorf("envelope %d: err = %v, want malformed", i, err)
		}
	}
	f.Script(llmfake.Answer{Content: "```json\n{\"body\":\"fenced\",\"language\":\"en\"}\n```"})
	if err := c.Chat(ctx, nil, &d); err != nil || d.Body != "fenced" {
		t.Fatalf("fenced JSON: %+v %v", d, err)
	}
}

func TestRetries(t *testing.T) {
	f := llmfake.New(`{"body":"ok","language":"en"}`)
	defer f.Close()
	ctx := context.Background()
	var d draft

	w := &waits{}
	c := client(t, f, w, nil)
	f.Script(llmfake.Answer{Status: 429, RetryAfter: "3"})
	if err := c.Chat(ctx, nil, &d); err != nil {
		t.Fatalf("429 then ok: %v", err)
	}
	if len(w.d) != 1 || w.d[0] != 3*time.Second {
		t.Fatalf("waits after 429 = %v, want [3s] (Retry-After)", w.d)
	}

	f.Script(llmfake.Answer{Status: 429, RetryAfter: "3600"})
	if err := c.Chat(ctx, nil, &d); llm.KindOf(err) != llm.RateLimited {
		t.Fatalf("a Retry-After longer than allowed: %v", err)
	}

	w = &waits{}
	c = client(t, f, w, nil)
	f.Script(llmfake.Answer{Status: 502, Raw: "bad gateway"}, llmfake.Answer{Status: 503})
	if err := c.Chat(ctx, nil, &d); err != nil || len(w.d) != 2 {
		t.Fatalf("two 5xx then ok: %v, waits %v", err, w.d)
	}
	f.Script(llmfake.Answer{Status: 500}, llmfake.Answer{Status: 500}, llmfake.Answer{Status: 500})
	if err := c.Chat(ctx, nil, &d); llm.KindOf(err) != llm.Unavailable {
		t.Fatalf("5xx every time: %v", err)
	}
	f.Script(llmfake.Answer{Status: 401, Raw: `{"error":"bad key"}`})
	before := len(f.Asked())
	if err := c.Chat(ctx, nil, &d); llm.KindOf(err) != llm.Rejected || len(f.Asked()) != before+1 {
		t.Fatalf("401 is not retried: %v", err)
	}
}

func TestTimeoutAndSizeCap(t *testing.T) {
	f := llmfake.New(`{"body":"ok","language":"en"}`)
	defer f.Close()
	w := &waits{}
	c := client(t, f, w, func(c *llm.Config) { c.Timeout = 50 * time.Millisecond; c.Retries = -1 })
	f.Script(llmfake.Answer{Hang: true})
	var d draft
	if err := c.Chat(context.Background(), nil, &d); llm.KindOf(err) != llm.Unavailable {
		t.Fatalf("hanging server: %v", err)
	}
	c = client(t, f, w, func(c *llm.Config) { c.MaxBody = 100 })
	f.Script(llmfake.Answer{Content: `{"body":"` + strings.Repeat("x", 500) + `","language":"en"}`})
	if err := c.Chat(context.Background(), nil, &d); llm.KindOf(err) != llm.Malformed {
		t.Fatalf("oversized answer: %v", err)
	}
}

func TestEmbedAndHealth(t *testing.T) {
	f := llmfake.New(`{}`)
	defer f.Close()
	c := client(t, f, &waits{}, nil)
	ctx := context.Background()
	v, err := c.Embed(ctx, []string{"card arrival", "refund please"})
	if err != nil || len(v) != 2 || len(v[0]) != 26 {
		t.Fatalf("embed: %v %v", len(v), err)
	}
	f.Script(llmfake.Answer{Raw: `{"data":[{"index":0,"embedding":[1,2]}]}`})
	if _, err := c.Embed(ctx, []string{"a", "b"}); llm.KindOf(err) != llm.Malformed {
		t.Fatalf("one vector for two texts: %v", err)
	}
	if err := c.Health(ctx); err != nil {
		t.Fatalf("health: %v", err)
	}
	bad := client(t, f, &waits{}, func(c *llm.Config) { c.ChatModel = "missing" })
	if err := bad.Health(ctx); llm.KindOf(err) != llm.Rejected {
		t.Fatalf("health with an unknown model: %v", err)
	}
}

func TestAddressPolicy(t *testing.T) {
	f := llmfake.New(`{"body":"ok","language":"en"}`)
	defer f.Close()
	c, err := llm.New(llm.Config{BaseURL: f.URL(), ChatModel: "chat-small"}) // private addresses not allowed
	if err != nil {
		t.Fatal(err)
	}
	var d draft
	if err := c.Chat(context.Background(), nil, &d); llm.KindOf(err) != llm.Blocked {
		t.Fatalf("loopback model server without --allow-private-partners: %v", err)
	}
	if len(f.Asked()) != 0 {
		t.Fatal("the request reached the loopback server")
	}
	for _, u := range []string{"ftp://x", "http://user:pw@host/v1", "not a url", ""} {
		if _, err := llm.New(llm.Config{BaseURL: u}); err == nil {
			t.Errorf("base URL %q accepted", u)
		}
	}
}
