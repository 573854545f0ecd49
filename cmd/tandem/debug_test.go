package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"tandem/internal/store"
)

func TestCheckDebugAddr(t *testing.T) {
	t.Parallel()
	for addr, ok := range map[string]bool{
		"127.0.0.1:6060": true, "[::1]:6060": true, "localhost:0": true, "127.9.9.9:1": true,
		"0.0.0.0:6060": false, ":6060": false, "[::]:6060": false, "10.0.0.1:6060": false,
		"example.com:6060": false, "127.0.0.1": false,
	} {
		if err := checkDebugAddr(addr); (err == nil) != ok {
			t.Errorf("checkDebugAddr(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

// The listener serves the runtime's profiles and stops with its context.
func TestDebugListener(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := startDebug(ctx, "127.0.0.1:0", nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get("http://" + addr.String() + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("/debug/pprof/: %d %q", res.StatusCode, body)
	}
	if _, err := startDebug(ctx, "0.0.0.0:0", nil, slog.Default()); err == nil {
		t.Fatal("a listener on every address was started")
	}
}

// With a database the listener also shows SQLite's memory.
func TestDebugListenerStore(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "tandem.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	addr, err := startDebug(ctx, "127.0.0.1:0", db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get("http://" + addr.String() + "/debug/store")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "writer: cache") {
		t.Fatalf("/debug/store: %d %q", res.StatusCode, body)
	}
}

// Memory is released once, at the first check without a collection after some.
func TestQuietRelease(t *testing.T) {
	t.Parallel()
	q := quiet{seen: 5, released: true}
	for i, c := range []struct {
		cycles uint64
		want   bool
	}{{5, false}, {9, false}, {12, false}, {12, true}, {12, false}, {12, false}, {13, false}, {13, true}} {
		if got := q.check(c.cycles); got != c.want {
			t.Fatalf("check %d (cycles %d) = %v, want %v", i, c.cycles, got, c.want)
		}
	}
}
