package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/rules"
	"tandem/internal/sla"
	"tandem/internal/ticket"
)

// slaAPI serves business-hours schedules and SLA policies (Zendesk's
// /business_hours/schedules and /slas/policies). Agents read them, admins change them.
type slaAPI struct {
	s   *Server
	svc *sla.Service
}

func (a *slaAPI) routes(mux *routeMux) {
	s := a.s
	mux.HandleFunc("GET /api/v2/business_hours/schedules", s.h(agent, a.listSchedules))
	mux.HandleFunc("POST /api/v2/business_hours/schedules", s.h(admin, a.createSchedule))
	mux.HandleFunc("GET /api/v2/business_hours/schedules/{id}", s.h(agent, a.showSchedule))
	mux.HandleFunc("PUT /api/v2/business_hours/schedules/{id}", s.h(admin, a.updateSchedule))
	mux.HandleFunc("DELETE /api/v2/business_hours/schedules/{id}", s.h(admin, deleteOne(a.deleteSchedule)))
	mux.HandleFunc("PUT /api/v2/business_hours/schedules/{id}/workweek", s.h(admin, a.updateWorkweek))
	mux.HandleFunc("GET /api/v2/business_hours/schedules/{id}/holidays", s.h(agent, a.listHolidays))
	mux.HandleFunc("POST /api/v2/business_hours/schedules/{id}/holidays", s.h(admin, a.createHoliday))
	mux.HandleFunc("DELETE /api/v2/business_hours/schedules/{id}/holidays/{hid}", s.h(admin, a.deleteHoliday))

	mux.HandleFunc("GET /api/v2/slas/policies", s.h(agent, a.listPolicies))
	mux.HandleFunc("POST /api/v2/slas/policies", s.h(admin, a.createPolicy))
	mux.HandleFunc("PUT /api/v2/slas/policies/reorder", s.h(admin, a.reorderPolicies))
	mux.HandleFunc("GET /api/v2/slas/policies/{id}", s.h(agent, a.showPolicy))
	mux.HandleFunc("PUT /api/v2/slas/policies/{id}", s.h(admin, a.updatePolicy))
	mux.HandleFunc("DELETE /api/v2/slas/policies/{id}", s.h(admin, deleteOne(a.deletePolicy)))
}

func scheduleJSON(c *Call, sc *sla.Schedule) map[string]any {
	return map[string]any{
		"id": sc.ID, "url": c.URL("/api/v2/business_hours/schedules/" + strconv.FormatInt(sc.ID, 10) + ".json"),
		"name": sc.Name, "time_zone": sc.TimeZone, "intervals": sc.Intervals,
		"created_at": ts(sc.CreatedAt), "updated_at": ts(sc.UpdatedAt),
	}
}

type scheduleIn struct {
	Name      *string         `json:"name"`
	TimeZone  *string         `json:"time_zone"`
	Intervals *[]sla.Interval `json:"intervals"`
	Holidays  *[]sla.Holiday  `json:"holidays"`
}

func (a *slaAPI) decodeSchedule(r *http.Request) (*scheduleIn, error) {
	var env struct {
		Schedule *scheduleIn `json:"schedule"`
	}
	if err := a.s.decode(r, &env); err != nil {
		return nil, err
	}
	if env.Schedule == nil {
		return nil, errs.Invalidf("schedule", "BlankValue", "the body must be {\"schedule\": {...}}")
	}
	return env.Schedule, nil
}

func (in *scheduleIn) apply(sc *sla.Schedule) {
	if in.Name != nil {
		sc.Name = *in.Name
	}
	if in.TimeZone != nil {
		sc.TimeZone = *in.TimeZone
	}
	if in.Intervals != nil {
		sc.Intervals = *in.Intervals
	}
	if in.Holidays != nil {
		sc.Holidays = *in.Holidays
	}
}

func (a *slaAPI) listSchedules(w http.ResponseWriter, r *http.Request, c *Call) error {
	list, err := sla.Schedules(r.Context(), a.s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(list))
	for i, sc := range list {
		out[i] = scheduleJSON(c, sc)
	}
	writeJSON(w, http.StatusOK, map[string]any{"schedules": out})
	return nil
}

func (a *slaAPI) schedule(r *http.Request, c *Call) (*sla.Schedule, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return sla.GetSchedule(r.Context(), a.s.db.R(), c.Acct.ID, id)
}

func (a *slaAPI) showSchedule(w http.ResponseWriter, r *http.Request, c *Call) error {
	sc, err := a.schedule(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"schedule": scheduleJSON(c, sc)})
	return nil
}

func (a *slaAPI) createSchedule(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := a.decodeSchedule(r)
	if err != nil {
		return err
	}
	sc := &sla.Schedule{}
	in.apply(sc)
	if err := a.svc.SaveSchedule(r.Context(), c.Acct.ID, sc); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"schedule": scheduleJSON(c, sc)})
	return nil
}

// saveEdited loads the schedule, lets edit change it and saves it.
func (a *slaAPI) saveEdited(w http.ResponseWriter, r *http.Request, c *Call, status int, edit func(sc *sla.Schedule) (any, error)) error {
	sc, err := a.schedule(r, c)
	if err != nil {
		return err
	}
	body, err := edit(sc)
	if err != nil {
		return err
	}
	if err := a.svc.SaveSchedule(r.Context(), c.Acct.ID, sc); err != nil {
		return err
	}
	if body == nil {
		body = map[string]any{"schedule": scheduleJSON(c, sc)}
	}
	writeJSON(w, status, body)
	return nil
}

func (a *slaAPI) updateSchedule(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := a.decodeSchedule(r)
	if err != nil {
		return err
	}
	return a.saveEdited(w, r, c, http.StatusOK, func(sc *sla.Schedule) (any, error) { in.apply(sc); return nil, nil })
}

func (a *slaAPI) updateWorkweek(w http.ResponseWriter, r *http.Request, c *Call) error {
	var in struct {
		Workweek *struct {
			Intervals []sla.Interval `json:"intervals"`
		} `json:"workweek"`
	}
	if err := a.s.decode(r, &in); err != nil {
		return err
	}
	if in.Workweek == nil {
		return errs.Invalidf("workweek", "BlankValue", "the body must be {\"workweek\": {\"intervals\": [...]}}")
	}
	return a.saveEdited(w, r, c, http.StatusOK, func(sc *sla.Schedule) (any, error) {
		sc.Intervals = in.Workweek.Intervals
		return map[string]any{"workweek": map[string]any{"intervals": in.Workweek.Intervals}}, nil
	})
}

func (a *slaAPI) listHolidays(w http.ResponseWriter, r *http.Request, c *Call) error {
	sc, err := a.schedule(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"holidays": sc.Holidays})
	return nil
}

func (a *slaAPI) createHoliday(w http.ResponseWriter, r *http.Request, c *Call) error {
	var in struct {
		Holiday *sla.Holiday `json:"holiday"`
	}
	if err := a.s.decode(r, &in); err != nil {
		return err
	}
	if in.Holiday == nil {
		return errs.Invalidf("holiday", "BlankValue", "the body must be {\"holiday\": {\"name\", \"start_date\", \"end_date\"}}")
	}
	in.Holiday.ID = 0
	var added *sla.Holiday
	sc, err := a.schedule(r, c)
	if err != nil {
		return err
	}
	sc.Holidays = append(sc.Holidays, *in.Holiday)
	if err := a.svc.SaveSchedule(r.Context(), c.Acct.ID, sc); err != nil {
		return err
	}
	added = &sc.Holidays[len(sc.Holidays)-1]
	writeJSON(w, http.StatusCreated, map[string]any{"holiday": added})
	return nil
}

func (a *slaAPI) deleteHoliday(w http.ResponseWriter, r *http.Request, c *Call) error {
	hid, err := pathID(r, "hid")
	if err != nil {
		return err
	}
	sc, err := a.schedule(r, c)
	if err != nil {
		return err
	}
	kept := sc.Holidays[:0]
	for _, h := range sc.Holidays {
		if h.ID != hid {
			kept = append(kept, h)
		}
	}
	if len(kept) == len(sc.Holidays) {
		return errs.NotFoundf("holiday %d not found", hid)
	}
	sc.Holidays = kept
	if err := a.svc.SaveSchedule(r.Context(), c.Acct.ID, sc); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func policyJSON(c *Call, p *sla.Policy) map[string]any {
	return map[string]any{
		"id": p.ID, "url": c.URL("/api/v2/slas/policies/" + strconv.FormatInt(p.ID, 10) + ".json"),
		"title": p.Title, "description": nullStr(p.Description), "position": p.Position,
		"filter":         conditionsJSON(rules.Conditions{All: p.All, Any: p.Any}),
		"policy_metrics": p.Metrics,
		"created_at":     ts(p.CreatedAt), "updated_at": ts(p.UpdatedAt),
	}
}

type policyIn struct {
	Title       *string             `json:"title"`
	Description *string             `json:"description"`
	Position    *int64              `json:"position"`
	Filter      json.RawMessage     `json:"filter"`
	Metrics     *[]sla.PolicyMetric `json:"policy_metrics"`
}

func (a *slaAPI) decodePolicy(r *http.Request, p *sla.Policy) error {
	var env struct {
		Policy *policyIn `json:"sla_policy"`
	}
	if err := a.s.decode(r, &env); err != nil {
		return err
	}
	in := env.Policy
	if in == nil {
		return errs.Invalidf("sla_policy", "BlankValue", "the body must be {\"sla_policy\": {...}}")
	}
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.Description != nil {
		p.Description = *in.Description
	}
	if in.Position != nil {
		p.Position = *in.Position
	}
	if in.Metrics != nil {
		p.Metrics = *in.Metrics
	}
	if present(in.Filter) {
		var v errs.Validation
		conds, _ := parseConditions(&ruleIn{Conditions: in.Filter}, &v)
		if err := v.Err(); err != nil {
			return err
		}
		p.All, p.Any = conds.All, conds.Any
	}
	return nil
}

func (a *slaAPI) listPolicies(w http.ResponseWriter, r *http.Request, c *Call) error {
	list, err := sla.Policies(r.Context(), a.s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(list))
	for i, p := range list {
		out[i] = policyJSON(c, p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sla_policies": out, "next_page": nil, "previous_page": nil, "count": len(out)})
	return nil
}

func (a *slaAPI) showPolicy(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := sla.GetPolicy(r.Context(), a.s.db.R(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sla_policy": policyJSON(c, p)})
	return nil
}

func (a *slaAPI) createPolicy(w http.ResponseWriter, r *http.Request, c *Call) error {
	p := &sla.Policy{}
	if err := a.decodePolicy(r, p); err != nil {
		return err
	}
	if err := a.svc.SavePolicy(r.Context(), c.Acct, p); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"sla_policy": policyJSON(c, p)})
	return nil
}

func (a *slaAPI) updatePolicy(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := sla.GetPolicy(r.Context(), a.s.db.R(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	if err := a.decodePolicy(r, p); err != nil {
		return err
	}
	if err := a.svc.SavePolicy(r.Context(), c.Acct, p); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sla_policy": policyJSON(c, p)})
	return nil
}

func (a *slaAPI) reorderPolicies(w http.ResponseWriter, r *http.Request, c *Call) error {
	var in struct {
		IDs []optID `json:"sla_policy_ids"`
	}
	if err := a.s.decode(r, &in); err != nil {
		return err
	}
	if len(in.IDs) == 0 {
		return errs.Invalidf("sla_policy_ids", "BlankValue", "list the policies in their new order")
	}
	order := make([]int64, len(in.IDs))
	for i, x := range in.IDs {
		order[i] = x.Value
	}
	if err := a.svc.ReorderPolicies(r.Context(), c.Acct.ID, order); err != nil {
		return err
	}
	return a.listPolicies(w, r, c)
}

// deleteSchedule and deletePolicy delete by id (DELETE /{id}, through deleteOne).
func (a *slaAPI) deleteSchedule(r *http.Request, c *Call, list []int64) error {
	for _, id := range list {
		if err := a.svc.DeleteSchedule(r.Context(), c.Acct.ID, id); err != nil {
			return err
		}
	}
	return nil
}

func (a *slaAPI) deletePolicy(r *http.Request, c *Call, list []int64) error {
	for _, id := range list {
		if err := a.svc.DeletePolicy(r.Context(), c.Acct.ID, id); err != nil {
			return err
		}
	}
	return nil
}

// metricRoutes serves Zendesk's ticket metrics: GET /tickets/{id}/metrics, and
// /ticket_metrics (a page of the caller's tickets) and /ticket_metrics/{id} (a
// ticket's metric set has the ticket's id).
func (a *slaAPI) metricRoutes(mux *routeMux) {
	s := a.s
	mux.HandleFunc("GET /api/v2/tickets/{id}/metrics", s.h(agent, a.showMetrics))
	mux.HandleFunc("GET /api/v2/ticket_metrics/{id}", s.h(agent, a.showMetrics))
	mux.HandleFunc("GET /api/v2/ticket_metrics", s.h(agent, a.listMetrics))
}

func minutesJSON(m *sla.Minutes) any {
	if m == nil {
		return map[string]any{"calendar": nil, "business": nil}
	}
	return m
}

func metricsJSON(c *Call, m *sla.TicketMetrics) map[string]any {
	id := strconv.FormatInt(int64(m.TicketID), 10)
	return map[string]any{
		"id": int64(m.TicketID), "ticket_id": int64(m.TicketID), "url": c.URL("/api/v2/ticket_metrics/" + id + ".json"),
		"replies": m.Replies, "reopens": m.Reopens,
		"reply_time_in_minutes": minutesJSON(m.FirstReply), "first_resolution_time_in_minutes": minutesJSON(m.FullResolution),
		"full_resolution_time_in_minutes": minutesJSON(m.FullResolution),
		"requester_wait_time_in_minutes":  m.RequesterWait, "agent_wait_time_in_minutes": m.AgentWait, "on_hold_time_in_minutes": m.OnHold,
		"solved_at": ts(m.SolvedAt), "status_updated_at": ts(m.StatusUpdatedAt), "latest_comment_added_at": ts(m.LatestCommentAt),
		"assigned_at": ts(m.AssignedAt), "requester_updated_at": ts(m.RequesterUpdatedAt), "assignee_updated_at": ts(m.AssigneeUpdatedAt),
		"created_at": ts(m.CreatedAt), "updated_at": ts(m.UpdatedAt),
	}
}

func (a *slaAPI) showMetrics(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx, q := r.Context(), a.s.db.R()
	t, _, err := a.s.visibleTicket(ctx, q, c, r)
	if err != nil {
		return err
	}
	m, err := sla.ComputeMetrics(ctx, q, c.Acct.ID, t, time.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ticket_metric": metricsJSON(c, m)})
	return nil
}

// listMetrics answers a page of the caller's visible tickets' metrics (per_page at most
// 100, newest tickets first), computed from each ticket's audits.
func (a *slaAPI) listMetrics(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx, q := r.Context(), a.s.db.R()
	p, err := parsePage(r, false)
	if err != nil {
		return err
	}
	p.desc = true
	list, res, err := runTicketList(ctx, q, ticket.ListQuery{Account: c.Acct.ID, Viewer: c.Actor()}, p, nil)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, t := range list {
		m, err := sla.ComputeMetrics(ctx, q, c.Acct.ID, t, time.Now())
		if err != nil {
			return err
		}
		out = append(out, metricsJSON(c, m))
	}
	body := map[string]any{"ticket_metrics": out}
	addPageKeys(body, r, res)
	writeJSON(w, http.StatusOK, body)
	return nil
}

// orgScheduleRoutes serve an organization's default schedule (a Tandem addition: its
// tickets' SLA targets count in it unless a trigger's set_schedule chose another).
func (a *slaAPI) orgScheduleRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/organizations/{id}/schedule", a.s.h(agent, a.showOrgSchedule))
	mux.HandleFunc("PUT /api/v2/organizations/{id}/schedule", a.s.h(admin, a.setOrgSchedule))
}

func (a *slaAPI) showOrgSchedule(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var n int
	if err := a.s.db.R().QueryRowContext(r.Context(), `SELECT COUNT(*) FROM organizations WHERE account_id = ? AND id = ?`, c.Acct.ID, id).Scan(&n); err != nil || n == 0 {
		return errs.NotFoundf("organization %d not found", id)
	}
	writeJSON(w, http.StatusOK, map[string]any{"organization_id": id, "schedule_id": nullID(sla.OrgSchedule(r.Context(), a.s.db.R(), c.Acct.ID, ids.Org(id)))})
	return nil
}

func (a *slaAPI) setOrgSchedule(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		ScheduleID *int64 `json:"schedule_id"`
	}
	if err := a.s.decode(r, &in); err != nil {
		return err
	}
	sid := int64(0)
	if in.ScheduleID != nil {
		if *in.ScheduleID <= 0 {
			return errs.Invalidf("schedule_id", "InvalidValue", "schedule_id must be a schedule's id, or null for none")
		}
		sid = *in.ScheduleID
	}
	if err := a.svc.SetOrgSchedule(r.Context(), c.Acct.ID, ids.Org(id), sid); err != nil {
		return err
	}
	return a.showOrgSchedule(w, r, c)
}
