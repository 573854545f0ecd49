package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// testClock is a clock the test moves; every desk of a test reads the same one.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// moveTo sets the clock to at, which must not be before its time now.
func (c *testClock) moveTo(t *testing.T, at time.Time) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if at.Before(c.now) {
		t.Fatalf("the test clock would go back from %s to %s", c.now, at)
	}
	c.now = at
}

// newClock starts at the next whole hour plus a minute, so that moves of less than
// 59 minutes stay in one automation period.
func newClock() *testClock {
	return &testClock{now: time.Now().UTC().Truncate(time.Hour).Add(time.Hour + time.Minute)}
}

func withClock(c *testClock) testkit.Option {
	return func(cfg *server.Config) { cfg.AutomationClock = c }
}

// automationAudits counts the ticket's audits made by automations.
func automationAudits(t *testing.T, a *testkit.Acct, id int64) int {
	t.Helper()
	n := 0
	for _, au := range a.Do(t, a.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", id), nil).Want(t, http.StatusOK).List("audits") {
		via, _ := au["via"].(map[string]any)
		src, _ := via["source"].(map[string]any)
		if via["channel"] == "rule" && src["rel"] == "automation" {
			n++
		}
	}
	return n
}

func tick(t *testing.T, d *testkit.Desk) (bool, int) {
	t.Helper()
	ran, st, err := d.Srv.Automations.Tick(t.Context())
	if err != nil {
		t.Fatalf("tick: %v", err)
	}
	return ran, st.Fired
}

// TestDefaultAutomations: a new account's automations remind the requester of a ticket
// pending for a day (once) and close a ticket solved for 4 days, through the write path
// (audited as the automation's, seen by the ticket API and views), one pass per period.
func TestDefaultAutomations(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := newClock()
		d := testkit.StartDB(t, db, withClock(clock))
		a := d.Account(t, "acme", account.Team)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes")
		mk := func(status string) int64 {
			r := a.Do(t, ag, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": status, "status": status, "comment": map[string]any{"body": "x"},
				"requester": map[string]any{"name": "Val", "email": "val@example.test"}}}).Want(t, http.StatusCreated)
			return testkit.ID(r.Obj("ticket"), "id")
		}
		solved, pending, open := mk("solved"), mk("pending"), mk("open")

		if ran, fired := tick(t, d); !ran || fired != 0 {
			t.Fatalf("first pass: ran %v fired %d, want a pass firing nothing", ran, fired)
		}
		clock.Add(25 * time.Hour)
		if ran, fired := tick(t, d); !ran || fired != 2 {
			t.Fatalf("pass after 25 h: ran %v fired %d, want the pending reminder and the rating request", ran, fired)
		}
		if ran, _ := tick(t, d); ran {
			t.Fatal("a second pass ran in the same period")
		}
		tk := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d", pending), nil).Want(t, http.StatusOK).Obj("ticket")
		if fmt.Sprint(tk["tags"]) != "[pending_reminder_sent]" {
			t.Fatalf("pending ticket tags = %v", tk["tags"])
		}
		audits := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", pending), nil).Want(t, http.StatusOK).List("audits")
		last := audits[len(audits)-1]
		events := fmt.Sprint(last["events"])
		if testkit.ID(last, "author_id") != -1 || !strings.Contains(events, "Notification") || !strings.Contains(events, "Pending notification 24 hours") {
			t.Fatalf("reminder audit = %v", last)
		}
		clock.Add(time.Hour)
		if _, fired := tick(t, d); fired != 0 {
			t.Fatalf("the reminder fired again (%d)", fired)
		}
		clock.Add(72 * time.Hour) // 98 h after solving
		if _, fired := tick(t, d); fired != 1 {
			t.Fatalf("pass after 98 h fired %d, want the solved ticket closed", fired)
		}
		if st := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d", solved), nil).Want(t, http.StatusOK).Obj("ticket")["status"]; st != "closed" {
			t.Fatalf("solved ticket is %v after 98 h", st)
		}
		if st := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d", open), nil).Want(t, http.StatusOK).Obj("ticket")["status"]; st != "open" {
			t.Fatalf("open ticket is %v", st)
		}
		if n := automationAudits(t, a, solved); n != 2 { // the rating request, then the close
			t.Fatalf("solved ticket has %d automation audits", n)
		}
		// Views see the automations' times: pending for more than 24 hours.
		// Views select by the same time fields (at the wall clock's now).
		rows := a.Do(t, ag, "POST", "/api/v2/views/preview.json", map[string]any{"view": map[string]any{
			"all": []map[string]any{{"field": "status", "operator": "less_than", "value": "closed"}, {"field": "PENDING", "operator": "less_than", "value": "1"}},
		}}).Want(t, http.StatusOK).List("rows")
		if len(rows) != 1 {
			t.Fatalf("view of tickets pending for less than an hour has %d rows, want 1", len(rows))
		}
	})
}

// TestAutomationRefiresOnlyAfterAChange: an automation fires once on a ticket; it fires
// again only after the ticket changed and its conditions hold again.
func TestAutomationRefiresOnlyAfterAChange(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := newClock()
		d := testkit.StartDB(t, db, withClock(clock))
		a := d.Account(t, "acme", account.Team)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes")
		a.Do(t, a.Admin, "POST", "/api/v2/automations.json", map[string]any{"automation": map[string]any{
			"title": "Escalate open tickets after 2 hours",
			"all": []map[string]any{{"field": "status", "operator": "is", "value": "open"}, {"field": "OPEN", "operator": "greater_than", "value": "2"},
				{"field": "priority", "operator": "is_not", "value": "urgent"}},
			"actions": []map[string]any{{"field": "priority", "value": "urgent"}},
		}}).Want(t, http.StatusCreated)
		r := a.Do(t, ag, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "s", "status": "open", "comment": map[string]any{"body": "x"}}}).Want(t, http.StatusCreated)
		id := testkit.ID(r.Obj("ticket"), "id")
		clock.Add(3 * time.Hour)
		if _, fired := tick(t, d); fired != 1 {
			t.Fatalf("fired %d, want 1", fired)
		}
		clock.Add(time.Hour)
		if _, fired := tick(t, d); fired != 0 {
			t.Fatalf("fired again without a change (%d)", fired)
		}
		a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/tickets/%d", id), map[string]any{"ticket": map[string]any{"priority": "low"}}).Want(t, http.StatusOK)
		clock.Add(time.Hour)
		if _, fired := tick(t, d); fired != 1 {
			t.Fatalf("after the agent lowered the priority: fired %d, want 1", fired)
		}
		if n := automationAudits(t, a, id); n != 2 {
			t.Fatalf("%d automation audits, want 2", n)
		}
	})
}

// TestAutomationsTwoProcesses: two servers on one PostgreSQL run one pass per period in
// total, and a pass cut short by a crash is finished by the other without firing twice.
func TestAutomationsTwoProcesses(t *testing.T) {
	t.Parallel()
	if storetest.PostgresURL() == "" {
		t.Skip(storetest.PostgresSkipped)
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
	clock := newClock()
	one := testkit.StartDB(t, open(), withClock(clock))
	two := testkit.StartDB(t, open(), withClock(clock))
	// The first process "crashes" on its fifth fire: the hook fails that ticket's
	// transaction and the pass stops, leaving its claim unfinished. (Registered before the
	// process writes any ticket; tickets are made through the second one.)
	var fires atomic.Int32
	one.Srv.Tickets.After(func(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
		if ch.Via.Source["rel"] == "automation" && fires.Add(1) == 5 {
			return errors.New("crash")
		}
		return nil
	})
	a := two.Account(t, "acme", account.Team)
	ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes")
	const n = 12
	var tickets []int64
	for i := range n {
		r := a.Do(t, ag, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": fmt.Sprint(i), "status": "solved", "comment": map[string]any{"body": "x"}}}).Want(t, http.StatusCreated)
		tickets = append(tickets, testkit.ID(r.Obj("ticket"), "id"))
	}
	clock.Add(97 * time.Hour)
	if _, _, err := one.Srv.Automations.Tick(t.Context()); err == nil {
		t.Fatal("the crashing pass reported no error")
	}
	if ran, _ := tick(t, two); ran {
		t.Fatal("the second process ran the pass while the first one's lease held")
	}
	clock.Add(16 * time.Minute) // past the lease (a quarter of the hour), same period
	ran, fired := tick(t, two)
	if !ran || fired != n-4 {
		t.Fatalf("takeover: ran %v fired %d, want the %d tickets left", ran, fired, n-4)
	}
	for _, id := range tickets {
		if got := automationAudits(t, a, id); got != 1 {
			t.Fatalf("ticket %d has %d automation audits, want 1", id, got)
		}
	}
	// Next period: both try at once; one runs.
	clock.Add(time.Hour)
	var wg sync.WaitGroup
	var runs atomic.Int32
	for _, d := range []*testkit.Desk{one, two} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ran, _, err := d.Srv.Automations.Tick(context.Background()); err == nil && ran {
				runs.Add(1)
			}
		}()
	}
	wg.Wait()
	if runs.Load() != 1 {
		t.Fatalf("%d passes ran in one period, want 1", runs.Load())
	}
}

// TestAutomationAfterSLABreach: "hours since the last SLA breach" selects a ticket
// once its target has run out for that long, and fires once.
func TestAutomationAfterSLABreach(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := newClock()
		d := testkit.StartDB(t, db, withClock(clock))
		a := d.Account(t, "acme", account.Team)
		ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes")
		a.Do(t, a.Admin, "POST", "/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{"title": "Urgent",
			"filter":         map[string]any{"all": []map[string]any{{"field": "priority", "operator": "is", "value": "urgent"}}},
			"policy_metrics": []map[string]any{{"priority": "urgent", "metric": "first_reply_time", "target": 60, "business_hours": false}}}}).Want(t, http.StatusCreated)
		a.Do(t, a.Admin, "POST", "/api/v2/automations.json", map[string]any{"automation": map[string]any{
			"title":   "Escalate two hours after a breach",
			"all":     []map[string]any{{"field": "sla_last_breach_at", "operator": "greater_than", "value": "2"}, {"field": "current_tags", "operator": "not_includes", "value": "escalated"}},
			"actions": []map[string]any{{"field": "current_tags", "value": "escalated"}},
		}}).Want(t, http.StatusCreated)
		mk := func(prio string) int64 {
			r := a.Do(t, ag, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": prio, "priority": prio, "comment": map[string]any{"body": "x"}}}).Want(t, http.StatusCreated)
			return testkit.ID(r.Obj("ticket"), "id")
		}
		// Tickets are made at the real time, so their targets run out an hour after it;
		// the checks are placed from there (not from the clock's start, which sits
		// between 1 and 61 minutes after the real time).
		made := time.Now()
		urgent, low := mk("urgent"), mk("low")
		breach := made.Add(time.Hour)
		clock.moveTo(t, breach.Add(90*time.Minute)) // breached an hour and a half ago
		if _, fired := tick(t, d); fired != 0 {
			t.Fatalf("an hour and a half after the breach: fired %d", fired)
		}
		clock.moveTo(t, breach.Add(3*time.Hour+30*time.Minute)) // breached three and a half hours ago
		if _, fired := tick(t, d); fired != 1 {
			t.Fatalf("three and a half hours after the breach: fired %d, want 1", fired)
		}
		for id, want := range map[int64]string{urgent: "[escalated]", low: "[]"} {
			if tags := fmt.Sprint(a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/tickets/%d", id), nil).Want(t, http.StatusOK).Obj("ticket")["tags"]); tags != want {
				t.Fatalf("ticket %d tags = %s, want %s", id, tags, want)
			}
		}
		clock.Add(time.Hour)
		if _, fired := tick(t, d); fired != 0 {
			t.Fatalf("fired again (%d)", fired)
		}
	})
}
