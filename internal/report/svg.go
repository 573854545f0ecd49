package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Charts are SVG drawn on the server: no script, no external service, and they print.
// Every text in them is escaped here; the result is safe to put in a page as is.

// Series is one named run of values of a chart, drawn in Color.
type Series struct {
	Name   string
	Values []float64
	Color  string
}

// The chart palette: distinct in print and for the common colour blindnesses.
const (
	Blue   = "#2b6cb0"
	Orange = "#dd6b20"
	Green  = "#2f855a"
	Red    = "#c53030"
	Grey   = "#718096"
)

const (
	chartW, chartH = 720, 240
	padL, padR     = 48, 12
	padT, padB     = 24, 36
)

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten (at least 1).
func niceMax(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func num(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// frame writes the chart's opening, title, axis and grid (top is the y maximum), and
// the labels along x (at most about 12 shown).
func frame(b *strings.Builder, title string, labels []string, top float64, slot func(i int) float64) {
	fmt.Fprintf(b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s"><title>%s</title>`,
		chartW, chartH, html.EscapeString(title), html.EscapeString(title))
	plotH := float64(chartH - padT - padB)
	for i := 0; i <= 4; i++ {
		y := float64(padT) + plotH*float64(i)/4
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e2e8f0"/>`, padL, chartW-padR, y, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#4a5568">%s</text>`, padL-6, y+4, num(top*float64(4-i)/4))
	}
	step := max(1, (len(labels)+11)/12)
	for i, l := range labels {
		if i%step != 0 {
			continue
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#4a5568">%s</text>`, slot(i), chartH-padB+16, html.EscapeString(l))
	}
}

func legend(b *strings.Builder, series []Series) {
	x := padL
	for _, s := range series {
		fmt.Fprintf(b, `<rect x="%d" y="6" width="10" height="10" fill="%s"/><text x="%d" y="15" font-size="11" fill="#1a202c">%s</text>`,
			x, s.Color, x+14, html.EscapeString(s.Name))
		x += 24 + 7*len([]rune(s.Name))
	}
}

// axes starts a chart over labels: it scales y to the series' largest value and writes
// the frame; it returns the y maximum, the width of a label's slot and its centre.
func axes(b *strings.Builder, title string, labels []string, series []Series) (top, slotW float64, slot func(i int) float64) {
	for _, s := range series {
		for _, v := range s.Values {
			top = math.Max(top, v)
		}
	}
	top = niceMax(top)
	slotW = float64(chartW-padL-padR) / float64(max(len(labels), 1))
	slot = func(i int) float64 { return float64(padL) + slotW*(float64(i)+0.5) }
	frame(b, title, labels, top, slot)
	return top, slotW, slot
}

// Bars draws grouped vertical bars, one group per label.
func Bars(title string, labels []string, series []Series) template.HTML {
	var b strings.Builder
	top, slotW, _ := axes(&b, title, labels, series)
	plotH := float64(chartH - padT - padB)
	barW := math.Max(1, slotW*0.8/float64(max(len(series), 1)))
	for si, s := range series {
		for i, v := range s.Values {
			h := plotH * v / top
			x := float64(padL) + slotW*float64(i) + slotW*0.1 + barW*float64(si)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
				x, float64(padT)+plotH-h, barW, h, s.Color, html.EscapeString(s.Name), html.EscapeString(labels[i]), num(v))
		}
	}
	legend(&b, series)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}

// Line draws one polyline per series over the labels.
func Line(title string, labels []string, series []Series) template.HTML {
	var b strings.Builder
	top, _, slot := axes(&b, title, labels, series)
	plotH := float64(chartH - padT - padB)
	for _, s := range series {
		pts := make([]string, len(s.Values))
		for i, v := range s.Values {
			pts[i] = fmt.Sprintf("%.1f,%.1f", slot(i), float64(padT)+plotH-plotH*v/top)
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, s.Color, strings.Join(pts, " "))
	}
	legend(&b, series)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}

// HBar is one row of a horizontal bar chart.
type HBar struct {
	Label string
	Value float64
	// Text is shown after the bar (the value when empty).
	Text  string
	Color string
}

// HBars draws one horizontal bar per row, scaled to top (the largest value when 0).
func HBars(title string, rows []HBar, top float64) template.HTML {
	for _, r := range rows {
		top = math.Max(top, r.Value)
	}
	if top <= 0 {
		top = 1
	}
	const rowH, labelW, textW = 24, 200, 150
	h := max(len(rows), 1)*rowH + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s"><title>%s</title>`,
		chartW, h, html.EscapeString(title), html.EscapeString(title))
	if len(rows) == 0 {
		fmt.Fprintf(&b, `<text x="0" y="18" font-size="12" fill="#4a5568">No data in this range.</text>`)
	}
	for i, r := range rows {
		y := 4 + i*rowH
		w := float64(chartW-labelW-textW) * r.Value / top
		txt := r.Text
		if txt == "" {
			txt = num(r.Value)
		}
		color := r.Color
		if color == "" {
			color = Blue
		}
		label := []rune(r.Label)
		if len(label) > 30 {
			label = append(label[:29], '…')
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end" fill="#1a202c">%s</text>`, labelW-8, y+15, html.EscapeString(string(label)))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, labelW, y+3, w, rowH-8, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" fill="#1a202c">%s</text>`, float64(labelW)+w+6, y+15, html.EscapeString(txt))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}
