package api_test

import (
	"testing"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// TestRateLimit: past the per-minute limit an account gets 429 with Retry-After and
// Zendesk's headers; another account is unaffected.
func TestRateLimit(t *testing.T) {
	d := testkit.Start(t, store.SQLite, func(c *server.Config) { c.RateLimit = 5 })
	a := d.Account(t, "acme", account.Team)
	b := d.Account(t, "globex", account.Team)
	for i := 1; i <= 5; i++ {
		r := a.Do(t, a.Admin, "GET", "/api/v2/tickets.json", nil).Want(t, 200)
		if r.Header.Get("X-Rate-Limit") != "5" || r.Header.Get("Ratelimit-Remaining") == "" {
			t.Fatalf("rate limit headers missing: %v", r.Header)
		}
	}
	r := a.Do(t, a.Admin, "GET", "/api/v2/tickets.json", nil).Want(t, 429)
	if r.Header.Get("Retry-After") == "" || r.Header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("429 without Retry-After: %v", r.Header)
	}
	b.Do(t, b.Admin, "GET", "/api/v2/tickets.json", nil).Want(t, 200)
}

// TestPlanRateLimitDefault: without an operator override the plan's limit applies.
func TestPlanRateLimitDefault(t *testing.T) {
	d := testkit.Start(t, store.SQLite, func(c *server.Config) { c.RateLimit = 0 })
	a := d.Account(t, "acme", account.Team)
	r := a.Do(t, a.Admin, "GET", "/api/v2/tickets.json", nil).Want(t, 200)
	if r.Header.Get("X-Rate-Limit") != "200" {
		t.Fatalf("Team plan limit = %s, want 200", r.Header.Get("X-Rate-Limit"))
	}
}
