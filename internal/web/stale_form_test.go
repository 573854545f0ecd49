package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// smallFixture is the part of a fixture these tests need, made cheaply (password
// hashing is most of a fixture's cost under the race detector): an admin (provisioned
// with the test password), the agent Sam, and a ticket of the end user Alice Chen.
func smallFixture(t *testing.T, d store.Dialect) *fixture {
	t.Helper()
	desk := testkit.Start(t, d)
	a := desk.Account(t, "acme", account.Enterprise)
	f := &fixture{desk: desk, acct: a, admin: a.Admin}
	f.agent = a.User(t, identity.Agent, "agent@acme.test", "Sam Agent")
	setPassword(t, desk, a.ID, f.agent.UserID)
	f.ticket = testkit.ID(a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Tent pole snapped",
		"requester": map[string]any{"name": "Alice Chen", "email": "alice@initech.test"}, "comment": map[string]any{"body": "The pole snapped on the first night."}}}).Want(t, 201).Obj("ticket"), "id")
	return f
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// formFields reads the hidden inputs of the form that starts at marker in body.
func formFields(t *testing.T, body, marker string) url.Values {
	t.Helper()
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("no %q on the page: %s", marker, excerpt(body))
	}
	form := body[i:]
	form = form[:strings.Index(form, "</form>")]
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(form, -1) {
		v.Add(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// TestStaleTicketFormConflicts: Sam opened the ticket before Jordan solved it with low
// priority and reassigned it; Sam's stale form (open, high, a new type and a reply)
// saves the reply and the type, keeps Jordan's assignee, and shows Sam the two
// conflicts (status and priority: Sam's value, Jordan's, Jordan's name) instead of
// overwriting them. "Apply mine" then writes Sam's values on purpose. Two sessions,
// through HTTP, on each database.
func TestStaleTicketFormConflicts(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { staleTicketForm(t, smallFixture(t, d)) })
	}
}

func staleTicketForm(t *testing.T, fx *fixture) {
	path := fmt.Sprintf("/agent/tickets/%d", fx.ticket)
	sam, jordan := fx.signedIn(t, fx.agent), fx.signedIn(t, fx.admin)
	samForm := formFields(t, sam.get(path).want(t, http.StatusOK).Body, `id="ticket-form"`)
	if samForm.Get("updated_stamp") == "" || samForm.Get("was_status") != "new" {
		t.Fatalf("the form does not carry its state: %v", samForm)
	}
	// A fresh form writes as before.
	jordanForm := formFields(t, jordan.get(path).want(t, http.StatusOK).Body, `id="ticket-form"`)
	jordanForm.Set("status", "solved")
	jordanForm.Set("priority", "low")
	jordanForm.Set("assignee_id", fmt.Sprint(fx.admin.UserID))
	jordan.post(path, jordanForm).want(t, http.StatusSeeOther)

	// Sam's stale form: status and priority conflict, type does not, assignee
	// unchanged (Sam's form still shows the old one), and a reply.
	samForm.Set("status", "open")
	samForm.Set("priority", "high")
	samForm.Set("type", "question")
	samForm.Set("assignee_id", samForm.Get("was_assignee_id"))
	samForm.Set("comment", "Sam's reply, written before Jordan solved it")
	p := sam.post(path, samForm).want(t, http.StatusConflict)
	jordanName := fmt.Sprint(fx.acct.Do(t, fx.admin, "GET", fmt.Sprintf("/api/v2/users/%d.json", fx.admin.UserID), nil).Want(t, 200).Obj("user")["name"])
	p.has(t, "This ticket changed while you were editing it", "The rest of your update was saved.",
		"<th scope=\"row\">Status</th><td>Open</td><td>Solved <span class=\"muted\">("+html.EscapeString(jordanName)+")</span>",
		"<th scope=\"row\">Priority</th><td>High</td><td>Low", "Apply mine", "Keep theirs")
	p.hasNot(t, "<th scope=\"row\">Type</th>", "<th scope=\"row\">Assignee</th>")

	show := func() map[string]any {
		return fx.acct.Do(t, fx.admin, "GET", fmt.Sprintf("/api/v2/tickets/%d.json", fx.ticket), nil).Want(t, 200).Obj("ticket")
	}
	tk := show()
	if tk["status"] != "solved" || tk["priority"] != "low" || tk["type"] != "question" || fmt.Sprint(tk["assignee_id"]) != fmt.Sprint(fx.admin.UserID) {
		t.Errorf("after the stale submit: status %v priority %v type %v assignee %v; want solved, low, question, Jordan's", tk["status"], tk["priority"], tk["type"], tk["assignee_id"])
	}
	comments := fx.acct.Do(t, fx.admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", fx.ticket), nil).Want(t, 200).Body
	if !strings.Contains(string(comments), "Sam's reply") {
		t.Errorf("the stale form's reply was lost: %s", comments)
	}

	// Apply mine: Sam's values, on purpose; the reply is not added twice.
	sam.post(path, formFields(t, p.Body, `class="conflict-actions"`)).want(t, http.StatusSeeOther)
	if tk := show(); tk["status"] != "open" || tk["priority"] != "high" || fmt.Sprint(tk["assignee_id"]) != fmt.Sprint(fx.admin.UserID) {
		t.Errorf("after apply mine: status %v priority %v assignee %v; want open, high, Jordan's", tk["status"], tk["priority"], tk["assignee_id"])
	}
	n := 0
	for _, c := range fx.acct.Do(t, fx.admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", fx.ticket), nil).Want(t, 200).List("comments") {
		if strings.Contains(fmt.Sprint(c["body"]), "Sam's reply") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the reply is on the ticket %d times, want once", n)
	}
}
