// Package learn holds Tandem's local text classifiers: closed-set models trained per
// account on its own history, written here with no machine-learning dependency.
//
// A Classifier maps a text (a ticket's subject and first comment) to a probability for
// each label it was trained on, and never to anything else: a value outside the trained
// set is impossible by construction. Features are the words of kb/rank (folded, stop
// words removed, stemmed for English or French) as unigrams and bigrams, weighted by
// sublinear term frequency times inverse document frequency and L2-normalised.
package learn

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"sort"

	"tandem/internal/kb/rank"
)

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

// Options tune training. The zero value is usable.
type Options struct {
	// Alpha is the naive Bayes smoothing (default 0.1).
	Alpha float64
	// MinDF drops features seen in fewer training texts (default 1: keep all).
	MinDF int
}

// ErrTooFew is returned when the examples hold fewer than two labels.
var ErrTooFew = errors.New("learn: at least two labels are needed to train")

// Classifier is a trained model. It is safe for concurrent use once trained.
type Classifier struct {
	// Kind names the model ("nb").
	Kind string
	// Labels are the classes, in index order.
	Labels []string
	// Vocab maps a feature to its column.
	Vocab map[string]int32
	// IDF is each column's inverse document frequency.
	IDF []float32
	// Prior is log P(class).
	Prior []float64
	// Weight is log P(feature | class), row-major: class*len(IDF) + column.
	Weight []float32
	// Trained counts the examples the model was trained on, per class.
	Trained []int
}

// features returns the text's feature names: unigrams and bigrams of its terms.
func features(text string, lang rank.Lang) map[string]float64 {
	ts := rank.TermList(text, lang)
	out := make(map[string]float64, 2*len(ts))
	for i, t := range ts {
		out[t]++
		if i > 0 {
			out[ts[i-1]+" "+t]++
		}
	}
	return out
}

// vector is a sparse, L2-normalised tf-idf vector over a classifier's vocabulary.
type vector struct {
	col []int32
	val []float64
}

func (c *Classifier) vectorize(text string, lang rank.Lang) vector {
	var v vector
	var norm float64
	for f, tf := range features(text, lang) {
		j, ok := c.Vocab[f]
		if !ok {
			continue
		}
		w := (1 + math.Log(tf)) * float64(c.IDF[j])
		v.col = append(v.col, j)
		v.val = append(v.val, w)
		norm += w * w
	}
	if norm > 0 {
		norm = math.Sqrt(norm)
		for i := range v.val {
			v.val[i] /= norm
		}
	}
	return v
}

// Train fits a multinomial naive Bayes model on tf-idf weighted features.
func Train(examples []Example, opt Options) (*Classifier, error) {
	if opt.Alpha <= 0 {
		opt.Alpha = 0.1
	}
	if opt.MinDF <= 0 {
		opt.MinDF = 1
	}
	labelIx := map[string]int{}
	c := &Classifier{Kind: "nb", Vocab: map[string]int32{}}
	df := map[string]int{}
	feats := make([]map[string]float64, len(examples))
	for i, e := range examples {
		if _, ok := labelIx[e.Label]; !ok {
			labelIx[e.Label] = len(c.Labels)
			c.Labels = append(c.Labels, e.Label)
		}
		feats[i] = features(e.Text, e.Lang)
		for f := range feats[i] {
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
	sort.Strings(names) // a deterministic layout: the same history gives the same model
	c.IDF = make([]float32, len(names))
	n := float64(len(examples))
	for j, f := range names {
		c.Vocab[f] = int32(j)
		c.IDF[j] = float32(math.Log((1+n)/(1+float64(df[f]))) + 1)
	}
	k, d := len(c.Labels), len(names)
	sums := make([]float64, k*d)
	c.Trained = make([]int, k)
	for _, e := range examples {
		y := labelIx[e.Label]
		c.Trained[y]++
		v := c.vectorize(e.Text, e.Lang)
		for x, j := range v.col {
			sums[y*d+int(j)] += v.val[x]
		}
	}
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
	return c, nil
}

// Predict returns every label with its probability, most likely first.
func (c *Classifier) Predict(text string, lang rank.Lang) []Scored {
	v := c.vectorize(text, lang)
	d := len(c.IDF)
	out := make([]Scored, len(c.Labels))
	best := math.Inf(-1)
	score := make([]float64, len(c.Labels))
	for y := range c.Labels {
		s := c.Prior[y]
		for x, j := range v.col {
			s += v.val[x] * float64(c.Weight[y*d+int(j)])
		}
		score[y] = s
		best = max(best, s)
	}
	var z float64
	for y := range score {
		score[y] = math.Exp(score[y] - best)
		z += score[y]
	}
	for y, l := range c.Labels {
		out[y] = Scored{Label: l, P: score[y] / z}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].P > out[j].P })
	return out
}

// Top returns the most likely label.
func (c *Classifier) Top(text string, lang rank.Lang) Scored {
	return c.Predict(text, lang)[0]
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
	if len(c.Labels) < 2 || len(c.Prior) != len(c.Labels) || len(c.Weight) != len(c.Labels)*len(c.IDF) {
		return nil, errors.New("learn: decode: inconsistent model")
	}
	return c, nil
}
