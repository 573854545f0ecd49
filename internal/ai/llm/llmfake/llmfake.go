// Package llmfake is a fake OpenAI-compatible model server for tests: a real HTTP
// server on loopback whose answers a test scripts (canned JSON, malformed JSON, 429 with
// Retry-After, 5xx, a hang until the client gives up, answers that echo a prompt
// injection), and which records what it was asked.
package llmfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Answer is one scripted answer.
type Answer struct {
	// Status is the HTTP status (200 when zero).
	Status int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Content is the chat message's content (a chat completion is built around it).
	Content string
	// Raw, when set, is sent as the whole body instead.
	Raw string
	// Hang holds the answer until the client goes away (a timeout).
	Hang bool
}

// Request is what the server was asked.
type Request struct {
	Path          string
	Authorization string
	Body          map[string]any
}

// Server is the fake.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	script  []Answer
	def     func(r Request) Answer
	asked   []Request
	release chan struct{}
}

// New starts a fake whose default answer to a chat is content and to embeddings a
// vector from the text's letters; Script queues other answers first.
func New(content string) *Server {
	s := &Server{release: make(chan struct{})}
	s.def = func(r Request) Answer {
		if strings.HasSuffix(r.Path, "/embeddings") {
			return Answer{Raw: embeddings(r.Body)}
		}
		if strings.HasSuffix(r.Path, "/models") {
			return Answer{Raw: `{"object":"list","data":[{"id":"chat-small","object":"model"},{"id":"embed-small","object":"model"}]}`}
		}
		return Answer{Content: content}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Script queues answers given, in order, before the default.
func (s *Server) Script(a ...Answer) {
	s.mu.Lock()
	s.script = append(s.script, a...)
	s.mu.Unlock()
}

// Reset drops the answers still queued.
func (s *Server) Reset() {
	s.mu.Lock()
	s.script = nil
	s.mu.Unlock()
}

// Default replaces the default answer.
func (s *Server) Default(f func(r Request) Answer) {
	s.mu.Lock()
	s.def = f
	s.mu.Unlock()
}

// Asked returns the requests received so far.
func (s *Server) Asked() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.asked...)
}

// Close releases hanging answers and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
	s.mu.Unlock()
	s.Server.Close()
}

// URL is the API base (…/v1).
func (s *Server) URL() string { return s.Server.URL + "/v1" }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	req := Request{Path: r.URL.Path, Authorization: r.Header.Get("Authorization")}
	_ = json.Unmarshal(b, &req.Body)
	s.mu.Lock()
	s.asked = append(s.asked, req)
	var a Answer
	if len(s.script) > 0 {
		a, s.script = s.script[0], s.script[1:]
	} else {
		a = s.def(req)
	}
	s.mu.Unlock()
	if a.Hang {
		select {
		case <-r.Context().Done():
		case <-s.release:
		}
		return
	}
	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	st := a.Status
	if st == 0 {
		st = http.StatusOK
	}
	w.WriteHeader(st)
	if a.Raw != "" || st != http.StatusOK {
		_, _ = io.WriteString(w, a.Raw)
		return
	}
	env := map[string]any{"id": "fake-1", "object": "chat.completion", "model": "chat-small",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": a.Content}}}}
	_ = json.NewEncoder(w).Encode(env)
}

// embeddings answers one small vector per input: letter counts, so similar texts get
// similar vectors.
func embeddings(body map[string]any) string {
	in, _ := body["input"].([]any)
	var parts []string
	for i, x := range in {
		t, _ := x.(string)
		v := make([]float64, 26)
		for _, r := range strings.ToLower(t) {
			if r >= 'a' && r <= 'z' {
				v[r-'a']++
			}
		}
		j, _ := json.Marshal(v)
		parts = append(parts, fmt.Sprintf(`{"object":"embedding","index":%d,"embedding":%s}`, i, j))
	}
	return `{"object":"list","data":[` + strings.Join(parts, ",") + `]}`
}
