package api

import (
	"net/http"
	"strconv"
	"strings"

	"tandem/internal/ai"
	"tandem/internal/ai/assist"
	"tandem/internal/errs"
	"tandem/internal/ids"
)

// The AI's assist half (internal/ai/assist): a ticket's suggestions and the verdicts on
// them, what the AI did on a ticket, one-click sending of a pending reply, summaries,
// and the admin's controls (autonomy per intent, kill switch, rate limit, model server).
func (s *Server) assistRoutes(mux *routeMux) {
	if s.assist == nil {
		return
	}
	mux.HandleFunc("GET /api/v2/tickets/{id}/suggestions", s.h(agent, s.ticketSuggestions))
	mux.HandleFunc("POST /api/v2/tickets/{id}/suggestions/feedback", s.h(agent, s.suggestionFeedback))
	mux.HandleFunc("GET /api/v2/tickets/{id}/ai_attempts", s.h(agent, s.ticketAIAttempts))
	mux.HandleFunc("POST /api/v2/tickets/{id}/ai_attempts/{aid}/send", s.h(agent, s.sendAIReply))
	mux.HandleFunc("POST /api/v2/tickets/{id}/summary", s.h(agent, s.summariseTicket))
	mux.HandleFunc("GET /api/v2/ai/assist", s.h(admin, s.showAssist))
	mux.HandleFunc("PUT /api/v2/ai/assist", s.h(admin, s.updateAssist))
	mux.HandleFunc("PUT /api/v2/ai/assist/autonomy", s.h(admin, s.updateAutonomy))
	mux.HandleFunc("PUT /api/v2/ai/assist/model_server", s.h(admin, s.updateModelServer))
	mux.HandleFunc("POST /api/v2/ai/assist/model_server/check", s.h(admin, s.checkModelServer))
}

// fieldValue renders a suggested value as the ticket field holds it (group ids as
// numbers).
func fieldValue(f assist.FieldSuggestion) any {
	if f.Field == ai.TargetGroup {
		if n, err := strconv.ParseInt(f.Value, 10, 64); err == nil {
			return n
		}
	}
	return f.Value
}

func (s *Server) ticketSuggestions(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sg, err := s.assist.Suggest(r.Context(), c.Acct, c.Actor(), ids.Ticket(id))
	if err != nil {
		return err
	}
	fields := []map[string]any{}
	for _, f := range sg.Fields {
		fields = append(fields, map[string]any{"field": f.Field, "value": fieldValue(f), "confidence": f.Confidence, "applied": f.Applied})
	}
	macros := []map[string]any{}
	for _, m := range sg.Macros {
		macros = append(macros, map[string]any{"id": m.ID, "title": m.Title, "confidence": m.Confidence})
	}
	arts := []map[string]any{}
	for _, a := range sg.Articles {
		arts = append(arts, map[string]any{"id": a.ID, "title": a.Title, "html_url": c.URL(a.Path), "confidence": a.Confidence})
	}
	var reply any
	if sg.Reply != nil {
		reply = map[string]any{"body": sg.Reply.Body, "macro_id": sg.Reply.MacroID, "article_ids": sg.Reply.ArticleIDs, "confidence": sg.Reply.Confidence}
	}
	var version any
	if sg.ModelVersion != 0 {
		version = sg.ModelVersion
	}
	writeJSON(w, http.StatusOK, map[string]any{"suggestions": map[string]any{
		"model_version": version, "fields": fields, "macros": macros, "articles": arts, "reply": reply}})
	return nil
}

type feedbackIn struct {
	Feedback *struct {
		Kind    string `json:"kind"`
		Target  string `json:"target"`
		Value   any    `json:"value"`
		Outcome string `json:"outcome"`
	} `json:"feedback"`
}

func (s *Server) suggestionFeedback(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in feedbackIn
	if err := s.decode(r, &in); err != nil {
		return err
	}
	if in.Feedback == nil {
		return errs.Invalidf("feedback", "BlankValue", "a feedback object is required")
	}
	f := in.Feedback
	value := ""
	switch v := f.Value.(type) {
	case string:
		value = v
	case interface{ String() string }: // json.Number
		value = v.String()
	}
	target := f.Target
	if f.Kind == assist.KindField && f.Target == ai.TargetTags {
		target = ai.TargetTags + ":" + value
	}
	if err := s.assist.Feedback(r.Context(), c.Acct, c.Actor(), ids.Ticket(id), f.Kind, target, value, f.Outcome); err != nil {
		return err
	}
	noContent(w)
	return nil
}

func attemptJSON(a *assist.Attempt) map[string]any {
	m := map[string]any{"id": a.ID, "ticket_id": a.TicketID, "action": a.Action, "intent": nullStr(a.Intent), "confidence": a.Confidence,
		"reason": a.Reason, "macro_id": nullID(a.MacroID), "article_ids": a.ArticleIDs, "language": nullStr(a.Lang), "state": a.State, "created_at": ts(a.CreatedAt)}
	if a.ArticleIDs == nil {
		m["article_ids"] = []int64{}
	}
	if a.State == "pending" {
		m["body"] = a.Body
	}
	return m
}

func (s *Server) ticketAIAttempts(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.assist.Suggestible(r.Context(), c.Acct, c.Actor(), ids.Ticket(id)); err != nil {
		return err
	}
	list, err := s.assist.Attempts(r.Context(), c.Acct.ID, ids.Ticket(id))
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, a := range list {
		out = append(out, attemptJSON(a))
	}
	writeJSON(w, http.StatusOK, map[string]any{"ai_attempts": out})
	return nil
}

func (s *Server) sendAIReply(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	aid, err := pathID(r, "aid")
	if err != nil {
		return err
	}
	if err := s.assist.SendPending(r.Context(), c.Acct, c.Actor(), ids.Ticket(id), aid); err != nil {
		return err
	}
	noContent(w)
	return nil
}

func (s *Server) summariseTicket(w http.ResponseWriter, r *http.Request, c *Call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.assist.Summarise(r.Context(), c.Acct, c.Actor(), ids.Ticket(id)); err != nil {
		return err
	}
	noContent(w)
	return nil
}

func (s *Server) showAssist(w http.ResponseWriter, r *http.Request, c *Call) error {
	o, err := s.assist.Overview(r.Context(), c.Acct)
	if err != nil {
		return err
	}
	intents := []map[string]any{}
	for _, in := range o.Intents {
		intents = append(intents, map[string]any{"intent": in.Intent, "mode": in.Mode, "autonomous_allowed": in.Allowed, "reason": in.Why, "restricted": in.Restricted})
	}
	precision := []map[string]any{}
	for _, p := range o.Precision {
		precision = append(precision, map[string]any{"kind": p.Kind, "shown": p.Shown, "accepted": p.Accepted, "edited": p.Edited,
			"overridden": p.Overridden, "ignored": p.Ignored, "precision": p.Rate()})
	}
	ct := o.Controls
	writeJSON(w, http.StatusOK, map[string]any{"ai_assist": map[string]any{
		"kill_switch": ct.Killed, "rate_per_hour": ct.RatePerHour, "target_precision": ct.TargetPrecision, "min_tickets": ct.MinTickets,
		"draft_kind": ct.DraftKind, "intent_target": nullStr(o.IntentTarget), "intents": intents, "live_precision": precision,
		"model_server": map[string]any{"base_url": nullStr(ct.LLM.BaseURL), "chat_model": nullStr(ct.LLM.ChatModel), "embeddings_model": nullStr(ct.LLM.EmbedModel),
			"has_key": ct.LLM.HasKey(), "state": o.LLMState, "error": nullStr(ct.LLM.Error), "secrets_enabled": s.assist.Secrets().Ready()},
	}})
	return nil
}

type assistIn struct {
	Settings *struct {
		KillSwitch      *bool    `json:"kill_switch"`
		RatePerHour     *int     `json:"rate_per_hour"`
		TargetPrecision *float64 `json:"target_precision"`
		MinTickets      *int     `json:"min_tickets"`
		DraftKind       *string  `json:"draft_kind"`
	} `json:"ai_assist"`
}

func (s *Server) updateAssist(w http.ResponseWriter, r *http.Request, c *Call) error {
	var in assistIn
	if err := s.decode(r, &in); err != nil {
		return err
	}
	if in.Settings == nil {
		return errs.Invalidf("ai_assist", "BlankValue", "an ai_assist object is required")
	}
	cur, err := assist.LoadControls(r.Context(), s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	l := assist.Limits{Killed: cur.Killed, RatePerHour: cur.RatePerHour, TargetPrecision: cur.TargetPrecision, MinTickets: cur.MinTickets, DraftKind: cur.DraftKind}
	in2 := in.Settings
	if in2.KillSwitch != nil {
		l.Killed = *in2.KillSwitch
	}
	if in2.RatePerHour != nil {
		l.RatePerHour = *in2.RatePerHour
	}
	if in2.TargetPrecision != nil {
		l.TargetPrecision = *in2.TargetPrecision
	}
	if in2.MinTickets != nil {
		l.MinTickets = *in2.MinTickets
	}
	if in2.DraftKind != nil {
		l.DraftKind = *in2.DraftKind
	}
	if err := s.assist.SaveLimits(r.Context(), c.Acct.ID, l); err != nil {
		return err
	}
	return s.showAssist(w, r, c)
}

func (s *Server) updateAutonomy(w http.ResponseWriter, r *http.Request, c *Call) error {
	var in struct {
		Autonomy *struct {
			Intent string `json:"intent"`
			Mode   string `json:"mode"`
		} `json:"autonomy"`
	}
	if err := s.decode(r, &in); err != nil {
		return err
	}
	if in.Autonomy == nil {
		return errs.Invalidf("autonomy", "BlankValue", "an autonomy object is required")
	}
	if err := s.assist.SetMode(r.Context(), c.Acct.ID, c.User.ID, in.Autonomy.Intent, in.Autonomy.Mode); err != nil {
		return err
	}
	return s.showAssist(w, r, c)
}

func (s *Server) updateModelServer(w http.ResponseWriter, r *http.Request, c *Call) error {
	var in struct {
		ModelServer *struct {
			BaseURL    string `json:"base_url"`
			ChatModel  string `json:"chat_model"`
			EmbedModel string `json:"embeddings_model"`
			APIKey     string `json:"api_key"`
			ClearKey   bool   `json:"clear_api_key"`
		} `json:"model_server"`
	}
	if err := s.decode(r, &in); err != nil {
		return err
	}
	m := in.ModelServer
	if m == nil {
		return errs.Invalidf("model_server", "BlankValue", "a model_server object is required")
	}
	err := s.assist.SaveLLM(r.Context(), c.Acct.ID, assist.LLMInput{BaseURL: m.BaseURL, ChatModel: m.ChatModel, EmbedModel: m.EmbedModel, Key: strings.TrimSpace(m.APIKey), ClearKey: m.ClearKey})
	if err != nil {
		return err
	}
	return s.showAssist(w, r, c)
}

func (s *Server) checkModelServer(w http.ResponseWriter, r *http.Request, c *Call) error {
	if err := s.assist.CheckLLM(r.Context(), c.Acct); err != nil {
		return err
	}
	return s.showAssist(w, r, c)
}
