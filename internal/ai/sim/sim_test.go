package sim_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tandem/internal/ai"
	"tandem/internal/ai/sim"
	"tandem/internal/ai/synth"
)

// inputOf is the replay input of a generated world.
func inputOf(w *synth.World) sim.Input {
	in := sim.Input{Records: w.Records(), IntentTarget: w.IntentTarget(), Restricted: []string{"refund_request", "account_locked"}, Macros: map[string]sim.Macro{}}
	for _, a := range w.Articles {
		in.Articles = append(in.Articles, sim.Article{ID: a.ID, Locale: a.Locale, Title: a.Title, Body: a.Body})
	}
	for _, m := range w.Macros {
		in.Macros[strconv.FormatInt(m.ID, 10)] = sim.Macro{Title: m.Title, Body: m.Body}
	}
	return in
}

// TestReplayOnSynth replays a generated history and holds the report to the issue's
// bars on the generator: macros hit@3 >= 0.90, articles P@1 >= 0.75 and hit@3 >= 0.90,
// out-of-scope tickets answered <= 2%, answers at the chosen threshold at the target
// precision, and every headline with its precision, count and window.
func TestReplayOnSynth(t *testing.T) {
	w := synth.Generate(synth.Config{Seed: 11, Tickets: 4000})
	in := inputOf(w)
	in.TagSet = []string{"billing", "general"}
	rep, err := sim.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if m := rep.Target(ai.TargetMacro); m == nil || m.Hit3 < 0.90 {
		t.Errorf("macro hit@3: %+v", m)
	}
	if rep.Articles.P1 < 0.75 || rep.Articles.Hit3 < 0.90 || rep.Articles.Tickets == 0 {
		t.Errorf("articles: %+v", rep.Articles)
	}
	if rep.OutOfScope.Tickets == 0 || rep.OutOfScope.Rate > 0.02 {
		t.Errorf("out of scope: %+v", rep.OutOfScope)
	}
	res := rep.Resolution
	if res.Answered == 0 || res.AnswerPrecision < rep.Precision || res.Precision == 0 || res.Tickets != rep.Replayed || !res.From.Equal(rep.From) || res.Rate <= 0 {
		t.Errorf("resolution: %+v", res)
	}
	if len(rep.Origins) != sim.DefaultFolds || rep.Replayed < 1500 {
		t.Errorf("origins %v, replayed %d", rep.Origins, rep.Replayed)
	}
	for _, target := range []string{ai.TargetGroup, ai.TargetPriority, ai.TargetType, w.IntentTarget(), ai.TargetMacro, "tags:billing", "tags:general"} {
		tr := rep.Target(target)
		if tr == nil || tr.Tickets == 0 || len(tr.Curve) == 0 || tr.ECE < 0 || tr.ECE > 0.5 {
			t.Fatalf("target %s: %+v", target, tr)
		}
		last := tr.Curve[len(tr.Curve)-1]
		if last.Coverage != 1 || last.Precision < 0.5 {
			t.Errorf("target %s curve ends at %+v", target, last)
		}
	}
	if len(rep.Samples) != 20 {
		t.Fatalf("%d samples", len(rep.Samples))
	}
	for _, s := range rep.Samples {
		if s.Human == "" || s.Answer == "" || s.MacroTitle == "" || s.Request == "" {
			t.Fatalf("sample: %+v", s)
		}
	}
	other := rep.Intent(synth.OtherIntent)
	if other == nil || other.Eligible || other.Answered != 0 {
		t.Errorf("out-of-scope row: %+v", other)
	}
	if r := rep.Intent("refund_request"); r != nil && (r.Eligible || r.Answered != 0) {
		t.Errorf("restricted intent answered: %+v", r)
	}
	for _, row := range rep.Intents {
		if row.Eligible && (row.Tickets < sim.DefaultMinTickets || row.Precision < rep.Precision) {
			t.Errorf("eligible without the evidence: %+v", row)
		}
		if !row.Eligible && row.Why == "" {
			t.Errorf("not eligible, no reason: %+v", row)
		}
	}
	if rep.Autonomy.Possible != (len(rep.Autonomy.Intents) > 0) {
		t.Errorf("autonomy: %+v", rep.Autonomy)
	}
}

// TestColdStart: with 10 examples per intent the report keeps autonomy off and says why.
func TestColdStart(t *testing.T) {
	w := synth.Generate(synth.Config{Seed: 12, Tickets: 3000, PerIntent: 10})
	rep, err := sim.Run(context.Background(), inputOf(w))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Autonomy.Possible || len(rep.Autonomy.Intents) != 0 {
		t.Fatalf("autonomy on a cold start: %+v", rep.Autonomy)
	}
	why := strings.Join(rep.Autonomy.Reasons, "\n")
	for _, want := range []string{"too little history", "no intent reaches precision 0.95"} {
		if !strings.Contains(why, want) {
			t.Errorf("reasons lack %q:\n%s", want, why)
		}
	}
}

// TestReplayIsChronological: a value that only appears after an origin cannot be
// predicted before tickets with it were solved: nothing from the future leaks in.
func TestReplayIsChronological(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []ai.Record
	add := func(i int, label, text string, solvedAfter time.Duration) {
		at := start.Add(time.Duration(i) * time.Hour)
		recs = append(recs, ai.Record{TicketID: 0, CreatedAt: at, SolvedAt: at.Add(solvedAfter), Body: text, Labels: map[string][]string{ai.TargetGroup: {label}}})
	}
	for i := range 40 {
		if i%2 == 0 {
			add(i, "billing", "invoice payment charged twice", time.Hour)
		} else {
			add(i, "delivery", "parcel late courier tracking", time.Hour)
		}
	}
	// From hour 40 a new kind of ticket; each is solved a week later.
	for i := 40; i < 60; i++ {
		add(i, "recall", "safety recall battery overheating", 7*24*time.Hour)
	}
	rep, err := sim.Run(context.Background(), sim.Input{Records: recs, Targets: []string{ai.TargetGroup}, From: start.Add(40 * time.Hour), Folds: 2})
	if err != nil {
		t.Fatal(err)
	}
	g := rep.Target(ai.TargetGroup)
	if g.Tickets != 20 || g.Top1 != 0 {
		t.Fatalf("the future leaked into training: %+v", g)
	}
	if _, err := sim.Run(context.Background(), sim.Input{Records: recs[:2]}); err == nil {
		t.Error("two records replayed")
	}
	if _, err := sim.Run(context.Background(), sim.Input{Records: recs, From: start.Add(50 * time.Hour), To: start.Add(40 * time.Hour)}); err == nil {
		t.Error("an inverted window replayed")
	}
}

// TestGenerator: the world is deterministic for a seed and has the mix, drift and
// held-out phrasings the benchmark promises.
func TestGenerator(t *testing.T) {
	cfg := synth.Config{Seed: 3, Tickets: 6000}
	w := synth.Generate(cfg)
	if again := synth.Generate(cfg); len(again.Tickets) != len(w.Tickets) || again.Tickets[99].Body != w.Tickets[99].Body {
		t.Fatal("the same seed gave another world")
	}
	if other := synth.Generate(synth.Config{Seed: 4, Tickets: 6000}); other.Tickets[99].Body == w.Tickets[99].Body {
		t.Fatal("another seed gave the same ticket")
	}
	if n := len(w.Intents); n < 40 || n > 80 || len(w.Groups) < 8 || len(w.Groups) > 12 {
		t.Fatalf("%d intents in %d groups", n, len(w.Groups))
	}
	var without, stale int
	for _, in := range w.Intents {
		if len(in.Articles) == 0 {
			without++
		}
		if len(in.Articles) > 2 {
			t.Fatalf("%s has %d articles", in.Key, len(in.Articles))
		}
	}
	for _, a := range w.Articles {
		if a.Stale {
			stale++
		}
	}
	if without == 0 || stale == 0 {
		t.Fatalf("%d intents without an article, %d stale articles", without, stale)
	}
	share := func(f func(tk *synth.Ticket) bool) float64 {
		n := 0
		for i := range w.Tickets {
			if f(&w.Tickets[i]) {
				n++
			}
		}
		return float64(n) / float64(len(w.Tickets))
	}
	for name, c := range map[string]struct {
		got, lo, hi float64
	}{
		"out of scope": {share(func(tk *synth.Ticket) bool { return tk.Truth.OutOfScope }), 0.08, 0.12},
		"french":       {share(func(tk *synth.Ticket) bool { return tk.Truth.French }), 0.08, 0.12},
		"multi":        {share(func(tk *synth.Ticket) bool { return tk.Truth.Multi }), 0.03, 0.07},
		"injection":    {share(func(tk *synth.Ticket) bool { return tk.Truth.Injection }), 0.003, 0.02},
		"angry":        {share(func(tk *synth.Ticket) bool { return tk.Truth.Angry }), 0.05, 0.11},
	} {
		if c.got < c.lo || c.got > c.hi {
			t.Errorf("%s share %.3f, want %.2f-%.2f", name, c.got, c.lo, c.hi)
		}
	}
	// Drift: the new intent appears in month 5 only; the reworded macro's replies change in month 4.
	month5 := cfg.Start.AddDate(0, 4, 0)
	if cfg.Start.IsZero() {
		month5 = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	}
	var late, reworded bool
	for _, tk := range w.Tickets {
		if tk.Truth.Intent == "ebike_battery" {
			if tk.CreatedAt.Before(month5) {
				t.Fatalf("the new intent appears on %s", tk.CreatedAt)
			}
			late = true
		}
		if tk.Truth.Intent == "return_window" && strings.Contains(tk.Reply, "60 days") {
			if tk.CreatedAt.Before(month5.AddDate(0, -1, 0)) {
				t.Fatalf("the reworded macro is used on %s", tk.CreatedAt)
			}
			reworded = true
		}
	}
	if !late || !reworded {
		t.Fatalf("drift: new intent %v, reworded macro %v", late, reworded)
	}
	// Held-out phrasings: the test period has wordings the training period never has.
	seen := map[string]bool{}
	for _, tk := range w.Tickets {
		if !tk.Truth.TestPhrasing && !tk.Truth.French {
			seen[tk.Truth.Intent+"|"+firstLine(tk.Body)] = true
		}
	}
	newWordings := 0
	for _, tk := range w.Tickets {
		if tk.Truth.TestPhrasing && !tk.Truth.French && !seen[tk.Truth.Intent+"|"+firstLine(tk.Body)] {
			newWordings++
		}
	}
	if newWordings == 0 || !slices.ContainsFunc(w.Tickets, func(tk synth.Ticket) bool { return tk.Truth.SafeToAutoResolve }) {
		t.Fatalf("%d test-period tickets with new wordings", newWordings)
	}
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasSuffix(l, ",") {
			return l
		}
	}
	return ""
}
