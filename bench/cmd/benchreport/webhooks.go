package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"tandem/bench"
	"tandem/internal/store"
)

// webhookSuite measures webhook calls: commit-to-delivery latency at 100 and 1,000
// changes/s, and the drain of a backlog.
func webhookSuite(e *env, d store.Dialect, b *strings.Builder, dur time.Duration) error {
	db, err := e.open(d, "webhooks")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: webhook latency...\n", d)
	res, err := bench.WebhookLatency(db, []int{100, 1000}, min(dur, 3*time.Second))
	db.Close()
	if err != nil {
		return fmt.Errorf("webhook benchmark: %w", err)
	}
	b.WriteString("### Webhooks: from the change's transaction to the receiver (internal/webhook/send through internal/delivery)\n\n")
	b.WriteString("Ticket changes (a comment each, 50 tickets in turn) through the ticket write path, open loop at the target rate; a trigger calls a webhook on a loopback HTTP receiver for each. Latency is the call's arrival at the receiver minus the time its row was written in the change's transaction (same clock). Delivered is calls received per second from the first change to the last call.\n\n")
	fmt.Fprintf(b, "Load average at the start: %s. CPU per call is the whole process's (server, queue, receiver and load generator) over the level.\n\n", bench.LoadAverage())
	b.WriteString("| target changes/s | committed/s | delivered/s | calls | p50 | p99 | CPU per call |\n|---|---|---|---|---|---|---|\n")
	for _, r := range res {
		fmt.Fprintf(b, "| %d | %.0f | %.0f | %d | %s | %s | %s |\n", r.Rate, r.Achieved, r.Delivered, r.N, bench.Ms(r.P50), bench.Ms(r.P99), bench.Ms(r.CPUPerCall()))
	}
	db, err = e.open(d, "webhook-drain")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: webhook backlog...\n", d)
	dr, err := bench.WebhookDrain(db, 5000)
	db.Close()
	if err != nil {
		return fmt.Errorf("webhook drain benchmark: %w", err)
	}
	fmt.Fprintf(b, "\nThroughput: %d calls queued 500 to a transaction on 50 tickets' lanes and delivered to the receiver in %s (**%.0f calls/s**, queuing included; one call in flight per ticket, signed, each attempt logged; %s CPU per call; %.2f claim transactions per call; load average %s).\n\n",
		dr.Calls, dr.Elapsed.Round(time.Millisecond), float64(dr.Calls)/dr.Elapsed.Seconds(), bench.Ms(dr.CPU/time.Duration(dr.Calls)), float64(dr.Claims)/float64(dr.Calls), bench.LoadAverage())
	return nil
}
