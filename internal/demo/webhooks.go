package demo

import (
	"context"
)

// seedWebhooks gives Acme a webhook for its team chat and a trigger that calls it for
// urgent tickets (docs/WEBHOOKS.md). The webhook is inactive and its endpoint is under
// the reserved .invalid domain, so the demo never calls out: an admin sets a real
// endpoint and activates it (the admin center's Webhooks page shows it and its calls).
func seedWebhooks(ctx context.Context, a *accountSeed) error {
	if a.spec.Subdomain != "acme" {
		return nil
	}
	var out struct {
		Webhook struct {
			ID string `json:"id"`
		} `json:"webhook"`
	}
	err := a.api.do(ctx, "POST", "/api/v2/webhooks", map[string]any{"webhook": map[string]any{
		"name":           "Team chat",
		"description":    "Posts urgent tickets to the support team's chat. Set the endpoint and activate it.",
		"endpoint":       "https://chat.example.invalid/hooks/tandem",
		"http_method":    "POST",
		"request_format": "json",
		"status":         "inactive",
		"subscriptions":  []string{"conditional_ticket_events"},
		"authentication": map[string]any{"type": "bearer_token", "data": map[string]any{"token": "replace-me"}, "add_position": "header"},
	}}, &out)
	if err != nil {
		return err
	}
	body := `{"text": "Urgent ticket #{{ticket.id}}: {{ticket.title}} ({{ticket.requester.name}}) {{ticket.link}}"}`
	_, err = a.api.create(ctx, "/api/v2/triggers.json", "trigger", map[string]any{
		"title": "Tell the team chat about urgent tickets",
		"conditions": map[string]any{
			"all": []map[string]any{{"field": "priority", "operator": "is", "value": "urgent"}},
			"any": []map[string]any{{"field": "update_type", "operator": "is", "value": "Create"}, {"field": "priority", "operator": "changed", "value": ""}},
		},
		"actions": []map[string]any{{"field": "notification_webhook", "value": []string{out.Webhook.ID, body}}},
	})
	return err
}
