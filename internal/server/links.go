package server

import (
	"net"
	"strconv"
	"strings"

	"tandem/internal/account"
	"tandem/internal/ids"
)

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
