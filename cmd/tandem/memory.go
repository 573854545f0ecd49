package main

import (
	"log/slog"
	"runtime/debug"
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
