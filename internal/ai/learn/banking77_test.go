package learn

import (
	"encoding/csv"
	"fmt"
	"os"
	"testing"
)

// banking77 reads a BANKING77 split (internal/ai/testdata/banking77, CC BY 4.0, see its
// README for the attribution).
func banking77(tb testing.TB, split string) []Example {
	tb.Helper()
	f, err := os.Open("../testdata/banking77/" + split + ".csv")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]Example, 0, len(rows))
	for _, r := range rows[1:] {
		out = append(out, Example{Text: r[0], Label: r[1]})
	}
	return out
}

// split holds every tenth example out for calibration and the choice of threshold, so
// that the test set is only ever measured.
func split(ex []Example) (train, held []Example) {
	for i, e := range ex {
		if i%10 == 9 {
			held = append(held, e)
		} else {
			train = append(train, e)
		}
	}
	return train, held
}

// perLabel keeps the first n examples of each label (the cold start).
func perLabel(ex []Example, n int) []Example {
	seen := map[string]int{}
	var out []Example
	for _, e := range ex {
		if seen[e.Label] < n {
			seen[e.Label]++
			out = append(out, e)
		}
	}
	return out
}

// Figures is the honest protocol of docs/AI.md: train on train.csv less every tenth
// example, calibrate and choose the threshold for precision 0.95 on those, then apply
// that threshold to test.csv and report the precision and coverage it gets there.
type Figures struct {
	Top1, Threshold, Precision, Coverage, ECE, OracleCoverage float64
}

func (f Figures) String() string {
	return fmt.Sprintf("top-1 %.3f; threshold %.3f → precision %.3f, coverage %.3f on test (oracle coverage@0.95 %.3f); ECE %.3f",
		f.Top1, f.Threshold, f.Precision, f.Coverage, f.OracleCoverage, f.ECE)
}

func measureProtocol(tb testing.TB, trainAll, test []Example, opt Options) Figures {
	train, held := split(trainAll)
	c, err := Train(train, opt)
	if err != nil {
		tb.Fatal(err)
	}
	c.Calibrate(held)
	th := c.Evaluate(held, TargetPrecision).Threshold
	os := c.Outcomes(test)
	e := Measure(os, TargetPrecision)
	f := Figures{Top1: e.Top1, Threshold: th, ECE: e.ECE, OracleCoverage: e.Coverage}
	n, right := 0, 0
	for _, o := range os {
		if th > 0 && o.P >= th {
			n++
			if o.Correct {
				right++
			}
		}
	}
	if n > 0 {
		f.Precision, f.Coverage = float64(right)/float64(n), float64(n)/float64(len(os))
	}
	return f
}

// TestBanking77 is the figure the issue asks for, on the real data set: logistic
// regression reaches top-1 ≥ 0.88 and labels ≥ 80% of the test set at the threshold
// chosen for precision 0.95 (the precision it gets there is checked too). One model,
// about 5 s.
func TestBanking77(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on 9,000 examples")
	}
	f := measureProtocol(t, banking77(t, "train"), banking77(t, "test"), Options{Kind: Logistic, Epochs: 6})
	t.Log(f)
	if f.Top1 < 0.88 || f.Coverage < 0.80 || f.Precision < 0.94 {
		t.Errorf("BANKING77: %v; want top-1 ≥ 0.88, coverage ≥ 0.80 at precision ≈ 0.95", f)
	}
}

// BenchmarkBanking77 reports the figures of docs/AI.md: both model kinds on the full
// training set, and the cold start (10 and 30 examples per intent).
func BenchmarkBanking77(b *testing.B) {
	train, test := banking77(b, "train"), banking77(b, "test")
	for _, c := range []struct {
		name string
		ex   []Example
		opt  Options
	}{
		{"full/nb", train, Options{Kind: NaiveBayes}},
		{"full/lr", train, Options{Kind: Logistic}},
		{"full/lr+chars", train, Options{Kind: Logistic, Features: FeatStopWords | FeatChars}},
		{"30perIntent/lr", perLabel(train, 30), Options{Kind: Logistic}},
		{"10perIntent/lr", perLabel(train, 10), Options{Kind: Logistic}},
		{"10perIntent/nb", perLabel(train, 10), Options{Kind: NaiveBayes}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var f Figures
			for b.Loop() {
				f = measureProtocol(b, c.ex, test, c.opt)
			}
			b.ReportMetric(f.Top1, "top1")
			b.ReportMetric(f.Coverage, "coverage@0.95")
			b.ReportMetric(f.Precision, "precision")
			b.ReportMetric(f.ECE, "ece")
			b.Logf("%s (%d examples): %v", c.name, len(c.ex), f)
		})
	}
}

// BenchmarkPredict is one prediction of the 77-intent model (the cost triage adds per
// target, before its two small queries).
func BenchmarkPredict(b *testing.B) {
	train, test := banking77(b, "train"), banking77(b, "test")
	c, err := Train(train, Options{Kind: Logistic, Epochs: 3})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		c.Top(test[i%len(test)].Text, 0)
		i++
	}
}
