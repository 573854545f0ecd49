package server

import (
	"net"
	"strconv"
	"strings"

	"tandem/internal/account"
	"tandem/internal/ids"
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
