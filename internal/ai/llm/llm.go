// Package llm is Tandem's small client for an account's own OpenAI-compatible model
// server (Ollama, llama.cpp's server, vLLM and the like): chat completions in JSON mode
// and embeddings, nothing else. It is written for servers that are slow, down or
// answer nonsense: every call has a deadline, a 429 is retried after its Retry-After
// when that fits the deadline, a 5xx or a dropped connection is retried with backoff,
// a response is read up to a size cap, and a chat answer must be one JSON object that
// decodes strictly into the caller's type and passes its Validate. Calls go through the
// sharing client's guarded transport, so an admin-supplied URL cannot reach private or
// loopback addresses unless the operator allows it.
//
// Nothing here touches the database: callers call it outside any transaction and
// write what they keep through the ticket write path.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"tandem/internal/sharing/peer"
)

// Defaults for Config.
const (
	DefaultTimeout      = 20 * time.Second
	DefaultBudget       = 45 * time.Second
	DefaultMaxBody      = 1 << 20
	DefaultRetries      = 2
	DefaultBaseBackoff  = 200 * time.Millisecond
	DefaultMaxRetryWait = 10 * time.Second
)

// Config is one account's model server and how patiently to call it.
type Config struct {
	// BaseURL is the API root, e.g. https://models.example.com/v1 (chat completions are
	// at BaseURL + "/chat/completions").
	BaseURL    string
	ChatModel  string
	EmbedModel string
	// Key is sent as a bearer token when set.
	Key string
	// AllowPrivate permits loopback and private addresses (the operator's
	// --allow-private-partners; development and tests).
	AllowPrivate bool
	// Timeout bounds one attempt; Budget the whole call, retries included.
	Timeout, Budget time.Duration
	// MaxBody caps a response body; a longer one is an error.
	MaxBody int64
	// Retries is how many times a 429, 5xx or network failure is retried.
	Retries int
	// BaseBackoff is the first retry delay after a 5xx or network failure.
	BaseBackoff time.Duration
	// MaxRetryWait is the longest Retry-After honoured; a longer one fails the call
	// at once (the caller degrades to local mode instead of holding work).
	MaxRetryWait time.Duration
	// Sleep waits between attempts (tests record the waits instead); nil sleeps.
	Sleep func(ctx context.Context, d time.Duration) error
	// Transport replaces the guarded transport (tests only).
	Transport http.RoundTripper
}

// Kind classifies a failed call.
type Kind string

// The kinds of failure.
const (
	Unavailable Kind = "unavailable" // network error, 5xx, timeout
	RateLimited Kind = "rate_limited"
	Rejected    Kind = "rejected"  // 4xx other than 429 (bad key, unknown model)
	Malformed   Kind = "malformed" // not the JSON asked for, or too large
	Blocked     Kind = "blocked"   // the URL resolves to a non-public address
)

// Error is a failed call, in words an admin can act on.
type Error struct {
	Kind   Kind
	Status int
	Msg    string
	// RetryAfter is the server's asked-for wait (rate limited).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("model server %s (HTTP %d): %s", e.Kind, e.Status, e.Msg)
	}
	return fmt.Sprintf("model server %s: %s", e.Kind, e.Msg)
}

// KindOf returns the kind of a call's error ("" for nil or another error).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// Client calls one model server. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
	hc   *http.Client
}

// New checks the configuration and returns a client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, &Error{Kind: Rejected, Msg: "the base URL must be an http or https URL without credentials"}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Budget <= 0 {
		cfg.Budget = DefaultBudget
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	} else if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = DefaultBaseBackoff
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	rt := cfg.Transport
	if rt == nil {
		rt = peer.Transport(peer.Options{AllowPrivate: cfg.AllowPrivate, Timeout: cfg.Timeout})
	}
	hc := &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Client{cfg: cfg, base: u, hc: hc}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Validator is implemented by chat answers that check their own content.
type Validator interface {
	Validate() error
}

// Chat asks the chat model for one JSON object and decodes it strictly into out (a
// pointer to a struct): unknown fields, trailing data or a failed Validate make the
// answer Malformed.
func (c *Client) Chat(ctx context.Context, msgs []Message, out any) error {
	body, err := json.Marshal(map[string]any{
		"model":           c.cfg.ChatModel,
		"messages":        msgs,
		"temperature":     0,
		"response_format": map[string]string{"type": "json_object"},
		"stream":          false,
	})
	if err != nil {
		return err
	}
	raw, err := c.post(ctx, "/chat/completions", body)
	if err != nil {
		return err
	}
	var env struct {
		Choices []struct {
			Message struct {
				Content *string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || len(env.Choices) == 0 || env.Choices[0].Message.Content == nil {
		return &Error{Kind: Malformed, Msg: "the answer is not a chat completion"}
	}
	return decodeStrict(*env.Choices[0].Message.Content, out)
}

// decodeStrict decodes content (optionally inside one ``` fence, as some servers
// answer) into out, refusing unknown fields and trailing data.
func decodeStrict(content string, out any) error {
	s := strings.TrimSpace(content)
	if strings.HasPrefix(s, "```") && strings.HasSuffix(s, "```") && len(s) > 6 {
		s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSuffix(s[3:], "```"), "json"))
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return &Error{Kind: Malformed, Msg: "the answer is not the JSON object asked for: " + clip(err.Error(), 200)}
	}
	if dec.More() {
		return &Error{Kind: Malformed, Msg: "the answer has data after its JSON object"}
	}
	if v, ok := out.(Validator); ok {
		if err := v.Validate(); err != nil {
			return &Error{Kind: Malformed, Msg: clip(err.Error(), 200)}
		}
	}
	return nil
}

// MaxEmbedInputs bounds one embeddings call.
const MaxEmbedInputs = 64

// Embed returns one vector per text, all of one dimension.
func (c *Client) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if c.cfg.EmbedModel == "" {
		return nil, &Error{Kind: Rejected, Msg: "no embeddings model is configured"}
	}
	if len(texts) == 0 || len(texts) > MaxEmbedInputs {
		return nil, &Error{Kind: Rejected, Msg: fmt.Sprintf("between 1 and %d texts per call", MaxEmbedInputs)}
	}
	body, err := json.Marshal(map[string]any{"model": c.cfg.EmbedModel, "input": texts})
	if err != nil {
		return nil, err
	}
	raw, err := c.post(ctx, "/embeddings", body)
	if err != nil {
		return nil, err
	}
	var env struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || len(env.Data) != len(texts) {
		return nil, &Error{Kind: Malformed, Msg: "the answer is not one embedding per text"}
	}
	out := make([][]float32, len(texts))
	dim := len(env.Data[0].Embedding)
	for _, d := range env.Data {
		if d.Index < 0 || d.Index >= len(texts) || out[d.Index] != nil || len(d.Embedding) != dim || dim == 0 || dim > 16384 {
			return nil, &Error{Kind: Malformed, Msg: "the embeddings are inconsistent (index or dimension)"}
		}
		out[d.Index] = d.Embedding
	}
	return out, nil
}

// Health asks the server for its models and checks the chat model is among them when
// it lists any.
func (c *Client) Health(ctx context.Context) error {
	raw, err := c.do(ctx, http.MethodGet, "/models", nil)
	if err != nil {
		return err
	}
	var env struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return &Error{Kind: Malformed, Msg: "GET /models did not answer a model list"}
	}
	if len(env.Data) == 0 {
		return nil
	}
	for _, m := range env.Data {
		if m.ID == c.cfg.ChatModel {
			return nil
		}
	}
	return &Error{Kind: Rejected, Msg: fmt.Sprintf("the server does not list the chat model %q", c.cfg.ChatModel)}
}

func (c *Client) post(ctx context.Context, path string, body []byte) ([]byte, error) {
	return c.do(ctx, http.MethodPost, path, body)
}

// do makes the call with retries within the budget.
func (c *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Budget)
	defer cancel()
	var last error
	for attempt := 0; ; attempt++ {
		raw, wait, err := c.once(ctx, method, path, body)
		if err == nil {
			return raw, nil
		}
		last = err
		var e *Error
		if !errors.As(err, &e) || attempt >= c.cfg.Retries || (e.Kind != Unavailable && e.Kind != RateLimited) {
			return nil, err
		}
		if e.Kind == RateLimited {
			if e.RetryAfter > c.cfg.MaxRetryWait {
				return nil, err
			}
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				return nil, err
			}
		}
		if err := c.cfg.Sleep(ctx, wait); err != nil {
			return nil, last
		}
	}
}

// once makes one attempt; wait is how long to wait before another.
func (c *Client) once(ctx context.Context, method, path string, body []byte) ([]byte, time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, c.base.String()+path, rd)
	if err != nil {
		return nil, 0, &Error{Kind: Rejected, Msg: "bad request URL"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Tandem-AI/1")
	if c.cfg.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Key)
	}
	backoff := c.cfg.BaseBackoff + time.Duration(rand.Int64N(int64(c.cfg.BaseBackoff)))
	resp, err := c.hc.Do(req)
	if err != nil {
		if peer.IsBlockedAddress(err) {
			return nil, 0, &Error{Kind: Blocked, Msg: clip(err.Error(), 300)}
		}
		msg := "no answer"
		if errors.Is(err, context.DeadlineExceeded) || actx.Err() != nil {
			msg = "timed out"
		}
		return nil, backoff, &Error{Kind: Unavailable, Msg: msg}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBody+1))
	if err != nil {
		return nil, backoff, &Error{Kind: Unavailable, Status: resp.StatusCode, Msg: "the answer was cut off"}
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		ra := peer.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return nil, ra, &Error{Kind: RateLimited, Status: resp.StatusCode, Msg: "too many requests", RetryAfter: ra}
	case resp.StatusCode >= 500:
		return nil, backoff, &Error{Kind: Unavailable, Status: resp.StatusCode, Msg: clip(string(raw), 200)}
	case resp.StatusCode >= 300:
		return nil, 0, &Error{Kind: Rejected, Status: resp.StatusCode, Msg: clip(string(raw), 200)}
	}
	if int64(len(raw)) > c.cfg.MaxBody {
		return nil, 0, &Error{Kind: Malformed, Status: resp.StatusCode, Msg: fmt.Sprintf("the answer is larger than %d bytes", c.cfg.MaxBody)}
	}
	return raw, 0, nil
}

// clip shortens s to at most n bytes of valid UTF-8, on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}
