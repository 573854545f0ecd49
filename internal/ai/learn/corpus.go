package learn

import (
	"math"
	"slices"
	"sort"

	"tandem/internal/kb/rank"
)

// Corpus is a set of texts already split into features, so that the many models of
// one training (a target per field, one per tag, two kinds each, their calibration and
// measurement) read every text once. Features are interned: a document is a short list
// of feature numbers with their counts.
type Corpus struct {
	features int
	// names are the features, sorted: a feature's number orders it by name.
	names []string
	docs  []doc
}

// pruneFrom is the corpus size from which features seen in a single text are dropped
// (order numbers, names, typos): they cannot generalise, and on a long history they
// are most of the vocabulary.
const pruneFrom = 5000

type doc struct {
	ids []int32
	tf  []float32
}

// NewCorpus splits texts (with their languages) into the features of a feature set
// (Feat* bits; 0 for plain terms).
func NewCorpus(texts []string, langs []rank.Lang, features int) *Corpus {
	co := &Corpus{features: features, docs: make([]doc, len(texts))}
	index := map[string]int32{}
	var df []int32
	for i, t := range texts {
		fs := featuresOf(t, langs[i], features)
		d := doc{ids: make([]int32, 0, len(fs)), tf: make([]float32, 0, len(fs))}
		for f, n := range fs {
			id, ok := index[f]
			if !ok {
				id = int32(len(co.names))
				index[f] = id
				co.names = append(co.names, f)
				df = append(df, 0)
			}
			df[id]++
			d.ids = append(d.ids, id)
			d.tf = append(d.tf, float32(n))
		}
		co.docs[i] = d
	}
	index = nil
	// Renumber the features in name order (dropping the single-text ones of a long
	// history), so that models lay their columns out deterministically without sorting
	// strings again.
	order := make([]int32, 0, len(co.names))
	for id := range co.names {
		if len(texts) < pruneFrom || df[id] > 1 {
			order = append(order, int32(id))
		}
	}
	sort.Slice(order, func(i, j int) bool { return co.names[order[i]] < co.names[order[j]] })
	renum := make([]int32, len(co.names))
	for i := range renum {
		renum[i] = -1
	}
	names := make([]string, len(order))
	for n, id := range order {
		renum[id] = int32(n)
		names[n] = co.names[id]
	}
	co.names = names
	for i := range co.docs {
		d := &co.docs[i]
		k := 0
		for x, id := range d.ids {
			if nid := renum[id]; nid >= 0 {
				d.ids[k], d.tf[k] = nid, d.tf[x]
				k++
			}
		}
		d.ids, d.tf = slices.Clip(d.ids[:k]), slices.Clip(d.tf[:k])
	}
	return co
}

// corpusOf builds the corpus of examples, with every index and label.
func corpusOf(examples []Example, features int) (*Corpus, []int, []string) {
	texts := make([]string, len(examples))
	langs := make([]rank.Lang, len(examples))
	idx := make([]int, len(examples))
	labels := make([]string, len(examples))
	for i, e := range examples {
		texts[i], langs[i], idx[i], labels[i] = e.Text, e.Lang, i, e.Label
	}
	return NewCorpus(texts, langs, features), idx, labels
}

// Len is the number of documents.
func (co *Corpus) Len() int { return len(co.docs) }

// columns maps the corpus's features to a classifier's columns (-1: not in its vocabulary).
func (co *Corpus) columns(c *Classifier) []int32 {
	cols := make([]int32, len(co.names))
	for i, name := range co.names {
		j, ok := c.Vocab[name]
		if !ok {
			j = -1
		}
		cols[i] = j
	}
	return cols
}

// vector is document d as the classifier's tf-idf vector.
func (co *Corpus) vector(c *Classifier, cols []int32, d int) vector {
	var v vector
	var norm float64
	dc := co.docs[d]
	for x, f := range dc.ids {
		j := cols[f]
		if j < 0 {
			continue
		}
		w := (1 + math.Log(float64(dc.tf[x]))) * float64(c.IDF[j])
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

// Scorer predicts the corpus's documents with one classifier.
type Scorer struct {
	co   *Corpus
	c    *Classifier
	cols []int32
}

// Scorer returns a scorer of the corpus's documents for c.
func (co *Corpus) Scorer(c *Classifier) *Scorer { return &Scorer{co: co, c: c, cols: co.columns(c)} }

// Probs returns the probability of each of the classifier's labels for document d.
func (s *Scorer) Probs(d int) []float64 { return s.c.scores(s.co.vector(s.c, s.cols, d)) }

// Top returns document d's most likely label.
func (s *Scorer) Top(d int) Scored {
	p := s.Probs(d)
	best := 0
	for y := range p {
		if p[y] > p[best] {
			best = y
		}
	}
	return Scored{Label: s.c.Labels[best], P: p[best]}
}

// Prob returns the probability of label for document d (0 for an unknown label).
func (s *Scorer) Prob(d int, label string) float64 {
	for y, l := range s.c.Labels {
		if l == label {
			return s.Probs(d)[y]
		}
	}
	return 0
}

// Outcomes predicts documents idx and reports each top prediction's confidence and
// whether it matches labels (in the same order).
func (s *Scorer) Outcomes(idx []int, labels []string) []Outcome {
	out := make([]Outcome, len(idx))
	for i, d := range idx {
		top := s.Top(d)
		out[i] = Outcome{P: top.P, Correct: top.Label == labels[i]}
	}
	return out
}

// Calibrate fits the classifier's temperature on documents idx labelled labels (see
// Classifier.Calibrate).
func (s *Scorer) Calibrate(idx []int, labels []string) float64 {
	ix := map[string]int{}
	for i, l := range s.c.Labels {
		ix[l] = i
	}
	rows := make([]calRow, 0, len(idx))
	d := len(s.c.IDF)
	for i, doc := range idx {
		y, ok := ix[labels[i]]
		if !ok {
			continue // a label the model never saw cannot be calibrated for
		}
		v := s.co.vector(s.c, s.cols, doc)
		raw := make([]float64, len(s.c.Labels))
		for cl := range s.c.Labels {
			var sum float64
			row := s.c.Weight[cl*d:]
			for x, j := range v.col {
				sum += float64(v.val[x] * row[j])
			}
			raw[cl] = sum + s.c.Prior[cl]
		}
		rows = append(rows, calRow{raw, y})
	}
	return s.c.fitTemperature(rows)
}
