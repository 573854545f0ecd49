package server

import "context"

// webhookMetrics exports the webhook queue's backlog, as mailMetrics does the mail
// queue's (both are internal/delivery queues).
func (s *Server) webhookMetrics() {
	s.gaugeFunc("tandem_webhook_outbox_pending", "Webhook calls waiting to be delivered.", func(ctx context.Context) float64 {
		n, _, _ := s.Webhooks.Stats(ctx)
		return float64(n)
	})
	s.gaugeFunc("tandem_webhook_outbox_oldest_pending_seconds", "Age of the oldest webhook call not yet delivered.", func(ctx context.Context) float64 {
		_, age, _ := s.Webhooks.Stats(ctx)
		return age.Seconds()
	})
}
