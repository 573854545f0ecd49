package sla

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// randomHours builds a random schedule: a few intervals a week (some crossing
// midnight), in a zone with or without daylight saving, with a few holidays.
func randomHours(t *testing.T, r *rand.Rand, start time.Time) (*Hours, string) {
	zones := []string{"UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Adelaide", "America/St_Johns", "Pacific/Chatham"}
	zone := zones[r.IntN(len(zones))]
	var ivs []Interval
	at := r.IntN(600)
	for at < MinutesPerWeek-30 && len(ivs) < 12 {
		end := min(at+15+r.IntN(900), MinutesPerWeek)
		ivs = append(ivs, Interval{Start: at, End: end})
		at = end + r.IntN(1500)
	}
	var hols []Holiday
	for i := range r.IntN(4) {
		d := start.AddDate(0, 0, r.IntN(30))
		hols = append(hols, Holiday{Name: fmt.Sprint(i), Start: d.Format(time.DateOnly), End: d.AddDate(0, 0, r.IntN(3)).Format(time.DateOnly)})
	}
	if err := ValidateSchedule("s", zone, ivs, hols); err != nil {
		t.Fatalf("random schedule invalid: %v", err)
	}
	h, err := NewHours(zone, ivs, hols)
	if err != nil {
		t.Fatal(err)
	}
	return h, fmt.Sprintf("%s %v %v", zone, ivs, hols)
}

// TestClockAgainstMinuteWalk compares the breach time of a pausable clock over random
// schedules, holidays and pause/resume changes (a ticket going pending and back) with
// a brute-force walk, minute by minute, of the same definition: a minute counts when
// the clock runs and Open says the schedule is open.
func TestClockAgainstMinuteWalk(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(18, 2026))
	// Around the 2026 daylight-saving changes of both hemispheres.
	bases := []time.Time{time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)}
	for i := range 120 {
		base := bases[i%len(bases)]
		h, desc := randomHours(t, r, base)
		start := base.Add(time.Duration(r.IntN(14*24*60)) * time.Minute)
		target := time.Duration(1+r.IntN(3000)) * time.Minute
		// Pause/resume changes at random minutes after the start.
		var changes []time.Time
		at := start
		for range r.IntN(6) {
			at = at.Add(time.Duration(1+r.IntN(3000)) * time.Minute)
			changes = append(changes, at)
		}
		// The computed breach.
		c := Clock{Target: target}
		c.Start(start)
		running := true
		for _, ch := range changes {
			if running {
				c.Pause(h, ch)
			} else {
				c.Start(ch)
			}
			running = !running
		}
		got := c.Due(h)
		// The walk.
		var want time.Time
		count, run, next := time.Duration(0), true, 0
		for m := start; m.Before(start.Add(60 * 24 * time.Hour)); m = m.Add(time.Minute) {
			for next < len(changes) && !changes[next].After(m) {
				run = !run
				next++
			}
			if run && h.Open(m) {
				count += time.Minute
				if count == target {
					want = m.Add(time.Minute)
					break
				}
			}
		}
		if want.IsZero() && !running && got.IsZero() {
			continue // paused before running out: no breach time
		}
		if !got.Equal(want) {
			t.Fatalf("case %d: schedule %s, start %s, target %s, changes %v:\ncomputed breach %s, walk says %s",
				i, desc, start, target, strings.Join(fmtTimes(changes), " "), got, want)
		}
	}
}

func fmtTimes(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Format(time.RFC3339)
	}
	return out
}

// TestBetweenAgainstMinuteWalk checks Between with the same walk.
func TestBetweenAgainstMinuteWalk(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 18))
	base := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	for i := range 80 {
		h, desc := randomHours(t, r, base)
		a := base.Add(time.Duration(r.IntN(20*24*60)) * time.Minute)
		b := a.Add(time.Duration(r.IntN(8*24*60)) * time.Minute)
		var want time.Duration
		for m := a; m.Before(b); m = m.Add(time.Minute) {
			if h.Open(m) {
				want += time.Minute
			}
		}
		if got := h.Between(a, b); got != want {
			t.Fatalf("case %d: %s from %s to %s: Between %s, walk %s", i, desc, a, b, got, want)
		}
	}
}

func TestValidateSchedule(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, zone string
		ivs        []Interval
		hols       []Holiday
		want       string
	}{
		{"unknown zone", "Mars/Olympus", nil, nil, "not a time zone"},
		{"overlap", "UTC", []Interval{{0, 600}, {500, 700}}, nil, "overlap"},
		{"reversed", "UTC", []Interval{{700, 600}}, nil, "start_time < end_time"},
		{"past the week", "UTC", []Interval{{10000, 10081}}, nil, "10080"},
		{"bad holiday", "UTC", nil, []Holiday{{Name: "x", Start: "2026-13-01", End: "2026-13-02"}}, "must be dates"},
		{"holiday backwards", "UTC", nil, []Holiday{{Name: "x", Start: "2026-12-26", End: "2026-12-25"}}, "before start_date"},
	}
	for _, tc := range cases {
		err := ValidateSchedule("s", tc.zone, tc.ivs, tc.hols)
		if err == nil || !strings.Contains(fmt.Sprintf("%+v", err), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
