package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tandem/internal/ai/sim"
	"tandem/internal/errs"
)

// The admin center's simulation page (/admin/ai/simulations): run the replay of the
// account's history, read its report: the precision-coverage curves (an SVG drawn
// here, no script), the would-have-auto-resolved rate with its precision, the
// per-intent table and sample would-be answers beside the humans' replies.

func (s *Server) aiSimulationRoutes(mux *http.ServeMux) {
	if s.sims == nil {
		return
	}
	mux.HandleFunc("GET /admin/ai/simulations", s.page(admin, s.simulationsPage))
	mux.HandleFunc("POST /admin/ai/simulations", s.page(admin, s.startSimulation))
}

type simulationsData struct {
	List     []*sim.Simulation
	Current  *sim.Simulation
	Report   *sim.Report
	Chart    template.HTML
	Selected int64
}

func (s *Server) simulationsPage(w http.ResponseWriter, r *http.Request, c *call) error {
	d := simulationsData{}
	var err error
	if d.List, err = s.sims.List(r.Context(), c.Acct.ID, 20); err != nil {
		return err
	}
	if v := r.URL.Query().Get("id"); v != "" {
		id, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			return errs.NotFoundf("There is no simulation %q.", v)
		}
		if d.Current, err = s.sims.Get(r.Context(), c.Acct.ID, id); err != nil {
			return err
		}
	} else {
		for _, sm := range d.List {
			if sm.Status == sim.Finished {
				if d.Current, err = s.sims.Get(r.Context(), c.Acct.ID, sm.ID); err != nil {
					return err
				}
				break
			}
		}
	}
	if d.Current != nil {
		d.Selected = d.Current.ID
		d.Report = d.Current.Report
		if d.Report != nil {
			d.Chart = curveSVG(d.Report)
		}
	}
	return s.render(w, r, c, http.StatusOK, "admin_ai_simulations", page{Title: "AI simulations", Area: "admin", Nav: "ai", Data: d})
}

func (s *Server) startSimulation(w http.ResponseWriter, r *http.Request, c *call) error {
	_, id, err := s.sims.Start(r.Context(), s.jobs, c.Acct, c.User.ID, time.Time{}, time.Time{})
	if err != nil {
		return redirectErr(w, r, "/admin/ai/simulations", err)
	}
	return redirect(w, r, "/admin/ai/simulations?id="+strconv.FormatInt(id, 10), fmt.Sprintf("Simulation %d started: reload this page in a few seconds to read its report.", id))
}

// chartColors are the curves' colours, one per target.
var chartColors = []string{"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#ca8a04"}

// curveSVG draws every target's precision-coverage curve, with the target precision as
// a dashed line. Every text in it is escaped.
func curveSVG(rep *sim.Report) template.HTML {
	const w, h, left, bottom, top, right = 560.0, 300.0, 48.0, 36.0, 12.0, 150.0
	pw, ph := w-left-right, h-top-bottom
	x := func(cov float64) float64 { return left + cov*pw }
	// Precision from 0.5 to 1: below that nothing would be applied anyway.
	y := func(p float64) float64 { return top + (1-max(0.5, p))/0.5*ph }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="pc-chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="pc-title" xmlns="http://www.w3.org/2000/svg"><title id="pc-title">Precision against coverage, per target</title>`, w, h)
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#9ca3af"/>`, left, top, pw, ph)
	for _, p := range []float64{0.5, 0.6, 0.7, 0.8, 0.9, 1} {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" font-size="10" text-anchor="end" fill="#4b5563">%.1f</text>`, left-4, y(p)+3, p)
	}
	for _, cv := range []float64{0, 0.25, 0.5, 0.75, 1} {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="10" text-anchor="middle" fill="#4b5563">%.0f%%</text>`, x(cv), h-bottom+14, cv*100)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="11" text-anchor="middle" fill="#111827">coverage (share of tickets at or above the threshold)</text>`, left+pw/2, h-6)
	fmt.Fprintf(&b, `<text x="12" y="%.0f" font-size="11" text-anchor="middle" fill="#111827" transform="rotate(-90 12 %.0f)">precision</text>`, top+ph/2, top+ph/2)
	fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#111827" stroke-dasharray="4 3"/>`, left, left+pw, y(rep.Precision), y(rep.Precision))
	for i, t := range rep.Targets {
		if len(t.Curve) == 0 {
			continue
		}
		col := chartColors[i%len(chartColors)]
		var pts []string
		for _, p := range t.Curve {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.Coverage), y(p.Precision)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, col, strings.Join(pts, " "))
		ly := top + 14 + float64(i)*16
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" stroke="%s" stroke-width="3"/>`, left+pw+10, left+pw+26, ly-4, ly-4, col)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="11" fill="#111827">%s</text>`, left+pw+30, ly, template.HTMLEscapeString(t.Target))
	}
	b.WriteString(`</svg>`)
	// Every interpolated text is escaped above and numbers are formatted: safe as is.
	return template.HTML(b.String())
}
