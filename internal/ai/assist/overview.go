package assist

import (
	"context"
	"sort"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Suggestible returns a ticket an agent may see (the access rule of every assist
// surface): another account's, a restricted agent's hidden one, or an end user's
// request is not found.
func (s *Service) Suggestible(ctx context.Context, acct *account.Account, viewer ticket.Actor, id ids.Ticket) (*ticket.Ticket, error) {
	if !viewer.IsStaff() {
		return nil, errs.NotFoundf("ticket %d not found", id)
	}
	t, _, err := ticket.GetVisible(ctx, s.db.R(), acct.ID, viewer, id)
	return t, err
}

// IntentState is one intent's rung and whether it may be autonomous, with the reason.
type IntentState struct {
	Intent     string
	Mode       string
	Allowed    bool
	Why        string
	Restricted bool
}

// Overview is what the admin page and the settings API show.
type Overview struct {
	Controls     *Controls
	IntentTarget string
	Intents      []IntentState
	Precision    []Precision
	// LLMState is "off" (none configured), "ok", "degraded" or "unchecked".
	LLMState string
	// Recent are the AI's latest decisions.
	Recent []*Attempt
	// Rate is how many drafts and replies the AI made in the last hour.
	Rate int
}

// Overview gathers an account's AI controls, its intents with their rung and gate,
// live precision and the model server's state.
func (s *Service) Overview(ctx context.Context, acct *account.Account) (*Overview, error) {
	c, err := LoadControls(ctx, s.db.R(), acct.ID)
	if err != nil {
		return nil, err
	}
	o := &Overview{Controls: c, LLMState: "off"}
	if c.LLM.Configured() {
		o.LLMState = c.LLM.State
		if o.LLMState == "" {
			o.LLMState = "unchecked"
		}
	}
	seen := map[string]bool{}
	if s.cfg.Models != nil {
		m, ok, err := s.cfg.Models.Current(ctx, acct.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			o.IntentTarget = m.IntentTarget
			if ic := m.Targets[m.IntentTarget]; ic != nil {
				for _, l := range ic.Labels {
					seen[l] = true
				}
			}
		}
	}
	for i := range c.Modes {
		seen[i] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st := IntentState{Intent: n, Mode: c.Mode(n), Restricted: RestrictedIntent(n)}
		st.Allowed, st.Why, err = s.Allowed(ctx, acct.ID, c, n)
		if err != nil {
			return nil, err
		}
		o.Intents = append(o.Intents, st)
	}
	if o.Precision, err = s.LivePrecision(ctx, acct.ID); err != nil {
		return nil, err
	}
	if o.Recent, err = s.RecentAttempts(ctx, acct.ID, 20); err != nil {
		return nil, err
	}
	since := store.Micros(store.Now().Add(-time.Hour))
	if err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM ai_attempts WHERE account_id = ? AND created_at >= ? AND action IN ('draft', 'pending', 'autonomous')`, acct.ID, since).Scan(&o.Rate); err != nil {
		return nil, err
	}
	return o, nil
}
