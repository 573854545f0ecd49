package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"tandem/internal/demo"
	"tandem/internal/server"
)

// demoSMTPAddr is where the demo takes mail unless --smtp-addr says otherwise.
const demoSMTPAddr = "127.0.0.1:2525"

func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	c := newCommand("demo", "[flags]", `Runs the server (as 'tandem serve') with two ready help desks: acme, an outdoor-gear
retailer, and globex, a manufacturer, each with an admin, agents, groups, end users and
realistic tickets, all created through the REST API. It prints the URLs, sign-ins, API
tokens and curl commands to try, then serves until interrupted.

Running it again on the same database keeps the existing data and prints fresh API
tokens. Start from scratch by removing the data directory (or use another --data-dir).`)
	// The demo takes mail: its SMTP listener is on by default (--smtp-addr).
	cfg.Server.SMTPAddr = demoSMTPAddr
	c.dataFlags(&cfg)
	c.serverFlags(&cfg)
	c.logFlags(&cfg)
	c.example = "  tandem demo --data-dir ./demo-data --addr :8080 --smtp-addr 127.0.0.1:2525"
	if help, err := c.parse(args, getenv, stdout); help || err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(&cfg, stderr)

	db, err := openDB(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close() // last: after the server has stopped
	srv, err := server.New(cfg.Server, db, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Server.Addr, err)
	}
	log.Info("serving", "addr", ln.Addr().String(), "base_domain", cfg.Server.BaseDomain, "database", cfg.DatabaseName(), "version", version)

	serveCtx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	served := make(chan error, 1)
	go func() { served <- serveUntilDone(serveCtx, srv, ln, log) }()

	info, err := demo.Seed(ctx, srv, ln.Addr().String())
	if err != nil {
		stopServing()
		return errors.Join(err, <-served)
	}
	info.Print(stdout)
	// Inbound mail: email the demo a ticket.
	if a := srv.MailAddr(); a != nil {
		fmt.Fprintf(stdout, "\nEmail acme a new ticket (its support address is %s):\n\n"+
			"  printf 'From: Carol <carol@example.test>\\r\\nTo: %s\\r\\nSubject: Hello by email\\r\\n\\r\\nMy tent leaks.\\r\\n' > msg.eml\n"+
			"  curl smtp://%s --mail-from carol@example.test --mail-rcpt %s --upload-file msg.eml\n",
			cfg.Server.SupportAddress("acme"), cfg.Server.SupportAddress("acme"), a, cfg.Server.SupportAddress("acme"))
	}
	fmt.Fprintf(stdout, "\nServing %s on http://%s. Press Ctrl-C to stop.\n", cfg.DatabaseName(), ln.Addr())
	return <-served
}
