package server

import (
	"context"
	"net"
	"strconv"
	"strings"

	"tandem/internal/account"
	"tandem/internal/ids"
	"tandem/internal/rules"
	"tandem/internal/store"
)

func init() {
	// This file sorts before sharing.go, so the rules' before-hook is registered before
	// the sharing hook that carries out their share_ticket actions.
	extensions = append(extensions, setupRules)
	provisioners = append(provisioners, func(ctx context.Context, tx *store.Tx, p *Provisioned) error {
		return rules.Provision(ctx, tx, p.Account)
	})
}

// setupRules wires business rules: triggers on the ticket write path, and the triggers,
// views and macros APIs.
func setupRules(s *Server) error {
	svc := rules.New(s.db, s.log, rules.Config{TicketURL: s.ticketURL})
	s.Rules = svc
	s.Tickets.Before(svc.Run)
	s.API.MountRules(svc)
	return nil
}

// ticketURL is a ticket's agent URL, as {{ticket.url}} renders it.
func (s *Server) ticketURL(a *account.Account, id ids.Ticket) string {
	base := "http://" + a.Subdomain + "." + s.cfg.BaseDomain
	if _, port, err := net.SplitHostPort(s.cfg.Addr); err == nil && port != "80" && port != "0" {
		base += ":" + port
	}
	if s.cfg.PublicURL != "" {
		base = strings.TrimSuffix(strings.ReplaceAll(s.cfg.PublicURL, "{subdomain}", a.Subdomain), "/")
	}
	return base + "/agent/tickets/" + strconv.FormatInt(int64(id), 10)
}
