package server

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"tandem/internal/account"
	"tandem/internal/mail/send"
	"tandem/internal/mailin"
	"tandem/internal/store"
)

// Inbound mail (internal/mailin): the service is built in New; its SMTP and LMTP
// listeners are opened by ListenMail and served by Serve, which stops them (letting
// sessions in progress finish) after the HTTP server and before the workers.

// newMail builds the inbound mail service from the configuration.
func (s *Server) newMail() (*mailin.Service, error) {
	c := s.cfg
	// IMAP mailbox passwords are sealed with the server key, as the AI's keys are.
	box, err := secretBoxOf(c)
	if err != nil {
		return nil, err
	}
	return mailin.New(s.db, s.Tickets, s.Accounts, s.limits, s.log, mailin.Config{
		SupportAddress: c.SupportAddress,
		MailDomain:     c.MailDomain,
		SpoolDir:       c.MailSpoolDir,
		MaxSize:        c.MailMaxSize,
		AuthServID:     c.MailAuthServID,
		SenderRate:     c.MailSenderRate,
		Workers:        c.MailWorkers,
		Backlog:        c.MailBacklog,
		Hostname:       c.MailDomain,
		Files:          s.Files,
		IMAPTLS:        c.IMAPTLS,
		Secrets:        box,
		// Verification messages of new support addresses go out on outbound mail's queue.
		// Delivery reports on mail Tandem sent are read back by outbound mail.
		Bounced: func(ctx context.Context, tx *store.Tx, acct *account.Account, token, messageID, recipient, status, reason string, hard bool) (bool, error) {
			return s.MailOut.RecordBounce(ctx, tx, acct, send.Bounce{Token: token, MessageID: messageID, Recipient: recipient, Status: status, Reason: reason, Hard: hard})
		},
		SendVerification: func(ctx context.Context, tx *store.Tx, acct *account.Account, to, subject, text string) error {
			return s.MailOut.Queue(ctx, tx, acct, send.Outgoing{Kind: "verification", To: to, Subject: subject, Text: text, Auto: true})
		},
	}), nil
}

// ListenMail opens the listeners the configuration names (SMTPAddr, LMTPAddr) and
// returns their addresses (nil for one not configured). Serve serves them; call it
// before Serve.
func (s *Server) ListenMail() (smtpAddr, lmtpAddr net.Addr, err error) {
	open := func(addr string, lmtp bool) (net.Addr, error) {
		if addr == "" {
			return nil, nil
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listen for mail on %s: %w", addr, err)
		}
		s.mailLns = append(s.mailLns, mailListener{ln: ln, lmtp: lmtp})
		return ln.Addr(), nil
	}
	if smtpAddr, err = open(s.cfg.SMTPAddr, false); err != nil {
		return nil, nil, err
	}
	s.mailMu.Lock()
	s.smtpAddr = smtpAddr
	s.mailMu.Unlock()
	if lmtpAddr, err = open(s.cfg.LMTPAddr, true); err != nil {
		s.closeMailListeners()
		return nil, nil, err
	}
	return smtpAddr, lmtpAddr, nil
}

type mailListener struct {
	ln   net.Listener
	lmtp bool
}

func (s *Server) closeMailListeners() {
	for _, m := range s.mailLns {
		m.ln.Close()
	}
	s.mailLns = nil
}

// MailAddr returns the address of the SMTP listener once it is open (nil before, or
// when none is configured).
func (s *Server) MailAddr() net.Addr {
	s.mailMu.Lock()
	defer s.mailMu.Unlock()
	return s.smtpAddr
}

// serveMail serves the mail listeners (opening them first if ListenMail was not
// called); the returned function stops them, waiting up to 20 s for sessions in
// progress, and returns once they have.
func (s *Server) serveMail() (stop func(), err error) {
	if len(s.mailLns) == 0 {
		if _, _, err := s.ListenMail(); err != nil {
			return nil, err
		}
	}
	if len(s.mailLns) == 0 {
		return func() {}, nil
	}
	// Sessions write with this context: it ends only after the listeners stopped, so
	// a message being stored when shutdown starts is stored (or refused) cleanly.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var ls []*mailin.Listener
	for _, m := range s.mailLns {
		l := s.Mail.NewListener(ctx, m.lmtp)
		ls = append(ls, l)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Serve(m.ln); err != nil {
				s.log.Error("mail listener stopped", "addr", m.ln.Addr().String(), "err", err)
			}
		}()
	}
	return func() {
		sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
		for _, l := range ls {
			if err := l.Shutdown(sctx); err != nil {
				l.Close()
			}
		}
		scancel()
		wg.Wait()
		cancel()
		s.mailLns = nil
	}, nil
}

// pollIMAP reads the accounts' IMAP mailboxes every IMAPInterval (a worker).
func (s *Server) pollIMAP(ctx context.Context) {
	every := s.cfg.IMAPInterval
	if every <= 0 {
		every = time.Minute
	}
	s.Mail.RunIMAP(ctx, every)
}
