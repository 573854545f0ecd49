package main

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// dialOnListening is serve's stdout: when serve writes its "listening on" line, it
// connects to addr at that very moment, before serve goes on.
type dialOnListening struct {
	addr string
	mu   sync.Mutex
	out  strings.Builder
	said chan error // the dial's outcome, once
}

func (w *dialOnListening) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Contains(string(p), "listening on") {
		c, err := net.Dial("tcp", w.addr)
		if err == nil {
			c.Close()
		}
		w.said <- err
	}
	return w.out.Write(p)
}

// TestServeListensForMailBeforeSayingSo: when serve prints "listening on", its SMTP
// listener already takes connections (scripts and the outside benchmarks connect on
// that line; the listener used to be opened just after it).
func TestServeListensForMailBeforeSayingSo(t *testing.T) {
	t.Parallel()
	out := &dialOnListening{addr: freeAddr(t), said: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut syncBuffer
	e := env{"TANDEM_DATA_DIR": t.TempDir(), "TANDEM_ADDR": "127.0.0.1:0"}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"tandem", "serve", "--smtp-addr", out.addr, "--log-level", "error"}, e.get, out, &errOut)
	}()
	select {
	case err := <-out.said:
		if err != nil {
			t.Errorf("SMTP listener not open when serve said it listens: %v", err)
		}
	case err := <-done:
		t.Fatalf("serve stopped before saying it listens: %v\nstderr: %s", err, errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve never said it listens")
	}
	cancel()
	// Stopped this soon, serve may still be in its start-up steps: that is a clean stop
	// too, not their error.
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve stopped during start-up = %v, want a clean stop", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
}
