package server

import (
	"context"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"tandem/internal/sharing"
)

var failureDesc = prometheus.NewDesc("tandem_sharing_delivery_failures_total", "Failed delivery attempts to partners, by agreement.", []string{"agreement_id"}, nil)

// failureCollector exports the sharing service's per-agreement failure counts.
type failureCollector struct{ svc *sharing.Service }

func (c *failureCollector) Describe(ch chan<- *prometheus.Desc) { ch <- failureDesc }

func (c *failureCollector) Collect(ch chan<- prometheus.Metric) {
	for id, n := range c.svc.Failures() {
		ch <- prometheus.MustNewConstMetric(failureDesc, prometheus.CounterValue, float64(n), strconv.FormatInt(id, 10))
	}
}

// sharingMetrics exports the outbox's backlog and the delivery failures.
func (s *Server) sharingMetrics() {
	s.gaugeFunc("tandem_sharing_outbox_pending", "Protocol calls waiting for delivery to partners.", func(ctx context.Context) float64 {
		n, _, _ := s.Sharing.OutboxStats(ctx)
		return float64(n)
	})
	s.gaugeFunc("tandem_sharing_outbox_oldest_pending_seconds", "Age of the oldest undelivered protocol call.", func(ctx context.Context) float64 {
		_, age, _ := s.Sharing.OutboxStats(ctx)
		return age.Seconds()
	})
	s.metrics.registry.MustRegister(&failureCollector{svc: s.Sharing})
}
