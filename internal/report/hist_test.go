package report

import (
	"testing"
	"time"
)

// TestBucketPrecision: a duration's bucket starts at or below it, exactly at its whole
// minute under 64 minutes and at most 1/32 below it above; buckets are in the order of
// the durations they hold.
func TestBucketPrecision(t *testing.T) {
	t.Parallel()
	last := int64(-1)
	for m := int64(0); m < 2*366*24*60; m += 1 + m/200 {
		d := time.Duration(m)*time.Minute + 37*time.Second
		b := bucketOf(d)
		start := bucketStart(b)
		if b < last {
			t.Fatalf("%s: bucket %d after %d", d, b, last)
		}
		last = b
		switch {
		case start > d:
			t.Fatalf("%s: bucket starts at %s, after it", d, start)
		case m < 64 && start != time.Duration(m)*time.Minute:
			t.Fatalf("%s: bucket starts at %s, want its minute", d, start)
		case m >= 64 && time.Duration(m)*time.Minute-start > time.Duration(m)*time.Minute/32:
			t.Fatalf("%s: bucket starts at %s, more than 1/32 below", d, start)
		case bucketOf(start) != b:
			t.Fatalf("%s: the start of bucket %d is in bucket %d", d, b, bucketOf(start))
		}
	}
	if bucketOf(-time.Hour) != 0 {
		t.Fatal("a negative duration is not in bucket 0")
	}
	h := hist{bucketOf(5 * time.Minute): 5, bucketOf(2 * time.Hour): 4, bucketOf(100 * time.Hour): 1}
	if got := h.times(); got.Count != 10 || got.P50 != 5*time.Minute || got.P90 != 2*time.Hour || got.Max != bucketStart(bucketOf(100*time.Hour)) {
		t.Fatalf("times %+v", got)
	}
}
