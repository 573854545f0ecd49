package live

import (
	"context"
	"io"
	"log/slog"
	"slices"
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
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := New(db, log, Config{})
	a.notes.off = true
	b := New(db, log, Config{Recheck: 20 * time.Millisecond})
	listening(t, b)
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
	next := func() int64 { return nextID(t, sub) }
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

// listening runs h's worker until the test ends, once it listens for every process's
// events.
func listening(t *testing.T, h *Hub) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-h.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("the hub never listened")
	}
}

// nextID is the id of the next event s receives.
func nextID(t *testing.T, s *Sub) int64 {
	t.Helper()
	select {
	case ev := <-s.Events():
		return ev.ID
	case <-time.After(30 * time.Second):
		t.Fatal("no event reached the stream")
		return 0
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
		ids += len(parseEvents(p[2:]))
	}
	if ids != 3000 {
		t.Fatalf("%d ids sent; want 3000", ids)
	}
	// An event's account rides along; an earlier version's bare id is read anyway.
	if got := parseEvents("5,6/2,x/3"); !slices.Equal(got, []notified{{5, 0}, {6, 2}}) {
		t.Fatalf("parseEvents = %v", got)
	}
}

// TestUnwatchedEventsAreNotRead: a process reads back only the notified events of
// accounts it has a stream of. The stream of account 1 still gets each of its events,
// once and in order, among a burst of account 2's; account 2's are not read, yet count
// as dispatched (the recheck does not read them as missed, the last id moves past
// them); and a stream of account 2 opened afterwards replays them from the table and
// receives its next event live.
func TestUnwatchedEventsAreNotRead(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.Postgres) // skips, saying why, without PostgreSQL
	ctx := context.Background()
	h := New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), Config{})
	listening(t, h)
	sub := h.Subscribe(Viewer{Account: 1})
	defer sub.Close()
	record := func(acct ids.Account, tk ids.Ticket) int64 {
		ev := &Event{Account: acct, Ticket: tk, Kind: KindTicket, At: store.Now()}
		if err := db.Write(ctx, func(tx *store.Tx) error { return h.record(ctx, tx, ev) }); err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	next := func(s *Sub) int64 { return nextID(t, s) }
	var mine, theirs []int64
	for i := range 10 {
		mine = append(mine, record(1, ids.Ticket(i+1)))
		theirs = append(theirs, record(2, ids.Ticket(i+1)))
	}
	// The last event is account 1's: once it arrives, every earlier notification has
	// been handled (one listener, one reader, in order).
	mine = append(mine, record(1, 99))
	for i, want := range mine {
		if got := next(sub); got != want {
			t.Fatalf("account 1's stream got event %d at %d; want %d (in order: %v)", got, i, want, mine)
		}
	}
	if n := h.read.Load(); n != int64(len(mine)) {
		t.Errorf("the hub read %d events; want account 1's %d alone", n, len(mine))
	}
	if last := h.lastID.Load(); last != mine[len(mine)-1] {
		t.Errorf("last id dispatched %d; want %d", last, mine[len(mine)-1])
	}
	for range 3 {
		if err := h.recheck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	h.catchUp(ctx) // as after the listener reconnects
	if n := len(sub.Events()); n != 0 {
		t.Fatalf("%d events came again after rechecks and a catch-up", n)
	}
	if n := h.read.Load(); n != int64(len(mine)) {
		t.Errorf("after rechecks the hub had read %d events; want %d (account 2's are not missed)", n, len(mine))
	}

	// A stream of account 2 resuming from before the burst replays it from the table,
	// then receives account 2's next event as it happens.
	other := h.Subscribe(Viewer{Account: 2})
	defer other.Close()
	evs, complete, err := h.Since(ctx, 2, mine[0]-1)
	if err != nil || !complete {
		t.Fatalf("Since: complete %v, err %v", complete, err)
	}
	if got := idsOf(evs); !slices.Equal(got, theirs) {
		t.Fatalf("account 2's replay %v; want %v", got, theirs)
	}
	later := record(2, 100)
	if got := next(other); got != later {
		t.Fatalf("account 2's stream got %d; want %d", got, later)
	}
}
