package main

import (
	"context"
	"fmt"
	"io"

	"tandem/internal/account"
	"tandem/internal/report"
	"tandem/internal/store"
)

func runReports(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	c := newCommand("reports-rebuild", "[flags]", `Builds the reports' daily aggregates again from the tickets' rows: of one account
(--account SUBDOMAIN) or of every account. 'tandem serve' builds, at start, the accounts
that have none or whose time zone changed; this command is for rows changed outside the
ticket write path (a bulk load, direct SQL). Each account is rebuilt in one transaction,
during which writes of its tickets wait.`)
	c.dataFlags(&cfg)
	var sub string
	c.stringFlag(&sub, "account", "SUBDOMAIN", "the account to rebuild (default: every account)")
	if help, err := c.parse(args, getenv, stdout); help || err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.StoreOptions())
	if err != nil {
		return fmt.Errorf("open %s: %w", cfg.DatabaseName(), err)
	}
	defer db.Close()
	accts := account.NewStore(db)
	var list []*account.Account
	if sub != "" {
		a, err := accts.BySubdomain(ctx, sub)
		if err != nil {
			return fmt.Errorf("account %q: %w", sub, err)
		}
		list = append(list, a)
	} else if list, err = accts.List(ctx); err != nil {
		return err
	}
	for _, a := range list {
		n, err := report.Rebuild(ctx, db, a.ID)
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", a.Subdomain, err)
		}
		fmt.Fprintf(stdout, "%s: %d tickets\n", a.Subdomain, n)
	}
	return nil
}
