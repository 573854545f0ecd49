package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"tandem/internal/account"
	"tandem/internal/server"
)

func runAccountCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	var in struct {
		sub, plan, name, email, adminName, password string
		json                                        bool
	}
	c := newCommand("account create", "--subdomain S --admin-email E [flags]", `Creates an account (a help desk served at {subdomain}.{base-domain}) with its first admin,
and prints the admin's API token. The token is shown only this once.`)
	c.stringFlag(&in.sub, "subdomain", "S", "the account's subdomain (required): 2-63 lowercase letters, digits or hyphens")
	c.stringFlag(&in.email, "admin-email", "EMAIL", "the first admin's email address (required)")
	c.stringFlag(&in.plan, "plan", "PLAN", "team, growth, professional or enterprise; empty = --default-plan")
	c.stringFlag(&cfg.DefaultPlan, "default-plan", "PLAN", "the plan of accounts created without --plan")
	c.stringFlag(&in.name, "name", "NAME", "the account's display name; empty = the subdomain")
	c.stringFlag(&in.adminName, "admin-name", "NAME", "the admin's name; empty = the part of the email before @")
	c.stringFlag(&in.password, "admin-password", "PASSWORD", "the admin's password for the web UI (8+ characters); empty = API token only")
	c.boolFlag(&in.json, "json", "print one JSON object {subdomain, plan, admin_email, api_token, url} instead of a message")
	c.dataFlags(&cfg)
	// The server's address flags (and their TANDEM_ variables), so that the URL printed
	// is the one 'tandem serve' answers at with the same settings.
	c.stringFlag(&cfg.Server.Addr, "addr", "HOST:PORT", "the address 'tandem serve' listens on (for the URL printed)")
	c.stringFlag(&cfg.Server.BaseDomain, "base-domain", "DOMAIN", "accounts are served at {subdomain}.DOMAIN (for the URL printed)")
	c.stringFlag(&cfg.Server.MailDomain, "mail-domain", "DOMAIN", "the account's default support address is support@{subdomain}.DOMAIN; empty = the base domain")
	c.stringFlag(&cfg.Server.PublicURL, "public-url", "URL", "the server's external base URL, if set for 'tandem serve' (for the URL printed)")
	c.example = `  tandem account create --subdomain acme --admin-email admin@acme.test --plan professional
  TANDEM_ADMIN_PASSWORD=s3cret-pass tandem account create --subdomain acme --admin-email admin@acme.test`
	if help, err := c.parse(args, getenv, stdout); help || err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	in.sub = strings.ToLower(strings.TrimSpace(in.sub))
	for _, req := range []struct{ flag, value string }{{"subdomain", in.sub}, {"admin-email", in.email}} {
		if strings.TrimSpace(req.value) == "" {
			return usageError{fmt.Errorf("account create: --%s is required (run 'tandem account create --help' for usage)", req.flag)}
		}
	}
	if !account.ValidSubdomain(in.sub) {
		return usageError{fmt.Errorf("account create: --subdomain %q must be 2-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen", in.sub)}
	}
	plan := account.Plan(strings.ToLower(strings.TrimSpace(in.plan)))
	if plan == "" {
		plan = account.Plan(cfg.DefaultPlan)
	}
	if !plan.Valid() {
		return usageError{fmt.Errorf("account create: --plan %q must be team, growth, professional or enterprise", in.plan)}
	}
	if in.password != "" && len(in.password) < 8 {
		return usageError{fmt.Errorf("account create: --admin-password must be at least 8 characters")}
	}

	db, err := openDB(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := server.Provision(ctx, db, server.NewAccount{
		Subdomain:     in.sub,
		Name:          in.name,
		Plan:          plan,
		AdminEmail:    in.email,
		AdminName:     in.adminName,
		AdminPassword: in.password,
		// The account's default support address (inbound mail).
		SupportAddress: cfg.Server.SupportAddress(in.sub),
	})
	if err != nil {
		return fmt.Errorf("account create: %w", err)
	}

	url := server.AccountURL(cfg.Server, p.Account.Subdomain)
	if in.json {
		return json.NewEncoder(stdout).Encode(map[string]string{
			"url":         url,
			"subdomain":   p.Account.Subdomain,
			"plan":        string(p.Account.Plan),
			"admin_email": p.Admin.Email,
			"api_token":   p.APIToken,
		})
	}
	fmt.Fprintf(stdout, `Created account %q (%s plan) with admin %s.

API token for %s (shown only this once; keep it somewhere safe):

    %s

Try it (with 'tandem serve' running with the same --addr, --base-domain and --public-url):

    curl -u %s/token:%s %s/api/v2/tickets.json

The agent workspace is at %s/agent and the help center at %s/hc.
`, p.Account.Subdomain, p.Account.Plan.Title(), p.Admin.Email, p.Admin.Email, p.APIToken, p.Admin.Email, p.APIToken, url, url, url)
	return nil
}
