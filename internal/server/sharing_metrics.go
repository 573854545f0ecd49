package server

import (
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
