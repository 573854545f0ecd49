package demo

import (
	"context"
	"fmt"
	"time"

	"tandem/internal/ai/synth"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/server"
	"tandem/internal/store"
)

// The AI layer's demo (issue 14): Acme gets six months of solved history to learn
// from, written by the tandem-synth generator through the real write paths (intents
// with macros and help center articles, paraphrases with typos, greetings, quoted
// mail, French, out-of-scope and multi-intent tickets, a new intent late); then its
// models are trained and a simulation replays the history, both as jobs (the report is
// at /admin/ai/simulations).

// aiHistoryTickets is the size of Acme's synthetic history: enough for the frequent
// intents to pass the simulation's bars while the rare ones show why they do not, and
// small enough to keep the demo's start within seconds.
const aiHistoryTickets = 1200

// AIInfo is what the demo's AI seeding produced.
type AIInfo struct {
	HistoryTickets int
	// TrainingJob is the job training the account's models, SimulationID the
	// simulation running as a job (both started, finished soon after).
	TrainingJob  string
	SimulationID int64
	// Took is how long writing the history took.
	Took time.Duration
}

// seedAI writes the AI history into an account, trains its models and runs a
// simulation. The agents reply to the history's tickets.
func seedAI(ctx context.Context, srv *server.Server, sub string, agents []string, adminEmail string) (*AIInfo, error) {
	start := time.Now()
	acct, err := srv.Accounts.BySubdomain(ctx, sub)
	if err != nil {
		return nil, err
	}
	var agentIDs []ids.User
	var admin ids.User
	err = srv.DB().Write(ctx, func(tx *store.Tx) error {
		for _, e := range append([]string{adminEmail}, agents...) {
			u, err := identity.ByEmail(ctx, tx, acct.ID, e)
			if err != nil {
				return fmt.Errorf("agent %s: %w", e, err)
			}
			if e == adminEmail {
				admin = u.ID
			} else {
				agentIDs = append(agentIDs, u.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	w := synth.Generate(synth.Config{Seed: 2026, Tickets: aiHistoryTickets, Months: 6, Start: synth.StartFor(time.Now(), 6)})
	if _, err := synth.Seed(ctx, synth.Services{DB: srv.DB(), Tickets: srv.Tickets, KB: srv.KB, Rules: srv.Rules}, acct, agentIDs, w); err != nil {
		return nil, err
	}
	info := &AIInfo{HistoryTickets: len(w.Tickets), Took: time.Since(start)}
	// The training and the simulation run as the jobs the API would start, beside the
	// server's start rather than before it: both are done a few seconds later.
	st, err := srv.AI.StartTraining(ctx, acct.ID, admin)
	if err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	info.TrainingJob = st.ID
	if _, info.SimulationID, err = srv.Simulations.Start(ctx, srv.Jobs, acct, admin, time.Time{}, time.Time{}); err != nil {
		return nil, fmt.Errorf("simulation: %w", err)
	}
	return info, nil
}
