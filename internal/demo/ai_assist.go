package demo

import (
	"context"
	"fmt"
)

// demoDraftIntents is how many of the account's intents the demo puts on the draft
// rung, so that the AI prepares replies for agents to send in one click.
const demoDraftIntents = 2

// seedAssist sets up the AI's assist half once the account has trained models (the AI
// history step): drafts as replies sent in one click, and the first intents that are
// not restricted on the draft rung. Autonomy stays off: it needs an admin's allowlisting
// and a simulation's evidence. Suggestions show on every open ticket's sidebar as soon
// as a model exists. Without a model this step does nothing.
func seedAssist(ctx context.Context, a *accountSeed) error {
	var got struct {
		AI struct {
			Intents []struct {
				Intent     string `json:"intent"`
				Restricted bool   `json:"restricted"`
			} `json:"intents"`
		} `json:"ai_assist"`
	}
	if err := a.api.do(ctx, "GET", "/api/v2/ai/assist.json", nil, &got); err != nil {
		return fmt.Errorf("AI settings: %w", err)
	}
	if len(got.AI.Intents) == 0 {
		return nil
	}
	if err := a.api.do(ctx, "PUT", "/api/v2/ai/assist.json", map[string]any{"ai_assist": map[string]any{"draft_kind": "pending"}}, nil); err != nil {
		return fmt.Errorf("AI draft kind: %w", err)
	}
	n := 0
	for _, in := range got.AI.Intents {
		if in.Restricted || n == demoDraftIntents {
			continue
		}
		if err := a.api.do(ctx, "PUT", "/api/v2/ai/assist/autonomy.json", map[string]any{"autonomy": map[string]any{"intent": in.Intent, "mode": "draft"}}, nil); err != nil {
			return fmt.Errorf("AI rung of %s: %w", in.Intent, err)
		}
		n++
	}
	return nil
}
