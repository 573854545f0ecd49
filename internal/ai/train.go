package ai

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"tandem/internal/ai/learn"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/kb/rank"
)

// Training limits.
const (
	// MinExamples is the fewest labelled tickets a target needs for a model.
	MinExamples = 20
	// ColdStartPerValue is the fewest examples per value under which the figures say
	// the model is in cold start (autonomy needs more: ai.md measured coverage 0.126 at
	// precision 0.95 with 10 examples per intent).
	ColdStartPerValue = 30
	// maxTrainText bounds the text of one ticket kept for training.
	maxTrainText = 2000
	// retrainAllUpTo: up to this many examples the chosen model is trained again on all
	// of them (the held-out part included); above, the model fitted on the older part
	// is kept (it has plenty) and training time stays bounded.
	retrainAllUpTo = 20000
	// minCalibration is the fewest held-out tickets a temperature is fitted on: fewer
	// (often perfectly separated) would make every confidence 1.
	minCalibration = 30
)

// sample is a history record reduced to what training reads.
type sample struct {
	text   string
	lang   rank.Lang
	labels map[string][]string
}

// TrainResult is what a training produced.
type TrainResult struct {
	Version  int64
	Examples int
	Figures  map[string]Figures
}

// Trainer trains an account's models from its history and stores them.
type Trainer struct {
	History *DBHistory
	Store   *Store
	// Kinds are the model kinds compared per target (default: naive Bayes and logistic
	// regression).
	Kinds []string
}

// NewTrainer returns a trainer over a history and a model store.
func NewTrainer(h *DBHistory, s *Store) *Trainer {
	return &Trainer{History: h, Store: s, Kinds: []string{learn.NaiveBayes, learn.Logistic}}
}

// Train trains the account's chosen targets on every solved ticket and stores a new
// model version. progress, when not nil, is told how many targets are done.
func (tr *Trainer) Train(ctx context.Context, acct ids.Account, progress func(done, total int)) (*TrainResult, error) {
	set, err := LoadSettings(ctx, tr.History.db.R(), acct)
	if err != nil {
		return nil, err
	}
	if len(set.Targets) == 0 {
		return nil, errs.Invalidf("targets", "BlankValue", "choose what the AI learns (targets) before training")
	}
	var samples []sample
	var through time.Time
	err = tr.History.Each(ctx, acct, time.Time{}, time.Time{}, func(r *Record) error {
		text := r.Text()
		if len(text) > maxTrainText {
			text = strings.ToValidUTF8(text[:maxTrainText], "")
		}
		s := sample{text: text, lang: r.Lang(), labels: map[string][]string{}}
		for _, t := range set.Targets {
			if v := r.Labels[t]; len(v) > 0 {
				s.labels[t] = v
			}
		}
		samples = append(samples, s)
		through = r.CreatedAt
		return nil
	})
	if err != nil {
		return nil, err
	}
	m, figures := tr.fit(ctx, samples, set, progress)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if len(m.Targets) == 0 {
		return nil, errs.Invalidf("history", "TooFew", "no target has enough solved tickets to learn from (%d solved tickets; a target needs %d labelled with at least two values)", len(samples), MinExamples)
	}
	v, err := tr.Store.Save(ctx, acct, m, figures, len(samples), through)
	if err != nil {
		return nil, err
	}
	return &TrainResult{Version: v, Examples: len(samples), Figures: figures}, nil
}

// fit trains one model per target (one per tag of the tag set), oldest tickets first.
func (tr *Trainer) fit(ctx context.Context, samples []sample, set *Settings, progress func(done, total int)) (*Models, map[string]Figures) {
	m := &Models{Targets: map[string]*learn.Classifier{}, Thresholds: map[string]float64{}, IntentTarget: set.IntentTarget}
	figures := map[string]Figures{}
	type job struct {
		name string
		ex   []learn.Example
		tag  bool
	}
	var jobs []job
	for _, t := range set.Targets {
		if t == TargetTags {
			for _, tag := range set.TagSet {
				ex := make([]learn.Example, len(samples))
				for i, s := range samples {
					label := "no"
					if slices.Contains(s.labels[TargetTags], tag) {
						label = "yes"
					}
					ex[i] = learn.Example{Text: s.text, Lang: s.lang, Label: label}
				}
				jobs = append(jobs, job{name: "tags:" + tag, ex: ex, tag: true})
			}
			continue
		}
		var ex []learn.Example
		for _, s := range samples {
			if v := s.labels[t]; len(v) > 0 {
				ex = append(ex, learn.Example{Text: s.text, Lang: s.lang, Label: v[0]})
			}
		}
		jobs = append(jobs, job{name: t, ex: ex})
	}
	for i, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		c, f := tr.fitTarget(j.ex, j.tag)
		figures[j.name] = f
		if c != nil {
			m.Targets[j.name] = c
			m.Thresholds[j.name] = set.Threshold(baseTarget(j.name), f.measured())
		}
		if progress != nil {
			progress(i+1, len(jobs))
		}
	}
	return m, figures
}

// fitTarget compares the model kinds on a chronological split (train on the older 80%,
// calibrate on the next 10%, measure on the newest 10%), keeps the best, and retrains
// it on everything when the history is small enough.
func (tr *Trainer) fitTarget(ex []learn.Example, tag bool) (*learn.Classifier, Figures) {
	f := Figures{Examples: len(ex), Compared: map[string]float64{}}
	counts := map[string]int{}
	for _, e := range ex {
		counts[e.Label]++
	}
	f.Labels = len(counts)
	if len(ex) < MinExamples || len(counts) < 2 || tag && counts["yes"] < 2 {
		f.Note = fmt.Sprintf("too few examples: %d tickets with %d values (a model needs %d tickets and two values)", len(ex), len(counts), MinExamples)
		return nil, f
	}
	cut, cal := len(ex)*8/10, len(ex)*9/10
	train, calib, test := ex[:cut], ex[cut:cal], ex[cal:]
	var best *learn.Classifier
	var bestEval learn.Eval
	for _, kind := range tr.Kinds {
		c, err := learn.Train(train, learn.Options{Kind: kind})
		if err != nil {
			continue // the older part holds one value only: try the next kind, then give up
		}
		if len(calib) >= minCalibration {
			c.Calibrate(calib)
		}
		e := evaluate(c, test, tag)
		f.Compared[kind] = e.Top1
		if best == nil || e.Coverage > bestEval.Coverage || e.Coverage == bestEval.Coverage && e.Top1 > bestEval.Top1 {
			best, bestEval = c, e
		}
	}
	if best == nil {
		f.Note = "the older tickets hold a single value: nothing to learn yet"
		return nil, f
	}
	f.Kind, f.Tested, f.Top1, f.Threshold, f.Coverage, f.ECE = best.Kind, bestEval.N, bestEval.Top1, bestEval.Threshold, bestEval.Coverage, bestEval.ECE
	if len(ex) <= retrainAllUpTo {
		if c, err := learn.Train(ex, learn.Options{Kind: best.Kind}); err == nil {
			c.Temperature = best.Temperature
			best = c
		}
	}
	if few := minCount(counts); !tag && few < ColdStartPerValue {
		f.Note = fmt.Sprintf("cold start: the rarest value has %d examples (under %d, figures are weak and autonomy stays off)", few, ColdStartPerValue)
	}
	return best, f
}

// evaluate measures a model on held-out examples. For a tag's yes/no model the
// threshold is on the confidence of "yes": the precision is that of the tags it would
// add, the coverage the share of tickets it would tag.
func evaluate(c *learn.Classifier, test []learn.Example, tag bool) learn.Eval {
	if !tag {
		return c.Evaluate(test, learn.TargetPrecision)
	}
	os := make([]learn.Outcome, len(test))
	right := 0
	for i, e := range test {
		p := c.Prob(e.Text, e.Lang, "yes")
		os[i] = learn.Outcome{P: p, Correct: e.Label == "yes"}
		if (p >= 0.5) == (e.Label == "yes") {
			right++
		}
	}
	ev := learn.Measure(os, learn.TargetPrecision)
	ev.Top1 = float64(right) / float64(max(1, len(test)))
	return ev
}

func minCount(m map[string]int) int {
	few := -1
	for _, n := range m {
		if few < 0 || n < few {
			few = n
		}
	}
	return few
}
