package send

import (
	"context"
	"net/http"

	"tandem/internal/webhook"
)

// TestResult is the answer to a test call, as Zendesk's test endpoint returns it.
type TestResult struct {
	Status int
	Header http.Header
	Body   string
	// Error says why there was no answer ("" when there was one).
	Error string
}

// Test makes one call of w with body, right now, through the same guarded client as
// queued calls, and returns the answer; nothing is queued, retried or logged. A webhook
// not stored yet is signed with webhook.TestSecret, as Zendesk signs its test calls.
func (s *Service) Test(ctx context.Context, w *webhook.Webhook, body []byte) TestResult {
	secret := w.SigningSecret
	if secret == "" {
		secret = webhook.TestSecret
	}
	a, err := s.call(ctx, w, "", secret, body)
	if err != nil {
		return TestResult{Error: reason(nil, err)}
	}
	return TestResult{Status: a.status, Header: a.header, Body: string(a.body)}
}
