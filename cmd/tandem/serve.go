package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"tandem/internal/errs"
	"tandem/internal/server"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	c := newCommand("serve", "[flags]", `Runs the help desk: the REST API at http://{subdomain}.{base-domain}:{port}/api/v2, the
sharing protocol and the web UI, for every account in the database. Pending migrations
are applied at start. SIGINT or SIGTERM stops it gracefully (stop accepting, finish
in-flight requests, stop workers, close the database). The Go runtime's soft memory limit
is 160 MiB unless the GOMEMLIMIT environment variable sets another; once the server is
quiet, free memory is returned to the system.`)
	c.dataFlags(&cfg)
	c.serverFlags(&cfg)
	c.logFlags(&cfg)
	c.stringFlag(&cfg.DebugAddr, "debug-addr", "HOST:PORT", "loopback address (127.0.0.1:PORT) of a listener serving Go's runtime profiles at /debug/pprof/ (CPU, heap, goroutines) and SQLite's memory at /debug/store, without authentication; empty = none")
	c.example = "  tandem serve --addr :8080 --base-domain desk.example.com --db postgres://tandem@db/tandem"
	if help, err := c.parse(args, getenv, stdout); help || err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(&cfg, stderr)
	applyMemoryLimit(getenv, log)
	go releaseWhenIdle(ctx, idleCheck, log)

	db, err := openDB(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close() // last: after the server has stopped
	srv, err := server.New(cfg.Server, db, log)
	if err != nil {
		return err
	}
	if sub := cfg.Server.DefaultAccount; sub != "" {
		if _, err := srv.Accounts.BySubdomain(ctx, sub); errs.Is(err, errs.NotFound) {
			log.Warn("the default account does not exist (yet); unknown hosts get 404 until it is created", "default_account", sub)
		}
	}
	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Server.Addr, err)
	}
	// Inbound mail listeners (--smtp-addr, --lmtp-addr), open before "listening on" is
	// printed: whoever waits for that line may connect to them at once.
	smtpAddr, lmtpAddr, err := srv.ListenMail()
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stdout, "Tandem is listening on http://%s (accounts at %s/api/v2)\n",
		ln.Addr(), accountURL(cfg.Server.BaseDomain, ln.Addr(), "{subdomain}"))
	if smtpAddr != nil {
		fmt.Fprintf(stdout, "Inbound mail (SMTP) on %s for %s\n", smtpAddr, cfg.Server.SupportAddress("{subdomain}"))
	}
	if lmtpAddr != nil {
		fmt.Fprintf(stdout, "Inbound mail (LMTP) on %s\n", lmtpAddr)
	}
	// DKIM (--dkim-key): the DNS record each key needs.
	for _, k := range cfg.Server.DKIMKeys {
		if rec, err := k.PublicRecord(); err == nil {
			fmt.Fprintf(stdout, "DKIM: signing mail from %s; publish TXT %s._domainkey.%s \"%s\"\n", k.Domain, k.Selector, k.Domain, rec)
		}
	}
	if cfg.DebugAddr != "" {
		addr, err := startDebug(ctx, cfg.DebugAddr, db, log)
		if err != nil {
			ln.Close()
			return err
		}
		fmt.Fprintf(stdout, "Profiles (pprof) on http://%s/debug/pprof/\n", addr)
	}
	log.Info("serving", "addr", ln.Addr().String(), "base_domain", cfg.Server.BaseDomain, "database", cfg.DatabaseName(), "version", version)
	return serveUntilDone(ctx, srv, ln, log)
}

// serveUntilDone serves until ctx ends, then shuts down gracefully.
func serveUntilDone(ctx context.Context, srv *server.Server, ln net.Listener, log *slog.Logger) error {
	stopped := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-ctx.Done():
			log.Info("shutting down: finishing in-flight requests (press Ctrl-C again to stop at once)")
		case <-stopped:
		}
	}()
	err := srv.Serve(ctx, ln)
	close(stopped)
	<-watched
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// accountURL is the base URL of an account on a server listening at addr.
func accountURL(baseDomain string, addr net.Addr, sub string) string {
	_, port, _ := net.SplitHostPort(addr.String())
	if port == "80" || port == "" {
		return "http://" + sub + "." + baseDomain
	}
	return "http://" + sub + "." + baseDomain + ":" + port
}
