package mailin_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/limit"
	"tandem/internal/mailin"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// stalledMail returns an inbound mail service over db, with one account (acme), whose
// SMTP listener serves on a loopback port and whose worker is not running: nothing it
// stores is processed until the test runs it.
func stalledMail(t *testing.T, db *store.DB, backlog int, hold time.Duration) (*mailin.Service, string) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	srv, err := server.New(server.Config{BaseDomain: "localhost", FilesDir: t.TempDir(), MailSpoolDir: t.TempDir()}, db, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Provision(ctx, db, server.NewAccount{Subdomain: "acme", Name: "Acme", Plan: account.Enterprise, AdminEmail: "admin@acme.test", AdminName: "Admin"}); err != nil {
		t.Fatal(err)
	}
	svc := mailin.New(db, srv.Tickets, srv.Accounts, limit.NewMemory(), log, mailin.Config{
		SupportAddress: func(sub string) string { return "support@" + sub + ".localhost" },
		MailDomain:     "localhost",
		SpoolDir:       t.TempDir(),
		SenderRate:     1 << 20,
		Backlog:        backlog,
		BacklogHold:    hold,
	})
	lctx, cancel := context.WithCancel(ctx)
	l := svc.NewListener(lctx, false)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { _ = l.Serve(ln); close(served) }()
	t.Cleanup(func() {
		l.Close()
		<-served
		cancel()
	})
	return svc, ln.Addr().String()
}

// inboxStates counts the inbox's rows by state.
func inboxStates(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	rows, err := db.R().QueryContext(context.Background(), `SELECT state, COUNT(*) FROM mail_inbox GROUP BY state`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		out[s] = n
	}
	return out
}

// TestBacklogHoldsReply: with the worker stalled and a bound of one waiting message,
// the first message is answered at once; the second is stored (durable, as any message
// answered 250 later) but its reply is held while two messages wait; once the worker
// runs and works the backlog down, the reply comes, and both messages are tickets.
func TestBacklogHoldsReply(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc, addr := stalledMail(t, db, 1, time.Hour)
		to := []string{"support@acme.localhost"}
		if err := sendSMTP(addr, "ann@customer.test", to, msg("ann@customer.test", to[0], "first", "", "One.")); err != nil {
			t.Fatalf("first message (backlog at the bound): %v", err)
		}
		if n := svc.HeldReplies(); n != 0 {
			t.Fatalf("%d replies held after the first message", n)
		}
		sent := make(chan error, 1)
		go func() {
			sent <- sendSMTP(addr, "bob@customer.test", to, msg("bob@customer.test", to[0], "second", "", "Two."))
		}()
		testkit.Eventually(t, 20*time.Second, "the second reply to be held", func() bool { return svc.HeldReplies() == 1 })
		select {
		case err := <-sent:
			t.Fatalf("the second message was answered (%v) while the backlog is over the bound", err)
		default:
		}
		if st := inboxStates(t, db); st["new"] != 2 {
			t.Fatalf("inbox %v, want both messages stored and waiting", st)
		}

		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan struct{})
		go func() { svc.Run(ctx); close(ran) }()
		defer func() { cancel(); <-ran }()
		if err := <-sent; err != nil {
			t.Fatalf("second message, once the worker ran: %v", err)
		}
		testkit.Eventually(t, 20*time.Second, "both messages to be tickets", func() bool { return inboxStates(t, db)["done"] == 2 })
		if n := svc.HeldReplies(); n != 0 {
			t.Fatalf("%d replies still held", n)
		}
		var tickets int
		if err := db.R().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM tickets`).Scan(&tickets); err != nil || tickets != 2 {
			t.Fatalf("%d tickets (%v), want 2", tickets, err)
		}
	})
}

// TestBacklogHoldEnds: a reply is held no longer than the hold time, even when the
// worker never catches up: the sender is answered 250 and the message waits, stored.
func TestBacklogHoldEnds(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc, addr := stalledMail(t, db, 1, time.Nanosecond)
		to := []string{"support@acme.localhost"}
		for i, from := range []string{"ann@customer.test", "bob@customer.test", "cy@customer.test"} {
			if err := sendSMTP(addr, from, to, msg(from, to[0], "stalled", "", "Waiting.")); err != nil {
				t.Fatalf("message %d: %v", i+1, err)
			}
		}
		if st := inboxStates(t, db); st["new"] != 3 {
			t.Fatalf("inbox %v, want the three messages stored and waiting", st)
		}
		if n := svc.HeldReplies(); n != 0 {
			t.Fatalf("%d replies still held", n)
		}
	})
}
