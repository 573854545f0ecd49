package send_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/mail/send"
	"tandem/internal/mail/send/smtptest"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// TestRelayTLSAndAuth: smtps:// (implicit TLS) and smtp:// with STARTTLS both log in
// with the URL's credentials and deliver; a wrong password and a relay without STARTTLS
// (which would expose the password) keep the mail waiting with the reason.
func TestRelayTLSAndAuth(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	p, err := server.Provision(ctx, db, server.NewAccount{Subdomain: "acme", Name: "Acme", Plan: account.Enterprise,
		AdminEmail: "admin@acme.test", AdminName: "Admin", AdminPassword: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	plain := smtptest.Start(t)
	for _, tc := range []struct {
		name     string
		implicit bool
		password string
		plain    bool // the relay offers no TLS at all
		want     string
	}{
		{name: "smtps", implicit: true, password: "s3cret", want: "delivered"},
		{name: "starttls", password: "s3cret", want: "delivered"},
		{name: "bad password", password: "wrong", want: "535"},
		{name: "no starttls", plain: true, password: "s3cret", want: "does not offer STARTTLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			relay, pool := smtptest.StartTLS(t, tc.implicit, "desk", "s3cret")
			scheme := "smtp"
			if tc.implicit {
				scheme = "smtps"
			}
			addr := relay.Addr
			if tc.plain {
				addr = plain.Addr
			}
			u := scheme + "://desk:" + url.QueryEscape(tc.password) + "@" + addr
			svc, err := send.New(db, ticket.NewService(db), account.NewStore(db), slog.New(slog.NewTextHandler(io.Discard, nil)),
				send.Config{Relay: u, TLS: &tls.Config{RootCAs: pool}, MaxBackoff: time.Hour, BaseBackoff: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(svc.Relay(), tc.password) {
				t.Fatalf("Relay() shows the password: %s", svc.Relay())
			}
			to := strings.ReplaceAll(tc.name, " ", "-") + "@example.test"
			if err := db.Write(ctx, func(tx *store.Tx) error {
				return svc.Queue(ctx, tx, p.Account, send.Outgoing{Kind: "test", To: to, Subject: "Over TLS", Text: "hello"})
			}); err != nil {
				t.Fatal(err)
			}
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { svc.Run(runCtx); close(done) }()
			defer func() { stop(); <-done }()
			testkit.Eventually(t, 10*time.Second, "an attempt", func() bool {
				var status, lastErr string
				_ = db.R().QueryRowContext(ctx, `SELECT status, last_error FROM mail_outbox WHERE rcpt_to = ?`, to).Scan(&status, &lastErr)
				return status == tc.want || (status == "pending" && strings.Contains(lastErr, tc.want))
			})
			if tc.want == "delivered" && (relay.Count() != 1 || relay.Mails()[0].To[0] != to) {
				t.Fatalf("relay got %d mails", relay.Count())
			}
		})
	}
}
