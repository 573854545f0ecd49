package mailin

import "testing"

// TestInflightHoldsThreadsBack: on SQLite the claimer keeps the messages in flight in
// memory. A message whose thread has one in flight is held back, and the end of that
// one reports it, so that the claimer looks again; a message without a thread key is
// never held back; the same key in two accounts is two threads.
func TestInflightHoldsThreadsBack(t *testing.T) {
	var f inflight
	a1 := claimed{id: 1, acct: 1, thread: "<root@x>"}
	a2 := claimed{id: 2, acct: 1, thread: "<root@x>"}
	other := claimed{id: 3, acct: 2, thread: "<root@x>"}
	none1 := claimed{id: 4, acct: 1}
	none2 := claimed{id: 5, acct: 1}
	for _, c := range []claimed{a1, other, none1, none2} {
		if !f.take(c) {
			t.Fatalf("message %d held back, nothing of its thread in flight", c.id)
		}
	}
	if f.take(a2) {
		t.Fatal("message 2 taken while message 1 of its thread is in flight")
	}
	if len(f.list()) != 4 {
		t.Fatalf("in flight: %v, want 4 messages", f.list())
	}
	if f.done(other) || f.done(none1) || f.done(none2) {
		t.Fatal("the end of a message whose thread held nothing back asked for a claim")
	}
	if !f.done(a1) {
		t.Fatal("the end of message 1 did not report message 2 held back")
	}
	if !f.take(a2) {
		t.Fatal("message 2 held back after message 1 ended")
	}
	if f.done(a2) {
		t.Fatal("the end of message 2 reported a message held back")
	}
	if len(f.list()) != 0 {
		t.Fatalf("in flight after all ended: %v", f.list())
	}
}
