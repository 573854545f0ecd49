package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"tandem/internal/ai/synth"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestAISimulateCommand seeds a small synthetic history and replays it from the command
// line: the summary gives the window, the resolution rate with its precision, and why
// autonomy stays off on so little history; bad flags are usage errors.
func TestAISimulateCommand(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			data, opt := dataArgs(t, d)
			if _, stderr, err := tandem(t, env{}, append([]string{"account", "create", "--subdomain", "acme", "--admin-email", "admin@acme.test"}, data...)...); err != nil {
				t.Fatalf("account create: %v\n%s", err, stderr)
			}
			ctx := context.Background()
			db, err := store.Open(ctx, opt)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := server.New(server.Config{BaseDomain: "localhost", FilesDir: t.TempDir()}, db, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			acct, err := srv.Accounts.BySubdomain(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			var agent ids.User
			if err := db.Write(ctx, func(tx *store.Tx) error {
				u, err := identity.ByEmail(ctx, tx, acct.ID, "admin@acme.test")
				agent = u.ID
				return err
			}); err != nil {
				t.Fatal(err)
			}
			w := synth.Generate(synth.Config{Seed: 3, Tickets: 160, Months: 6, Start: synth.StartFor(time.Now(), 6)})
			if _, err := synth.Seed(ctx, synth.Services{DB: db, Tickets: srv.Tickets, KB: srv.KB, Rules: srv.Rules}, acct, []ids.User{agent}, w); err != nil {
				t.Fatal(err)
			}
			db.Close()

			stdout, stderr, err := tandem(t, env{}, append([]string{"ai", "simulate", "--account", "acme"}, data...)...)
			if err != nil {
				t.Fatalf("ai simulate: %v\n%s", err, stderr)
			}
			for _, want := range []string{"Simulation 1 of acme", "rolling origins", "custom_field_", "macro", "Would have auto-resolved:", "at precision", "Autonomy stays off:", "too little history"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("summary lacks %q:\n%s", want, stdout)
				}
			}
			for _, bad := range [][]string{{"ai", "simulate"}, {"ai", "simulate", "--account", "acme", "--from", "May"}, {"ai", "simulate", "--account", "acme", "--from", "2026-05-01", "--to", "2026-04-01"}, {"ai", "frobnicate"}} {
				if _, _, err := tandem(t, env{}, append(bad, data...)...); err == nil || !isUsage(err) {
					t.Errorf("%v: err = %v, want a usage error", bad, err)
				}
			}
			if _, _, err := tandem(t, env{}, append([]string{"ai", "simulate", "--account", "nope"}, data...)...); err == nil {
				t.Error("an unknown account replayed")
			}
		})
	}
}

func isUsage(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}
