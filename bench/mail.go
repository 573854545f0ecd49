package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"tandem/internal/account"
	"tandem/internal/ids"
	"tandem/internal/mail/send"
	"tandem/internal/mail/send/smtptest"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// MailDrainResult is the outgoing mail backlog benchmark.
type MailDrainResult struct {
	Mails, Tickets int
	Queue, Drain   time.Duration
}

// MailDrain queues n notification mails about a few hundred tickets while no server
// runs (a backlog, as after an outage of the relay or of Tandem), then starts a server
// whose relay is a loopback SMTP server and times until every mail was accepted.
func MailDrain(db *store.DB, n int) (MailDrainResult, error) {
	ctx := context.Background()
	res := MailDrainResult{Mails: n, Tickets: 200}
	p, err := server.Provision(ctx, db, server.NewAccount{Subdomain: "acme", Name: "Acme", Plan: account.Enterprise,
		AdminEmail: "admin@acme.test", AdminName: "Admin", AdminPassword: "correct horse battery"})
	if err != nil {
		return res, err
	}
	if err := SeedTickets(ctx, db, p.Account.ID, p.Admin.ID, res.Tickets); err != nil {
		return res, err
	}
	relay, err := smtptest.Listen()
	if err != nil {
		return res, err
	}
	defer relay.Stop()
	// The queueing service does not run: the mail waits for the server started below.
	q, err := send.New(db, ticket.NewService(db), account.NewStore(db), slog.New(slog.NewTextHandler(io.Discard, nil)), send.Config{Relay: relay.URL()})
	if err != nil {
		return res, err
	}
	start := time.Now()
	for i := 0; i < n; {
		err := db.Write(ctx, func(tx *store.Tx) error {
			for end := min(i+1000, n); i < end; i++ {
				err := q.Queue(ctx, tx, p.Account, send.Outgoing{Kind: "notification", ToName: "Customer", To: fmt.Sprintf("customer%d@example.test", i%500),
					Subject: fmt.Sprintf("[Acme] Re: ticket %d", i%res.Tickets+1), Text: "Your request has been updated.\n\nThanks for waiting.", Auto: true, Ticket: ids.Ticket(i%res.Tickets + 1)})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	res.Queue = time.Since(start)
	d, err := StartDesk(db, func(c *server.Config) { c.SMTPRelay = relay.URL() })
	if err != nil {
		return res, err
	}
	defer d.Stop()
	start = time.Now()
	deadline := start.Add(10 * time.Minute)
	for relay.Count() < n || !d.Srv.MailOut.Drained(ctx) {
		if time.Now().After(deadline) {
			return res, fmt.Errorf("mail drain: %d of %d delivered after 10 minutes", relay.Count(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	res.Drain = time.Since(start)
	if got := relay.Count(); got != n {
		return res, fmt.Errorf("mail drain: the relay got %d mails, want %d", got, n)
	}
	return res, nil
}
