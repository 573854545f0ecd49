package sla

import (
	"testing"
	"time"

	"tandem/internal/ticket"
)

// TestStageTransitions walks each metric through the writes that move it: pause on
// pending and on hold, resume, achieved on the right event, breached exactly at the
// deadline.
func TestStageTransitions(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC) // a Monday
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	type step struct {
		min       int
		status    ticket.Status
		agent     bool
		requester bool
		stage     string // stored stage after the step
		breachMin int    // breach_at, minutes after t0 (-1: none)
	}
	cases := []struct {
		metric string
		steps  []step
	}{
		{FirstReply, []step{
			{0, ticket.New, false, false, Active, 60},
			{10, ticket.Pending, false, false, Active, 60}, // not paused by pending
			{30, ticket.Open, true, false, Achieved, -1},
		}},
		{NextReply, []step{
			{0, ticket.New, false, false, "", -1},           // owed nothing yet
			{5, ticket.Open, false, true, Active, 65},       // requester writes
			{20, ticket.Open, false, true, Active, 65},      // another comment does not restart it
			{40, ticket.Open, true, false, Achieved, -1},    // agent answers
			{50, ticket.Open, false, true, Active, 110},     // and it starts again
			{60, ticket.Solved, false, false, Achieved, -1}, // solving achieves it
		}},
		{PeriodicUpdate, []step{
			{0, ticket.New, false, false, "", -1},
			{10, ticket.Open, true, false, Active, 70},
			{30, ticket.Open, true, false, Active, 90}, // each agent reply restarts it
		}},
		{RequesterWait, []step{
			{0, ticket.New, false, false, Active, 60},
			{20, ticket.Pending, false, false, Paused, -1},
			{50, ticket.Open, false, false, Active, 90}, // resumes with 40 left
			{60, ticket.Hold, false, false, Active, 90}, // still waiting on hold
			{70, ticket.Solved, false, false, Achieved, -1},
			{80, ticket.Open, false, false, Active, 100}, // reopened: 20 left
		}},
		{AgentWork, []step{
			{0, ticket.Open, false, false, Active, 60},
			{20, ticket.Hold, false, false, Paused, -1},
			{30, ticket.Pending, false, false, Paused, -1},
			{40, ticket.Open, false, false, Active, 80},
		}},
	}
	for _, tc := range cases {
		tg := &Target{Metric: tc.metric, Minutes: 60, Clock: Clock{Target: time.Hour}}
		for i, s := range tc.steps {
			Step(tg, Calendar, Event{Now: at(s.min), Created: i == 0, CreatedAt: t0, Status: s.status, AgentReply: s.agent, RequesterReply: s.requester})
			want := time.Time{}
			if s.breachMin >= 0 {
				want = at(s.breachMin)
			}
			if tg.Stage != s.stage || !tg.BreachAt.Equal(want) {
				t.Fatalf("%s step %d: stage %q breach %s, want %q %s", tc.metric, i, tg.Stage, tg.BreachAt, s.stage, want)
			}
		}
	}
	// Breached exactly at the deadline, not a microsecond before.
	tg := &Target{Metric: FirstReply, Minutes: 60, Clock: Clock{Target: time.Hour}}
	Step(tg, Calendar, Event{Now: t0, Created: true, CreatedAt: t0, Status: ticket.New})
	if st := tg.StageAt(at(60).Add(-time.Microsecond)); st != Active {
		t.Fatalf("a microsecond before the deadline: %s", st)
	}
	if st := tg.StageAt(at(60)); st != Breached {
		t.Fatalf("at the deadline: %s", st)
	}
	// Achieved late: achieved, and known to be late.
	Step(tg, Calendar, Event{Now: at(75), Status: ticket.Open, AgentReply: true})
	if tg.StageAt(at(80)) != Achieved || !tg.Late(at(80)) {
		t.Fatalf("late reply: stage %s late %v", tg.StageAt(at(80)), tg.Late(at(80)))
	}
	// Business hours: 9:00-17:00 on weekdays; an 8-hour target set Friday 16:00 runs
	// out Monday 16:00 (1 hour Friday, 7 Monday).
	h, err := NewHours("UTC", []Interval{{1*1440 + 540, 1*1440 + 1020}, {2*1440 + 540, 2*1440 + 1020}, {3*1440 + 540, 3*1440 + 1020}, {4*1440 + 540, 4*1440 + 1020}, {5*1440 + 540, 5*1440 + 1020}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fri := time.Date(2026, 12, 11, 16, 0, 0, 0, time.UTC)
	bt := &Target{Metric: FirstReply, Minutes: 480, Clock: Clock{Target: 8 * time.Hour}}
	Step(bt, h, Event{Now: fri, Created: true, CreatedAt: fri, Status: ticket.New})
	if want := time.Date(2026, 12, 14, 16, 0, 0, 0, time.UTC); !bt.BreachAt.Equal(want) {
		t.Fatalf("business-hours breach %s, want %s", bt.BreachAt, want)
	}
}
