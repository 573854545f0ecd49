package web_test

import (
	"context"
	"fmt"
	"net/http"
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
