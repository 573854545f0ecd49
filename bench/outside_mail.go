package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"tandem/internal/account"
	"tandem/internal/ids"
	"tandem/internal/mail/send"
	"tandem/internal/mail/send/smtptest"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// OutsideInboundResult is one level of inbound mail: SMTP clients in this process
// sending to `tandem serve --smtp-addr`.
type OutsideInboundResult struct {
	Conns  int
	N      int   // messages that became tickets
	Errors int64 // transactions refused or failed
	// Elapsed is from the first MAIL FROM to the last ticket committed.
	Elapsed time.Duration
	// P50 and P99 are from the client's final "." to the ticket's commit (the inbox
	// row's done_at, written in the transaction that makes the ticket; same clock);
	// AcceptP99 is from the final "." to the server's 250.
	P50, P99, AcceptP99 time.Duration
	ServerCPU           time.Duration // over Elapsed
}

// Rate is tickets per second.
func (r OutsideInboundResult) Rate() float64 { return float64(r.N) / r.Elapsed.Seconds() }

// OutsideInbound starts `tandem serve` with an SMTP listener on db (account "acme",
// made with the CLI) and, at each number of connections, sends messages to
// support@acme.localhost for d (each a new ticket from one of 50 senders a
// connection), then waits until every one is a ticket. smtpPort 0 picks a free port.
func OutsideInbound(bin string, db OutsideDB, smtpPort int, conns []int, d time.Duration) ([]OutsideInboundResult, error) {
	ctx := context.Background()
	if _, _, err := db.Account(bin, "acme"); err != nil {
		return nil, err
	}
	h, err := db.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	p, err := FreePort(smtpPort)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + p
	srv, err := db.Serve(bin, 0, "--smtp-addr", addr, "--mail-sender-rate", strconv.Itoa(1<<30))
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	// serve opens the SMTP listener before it says it listens; binaries from before
	// branch mail8 did not: wait for it too.
	err = waitUntil(time.Minute, 10*time.Millisecond, "SMTP listener", func() (bool, error) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false, nil
		}
		c.Close()
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	body := strings.Repeat("The tent leaks at the seams after rain. ", 40) // 1.6 KB
	var out []OutsideInboundResult
	for _, nc := range conns {
		var since int64
		if err := h.R().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM mail_inbox`).Scan(&since); err != nil {
			return nil, err
		}
		var mu sync.Mutex
		dot := map[string]time.Time{}
		var accept []time.Duration
		var errs atomic.Int64
		cpu0 := srv.CPU()
		start := time.Now()
		deadline := start.Add(d)
		var wg sync.WaitGroup
		for c := range nc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl, err := smtp.Dial(addr)
				if err != nil {
					errs.Add(1)
					return
				}
				defer cl.Close()
				for i := 0; time.Now().Before(deadline); i++ {
					subject := fmt.Sprintf("outside %d-%d-%d", nc, c, i)
					from := fmt.Sprintf("c%d-%d@customer.test", c, i%50)
					m := "From: " + from + "\r\nTo: support@acme.localhost\r\nSubject: " + subject + "\r\nMessage-ID: <" + fmt.Sprintf("o%d-%d-%d.%d", nc, c, i, start.UnixNano()) + "@customer.test>\r\n" +
						"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
					t0, ok := sendOne(cl, from, m)
					if !ok {
						errs.Add(1)
						if cl.Reset() != nil {
							return
						}
						continue
					}
					now := time.Now()
					mu.Lock()
					dot[subject] = t0
					accept = append(accept, now.Sub(t0))
					mu.Unlock()
				}
				_ = cl.Quit()
			}()
		}
		wg.Wait()
		err := waitUntil(5*time.Minute, 5*time.Millisecond, "inbound mail", func() (bool, error) {
			var left int
			err := h.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_inbox WHERE id > ? AND done_at = 0`, since).Scan(&left)
			return left == 0, err
		})
		if err != nil {
			return nil, err
		}
		cpu := srv.CPU() - cpu0
		rows, err := h.R().QueryContext(ctx, `SELECT t.subject, m.done_at FROM mail_inbox m JOIN tickets t ON t.account_id = m.account_id AND t.id = m.ticket_id WHERE m.id > ?`, since)
		if err != nil {
			return nil, err
		}
		var lat []time.Duration
		var last time.Time
		for rows.Next() {
			var subject string
			var done int64
			if err := rows.Scan(&subject, &done); err != nil {
				rows.Close()
				return nil, err
			}
			if t0, ok := dot[subject]; ok {
				at := store.Time(done)
				lat = append(lat, at.Sub(t0))
				if at.After(last) {
					last = at
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(lat) == 0 {
			return nil, fmt.Errorf("inbound mail: no message became a ticket (%d errors)", errs.Load())
		}
		r := OutsideInboundResult{Conns: nc, N: len(lat), Errors: errs.Load(), Elapsed: last.Sub(start), ServerCPU: cpu}
		r.P50, r.P99 = percentiles(lat)
		_, r.AcceptP99 = percentiles(accept)
		out = append(out, r)
	}
	return out, nil
}

// sendOne sends message m in one SMTP transaction and returns the time just before the
// final "." went out, and whether the server took it (250).
func sendOne(cl *smtp.Client, from, m string) (time.Time, bool) {
	if cl.Mail(from, nil) != nil || cl.Rcpt("support@acme.localhost", nil) != nil {
		return time.Time{}, false
	}
	w, err := cl.Data()
	if err != nil {
		return time.Time{}, false
	}
	if _, err := io.WriteString(w, m); err != nil {
		return time.Time{}, false
	}
	t0 := time.Now()
	return t0, w.Close() == nil
}

// OutsideMailDrainResult is the outgoing mail backlog drained by a server process.
type OutsideMailDrainResult struct {
	Mails, Tickets int
	Queue          time.Duration // queuing them (this process, no server running)
	Drain          time.Duration // from the server's listening to the relay's last mail
	ServerCPU      time.Duration // over Drain
}

// OutsideMailDrain queues n notification mails about 200 tickets while no server runs
// (a backlog, as after an outage of the relay or of Tandem), then starts `tandem serve`
// whose relay is a loopback SMTP server in this process and times until every mail was
// accepted and the outbox is empty.
func OutsideMailDrain(bin string, db OutsideDB, n int) (OutsideMailDrainResult, error) {
	ctx := context.Background()
	res := OutsideMailDrainResult{Mails: n, Tickets: 200}
	if _, _, err := db.Account(bin, "acme"); err != nil {
		return res, err
	}
	h, err := db.Open(ctx)
	if err != nil {
		return res, err
	}
	defer h.Close()
	accounts := account.NewStore(h)
	acct, err := accounts.BySubdomain(ctx, "acme")
	if err != nil {
		return res, err
	}
	var admin ids.User
	if err := h.R().QueryRowContext(ctx, `SELECT id FROM users WHERE account_id = ? AND role = 'admin'`, acct.ID).Scan(&admin); err != nil {
		return res, err
	}
	if err := SeedTickets(ctx, h, acct.ID, admin, res.Tickets); err != nil {
		return res, err
	}
	relay, err := smtptest.Listen()
	if err != nil {
		return res, err
	}
	defer relay.Stop()
	// This process only queues (its service is never started): the server sends.
	q, err := send.New(h, ticket.NewService(h), accounts, slog.New(slog.NewTextHandler(io.Discard, nil)), send.Config{Relay: relay.URL()})
	if err != nil {
		return res, err
	}
	start := time.Now()
	for i := 0; i < n; {
		err := h.Write(ctx, func(tx *store.Tx) error {
			for end := min(i+1000, n); i < end; i++ {
				err := q.Queue(ctx, tx, acct, send.Outgoing{Kind: "notification", ToName: "Customer", To: fmt.Sprintf("customer%d@example.test", i%500),
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
	srv, err := db.Serve(bin, 0, "--smtp-relay", relay.URL())
	if err != nil {
		return res, err
	}
	defer srv.Stop()
	cpu0 := srv.CPU()
	start = time.Now()
	err = waitUntil(10*time.Minute, 5*time.Millisecond, fmt.Sprintf("mail drain (%d mails)", n), func() (bool, error) {
		if relay.Count() < n {
			return false, nil
		}
		left, err := pending(ctx, h, "mail_outbox")
		return left == 0, err
	})
	if err != nil {
		return res, fmt.Errorf("%w: the relay has %d", err, relay.Count())
	}
	res.Drain, res.ServerCPU = time.Since(start), srv.CPU()-cpu0
	if got := relay.Count(); got != n {
		return res, fmt.Errorf("mail drain: the relay got %d mails, want %d", got, n)
	}
	return res, nil
}
