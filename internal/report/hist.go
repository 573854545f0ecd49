package report

import (
	"math/bits"
	"time"
)

// Durations (first reply, resolution, a partner's response) are counted in fixed
// histogram buckets so that daily aggregates can be added up over any range and a
// ticket's contribution taken back out when it changes:
//
//   - under 64 minutes, one bucket per whole minute (the duration rounded down to the
//     minute);
//   - from 64 minutes on, 32 buckets per doubling: a bucket spans 2^e minutes and starts
//     at a multiple of it, so a duration is at most 1/32 (3.2 %) above its bucket's start.
//
// A percentile is the start of the bucket holding the nearest-rank sample: the exact
// percentile rounded down to the minute under 64 minutes and by at most 3.2 % above.
// The reports read from rows quantize the same way, so both paths give the same numbers.

// bucketOf is a duration's bucket (negative durations count as 0).
func bucketOf(d time.Duration) int64 {
	m := int64(d / time.Minute)
	if m < 64 {
		return max(m, 0)
	}
	e := int64(bits.Len64(uint64(m))) - 6 // m >> e is in [32, 64)
	return 64 + (e-1)*32 + (m>>e - 32)
}

// bucketStart is the smallest duration of a bucket.
func bucketStart(b int64) time.Duration {
	if b < 64 {
		return time.Duration(b) * time.Minute
	}
	e := (b-64)/32 + 1
	top := (b-64)%32 + 32
	return time.Duration(top<<e) * time.Minute
}

// hist is a histogram of bucket counts.
type hist map[int64]int

// times gives the nearest-rank 50th and 90th percentiles and the maximum, as bucket
// starts.
func (h hist) times() Times {
	n := 0
	var keys []int64
	for b, c := range h {
		if c > 0 {
			n += c
			keys = append(keys, b)
		}
	}
	if n == 0 {
		return Times{}
	}
	sortInt64(keys)
	rank := func(p int) time.Duration {
		want := max((p*n+99)/100, 1)
		seen := 0
		for _, b := range keys {
			seen += h[b]
			if seen >= want {
				return bucketStart(b)
			}
		}
		return bucketStart(keys[len(keys)-1])
	}
	return Times{Count: n, P50: rank(50), P90: rank(90), Max: bucketStart(keys[len(keys)-1])}
}
