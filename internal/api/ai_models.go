package api

import (
	"net/http"

	"tandem/internal/ai"
	"tandem/internal/store"
)

// The AI layer's models (docs/AI.md): what the admin chose (settings), training on
// demand (a job_status), and the stored model versions with their figures. Admins
// only: the figures describe the whole account's tickets.

func (s *Server) aiModelRoutes(mux *routeMux) {
	if s.ai == nil {
		return
	}
	mux.HandleFunc("GET /api/v2/ai/settings", s.h(admin, s.showAISettings))
	mux.HandleFunc("PUT /api/v2/ai/settings", s.h(admin, s.updateAISettings))
	mux.HandleFunc("GET /api/v2/ai/models", s.h(admin, s.listAIModels))
	mux.HandleFunc("POST /api/v2/ai/models/train", s.h(admin, s.trainAIModels))
}

func aiSettingsJSON(set *ai.Settings) map[string]any {
	th := map[string]float64{}
	for k, v := range set.Thresholds {
		th[k] = v
	}
	return map[string]any{"triage": set.Triage, "targets": nonNilStrings(set.Targets), "tag_set": nonNilStrings(set.TagSet), "thresholds": th,
		"intent_target": set.IntentTarget, "retrain_after": set.RetrainAfter, "ai_user_id": idOrNil(int64(set.UserID)), "updated_at": ts(set.UpdatedAt)}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func idOrNil(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (s *Server) showAISettings(w http.ResponseWriter, r *http.Request, c *Call) error {
	set, err := ai.LoadSettings(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ai_settings": aiSettingsJSON(set)})
	return nil
}

type aiSettingsIn struct {
	Triage       *bool              `json:"triage"`
	Targets      *[]string          `json:"targets"`
	TagSet       *[]string          `json:"tag_set"`
	Thresholds   map[string]float64 `json:"thresholds"`
	IntentTarget *string            `json:"intent_target"`
	RetrainAfter *int               `json:"retrain_after"`
}

// updateAISettings changes the fields the body names; thresholds given replace those
// of the same targets (0 returns a target to its measured threshold).
func (s *Server) updateAISettings(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := decodeObject[aiSettingsIn](s, r, "ai_settings")
	if err != nil {
		return err
	}
	ctx := r.Context()
	var set *ai.Settings
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if set, err = ai.LoadSettings(ctx, tx, c.Acct.ID); err != nil {
			return err
		}
		if in.Triage != nil {
			set.Triage = *in.Triage
		}
		if in.Targets != nil {
			set.Targets = *in.Targets
		}
		if in.TagSet != nil {
			set.TagSet = *in.TagSet
		}
		for k, v := range in.Thresholds {
			set.Thresholds[k] = v
			if v == 0 {
				delete(set.Thresholds, k)
			}
		}
		if in.IntentTarget != nil {
			set.IntentTarget = *in.IntentTarget
		}
		if in.RetrainAfter != nil {
			set.RetrainAfter = *in.RetrainAfter
		}
		return ai.SaveSettings(ctx, tx, set)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ai_settings": aiSettingsJSON(set)})
	return nil
}

// listAIModels answers the stored versions, newest first, each with its per-target
// figures (model kind, examples, held-out top-1, threshold for precision 0.95 and its
// coverage, calibration error).
func (s *Server) listAIModels(w http.ResponseWriter, r *http.Request, c *Call) error {
	vs, err := s.ai.Store.Versions(r.Context(), c.Acct.ID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(vs))
	for _, v := range vs {
		out = append(out, map[string]any{"version": v.Version, "created_at": ts(v.CreatedAt), "examples": v.Examples,
			"trained_through": ts(v.TrainedThrough), "targets": v.Figures})
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out, "count": len(out)})
	return nil
}

// trainAIModels starts a training and answers its job_status (409 while one runs).
func (s *Server) trainAIModels(w http.ResponseWriter, r *http.Request, c *Call) error {
	st, err := s.ai.StartTraining(r.Context(), c.Acct.ID, c.User.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_status": jobJSON(c, st)})
	return nil
}
