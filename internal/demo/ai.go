package demo

import (
	"context"
	"fmt"
	"tandem/internal/report"
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
	// ModelVersion is the version of the models trained on that history (before the
	// demo serves, so suggestions show at once); SimulationID the simulation running
	// as a job (started, finished a few seconds later).
	ModelVersion int64
	SimulationID int64
	// Took is how long writing the history took; TrainTook how long the training took.
	Took, TrainTook time.Duration
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
	// The seed moves its tickets on the timeline with direct updates (solved_at), which
	// the write path's report aggregates do not see: build them again from the rows.
	if _, err := report.Rebuild(ctx, srv.DB(), acct.ID); err != nil {
		return nil, err
	}
	info := &AIInfo{HistoryTickets: len(w.Tickets), Took: time.Since(start)}
	// The models are trained before the demo serves, so that the open tickets show the
	// AI's suggestions and the assist half can put intents on the draft rung; the
	// simulation runs as the job the API would start, beside the server's start.
	start = time.Now()
	res, err := srv.AI.Trainer.Train(ctx, acct.ID, nil)
	if err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	info.ModelVersion, info.TrainTook = res.Version, time.Since(start)
	if _, info.SimulationID, err = srv.Simulations.Start(ctx, srv.Jobs, acct, admin, time.Time{}, time.Time{}); err != nil {
		return nil, fmt.Errorf("simulation: %w", err)
	}
	return info, nil
}
