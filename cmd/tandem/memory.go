package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// defaultMemoryLimit is the Go runtime's soft memory limit for `tandem serve` when the
// GOMEMLIMIT environment variable does not set one: past it the collector runs more
// often (never using more than half the CPU for it, so a heap that truly needs more
// still grows) and returns freed memory to the system sooner, so that a burst of large
// pages does not leave the process holding hundreds of megabytes when it goes idle.
const defaultMemoryLimit = 160 << 20

// applyMemoryLimit sets the default soft memory limit unless GOMEMLIMIT set one (the
// runtime has then applied it already).
func applyMemoryLimit(getenv func(string) string, log *slog.Logger) {
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	log.Debug("soft memory limit", "bytes", defaultMemoryLimit, "set_by", "default (GOMEMLIMIT unset)")
}

// idleCheck is how often releaseWhenIdle looks whether the process has gone quiet.
const idleCheck = 15 * time.Second

// releaseWhenIdle returns the Go heap's free memory to the system once the server has
// gone quiet. The runtime's own scavenger gives it back slowly, and a heap that stops
// growing is not collected again for two minutes, so after a burst of requests the
// process would keep its garbage and free pages resident. Quiet means that no
// collection ran during a whole check (a server answering requests collects many
// times a second); the first quiet check after some collections calls
// debug.FreeOSMemory once (a collection and a scavenge: a few milliseconds of CPU for
// a heap of tens of megabytes).
func releaseWhenIdle(ctx context.Context, every time.Duration, log *slog.Logger) {
	sample := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	cycles := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	q := quiet{seen: cycles(), released: true}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if q.check(cycles()) {
			debug.FreeOSMemory()
			q.seen = cycles() // FreeOSMemory's own collection is not activity
			log.Debug("idle: returned free memory to the system")
		}
	}
}

// quiet tells from the collector's cycle count when to release memory: at the first
// check that saw no collection after one that did.
type quiet struct {
	seen     uint64 // cycles at the last check
	released bool   // released since the last collection
}

// check takes the cycle count now and reports whether to release.
func (q *quiet) check(cycles uint64) bool {
	if cycles != q.seen {
		q.seen, q.released = cycles, false
		return false
	}
	if q.released {
		return false
	}
	q.released = true
	return true
}
