package web

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
)

// TestAbandonedRequestIsNotAServerError: a page load the browser abandoned (its context
// canceled) is answered 499 and not logged as an error; a real failure still is.
func TestAbandonedRequestIsNotAServerError(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("GET", "/agent/tickets/1", nil).WithContext(ctx)
	w := httptest.NewRecorder()
	s.renderError(w, r, nil, fmt.Errorf("web: load session: %w", context.Canceled))
	if w.Code != statusClientClosed {
		t.Errorf("status %d, want %d", w.Code, statusClientClosed)
	}
	if logs.Len() != 0 {
		t.Errorf("an abandoned request was logged: %s", logs.String())
	}
}
