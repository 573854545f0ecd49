package demo

import (
	"context"
)

// seedServiceLevels gives Acme business hours (weekdays 9:00-17:00 New York time, with
// Christmas off) and an SLA policy for its high and urgent tickets, so the demo's
// tickets show targets and the "Unsolved tickets by next breach" view has an order.
// Every account already has the default automations. Other accounts get none.
func seedServiceLevels(ctx context.Context, a *accountSeed) error {
	if a.spec.Subdomain != "acme" {
		return nil
	}
	var week []map[string]any
	for day := 1; day <= 5; day++ {
		week = append(week, map[string]any{"start_time": day*1440 + 9*60, "end_time": day*1440 + 17*60})
	}
	_, err := a.api.create(ctx, "/api/v2/business_hours/schedules.json", "schedule", map[string]any{
		"name": "Acme support hours", "time_zone": "America/New_York", "intervals": week,
		"holidays": []map[string]any{{"name": "Christmas Day", "start_date": "2026-12-25", "end_date": "2026-12-25"}},
	})
	if err != nil {
		return err
	}
	metric := func(prio, m string, minutes int, business bool) map[string]any {
		return map[string]any{"priority": prio, "metric": m, "target": minutes, "business_hours": business}
	}
	_, err = a.api.create(ctx, "/api/v2/slas/policies.json", "sla_policy", map[string]any{
		"title":       "Priority customers",
		"description": "High and urgent tickets: a first reply within business hours, updates while we work.",
		"filter":      map[string]any{"all": []map[string]any{{"field": "priority", "operator": "greater_than", "value": "normal"}}, "any": []any{}},
		"policy_metrics": []map[string]any{
			metric("urgent", "first_reply_time", 60, true), metric("urgent", "next_reply_time", 120, true),
			metric("urgent", "periodic_update_time", 240, false), metric("urgent", "requester_wait_time", 480, true),
			metric("high", "first_reply_time", 240, true), metric("high", "next_reply_time", 480, true),
			metric("high", "agent_work_time", 960, true),
		},
	})
	return err
}
