package report_test

import (
	"strings"
	"testing"

	"tandem/internal/report"
)

// TestChartsEscapeText: names in charts (tags, groups, partners) cannot inject markup,
// and every chart is one SVG element with a title for screen readers.
func TestChartsEscapeText(t *testing.T) {
	evil := `<script>alert(1)</script>"&`
	charts := []string{
		string(report.Bars(evil, []string{evil}, []report.Series{{Name: evil, Values: []float64{3}, Color: report.Blue}})),
		string(report.Line(evil, []string{evil, "b"}, []report.Series{{Name: evil, Values: []float64{1, 2}, Color: report.Orange}})),
		string(report.HBars(evil, []report.HBar{{Label: evil, Value: 2, Text: evil}}, 0)),
		string(report.HBars("empty", nil, 0)),
	}
	for _, c := range charts {
		if strings.Contains(c, "<script") || !strings.HasPrefix(c, `<svg class="chart"`) || !strings.HasSuffix(c, "</svg>") || !strings.Contains(c, "<title>") {
			t.Errorf("chart not escaped or not one SVG: %.300s", c)
		}
	}
	if !strings.Contains(charts[3], "No data in this range.") {
		t.Errorf("empty chart = %s", charts[3])
	}
}
