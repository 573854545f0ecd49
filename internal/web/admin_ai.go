package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"tandem/internal/ai"
	"tandem/internal/errs"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// The AI page of the admin center (/admin/ai, docs/AI.md): what the AI learns and
// predicts (targets, the tag set, thresholds, the intent target), triage on or off,
// training now, and the stored model versions with their held-out figures and the
// live outcomes of triage's predictions. Admins only.

func (s *Server) aiRoutes(mux *http.ServeMux) {
	if s.ai == nil {
		return
	}
	mux.HandleFunc("GET /admin/ai", s.page(admin, s.aiPage))
	mux.HandleFunc("POST /admin/ai", s.page(admin, s.saveAI))
	mux.HandleFunc("POST /admin/ai/train", s.page(admin, s.trainAI))
}

// aiTarget is one choosable target on the page.
type aiTarget struct {
	Name, Title string
	Chosen      bool
	// Threshold is the admin's threshold as typed ("" = measured).
	Threshold string
	// Measured is the latest model's threshold for precision 0.95 ("" = none).
	Measured string
}

// aiFigure is one target's figures in a model version.
type aiFigure struct {
	Target string
	ai.Figures
}

type aiVersion struct {
	ai.Version
	Rows []aiFigure
}

// aiOutcome counts triage's predictions of a target by what became of them.
type aiOutcome struct {
	Target                                      string
	Applied, Abstained, Overridden, Kept, Right int
}

type aiData struct {
	Settings *ai.Settings
	Targets  []aiTarget
	TagSet   string
	Versions []aiVersion
	Outcomes []aiOutcome
	Error    string
}

func (s *Server) aiData(ctx context.Context, c *call, set *ai.Settings) (*aiData, error) {
	q := s.db.R()
	d := &aiData{Settings: set, TagSet: strings.Join(set.TagSet, " ")}
	vs, err := s.ai.Store.Versions(ctx, c.Acct.ID)
	if err != nil {
		return nil, err
	}
	latest := map[string]ai.Figures{}
	if len(vs) > 0 {
		latest = vs[0].Figures
	}
	add := func(name, title string) {
		t := aiTarget{Name: name, Title: title, Chosen: set.Has(name)}
		if th := set.Thresholds[name]; th > 0 {
			t.Threshold = strconv.FormatFloat(th, 'f', -1, 64)
		}
		if f, ok := latest[name]; ok && f.Threshold > 0 {
			t.Measured = fmt.Sprintf("%.2f", f.Threshold)
		}
		d.Targets = append(d.Targets, t)
	}
	add(ai.TargetGroup, "Group")
	add(ai.TargetPriority, "Priority")
	add(ai.TargetType, "Type")
	fields, err := ticket.Fields(ctx, q, c.Acct.ID)
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		if f.Type == "tagger" {
			add(ai.CustomFieldTarget(f.ID), f.Title+" (drop-down)")
		}
	}
	add(ai.TargetTags, "Tags (from the tag set)")
	add(ai.TargetMacro, "Macro (suggestions)")
	add(ai.TargetArticle, "Article (suggestions)")
	for _, v := range vs {
		av := aiVersion{Version: v}
		names := make([]string, 0, len(v.Figures))
		for n := range v.Figures {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			av.Rows = append(av.Rows, aiFigure{Target: s.aiTargetTitle(ctx, c, n), Figures: v.Figures[n]})
		}
		d.Versions = append(d.Versions, av)
	}
	rs, err := q.QueryContext(ctx, `SELECT target, applied, outcome, COUNT(*) FROM ai_predictions WHERE account_id = ? AND kind = 'triage' GROUP BY target, applied, outcome ORDER BY target`, c.Acct.ID)
	if err != nil {
		return nil, fmt.Errorf("web: AI outcomes: %w", err)
	}
	defer rs.Close()
	by := map[string]*aiOutcome{}
	var order []string
	for rs.Next() {
		var target, outcome string
		var applied bool
		var n int
		if err := rs.Scan(&target, &applied, &outcome, &n); err != nil {
			return nil, err
		}
		o := by[target]
		if o == nil {
			o = &aiOutcome{Target: target}
			by[target] = o
			order = append(order, target)
		}
		if applied {
			o.Applied += n
		} else {
			o.Abstained += n
		}
		switch outcome {
		case ai.OutcomeOverridden:
			o.Overridden += n
		case ai.OutcomeAccepted:
			o.Kept += n
		case ai.OutcomeRight:
			o.Right += n
		}
	}
	for _, t := range order {
		o := *by[t]
		o.Target = s.aiTargetTitle(ctx, c, t)
		d.Outcomes = append(d.Outcomes, o)
	}
	return d, rs.Err()
}

// aiTargetTitle names a target for people: "Group", a field's title, "Tag vip".
func (s *Server) aiTargetTitle(ctx context.Context, c *call, name string) string {
	switch {
	case name == ai.TargetGroup:
		return "Group"
	case name == ai.TargetPriority, name == ai.TargetType, name == ai.TargetMacro, name == ai.TargetArticle:
		return titleCase(name)
	case strings.HasPrefix(name, "tags:"):
		return "Tag " + strings.TrimPrefix(name, "tags:")
	case strings.HasPrefix(name, "custom_field_"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(name, "custom_field_"), 10, 64)
		if f, err := ticket.GetField(ctx, s.db.R(), c.Acct.ID, id); err == nil {
			return f.Title
		}
	}
	return name
}

func (s *Server) aiPage(w http.ResponseWriter, r *http.Request, c *call) error {
	set, err := ai.LoadSettings(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	d, err := s.aiData(r.Context(), c, set)
	if err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "admin_ai", page{Title: "AI", Area: "admin", Nav: "ai", Data: d})
}

// saveAI stores the form: the chosen targets, their thresholds, the tag set, the intent
// target, triage and the retraining count. A refused form is shown again, as typed.
func (s *Server) saveAI(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	f := r.PostForm
	set, err := ai.LoadSettings(ctx, s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	set.Triage = f.Get("triage") == "on"
	set.Targets = f["target"]
	set.TagSet = strings.Fields(strings.ReplaceAll(f.Get("tag_set"), ",", " "))
	set.IntentTarget = f.Get("intent_target")
	set.Thresholds = map[string]float64{}
	var v errs.Validation
	for k, vals := range f {
		name, ok := strings.CutPrefix(k, "threshold_")
		if !ok || strings.TrimSpace(vals[0]) == "" {
			continue
		}
		th, err := strconv.ParseFloat(strings.TrimSpace(vals[0]), 64)
		if err != nil {
			v.Bad("thresholds", fmt.Sprintf("the threshold of %s must be a number between 0.5 and 1", name))
			continue
		}
		set.Thresholds[name] = th
	}
	if n, err := strconv.Atoi(strings.TrimSpace(f.Get("retrain_after"))); err == nil {
		set.RetrainAfter = n
	} else {
		v.Bad("retrain_after", "must be a whole number")
	}
	err = v.Err()
	if err == nil {
		err = s.db.Write(ctx, func(tx *store.Tx) error { return ai.SaveSettings(ctx, tx, set) })
	}
	if errs.Is(err, errs.Invalid) {
		d, derr := s.aiData(ctx, c, set)
		if derr != nil {
			return derr
		}
		d.Error = errorText(err)
		return s.render(w, r, c, http.StatusUnprocessableEntity, "admin_ai", page{Title: "AI", Area: "admin", Nav: "ai", Data: d})
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/admin/ai", "AI settings saved.")
}

func (s *Server) trainAI(w http.ResponseWriter, r *http.Request, c *call) error {
	st, err := s.ai.StartTraining(r.Context(), c.Acct.ID, c.User.ID)
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
		return redirectErr(w, r, "/admin/ai", err)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/admin/ai", fmt.Sprintf("Training started (job %s). Reload this page in a minute to see the new version.", st.ID))
}
