package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"tandem/internal/account"
)

func runAccountList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	var asJSON bool
	c := newCommand("account list", "[flags]", "Lists every account with its plan and creation date.")
	c.boolFlag(&asJSON, "json", "print a JSON array of {id, subdomain, name, plan, created_at}")
	c.dataFlags(&cfg)
	if help, err := c.parse(args, getenv, stdout); help || err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	db, err := openDB(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	accounts, err := account.NewStore(db).List(ctx)
	if err != nil {
		return fmt.Errorf("account list: %w", err)
	}

	if asJSON {
		type row struct {
			ID        int64  `json:"id"`
			Subdomain string `json:"subdomain"`
			Name      string `json:"name"`
			Plan      string `json:"plan"`
			CreatedAt string `json:"created_at"`
		}
		rows := make([]row, 0, len(accounts))
		for _, a := range accounts {
			rows = append(rows, row{int64(a.ID), a.Subdomain, a.Name, string(a.Plan), a.CreatedAt.Format(time.RFC3339)})
		}
		return json.NewEncoder(stdout).Encode(rows)
	}
	if len(accounts) == 0 {
		fmt.Fprintf(stdout, "No accounts in %s yet. Create one with 'tandem account create' or try 'tandem demo'.\n", cfg.DatabaseName())
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBDOMAIN\tNAME\tPLAN\tCREATED")
	for _, a := range accounts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Subdomain, a.Name, a.Plan, a.CreatedAt.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}
