package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestMacroEditors: admins make, preview, arrange, deactivate and delete shared macros
// in the admin center; agents cannot, and manage only their personal macros, which
// no one else sees (not another agent, not the admin's shared list, not another
// account); an agent saves a reply as a personal macro from the ticket page.
func TestMacroEditors(t *testing.T) {
	t.Parallel()
	fx := smallFixture(t, storetest.Dialects()[0])
	a := fx.acct
	admin, agent := fx.signedIn(t, fx.admin), fx.signedIn(t, fx.agent)
	kim := a.User(t, identity.Agent, "kim@acme.test", "Kim Agent")
	setPassword(t, fx.desk, a.ID, kim.UserID)
	other := fx.signedIn(t, kim)
	apiMacro := func(cred testkit.Cred, id int64) *testkit.Resp {
		r, err := a.Try(cred, "GET", fmt.Sprintf("/api/v2/macros/%d.json", id), nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	macroID := func(p page) int64 {
		t.Helper()
		var id int64
		fmt.Sscan(regexpFind(t, p.Body, `href="/(?:admin|agent)/macros/(\d+)"`), &id)
		return id
	}
	form := func(title string, rows ...string) url.Values {
		v := url.Values{"title": {title}, "active": {"on"}}
		for i := 0; i+1 < len(rows); i += 2 {
			v.Add("act_field", rows[i])
			v.Add("act_value", rows[i+1])
		}
		return v
	}

	// Shared macros: the admin center.
	admin.get("/admin/macros/new").want(t, http.StatusOK).has(t, "Set status", "Add comment", "Preview")
	photo := form("Ask for a photo", "comment_value", "Hi {{ticket.requester.first_name}}, could you send a photo?", "status", "pending", "current_tags", "photo")
	// The preview applies the unsaved macro to a ticket and saves nothing.
	pv := url.Values{}
	for k, v := range photo {
		pv[k] = v
	}
	pv.Set("preview", "1")
	pv.Set("sample", fmt.Sprint(fx.ticket))
	admin.post("/admin/macros", pv).want(t, http.StatusOK).has(t, "this macro would", "<th scope=\"row\">Status</th><td>New</td><td>Pending</td>",
		"<th scope=\"row\">Tags</th>", "Hi Alice, could you send a photo?", "Nothing was saved")
	if n := len(a.Do(t, fx.admin, "GET", "/api/v2/macros.json", nil).Want(t, 200).List("macros")); n != 0 {
		t.Fatalf("the preview saved %d macros", n)
	}
	pv.Set("sample", "999999")
	admin.post("/admin/macros", pv).want(t, http.StatusUnprocessableEntity).has(t, "there is no ticket #999999")
	admin.post("/admin/macros", photo).want(t, http.StatusSeeOther)
	admin.post("/admin/macros", form("Broken", "status", "sideways")).want(t, http.StatusUnprocessableEntity)
	list := admin.get("/admin/macros").want(t, http.StatusOK).has(t, "Ask for a photo", "Set status: pending")
	shared := macroID(list)
	// Edit: a new title, a position, inactive.
	edit := form("Ask for a photo, please", "comment_value", "Could you send a photo?")
	edit.Del("active")
	edit.Set("position", "7")
	admin.post(fmt.Sprintf("/admin/macros/%d", shared), edit).want(t, http.StatusSeeOther)
	m := apiMacro(fx.admin, shared).Want(t, 200).Obj("macro")
	if m["title"] != "Ask for a photo, please" || m["active"] != false || testkit.ID(m, "position") != 7 || m["restriction"] != nil {
		t.Errorf("after the edit: %v", m)
	}

	// Agents do not manage shared macros.
	agent.get("/admin/macros").want(t, http.StatusForbidden)
	agent.post("/admin/macros", form("Sneaky", "status", "solved")).want(t, http.StatusForbidden)
	agent.post(fmt.Sprintf("/admin/macros/%d/delete", shared), nil).want(t, http.StatusForbidden)
	agent.post(fmt.Sprintf("/agent/macros/%d", shared), form("Mine now", "status", "solved")).want(t, http.StatusNotFound)
	agent.post(fmt.Sprintf("/agent/macros/%d/delete", shared), nil).want(t, http.StatusNotFound)

	// Personal macros: the agent's own, seen by nobody else.
	agent.get("/agent/macros").want(t, http.StatusOK).hasNot(t, "Ask for a photo")
	agent.post("/agent/macros", form("My sign-off", "comment_value", "Cheers, Sam")).want(t, http.StatusSeeOther)
	mine := macroID(agent.get("/agent/macros").want(t, http.StatusOK).has(t, "My sign-off"))
	if r := apiMacro(fx.agent, mine).Want(t, 200).Obj("macro")["restriction"].(map[string]any); r["type"] != "User" || testkit.ID(r, "id") != fx.agent.UserID {
		t.Errorf("personal macro restriction = %v, want the agent", r)
	}
	apiMacro(kim, mine).Want(t, http.StatusNotFound)
	other.get(fmt.Sprintf("/agent/macros/%d", mine)).want(t, http.StatusNotFound)
	other.post(fmt.Sprintf("/agent/macros/%d/delete", mine), nil).want(t, http.StatusNotFound)
	other.get(fmt.Sprintf("/agent/tickets/%d", fx.ticket)).want(t, http.StatusOK).hasNot(t, "My sign-off")
	agent.get(fmt.Sprintf("/agent/tickets/%d", fx.ticket)).want(t, http.StatusOK).has(t, "My sign-off")
	admin.get("/admin/macros").hasNot(t, "My sign-off")
	admin.get(fmt.Sprintf("/admin/macros/%d", mine)).want(t, http.StatusNotFound)

	// Save a reply as a personal macro from the ticket page.
	agent.post("/agent/macros/from-reply", url.Values{"ticket_id": {fmt.Sprint(fx.ticket)}, "comment": {"We have shipped a new pole today."},
		"visibility": {"internal"}, "macro_title": {"New pole shipped"}}).want(t, http.StatusSeeOther)
	saved := agent.get("/agent/macros").has(t, "New pole shipped", "Comment is public (true or false): false")
	agent.post("/agent/macros/from-reply", url.Values{"ticket_id": {fmt.Sprint(fx.ticket)}, "comment": {"  "}}).want(t, http.StatusSeeOther)
	if strings.Count(agent.get("/agent/macros").Body, `href="/agent/macros/`) != strings.Count(saved.Body, `href="/agent/macros/`) {
		t.Error("an empty reply was saved as a macro")
	}
	agent.post(fmt.Sprintf("/agent/macros/%d/delete", mine), nil).want(t, http.StatusSeeOther)
	apiMacro(fx.agent, mine).Want(t, http.StatusNotFound)

	// Another account sees none of it.
	globex := fx.desk.Account(t, "globex", account.Enterprise)
	g := newClient(t, fx.desk, "globex")
	g.signIn(globex.Admin.Email, password)
	g.get(fmt.Sprintf("/admin/macros/%d", shared)).want(t, http.StatusNotFound)
	g.post(fmt.Sprintf("/admin/macros/%d/delete", shared), nil).want(t, http.StatusNotFound)
	g.get("/admin/macros").hasNot(t, "Ask for a photo")

	admin.post(fmt.Sprintf("/admin/macros/%d/delete", shared), nil).want(t, http.StatusSeeOther)
	apiMacro(fx.admin, shared).Want(t, http.StatusNotFound)
}
