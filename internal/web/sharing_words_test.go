package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tandem/internal/demo"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// TestSharedTicketTimelineNamesTheSender: on the partner's copy of a shared ticket the
// timeline names the desk that shared it, never "X shared this ticket with X".
func TestSharedTicketTimelineNamesTheSender(t *testing.T) {
	desk := testkit.Start(t, store.SQLite)
	info, err := demo.Seed(context.Background(), desk.Srv, desk.Addr)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
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
	desk := testkit.Start(t, store.SQLite)
	info, err := demo.Seed(context.Background(), desk.Srv, desk.Addr)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
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
