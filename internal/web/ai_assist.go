package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"tandem/internal/ai/assist"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/ticket"
)

// The AI's assist half in the web interface: the ticket sidebar's suggestions (loaded
// with htmx, like the suggested articles) and the admin's page /admin/ai/autonomy.
func (s *Server) aiAssistRoutes(mux *http.ServeMux) {
	if s.assist == nil {
		return
	}
	mux.HandleFunc("GET /agent/tickets/{id}/ai/suggest", s.page(staff, s.aiSidebar))
	mux.HandleFunc("POST /agent/tickets/{id}/ai/reply", s.page(staff, s.aiSendReply))
	mux.HandleFunc("POST /agent/tickets/{id}/ai/feedback", s.page(staff, s.aiFeedback))
	mux.HandleFunc("POST /agent/tickets/{id}/ai/attempts/{aid}/send", s.page(staff, s.aiSendPending))
	mux.HandleFunc("POST /agent/tickets/{id}/ai/summary", s.page(staff, s.aiSummary))
	mux.HandleFunc("POST /hc/requests/{id}/not-helped", s.page(signedIn, s.aiNotHelped))
	mux.HandleFunc("GET /admin/ai/autonomy", s.page(admin, s.aiAdmin))
	mux.HandleFunc("POST /admin/ai/autonomy/controls", s.page(admin, s.aiSaveControls))
	mux.HandleFunc("POST /admin/ai/autonomy/intents", s.page(admin, s.aiSaveIntent))
	mux.HandleFunc("POST /admin/ai/autonomy/model-server", s.page(admin, s.aiSaveModelServer))
	mux.HandleFunc("POST /admin/ai/autonomy/model-server/check", s.page(admin, s.aiCheckModelServer))
}

func (s *Server) pathTicketID(r *http.Request) (ids.Ticket, error) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		return 0, errs.NotFoundf("There is no ticket %q.", r.PathValue("id"))
	}
	return ids.Ticket(n), nil
}

type aiSide struct {
	TicketID ids.Ticket
	S        *assist.Suggestions
	Pending  []*assist.Attempt
	Done     []*assist.Attempt
	CanSum   bool
	// CSRF is the session's form token (the csrf partial reads it).
	CSRF string
}

// aiSidebar is the ticket sidebar's AI block: fields the models predict but the ticket
// does not have, macros, articles the requester may read, a reply to send in one click,
// replies the AI left pending, what the AI did.
func (s *Server) aiSidebar(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := s.pathTicketID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	d := aiSide{TicketID: id, CSRF: c.CSRF}
	sg, err := s.assist.Suggest(ctx, c.Acct, c.Actor(), id)
	if err != nil {
		return err
	}
	d.S = sg
	list, err := s.assist.Attempts(ctx, c.Acct.ID, id)
	if err != nil {
		return err
	}
	for _, a := range list {
		if a.State == "pending" {
			d.Pending = append(d.Pending, a)
		} else if a.Action != assist.ActNone {
			d.Done = append(d.Done, a)
		}
	}
	if ct, err := assist.LoadControls(ctx, s.db.R(), c.Acct.ID); err == nil {
		d.CanSum = ct.LLM.Configured() && !ct.Killed
	}
	return s.renderBlock(w, c, "ai_admin", "ai-sidebar", d)
}

func (s *Server) aiBack(w http.ResponseWriter, r *http.Request, id ids.Ticket, msg string, err error) error {
	to := ticketURL(id)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return err
		}
		return redirectErr(w, r, to, err)
	}
	return redirect(w, r, to, msg)
}

func (s *Server) aiSendReply(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := s.pathTicketID(r)
	if err != nil {
		return err
	}
	return s.aiBack(w, r, id, "The suggested reply was sent.", s.assist.SendSuggested(r.Context(), c.Acct, c.Actor(), id))
}

func (s *Server) aiFeedback(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := s.pathTicketID(r)
	if err != nil {
		return err
	}
	err = s.assist.Feedback(r.Context(), c.Acct, c.Actor(), id, r.FormValue("kind"), r.FormValue("target"), r.FormValue("value"), r.FormValue("outcome"))
	if r.Header.Get("HX-Request") != "" && err == nil {
		_, _ = w.Write([]byte(`<p class="muted">Noted.</p>`))
		return nil
	}
	return s.aiBack(w, r, id, "Noted.", err)
}

func (s *Server) aiSendPending(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := s.pathTicketID(r)
	if err != nil {
		return err
	}
	aid, err := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	if err != nil {
		return errs.NotFoundf("There is no such AI reply.")
	}
	return s.aiBack(w, r, id, "The AI's reply was sent.", s.assist.SendPending(r.Context(), c.Acct, c.Actor(), id, aid))
}

func (s *Server) aiSummary(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := s.pathTicketID(r)
	if err != nil {
		return err
	}
	return s.aiBack(w, r, id, "The AI's summary was added as an internal note.", s.assist.Summarise(r.Context(), c.Acct, c.Actor(), id))
}

// aiNotHelped is the help center's "That did not help" on a request the AI answered:
// the requester's reply, through the write path, which hands the ticket back to people.
func (s *Server) aiNotHelped(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := s.pathTicketID(r)
	if err != nil {
		return err
	}
	t, acc, err := ticket.GetVisible(r.Context(), s.db.R(), c.Acct.ID, c.Actor(), id)
	if err != nil {
		return err
	}
	if !acc.Comment {
		return errs.Forbiddenf("You cannot reply to this request.")
	}
	body := "That did not help: I would like a person to help me."
	if assist.DetectLanguage(t.Subject+"\n"+t.Description) == assist.LangFR {
		body = "Cela ne m'a pas aidé : je voudrais qu'une personne m'aide."
	}
	via := ticket.ViaFor(ticket.ViaHelpCenter)
	if _, err := s.tickets.Update(r.Context(), c.Acct, c.Actor(), id, &ticket.Patch{Via: &via, Comment: &ticket.CommentInput{Body: body}}); err != nil {
		return err
	}
	return redirect(w, r, "/hc/requests/"+strconv.FormatInt(int64(id), 10), "Thank you: a person will take over your request.")
}

type aiAdminData struct {
	O       *assist.Overview
	Modes   []string
	Secrets bool
}

func (s *Server) aiAdmin(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := s.assist.Overview(r.Context(), c.Acct)
	if err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "ai_admin", page{Title: "AI autonomy", Area: "admin", Nav: "ai-autonomy",
		Data: aiAdminData{O: o, Modes: assist.Modes, Secrets: s.assist.Secrets().Ready()}})
}

const aiAdminURL = "/admin/ai/autonomy"

func formInt(r *http.Request, name string, def int) (int, error) {
	v := strings.TrimSpace(r.FormValue(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errs.Invalidf(name, "InvalidValue", "%s must be a whole number", strings.ReplaceAll(name, "_", " "))
	}
	return n, nil
}

func (s *Server) aiSaveControls(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	cur, err := assist.LoadControls(ctx, s.db.R(), c.Acct.ID)
	if err != nil {
		return err
	}
	if v := r.FormValue("kill"); v != "" {
		if err := s.assist.SetKilled(ctx, c.Acct.ID, v == "on"); err != nil {
			return redirectErr(w, r, aiAdminURL, err)
		}
		msg := "The AI is back on."
		if v == "on" {
			msg = "The AI is switched off on every server: no drafts, no replies until it is switched back on."
		}
		return redirect(w, r, aiAdminURL, msg)
	}
	l := assist.Limits{Killed: cur.Killed, DraftKind: r.FormValue("draft_kind")}
	if l.RatePerHour, err = formInt(r, "rate_per_hour", cur.RatePerHour); err == nil {
		l.MinTickets, err = formInt(r, "min_tickets", cur.MinTickets)
	}
	if err == nil {
		l.TargetPrecision, err = strconv.ParseFloat(strings.TrimSpace(r.FormValue("target_precision")), 64)
		if err != nil {
			err = errs.Invalidf("target_precision", "InvalidValue", "target precision must be a number such as 0.95")
		}
	}
	if err == nil {
		err = s.assist.SaveLimits(ctx, c.Acct.ID, l)
	}
	if err != nil {
		return redirectErr(w, r, aiAdminURL, err)
	}
	return redirect(w, r, aiAdminURL, "Saved.")
}

func (s *Server) aiSaveIntent(w http.ResponseWriter, r *http.Request, c *call) error {
	err := s.assist.SetMode(r.Context(), c.Acct.ID, c.User.ID, r.FormValue("intent"), r.FormValue("mode"))
	if err != nil {
		return redirectErr(w, r, aiAdminURL, err)
	}
	return redirect(w, r, aiAdminURL, fmt.Sprintf("%s is now at %s.", r.FormValue("intent"), r.FormValue("mode")))
}

func (s *Server) aiSaveModelServer(w http.ResponseWriter, r *http.Request, c *call) error {
	err := s.assist.SaveLLM(r.Context(), c.Acct.ID, assist.LLMInput{BaseURL: r.FormValue("base_url"), ChatModel: r.FormValue("chat_model"),
		EmbedModel: r.FormValue("embed_model"), Key: strings.TrimSpace(r.FormValue("api_key")), ClearKey: r.FormValue("clear_key") == "on"})
	if err != nil {
		return redirectErr(w, r, aiAdminURL, err)
	}
	return redirect(w, r, aiAdminURL, "Model server saved. Check it to see its state.")
}

func (s *Server) aiCheckModelServer(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.assist.CheckLLM(r.Context(), c.Acct); err != nil {
		return redirectErr(w, r, aiAdminURL, err)
	}
	return redirect(w, r, aiAdminURL, "Model server checked.")
}
