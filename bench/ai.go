package bench

import (
	"context"
	"strconv"
	"time"

	"tandem/internal/ai/sim"
	"tandem/internal/ai/synth"
)

// AISimResult is one simulation on a generated history.
type AISimResult struct {
	Name    string
	Tickets int
	Report  *sim.Report
	// Wall is the replay's elapsed time (train and predict every target at every
	// origin, rank the articles, decide); CPU the process's user and system time
	// meanwhile, which a loaded machine inflates less.
	Wall, CPU time.Duration
}

// AISimulation generates a tandem-synth history (ai/synth) and replays it (ai/sim) with
// every target: group, priority, type, the intent, the macro, three tags and the
// articles. perIntent > 0 caps the examples per intent (cold start).
func AISimulation(name string, seed uint64, tickets, perIntent int, kind string) (*AISimResult, error) {
	w := synth.Generate(synth.Config{Seed: seed, Tickets: tickets, PerIntent: perIntent})
	in := sim.Input{Records: w.Records(), IntentTarget: w.IntentTarget(), TagSet: []string{"billing", "warranty", "general"},
		Restricted: []string{"refund_request", "account_locked"}, Kind: kind, Macros: map[string]sim.Macro{}}
	for _, a := range w.Articles {
		in.Articles = append(in.Articles, sim.Article{ID: a.ID, Locale: a.Locale, Title: a.Title, Body: a.Body})
	}
	for _, m := range w.Macros {
		in.Macros[strconv.FormatInt(m.ID, 10)] = sim.Macro{Title: m.Title, Body: m.Body}
	}
	cpu0 := cpuTime()
	start := time.Now()
	rep, err := sim.Run(context.Background(), in)
	if err != nil {
		return nil, err
	}
	return &AISimResult{Name: name, Tickets: len(w.Tickets), Report: rep, Wall: time.Since(start), CPU: cpuTime() - cpu0}, nil
}
