package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"tandem/internal/ai/sim"
	"tandem/internal/errs"
)

// The simulation on history (issue 14, docs/AI.md): an admin starts a chronological
// replay of the account's solved tickets as a job and reads its report. Admins only:
// the report quotes customers' requests and agents' replies from every group.

func (s *Server) aiSimulationRoutes(mux *routeMux) {
	if s.sims == nil {
		return
	}
	mux.HandleFunc("POST /api/v2/ai/simulations", s.h(admin, s.startSimulation))
	mux.HandleFunc("GET /api/v2/ai/simulations", s.h(admin, s.listSimulations))
	mux.HandleFunc("GET /api/v2/ai/simulations/{id}", s.h(admin, s.showSimulation))
}

// parseDay reads a window bound: a date (2026-05-01) or an RFC 3339 time.
func parseDay(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errs.Invalidf(field, "InvalidValue", "must be a date (2026-05-01) or an RFC 3339 time")
	}
	return t.UTC(), nil
}

func (s *Server) startSimulation(w http.ResponseWriter, r *http.Request, c *Call) error {
	var body struct {
		Simulation struct {
			From string `json:"from"`
			To   string `json:"to"`
		} `json:"simulation"`
	}
	if raw, err := s.readBody(r); err != nil {
		return err
	} else if len(strings.TrimSpace(string(raw))) > 0 {
		if err := decodeBytes(raw, &body); err != nil {
			return err
		}
	}
	from, err := parseDay("from", body.Simulation.From)
	if err != nil {
		return err
	}
	to, err := parseDay("to", body.Simulation.To)
	if err != nil {
		return err
	}
	st, id, err := s.sims.Start(r.Context(), s.jobs, c.Acct, c.User.ID, from, to)
	if err != nil {
		return err
	}
	job := jobJSON(c, st)
	job["job_type"] = sim.JobType
	writeJSON(w, http.StatusOK, map[string]any{"job_status": job,
		"simulation": map[string]any{"id": id, "url": c.URL("/api/v2/ai/simulations/" + strconv.FormatInt(id, 10) + ".json")}})
	return nil
}

func (s *Server) listSimulations(w http.ResponseWriter, r *http.Request, c *Call) error {
	list, err := s.sims.List(r.Context(), c.Acct.ID, 100)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, sm := range list {
		out = append(out, simulationJSON(c, sm))
	}
	writeJSON(w, http.StatusOK, map[string]any{"simulations": out, "count": len(out)})
	return nil
}

func (s *Server) showSimulation(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sm, err := s.sims.Get(r.Context(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"simulation": simulationJSON(c, sm)})
	return nil
}

func simulationJSON(c *Call, sm *sim.Simulation) map[string]any {
	out := map[string]any{
		"id": sm.ID, "url": c.URL("/api/v2/ai/simulations/" + strconv.FormatInt(sm.ID, 10) + ".json"), "status": sm.Status,
		"from": ts(sm.From), "to": ts(sm.To), "job_status_id": nullStr(sm.JobID), "error": nullStr(sm.Error),
		"created_at": ts(sm.CreatedAt), "finished_at": ts(sm.FinishedAt),
	}
	if sm.Report != nil {
		out["report"] = sm.Report
	}
	return out
}
