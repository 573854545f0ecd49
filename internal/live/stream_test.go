package live_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/live"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

const password = "correct horse battery"

// browser is a signed-in web client (cookies, CSRF token) of one account.
type browser struct {
	t    *testing.T
	http *http.Client
	base string
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func signIn(t *testing.T, desk *testkit.Desk, sub, email string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	b := &browser{t: t, base: "http://" + desk.Host(sub), http: &http.Client{Jar: jar, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	b.get("/login")
	if st, _ := b.post("/login", url.Values{"email": {email}, "password": {password}}); st != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d", email, st)
	}
	b.get("/hc") // any page: it carries the session's CSRF token
	return b
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.http.Get(b.base + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body)
}

func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	form.Set("csrf_token", b.csrf)
	resp, err := b.http.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// message is one Server-Sent Event.
type message struct {
	ID, Event, Data string
}

// stream is an open event stream; its messages arrive on C, which closes when the
// server ends the stream.
type stream struct {
	C    chan message
	stop func()
}

func (b *browser) stream(path, lastID string) *stream {
	b.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", b.base+path, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		cancel()
		b.t.Fatalf("stream %s: %v", path, err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		b.t.Fatalf("stream %s: status %d, %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &stream{C: make(chan message, 256), stop: cancel}
	b.t.Cleanup(cancel)
	go func() {
		defer close(s.C)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var m message
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if m.Event != "" || m.ID != "" {
					s.C <- m
				}
				m = message{}
			case strings.HasPrefix(line, "id: "):
				m.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				m.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				m.Data = line[6:]
			}
		}
	}()
	return s
}

// until collects the stream's events until one satisfies stop, failing after 10 s.
func (s *stream) until(t *testing.T, what string, stop func(message, live.Event) bool) []live.Event {
	t.Helper()
	var seen []live.Event
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-s.C:
			if !ok {
				t.Fatalf("stream ended before %s; saw %+v", what, seen)
			}
			var ev live.Event
			if m.Data != "" {
				_ = json.Unmarshal([]byte(m.Data), &ev)
			}
			if m.Event == "" {
				continue // an id-only line
			}
			ev.Kind = firstNonEmpty(ev.Kind, m.Event)
			seen = append(seen, ev)
			if stop(m, ev) {
				return seen
			}
		case <-deadline:
			t.Fatalf("no %s within 10 s; saw %+v", what, seen)
		}
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// passwordHash is the hash of password, computed once: argon2id is slow on purpose.
var passwordHash = sync.OnceValues(func() (string, error) { return identity.HashPassword(password) })

// setPasswords gives users of an account the web password.
func setPasswords(t *testing.T, desk *testkit.Desk, acct ids.Account, users ...int64) {
	t.Helper()
	h, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	args := []any{h, acct}
	for _, u := range users {
		args = append(args, u)
	}
	ctx := context.Background()
	err = desk.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE account_id = ? AND id IN (`+store.In(len(users))+`)`, args...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStreamIsolation: one change at a time, each stream gets exactly what its user may
// see — a private note reaches staff who may see the ticket and nobody else; a public
// reply reaches its requester too, without who wrote internal notes or which fields
// changed; another account's streams, a restricted agent's and another end user's get
// nothing of it. Each stream's last event is a sentinel it may see, so "nothing" is
// checked, not assumed.
func TestStreamIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		desk := testkit.StartDB(t, db)
		<-desk.Srv.Live.Ready()
		a := desk.Account(t, "acme", account.Enterprise)
		g := desk.Account(t, "globex", account.Enterprise)
		agent := a.User(t, identity.Agent, "sam@acme.test", "Sam Agent")
		restricted := a.User(t, identity.Agent, "rita@acme.test", "Rita Restricted")
		alice := a.User(t, identity.EndUser, "alice@acme.test", "Alice End")
		bob := a.User(t, identity.EndUser, "bob@acme.test", "Bob End")
		group := testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/groups.json", map[string]any{"group": map[string]any{"name": "Tier 2"}}).Want(t, 201).Obj("group"), "id")
		a.Do(t, a.Admin, "POST", "/api/v2/group_memberships.json", map[string]any{"group_membership": map[string]any{"user_id": restricted.UserID, "group_id": group}}).Want(t, 201)
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/users/%d.json", restricted.UserID), map[string]any{"user": map[string]any{"ticket_restriction": "groups"}}).Want(t, 200)
		setPasswords(t, desk, a.ID, a.Admin.UserID, agent.UserID, restricted.UserID, alice.UserID, bob.UserID)
		setPasswords(t, desk, g.ID, g.Admin.UserID)
		newTicket := func(acct *testkit.Acct, fields map[string]any) int64 {
			return testkit.ID(acct.Do(t, acct.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": fields}).Want(t, 201).Obj("ticket"), "id")
		}
		t1 := newTicket(a, map[string]any{"subject": "Alice's tent", "requester_id": alice.UserID, "comment": map[string]any{"body": "torn"}})
		bobs := newTicket(a, map[string]any{"subject": "Bob's boots", "requester_id": bob.UserID, "comment": map[string]any{"body": "soles"}})
		tier2 := newTicket(a, map[string]any{"subject": "Tier 2", "group_id": group, "comment": map[string]any{"body": "for rita"}})
		gt := newTicket(g, map[string]any{"subject": "Globex", "comment": map[string]any{"body": "theirs"}})

		// Each viewer's stream is read until its sentinel (a public reply it may see,
		// sent after everything else). staff: sees everything of acme; requester: the
		// public side of t1 only; the others: their sentinel and nothing else.
		viewers := []struct {
			name     string
			sub, who string
			path     string
			sentinel int64
			kind     string // staff, requester, other
		}{
			{"admin", "acme", a.Admin.Email, "/agent/events", t1, "staff"},
			{"agent", "acme", agent.Email, "/agent/events", t1, "staff"},
			{"restricted agent", "acme", restricted.Email, "/agent/events", tier2, "other"},
			{"requester", "acme", alice.Email, "/hc/events", t1, "requester"},
			{"other end user", "acme", bob.Email, "/hc/events", bobs, "other"},
			{"other account", "globex", g.Admin.Email, "/agent/events", gt, "other"},
		}
		streams := make([]*stream, len(viewers))
		for i, v := range viewers {
			streams[i] = signIn(t, desk, v.sub, v.who).stream(v.path, "")
		}
		put := func(acct *testkit.Acct, id int64, body map[string]any) {
			acct.Do(t, acct.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": body}).Want(t, 200)
		}
		put(a, t1, map[string]any{"priority": "high", "comment": map[string]any{"body": "secret note @sam", "public": false}})
		put(a, t1, map[string]any{"status": "pending", "comment": map[string]any{"body": "We are on it", "public": true}})
		for _, id := range []int64{t1, bobs, tier2} {
			put(a, id, map[string]any{"comment": map[string]any{"body": "sentinel", "public": true}})
		}
		put(g, gt, map[string]any{"comment": map[string]any{"body": "sentinel", "public": true}})

		for i, v := range viewers {
			t.Run(v.name, func(t *testing.T) {
				// Public replies on the sentinel's ticket: the sentinel is the last one
				// (t1 has two: "We are on it" and the sentinel).
				want := 1
				if v.kind != "other" {
					want = 2
				}
				var tickets, private, public int
				evs := streams[i].until(t, "the sentinel", func(m message, ev live.Event) bool {
					if m.Event != "ticket" {
						return false
					}
					tickets++
					for _, c := range ev.Comments {
						if int64(ev.Ticket) != v.sentinel {
							continue
						}
						if c.Public {
							public++
						} else {
							private++
						}
					}
					return public == want
				})
				switch v.kind {
				case "staff":
					if private != 1 {
						t.Errorf("saw the private note %d times, want once: %+v", private, evs)
					}
				case "requester":
					if private != 0 || tickets != 2 {
						t.Errorf("an end user saw %d private notes and %d events, want 0 and 2: %+v", private, tickets, evs)
					}
					for _, ev := range evs {
						if ev.ByID != 0 || ev.Channel != "" {
							t.Errorf("an end user's event says who or how: %+v", ev)
						}
						for _, f := range ev.Fields {
							if f.Field != "status" {
								t.Errorf("an end user's event carries field %s", f.Field)
							}
						}
					}
				case "other":
					if tickets != 1 {
						t.Errorf("saw %d ticket events, want only the sentinel: %+v", tickets, evs)
					}
				}
			})
		}
	})
}

// TestStreamLifecycle: a reconnecting stream resumes from Last-Event-ID without losing
// events; signing out ends the session's streams; a subscriber that never reads does not
// hold up the writes that publish to it, and is told to resync; shutdown ends streams.
func TestStreamLifecycle(t *testing.T) {
	t.Parallel()
	desk := testkit.Start(t, store.SQLite)
	a := desk.Account(t, "acme", account.Enterprise)
	setPasswords(t, desk, a.ID, a.Admin.UserID)
	tk := testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Resume", "comment": map[string]any{"body": "start"}}}).Want(t, 201).Obj("ticket"), "id")
	put := func(body string) {
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tk), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": body, "public": false}}}).Want(t, 200)
	}
	b := signIn(t, desk, "acme", a.Admin.Email)

	// Resume: the first stream says where "now" is; two changes happen while nobody
	// listens; a stream resuming from there gets both, in order.
	first := b.stream("/agent/events", "")
	var now string
	select {
	case m := <-first.C:
		now = m.ID
	case <-time.After(10 * time.Second):
		t.Fatal("a fresh stream sent no starting id")
	}
	first.stop()
	put("missed one")
	put("missed two")
	resumed := b.stream("/agent/events", now)
	var got []int64
	resumed.until(t, "both missed events", func(m message, ev live.Event) bool {
		if m.Event == "resync" {
			t.Fatalf("resume from %s asked for a resync", now)
		}
		got = append(got, ev.ID)
		return len(got) == 2
	})
	if got[0] >= got[1] {
		t.Errorf("replayed ids %v are not increasing", got)
	}
	// Resuming from before what is kept asks for a resync.
	if err := desk.Srv.Live.Trim(t.Context(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	b.stream("/agent/events", "1").until(t, "a resync", func(m message, _ live.Event) bool { return m.Event == "resync" })

	// A subscriber that never reads: writes go on, and it is told it lost events.
	stuck := desk.Srv.Live.Subscribe(live.Viewer{Account: a.ID})
	defer stuck.Close()
	for i := 0; i < desk.Srv.Live.Config().Buffer+5; i++ {
		put(fmt.Sprintf("flood %d", i))
	}
	if !stuck.Lost() {
		t.Error("a full subscription was not marked for a resync")
	}

	// Signing out ends the session's streams at once.
	open := b.stream("/agent/events", "")
	b.post("/logout", url.Values{})
	open.until(t, "the end of the stream at sign-out", func(m message, _ live.Event) bool { return m.Event == "end" })
	if st, _ := b.get("/agent/events"); st == http.StatusOK {
		t.Error("a signed-out browser could open a stream")
	}

	// Shutdown ends open streams instead of waiting for them.
	c := signIn(t, desk, "acme", a.Admin.Email)
	last := c.stream("/agent/events", "")
	desk.Stop()
	last.until(t, "the end of the stream at shutdown", func(m message, _ live.Event) bool { return m.Event == "end" })
}

// TestTwoServersOnePostgres: a change committed through one server process reaches a
// stream connected to another, and so does presence on a ticket.
func TestTwoServersOnePostgres(t *testing.T) {
	t.Parallel()
	if storetest.PostgresURL() == "" {
		t.Skip("TANDEM_TEST_POSTGRES not set")
	}
	opts := storetest.Options(t, store.Postgres)
	open := func() *store.DB {
		db, err := store.Open(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	s1 := testkit.StartDB(t, open())
	s2 := testkit.StartDB(t, open())
	<-s1.Srv.Live.Ready()
	<-s2.Srv.Live.Ready()
	a1 := s1.Account(t, "acme", account.Enterprise)
	setPasswords(t, s1, a1.ID, a1.Admin.UserID)
	tk := testkit.ID(a1.Do(t, a1.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Across", "comment": map[string]any{"body": "start"}}}).Want(t, 201).Obj("ticket"), "id")

	// One sign-in serves both: sessions are in the database, and cookies do not depend
	// on the port.
	b1 := signIn(t, s1, "acme", a1.Admin.Email)
	b2 := *b1
	b2.base = "http://" + s2.Host("acme")
	on2 := b2.stream("/agent/events", "")
	a1.Do(t, a1.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tk), map[string]any{"ticket": map[string]any{"status": "solved", "comment": map[string]any{"body": "done"}}}).Want(t, 200)
	on2.until(t, "the change made through the other server", func(m message, ev live.Event) bool {
		return m.Event == "ticket" && int64(ev.Ticket) == tk && len(ev.Fields) > 0 && ev.Channel == "api"
	})

	// Concurrent changes through both servers commit in another order than their ids
	// were drawn: every one still arrives.
	a2 := &testkit.Acct{Desk: s2, Sub: "acme", ID: a1.ID, Plan: a1.Plan, Admin: a1.Admin}
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acct := a1
			if i%2 == 1 {
				acct = a2
			}
			r, err := acct.Try(acct.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tk), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": fmt.Sprint("burst ", i), "public": false}}})
			if err != nil || r.Status != 200 {
				t.Errorf("burst %d: %v %v", i, r, err)
			}
		}()
	}
	wg.Wait()
	got := map[int64]bool{}
	on2.until(t, "every change of the burst", func(m message, ev live.Event) bool {
		if m.Event == "resync" {
			t.Fatal("the burst caused a resync")
		}
		if m.Event == "ticket" && len(ev.Comments) == 1 {
			got[ev.ID] = true
		}
		return len(got) == n
	})

	// Presence: a tab on server 1 views the ticket; server 2's stream is told.
	b1.get(fmt.Sprintf("/agent/tickets/%d", tk))
	if st, body := b1.post(fmt.Sprintf("/agent/tickets/%d/presence", tk), url.Values{"tab": {"tab-on-server-one"}, "typing": {"internal"}}); st != http.StatusNoContent {
		t.Fatalf("presence: %d %s", st, body)
	}
	on2.until(t, "presence from the other server", func(m message, ev live.Event) bool {
		return m.Event == "presence" && int64(ev.Ticket) == tk && len(ev.Viewers) == 1 && ev.Viewers[0].Typing == "internal"
	})
	b1.post(fmt.Sprintf("/agent/tickets/%d/presence", tk), url.Values{"tab": {"tab-on-server-one"}, "leave": {"1"}})
	on2.until(t, "the tab leaving", func(m message, ev live.Event) bool {
		return m.Event == "presence" && int64(ev.Ticket) == tk && len(ev.Viewers) == 0
	})

	// Signing out through server 1 ends the session's stream on server 2 as soon as
	// the notification arrives, not at its next heartbeat (every 20 s, longer than
	// until waits); another session's stream stays open.
	other := signIn(t, s2, "acme", a1.Admin.Email)
	stays := other.stream("/agent/events", "")
	b1.post("/logout", url.Values{})
	on2.until(t, "the end of the stream on the other server at sign-out", func(m message, _ live.Event) bool { return m.Event == "end" })
	a1.Do(t, a1.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tk), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "after sign-out", "public": false}}}).Want(t, 200)
	stays.until(t, "a change on the other session's stream", func(m message, ev live.Event) bool {
		return m.Event == "ticket" && int64(ev.Ticket) == tk
	})
}

// TestPresenceNotificationsUnread: presence refuses bad input and end users; a mention in
// an internal note notifies that agent (and can be marked read); a ticket someone else
// changed since the agent looked is marked unread in their list; a ticket someone has
// open carries the eye.
func TestPresenceNotificationsUnread(t *testing.T) {
	t.Parallel()
	desk := testkit.Start(t, store.SQLite)
	a := desk.Account(t, "acme", account.Enterprise)
	sam := a.User(t, identity.Agent, "sam@acme.test", "Sam Agent")
	carol := a.User(t, identity.EndUser, "carol@acme.test", "Carol End")
	setPasswords(t, desk, a.ID, sam.UserID, carol.UserID)
	tk := testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
		"subject": "Presence", "requester_id": carol.UserID, "comment": map[string]any{"body": "start"}}}).Want(t, 201).Obj("ticket"), "id")
	b := signIn(t, desk, "acme", sam.Email)
	presence := fmt.Sprintf("/agent/tickets/%d/presence", tk)
	for _, bad := range []url.Values{{"tab": {"x"}}, {"tab": {"tab-1234567"}, "typing": {"shouting"}}, {"tab": {"tab with spaces"}}} {
		if st, _ := b.post(presence, bad); st != http.StatusUnprocessableEntity {
			t.Errorf("presence %v: status %d, want 422", bad, st)
		}
	}
	if st, _ := b.post("/agent/tickets/999999/presence", url.Values{"tab": {"tab-12345678"}}); st != http.StatusNotFound {
		t.Errorf("presence on a missing ticket: status %d, want 404", st)
	}
	if st, _ := signIn(t, desk, "acme", carol.Email).post(presence, url.Values{"tab": {"tab-12345678"}}); st != http.StatusForbidden {
		t.Errorf("an end user's presence: status %d, want 403", st)
	}

	// Sam looks at the ticket; the admin then mentions Sam in an internal note.
	b.get(fmt.Sprintf("/agent/tickets/%d", tk))
	a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tk), map[string]any{"ticket": map[string]any{
		"comment": map[string]any{"body": "@sam can you check the courier?", "public": false}}}).Want(t, 200)
	_, page := b.get("/agent/notifications")
	if !strings.Contains(page, fmt.Sprintf("mentioned you on #%d Presence", tk)) || !strings.Contains(page, "1 unread") {
		t.Errorf("the notifications page does not show the mention:\n%s", page)
	}
	_, list := b.get("/agent/views/unsolved")
	if !strings.Contains(list, fmt.Sprintf(`data-ticket="%d" class="unread"`, tk)) {
		t.Errorf("the ticket the admin changed is not marked unread in Sam's list")
	}
	if st, _ := b.post("/agent/notifications/read", url.Values{}); st != http.StatusSeeOther {
		t.Errorf("mark all read: status %d", st)
	}
	if _, page = b.get("/agent/notifications"); !strings.Contains(page, "All read") {
		t.Errorf("notifications still unread after Mark all read")
	}
	// Sam opens it again: read. Sam's tab is present: the admin's list shows the eye.
	b.get(fmt.Sprintf("/agent/tickets/%d", tk))
	if st, _ := b.post(presence, url.Values{"tab": {"tab-12345678"}}); st != http.StatusNoContent {
		t.Fatalf("presence: status %d", st)
	}
	_, list = b.get("/agent/views/unsolved")
	if strings.Contains(list, fmt.Sprintf(`data-ticket="%d" class="unread"`, tk)) {
		t.Errorf("the ticket is still unread after Sam opened it")
	}
	_, adminList := signIn(t, desk, "acme", a.Admin.Email).get("/agent/views/unsolved")
	if !strings.Contains(adminList, `<span class="eye" title="Someone is viewing this ticket"><span`) {
		t.Errorf("the admin's list has no eye on the ticket Sam has open")
	}
}
