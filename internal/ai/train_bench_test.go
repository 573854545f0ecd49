package ai_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"tandem/internal/ai"
)

// BenchmarkTrain100k trains every target (a 77-value intent drop-down, group,
// priority, and 6 tags one-vs-rest) on 100,000 tickets, comparing both model kinds per
// target as a real training does, and reports the wall time and the peak heap in use
// (sampled every 10 ms) and the memory obtained from the system. The records are
// BANKING77 texts repeated with noise, so the accuracy it logs is not a figure of
// merit (the held-out part repeats training texts): only time and memory are.
func BenchmarkTrain100k(b *testing.B) {
	recs := synthHistory(b, 100000)
	set := &ai.Settings{Targets: []string{"custom_field_1", ai.TargetGroup, ai.TargetPriority, ai.TargetTags}, TagSet: []string{"cards", "team0", "team1", "team2", "team3", "team4"}}
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	var figs map[string]ai.Figures
	start := time.Now()
	for b.Loop() {
		_, figs = ai.FitRecords(context.Background(), recs, set)
	}
	close(stop)
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/train")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "sys-MB")
	for _, n := range []string{"custom_field_1", ai.TargetGroup, ai.TargetPriority, "tags:cards"} {
		f := figs[n]
		b.Logf("%s: %s top-1 %.3f coverage@0.95 %.3f (compared %v)", n, f.Kind, f.Top1, f.Coverage, f.Compared)
	}
}
