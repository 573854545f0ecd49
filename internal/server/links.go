package server

import (
	"context"
	"net"
	"strconv"
	"strings"

	"tandem/internal/account"
	"tandem/internal/ids"
	"tandem/internal/satisfaction"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// AccountURL is an account's base URL as a server configured with cfg serves it: the
// public URL when one is set, else http://{subdomain}.{base domain} with the listen port
// (none for 80, or for 0, a port chosen at start that no configuration knows).
func AccountURL(cfg Config, subdomain string) string {
	if cfg.PublicURL != "" {
		return strings.TrimSuffix(strings.ReplaceAll(cfg.PublicURL, "{subdomain}", subdomain), "/")
	}
	base := "http://" + subdomain + "." + cfg.BaseDomain
	if _, port, err := net.SplitHostPort(cfg.Addr); err == nil && port != "80" && port != "0" && port != "" {
		base += ":" + port
	}
	return base
}

// ticketURL is a ticket's agent URL, as {{ticket.url}} renders it.
func (s *Server) ticketURL(a *account.Account, id ids.Ticket) string {
	return AccountURL(s.cfg, a.Subdomain) + "/agent/tickets/" + strconv.FormatInt(int64(id), 10)
}

// ratingURL is the signed page on which a ticket's requester rates it, as
// {{satisfaction.rating_url}} renders it (q is the write's transaction, which creates
// the account's signing key on first use).
func (s *Server) ratingURL(ctx context.Context, q store.Queryer, a *account.Account, t *ticket.Ticket) string {
	p, err := satisfaction.LinkPath(ctx, q, a.ID, t, store.Now())
	if err != nil {
		s.log.ErrorContext(ctx, "rating link", "account", a.ID, "ticket", t.ID, "err", err)
		return ""
	}
	return AccountURL(s.cfg, a.Subdomain) + p
}
