package web_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestLoginLimits: the web sign-in and the API's Basic auth share one attempt limiter,
// and concurrent guesses are counted before the slow hash, so 20 at once cannot all be
// checked.
func TestLoginLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.Dialects()[0])
	// Five wrong passwords through the API...
	for i := range 5 {
		h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(f.bob.Email+":"+fmt.Sprint("guess ", i)))}}
		r, err := f.desk.Request(f.acct.Sub, f.acct.Admin, "GET", "/api/v2/users/me.json", nil, nil)
		if err != nil || r.Status != 200 {
			t.Fatalf("token request: %v %v", r, err)
		}
		r, err = f.desk.Request(f.acct.Sub, testkit.Anonymous, "GET", "/api/v2/users/me.json", nil, h)
		if err != nil || r.Status != 401 {
			t.Fatalf("wrong password %d: %v %v", i, r, err)
		}
	}
	// ...and the web sign-in refuses that email from that address, even with the right one.
	c := newClient(t, f.desk, f.acct.Sub)
	c.get("/login")
	c.post("/login", url.Values{"email": {f.bob.Email}, "password": {password}}).want(t, http.StatusTooManyRequests).has(t, "Too many sign-in attempts")

	// Twenty concurrent guesses for another email: five are admitted, fifteen refused.
	var clients []*client
	for range 20 {
		g := newClient(t, f.desk, f.acct.Sub)
		g.get("/login")
		clients = append(clients, g)
	}
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for i, g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := g.post("/login", url.Values{"email": {f.carol.Email}, "password": {fmt.Sprint("guess ", i)}})
			mu.Lock()
			counts[p.Status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	// The five admitted are checked (401), or, when the hashing slots stay busy longer
	// than the queue wait (a slow machine, -race), answered 503.
	if counts[http.StatusTooManyRequests] != 15 || counts[http.StatusUnauthorized]+counts[http.StatusServiceUnavailable] != 5 {
		t.Fatalf("20 concurrent guesses answered %v, want 15 × 429 and 5 checked", counts)
	}
}
