package live

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestEventsCommittedOutOfIDOrder: on PostgreSQL event ids are taken inside the writing
// transactions, which may commit in the other order. Event A takes its id first, B
// takes the next and commits first; a page that reads the last event then (B) and a
// stream that resumes after B must still get A once it commits, and so must the hub's
// catch-up after its listener reconnects — once, not twice.
func TestEventsCommittedOutOfIDOrder(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.Postgres) // skips, saying why, without PostgreSQL
	ctx := context.Background()
	h := New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), Config{})
	const acct = 7

	recorded, release, aDone := make(chan int64), make(chan struct{}), make(chan error, 1)
	go func() {
		aDone <- db.Write(ctx, func(tx *store.Tx) error {
			ev := &Event{Account: acct, Ticket: 1, Kind: KindTicket, At: store.Now()}
			if err := h.record(ctx, tx, ev); err != nil {
				close(recorded)
				return err
			}
			recorded <- ev.ID
			<-release // A stays uncommitted while B commits
			return nil
		})
	}()
	a, ok := <-recorded
	if !ok {
		t.Fatal(<-aDone)
	}
	b := &Event{Account: acct, Ticket: 2, Kind: KindTicket, At: store.Now()}
	if err := db.Write(ctx, func(tx *store.Tx) error { return h.record(ctx, tx, b) }); err != nil {
		t.Fatal(err)
	}
	if b.ID <= a {
		t.Fatalf("B's id %d is not above A's %d", b.ID, a)
	}

	// A page rendered now starts its stream after the last event recorded: B.
	last, err := h.LastID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last != b.ID {
		t.Fatalf("LastID = %d while A (%d) is uncommitted and B (%d) committed; want B", last, a, b.ID)
	}
	// The hub has dispatched B (its notification came) and its listener then reconnects.
	sub := h.Subscribe(Viewer{Account: acct})
	defer sub.Close()
	h.dispatch(b)
	<-sub.Events()

	close(release)
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}

	evs, complete, err := h.Since(ctx, acct, last)
	if err != nil || !complete {
		t.Fatalf("Since(%d): complete %v, err %v", last, complete, err)
	}
	if got := idsOf(evs); len(got) != 1 || got[0] != a {
		t.Errorf("a stream resuming after B (%d) got %v; want A (%d), which committed after B", last, got, a)
	}

	h.catchUp(ctx)
	var got []int64
	for len(sub.Events()) > 0 {
		got = append(got, (<-sub.Events()).ID)
	}
	if len(got) != 1 || got[0] != a {
		t.Errorf("the hub's catch-up after B dispatched %v; want A (%d) alone, B was already sent", got, a)
	}

	// A later event still resumes normally, and A does not come again after it.
	c := &Event{Account: acct, Ticket: 3, Kind: KindTicket, At: store.Now()}
	if err := db.Write(ctx, func(tx *store.Tx) error { return h.record(ctx, tx, c) }); err != nil {
		t.Fatal(err)
	}
	if evs, _, err = h.Since(ctx, acct, b.ID); err != nil {
		t.Fatal(err)
	}
	if got := idsOf(evs); len(got) != 2 || got[0] != a || got[1] != c.ID {
		t.Errorf("after B: %v; want A %d and C %d", got, a, c.ID)
	}
	if evs, _, err = h.Since(ctx, acct, c.ID); err != nil {
		t.Fatal(err)
	}
	if got := idsOf(evs); len(got) != 0 {
		t.Errorf("after C (everything committed before it): %v; want nothing", got)
	}
}

func idsOf(evs []*Event) []int64 {
	var out []int64
	for _, ev := range evs {
		out = append(out, ev.ID)
	}
	return out
}
