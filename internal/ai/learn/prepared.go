package learn

import (
	"sort"

	"tandem/internal/kb/rank"
)

// Prepared is a text's features, read once. The simulation on history trains and
// predicts many models (every target, at every rolling origin) on the same tickets,
// and reading a text (splitting, stemming, n-grams) is most of the cost of both.
type Prepared struct {
	feats int
	fs    map[string]float64
}

// Prepare reads a text for models of the feature set feats (0: DefaultFeatures).
func Prepare(text string, lang rank.Lang, feats int) *Prepared {
	if feats == 0 {
		feats = DefaultFeatures
	}
	return &Prepared{feats: feats, fs: features(text, lang, feats)}
}

// PreparedExample is a prepared text with its label.
type PreparedExample struct {
	Text  *Prepared
	Label string
}

// TrainPrepared fits a model on prepared examples, as Train does on texts. The
// examples' feature set must be opt's (the default when opt.Features is zero).
func TrainPrepared(examples []PreparedExample, opt Options) (*Classifier, error) {
	opt, err := opt.normalized()
	if err != nil {
		return nil, err
	}
	for _, e := range examples {
		if e.Text.feats != opt.Features {
			return nil, errFeatureSet
		}
	}
	return train(len(examples), func(i int) string { return examples[i].Label },
		func(i int) map[string]float64 { return examples[i].Text.fs }, opt)
}

// PredictPrepared returns every label with its probability for a prepared text, most
// likely first, as Predict does for a text. A text prepared for another feature set
// reads as an empty text.
func (c *Classifier) PredictPrepared(p *Prepared) []Scored {
	if p.feats != c.Features {
		return c.predictScores(c.vectorOf(nil))
	}
	return c.predictScores(c.vectorOf(p.fs))
}

func (c *Classifier) predictScores(v vector) []Scored {
	p := c.scores(v)
	out := make([]Scored, len(c.Labels))
	for y, l := range c.Labels {
		out[y] = Scored{Label: l, P: p[y]}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].P > out[j].P })
	return out
}
