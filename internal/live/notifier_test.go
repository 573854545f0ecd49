package live

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestEventsReachOtherHubsWithoutNotification: on PostgreSQL notifications are sent
// after the commit, outside it, so a process can die between the two. Hub A records
// events but never notifies (it "died"); hub B, on the same database, still dispatches
// them to its stream, once each, found by its recheck; and an event notified as usual
// afterwards is not sent twice.
func TestEventsReachOtherHubsWithoutNotification(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.Postgres) // skips, saying why, without PostgreSQL
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := New(db, log, Config{})
	a.notes.off = true
	b := New(db, log, Config{Recheck: 20 * time.Millisecond})
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case <-b.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("hub B never listened")
	}
	const acct = 9
	sub := b.Subscribe(Viewer{Account: acct})
	defer sub.Close()
	record := func(h *Hub, tk ids.Ticket) int64 {
		ev := &Event{Account: acct, Ticket: tk, Kind: KindTicket, At: store.Now()}
		if err := db.Write(ctx, func(tx *store.Tx) error { return h.record(ctx, tx, ev) }); err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	next := func() int64 {
		select {
		case ev := <-sub.Events():
			return ev.ID
		case <-time.After(30 * time.Second):
			t.Fatal("no event reached hub B's stream")
			return 0
		}
	}
	want := []int64{record(a, 1), record(a, 2)}
	got := []int64{next(), next()}
	if got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("hub B's stream got %v; want %v (recorded by hub A, never notified)", got, want)
	}
	c := record(b, 3) // notified as usual
	if id := next(); id != c {
		t.Fatalf("then got %d; want %d", id, c)
	}
	// Several rechecks later, nothing came twice.
	for range 3 {
		if err := b.recheck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(sub.Events()); n != 0 {
		t.Fatalf("%d events came again", n)
	}
}

// TestNotificationsJoinEventIDs: queued event notifications go out as few payloads
// below PostgreSQL's limit; others unchanged.
func TestNotificationsJoinEventIDs(t *testing.T) {
	n := notifier{wake: make(chan struct{}, 1)}
	n.add("e:1")
	n.add("p:1:2")
	n.add("e:22")
	got := n.take()
	if len(got) != 2 || got[0] != "p:1:2" || got[1] != "e:1,22" {
		t.Fatalf("take = %q", got)
	}
	for i := range 3000 {
		n.add("e:" + string(rune('1'+i%9)) + "000")
	}
	var ids int
	for _, p := range n.take() {
		if len(p) > maxPayload {
			t.Fatalf("payload of %d bytes", len(p))
		}
		ids += len(parseIDs(p[2:]))
	}
	if ids != 3000 {
		t.Fatalf("%d ids sent; want 3000", ids)
	}
}
