package web

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tandem/internal/ids"
	"tandem/internal/sharing"
	"tandem/internal/sla"
	"tandem/internal/ticket"
)

// slaRow is one SLA target on the ticket page: its metric, its stage and, while it
// runs, the time left, with a tone: ok, amber (under a quarter of the target or an hour
// left) or red (breached).
type slaRow struct {
	Metric   string
	Stage    string
	BreachAt time.Time
	Left     string
	Tone     string
	Target   string
	Minutes  int64
	Business bool
}

var metricTitles = map[string]string{
	sla.FirstReply: "First reply", sla.NextReply: "Next reply", sla.PeriodicUpdate: "Periodic update",
	sla.RequesterWait: "Requester wait", sla.AgentWork: "Agent work",
}

// slaRows loads the ticket's SLA targets as the page shows them at now.
func (s *Server) slaRows(ctx context.Context, acct ids.Account, t *ticket.Ticket, now time.Time) ([]slaRow, error) {
	all, err := sla.Targets(ctx, s.db.R(), acct, []ids.Ticket{t.ID})
	if err != nil {
		return nil, err
	}
	var out []slaRow
	for _, tg := range all[t.ID] {
		r := slaRow{Metric: metricTitles[tg.Metric], Stage: tg.StageAt(now), BreachAt: tg.BreachAt, Target: minutesText(tg.Minutes), Minutes: tg.Minutes, Business: tg.Business, Tone: "ok"}
		switch {
		case r.Stage == sla.Breached:
			r.Tone = "red"
			if !tg.BreachAt.IsZero() {
				r.Left = "breached " + durText(now.Sub(tg.BreachAt)) + " ago"
			} else {
				r.Left = "breached"
			}
		case r.Stage == sla.Active:
			left := tg.BreachAt.Sub(now)
			r.Left = durText(left) + " left"
			if left < time.Hour || left < time.Duration(tg.Minutes)*time.Minute/4 {
				r.Tone = "amber"
			}
		case r.Stage == sla.Achieved && tg.Late(now):
			r.Tone, r.Left = "red", "achieved late"
		case r.Stage == sla.Achieved:
			r.Left = "achieved"
		default:
			r.Left = "paused"
		}
		out = append(out, r)
	}
	return out, nil
}

// durText renders a duration as "3 h 12 min" (minutes; "under a minute" below one).
func durText(d time.Duration) string {
	m := int64(d / time.Minute)
	if m < 1 {
		return "under a minute"
	}
	return minutesText(m)
}

func minutesText(m int64) string {
	var parts []string
	if days := m / 1440; days > 0 {
		parts = append(parts, fmt.Sprintf("%d d", days))
	}
	if h := m % 1440 / 60; h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
	}
	if mm := m % 60; mm > 0 || len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d min", mm))
	}
	return strings.Join(parts, " ")
}

// owedText says what a partner owes on a share: "Waiting on Globex for 3 h 12 min
// (promised 4 h)", or that it owes nothing.
func owedText(o sharing.Owed, now time.Time) string {
	if o.Since.IsZero() {
		return o.Partner + " has answered."
	}
	s := "Waiting on " + o.Partner + " for " + durText(now.Sub(o.Since))
	if o.Promised > 0 {
		s += " (promised " + minutesText(int64(o.Promised/time.Minute)) + ")"
	}
	return s
}
