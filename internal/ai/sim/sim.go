// Package sim is the AI layer's simulation on history: a chronological replay of an
// account's solved tickets (ai.Record) that measures, before the AI is allowed to act,
// what it would have done.
//
// The protocol (docs/AI.md): rolling origins T1 < T2 < ... over the replay window; for
// each, the models are trained on the tickets solved before T and predict the tickets
// created between T and the next origin, from what was known at their creation (subject
// and first comment). Never a random split: that would leak later macros and articles
// into the past. Articles are ranked with the knowledge base's ranker (kb/rank: BM25F
// over title and body plus the phrasings learned from tickets solved before T), as the
// knowledge base does live.
//
// The report gives, per target, top-1 accuracy, the precision-coverage curve, the
// threshold reaching the target precision and its coverage, calibration (expected
// calibration error) and hit@3; article P@1 and hit@3; the would-have-auto-resolved
// rate with its precision, ticket count and window; the out-of-scope share answered; a
// per-intent table; sample would-be answers beside the humans' actual ones; and whether
// autonomy may be turned on, with the reasons when not. The same report gates autonomy
// (Gate, in the simulations store).
package sim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"tandem/internal/ai"
	"tandem/internal/ai/learn"
	"tandem/internal/kb/rank"
)

// Defaults of the protocol.
const (
	DefaultPrecision = 0.95
	// DefaultMinTickets is how many replayed tickets an intent needs before its
	// precision may open autonomy (ai.md: N = 200).
	DefaultMinTickets = 200
	// DefaultFolds is the number of rolling origins.
	DefaultFolds = 4
	// ColdStart is the fewest training examples per intent under which the report
	// says the models have too little history.
	ColdStart = 30
)

// Article is a help center article as the replay ranks it.
type Article struct {
	ID     int64
	Locale string
	Title  string
	Body   string // plain text
}

// Macro is a macro as the samples show it.
type Macro struct {
	Title string
	Body  string // the public reply it writes
}

// Input is what a replay runs on.
type Input struct {
	// Records are the account's solved tickets (any order).
	Records []ai.Record
	// Articles are the help center's articles (the ranker's documents).
	Articles []Article
	// Macros by id (decimal), for the samples.
	Macros map[string]Macro
	// IntentTarget is the target whose values are intents (autonomy is per intent);
	// "" disables the per-intent table and autonomy.
	IntentTarget string
	// Targets are the classifier targets to replay (default: group, priority, type,
	// the intent target and the macro). Tags are replayed per tag of TagSet.
	Targets []string
	TagSet  []string
	// From and To bound the replay window: tickets created in [From, To) are predicted
	// (default: the later half of the history).
	From, To time.Time
	// Folds is the number of rolling origins in the window (default 4).
	Folds int
	// Precision is the target precision (default 0.95); MinTickets the tickets an
	// intent needs for autonomy (default 200).
	Precision  float64
	MinTickets int
	// Other is the intent value of out-of-scope tickets (default "other"); Restricted
	// are intent values that always go to people (refunds, account access).
	Other      string
	Restricted []string
	// Samples is how many would-be answers the report shows (default 20).
	Samples int
}

// Point is one point of a precision-coverage curve.
type Point struct {
	Threshold float64 `json:"threshold"`
	Coverage  float64 `json:"coverage"`
	Precision float64 `json:"precision"`
}

// TargetReport is what the replay measured for one target.
type TargetReport struct {
	Target  string  `json:"target"`
	Tickets int     `json:"tickets"`
	Labels  int     `json:"labels"`
	Top1    float64 `json:"top1"`
	Hit3    float64 `json:"hit3"`
	ECE     float64 `json:"ece"`
	Curve   []Point `json:"curve"`
	// Threshold is the lowest confidence at which predictions reach the target
	// precision; Coverage the share of tickets at or above it (0 when none does).
	Threshold float64 `json:"threshold"`
	Coverage  float64 `json:"coverage"`
	Precision float64 `json:"precision"`
}

// ArticleReport is the article ranking's quality on tickets whose agent linked one.
type ArticleReport struct {
	Tickets  int     `json:"tickets"`
	P1       float64 `json:"p_at_1"`
	Hit3     float64 `json:"hit_at_3"`
	Articles int     `json:"articles"`
}

// Resolution is the would-have-auto-resolved rate: tickets where, at the macro
// threshold, the AI's answer was the macro the human used and the human solved the
// ticket with one public reply and no reopen. It is never shown without its precision
// (among the tickets the AI would have answered), the ticket count and the window.
type Resolution struct {
	Threshold float64 `json:"threshold"`
	Tickets   int     `json:"tickets"`
	Answered  int     `json:"answered"`
	Correct   int     `json:"correct"`  // answered with the human's macro
	Resolved  int     `json:"resolved"` // and solved in one reply, not reopened
	Rate      float64 `json:"rate"`     // Resolved / Tickets
	Precision float64 `json:"precision"`
	// AnswerPrecision is Correct / Answered (the precision autonomy is gated on).
	AnswerPrecision float64   `json:"answer_precision"`
	From            time.Time `json:"from"`
	To              time.Time `json:"to"`
}

// IntentRow is the per-intent table's row.
type IntentRow struct {
	Intent  string  `json:"intent"`
	Tickets int     `json:"tickets"` // replayed tickets of this intent (truth)
	Trained int     `json:"trained"` // training examples at the last origin
	Top1    float64 `json:"top1"`    // the intent predicted right
	// MacroHit3 is the human's macro among the top 3 suggestions (tickets with one).
	MacroHit3 float64 `json:"macro_hit3"`
	// Answered and Precision are for the tickets the AI would have answered as this
	// intent (the predicted intent: what autonomy acts on).
	Answered  int     `json:"answered"`
	Precision float64 `json:"precision"`
	// Eligible: precision >= target on >= MinTickets tickets; Why says why not.
	Eligible bool   `json:"eligible"`
	Why      string `json:"why,omitempty"`
}

// Sample is a would-be answer beside the human's.
type Sample struct {
	TicketID   int64     `json:"ticket_id"`
	CreatedAt  time.Time `json:"created_at"`
	Subject    string    `json:"subject"`
	Request    string    `json:"request"`
	Intent     string    `json:"intent"`
	MacroID    string    `json:"macro_id"`
	MacroTitle string    `json:"macro_title"`
	Confidence float64   `json:"confidence"`
	ArticleID  int64     `json:"article_id,omitempty"`
	Answer     string    `json:"answer"`
	Human      string    `json:"human"`
	HumanMacro string    `json:"human_macro,omitempty"`
	Correct    bool      `json:"correct"`
}

// OutOfScope is how the replay treated out-of-scope tickets.
type OutOfScope struct {
	Tickets  int     `json:"tickets"`
	Answered int     `json:"answered"`
	Rate     float64 `json:"rate"`
}

// Report is a finished replay.
type Report struct {
	From         time.Time      `json:"from"`
	To           time.Time      `json:"to"`
	Origins      []time.Time    `json:"origins"`
	Records      int            `json:"records"`  // solved tickets read
	Replayed     int            `json:"replayed"` // tickets predicted
	Precision    float64        `json:"target_precision"`
	MinTickets   int            `json:"min_tickets"`
	IntentTarget string         `json:"intent_target,omitempty"`
	Targets      []TargetReport `json:"targets"`
	Articles     ArticleReport  `json:"articles"`
	Resolution   Resolution     `json:"resolution"`
	OutOfScope   OutOfScope     `json:"out_of_scope"`
	Intents      []IntentRow    `json:"intents"`
	Samples      []Sample       `json:"samples"`
	// Autonomy says whether any intent may be made autonomous and, if not, why.
	Autonomy Autonomy `json:"autonomy"`
	// Seconds is how long the replay took (train and predict).
	Seconds float64 `json:"seconds"`
}

// Autonomy is the report's verdict.
type Autonomy struct {
	Possible bool     `json:"possible"`
	Intents  []string `json:"intents,omitempty"` // the eligible ones
	Reasons  []string `json:"reasons,omitempty"`
}

// Target returns the report of a target, or nil.
func (r *Report) Target(name string) *TargetReport {
	for i := range r.Targets {
		if r.Targets[i].Target == name {
			return &r.Targets[i]
		}
	}
	return nil
}

// Intent returns the per-intent row of a value, or nil.
func (r *Report) Intent(value string) *IntentRow {
	for i := range r.Intents {
		if r.Intents[i].Intent == value {
			return &r.Intents[i]
		}
	}
	return nil
}

// ErrNoHistory is returned when there is nothing to replay.
var ErrNoHistory = errors.New("sim: too few solved tickets to replay (at least two origins need tickets before and after them)")

// pred is one prediction: the ranked labels with their probabilities.
type pred struct {
	top   []learn.Scored // the best three
	truth string         // "" when the ticket has no label for the target
}

// tagTarget names the classifier of one tag.
func tagTarget(tag string) string { return ai.TargetTags + ":" + tag }

// labelOf is a record's single label for a target ("" if none).
func labelOf(rec *ai.Record, target string) string {
	if tag, ok := strings.CutPrefix(target, ai.TargetTags+":"); ok {
		if slices.Contains(rec.Labels[ai.TargetTags], tag) {
			return "yes"
		}
		return "no"
	}
	l := rec.Labels[target]
	if len(l) == 0 {
		return "" // e.g. solved without a macro: not a macro example, measured as wrong if answered
	}
	return l[0]
}

// known is when a record's labels became known: its solving.
func known(rec *ai.Record) time.Time {
	if rec.SolvedAt.IsZero() {
		return rec.CreatedAt
	}
	return rec.SolvedAt
}

// Run replays in. ctx stops it between origins.
func Run(ctx context.Context, in Input) (*Report, error) {
	start := time.Now()
	in = withDefaults(in)
	recs := slices.Clone(in.Records)
	slices.SortStableFunc(recs, func(a, b ai.Record) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if len(recs) < 4 {
		return nil, ErrNoHistory
	}
	if in.From.IsZero() {
		in.From = recs[len(recs)/2].CreatedAt
	}
	if in.To.IsZero() {
		in.To = recs[len(recs)-1].CreatedAt.Add(time.Nanosecond)
	}
	if !in.From.Before(in.To) {
		return nil, fmt.Errorf("sim: the window's start %s is not before its end %s", in.From.Format(time.DateOnly), in.To.Format(time.DateOnly))
	}
	targets := slices.Clone(in.Targets)
	for _, t := range in.TagSet {
		targets = append(targets, tagTarget(t))
	}
	rep := &Report{From: in.From, To: in.To, Records: len(recs), Precision: in.Precision, MinTickets: in.MinTickets, IntentTarget: in.IntentTarget}

	// The origins split the window into Folds equal spans.
	span := in.To.Sub(in.From) / time.Duration(in.Folds)
	var test []int // indexes of the replayed records
	preds := map[string][]pred{}
	arts := make([][]int64, 0)
	lastTrained := map[string]int{}
	for k := 0; k < in.Folds; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t0 := in.From.Add(time.Duration(k) * span)
		t1 := t0.Add(span)
		if k == in.Folds-1 {
			t1 = in.To
		}
		var train, fold []int
		for i := range recs {
			if known(&recs[i]).Before(t0) {
				train = append(train, i)
			}
			if c := recs[i].CreatedAt; !c.Before(t0) && c.Before(t1) {
				fold = append(fold, i)
			}
		}
		if len(fold) == 0 {
			continue
		}
		rep.Origins = append(rep.Origins, t0)
		fp, err := replayFold(recs, train, fold, targets)
		if err != nil {
			return nil, err
		}
		for t, list := range fp {
			if len(preds[t]) < len(test) { // a target that could not be trained earlier
				preds[t] = append(preds[t], make([]pred, len(test)-len(preds[t]))...)
			}
			preds[t] = append(preds[t], list...)
		}
		arts = append(arts, rankArticles(recs, train, fold, in.Articles)...)
		test = append(test, fold...)
		if in.IntentTarget != "" {
			clear(lastTrained)
			for _, i := range train {
				if l := labelOf(&recs[i], in.IntentTarget); l != "" {
					lastTrained[l]++
				}
			}
		}
	}
	if len(test) == 0 || len(rep.Origins) == 0 {
		return nil, ErrNoHistory
	}
	for t := range preds {
		if len(preds[t]) < len(test) {
			preds[t] = append(preds[t], make([]pred, len(test)-len(preds[t]))...)
		}
	}
	rep.Replayed = len(test)
	for _, t := range targets {
		rep.Targets = append(rep.Targets, measure(t, preds[t], in.Precision))
	}
	rep.Articles = measureArticles(recs, test, arts)
	rep.Articles.Articles = len(in.Articles)
	decide(rep, in, recs, test, preds, arts, lastTrained)
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

func withDefaults(in Input) Input {
	if len(in.Targets) == 0 {
		in.Targets = []string{ai.TargetGroup, ai.TargetPriority, ai.TargetType}
		if in.IntentTarget != "" {
			in.Targets = append(in.Targets, in.IntentTarget)
		}
		in.Targets = append(in.Targets, ai.TargetMacro)
	}
	if in.Folds <= 0 {
		in.Folds = DefaultFolds
	}
	if in.Precision <= 0 || in.Precision > 1 {
		in.Precision = DefaultPrecision
	}
	if in.MinTickets <= 0 {
		in.MinTickets = DefaultMinTickets
	}
	if in.Other == "" {
		in.Other = "other"
	}
	if in.Samples <= 0 {
		in.Samples = 20
	}
	return in
}

// replayFold trains every target on train and predicts fold, the targets in parallel.
func replayFold(recs []ai.Record, train, fold []int, targets []string) (map[string][]pred, error) {
	out := make(map[string][]pred, len(targets))
	var mu sync.Mutex
	var firstErr error
	work := make(chan string)
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), len(targets))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				ps, err := replayTarget(recs, train, fold, t)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out[t] = ps
				mu.Unlock()
			}
		}()
	}
	for _, t := range targets {
		work <- t
	}
	close(work)
	wg.Wait()
	return out, firstErr
}

func replayTarget(recs []ai.Record, train, fold []int, target string) ([]pred, error) {
	ex := make([]learn.Example, 0, len(train))
	for _, i := range train {
		if l := labelOf(&recs[i], target); l != "" {
			ex = append(ex, learn.Example{Text: recs[i].Text(), Lang: recs[i].Lang(), Label: l})
		}
	}
	out := make([]pred, len(fold))
	for n, i := range fold {
		out[n].truth = labelOf(&recs[i], target)
	}
	c, err := learn.Train(ex, learn.Options{})
	if errors.Is(err, learn.ErrTooFew) {
		return out, nil // fewer than two labels so far: no prediction (counted as abstain)
	}
	if err != nil {
		return nil, fmt.Errorf("sim: train %s: %w", target, err)
	}
	for n, i := range fold {
		p := c.Predict(recs[i].Text(), recs[i].Lang())
		out[n].top = p[:min(3, len(p))]
	}
	return out, nil
}

// rankArticles ranks the articles for each ticket of fold with BM25F over the articles
// and the phrasings of the training tickets that linked them.
func rankArticles(recs []ai.Record, train, fold []int, articles []Article) [][]int64 {
	out := make([][]int64, len(fold))
	if len(articles) == 0 {
		return out
	}
	phr := map[int64][]string{}
	for _, i := range train {
		for _, a := range recs[i].Labels[ai.TargetArticle] {
			if id, err := strconv.ParseInt(a, 10, 64); err == nil {
				phr[id] = append(phr[id], recs[i].Text())
			}
		}
	}
	docs := make([]rank.Doc, len(articles))
	for n, a := range articles {
		docs[n] = rank.Doc{ID: a.ID, Locale: a.Locale, Title: a.Title, Body: a.Body, Phrasings: phr[a.ID]}
	}
	ix := rank.Build(docs)
	for n, i := range fold {
		hits, _ := ix.Search(rank.Query{Text: recs[i].Text(), Lang: recs[i].Lang(), Limit: 3})
		for _, h := range hits {
			out[n] = append(out[n], h.ID)
		}
	}
	return out
}

// measure computes a target's figures from its predictions.
func measure(target string, ps []pred, precision float64) TargetReport {
	tr := TargetReport{Target: target}
	type scored struct {
		p  float64
		ok bool
	}
	var list []scored
	labels := map[string]bool{}
	var top1, hit3 int
	for _, p := range ps {
		if p.truth == "" {
			continue
		}
		labels[p.truth] = true
		tr.Tickets++
		if len(p.top) == 0 {
			list = append(list, scored{0, false})
			continue
		}
		ok := p.top[0].Label == p.truth
		if ok {
			top1++
		}
		for _, s := range p.top {
			if s.Label == p.truth {
				hit3++
				break
			}
		}
		list = append(list, scored{p.top[0].P, ok})
	}
	tr.Labels = len(labels)
	if tr.Tickets == 0 {
		return tr
	}
	tr.Top1 = float64(top1) / float64(tr.Tickets)
	tr.Hit3 = float64(hit3) / float64(tr.Tickets)
	sort.SliceStable(list, func(i, j int) bool { return list[i].p > list[j].p })
	// Calibration: ten equal-width confidence bins.
	var bins [10]struct {
		n       int
		conf, k float64
	}
	for _, s := range list {
		b := min(9, int(s.p*10))
		bins[b].n++
		bins[b].conf += s.p
		if s.ok {
			bins[b].k++
		}
	}
	for _, b := range bins {
		if b.n > 0 {
			tr.ECE += math.Abs(b.k/float64(b.n)-b.conf/float64(b.n)) * float64(b.n) / float64(len(list))
		}
	}
	tr.Curve, tr.Threshold, tr.Coverage, tr.Precision = curve(len(list), func(i int) (float64, bool) { return list[i].p, list[i].ok }, precision)
	return tr
}

// curve walks predictions sorted by confidence (most confident first) and returns the
// precision-coverage curve (20 points), and the lowest threshold whose predictions at
// or above it reach the target precision, with its coverage and precision. Ties in
// confidence are taken together, since a threshold cannot split them.
func curve(n int, at func(i int) (float64, bool), target float64) (pts []Point, thr, cov, prec float64) {
	thr = 1.01 // no threshold reaches the target: nothing would be applied
	if n == 0 {
		return nil, thr, 0, 0
	}
	step := max(1, n/20)
	var k int
	for i := 0; i < n; i++ {
		p, ok := at(i)
		if ok {
			k++
		}
		if i+1 < n {
			if q, _ := at(i + 1); q == p {
				continue
			}
		}
		c, pr := float64(i+1)/float64(n), float64(k)/float64(i+1)
		if pr >= target {
			thr, cov, prec = p, c, pr
		}
		if (i+1)%step == 0 || i+1 == n || len(pts) == 0 {
			pts = append(pts, Point{Threshold: round(p), Coverage: round(c), Precision: round(pr)})
		}
	}
	return pts, thr, cov, prec
}

func round(x float64) float64 { return math.Round(x*10000) / 10000 }

// measureArticles computes P@1 and hit@3 over the tickets whose agent linked an article.
func measureArticles(recs []ai.Record, test []int, ranked [][]int64) ArticleReport {
	var r ArticleReport
	var p1, h3 int
	for n, i := range test {
		want := map[int64]bool{}
		for _, a := range recs[i].Labels[ai.TargetArticle] {
			if id, err := strconv.ParseInt(a, 10, 64); err == nil {
				want[id] = true
			}
		}
		if len(want) == 0 {
			continue
		}
		r.Tickets++
		for j, id := range ranked[n] {
			if want[id] {
				if j == 0 {
					p1++
				}
				h3++
				break
			}
		}
	}
	if r.Tickets > 0 {
		r.P1 = float64(p1) / float64(r.Tickets)
		r.Hit3 = float64(h3) / float64(r.Tickets)
	}
	return r
}

// decide works out what the AI would have answered at the macro threshold: the
// would-have-auto-resolved rate, the out-of-scope share answered, the per-intent table,
// the samples and the verdict on autonomy.
func decide(rep *Report, in Input, recs []ai.Record, test []int, preds map[string][]pred, arts [][]int64, trained map[string]int) {
	mp := preds[ai.TargetMacro]
	ip := preds[in.IntentTarget]
	// The macro threshold is the macro target's: chosen on the tickets where a macro
	// was used (as ai.md's protocol measures macros); tickets solved without one that
	// the AI would still answer count against its precision below.
	type cand struct {
		n int
		p float64
	}
	var cands []cand
	for n := range test {
		if n < len(mp) && len(mp[n].top) > 0 && mp[n].truth != "" {
			cands = append(cands, cand{n, mp[n].top[0].P})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(b.p, a.p) })
	_, thr, _, _ := curve(len(cands), func(i int) (float64, bool) {
		c := cands[i]
		return c.p, mp[c.n].top[0].Label == mp[c.n].truth
	}, in.Precision)
	res := Resolution{Threshold: thr, Tickets: len(test), From: in.From, To: in.To}
	type row struct {
		tickets, top1, macroN, macroHit, answered, correct int
	}
	rows := map[string]*row{}
	rowOf := func(v string) *row {
		r := rows[v]
		if r == nil {
			r = &row{}
			rows[v] = r
		}
		return r
	}
	var answeredIx []int
	for n, i := range test {
		rec := &recs[i]
		truthIntent := ""
		predIntent := ""
		if ip != nil && n < len(ip) {
			truthIntent = ip[n].truth
			if len(ip[n].top) > 0 {
				predIntent = ip[n].top[0].Label
			}
		}
		answered := false
		if n < len(mp) && len(mp[n].top) > 0 {
			top := mp[n].top[0]
			answered = top.P >= thr && (in.IntentTarget == "" || predIntent != "" && predIntent != in.Other && !slices.Contains(in.Restricted, predIntent))
		}
		correct := answered && mp[n].top[0].Label == mp[n].truth
		if answered {
			res.Answered++
			answeredIx = append(answeredIx, n)
			if correct {
				res.Correct++
				if rec.PublicReplies <= 1 && !rec.Reopened {
					res.Resolved++
				}
			}
		}
		if truthIntent == in.Other {
			rep.OutOfScope.Tickets++
			if answered {
				rep.OutOfScope.Answered++
			}
		}
		if in.IntentTarget == "" || truthIntent == "" {
			continue
		}
		r := rowOf(truthIntent)
		r.tickets++
		if predIntent == truthIntent {
			r.top1++
		}
		if mp != nil && mp[n].truth != "" {
			r.macroN++
			for _, s := range mp[n].top {
				if s.Label == mp[n].truth {
					r.macroHit++
					break
				}
			}
		}
		if answered {
			pr := rowOf(predIntent)
			pr.answered++
			if correct {
				pr.correct++
			}
		}
	}
	if res.Tickets > 0 {
		res.Rate = float64(res.Resolved) / float64(res.Tickets)
	}
	if res.Answered > 0 {
		res.Precision = float64(res.Resolved) / float64(res.Answered)
		res.AnswerPrecision = float64(res.Correct) / float64(res.Answered)
	}
	rep.Resolution = res
	if rep.OutOfScope.Tickets > 0 {
		rep.OutOfScope.Rate = float64(rep.OutOfScope.Answered) / float64(rep.OutOfScope.Tickets)
	}

	// The per-intent table and the verdict.
	var reasons []string
	if tr := rep.Target(ai.TargetMacro); tr != nil && tr.Coverage < 0.3 {
		reasons = append(reasons, fmt.Sprintf("at precision %.2f the macro model covers only %.0f%% of the replayed tickets (below 30%%, Zendesk's bar for turning intent triage on)", in.Precision, 100*tr.Coverage))
	}
	if in.IntentTarget != "" && len(trained) > 0 {
		total := 0
		for _, n := range trained {
			total += n
		}
		if avg := float64(total) / float64(len(trained)); avg < ColdStart {
			reasons = append(reasons, fmt.Sprintf("too little history: %.0f solved tickets per intent on average before the last origin (at least %d are needed)", avg, ColdStart))
		}
	}
	var eligible []string
	for v, r := range rows {
		row := IntentRow{Intent: v, Tickets: r.tickets, Trained: trained[v], Answered: r.answered}
		if r.tickets > 0 {
			row.Top1 = float64(r.top1) / float64(r.tickets)
		}
		if r.macroN > 0 {
			row.MacroHit3 = float64(r.macroHit) / float64(r.macroN)
		}
		if r.answered > 0 {
			row.Precision = float64(r.correct) / float64(r.answered)
		}
		switch {
		case v == in.Other:
			row.Why = "out of scope: always handed to people"
		case slices.Contains(in.Restricted, v):
			row.Why = "restricted intent: always handed to people"
		case r.tickets < in.MinTickets:
			row.Why = fmt.Sprintf("%d replayed tickets, %d needed", r.tickets, in.MinTickets)
		case r.answered == 0:
			row.Why = "no ticket reached the confidence threshold"
		case row.Precision < in.Precision:
			row.Why = fmt.Sprintf("precision %.3f is below %.2f", row.Precision, in.Precision)
		default:
			row.Eligible = true
			eligible = append(eligible, v)
		}
		rep.Intents = append(rep.Intents, row)
	}
	slices.SortFunc(rep.Intents, func(a, b IntentRow) int {
		return cmp.Or(cmp.Compare(b.Tickets, a.Tickets), cmp.Compare(a.Intent, b.Intent))
	})
	sort.Strings(eligible)
	if in.IntentTarget != "" && len(eligible) == 0 {
		reasons = append(reasons, fmt.Sprintf("no intent reaches precision %.2f on at least %d replayed tickets", in.Precision, in.MinTickets))
	}
	if in.IntentTarget == "" {
		reasons = append(reasons, "no intent target is chosen: autonomy is decided per intent")
	}
	rep.Autonomy = Autonomy{Possible: len(eligible) > 0 && len(reasons) == 0, Intents: eligible, Reasons: reasons}
	if !rep.Autonomy.Possible {
		rep.Autonomy.Intents = nil
	}

	// Samples: evenly spread over the answered tickets, oldest first.
	if len(answeredIx) > 0 {
		step := max(1, len(answeredIx)/in.Samples)
		for j := 0; j < len(answeredIx) && len(rep.Samples) < in.Samples; j += step {
			n := answeredIx[j]
			rec := &recs[test[n]]
			top := mp[n].top[0]
			s := Sample{TicketID: int64(rec.TicketID), CreatedAt: rec.CreatedAt, Subject: rec.Subject, Request: clip(rec.Body, 600),
				MacroID: top.Label, Confidence: round(top.P), Human: clip(rec.Reply, 1200), Correct: top.Label == mp[n].truth}
			s.HumanMacro = mp[n].truth
			if ip != nil && len(ip[n].top) > 0 {
				s.Intent = ip[n].top[0].Label
			}
			m := in.Macros[top.Label]
			s.MacroTitle, s.Answer = m.Title, m.Body
			if len(arts[n]) > 0 {
				s.ArticleID = arts[n][0]
			}
			rep.Samples = append(rep.Samples, s)
		}
	}
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s + "…"
}
