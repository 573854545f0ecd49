package learn

import (
	"math"
	"sort"
)

// TargetPrecision is the precision the confidence thresholds are chosen for.
const TargetPrecision = 0.95

// Eval is what a model measured on held-out examples.
type Eval struct {
	// N is the number of examples measured.
	N int
	// Top1 is the share whose most likely label is right.
	Top1 float64
	// Threshold is the lowest confidence at which the predictions at or above it reach
	// the asked precision, and Coverage the share of examples at or above it (both 0
	// when no threshold reaches it).
	Threshold float64
	Coverage  float64
	// ECE is the expected calibration error of the top confidence (10 equal bins).
	ECE float64
	// Curve is the precision at coverage 10%, 20%, ... 100%.
	Curve [10]float64
}

// Outcome is one held-out prediction: its confidence and whether it was right.
type Outcome struct {
	P       float64
	Correct bool
}

// Outcomes predicts every example and reports each top prediction's confidence and
// correctness.
func (c *Classifier) Outcomes(test []Example) []Outcome {
	out := make([]Outcome, len(test))
	for i, e := range test {
		top := c.Top(e.Text, e.Lang)
		out[i] = Outcome{P: top.P, Correct: top.Label == e.Label}
	}
	return out
}

// Evaluate measures a model on held-out examples, thresholds chosen for precision.
func (c *Classifier) Evaluate(test []Example, precision float64) Eval {
	return Measure(c.Outcomes(test), precision)
}

// Measure computes the figures of a set of outcomes.
func Measure(os []Outcome, precision float64) Eval {
	e := Eval{N: len(os)}
	if len(os) == 0 {
		return e
	}
	sorted := append([]Outcome(nil), os...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].P > sorted[j].P })
	right := 0
	best := -1
	for i, o := range sorted {
		if o.Correct {
			right++
		}
		// A threshold keeps every prediction with the same confidence together.
		if i+1 < len(sorted) && sorted[i+1].P == o.P {
			continue
		}
		if float64(right)/float64(i+1) >= precision {
			best = i
		}
	}
	e.Top1 = float64(right) / float64(len(os))
	if best >= 0 {
		e.Threshold = sorted[best].P
		e.Coverage = float64(best+1) / float64(len(os))
	}
	for b := range e.Curve {
		n := max(1, (b+1)*len(sorted)/10)
		r := 0
		for _, o := range sorted[:n] {
			if o.Correct {
				r++
			}
		}
		e.Curve[b] = float64(r) / float64(n)
	}
	e.ECE = ece(os)
	return e
}

// ece is the expected calibration error over 10 equal-width confidence bins.
func ece(os []Outcome) float64 {
	var n, conf, acc [10]float64
	for _, o := range os {
		b := min(int(o.P*10), 9)
		n[b]++
		conf[b] += o.P
		if o.Correct {
			acc[b]++
		}
	}
	var sum float64
	for b := range n {
		if n[b] > 0 {
			sum += math.Abs(acc[b]-conf[b]) / float64(len(os))
		}
	}
	return sum
}

// Calibrate fits the model's temperature on held-out examples: the one, on a
// logarithmic grid, that minimises their negative log-likelihood. Confidences then
// track accuracy, so a threshold means a precision. It returns the temperature.
func (c *Classifier) Calibrate(held []Example) float64 {
	if len(held) == 0 {
		return c.Temperature
	}
	type row struct {
		raw []float64 // unscaled scores
		y   int
	}
	ix := map[string]int{}
	for i, l := range c.Labels {
		ix[l] = i
	}
	rows := make([]row, 0, len(held))
	d := len(c.IDF)
	for _, e := range held {
		y, ok := ix[e.Label]
		if !ok {
			continue // a label the model never saw cannot be calibrated for
		}
		v := c.vectorize(e.Text, e.Lang)
		raw := make([]float64, len(c.Labels))
		for cl := range c.Labels {
			var s float64
			row := c.Weight[cl*d:]
			for x, j := range v.col {
				s += float64(v.val[x] * row[j])
			}
			raw[cl] = s + c.Prior[cl]
		}
		rows = append(rows, row{raw, y})
	}
	if len(rows) == 0 {
		return c.Temperature
	}
	nll := func(t float64) float64 {
		var sum float64
		for _, r := range rows {
			best := math.Inf(-1)
			for _, s := range r.raw {
				best = max(best, s/t)
			}
			var z float64
			for _, s := range r.raw {
				z += math.Exp(s/t - best)
			}
			sum += math.Log(z) - (r.raw[r.y]/t - best)
		}
		return sum
	}
	bestT, bestL := 1.0, math.Inf(1)
	for t := 0.1; t <= 10; t *= 1.1 {
		if l := nll(t); l < bestL {
			bestT, bestL = t, l
		}
	}
	c.Temperature = bestT
	return bestT
}
