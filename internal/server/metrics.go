package server

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are per server (not global) so that several servers in one test process, or
// one process, each report their own.
type metrics struct {
	registry *prometheus.Registry
	duration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tandem_http_request_duration_seconds",
		Help:    "HTTP request latency by method and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "code"})
	m.registry.MustRegister(m.duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the server's Prometheus registry; other parts register collectors on it.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.registry }

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe measures and logs every request: one line at info level (method, path,
// status, duration, the account and, from the context, the request id), at error level
// for a 5xx.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// The path as the client sent it (the API strips ".json" from its copy).
		method, path := r.Method, r.URL.Path
		sw := &statusWriter{ResponseWriter: w}
		acct := &requestAccount{}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), requestAccountKey{}, acct)))
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		elapsed := time.Since(start)
		s.metrics.duration.WithLabelValues(method, strconv.Itoa(sw.code)).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		if sw.code >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "request", "method", method, "path", path, "status", sw.code,
			"duration_ms", float64(elapsed.Microseconds())/1000, "account", acct.subdomain, "host", r.Host)
	})
}

// requestAccount is where the request's account, once resolved from its host, is noted
// for its access line (the line is written outside the handlers that resolve it).
type requestAccount struct{ subdomain string }

type requestAccountKey struct{}

// noteAccount records the request's account for its access line.
func noteAccount(ctx context.Context, subdomain string) {
	if ra, ok := ctx.Value(requestAccountKey{}).(*requestAccount); ok {
		ra.subdomain = subdomain
	}
}

// gaugeFunc registers a gauge computed at scrape time.
func (s *Server) gaugeFunc(name, help string, f func(ctx context.Context) float64) {
	s.metrics.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return f(ctx)
	}))
}
