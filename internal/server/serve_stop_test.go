package server_test

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestServeStoppedDuringStartIsClean: a stop asked for before Serve has finished its
// start-up steps (the reports' backfill, the default rules) ends Serve without an
// error: those steps' "context canceled" is how they obeyed the stop, not a failure.
func TestServeStoppedDuringStartIsClean(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := server.Provision(ctx, db, server.NewAccount{Subdomain: "acme", Name: "Acme", Plan: account.Enterprise, AdminEmail: "admin@acme.test"}); err != nil {
			t.Fatal(err)
		}
		srv, err := server.New(server.Config{BaseDomain: "localhost"}, db, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		stopped, cancel := context.WithCancel(ctx)
		cancel()
		if err := srv.Serve(stopped, ln); err != nil {
			t.Errorf("Serve stopped before it started = %v, want nil", err)
		}
	})
}
