package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestTicketSLAPanel: the ticket page shows each SLA target with the time left, green
// with time to spare, amber under an hour, red once breached.
func TestTicketSLAPanel(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.Dialects()[0])
	a := f.acct
	metric := func(m string, minutes int) map[string]any {
		return map[string]any{"priority": "urgent", "metric": m, "target": minutes, "business_hours": false}
	}
	a.Do(t, a.Admin, "POST", "/api/v2/slas/policies.json", map[string]any{"sla_policy": map[string]any{"title": "Urgent",
		"policy_metrics": []map[string]any{metric("first_reply_time", 600), metric("agent_work_time", 30), metric("requester_wait_time", 900)}}}).Want(t, http.StatusCreated)
	tk := a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Urgent", "priority": "urgent",
		"requester_id": f.alice.UserID, "comment": map[string]any{"body": "help"}}}).Want(t, http.StatusCreated).Obj("ticket")
	id := tk["id"]
	// The requester's wait ran out ten minutes ago.
	err := f.desk.DB.Write(t.Context(), func(tx *store.Tx) error {
		_, err := tx.ExecContext(t.Context(), `UPDATE sla_targets SET breach_at = ? WHERE account_id = ? AND metric = 'requester_wait_time'`, store.Micros(time.Now().Add(-10*time.Minute)), a.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	p := f.signedIn(t, f.agent).get(fmt.Sprintf("/agent/tickets/%v", id)).want(t, http.StatusOK)
	p.has(t, "Service levels", `class="sla sla-ok"><span class="sla-metric">First reply</span>`, "9 h 59 min left",
		`class="sla sla-amber"><span class="sla-metric">Agent work</span>`, `class="sla sla-red"><span class="sla-metric">Requester wait</span>`, "breached 10 min ago", "data-breach-at=")
	// A ticket without targets has no panel.
	f.signedIn(t, f.agent).get(fmt.Sprintf("/agent/tickets/%d", f.ticket)).want(t, http.StatusOK).hasNot(t, "Service levels")
}
