// Package sla holds Tandem's service levels: business-hours schedules (weekly intervals
// in a time zone, with holidays), the clock arithmetic over them, SLA policies (targets
// per priority, in business or calendar time) and the per-ticket targets the ticket
// write path keeps current.
package sla

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"tandem/internal/errs"
)

// MinutesPerWeek is the span of a schedule's intervals: minutes from Sunday 00:00.
const MinutesPerWeek = 7 * 24 * 60

// Interval is a weekly span of business time, in minutes from Sunday 00:00 local time
// (Zendesk's start_time, end_time); End is exclusive.
type Interval struct {
	Start int `json:"start_time"`
	End   int `json:"end_time"`
}

// Holiday is a run of whole local days without business hours, Start to End inclusive
// ("2026-12-25").
type Holiday struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Start string `json:"start_date"`
	End   string `json:"end_date"`
}

// Hours is the arithmetic of a schedule: its intervals in its zone, minus its holidays.
// The zero Hours (no zone) is calendar time: every minute counts.
type Hours struct {
	loc       *time.Location
	intervals []Interval
	holidays  map[string]bool
}

// Calendar is calendar time: every minute counts.
var Calendar = &Hours{}

// zones holds the time zones loaded so far, by name: time.LoadLocation reads and parses
// the zone file at every call, and ticket writes ask for the account's zone each time.
var zones sync.Map // string -> *time.Location

// LoadZone is time.LoadLocation, remembered per name (only zones that loaded).
func LoadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// NewHours builds the arithmetic of a validated schedule.
func NewHours(zone string, intervals []Interval, holidays []Holiday) (*Hours, error) {
	loc, err := LoadZone(zone)
	if err != nil {
		return nil, fmt.Errorf("sla: time zone %q: %w", zone, err)
	}
	h := &Hours{loc: loc, intervals: slices.Clone(intervals), holidays: map[string]bool{}}
	sort.Slice(h.intervals, func(i, j int) bool { return h.intervals[i].Start < h.intervals[j].Start })
	for _, d := range holidays {
		from, err1 := time.Parse(time.DateOnly, d.Start)
		to, err2 := time.Parse(time.DateOnly, d.End)
		if err1 != nil || err2 != nil {
			continue
		}
		for day := from; !day.After(to); day = day.AddDate(0, 0, 1) {
			h.holidays[day.Format(time.DateOnly)] = true
		}
	}
	return h, nil
}

// ValidateSchedule checks a schedule as Zendesk does, naming every problem: a known time
// zone, intervals inside the week with start before end, no two overlapping, and
// holidays with valid dates in order.
func ValidateSchedule(name, zone string, intervals []Interval, holidays []Holiday) error {
	var v errs.Validation
	if name == "" {
		v.Blank("name")
	}
	if zone == "" {
		v.Blank("time_zone")
	} else if _, err := time.LoadLocation(zone); err != nil || zone == "Local" {
		v.Add("time_zone", "InvalidValue", fmt.Sprintf("%q is not a time zone (use an IANA name such as Europe/Paris or America/New_York)", zone))
	}
	for i, iv := range intervals {
		if iv.Start < 0 || iv.End > MinutesPerWeek || iv.Start >= iv.End {
			v.Add(fmt.Sprintf("intervals[%d]", i), "InvalidValue", fmt.Sprintf("start_time %d and end_time %d must satisfy 0 <= start_time < end_time <= %d (minutes from Sunday 00:00)", iv.Start, iv.End, MinutesPerWeek))
		}
	}
	sorted := slices.Clone(intervals)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Start < sorted[i-1].End {
			v.Add("intervals", "Overlapping", fmt.Sprintf("the intervals %d-%d and %d-%d overlap", sorted[i-1].Start, sorted[i-1].End, sorted[i].Start, sorted[i].End))
		}
	}
	for i, d := range holidays {
		from, err1 := time.Parse(time.DateOnly, d.Start)
		to, err2 := time.Parse(time.DateOnly, d.End)
		switch {
		case d.Name == "":
			v.Blank(fmt.Sprintf("holidays[%d].name", i))
		case err1 != nil || err2 != nil:
			v.Add(fmt.Sprintf("holidays[%d]", i), "InvalidValue", "start_date and end_date must be dates (YYYY-MM-DD)")
		case to.Before(from):
			v.Add(fmt.Sprintf("holidays[%d]", i), "InvalidValue", "end_date is before start_date")
		case to.Sub(from) > 366*24*time.Hour:
			v.Add(fmt.Sprintf("holidays[%d]", i), "InvalidValue", "a holiday lasts at most a year")
		}
	}
	return v.Err()
}

// searchDays bounds how far the arithmetic looks for business time (a schedule whose
// every day is a holiday has none).
const searchDays = 3 * 366

// next returns the first span of business time [from, to) that ends after t, with from
// clipped to t; ok is false if there is none within searchDays. Business time is
// defined by local wall-clock time: a minute counts when its local time falls in an
// interval and its local date is not a holiday. The walk keeps to stretches of one UTC
// offset (time.ZoneBounds), so daylight-saving changes are exact.
func (h *Hours) next(t time.Time) (from, to time.Time, ok bool) {
	if h.loc == nil {
		return t, time.Time{}, true // calendar time: one endless span
	}
	limit := t.Add(searchDays * 24 * time.Hour)
	for t.Before(limit) {
		lt := t.In(h.loc)
		_, off := lt.Zone()
		zoneEnd := time.Time{}
		if _, end := lt.ZoneBounds(); !end.IsZero() {
			zoneEnd = end
		}
		shift := time.Duration(off) * time.Second
		// naive is the local wall-clock time as if it were UTC.
		naive := t.Add(shift).UTC()
		day := time.Date(naive.Year(), naive.Month(), naive.Day(), 0, 0, 0, 0, time.UTC)
		if !h.holidays[day.Format(time.DateOnly)] {
			wd := int(day.Weekday()) * 1440
			for _, iv := range h.intervals {
				a, b := max(iv.Start-wd, 0), min(iv.End-wd, 1440)
				if a >= b {
					continue
				}
				ds, de := day.Add(time.Duration(a)*time.Minute), day.Add(time.Duration(b)*time.Minute)
				if !de.After(naive) {
					continue
				}
				from, to = ds.Add(-shift), de.Add(-shift)
				if from.Before(t) {
					from = t
				}
				if !zoneEnd.IsZero() && !from.Before(zoneEnd) {
					break // the next span starts under another offset
				}
				if !zoneEnd.IsZero() && to.After(zoneEnd) {
					to = zoneEnd
				}
				return from, to, true
			}
		}
		nextDay := day.AddDate(0, 0, 1).Add(-shift)
		if !zoneEnd.IsZero() && zoneEnd.Before(nextDay) && zoneEnd.After(t) {
			t = zoneEnd
		} else {
			t = nextDay
		}
	}
	return time.Time{}, time.Time{}, false
}

// Add returns the instant at which d of business time has passed since start (the zero
// time if the schedule has none within reach).
func (h *Hours) Add(start time.Time, d time.Duration) time.Time {
	t := start
	for {
		from, to, ok := h.next(t)
		if !ok {
			return time.Time{}
		}
		if to.IsZero() || to.Sub(from) >= d {
			return from.Add(d)
		}
		d -= to.Sub(from)
		t = to
	}
}

// Between returns the business time in [a, b).
func (h *Hours) Between(a, b time.Time) time.Duration {
	var sum time.Duration
	t := a
	for t.Before(b) {
		from, to, ok := h.next(t)
		if !ok || !from.Before(b) {
			break
		}
		if to.IsZero() || to.After(b) {
			to = b
		}
		sum += to.Sub(from)
		t = to
	}
	return sum
}

// Open reports whether t is within business hours.
func (h *Hours) Open(t time.Time) bool {
	if h.loc == nil {
		return true
	}
	lt := t.In(h.loc)
	if h.holidays[lt.Format(time.DateOnly)] {
		return false
	}
	m := int(lt.Weekday())*1440 + lt.Hour()*60 + lt.Minute()
	for _, iv := range h.intervals {
		if m >= iv.Start && m < iv.End {
			return true
		}
	}
	return false
}

// Clock is a pausable SLA clock: how much business time it may run, how much it has run
// in the periods before the current one, and since when it runs (zero while paused).
// BreachedAt is the instant it ran out, once it has.
type Clock struct {
	Target     time.Duration
	Spent      time.Duration
	Since      time.Time
	BreachedAt time.Time
}

// Start starts (or resumes) the clock at t.
func (c *Clock) Start(t time.Time) {
	if c.Since.IsZero() {
		c.Since = t
	}
}

// Due is when the running clock runs out (the zero time while paused, or never).
func (c *Clock) Due(h *Hours) time.Time {
	if !c.BreachedAt.IsZero() {
		return c.BreachedAt
	}
	if c.Since.IsZero() {
		return time.Time{}
	}
	return h.Add(c.Since, c.Target-c.Spent)
}

// Pause stops the clock at t, keeping the time it ran (and its breach, if it ran out
// before t).
func (c *Clock) Pause(h *Hours, t time.Time) {
	if c.Since.IsZero() {
		return
	}
	if due := c.Due(h); c.BreachedAt.IsZero() && !due.IsZero() && !due.After(t) {
		c.BreachedAt = due
	}
	c.Spent += h.Between(c.Since, t)
	c.Since = time.Time{}
}
