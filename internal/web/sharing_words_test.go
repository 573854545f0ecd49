package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tandem/internal/demo"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// TestSharedTicketTimelineNamesTheSender: on the partner's copy of a shared ticket the
// timeline names the desk that shared it, never "X shared this ticket with X".
func TestSharedTicketTimelineNamesTheSender(t *testing.T) {
	t.Parallel()
	desk, info := seededDemo(t)
	g := newClient(t, desk, "globex")
	g.signIn("admin@globex.test", demo.Password)
	received := g.get("/agent/views/received").want(t, http.StatusOK)
	id := regexpFind(t, received.Body, `/agent/tickets/(\d+)`)
	p := g.get("/agent/tickets/"+id).want(t, http.StatusOK)
	p.has(t, "Acme Outfitters shared this ticket with you").hasNot(t, "shared this ticket with Acme Outfitters")
	// The sender's side names the receiver.
	a := newClient(t, desk, "acme")
	a.signIn("admin@acme.test", demo.Password)
	ap := a.get("/agent/tickets/"+fmt.Sprint(info.Sharing.WarrantyTicket)).want(t, http.StatusOK)
	if !strings.Contains(ap.Body, "shared this ticket with Globex Manufacturing") {
		t.Errorf("sender's timeline does not name the receiver: %s", excerpt(ap.Body))
	}
}

// TestLabelsAreInWords: no internal name or channel number shows through: the partner's
// copy says where it came from, the sender's ticket how it was made, and the trigger
// list names channels and partners.
func TestLabelsAreInWords(t *testing.T) {
	t.Parallel()
	desk, info := seededDemo(t)
	g := newClient(t, desk, "globex")
	g.signIn("admin@globex.test", demo.Password)
	id := regexpFind(t, g.get("/agent/views/received").want(t, http.StatusOK).Body, `/agent/tickets/(\d+)`)
	g.get("/agent/tickets/"+id).want(t, http.StatusOK).has(t, "from Acme Outfitters (ticket sharing)").hasNot(t, "ticket_sharing")

	a := newClient(t, desk, "acme")
	a.signIn("admin@acme.test", demo.Password)
	a.get("/agent/tickets/"+fmt.Sprint(info.Sharing.WarrantyTicket)).want(t, http.StatusOK).hasNot(t, "ticket_sharing", "via web<", "via api<")
	rules := a.get("/admin/rules").want(t, http.StatusOK)
	rules.has(t, "Channel of the update is not ticket sharing").hasNot(t, "Update via", "is not 31")
	// A trigger on a channel and a partner reads back by their names.
	a.get("/admin/triggers/new")
	a.post("/admin/triggers", url.Values{"title": {"From Globex by email"}, "active": {"on"}, "all_field": {"via_id", "sent_to"}, "all_op": {"is", "is"},
		"all_value": {"4", fmt.Sprint(info.Sharing.AgreementID)}, "act_field": {"priority"}, "act_op": {""}, "act_value": {"high"}}).want(t, http.StatusSeeOther)
	a.get("/admin/rules").has(t, "Channel is email", "Sent to (sharing agreement) is Globex Manufacturing").hasNot(t, "Channel is 4")
}

// TestDeliveryHealthTellsTheTruth: the sharing page shows "All delivered" only when
// nothing waits or failed, an old error of a finished row is not shown as the current
// state, and an unreachable partner reads in words with when the next try is.
func TestDeliveryHealthTellsTheTruth(t *testing.T) {
	t.Parallel()
	desk, info := seededDemo(t)
	a := newClient(t, desk, "acme")
	a.signIn("admin@acme.test", demo.Password)
	testkit.Eventually(t, 10*time.Second, "the demo's deliveries are done", func() bool {
		return strings.Contains(a.get("/admin/sharing").Body, "All delivered")
	})
	acct, err := desk.Srv.Accounts.BySubdomain(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	row := func(status string, attempts int, next time.Time, lastErr string) {
		t.Helper()
		err := desk.DB.Write(context.Background(), func(tx *store.Tx) error {
			_, err := tx.ExecContext(context.Background(), `INSERT INTO sharing_outbox (account_id, agreement_id, kind, method, url, body, status, attempts, next_attempt_at, last_error, created_at)
				VALUES (?, ?, 'ticket', 'POST', 'http://127.0.0.1:1/sharing', '{}', ?, ?, ?, ?, ?)`,
				acct.ID, info.Sharing.AgreementID, status, attempts, store.Micros(next), lastErr, store.Micros(store.Now()))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	raw := `the partner did not answer: Post "http://127.0.0.1:1/sharing": dial tcp 127.0.0.1:1: connect: connection refused`
	// A cancelled row's error is history: still all delivered, no error shown.
	row("cancelled", 3, store.Now(), raw)
	a.get("/admin/sharing").want(t, http.StatusOK).has(t, "All delivered").hasNot(t, "connection refused", "did not answer")
	// A row waiting after a failed try: no "All delivered", the error in words.
	row("pending", 1, store.Now().Add(2*time.Minute+10*time.Second), raw)
	p := a.get("/admin/sharing").want(t, http.StatusOK)
	p.has(t, "1 waiting", "Globex Manufacturing&#39;s server did not answer; we will retry in 2 minutes.").hasNot(t, "All delivered", "Last error:")
}
