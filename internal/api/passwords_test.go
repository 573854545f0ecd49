package api_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

const rightPassword = "correct horse battery"

// withPassword gives a user a password and returns the request to send with it.
func withPassword(t *testing.T, a *testkit.Acct, c testkit.Cred) func(desk *testkit.Desk, pw, forwardedFor string) *testkit.Resp {
	t.Helper()
	ctx := context.Background()
	if err := a.Desk.DB.Write(ctx, func(tx *store.Tx) error {
		return identity.SetPassword(ctx, tx, a.ID, ids.User(c.UserID), rightPassword)
	}); err != nil {
		t.Fatal(err)
	}
	return func(desk *testkit.Desk, pw, forwardedFor string) *testkit.Resp {
		h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(c.Email+":"+pw))}}
		if forwardedFor != "" {
			h.Set("X-Forwarded-For", forwardedFor)
		}
		r, err := desk.Request(a.Sub, testkit.Anonymous, "GET", "/api/v2/users/me.json", nil, h)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// TestAPIPasswordGuessingIsLimited: Basic auth with a password is limited like the web
// sign-in, by the same limiter (see the web package's TestLoginLimits): after five wrong
// guesses from an address, that address gets 429 with Retry-After, even with the right
// password; API tokens are not affected.
func TestAPIPasswordGuessingIsLimited(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		try := withPassword(t, a, ag)
		try(d, rightPassword, "").Want(t, 200)
		var statuses []int
		for i := range 40 {
			statuses = append(statuses, try(d, fmt.Sprintf("guess %d", i), "").Status)
		}
		if got := fmt.Sprint(statuses[:6]); got != "[401 401 401 401 401 429]" || statuses[39] != 429 {
			t.Fatalf("40 wrong guesses answered %v, want five 401s then 429s", statuses)
		}
		r := try(d, rightPassword, "").Want(t, 429)
		if r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), "TooManyRequests") {
			t.Fatalf("429 without Retry-After: %v %s", r.Header, r.Body)
		}
		a.Do(t, ag, "GET", "/api/v2/users/me.json", nil).Want(t, 200)
	})
}

// TestTrustedProxies: behind a trusted proxy every client has its own budget, read from
// X-Forwarded-For; from an untrusted peer the header is ignored.
func TestTrustedProxies(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	behind := testkit.Start(t, storetest.Dialects()[0], func(c *server.Config) { c.TrustedProxies = loopback })
	direct := testkit.Start(t, storetest.Dialects()[0])
	for _, tc := range []struct {
		name string
		desk *testkit.Desk
		want int
	}{{"trusted", behind, 200}, {"untrusted", direct, 429}} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.desk.Account(t, "acme", account.Enterprise)
			ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
			try := withPassword(t, a, ag)
			for i := range 6 {
				try(tc.desk, fmt.Sprintf("guess %d", i), "198.51.100.66")
			}
			try(tc.desk, rightPassword, "198.51.100.66").Want(t, 429)
			// Another client behind the same balancer.
			try(tc.desk, rightPassword, "203.0.113.7").Want(t, tc.want)
		})
	}
}

// TestLimitsAcrossProcesses: two server processes on one PostgreSQL database hold the
// API rate limit and the password limits in total, not each.
func TestLimitsAcrossProcesses(t *testing.T) {
	if storetest.PostgresURL() == "" {
		t.Skip("TANDEM_TEST_POSTGRES not set")
	}
	desks := twoProcesses(t, store.Postgres, func(c *server.Config) { c.RateLimit = 6 })
	a := desks[0].Account(t, "acme", account.Enterprise)
	ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
	try := withPassword(t, a, ag)
	// Passwords: three wrong guesses on each process, and the address is out.
	for i := range 6 {
		try(desks[i%2], fmt.Sprintf("guess %d", i), "")
	}
	try(desks[0], rightPassword, "").Want(t, 429)
	try(desks[1], rightPassword, "").Want(t, 429)
	// Requests: the account's six per minute are spread over both processes (the
	// guesses above counted too).
	b := desks[0].Account(t, "globex", account.Enterprise)
	other := &testkit.Acct{Desk: desks[1], Sub: b.Sub, ID: b.ID, Admin: b.Admin}
	statuses := []int{}
	for i := range 8 {
		acct := b
		if i%2 == 1 {
			acct = other
		}
		statuses = append(statuses, acct.Do(t, b.Admin, "GET", "/api/v2/tickets.json", nil).Status)
	}
	if got := fmt.Sprint(statuses); got != "[200 200 200 200 200 200 429 429]" {
		t.Fatalf("8 requests over two processes with a limit of 6: %s", got)
	}
}

// TestPreviousPasswordIsLimited: changing one's password checks the previous one within
// the same limits, so a stolen API token cannot be used to guess the password.
func TestPreviousPasswordIsLimited(t *testing.T) {
	d := testkit.Start(t, storetest.Dialects()[0])
	a := d.Account(t, "acme", account.Enterprise)
	ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
	withPassword(t, a, ag)
	path := fmt.Sprintf("/api/v2/users/%d/password.json", ag.UserID)
	for i := range 5 {
		a.Do(t, ag, "PUT", path, map[string]any{"password": "a new password", "previous_password": fmt.Sprint("guess ", i)}).Want(t, 422)
	}
	r := a.Do(t, ag, "PUT", path, map[string]any{"password": "a new password", "previous_password": rightPassword}).Want(t, 429)
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("429 without Retry-After: %v", r.Header)
	}
}
