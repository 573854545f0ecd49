package main

import (
	"fmt"
	"strings"

	"tandem/bench"
	"tandem/internal/ai"
	"tandem/internal/ai/learn"
)

// aiSimSection replays generated histories (docs/AI.md, "Simulation"): 10,000 tickets
// with naive Bayes (the speed bar) and logistic regression, and a cold start of 10
// tickets per intent.
func aiSimSection(b *strings.Builder) error {
	runs := []struct {
		name      string
		tickets   int
		perIntent int
		kind      string
	}{
		{"10,000 tickets, naive Bayes", 10000, 0, learn.NaiveBayes},
		{"10,000 tickets, logistic regression", 10000, 0, learn.Logistic},
		{"cold start: 10 tickets per intent", 3000, 10, learn.NaiveBayes},
	}
	b.WriteString("## AI: simulation on history (tandem-synth, no database)\n\n")
	b.WriteString("`internal/ai/sim` replaying `internal/ai/synth` seed 1 (8 months, 47 intents, the later half replayed at 4 rolling origins; targets group, priority, type, intent, macro and 3 tags, plus article ranking). Threshold: the lowest macro confidence at which the answers reach precision 0.95 on the replay. CPU is user+system time of the process, less inflated by other load than wall time.\n\n")
	b.WriteString("| run | tickets (replayed) | wall | CPU | intent top-1 | intent coverage @0.95 | macro hit@3 | article P@1 / hit@3 | would have auto-resolved (precision; answer precision) | out of scope answered | autonomy |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range runs {
		res, err := bench.AISimulation(r.name, 1, r.tickets, r.perIntent, r.kind)
		if err != nil {
			return err
		}
		rep := res.Report
		in, mac := rep.Target(rep.IntentTarget), rep.Target(ai.TargetMacro)
		auto := "off: " + strings.Join(rep.Autonomy.Reasons, "; ")
		if rep.Autonomy.Possible {
			auto = fmt.Sprintf("possible for %d intents", len(rep.Autonomy.Intents))
		}
		fmt.Fprintf(b, "| %s | %d (%d) | %.1f s | %.1f s | %.3f | %.1f%% | %.3f | %.3f / %.3f | %.1f%% of %d (%.3f; %.3f), %s to %s | %d of %d | %s |\n",
			r.name, res.Tickets, rep.Replayed, res.Wall.Seconds(), res.CPU.Seconds(), in.Top1, 100*in.Coverage, mac.Hit3, rep.Articles.P1, rep.Articles.Hit3,
			100*rep.Resolution.Rate, rep.Resolution.Tickets, rep.Resolution.Precision, rep.Resolution.AnswerPrecision,
			rep.Resolution.From.Format("2006-01-02"), rep.Resolution.To.Format("2006-01-02"), rep.OutOfScope.Answered, rep.OutOfScope.Tickets, auto)
	}
	b.WriteString("\n")
	return nil
}
