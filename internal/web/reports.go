package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/report"
)

// The reports page (issue 18): agents and admins read the week's numbers as SVG charts
// drawn here, filtered by dates, group, organization and partner, each part with a CSV
// download. A restricted agent's reports count only the tickets they may see.
func (s *Server) reportRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /agent/reports", s.page(staff, s.reportsPage))
	mux.HandleFunc("GET /agent/reports/{file}", s.page(staff, s.reportCSV))
}

// filterOption is an entry of a filter menu.
type filterOption struct {
	ID       int64
	Name     string
	Selected bool
}

// partnerRow is a partner's line of the table under the sharing chart.
type partnerRow struct {
	Name                    string
	Sent, Received, Waiting int
	P50, P90, Promised      string
}

type reportsData struct {
	R      *report.Report
	From   string // the form's dates (To inclusive)
	To     string
	Query  string // the filter, for the CSV links
	Groups []filterOption
	Orgs   []filterOption
	Agrees []filterOption
	// PartnerRows is the sharing table.
	PartnerRows []partnerRow
	// Charts, in the page's order.
	Daily, Backlog, Times, SLAPolicy, SLAGroup, Satisfaction, Tags, Partners template.HTML
}

// reportFilter reads the filter from the query: from and to are dates (to included) in
// the account's report time zone loc; the default is the last 30 days there.
func reportFilter(q url.Values, now time.Time, loc *time.Location) (report.Filter, error) {
	var f report.Filter
	var v errs.Validation
	y, m, d := now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	date := func(name string, def time.Time) time.Time {
		raw := strings.TrimSpace(q.Get(name))
		if raw == "" {
			return def
		}
		d, err := time.Parse("2006-01-02", raw)
		if err != nil {
			v.Add(name, "InvalidValue", fmt.Sprintf("%s must be a date like 2026-03-31", name))
			return def
		}
		return d
	}
	f.To = date("to", today).AddDate(0, 0, 1)
	f.From = date("from", f.To.AddDate(0, 0, -30))
	id := func(name string) int64 {
		raw := strings.TrimSpace(q.Get(name))
		if raw == "" {
			return 0
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			v.Add(name, "InvalidValue", name+" must be chosen from the list")
		}
		return n
	}
	f.GroupID, f.OrgID, f.AgreementID = ids.Group(id("group_id")), ids.Org(id("organization_id")), id("agreement_id")
	if err := v.Err(); err != nil {
		return f, err
	}
	return f, f.Validate()
}

func (s *Server) buildReport(r *http.Request, c *call) (*report.Report, error) {
	loc, err := report.Location(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return nil, err
	}
	f, err := reportFilter(r.URL.Query(), time.Now(), loc)
	if err != nil {
		return nil, err
	}
	return report.Build(r.Context(), s.db.R(), c.Acct.ID, c.Actor(), f, time.Now())
}

func (s *Server) reportsPage(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	rep, err := s.buildReport(r, c)
	if err != nil {
		return err
	}
	d := &reportsData{R: rep, From: rep.Filter.From.Format("2006-01-02"), To: rep.Filter.To.AddDate(0, 0, -1).Format("2006-01-02")}
	q := url.Values{"from": {d.From}, "to": {d.To}}
	for k, v := range map[string]int64{"group_id": int64(rep.Filter.GroupID), "organization_id": int64(rep.Filter.OrgID), "agreement_id": rep.Filter.AgreementID} {
		if v != 0 {
			q.Set(k, strconv.FormatInt(v, 10))
		}
	}
	d.Query = q.Encode()
	acct, f := c.Acct.ID, rep.Filter
	if d.Groups, err = s.options(ctx, `SELECT id, name FROM groups WHERE account_id = ? AND deleted = FALSE ORDER BY name LIMIT 500`, acct, int64(f.GroupID)); err != nil {
		return err
	}
	if d.Orgs, err = s.options(ctx, `SELECT id, name FROM organizations WHERE account_id = ? ORDER BY name LIMIT 500`, acct, int64(f.OrgID)); err != nil {
		return err
	}
	if d.Agrees, err = s.options(ctx, `SELECT id, name FROM sharing_agreements WHERE account_id = ? ORDER BY name`, acct, f.AgreementID); err != nil {
		return err
	}
	dash := func(t time.Duration, ok bool) string {
		if !ok {
			return "–"
		}
		return durText(t)
	}
	for _, p := range rep.Partners {
		d.PartnerRows = append(d.PartnerRows, partnerRow{Name: p.Name, Sent: p.Sent, Received: p.Received, Waiting: p.Waiting,
			P50: dash(p.Response.P50, p.Response.Count > 0), P90: dash(p.Response.P90, p.Response.Count > 0), Promised: dash(p.Promised, p.Promised > 0)})
	}
	charts(d, rep)
	return s.render(w, r, c, http.StatusOK, "reports", page{Title: "Reports", Area: "agent", Nav: "reports", Data: d})
}

// charts draws the report's charts.
func charts(d *reportsData, rep *report.Report) {
	labels := make([]string, len(rep.Days))
	created, solved, backlog := make([]float64, len(rep.Days)), make([]float64, len(rep.Days)), make([]float64, len(rep.Days))
	for i, day := range rep.Days {
		labels[i] = day.Date.Format("Jan 2")
		created[i], solved[i], backlog[i] = float64(day.Created), float64(day.Solved), float64(day.Backlog)
	}
	d.Daily = report.Bars("Tickets created and solved per day", labels, []report.Series{{Name: "Created", Values: created, Color: report.Blue}, {Name: "Solved", Values: solved, Color: report.Green}})
	d.Backlog = report.Line("Unsolved tickets at the end of each day", labels, []report.Series{{Name: "Backlog", Values: backlog, Color: report.Orange}})
	hours := func(t time.Duration) float64 { return t.Hours() }
	d.Times = report.HBars("First reply and resolution times (hours)", []report.HBar{
		{Label: "First reply, median", Value: hours(rep.FirstReply.P50), Text: durText(rep.FirstReply.P50), Color: report.Blue},
		{Label: "First reply, 90th percentile", Value: hours(rep.FirstReply.P90), Text: durText(rep.FirstReply.P90), Color: report.Blue},
		{Label: "Resolution, median", Value: hours(rep.Resolution.P50), Text: durText(rep.Resolution.P50), Color: report.Green},
		{Label: "Resolution, 90th percentile", Value: hours(rep.Resolution.P90), Text: durText(rep.Resolution.P90), Color: report.Green},
	}, 0)
	sla := func(title string, rows []report.SLARow) template.HTML {
		bars := make([]report.HBar, 0, len(rows))
		for _, x := range rows {
			b := report.HBar{Label: x.Name, Value: max(x.Achieved, 0), Text: fmt.Sprintf("%.0f%% met (%d met, %d missed, %d running)", max(x.Achieved, 0), x.Met, x.Missed, x.Running), Color: report.Green}
			if x.Achieved < 0 {
				b.Text = fmt.Sprintf("none decided yet (%d running)", x.Running)
			} else if x.Achieved < 80 {
				b.Color = report.Red
			}
			bars = append(bars, b)
		}
		return report.HBars(title, bars, 100)
	}
	d.SLAPolicy, d.SLAGroup = sla("SLA targets met, by policy", rep.SLAByPolicy), sla("SLA targets met, by group", rep.SLAByGroup)
	sat := rep.Satisfaction
	d.Satisfaction = report.HBars("Satisfaction ratings", []report.HBar{
		{Label: "Good", Value: float64(sat.Good), Color: report.Green},
		{Label: "Bad", Value: float64(sat.Bad), Color: report.Red},
		{Label: "Offered, not answered", Value: float64(sat.Offered), Color: report.Grey},
	}, 0)
	tags := make([]report.HBar, len(rep.Tags))
	for i, t := range rep.Tags {
		tags[i] = report.HBar{Label: t.Name, Value: float64(t.N)}
	}
	d.Tags = report.HBars("Top tags of the tickets created", tags, 0)
	parts := make([]report.HBar, 0, 2*len(rep.Partners))
	for _, p := range rep.Partners {
		parts = append(parts, report.HBar{Label: p.Name + ": shared with", Value: float64(p.Sent), Color: report.Blue},
			report.HBar{Label: p.Name + ": received from", Value: float64(p.Received), Color: report.Orange})
	}
	d.Partners = report.HBars("Tickets shared with and received from each partner", parts, 0)
}

// options loads a filter menu (id, name), marking the chosen entry.
func (s *Server) options(ctx context.Context, query string, acct ids.Account, chosen int64) ([]filterOption, error) {
	rows, err := s.db.R().QueryContext(ctx, query, acct)
	if err != nil {
		return nil, fmt.Errorf("web: report filters: %w", err)
	}
	defer rows.Close()
	var out []filterOption
	for rows.Next() {
		var o filterOption
		if err := rows.Scan(&o.ID, &o.Name); err != nil {
			return nil, err
		}
		o.Selected = o.ID == chosen
		out = append(out, o)
	}
	return out, rows.Err()
}

// reportCSV downloads one section of the report ("daily.csv").
func (s *Server) reportCSV(w http.ResponseWriter, r *http.Request, c *call) error {
	section, ok := strings.CutSuffix(r.PathValue("file"), ".csv")
	if !ok {
		return errs.NotFoundf("There is no page at this address.")
	}
	known := false
	for _, x := range report.Sections {
		known = known || x == section
	}
	if !known {
		return errs.NotFoundf("There is no report section %q.", section)
	}
	rep, err := s.buildReport(r, c)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-%s.csv"`, section, rep.Filter.From.Format("20060102"), rep.Filter.To.AddDate(0, 0, -1).Format("20060102")))
	w.Header().Set("Cache-Control", "no-store")
	return rep.WriteCSV(w, section)
}
