package server

import (
	"context"
	"net/http"

	"tandem/internal/sharing"
	"tandem/internal/sharing/peer"
)

func init() { extensions = append(extensions, setupSharing) }

// setupSharing wires ticket sharing: the service and its hooks on the write path, the
// protocol endpoints under /sharing/, the agreements API, the outbox worker and metrics.
func setupSharing(s *Server) error {
	tr := &sharing.NetTransport{
		BaseDomain: s.cfg.BaseDomain,
		Remote:     peer.New(peer.Options{AllowPrivate: s.cfg.AllowPrivatePartners}),
		// Accounts on this server are reached through this server's own handler.
		Local: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.Handler().ServeHTTP(w, r) }),
	}
	svc := sharing.New(s.db, s.Tickets, s.Accounts, tr, s.log, sharing.Config{MaxBackoff: s.cfg.SharingMaxBackoff})
	s.Sharing = svc
	s.API.SetSharing(svc)
	protocol := svc.Handler()
	s.MountRoot(func(mux *http.ServeMux) { mux.Handle("/sharing/", s.tenant(protocol)) })
	s.AddWorker(svc.Run)
	s.gaugeFunc("tandem_sharing_outbox_pending", "Protocol calls waiting for delivery to partners.", func(ctx context.Context) float64 {
		n, _, _ := svc.OutboxStats(ctx)
		return float64(n)
	})
	s.gaugeFunc("tandem_sharing_outbox_oldest_pending_seconds", "Age of the oldest undelivered protocol call.", func(ctx context.Context) float64 {
		_, age, _ := svc.OutboxStats(ctx)
		return age.Seconds()
	})
	s.metrics.registry.MustRegister(&failureCollector{svc: svc})
	return nil
}
