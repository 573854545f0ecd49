package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/ai/sim"
	"tandem/internal/kb"
)

func runAI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printAIUsage(stderr)
		return usageError{errors.New("ai: missing subcommand (simulate)")}
	}
	switch args[0] {
	case "simulate":
		return runAISimulate(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		printAIUsage(stdout)
		return nil
	default:
		return usageError{fmt.Errorf("ai: unknown subcommand %q (want simulate)", args[0])}
	}
}

func printAIUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: tandem ai simulate --account SUBDOMAIN [flags]

  ai simulate   replay an account's solved tickets chronologically and report what the AI
                would have done (the report that gates autonomous answers)

Run 'tandem ai simulate --help' for the flags.
`)
}

func runAISimulate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	var in struct {
		sub, from, to string
		asJSON        bool
	}
	c := newCommand("ai simulate", "--account SUBDOMAIN [flags]", `Replays an account's solved tickets in time order: for rolling origins in the window, the
models are trained on the tickets solved before the origin and predict the tickets created
after it from what was known at their creation (never a random split). Prints per target
top-1 accuracy, the threshold reaching precision 0.95 and its coverage, calibration, macro
hit@3, article P@1 and hit@3, the would-have-auto-resolved rate with its precision, ticket
count and window, and whether autonomy may be turned on (and why not). The report is
stored: the admin page /admin/ai/simulations shows it, and it gates autonomy.`)
	c.stringFlag(&in.sub, "account", "SUBDOMAIN", "the account to replay (required)")
	c.stringFlag(&in.from, "from", "DATE", "start of the replay window, YYYY-MM-DD (default: the later half of the history)")
	c.stringFlag(&in.to, "to", "DATE", "end of the replay window, YYYY-MM-DD, exclusive (default: after the newest ticket)")
	c.boolFlag(&in.asJSON, "json", "print the whole report as JSON")
	c.dataFlags(&cfg)
	c.example = `  tandem ai simulate --account acme
  tandem ai simulate --account acme --from 2026-06-01 --to 2026-09-01 --json`
	if help, err := c.parse(args, getenv, stdout); help || err != nil {
		return err
	}
	if strings.TrimSpace(in.sub) == "" {
		return usageError{errors.New("ai simulate: --account is required (run 'tandem ai simulate --help' for usage)")}
	}
	var from, to time.Time
	for _, b := range []struct {
		name string
		v    string
		t    *time.Time
	}{{"from", in.from, &from}, {"to", in.to, &to}} {
		if b.v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, b.v)
		if err != nil {
			return usageError{fmt.Errorf("ai simulate: --%s %q is not a date (YYYY-MM-DD)", b.name, b.v)}
		}
		*b.t = t
	}
	if err := sim.CheckWindow(from, to); err != nil {
		return usageError{fmt.Errorf("ai simulate: --from must be before --to")}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	db, err := openDB(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	acct, err := account.NewStore(db).BySubdomain(ctx, strings.ToLower(strings.TrimSpace(in.sub)))
	if err != nil {
		return fmt.Errorf("ai simulate: %w (see 'tandem account list')", err)
	}
	sm, err := sim.NewService(db, ai.NewHistory(db), kb.NewService(db)).Run(ctx, acct, 0, from, to)
	if err != nil {
		return fmt.Errorf("ai simulate: %w", err)
	}
	if in.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sm.Report)
	}
	printSimulation(stdout, acct.Subdomain, sm)
	return nil
}

// printSimulation writes a report's summary.
func printSimulation(w io.Writer, sub string, sm *sim.Simulation) {
	r := sm.Report
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }
	fmt.Fprintf(w, "Simulation %d of %s: %d solved tickets read, %d replayed from %s to %s (%d rolling origins), %.1f s.\n\n",
		sm.ID, sub, r.Records, r.Replayed, day(r.From), day(r.To), len(r.Origins), r.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "TARGET\tTICKETS\tTOP-1\tHIT@3\tECE\tTHRESHOLD@%.2f\tCOVERAGE\n", r.Precision)
	for _, t := range r.Targets {
		thr := "none"
		if t.Coverage > 0 {
			thr = fmt.Sprintf("%.3f", t.Threshold)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%s\t%.1f%%\n", t.Target, t.Tickets, t.Top1, t.Hit3, t.ECE, thr, 100*t.Coverage)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nArticles (%d tickets with a linked article, %d articles): P@1 %.3f, hit@3 %.3f\n", r.Articles.Tickets, r.Articles.Articles, r.Articles.P1, r.Articles.Hit3)
	res := r.Resolution
	fmt.Fprintf(w, "Would have auto-resolved: %.1f%% of %d tickets (%s to %s) at precision %.3f (answered %d at macro confidence >= %.3f, %d with the human's macro, %d of those solved in one reply without a reopen)\n",
		100*res.Rate, res.Tickets, day(res.From), day(res.To), res.Precision, res.Answered, res.Threshold, res.Correct, res.Resolved)
	if r.OutOfScope.Tickets > 0 {
		fmt.Fprintf(w, "Out-of-scope tickets answered: %d of %d (%.1f%%)\n", r.OutOfScope.Answered, r.OutOfScope.Tickets, 100*r.OutOfScope.Rate)
	}
	if r.Autonomy.Possible {
		fmt.Fprintf(w, "Autonomy may be turned on for: %s\n", strings.Join(r.Autonomy.Intents, ", "))
	} else {
		fmt.Fprintln(w, "Autonomy stays off:")
		for _, why := range r.Autonomy.Reasons {
			fmt.Fprintf(w, "  - %s\n", why)
		}
	}
}
