package api_test

import (
	"fmt"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/testkit"
)

// Deleting a ticket and making a comment private are changes of the one write path:
// audited where a client reads them (the audits; deleted_tickets for a deleted ticket),
// seen by triggers (a privacy change fires them; a deletion, as in Zendesk, does not),
// and counted.
func TestDeleteAndMakePrivateAreAuditedWrites(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		a := d.Account(t, "acme", account.Enterprise)
		g := d.Account(t, "globex", account.Enterprise)
		agent := a.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
		endUser := a.User(t, identity.EndUser, "eve@example.test", "Eve End")
		a.Do(t, a.Admin, "POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{"title": "Tag every update",
			"conditions": map[string]any{"all": []any{map[string]any{"field": "update_type", "operator": "is", "value": "Change"}}},
			"actions":    []any{map[string]any{"field": "current_tags", "value": "seen_by_trigger"}}}}).Want(t, 201)
		newOne := func(subject string) int64 {
			return testkit.ID(newTicket(t, a, agent, map[string]any{"subject": subject, "comment": map[string]any{"body": "Visible words"}}), "id")
		}
		id := newOne("Oops, said too much")
		cs := a.Do(t, agent, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", id), nil).Want(t, 200).List("comments")
		cid := testkit.ID(cs[0], "id")
		makePrivate := func(tid, cid int64) *testkit.Resp {
			return a.Do(t, agent, "PUT", fmt.Sprintf("/api/v2/tickets/%d/comments/%d/make_private.json", tid, cid), nil)
		}
		makePrivate(id, cid).Want(t, 200)
		audits := a.Do(t, agent, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", id), nil).Want(t, 200).List("audits")
		last := audits[len(audits)-1]
		if testkit.ID(last, "author_id") != agent.UserID || !strings.Contains(fmt.Sprint(last["events"]), fmt.Sprintf("comment_id:%d", cid)) ||
			!strings.Contains(fmt.Sprint(last["events"]), "type:CommentPrivacyChange") {
			t.Fatalf("make-private audit = %v", last)
		}
		tk := a.Do(t, agent, "GET", fmt.Sprintf("/api/v2/tickets/%d.json", id), nil).Want(t, 200).Obj("ticket")
		if tk["is_public"] != false || !strings.Contains(fmt.Sprint(tk["tags"]), "seen_by_trigger") {
			t.Fatalf("after make-private: is_public %v, tags %v (the trigger must see the change)", tk["is_public"], tk["tags"])
		}
		if c := a.Do(t, agent, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", id), nil).List("comments")[0]; c["public"] != false {
			t.Fatalf("comment still public: %v", c)
		}
		// Again: nothing changes, no audit.
		makePrivate(id, cid).Want(t, 200)
		if n := len(a.Do(t, agent, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", id), nil).List("audits")); n != len(audits) {
			t.Fatalf("a no-op make-private wrote an audit: %d audits, was %d", n, len(audits))
		}
		// Another ticket's comment, or none: 404.
		other := newOne("Other")
		makePrivate(other, cid).Want(t, 404)
		makePrivate(id, 99999).Want(t, 404)
		// Another account cannot reach it; an end user may not.
		g.Do(t, g.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d/comments/%d/make_private.json", id, cid), nil).Want(t, 404)
		a.Do(t, endUser, "PUT", fmt.Sprintf("/api/v2/tickets/%d/comments/%d/make_private.json", id, cid), nil).Want(t, 403)

		// Delete: counted, listed with who and what it was, and no trigger fires.
		count := func() int64 {
			return testkit.ID(a.Do(t, a.Admin, "GET", "/api/v2/tickets/count", nil).Want(t, 200).Obj("count"), "value")
		}
		n := count()
		a.Do(t, endUser, "DELETE", fmt.Sprintf("/api/v2/tickets/%d", other), nil).Want(t, 403)
		g.Do(t, g.Admin, "DELETE", fmt.Sprintf("/api/v2/tickets/%d", other), nil).Want(t, 404)
		a.Do(t, agent, "DELETE", fmt.Sprintf("/api/v2/tickets/%d", other), nil).Want(t, 204)
		a.Do(t, agent, "DELETE", fmt.Sprintf("/api/v2/tickets/%d", other), nil).Want(t, 404)
		if got := count(); got != n-1 {
			t.Fatalf("count after delete = %d, want %d", got, n-1)
		}
		var tags string
		if err := d.DB.R().QueryRowContext(t.Context(), `SELECT tags FROM tickets WHERE account_id = ? AND id = ?`, a.ID, other).Scan(&tags); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(tags, "seen_by_trigger") {
			t.Fatalf("a trigger fired on the delete: tags %s", tags)
		}
		deleted := a.Do(t, agent, "GET", "/api/v2/deleted_tickets.json", nil).Want(t, 200).List("deleted_tickets")
		if len(deleted) != 1 || testkit.ID(deleted[0], "id") != other || deleted[0]["previous_state"] != "new" || deleted[0]["subject"] != "Other" ||
			deleted[0]["deleted_at"] == nil || fmt.Sprint(deleted[0]["actor"]) != fmt.Sprintf("map[id:%d name:Agnes Agent]", agent.UserID) {
			t.Fatalf("deleted_tickets = %v", deleted)
		}
		if list := g.Do(t, g.Admin, "GET", "/api/v2/deleted_tickets.json", nil).Want(t, 200).List("deleted_tickets"); len(list) != 0 {
			t.Fatalf("another account sees acme's deleted tickets: %v", list)
		}
		a.Do(t, endUser, "GET", "/api/v2/deleted_tickets.json", nil).Want(t, 403)

		// A closed ticket can still be deleted; destroy_many deletes through the same path.
		closed := newOne("Closed")
		a.Do(t, agent, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", closed), map[string]any{"ticket": map[string]any{"status": "closed"}}).Want(t, 200)
		a.Do(t, agent, "DELETE", fmt.Sprintf("/api/v2/tickets/%d", closed), nil).Want(t, 204)
		b1, b2 := newOne("Bulk one"), newOne("Bulk two")
		job := a.Do(t, a.Admin, "DELETE", fmt.Sprintf("/api/v2/tickets/destroy_many.json?ids=%d,%d", b1, b2), nil).Want(t, 200).Obj("job_status")
		waitJob(t, a, job["id"].(string))
		deleted = a.Do(t, agent, "GET", "/api/v2/deleted_tickets.json", nil).Want(t, 200).List("deleted_tickets")
		if len(deleted) != 4 || testkit.ID(deleted[3]["actor"].(map[string]any), "id") != a.Admin.UserID {
			t.Fatalf("deleted_tickets after destroy_many = %v", deleted)
		}
		if got := count(); got != n-1 { // three more created, three more deleted
			t.Fatalf("count after deletes = %d, want %d", got, n-1)
		}
	})
}
