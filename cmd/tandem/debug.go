package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"tandem/internal/store"
)

// The profiling listener (--debug-addr): Go's runtime profiles (CPU, heap, goroutines,
// mutex and block contention, execution traces) under /debug/pprof/, SQLite's memory at
// /debug/store, for measuring the
// server under load with `go tool pprof http://ADDR/debug/pprof/profile?seconds=30`.
// It is off unless --debug-addr is given, has no authentication, and so only listens on
// a loopback address: a profile shows the process's code paths and may show request
// data in goroutine stacks, which nobody outside the machine should reach.

// checkDebugAddr reports whether addr is a host:port on a loopback address.
func checkDebugAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want HOST:PORT on a loopback address: %w", err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errors.New("the profiling listener has no authentication, so it listens only on a loopback address (127.0.0.1:PORT, [::1]:PORT or localhost:PORT)")
	}
	return nil
}

// debugMux serves the runtime's profiles and, with a database, SQLite's memory at
// /debug/store (the page caches and prepared statements live outside the Go heap, so
// no Go profile shows them).
func debugMux(db *store.DB) *http.ServeMux {
	mux := http.NewServeMux()
	if db != nil {
		mux.HandleFunc("/debug/store", func(w http.ResponseWriter, r *http.Request) {
			m, err := db.Memory(r.Context())
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprint(w, m)
		})
	}
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// startDebug listens on addr (checked by Config.Validate) and serves the profiles (and
// db's memory, when db is not nil) until ctx ends. It returns the address it listens on.
func startDebug(ctx context.Context, addr string, db *store.DB, log *slog.Logger) (net.Addr, error) {
	if err := checkDebugAddr(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (--debug-addr): %w", addr, err)
	}
	srv := &http.Server{Handler: debugMux(db), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("profiling listener stopped", "err", err)
		}
	}()
	return ln.Addr(), nil
}
