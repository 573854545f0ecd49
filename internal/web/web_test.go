package web_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestPagesByRole opens every page as each role: a page answers without a server error
// for those who may see it, sends signed-out people to the sign-in page, and refuses
// the others.
func TestPagesByRole(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			anon := newClient(t, f.desk, f.acct.Sub)
			anon.get("/login")
			clients := map[string]*client{"anonymous": anon, "end user": f.signedIn(t, f.alice), "agent": f.signedIn(t, f.agent), "admin": f.signedIn(t, f.admin)}
			type level int
			const (
				public level = iota
				signedIn
				staff
				admin
			)
			rank := map[string]level{"anonymous": public, "end user": signedIn, "agent": staff, "admin": admin}
			pages := []struct {
				path string
				min  level
			}{
				{"/", public}, {"/login", public}, {"/hc", public},
				{"/hc/requests", signedIn}, {"/hc/requests/organization", signedIn}, {"/hc/requests/new", signedIn},
				{fmt.Sprintf("/hc/requests/%d", f.ticket), signedIn},
				{"/agent", staff}, {"/agent/views/mine", staff}, {"/agent/views/unassigned", staff}, {"/agent/views/unsolved", staff},
				{"/agent/views/pending", staff}, {"/agent/views/solved", staff}, {"/agent/views/shared", staff}, {"/agent/views/received", staff},
				{"/agent/views/orphaned", staff}, {"/agent/views/unsolved?sort=subject&dir=asc&page=2", staff}, {"/agent/counts", staff},
				{"/agent/search?q=tent", staff}, {"/agent/tickets/new", staff}, {fmt.Sprintf("/agent/tickets/%d", f.ticket), staff},
				{fmt.Sprintf("/agent/tickets/%d/sharing", f.ticket), staff},
				{"/admin", admin}, {"/admin/sharing", admin}, {"/admin/plan", admin}, {"/admin/rules", admin},
				{"/admin/organizations", admin}, {"/admin/organizations/new", admin}, {fmt.Sprintf("/admin/organizations/%d", f.initech), admin},
				{"/admin/users", admin}, {"/admin/users?role=end-user&q=ali", admin}, {"/admin/users/new", admin}, {fmt.Sprintf("/admin/users/%d", f.alice.UserID), admin},
				{fmt.Sprintf("/admin/users/%d", f.agent.UserID), admin}, {"/admin/users/import", admin},
				{"/admin/groups", admin}, {fmt.Sprintf("/admin/groups/%d", f.group), admin},
				{"/admin/triggers/new", admin}, {"/admin/views/new", admin},
			}
			// The account's default triggers and views, as the admin center links them.
			for _, m := range regexp.MustCompile(`href="(/admin/(?:triggers|views)/\d+)"`).FindAllStringSubmatch(clients["admin"].get("/admin/rules").Body, -1) {
				pages = append(pages, struct {
					path string
					min  level
				}{m[1], admin})
			}
			// The account's own views (business rules), as the sidebar links them.
			linked := regexp.MustCompile(`href="(/agent/views/\d+)"`).FindAllStringSubmatch(clients["agent"].get("/agent/views/unsolved").Body, -1)
			if len(linked) < 5 {
				t.Errorf("the sidebar links %d of the account's views; want the default ones", len(linked))
			}
			for _, m := range linked {
				pages = append(pages, struct {
					path string
					min  level
				}{m[1], staff}, struct {
					path string
					min  level
				}{m[1] + "?sort=priority&dir=desc&page=1", staff})
			}
			for _, pg := range pages {
				for who, c := range clients {
					p := c.get(pg.path)
					if p.Status >= 500 {
						t.Errorf("%s GET %s: status %d", who, pg.path, p.Status)
						continue
					}
					switch r := rank[who]; {
					case r >= pg.min:
						if p.Status != http.StatusOK && p.Status != http.StatusSeeOther {
							t.Errorf("%s GET %s: status %d, want 200 or 303: %s", who, pg.path, p.Status, excerpt(p.Body))
						}
						if p.Status == http.StatusSeeOther && strings.HasPrefix(p.Location, "/login") {
							t.Errorf("%s GET %s: sent to sign in", who, pg.path)
						}
					case who == "anonymous":
						if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login?next=") {
							t.Errorf("anonymous GET %s: status %d to %q, want 303 to the sign-in page", pg.path, p.Status, p.Location)
						}
					default:
						if p.Status != http.StatusForbidden {
							t.Errorf("%s GET %s: status %d, want 403", who, pg.path, p.Status)
						}
					}
				}
			}
			// Forms are refused to roles that may not use them, before anything changes.
			for _, tc := range []struct {
				who  string
				path string
			}{
				{"end user", "/agent/tickets"}, {"end user", fmt.Sprintf("/agent/tickets/%d", f.ticket)}, {"agent", "/admin/sharing"},
				{"agent", "/admin/organizations"}, {"agent", "/admin/users"}, {"end user", "/admin/groups"},
			} {
				c := clients[tc.who]
				if p := c.post(tc.path, url.Values{"name": {"x"}, "comment": {"x"}}); p.Status != http.StatusForbidden {
					t.Errorf("%s POST %s: status %d, want 403", tc.who, tc.path, p.Status)
				}
			}
			// Unknown pages and tickets are 404s, for everyone.
			clients["admin"].get("/nope").want(t, http.StatusNotFound)
			clients["agent"].get("/agent/tickets/999999").want(t, http.StatusNotFound)
			clients["agent"].get("/agent/views/nope").want(t, http.StatusNotFound)
		})
	}
}

// TestCSRF checks that a form posted without the session's token, with another token,
// or from another site is refused, and changes nothing.
func TestCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.Dialects()[0])
	c := f.signedIn(t, f.agent)
	path := fmt.Sprintf("/agent/tickets/%d", f.ticket)
	post := func(form url.Values) page {
		return c.do("POST", path, strings.NewReader(form.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	}
	post(url.Values{"comment": {"csrf-probe-1"}}).want(t, http.StatusForbidden).has(t, "refused")
	post(url.Values{"comment": {"csrf-probe-2"}, "csrf_token": {""}}).want(t, http.StatusForbidden)
	post(url.Values{"comment": {"csrf-probe-3"}, "csrf_token": {"not-the-token"}}).want(t, http.StatusForbidden)
	// A valid token sent from another site is refused too (net/http's cross-origin check).
	form := url.Values{"comment": {"csrf-probe-4"}, "csrf_token": {c.csrf}}
	c.do("POST", path, strings.NewReader(form.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"cross-site"}}).want(t, http.StatusForbidden)
	c.do("POST", path, strings.NewReader(form.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {"http://evil.localhost"}}).want(t, http.StatusForbidden)
	// The sign-in form needs its token as well.
	anon := newClient(t, f.desk, f.acct.Sub)
	anon.do("POST", "/login", strings.NewReader(url.Values{"email": {f.agent.Email}, "password": {password}}.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}).want(t, http.StatusForbidden)

	c.get(path).want(t, http.StatusOK).hasNot(t, "csrf-probe")
	// With its token, the same form goes through.
	c.post(path, url.Values{"comment": {"csrf-probe-ok"}}).want(t, http.StatusSeeOther)
	c.get(path).has(t, "csrf-probe-ok")
}

// TestSignIn covers sign-in, sign-out, cookie flags, sessions shared by two server
// processes, redirects after sign-in, and login rate limiting.
func TestSignIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.Dialects()[0])
	c := newClient(t, f.desk, f.acct.Sub)
	c.get("/login").want(t, http.StatusOK).has(t, `autocomplete="current-password"`, "Sign in to Acme")
	c.post("/login", url.Values{"email": {f.agent.Email}, "password": {"wrong password"}}).want(t, http.StatusUnauthorized).has(t, "do not match")

	// The session cookie: HttpOnly, SameSite=Lax, Secure only over https.
	req, _ := http.NewRequest("POST", c.base+"/login", strings.NewReader(url.Values{"email": {f.agent.Email}, "password": {password}, "csrf_token": {c.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "tandem_session" {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || !sess.Secure {
		t.Fatalf("session cookie over https = %+v, want HttpOnly, SameSite=Lax, Secure", sess)
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/agent" {
		t.Fatalf("agent signed in to %d %q, want 303 /agent", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Over plain http the cookie is not Secure (browsers would drop it), and the session
	// lives in the database: a second server process on the same database knows it.
	c2 := newClient(t, f.desk, f.acct.Sub)
	c2.signIn(f.agent.Email, password)
	other := testkit.StartDB(t, f.desk.DB)
	u, _ := url.Parse(c2.base)
	cookies := c2.http.Jar.Cookies(u)
	for _, ck := range cookies {
		if ck.Name == "tandem_session" && ck.Secure {
			t.Error("session cookie is Secure over http")
		}
	}
	c3 := newClient(t, other, f.acct.Sub)
	u3, _ := url.Parse(c3.base)
	c3.http.Jar.SetCookies(u3, cookies)
	c3.get("/agent/views/unsolved").want(t, http.StatusOK).has(t, "Sam Agent")

	// Signing out ends the session everywhere.
	c2.post("/logout", nil).want(t, http.StatusSeeOther)
	c3.get("/agent/views/unsolved").want(t, http.StatusSeeOther)

	// After sign-in people go where they were going, but only within this site.
	c4 := newClient(t, f.desk, f.acct.Sub)
	c4.get("/login?next=%2F%2Fevil.example%2F")
	p := c4.post("/login", url.Values{"email": {f.alice.Email}, "password": {password}, "next": {"//evil.example/"}}).want(t, http.StatusSeeOther)
	if p.Location != "/hc" {
		t.Errorf("end user with a foreign next went to %q, want /hc", p.Location)
	}
	c5 := newClient(t, f.desk, f.acct.Sub)
	p = c5.get("/agent/views/pending").want(t, http.StatusSeeOther)
	c5.get(p.Location)
	p = c5.post("/login", url.Values{"email": {f.agent.Email}, "password": {password}, "next": {"/agent/views/pending"}}).want(t, http.StatusSeeOther)
	if p.Location != "/agent/views/pending" {
		t.Errorf("agent went to %q after sign-in, want /agent/views/pending", p.Location)
	}

	// Rate limiting: after five wrong passwords for an address, even the right one is
	// refused for a while.
	r := newClient(t, f.desk, f.acct.Sub)
	r.get("/login")
	for i := 0; i < 5; i++ {
		r.post("/login", url.Values{"email": {f.bob.Email}, "password": {fmt.Sprintf("guess %d", i)}}).want(t, http.StatusUnauthorized)
	}
	r.post("/login", url.Values{"email": {f.bob.Email}, "password": {password}}).want(t, http.StatusTooManyRequests).has(t, "Too many sign-in attempts")
	// Another person is not locked out by it.
	r.post("/login", url.Values{"email": {f.carol.Email}, "password": {password}}).want(t, http.StatusSeeOther)

	// A suspended user's sessions end.
	admin := f.signedIn(t, f.admin)
	victim := f.signedIn(t, f.dan)
	victim.get("/hc/requests").want(t, http.StatusOK)
	admin.get(fmt.Sprintf("/admin/users/%d", f.dan.UserID))
	admin.post(fmt.Sprintf("/admin/users/%d", f.dan.UserID), url.Values{"name": {"Dan Wright"}, "email": {f.dan.Email}, "role": {"end-user"}, "suspended": {"on"}}).want(t, http.StatusSeeOther)
	victim.get("/hc/requests").want(t, http.StatusSeeOther)
}

// TestAgentTickets walks the agent workspace over plain HTTP: create a ticket, reply,
// add an internal note, change properties, search, sort.
func TestAgentTickets(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.Dialects()[0])
	c := f.signedIn(t, f.agent)
	c.get("/agent/tickets/new").want(t, http.StatusOK)
	p := c.post("/agent/tickets", url.Values{"requester_email": {"new.person@example.test"}, "requester_name": {"New Person"}, "subject": {"Stove won't light"},
		"comment": {"It clicks but **no flame**."}, "priority": {"high"}, "type": {"incident"}, "assignee_id": {fmt.Sprint(f.agent.UserID)}, "group_id": {fmt.Sprint(f.group)}, "tags": {"stove  warranty"}})
	p.want(t, http.StatusSeeOther)
	tp := p.Location
	c.get(tp).want(t, http.StatusOK).has(t, "Stove won&#39;t light", "<strong>no flame</strong>", "New Person", "stove warranty", "Ticket #")

	c.post(tp, url.Values{"comment": {"Checked the batch: known issue."}, "visibility": {"internal"}}).want(t, http.StatusSeeOther)
	c.post(tp, url.Values{"comment": {"We are sending a replacement."}, "visibility": {"public"}, "status": {"pending"}, "priority": {"urgent"}}).want(t, http.StatusSeeOther)
	page := c.get(tp).want(t, http.StatusOK)
	page.has(t, `class="comment internal"`, "Checked the batch", "Internal note", "We are sending a replacement.", `<option value="pending" selected>`, `<option value="urgent" selected>`)

	// A blank subject re-renders the form with the problem and what was typed.
	c.post("/agent/tickets", url.Values{"subject": {" "}, "comment": {"kept text"}}).want(t, http.StatusUnprocessableEntity).has(t, "Subject: cannot be blank", "kept text")

	// Search by word and by number.
	c.get("/agent/search?q=stove").want(t, http.StatusOK).has(t, "Stove won&#39;t light").hasNot(t, "Invoice for the team kits")
	if p := c.get(fmt.Sprintf("/agent/search?q=%%23%d", f.ticket)); p.Status != http.StatusSeeOther || p.Location != fmt.Sprintf("/agent/tickets/%d", f.ticket) {
		t.Errorf("search for #%d: %d %q", f.ticket, p.Status, p.Location)
	}
	// Sorting marks the column; the views count.
	// (Lists sort by the columns the field registry declares sort keys for: not the subject.)
	c.get("/agent/views/unsolved?sort=priority&dir=asc").want(t, http.StatusOK).has(t, `aria-sort="ascending"`)
	c.get("/agent/views/unsolved?sort=description&dir=asc").want(t, http.StatusOK).hasNot(t, `aria-sort="ascending"`)
	c.get("/agent/counts").want(t, http.StatusOK).has(t, `id="views"`, "Your unsolved tickets")
}

// TestCommentMarkupIsInert stores hostile markup through the API (html_body) and the web
// form, and checks that no page carries it as markup.
func TestCommentMarkupIsInert(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.Dialects()[0])
	hostile := `<script>alert("xss")</script><img src=x onerror="alert(1)"><a href="javascript:alert(2)">link</a><p onclick="alert(3)">HOSTILE-API</p>`
	f.acct.Do(t, f.admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", f.ticket), map[string]any{"ticket": map[string]any{"comment": map[string]any{"html_body": hostile, "public": true}}}).Want(t, 200)
	c := f.signedIn(t, f.agent)
	tp := fmt.Sprintf("/agent/tickets/%d", f.ticket)
	c.post(tp, url.Values{"comment": {`<script>alert("web")</script> <b onmouseover="alert(4)">HOSTILE-WEB</b>`}}).want(t, http.StatusSeeOther)
	for _, p := range []page{c.get(tp), f.signedIn(t, f.alice).get(fmt.Sprintf("/hc/requests/%d", f.ticket))} {
		p.want(t, http.StatusOK).has(t, "HOSTILE-API", "HOSTILE-WEB", "&lt;script&gt;alert(&#34;web&#34;)&lt;/script&gt;")
		p.hasNot(t, "<script>alert", "onerror=", "onclick=", "<b onmouseover", "javascript:alert")
		p.has(t, "&lt;b onmouseover=")
	}
}

// TestHelpCenterOrganizations checks what end users see: their own requests, their
// organization's when it shares tickets (with a notice saying so), nothing of an
// organization that does not.
func TestHelpCenterOrganizations(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.Dialects()[0])
	alice := f.signedIn(t, f.alice)
	alice.get("/hc/requests").want(t, http.StatusOK).has(t, "Tent pole snapped", "Organization requests").hasNot(t, "Invoice for the team kits")
	alice.get("/hc/requests/organization").want(t, http.StatusOK).has(t, "Invoice for the team kits", "Bob Okafor", "Tent pole snapped").hasNot(t, "Umbrella secret request")
	bobs := fmt.Sprintf("/hc/requests/%d", f.bobRequest)
	alice.get(bobs).want(t, http.StatusOK).has(t, "visible to everyone in <strong>Initech</strong>", "Add to the conversation")
	alice.post(bobs, url.Values{"comment": {"Same problem here."}}).want(t, http.StatusSeeOther)
	alice.get(bobs).has(t, "Same problem here.")
	alice.get(fmt.Sprintf("/hc/requests/%d", f.danRequest)).want(t, http.StatusNotFound).hasNot(t, "Umbrella secret request")

	carol := f.signedIn(t, f.carol)
	carol.get("/hc/requests").want(t, http.StatusOK).hasNot(t, "Umbrella secret request", "Organization requests")
	carol.get("/hc/requests/organization").want(t, http.StatusOK).hasNot(t, "Umbrella secret request")
	carol.get(fmt.Sprintf("/hc/requests/%d", f.danRequest)).want(t, http.StatusNotFound)
	carol.post(fmt.Sprintf("/hc/requests/%d", f.danRequest), url.Values{"comment": {"sneaky"}}).want(t, http.StatusNotFound)

	// Internal notes never reach the help center.
	f.acct.Do(t, f.admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", f.ticket), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "INTERNAL-ONLY note", "public": false}}}).Want(t, 200)
	alice.get(fmt.Sprintf("/hc/requests/%d", f.ticket)).want(t, http.StatusOK).hasNot(t, "INTERNAL-ONLY")

	// A new request from a member of a sharing organization says who will see it.
	alice.get("/hc/requests/new").want(t, http.StatusOK).has(t, "visible to everyone in <strong>Initech</strong>")
	p := alice.post("/hc/requests", url.Values{"subject": {"Tent for the offsite"}, "description": {"We need six tents."}}).want(t, http.StatusSeeOther)
	// The confirmation promises only what is true: no email is sent yet.
	alice.get(p.Location).want(t, http.StatusOK).has(t, "Tent for the offsite", "We need six tents.", "We will reply here").hasNot(t, "by email")
	f.signedIn(t, f.bob).get("/hc/requests/organization").has(t, "Tent for the offsite")
}

// upload posts a CSV file to the import form.
func upload(t *testing.T, c *client, kind, csv string) page {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf_token", c.csrf)
	_ = mw.WriteField("kind", kind)
	fw, _ := mw.CreateFormFile("file", kind+".csv")
	_, _ = fw.Write([]byte(csv))
	mw.Close()
	return c.do("POST", "/admin/users/import", &body, http.Header{"Content-Type": {mw.FormDataContentType()}})
}

// TestImport uploads CSV files of users and organizations with good and bad rows, and
// reads the per-row report the progress page ends with.
func TestImport(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.Dialects()[0])
	c := f.signedIn(t, f.admin)
	c.get("/admin/users/import").want(t, http.StatusOK).has(t, `enctype="multipart/form-data"`)
	wait := func(p page) page {
		t.Helper()
		p.want(t, http.StatusSeeOther)
		var status page
		testkit.Eventually(t, 10*time.Second, "the import to finish", func() bool {
			status = c.do("GET", p.Location, nil, http.Header{"HX-Request": {"true"}})
			return strings.Contains(status.Body, "Import finished") || strings.Contains(status.Body, "Import stopped")
		})
		// The full page shows the same report.
		c.get(p.Location).want(t, http.StatusOK).has(t, "<progress")
		return status
	}
	orgs := wait(upload(t, c, "organizations", "name,domain_names,shared_tickets\nHooli,hooli.test,yes\n,nameless.test,no\n"))
	orgs.has(t, "Import finished", "1 created", "1 with errors", "Hooli")
	c.get("/admin/organizations").has(t, "Hooli")

	users := wait(upload(t, c, "users", "email,name,role,organization\n"+
		"erin@initech.test,Erin Ng,end-user,Initech\n"+
		"not-an-email,Nobody,end-user,\n"+
		"frank@example.test,Frank Ox,agent,Hooli\n"+
		"alice@initech.test,Alice Chen-Li,,\n"+
		"gina@example.test,Gina,wizard,\n"))
	users.has(t, "Import finished", "2 created", "1 updated", "2 with errors", "not-an-email", "gina@example.test")
	c.get("/admin/users?q=frank").has(t, "Frank Ox", "Agent")
	c.get("/admin/users?q=alice").has(t, "Alice Chen-Li")
	// A file that is not CSV text is refused with a reason, in the report.
	wait(upload(t, c, "users", "\xff\xfe\x00b\x00a\x00d")).has(t, "UTF-16")
}

// TestAdminCenter covers organizations, users, tokens, groups, the plan page and
// sharing agreements between two accounts of one server, over plain HTTP.
func TestAdminCenter(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.Dialects()[0])
	c := f.signedIn(t, f.admin)

	// Organizations: domains, shared visibility, group mapping.
	c.get("/admin/organizations/new").want(t, http.StatusOK).has(t, "Users can view all tickets in this organization")
	p := c.post("/admin/organizations", url.Values{"name": {"Hooli"}, "domains": {"hooli.test, hooli.example"}, "shared_tickets": {"on"}, "shared_comments": {"on"}, "group_id": {fmt.Sprint(f.group)}}).want(t, http.StatusSeeOther)
	c.get(p.Location).want(t, http.StatusOK).has(t, "hooli.test, hooli.example", `name="shared_tickets" checked`, "selected>Support")
	c.post("/admin/organizations", url.Values{"name": {"Hooli"}}).want(t, http.StatusUnprocessableEntity).has(t, "already been taken")

	// Users: a new end user at the domain joins the organization; roles; tokens.
	p = c.post("/admin/users", url.Values{"name": {"Gavin"}, "email": {"gavin@hooli.test"}, "role": {"end-user"}, "password": {"long enough password"}}).want(t, http.StatusSeeOther)
	c.get(p.Location).want(t, http.StatusOK).has(t, "Hooli")
	p = c.post("/admin/users", url.Values{"name": {"Nina"}, "email": {"nina@acme.test"}, "role": {"agent"}}).want(t, http.StatusSeeOther)
	nina := p.Location
	tok := c.post(nina+"/tokens", url.Values{"description": {"reporting"}}).want(t, http.StatusOK).has(t, "shown only once")
	if !strings.Contains(tok.Body, `<code class="secret">`) {
		t.Fatal("token secret not shown")
	}
	c.get(nina).has(t, "reporting").hasNot(t, `class="secret"`)
	c.post(nina+"/groups", url.Values{"group_id": {fmt.Sprint(f.group)}}).want(t, http.StatusSeeOther)
	c.get(fmt.Sprintf("/admin/groups/%d", f.group)).has(t, "Nina")
	c.post(fmt.Sprintf("/admin/users/%d", f.admin.UserID), url.Values{"name": {"Admin"}, "email": {f.admin.Email}, "role": {"agent"}}).want(t, http.StatusForbidden).has(t, "change your own role")

	// Groups.
	p = c.post("/admin/groups", url.Values{"name": {"Warranty"}}).want(t, http.StatusSeeOther)
	c.get(p.Location).want(t, http.StatusOK).has(t, "Warranty")
	c.post("/admin/groups", url.Values{"name": {"warranty"}}).want(t, http.StatusUnprocessableEntity)

	// The plan page says what each plan unlocks.
	c.get("/admin/plan").want(t, http.StatusOK).has(t, "Enterprise", "Automatic sharing by trigger", "Ticket sharing with partner help desks")

	// Sharing between two accounts of this server: invite, see it pending, accept.
	globex := f.desk.Account(t, "globex", account.Professional)
	g := newClient(t, f.desk, "globex")
	g.signIn(globex.Admin.Email, password)
	c.get("/admin/sharing")
	c.post("/admin/sharing", url.Values{"partner": {"nosuchdesk"}}).want(t, http.StatusUnprocessableEntity).has(t, "no account")
	c.post("/admin/sharing", url.Values{"partner": {"globex"}, "comments": {"public"}, "sync_status": {"on"}, "allows_public_comments": {"on"}}).want(t, http.StatusSeeOther)
	c.get("/admin/sharing").has(t, "Globex", "waiting for their administrator", "Public replies only; internal notes stay private.")
	gp := g.get("/admin/sharing").want(t, http.StatusOK).has(t, "Invitations waiting for you", "Acme wants to share tickets with you", "Not synced.")
	id := regexpFind(t, gp.Body, `/admin/sharing/(\d+)/respond`)
	g.post("/admin/sharing/"+id+"/respond", url.Values{"answer": {"accepted"}}).want(t, http.StatusSeeOther)
	g.get("/admin/sharing").has(t, "They share with you", "Accepted")
	c.get("/admin/sharing").has(t, "Accepted")
	// Deactivation asks for confirmation.
	g.post("/admin/sharing/"+id+"/deactivate", nil).want(t, http.StatusSeeOther)
	g.get("/admin/sharing").has(t, "cannot be undone").hasNot(t, "Ended agreements")
	g.post("/admin/sharing/"+id+"/deactivate", url.Values{"confirm": {"yes"}}).want(t, http.StatusSeeOther)
	g.get("/admin/sharing").has(t, "Ended agreements", "Inactive")

	// On a plan without ticket sharing, the page says which plan unlocks it.
	team := f.desk.Account(t, "teamdesk", account.Team)
	tc := newClient(t, f.desk, "teamdesk")
	tc.signIn(team.Admin.Email, password)
	tc.get("/admin/sharing").want(t, http.StatusOK).has(t, "requires the Professional plan")
	tc.get("/admin/plan").want(t, http.StatusOK)
	_ = identity.Admin
}

// TestRuleEditors creates a trigger and a view with the admin center's forms and checks
// that they act: the trigger on a new ticket, the view in the agent's sidebar.
func TestRuleEditors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.Dialects()[0])
	c := f.signedIn(t, f.admin)
	c.get("/admin/triggers/new").want(t, http.StatusOK).has(t, "Meet <strong>all</strong> of these conditions", "Set priority")
	// A trigger without actions is refused with the reason, and the form keeps its rows.
	c.post("/admin/triggers", url.Values{"title": {"VIP first"}, "active": {"on"},
		"all_field": {"update_type", "current_tags"}, "all_op": {"is", "includes"}, "all_value": {"Create", "vip"}}).
		want(t, http.StatusUnprocessableEntity).has(t, "Actions", `value="vip"`)
	c.post("/admin/triggers", url.Values{"title": {"VIP first"}, "active": {"on"},
		"all_field": {"update_type", "current_tags", ""}, "all_op": {"is", "includes", "is"}, "all_value": {"Create", "vip", ""},
		"act_field": {"priority", "current_tags", ""}, "act_value": {"urgent", "fast_lane", ""}}).want(t, http.StatusSeeOther)
	c.get("/admin/rules").want(t, http.StatusOK).has(t, "VIP first", "Tags contains vip", "Set priority: urgent")
	tk := f.acct.Do(t, f.admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Big customer", "tags": []string{"vip"}, "comment": map[string]any{"body": "Help"}}}).Want(t, 201).Obj("ticket")
	if tk["priority"] != "urgent" {
		t.Errorf("the trigger made in the editor did not run: priority %v", tk["priority"])
	}

	// A view made in the editor shows in the sidebar, with its tickets.
	c.get("/admin/views/new").want(t, http.StatusOK)
	c.post("/admin/views", url.Values{"title": {"Urgent work"}, "active": {"on"},
		"all_field": {"status", "priority"}, "all_op": {"less_than", "is"}, "all_value": {"solved", "urgent"},
		"columns": {"nice_id", "description", "priority", "organization"}, "sort_by": {"created"}, "sort_order": {"desc"}}).want(t, http.StatusSeeOther)
	agent := f.signedIn(t, f.agent)
	side := agent.get("/agent/views/unsolved").want(t, http.StatusOK).has(t, "Urgent work")
	id := regexpFind(t, side.Body, `href="/agent/views/(\d+)"\s*><span>Urgent work`)
	agent.get("/agent/views/"+id).want(t, http.StatusOK).has(t, "Big customer", ">Organization<").hasNot(t, "Tent pole snapped")
	// Editing it keeps what was saved, and a view that tests nothing is refused.
	c.get("/admin/views/"+id).want(t, http.StatusOK).has(t, `value="urgent"`, `value="organization" checked`)
	c.post("/admin/views/"+id, url.Values{"title": {"Urgent work"}, "any_field": {"priority"}, "any_op": {"is"}, "any_value": {"urgent"}}).want(t, http.StatusUnprocessableEntity)
	c.post("/admin/views/"+id+"/delete", nil).want(t, http.StatusSeeOther)
	agent.get("/agent/views/unsolved").hasNot(t, "Urgent work")
}

// TestStaticAndHeaders checks the vendored assets (versioned URLs cached for good, no
// directory listing) and the security headers every page carries.
func TestStaticAndHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.Dialects()[0])
	c := newClient(t, f.desk, f.acct.Sub)
	req, _ := http.NewRequest("GET", c.base+"/login", nil)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	login := c.get("/login")
	for _, asset := range []string{"app.css", "app.js", "htmx.min.js"} {
		v := regexpFind(t, login.Body, `/static/`+regexp.QuoteMeta(asset)+`\?v=([0-9a-f]+)`)
		req, _ := http.NewRequest("GET", c.base+"/static/"+asset+"?v="+v, nil)
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d, Cache-Control %q", asset, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
	c.get("/static/").want(t, http.StatusNotFound)
	if p := c.get("/static/htmx.min.js"); p.Status != http.StatusOK || !strings.Contains(p.Body, "htmx") {
		t.Errorf("htmx: %d", p.Status)
	}
	// A host that names no account gets a page saying so.
	other := newClient(t, f.desk, "nosuchdesk")
	other.get("/login").want(t, http.StatusNotFound).has(t, "No help desk is served at this address")
}

// TestDefaultViewsWhenNoneSaved: an account that deleted all its views sees the default
// views (rules.DefaultViews, unsaved) in the sidebar, linked by key, with their tickets.
func TestDefaultViewsWhenNoneSaved(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			a := f.acct
			for _, v := range a.Do(t, a.Admin, "GET", "/api/v2/views.json", nil).Want(t, http.StatusOK).List("views") {
				a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/views/%d.json", testkit.ID(v, "id")), nil).Want(t, http.StatusNoContent)
			}
			agent := f.signedIn(t, f.agent)
			page := agent.get("/agent/views/unsolved").want(t, http.StatusOK)
			page.has(t, `href="/agent/views/mine"`, `href="/agent/views/orphaned"`, "Recently updated tickets", "Tent pole snapped")
			if regexp.MustCompile(`href="/agent/views/\d+"`).MatchString(page.Body) {
				t.Error("the sidebar links a saved view; the account has none")
			}
			agent.get("/agent/views/mine").want(t, http.StatusOK).hasNot(t, "Tent pole snapped")
		})
	}
}

// TestProblemColumns: a view shows each incident's problem and each problem's number of
// incidents, and sorts by them.
func TestProblemColumns(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.Dialects()[0])
	a := f.acct
	mk := func(body map[string]any) int64 {
		body["comment"] = map[string]any{"body": "x"}
		body["requester_id"] = f.alice.UserID
		return testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": body}).Want(t, http.StatusCreated).Obj("ticket"), "id")
	}
	problem := mk(map[string]any{"subject": "Checkout is down", "type": "problem"})
	mk(map[string]any{"subject": "Cannot pay", "type": "incident", "problem_id": problem})
	mk(map[string]any{"subject": "Card refused", "type": "incident", "problem_id": problem})
	v := a.Do(t, a.Admin, "POST", "/api/v2/views.json", map[string]any{"view": map[string]any{"title": "Outage",
		"all":    []any{map[string]any{"field": "status", "operator": "less_than", "value": "solved"}},
		"output": map[string]any{"columns": []string{"nice_id", "description", "problem", "incidents"}, "sort_by": "incidents", "sort_order": "desc"}}}).Want(t, http.StatusCreated).Obj("view")
	agent := f.signedIn(t, f.agent)
	page := agent.get(fmt.Sprintf("/agent/views/%d", testkit.ID(v, "id"))).want(t, http.StatusOK)
	page.has(t, ">Problem<", ">Incidents<", fmt.Sprintf("<td>#%d</td>", problem), "<td>2</td>")
	// The problem, with the most incidents, comes first.
	if i, j := strings.Index(page.Body, "Checkout is down"), strings.Index(page.Body, "Cannot pay"); i < 0 || j < 0 || i > j {
		t.Errorf("problem at %d, incident at %d: want the problem first", i, j)
	}
}
