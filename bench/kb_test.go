package bench

import (
	"fmt"
	"testing"

	"tandem/internal/kb/rank"
)

// BenchmarkKBRank10k is the ranker alone (no database) over 10,000 articles made from
// the BANKING77 ones: one test.csv query with its ten snippets per iteration.
func BenchmarkKBRank10k(b *testing.B) {
	arts, train, test, err := LoadBanking77("testdata/banking77")
	if err != nil {
		b.Fatal(err)
	}
	var docs []rank.Doc
	for i := range 10000 {
		a := arts[i%len(arts)]
		body := a.Body
		for k := range 3 {
			body += " " + train[(i*7+k*13)%len(train)].Text
		}
		docs = append(docs, rank.Doc{ID: int64(i), Locale: "en-us", Title: fmt.Sprintf("%s (%d)", a.Title, i), Body: body})
	}
	ix := rank.Build(docs)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := test[i%len(test)].Text
		h, _ := ix.Search(rank.Query{Text: q, Lang: rank.English, Limit: 10})
		terms := ix.TermsOf(q, rank.English)
		for _, x := range h {
			ix.Snippet(x.ID, terms)
		}
	}
}
