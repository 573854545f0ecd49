// Package learn holds Tandem's local text classifiers: closed-set models trained per
// account on its own history, written here with no machine-learning dependency.
//
// A Classifier maps a text (a ticket's subject and first comment) to a probability for
// each label it was trained on, and never to anything else: a value outside the trained
// set is impossible by construction. Features are the words of kb/rank (folded,
// stemmed for English or French; stop words kept, since "how do I" and "why is my"
// carry intent) as unigrams and bigrams, optionally with character n-grams, weighted
// by sublinear term frequency times inverse document frequency and L2-normalised.
//
// Two models share that representation and the prediction code (a softmax over
// per-class linear scores): multinomial naive Bayes (Train with Kind "nb") and softmax
// logistic regression fitted by stochastic gradient descent (Kind "lr"). Calibrate fits
// a temperature on held-out examples so that confidences mean what they say; Evaluate
// measures top-1 accuracy, the precision-coverage trade-off and the calibration error.
package learn

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"tandem/internal/kb/rank"
)

// Model kinds.
const (
	NaiveBayes = "nb"
	Logistic   = "lr"
)

// Feature sets (Classifier.Features, a bit set).
const (
	// FeatStopWords keeps stop words (kb/rank's WordList); without it the words are
	// the ranker's terms (TermList).
	FeatStopWords = 1 << iota
	// FeatChars adds character 3- to 5-grams of each word (with word boundaries),
	// which tolerate typos and inflections.
	FeatChars
)

// DefaultFeatures is the feature set Train uses when Options.Features is zero.
const DefaultFeatures = FeatStopWords

// Example is one labelled text to learn from.
type Example struct {
	Text  string
	Lang  rank.Lang
	Label string
}

// Scored is a label with its probability.
type Scored struct {
	Label string
	P     float64
}

// Options tune training. The zero value is usable (naive Bayes).
type Options struct {
	// Kind is NaiveBayes (default) or Logistic.
	Kind string
	// Features is a set of Feat* bits (0: DefaultFeatures; -1: none of them, plain terms).
	Features int
	// Alpha is the naive Bayes smoothing (default 0.03).
	Alpha float64
	// Epochs, Eta0 and L2 tune logistic regression's SGD (defaults: 12 epochs for up
	// to 10,000 examples, fewer for more, down to 3 from 40,000; 2; 1e-6).
	Epochs int
	Eta0   float64
	L2     float64
	// MinDF drops features seen in fewer training texts (default 1: keep all).
	MinDF int
	// MaxFeatures keeps only the most frequent features (default 50,000), which bounds
	// a model's size whatever the history's.
	MaxFeatures int
	// Seed orders SGD's passes (the same seed and examples give the same model).
	Seed uint64
}

// ErrTooFew is returned when the examples hold fewer than two labels.
var ErrTooFew = errors.New("learn: at least two labels are needed to train")

// Classifier is a trained model. It is safe for concurrent use once trained.
type Classifier struct {
	// Kind names the model (NaiveBayes or Logistic).
	Kind string
	// Features is the feature set (Feat* bits) the model reads.
	Features int
	// Labels are the classes, in index order.
	Labels []string
	// Vocab maps a feature to its column.
	Vocab map[string]int32
	// IDF is each column's inverse document frequency.
	IDF []float32
	// Prior is each class's score offset: log P(class) for naive Bayes, the bias for
	// logistic regression.
	Prior []float64
	// Weight is each class's weight per column, row-major: class*len(IDF) + column
	// (log P(feature | class) for naive Bayes).
	Weight []float32
	// Trained counts the examples the model was trained on, per class.
	Trained []int
	// Temperature divides the scores before the softmax (0 or 1: none); Calibrate sets it.
	Temperature float64
}

// words returns a text's words for a feature set.
func words(text string, lang rank.Lang, feats int) []string {
	if feats&FeatStopWords != 0 {
		return rank.WordList(text, lang)
	}
	return rank.TermList(text, lang)
}

// features returns the text's feature names with their counts: unigrams and bigrams of
// its words, and character n-grams when asked.
func features(text string, lang rank.Lang, feats int) map[string]float64 {
	ts := words(text, lang, feats)
	out := make(map[string]float64, 3*len(ts))
	for i, t := range ts {
		out[t]++
		if i > 0 {
			out[ts[i-1]+" "+t]++
		}
		if feats&FeatChars != 0 && len(t) > 3 {
			w := "<" + t + ">"
			for n := 3; n <= 5; n++ {
				for j := 0; j+n <= len(w); j++ {
					out["#"+w[j:j+n]]++
				}
			}
		}
	}
	return out
}

// vector is a sparse, L2-normalised tf-idf vector over a classifier's vocabulary.
type vector struct {
	col []int32
	val []float32
}

func (c *Classifier) vectorize(text string, lang rank.Lang) vector {
	return c.vectorOf(features(text, lang, c.Features))
}

func (c *Classifier) vectorOf(fs map[string]float64) vector {
	var v vector
	var norm float64
	for f, tf := range fs {
		j, ok := c.Vocab[f]
		if !ok {
			continue
		}
		w := (1 + math.Log(tf)) * float64(c.IDF[j])
		v.col = append(v.col, j)
		v.val = append(v.val, float32(w))
		norm += w * w
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := range v.val {
			v.val[i] *= inv
		}
	}
	return v
}

// Train fits a model of opt.Kind on the examples.
func Train(examples []Example, opt Options) (*Classifier, error) {
	if opt.Alpha <= 0 {
		opt.Alpha = 0.03
	}
	if opt.MinDF <= 0 {
		opt.MinDF = 1
	}
	if opt.MaxFeatures <= 0 {
		opt.MaxFeatures = 50000
	}
	switch opt.Features {
	case 0:
		opt.Features = DefaultFeatures
	case -1:
		opt.Features = 0
	}
	if opt.Kind == "" {
		opt.Kind = NaiveBayes
	}
	if opt.Kind != NaiveBayes && opt.Kind != Logistic {
		return nil, fmt.Errorf("learn: unknown model kind %q", opt.Kind)
	}
	labelIx := map[string]int{}
	c := &Classifier{Kind: opt.Kind, Features: opt.Features, Vocab: map[string]int32{}}
	df := map[string]int{}
	ys := make([]int, len(examples))
	for i, e := range examples {
		y, ok := labelIx[e.Label]
		if !ok {
			y = len(c.Labels)
			labelIx[e.Label] = y
			c.Labels = append(c.Labels, e.Label)
		}
		ys[i] = y
		for f := range features(e.Text, e.Lang, opt.Features) {
			df[f]++
		}
	}
	if len(c.Labels) < 2 {
		return nil, ErrTooFew
	}
	names := make([]string, 0, len(df))
	for f, n := range df {
		if n >= opt.MinDF {
			names = append(names, f)
		}
	}
	// The most frequent features, in a deterministic layout: the same history gives
	// the same model.
	sort.Slice(names, func(i, j int) bool {
		if df[names[i]] != df[names[j]] {
			return df[names[i]] > df[names[j]]
		}
		return names[i] < names[j]
	})
	if len(names) > opt.MaxFeatures {
		names = names[:opt.MaxFeatures]
	}
	sort.Strings(names)
	c.IDF = make([]float32, len(names))
	n := float64(len(examples))
	for j, f := range names {
		c.Vocab[f] = int32(j)
		c.IDF[j] = float32(math.Log((1+n)/(1+float64(df[f]))) + 1)
	}
	df = nil
	vs := make([]vector, len(examples))
	for i, e := range examples {
		vs[i] = c.vectorize(e.Text, e.Lang)
	}
	c.Trained = make([]int, len(c.Labels))
	for _, y := range ys {
		c.Trained[y]++
	}
	if opt.Kind == Logistic {
		c.fitLogistic(vs, ys, opt)
	} else {
		c.fitBayes(vs, ys, opt)
	}
	return c, nil
}

// fitBayes sets a multinomial naive Bayes model's weights from tf-idf mass per class.
func (c *Classifier) fitBayes(vs []vector, ys []int, opt Options) {
	k, d := len(c.Labels), len(c.IDF)
	sums := make([]float64, k*d)
	for i, v := range vs {
		y := ys[i]
		for x, j := range v.col {
			sums[y*d+int(j)] += float64(v.val[x])
		}
	}
	n := float64(len(vs))
	c.Prior = make([]float64, k)
	c.Weight = make([]float32, k*d)
	for y := 0; y < k; y++ {
		c.Prior[y] = math.Log(float64(c.Trained[y]) / n)
		var total float64
		for j := 0; j < d; j++ {
			total += sums[y*d+j]
		}
		denom := math.Log(total + opt.Alpha*float64(d))
		for j := 0; j < d; j++ {
			c.Weight[y*d+j] = float32(math.Log(sums[y*d+j]+opt.Alpha) - denom)
		}
	}
}

// fitLogistic fits softmax logistic regression by SGD on the cross-entropy with L2
// regularisation. The weights are kept as scale × w so that the L2 shrinkage of every
// weight costs one multiplication per step (the sparse gradient touches only the
// example's columns).
func (c *Classifier) fitLogistic(vs []vector, ys []int, opt Options) {
	if opt.Epochs <= 0 {
		opt.Epochs = min(12, max(3, 120000/max(1, len(vs))))
	}
	if opt.Eta0 <= 0 {
		opt.Eta0 = 2
	}
	if opt.L2 <= 0 {
		opt.L2 = 1e-6
	}
	k, d := len(c.Labels), len(c.IDF)
	w := make([]float32, k*d)
	bias := make([]float64, k)
	scale := 1.0
	order := make([]int, len(vs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x7a6e64656d))
	score := make([]float64, k)
	t := 0
	for epoch := 0; epoch < opt.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			v, y := vs[i], ys[i]
			eta := opt.Eta0 / (1 + opt.Eta0*opt.L2*float64(t)) / (1 + float64(epoch)*0.5)
			t++
			best := math.Inf(-1)
			for cl := 0; cl < k; cl++ {
				row := w[cl*d:]
				var s float64
				for x, j := range v.col {
					s += float64(v.val[x] * row[j])
				}
				score[cl] = s*scale + bias[cl]
				best = max(best, score[cl])
			}
			var z float64
			for cl := range score {
				score[cl] = math.Exp(score[cl] - best)
				z += score[cl]
			}
			scale *= 1 - eta*opt.L2
			if scale < 1e-9 {
				for j := range w {
					w[j] *= float32(scale)
				}
				scale = 1
			}
			for cl := 0; cl < k; cl++ {
				g := score[cl] / z
				if cl == y {
					g--
				}
				if g > -1e-7 && g < 1e-7 {
					continue
				}
				bias[cl] -= eta * g * 0.1
				step := float32(eta * g / scale)
				row := w[cl*d:]
				for x, j := range v.col {
					row[j] -= step * v.val[x]
				}
			}
		}
	}
	for j := range w {
		w[j] *= float32(scale)
	}
	c.Weight, c.Prior = w, bias
}

// scores returns the temperature-scaled softmax over the classes for a vector.
func (c *Classifier) scores(v vector) []float64 {
	d := len(c.IDF)
	score := make([]float64, len(c.Labels))
	best := math.Inf(-1)
	temp := c.Temperature
	if temp <= 0 {
		temp = 1
	}
	for y := range c.Labels {
		row := c.Weight[y*d:]
		var s float64
		for x, j := range v.col {
			s += float64(v.val[x] * row[j])
		}
		score[y] = (s + c.Prior[y]) / temp
		best = max(best, score[y])
	}
	var z float64
	for y := range score {
		score[y] = math.Exp(score[y] - best)
		z += score[y]
	}
	for y := range score {
		score[y] /= z
	}
	return score
}

// Predict returns every label with its probability, most likely first.
func (c *Classifier) Predict(text string, lang rank.Lang) []Scored {
	p := c.scores(c.vectorize(text, lang))
	out := make([]Scored, len(c.Labels))
	for y, l := range c.Labels {
		out[y] = Scored{Label: l, P: p[y]}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].P > out[j].P })
	return out
}

// Top returns the most likely label.
func (c *Classifier) Top(text string, lang rank.Lang) Scored {
	p := c.scores(c.vectorize(text, lang))
	best := 0
	for y := range p {
		if p[y] > p[best] {
			best = y
		}
	}
	return Scored{Label: c.Labels[best], P: p[best]}
}

// Prob returns the probability of one label (0 for a label the model does not know).
func (c *Classifier) Prob(text string, lang rank.Lang, label string) float64 {
	p := c.scores(c.vectorize(text, lang))
	for y, l := range c.Labels {
		if l == label {
			return p[y]
		}
	}
	return 0
}

// MarshalBinary encodes the model for storage as a blob.
func (c *Classifier) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	// plain has Classifier's fields but not its methods, so gob does not call
	// MarshalBinary again.
	type plain Classifier
	if err := gob.NewEncoder(&b).Encode((*plain)(c)); err != nil {
		return nil, fmt.Errorf("learn: encode: %w", err)
	}
	return b.Bytes(), nil
}

// Unmarshal decodes a model written by MarshalBinary.
func Unmarshal(b []byte) (*Classifier, error) {
	type plain Classifier
	c := new(Classifier)
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode((*plain)(c)); err != nil {
		return nil, fmt.Errorf("learn: decode: %w", err)
	}
	if len(c.Labels) < 2 || len(c.Prior) != len(c.Labels) || len(c.Weight) != len(c.Labels)*len(c.IDF) || len(c.Vocab) > len(c.IDF) {
		return nil, errors.New("learn: decode: inconsistent model")
	}
	for _, j := range c.Vocab {
		if j < 0 || int(j) >= len(c.IDF) {
			return nil, errors.New("learn: decode: inconsistent model")
		}
	}
	return c, nil
}
