package delivery

import (
	"testing"
	"time"
)

// TestWakeLaterWakesWithoutAClaim: a writer whose row was queued behind its lane's head
// calls WakeLater; with no claim started since, the worker is woken (so a row that became
// its lane's head at its commit is not left to the next poll), and calls made while the
// timer is pending share it.
func TestWakeLaterWakesWithoutAClaim(t *testing.T) {
	q := &Queue[struct{}]{wake: make(chan struct{}, 1)}
	q.WakeLater(time.Millisecond)
	q.WakeLater(time.Millisecond)
	select {
	case <-q.wake:
	case <-time.After(time.Minute):
		t.Fatal("no wake after WakeLater with no claim started")
	}
	// Once it fired, a new call arms a new timer.
	q.WakeLater(time.Millisecond)
	select {
	case <-q.wake:
	case <-time.After(time.Minute):
		t.Fatal("no wake from a second WakeLater")
	}
}
