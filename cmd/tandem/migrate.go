package main

import (
	"context"
	"fmt"
	"io"

	"tandem/internal/store"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	c := newCommand("migrate", "[flags]", `Applies the pending database migrations, each in its own transaction, and prints which
were applied. Safe to run while other tandem processes start (PostgreSQL migrations are
serialised by an advisory lock). 'tandem serve' also migrates at start; use this command
to migrate ahead of a rolling deploy.`)
	c.dataFlags(&cfg)
	if help, err := c.parse(args, getenv, stdout); help || err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	db, err := store.OpenNoMigrate(cfg.StoreOptions())
	if err != nil {
		return fmt.Errorf("open %s: %w", cfg.DatabaseName(), err)
	}
	defer db.Close()
	applied, err := db.MigrateReport(ctx)
	for _, m := range applied {
		fmt.Fprintf(stdout, "applied %s\n", m.Name)
	}
	if err != nil {
		return fmt.Errorf("migrate %s: %w", cfg.DatabaseName(), err)
	}
	all, err := store.Migrations(db.Dialect)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "%s is up to date (%d migrations)\n", cfg.DatabaseName(), len(all))
	} else {
		fmt.Fprintf(stdout, "%s: applied %d of %d migrations\n", cfg.DatabaseName(), len(applied), len(all))
	}
	return nil
}
