package server

import "context"

// mailMetrics exports the outgoing mail queue's backlog, as sharingMetrics does the
// sharing outbox's (both are internal/delivery queues).
func (s *Server) mailMetrics() {
	s.gaugeFunc("tandem_mail_outbox_pending", "Outgoing mails waiting to be accepted by the relay.", func(ctx context.Context) float64 {
		n, _, _ := s.MailOut.Stats(ctx)
		return float64(n)
	})
	s.gaugeFunc("tandem_mail_outbox_oldest_pending_seconds", "Age of the oldest outgoing mail not yet accepted by the relay.", func(ctx context.Context) float64 {
		_, age, _ := s.MailOut.Stats(ctx)
		return age.Seconds()
	})
}
