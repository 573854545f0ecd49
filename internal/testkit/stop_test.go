package testkit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB that keeps what Errorf reports instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestStopReportsServeError(t *testing.T) {
	rec := &recorder{TB: t}
	_, cancel := context.WithCancel(context.Background())
	d := &Desk{Addr: "127.0.0.1:1", stop: cancel, done: make(chan error, 1), t: rec}
	d.done <- errors.New("listener exploded")
	d.Stop()
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "listener exploded") {
		t.Fatalf("Stop reported %q, want the Serve error", rec.errors)
	}
	d.Stop() // idempotent: nothing more reported
	if len(rec.errors) != 1 {
		t.Fatalf("second Stop reported again: %q", rec.errors)
	}
}

func TestStopReportsHang(t *testing.T) {
	rec := &recorder{TB: t}
	_, cancel := context.WithCancel(context.Background())
	d := &Desk{Addr: "127.0.0.1:1", stop: cancel, done: make(chan error), t: rec, wait: time.Millisecond}
	d.Stop()
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "did not stop") || !strings.Contains(rec.errors[0], "still running") {
		t.Fatalf("Stop reported %q, want a hang", rec.errors)
	}
}

func TestStopCleanIsSilent(t *testing.T) {
	rec := &recorder{TB: t}
	_, cancel := context.WithCancel(context.Background())
	d := &Desk{Addr: "127.0.0.1:1", stop: cancel, done: make(chan error, 1), t: rec}
	d.done <- nil
	d.Stop()
	if len(rec.errors) != 0 {
		t.Fatalf("clean stop reported %q", rec.errors)
	}
}
