package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// client is a browser without JavaScript: a cookie jar, no automatic redirects, and a
// dialer that sends *.localhost to loopback as browsers do.
type client struct {
	t    testing.TB
	http *http.Client
	base string // http://acme.localhost:PORT
	csrf string
}

func newClient(t testing.TB, desk *testkit.Desk, sub string) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, base: "http://" + desk.Host(sub), http: &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is a response.
type page struct {
	Status   int
	Body     string
	Location string
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (c *client) do(method, path string, body io.Reader, hdr http.Header) page {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := page{Status: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location")}
	if m := csrfRE.FindStringSubmatch(p.Body); m != nil {
		c.csrf = m[1]
	}
	return p
}

func (c *client) get(path string) page {
	c.t.Helper()
	return c.do("GET", path, nil, nil)
}

// post sends a form with the CSRF token of the last page seen (unless the form has one).
func (c *client) post(path string, form url.Values) page {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", c.csrf)
	}
	return c.do("POST", path, strings.NewReader(form.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

// signIn signs the client in, failing the test if it cannot.
func (c *client) signIn(email, pw string) {
	c.t.Helper()
	c.get("/login")
	p := c.post("/login", url.Values{"email": {email}, "password": {pw}})
	if p.Status != http.StatusSeeOther {
		c.t.Fatalf("sign in as %s: status %d: %s", email, p.Status, excerpt(p.Body))
	}
	// Follow the redirects to a page, which carries the session's CSRF token.
	for i := 0; i < 3 && p.Status == http.StatusSeeOther; i++ {
		p = c.get(p.Location)
	}
}

func excerpt(s string) string {
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 1500 {
		s = s[:1500] + "..."
	}
	return s
}

// want fails unless the page has the status.
func (p page) want(t testing.TB, status int) page {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d; body: %s", p.Status, status, excerpt(p.Body))
	}
	return p
}

func (p page) has(t testing.TB, texts ...string) page {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(p.Body, s) {
			t.Errorf("page does not contain %q; body: %s", s, excerpt(p.Body))
		}
	}
	return p
}

func (p page) hasNot(t testing.TB, texts ...string) page {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(p.Body, s) {
			t.Errorf("page contains %q, which it must not", s)
		}
	}
	return p
}

const password = "correct horse battery"

// setPassword gives a user a web password.
func setPassword(t testing.TB, desk *testkit.Desk, acct ids.Account, user int64) {
	t.Helper()
	ctx := context.Background()
	if err := desk.DB.Write(ctx, func(tx *store.Tx) error { return identity.SetPassword(ctx, tx, acct, ids.User(user), password) }); err != nil {
		t.Fatal(err)
	}
}

// fixture is an account with one person of each role, two organizations (one sharing
// tickets among its members, one not), a group and tickets.
type fixture struct {
	desk  *testkit.Desk
	acct  *testkit.Acct
	admin testkit.Cred
	agent testkit.Cred
	// alice and bob are in Initech, which shares tickets; carol and dan in Umbrella,
	// which does not.
	alice, bob, carol, dan testkit.Cred
	initech, umbrella      int64
	group                  int64
	ticket                 int64 // an agent's ticket for alice
	bobRequest, danRequest int64
}

func newFixture(t testing.TB, d store.Dialect) *fixture {
	t.Helper()
	desk := testkit.Start(t, d)
	a := desk.Account(t, "acme", account.Enterprise)
	f := &fixture{desk: desk, acct: a, admin: a.Admin}
	f.agent = a.User(t, identity.Agent, "agent@acme.test", "Sam Agent")
	f.initech = testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/organizations.json", map[string]any{"organization": map[string]any{"name": "Initech", "shared_tickets": true, "shared_comments": true}}).Want(t, 201).Obj("organization"), "id")
	f.umbrella = testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/organizations.json", map[string]any{"organization": map[string]any{"name": "Umbrella"}}).Want(t, 201).Obj("organization"), "id")
	f.group = testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/groups.json", map[string]any{"group": map[string]any{"name": "Support"}}).Want(t, 201).Obj("group"), "id")
	endUser := func(email, name string, orgID int64) testkit.Cred {
		u := a.Do(t, a.Admin, "POST", "/api/v2/users.json", map[string]any{"user": map[string]any{"name": name, "email": email, "role": "end-user", "verified": true, "organization_id": orgID}}).Want(t, 201).Obj("user")
		return testkit.Cred{Email: email, UserID: testkit.ID(u, "id"), Role: identity.EndUser}
	}
	f.alice = endUser("alice@initech.test", "Alice Chen", f.initech)
	f.bob = endUser("bob@initech.test", "Bob Okafor", f.initech)
	f.carol = endUser("carol@umbrella.test", "Carol Diaz", f.umbrella)
	f.dan = endUser("dan@umbrella.test", "Dan Wright", f.umbrella)
	for _, u := range []int64{f.admin.UserID, f.agent.UserID, f.alice.UserID, f.bob.UserID, f.carol.UserID, f.dan.UserID} {
		setPassword(t, desk, a.ID, u)
	}
	newTicket := func(requester int64, subject, body string) int64 {
		tk := a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": subject, "requester_id": requester, "comment": map[string]any{"body": body}}}).Want(t, 201).Obj("ticket")
		return testkit.ID(tk, "id")
	}
	f.ticket = newTicket(f.alice.UserID, "Tent pole snapped", "The pole snapped on the first night.")
	f.bobRequest = newTicket(f.bob.UserID, "Invoice for the team kits", "Could you resend the March invoice?")
	f.danRequest = newTicket(f.dan.UserID, "Umbrella secret request", "Only Dan should see this.")
	return f
}

// signedIn returns a client signed in as the user.
func (f *fixture) signedIn(t testing.TB, who testkit.Cred) *client {
	t.Helper()
	c := newClient(t, f.desk, f.acct.Sub)
	c.signIn(who.Email, password)
	return c
}

// regexpFind returns the first submatch of re in s.
func regexpFind(t testing.TB, s, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no match for %s in %s", re, excerpt(s))
	}
	return m[1]
}
