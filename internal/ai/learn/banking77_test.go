package learn

import (
	"encoding/csv"
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
