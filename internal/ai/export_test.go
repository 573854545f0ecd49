package ai

import (
	"context"
	"strings"

	"tandem/internal/kb/rank"
)

// FitRecords trains models from records in memory, as Train does from the database
// (for the training benchmark: 100,000 tickets without writing them first).
func FitRecords(ctx context.Context, recs []Record, set *Settings) (*Models, map[string]Figures) {
	samples := make([]sample, len(recs))
	for i, r := range recs {
		text := r.Text()
		if len(text) > maxTrainText {
			text = strings.ToValidUTF8(text[:maxTrainText], "")
		}
		samples[i] = sample{text: text, lang: rank.LangOf(r.Locale), labels: r.Labels}
	}
	tr := NewTrainer(nil, nil)
	return tr.fit(ctx, samples, set, nil)
}
