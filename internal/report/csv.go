package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"tandem/internal/errs"
	"tandem/internal/importer"
)

// Sections are the report's parts that download as CSV.
var Sections = []string{"daily", "times", "sla", "satisfaction", "tags", "partners"}

func minutes(d time.Duration) string { return strconv.FormatFloat(d.Minutes(), 'f', 1, 64) }

func pct(v float64) string {
	if v < 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// WriteCSV writes one section of the report as CSV. Every cell goes through
// importer.SafeCell, so names (tags, groups, partners) that start like a formula stay
// text in a spreadsheet.
func (r *Report) WriteCSV(w io.Writer, section string) error {
	var rows [][]string
	switch section {
	case "daily":
		rows = append(rows, []string{"date", "created", "solved", "backlog"})
		for _, d := range r.Days {
			rows = append(rows, []string{d.Date.Format("2006-01-02"), strconv.Itoa(d.Created), strconv.Itoa(d.Solved), strconv.Itoa(d.Backlog)})
		}
	case "times":
		rows = append(rows, []string{"measure", "tickets", "p50_minutes", "p90_minutes", "max_minutes"})
		for _, m := range []struct {
			name string
			t    Times
		}{{"first_reply", r.FirstReply}, {"resolution", r.Resolution}} {
			rows = append(rows, []string{m.name, strconv.Itoa(m.t.Count), minutes(m.t.P50), minutes(m.t.P90), minutes(m.t.Max)})
		}
	case "sla":
		rows = append(rows, []string{"by", "name", "met", "missed", "running", "achieved_percent"})
		for _, g := range []struct {
			by   string
			list []SLARow
		}{{"policy", r.SLAByPolicy}, {"group", r.SLAByGroup}} {
			for _, x := range g.list {
				rows = append(rows, []string{g.by, x.Name, strconv.Itoa(x.Met), strconv.Itoa(x.Missed), strconv.Itoa(x.Running), pct(x.Achieved)})
			}
		}
	case "satisfaction":
		s := r.Satisfaction
		rows = append(rows, []string{"good", "bad", "offered_unanswered", "score_percent"},
			[]string{strconv.Itoa(s.Good), strconv.Itoa(s.Bad), strconv.Itoa(s.Offered), pct(s.Score)})
	case "tags":
		rows = append(rows, []string{"tag", "tickets"})
		for _, c := range r.Tags {
			rows = append(rows, []string{c.Name, strconv.Itoa(c.N)})
		}
	case "partners":
		rows = append(rows, []string{"partner", "shared_with", "received_from", "answered", "response_p50_minutes", "response_p90_minutes", "promised_minutes", "waiting_now"})
		for _, p := range r.Partners {
			rows = append(rows, []string{p.Name, strconv.Itoa(p.Sent), strconv.Itoa(p.Received), strconv.Itoa(p.Response.Count),
				minutes(p.Response.P50), minutes(p.Response.P90), minutes(p.Promised), strconv.Itoa(p.Waiting)})
		}
	default:
		return errs.NotFoundf("there is no report section %q", section)
	}
	cw := csv.NewWriter(w)
	for _, row := range rows {
		for i := range row {
			row[i] = importer.SafeCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("report: csv: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}
