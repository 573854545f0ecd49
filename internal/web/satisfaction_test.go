package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/satisfaction"
	"tandem/internal/server"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// movedClock is the time automations read; the test moves it.
type movedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movedClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *movedClock) add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

var rateLinkRE = regexp.MustCompile(`/hc/rate/\d+\?expires=\d+&sig=[0-9a-f]+`)

// TestSatisfactionRatingByLink: a day after a ticket is solved the default automation
// offers a rating (audited, mailed with a signed link); the requester rates it from the
// link without signing in; the rating is written through the write path (a trigger on
// "satisfaction is bad" fires), shows on the ticket page and in a view column. Forged,
// expired and other accounts' links show nothing.
func TestSatisfactionRatingByLink(t *testing.T) {
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			clock := &movedClock{now: time.Now().UTC().Truncate(time.Hour).Add(time.Hour + time.Minute)}
			desk := testkit.Start(t, dia, func(c *server.Config) { c.AutomationClock = clock })
			a := desk.Account(t, "acme", account.Team)
			other := desk.Account(t, "globex", account.Team)
			agent := a.User(t, identity.Agent, "agent@acme.test", "Sam Agent")
			val := a.User(t, identity.EndUser, "val@example.test", "Val Requester")
			a.Do(t, a.Admin, "POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{
				"title":      "Escalate bad ratings",
				"conditions": map[string]any{"all": []map[string]any{{"field": "satisfaction_score", "operator": "is", "value": "bad"}}},
				"actions":    []map[string]any{{"field": "current_tags", "value": "bad_rating"}, {"field": "priority", "value": "high"}},
			}}).Want(t, http.StatusCreated)
			tk := a.Do(t, agent, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Tent pole", "requester_id": val.UserID,
				"comment": map[string]any{"body": "It snapped."}}}).Want(t, http.StatusCreated).Obj("ticket")
			id := testkit.ID(tk, "id")
			a.Do(t, agent, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"status": "solved",
				"comment": map[string]any{"body": "A new pole is on its way."}}}).Want(t, http.StatusOK)

			clock.add(25 * time.Hour)
			if _, st, err := desk.Srv.Automations.Tick(t.Context()); err != nil || st.Fired != 1 {
				t.Fatalf("pass: fired %d, %v; want the rating request", st.Fired, err)
			}
			got := a.Do(t, agent, "GET", fmt.Sprintf("/api/v2/tickets/%d.json", id), nil).Want(t, http.StatusOK).Obj("ticket")
			if sr := got["satisfaction_rating"].(map[string]any); sr["score"] != "offered" {
				t.Fatalf("after the request: satisfaction_rating = %v", sr)
			}
			audits := a.Do(t, agent, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", id), nil).Want(t, http.StatusOK).List("audits")
			events := fmt.Sprint(audits[len(audits)-1]["events"])
			link := rateLinkRE.FindString(events)
			if !strings.Contains(events, "SatisfactionRating") || link == "" {
				t.Fatalf("the request's audit has no offer or no link: %s", events)
			}
			var mails int
			if err := desk.DB.R().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM mail_outbox WHERE account_id = ? AND ticket_id = ? AND text_body LIKE ?`,
				a.ID, id, "%/hc/rate/%").Scan(&mails); err != nil || mails != 1 {
				t.Fatalf("rating mails queued = %d (%v), want 1", mails, err)
			}

			// Forged, altered and expired links, and the link on another account: 404.
			anon := newClient(t, desk, "acme")
			anon.get(strings.Replace(link, "sig=", "sig=0", 1)).want(t, http.StatusNotFound).hasNot(t, "Tent pole")
			anon.get(regexp.MustCompile(`expires=\d+`).ReplaceAllString(link, "expires=9999999999")).want(t, http.StatusNotFound)
			anon.get(fmt.Sprintf("/hc/rate/%d", id)).want(t, http.StatusNotFound)
			tkt, err := ticket.Get(t.Context(), desk.DB.R(), ids.Account(a.ID), ids.Ticket(id))
			if err != nil {
				t.Fatal(err)
			}
			old, err := satisfaction.LinkPath(t.Context(), desk.DB.R(), ids.Account(a.ID), tkt, time.Now().Add(-satisfaction.LinkValidity-time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			anon.get(old).want(t, http.StatusNotFound).hasNot(t, "Tent pole")
			newClient(t, desk, "globex").get(link).want(t, http.StatusNotFound).hasNot(t, "Tent pole")
			_ = other

			// Opening the link changes nothing; one click rates, without signing in.
			anon.get(link).want(t, http.StatusOK).has(t, "How did we do?", "Tent pole")
			if sc := a.Do(t, agent, "GET", fmt.Sprintf("/api/v2/tickets/%d.json", id), nil).Obj("ticket")["satisfaction_rating"].(map[string]any)["score"]; sc != "offered" {
				t.Fatalf("opening the link rated the ticket: %v", sc)
			}
			anon.post(link, url.Values{"score": {"meh"}}).want(t, http.StatusUnprocessableEntity)
			anon.post(link, url.Values{"score": {"bad"}, "reason_code": {"42"}}).want(t, http.StatusUnprocessableEntity)
			anon.post(link, url.Values{"score": {"bad"}, "comment": {"Took a week."}, "reason_code": {"5"}}).want(t, http.StatusSeeOther)
			got = a.Do(t, agent, "GET", fmt.Sprintf("/api/v2/tickets/%d.json", id), nil).Obj("ticket")
			if got["satisfaction_rating"].(map[string]any)["score"] != "bad" || got["priority"] != "high" || !strings.Contains(fmt.Sprint(got["tags"]), "bad_rating") {
				t.Fatalf("after the bad rating: %v %v %v (the trigger on bad ratings must fire)", got["satisfaction_rating"], got["priority"], got["tags"])
			}
			audits = a.Do(t, agent, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", id), nil).Want(t, http.StatusOK).List("audits")
			if last := audits[len(audits)-1]; testkit.ID(last, "author_id") != val.UserID || !strings.Contains(fmt.Sprint(last["events"]), "score:bad") {
				t.Fatalf("rating audit = %v", last)
			}
			rs := a.Do(t, agent, "GET", "/api/v2/satisfaction_ratings.json?score=bad", nil).Want(t, http.StatusOK).List("satisfaction_ratings")
			if len(rs) != 1 || rs[0]["comment"] != "Took a week." || testkit.ID(rs[0], "reason_code") != 5 || rs[0]["reason"] != "The issue took too long to resolve" {
				t.Fatalf("ratings = %v", rs)
			}

			// The ticket page shows the rating to agents; a view column shows the score.
			setPassword(t, desk, ids.Account(a.ID), agent.UserID)
			ac := newClient(t, desk, "acme")
			ac.signIn(agent.Email, password)
			ac.get(fmt.Sprintf("/agent/tickets/%d", id)).want(t, http.StatusOK).has(t, "Satisfaction", "Took a week.", "Reason: The issue took too long to resolve")
			rows := a.Do(t, agent, "POST", "/api/v2/views/preview.json", map[string]any{"view": map[string]any{
				"all":    []map[string]any{{"field": "status", "operator": "is", "value": "solved"}, {"field": "satisfaction_score", "operator": "is", "value": "bad"}},
				"output": map[string]any{"columns": []string{"nice_id", "satisfaction_score"}},
			}}).Want(t, http.StatusOK).List("rows")
			if len(rows) != 1 || rows[0]["satisfaction_score"] != "bad" {
				t.Fatalf("view of bad ratings = %v", rows)
			}
		})
	}
}
