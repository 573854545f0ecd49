// Package demo fills a running Tandem with two ready help desks, Acme Outfitters (a
// retailer) and Globex Manufacturing (a manufacturer), their people, groups,
// organizations and realistic tickets, and describes how to reach them.
//
// Everything after each account's creation goes through the REST API over loopback, with
// the admin's API token, so the demo exercises exactly the code paths clients do. Seeding
// is idempotent: an account that already exists is left alone (its admin only gets a
// fresh API token, since tokens are shown once).
package demo

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Info describes the seeded demo: where each account is and how to sign in.
type Info struct {
	Accounts []*AccountInfo
	// Sharing is the agreement the demo set up (nil when the data existed already).
	Sharing *SharingInfo
	// AI is Acme's AI history, model and simulation (nil when the data existed already).
	AI *AIInfo
	// DKIM is Acme's DKIM key (nil when the data existed already, or the server has no
	// secret key to seal it with).
	DKIM *DKIMInfo
}

// AccountInfo is one demo account.
type AccountInfo struct {
	Subdomain   string
	Name        string
	Description string
	Plan        account.Plan
	// URL is the account's base URL, e.g. http://acme.localhost:8080.
	URL           string
	AdminName     string
	AdminEmail    string
	AdminPassword string
	// APIToken is the admin's API token: the one made with the account, or a fresh one
	// when the account already existed.
	APIToken      string
	Agents        []string // "Name <email>"
	Groups        []string
	Organizations []string
	EndUsers      []string // "Name <email> (Org)"
	Tickets       int      // the account's tickets once seeded (shared ones received included)
	// Created is false when the account already existed and was left as it was.
	Created bool
}

// Account returns the account with the subdomain, or nil.
func (in *Info) Account(sub string) *AccountInfo {
	for _, a := range in.Accounts {
		if a.Subdomain == sub {
			return a
		}
	}
	return nil
}

// Seed creates the demo accounts on srv, which must already be serving on addr (the
// listener's address, e.g. "[::]:8080" or "127.0.0.1:41234"), and returns how to reach
// them. Accounts that exist already are not touched beyond a fresh admin API token.
func Seed(ctx context.Context, srv *server.Server, addr string) (*Info, error) {
	return SeedWith(ctx, srv, addr, Options{})
}

// Options changes what Seed writes.
type Options struct {
	// SkipAI leaves out Acme's AI history, models and simulation (ai.go): 1,200 solved
	// tickets written through the write paths, which tests that look at other parts of
	// the demo need not pay for.
	SkipAI bool
}

// SeedWith is Seed with options.
func SeedWith(ctx context.Context, srv *server.Server, addr string, opt Options) (*Info, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("demo: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // listening on every interface: reach it on loopback
	}
	s := &seeder{
		srv:        srv,
		dial:       net.JoinHostPort(host, port),
		port:       port,
		baseDomain: srv.Config().BaseDomain,
		http:       &http.Client{Timeout: 60 * time.Second},
	}

	info := &Info{}
	for _, spec := range accounts() {
		a, err := s.account(ctx, spec)
		if err != nil {
			return nil, err
		}
		info.Accounts = append(info.Accounts, a)
	}
	// What spans both accounts comes once both exist: Acme shares its warranty claims
	// with Globex. On a re-run the agreement exists already and is left alone.
	acme, globex := info.Account("acme"), info.Account("globex")
	if acme != nil && globex != nil && acme.Created && globex.Created {
		if info.Sharing, err = s.seedSharing(ctx, acme, globex); err != nil {
			return nil, fmt.Errorf("demo: setting up ticket sharing between acme and globex failed:\n%w", err)
		}
	}
	// The AI layer (ai.go): Acme's synthetic history, a trained model, a simulation.
	if acme != nil && acme.Created && !opt.SkipAI {
		spec := accounts()[0]
		var agents []string
		for _, p := range spec.Agents {
			agents = append(agents, p.Email)
		}
		if info.AI, err = seedAI(ctx, s.srv, acme.Subdomain, agents, spec.Admin.Email); err != nil {
			return nil, fmt.Errorf("demo: seeding acme's AI history failed:\n%w", err)
		}
		// The assist half needs the trained models (ai_assist.go).
		a := &accountSeed{spec: spec, api: &client{http: s.http, dial: s.dial, host: s.host(acme.Subdomain), email: spec.Admin.Email, token: acme.APIToken}}
		if err := seedAssist(ctx, a); err != nil {
			return nil, fmt.Errorf("demo: setting up acme's AI assist failed:\n%w", err)
		}
	}
	// Acme signs its mail with its own DKIM key (dkim.go); Admin > Email shows the record.
	if acme != nil && acme.Created {
		a := &accountSeed{spec: accounts()[0], api: &client{http: s.http, dial: s.dial, host: s.host(acme.Subdomain), email: acme.AdminEmail, token: acme.APIToken}}
		if info.DKIM, err = seedDKIM(ctx, a); err != nil {
			return nil, fmt.Errorf("demo: generating acme's DKIM key failed:\n%w", err)
		}
	}
	// The counts printed are the accounts' own, after sharing (a trigger's share adds one
	// at Acme; Globex holds the copies it received).
	for _, a := range info.Accounts {
		acct, err := s.srv.Accounts.BySubdomain(ctx, a.Subdomain)
		if err != nil {
			return nil, err
		}
		if a.Tickets, err = ticket.LiveCount(ctx, s.srv.DB().R(), acct.ID); err != nil {
			return nil, fmt.Errorf("demo: count %s's tickets: %w", a.Subdomain, err)
		}
	}
	return info, nil
}

// seeder holds what every seeding step needs.
type seeder struct {
	srv        *server.Server
	dial       string
	port       string
	baseDomain string
	http       *http.Client
}

// host is the Host header addressing an account.
func (s *seeder) host(sub string) string {
	if s.port == "80" {
		return sub + "." + s.baseDomain
	}
	return sub + "." + s.baseDomain + ":" + s.port
}

// account creates and fills one account, or describes it if it exists already.
func (s *seeder) account(ctx context.Context, spec accountSpec) (*AccountInfo, error) {
	info := describe(spec, "http://"+s.host(spec.Subdomain))
	existing, err := s.srv.Accounts.BySubdomain(ctx, spec.Subdomain)
	switch {
	case err == nil:
		if info.APIToken, err = s.freshToken(ctx, existing, spec.Admin.Email); err != nil {
			return nil, err
		}
		return info, nil
	case !errs.Is(err, errs.NotFound):
		return nil, fmt.Errorf("demo: look up account %s: %w", spec.Subdomain, err)
	}

	p, err := server.Provision(ctx, s.srv.DB(), server.NewAccount{
		Subdomain:     spec.Subdomain,
		Name:          spec.Name,
		Plan:          spec.Plan,
		AdminEmail:    spec.Admin.Email,
		AdminName:     spec.Admin.Name,
		AdminPassword: Password,
		// The account's default support address (inbound mail).
		SupportAddress: s.srv.Config().SupportAddress(spec.Subdomain),
	})
	if err != nil {
		return nil, fmt.Errorf("demo: create account %s: %w", spec.Subdomain, err)
	}
	info.APIToken, info.Created = p.APIToken, true
	a := &accountSeed{
		spec: spec,
		api: &client{
			http: s.http, dial: s.dial, host: s.host(spec.Subdomain),
			email: p.Admin.Email, token: p.APIToken,
		},
		users:  map[string]int64{p.Admin.Email: int64(p.Admin.ID)},
		groups: map[string]int64{},
		orgs:   map[string]int64{},
	}
	// The order matters: groups need agents, organizations need groups, customers need
	// organizations, tickets need all of them.
	steps := []struct {
		name string
		run  func(context.Context, *accountSeed) error
	}{
		{"agents", seedAgents},
		{"groups", seedGroups},
		{"organizations", seedOrgs},
		{"customers", seedCustomers},
		{"service levels", seedServiceLevels}, // issue 18: before the tickets, which then get targets
		{"tickets", seedTickets},
		{"satisfaction ratings", seedRatings}, // issue 18: requesters rate solved tickets (satisfaction.go)
		{"help center", seedHelpCenter},       // knowledge base articles (kb.go)
		{"macros", seedMacros},                // shared macros and the first agent's personal one
		{"attachments", seedAttachments},      // files.go
		{"webhooks", seedWebhooks},            // webhooks.go: an inactive team chat webhook and its trigger
	}
	for _, st := range steps {
		if err := st.run(ctx, a); err != nil {
			return nil, fmt.Errorf("demo: seeding the %s of %s failed (the account was created but is incomplete; "+
				"start again on an empty data directory or database):\n%w", st.name, spec.Subdomain, err)
		}
	}
	return info, nil
}

// freshToken issues a new API token for the admin of an existing demo account.
func (s *seeder) freshToken(ctx context.Context, a *account.Account, email string) (string, error) {
	var tok string
	err := s.srv.DB().Write(ctx, func(tx *store.Tx) error {
		u, err := identity.ByEmail(ctx, tx, a.ID, email)
		if err != nil {
			return err
		}
		tok, err = identity.CreateToken(ctx, tx, a.ID, u.ID, "demo")
		return err
	})
	if err != nil {
		return "", fmt.Errorf("demo: new API token for %s in %s: %w", email, a.Subdomain, err)
	}
	return tok, nil
}

// describe builds the printable description of an account from its spec.
func describe(spec accountSpec, url string) *AccountInfo {
	in := &AccountInfo{
		Subdomain:     spec.Subdomain,
		Name:          spec.Name,
		Description:   spec.Description,
		Plan:          spec.Plan,
		URL:           url,
		AdminName:     spec.Admin.Name,
		AdminEmail:    spec.Admin.Email,
		AdminPassword: Password,
		Tickets:       len(spec.Tickets),
	}
	for _, p := range spec.Agents {
		in.Agents = append(in.Agents, fmt.Sprintf("%s <%s>", p.Name, p.Email))
	}
	for _, g := range spec.Groups {
		in.Groups = append(in.Groups, g.Name)
	}
	for _, o := range spec.Orgs {
		in.Organizations = append(in.Organizations, o.Name)
	}
	for _, c := range spec.Customers {
		s := fmt.Sprintf("%s <%s>", c.Name, c.Email)
		if c.Org != "" {
			s += " (" + c.Org + ")"
		}
		in.EndUsers = append(in.EndUsers, s)
	}
	return in
}
