package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"tandem/bench"
	"tandem/internal/store"
)

// sharingSuite measures sharing between two desks: commit-to-visible latency at 50 and
// 500 updates/s, and the drain of a backlog after the receiver's outage. On PostgreSQL
// the sending side is two servers on one database (two processes behind a load
// balancer: each its own connection pool and delivery queue), updates going to each in
// turn.
func sharingSuite(e *env, d store.Dialect, b *strings.Builder, dur time.Duration) error {
	senders := "one sending server"
	if d == store.Postgres {
		senders = "two sending servers on one database"
	}
	open := func(name string) (sender *store.DB, more []*store.DB, receiver *store.DB, err error) {
		if sender, err = e.open(d, name+"-a"); err != nil {
			return nil, nil, nil, err
		}
		if d == store.Postgres {
			second, err := store.Open(context.Background(), e.last)
			if err != nil {
				return nil, nil, nil, err
			}
			more = append(more, second)
		}
		receiver, err = e.open(d, name+"-b")
		return sender, more, receiver, err
	}
	closeAll := func(dbs ...*store.DB) {
		for _, db := range dbs {
			db.Close()
		}
	}
	dbA, more, dbB, err := open("share")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: sharing sync latency (%s)...\n", d, senders)
	load := bench.LoadAverage()
	res, err := bench.SyncLatency(dbA, dbB, []int{50, 500}, 2*dur, more...)
	closeAll(append(more, dbA, dbB)...)
	if err != nil {
		return fmt.Errorf("sharing benchmark: %w", err)
	}
	fmt.Fprintf(b, "### Sharing: commit on the sender to visible on the receiver (%s, 20 shared tickets)\n\n", senders)
	fmt.Fprintf(b, "Latency is the receiver's audit time minus the sender's audit time for the same comment (same clock). Load average at the start: %s. CPU per update is this process's (every server and the load generator; not PostgreSQL's).\n\n", load)
	b.WriteString("| target updates/s | achieved | updates | p50 | p99 | CPU per update |\n|---|---|---|---|---|---|\n")
	for _, r := range res {
		fmt.Fprintf(b, "| %d | %.0f | %d | %s | %s | %s |\n", r.Rate, r.Achieved, r.N, bench.Ms(r.P50), bench.Ms(r.P99), bench.Ms(r.CPUPerUpdate()))
	}
	if dbA, more, dbB, err = open("drain"); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: backlog drain...\n", d)
	load = bench.LoadAverage()
	dr, err := bench.BacklogDrain(dbA, dbB, 2000, more...)
	closeAll(append(more, dbA, dbB)...)
	if err != nil {
		return fmt.Errorf("drain benchmark: %w", err)
	}
	fmt.Fprintf(b, "\nBacklog drain after an outage: %d queued updates delivered in %s from the receiver's restart (%.0f updates/s, including up to one retry interval before the first attempt), **%s from the first delivery (%.0f updates/s)**; %s CPU per update; load average %s.\n\n",
		dr.Updates, dr.Elapsed.Round(time.Millisecond), float64(dr.Updates)/dr.Elapsed.Seconds(),
		dr.FromFirst.Round(time.Millisecond), float64(dr.Updates)/dr.FromFirst.Seconds(), bench.Ms(dr.CPU/time.Duration(dr.Updates)), load)
	return nil
}
