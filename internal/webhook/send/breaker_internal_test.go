package send

import (
	"testing"
	"time"
)

// TestBreaker: the circuit opens after the configured failures in a row and defers
// calls while open; after it, one trial call at a time; a success closes it. Calls in
// flight to one endpoint are capped, and endpoints do not share circuits.
func TestBreaker(t *testing.T) {
	b := newBreaker(3, time.Hour, 2*time.Hour, 2)
	for i := 0; i < 3; i++ {
		if ok, _ := b.acquire("http://dead"); !ok {
			t.Fatalf("call %d refused before the circuit opened", i)
		}
		b.release("http://dead", false)
	}
	if ok, wait := b.acquire("http://dead"); ok || wait < 59*time.Minute {
		t.Fatalf("open circuit: ok %v, wait %s", ok, wait)
	}
	if ok, _ := b.acquire("http://alive"); !ok {
		t.Fatal("another endpoint is refused")
	}
	// The cap on calls in flight.
	if ok, _ := b.acquire("http://alive"); !ok {
		t.Fatal("second call refused under the cap")
	}
	if ok, wait := b.acquire("http://alive"); ok || wait != busyWait {
		t.Fatalf("third call in flight allowed (%v, %s)", ok, wait)
	}
	b.release("http://alive", true)
	if ok, _ := b.acquire("http://alive"); !ok {
		t.Fatal("a freed slot is not reused")
	}

	// A circuit whose open time has passed lets one trial call through at a time.
	h := newBreaker(1, time.Nanosecond, time.Nanosecond, 4)
	h.acquire("x")
	h.release("x", false)
	h.m["x"].openUntil = time.Time{} // the open time is over
	if ok, _ := h.acquire("x"); !ok {
		t.Fatal("no trial call after the open time")
	}
	if ok, _ := h.acquire("x"); ok {
		t.Fatal("a second call beside the trial call")
	}
	h.release("x", true)
	for i := 0; i < 4; i++ {
		if ok, _ := h.acquire("x"); !ok {
			t.Fatalf("closed circuit refused call %d", i)
		}
	}
}
