package assist

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/delivery"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Kinds of AI run.
const (
	runNew       = "new"        // decide on a new ticket
	runNotHelped = "not_helped" // the requester answered the AI: back to people
)

// run is one queued AI run.
type run struct {
	ticketID int64
	kind     string
}

// Actions the AI takes on a ticket (ai_attempts.action).
const (
	ActNone       = "none"       // nothing: suggestions only, abstained, or stopped
	ActHandoff    = "handoff"    // sent to people, with the reason
	ActDraft      = "draft"      // an internal note with the proposed reply
	ActPending    = "pending"    // a reply waiting for an agent's one-click send
	ActAutonomous = "autonomous" // a public reply with the macro's actions
)

// Tags the AI's writes add, for views and triggers.
const (
	TagHandoff  = "ai_handoff"
	TagAnswered = "ai_answered"
	TagDrafted  = "ai_drafted"
)

// AfterWrite is a ticket after-hook. On a new ticket of an account whose AI drafts or
// answers for some intent it queues a run for after commit; when the requester (or a
// colleague who may comment) answers a ticket the AI answered, it queues the hand-back
// to people; on an agent's change it
// records what became of the suggestions shown. It never calls a model server.
func (s *Service) AfterWrite(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	if ch.Via.Channel == "ai" || ch.Ticket.DeletedAt.After(time.Time{}) {
		return nil
	}
	acct := ch.Account.ID
	if ch.Created {
		if ch.Via.Channel == "ticket_sharing" || ch.Patch.SkipRules {
			return nil // a partner's ticket is answered by its desk; imports are history
		}
		some, err := s.autonomous.Get(ctx, tx, int64(acct), func() (bool, error) {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ai_autonomy WHERE account_id = ? AND mode IN ('draft', 'autonomous')`, acct).Scan(&n); err != nil {
				return false, fmt.Errorf("assist: autonomy: %w", err)
			}
			return n > 0, nil
		})
		if err != nil {
			return err
		}
		if some {
			return s.enqueue(ctx, tx, acct, ch.Ticket.ID, runNew)
		}
		return nil
	}
	if ch.Actor.IsStaff() {
		// Only an account where suggestions were ever shown has outcomes to learn
		// (store.Uses: known before the ticket's lock, no read under it).
		shown, err := tx.Uses(ctx, int64(acct), store.UsesSuggestions)
		if err != nil || !shown {
			return err
		}
		return learnOutcomes(ctx, tx, ch)
	}
	if ch.Actor.UserID == 0 || !publicComment(ch) {
		return nil
	}
	// Only an account whose AI ever answered on its own has an answer to hand back.
	if answered, err := tx.Uses(ctx, int64(acct), store.UsesAIAutonomous); err != nil || !answered {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ai_attempts WHERE account_id = ? AND ticket_id = ? AND action = 'autonomous' AND state = 'sent'`, acct, ch.Ticket.ID).Scan(&n); err != nil {
		return fmt.Errorf("assist: attempts: %w", err)
	}
	if n > 0 {
		return s.enqueue(ctx, tx, acct, ch.Ticket.ID, runNotHelped)
	}
	return nil
}

func publicComment(ch *ticket.Change) bool {
	for _, c := range ch.Comments {
		if c.Public {
			return true
		}
	}
	return false
}

func (s *Service) enqueue(ctx context.Context, tx *store.Tx, acct ids.Account, tk ids.Ticket, kind string) error {
	now := store.Micros(store.Now())
	if _, err := tx.ExecContext(ctx, `INSERT INTO ai_outbox (account_id, ticket_id, kind, status, next_attempt_at, created_at) VALUES (?, ?, ?, 'pending', ?, ?)`,
		acct, tk, kind, now, now); err != nil {
		return fmt.Errorf("assist: queue AI run: %w", err)
	}
	tx.AfterCommit(s.queue.Wake)
	return nil
}

// deliver is one AI run, after the ticket's transaction committed.
func (s *Service) deliver(ctx context.Context, j delivery.Job[run]) delivery.Result {
	acct, err := s.accounts.ByID(ctx, ids.Account(j.AccountID))
	if err != nil {
		return retryOrDrop(err)
	}
	tk := ids.Ticket(j.Item.ticketID)
	switch j.Item.kind {
	case runNotHelped:
		err = s.handBack(ctx, acct, tk)
	default:
		_, err = s.Act(ctx, acct, tk)
	}
	if err != nil {
		return retryOrDrop(err)
	}
	return delivery.Result{Outcome: delivery.Delivered}
}

// retryOrDrop retries internal failures (the database was busy) and drops runs whose
// ticket or account is gone or refused the change.
func retryOrDrop(err error) delivery.Result {
	switch errs.CodeOf(err) {
	case errs.NotFound, errs.Invalid, errs.Conflict, errs.Forbidden:
		return delivery.Result{Outcome: delivery.Fatal, Reason: err.Error()}
	}
	return delivery.Result{Outcome: delivery.Retry, Reason: err.Error()}
}

// Decision is what the AI decided for a ticket, and why.
type Decision struct {
	Action     string
	Intent     string
	Confidence float64
	Reason     string
	// Code is a short reason for tags and tests (e.g. "human", "language").
	Code string
	Lang string
	plan *plan
}

// Act decides what the AI does with a ticket and does it, through the write path as
// the account's AI user. It is what a queued run calls; tests call it directly.
func (s *Service) Act(ctx context.Context, acct *account.Account, tk ids.Ticket) (*Decision, error) {
	c, err := LoadControls(ctx, s.db.R(), acct.ID)
	if err != nil {
		return nil, err
	}
	t, err := ticket.Get(ctx, s.db.R(), acct.ID, tk)
	if err != nil {
		return nil, err
	}
	d, err := s.Decide(ctx, acct, c, t)
	if err != nil {
		return nil, err
	}
	if d.Action == ActAutonomous && d.plan != nil {
		s.personalise(ctx, acct, c, t, d)
	}
	return d, s.carryOut(ctx, acct, t, d)
}

// Decide works out what the AI should do with a new ticket. Hand-off always wins:
// unknown language, a request for a person, negative sentiment or a restricted intent
// send the ticket to people whatever the settings. Otherwise the intent's rung
// decides, autonomy only with the admin's allowlisting and the simulation's evidence.
func (s *Service) Decide(ctx context.Context, acct *account.Account, c *Controls, t *ticket.Ticket) (*Decision, error) {
	text := ticketText(t)
	d := &Decision{Action: ActNone, Lang: DetectLanguage(text)}
	if t.Status != ticket.New && t.Status != ticket.Open {
		d.Code, d.Reason = "status", "the ticket is already "+string(t.Status)
		return d, nil
	}
	if s.cfg.Models == nil {
		d.Code, d.Reason = "no_model", "no model is trained"
		return d, nil
	}
	models, ok, err := s.cfg.Models.Current(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		d.Code, d.Reason = "no_model", "no model is trained"
		return d, nil
	}
	handoff := func(code, reason string) (*Decision, error) {
		d.Action, d.Code, d.Reason = ActHandoff, code, reason
		return d, nil
	}
	if d.Lang == LangUnknown {
		return handoff("language", "the request's language is not one the AI answers in (English, French)")
	}
	if AsksForHuman(text) {
		return handoff("human", "the requester asked for a person")
	}
	if NegativeSentiment(text) {
		return handoff("sentiment", "the request reads as angry or distressed")
	}
	ic := models.Targets[models.IntentTarget]
	if models.IntentTarget == "" || ic == nil {
		d.Code, d.Reason = "no_intent", "no intent target is trained"
		return d, nil
	}
	top := ic.Top(text, langOf(d.Lang))
	d.Intent, d.Confidence = top.Label, top.P
	if RestrictedIntent(d.Intent) {
		return handoff("restricted", "intent "+d.Intent+" is restricted (refunds, account access): people answer it")
	}
	mode := c.Mode(d.Intent)
	if mode == ModeOff || mode == ModeSuggest {
		d.Code, d.Reason = "mode", "intent "+d.Intent+" is set to "+mode
		return d, nil
	}
	if th := models.Thresholds[models.IntentTarget]; d.Confidence < th {
		d.Code, d.Reason = "threshold", fmt.Sprintf("confidence %.2f is below the threshold %.2f: the AI abstains", d.Confidence, th)
		return d, nil
	}
	sg := &Suggestions{Lang: d.Lang, ModelVersion: models.Version}
	sg.Macros, err = s.macroSuggestions(ctx, s.db.R(), acct.ID, models, text, langOf(d.Lang))
	if err != nil {
		return nil, err
	}
	requester, err := identityOf(ctx, s, acct, t)
	if err != nil {
		return nil, err
	}
	sg.Articles, err = s.articleSuggestions(ctx, s.db.R(), acct, requester, models, text, d.Lang)
	if err != nil {
		return nil, err
	}
	p, ok, err := s.planReply(ctx, s.db.R(), acct, t, sg, 0)
	if err != nil {
		return nil, err
	}
	if !ok {
		d.Code, d.Reason = "no_macro", "no suggested macro has a reply in the requester's language ("+d.Lang+")"
		return d, nil
	}
	d.plan = p
	d.Action = ActDraft
	if c.DraftKind == DraftPending {
		d.Action = ActPending
	}
	if mode == ModeAutonomous {
		allowed, why, th, err := s.allowed(ctx, acct.ID, c, d.Intent)
		if err != nil {
			return nil, err
		}
		if allowed && d.Confidence < th {
			// The simulation's precision holds at and above its threshold only.
			allowed, why = false, fmt.Sprintf("confidence %.2f is below the threshold %.2f the simulation measured its precision at", d.Confidence, th)
		}
		if allowed && len(p.Articles) == 0 && strings.TrimSpace(p.Body) == "" {
			allowed, why = false, "the reply cites nothing"
		}
		if allowed {
			d.Action = ActAutonomous
		} else {
			d.Code, d.Reason = "not_allowed", "drafted instead of answering: "+why
		}
	}
	return d, nil
}

// Allowed says whether an intent may be answered autonomously: the admin allowlisted
// it (rung autonomous) and the latest simulation measured precision at least the
// target on at least the minimum number of tickets. why says what is missing.
func (s *Service) Allowed(ctx context.Context, acct ids.Account, c *Controls, intent string) (ok bool, why string, err error) {
	ok, why, _, err = s.allowed(ctx, acct, c, intent)
	return ok, why, err
}

// allowed is Allowed with the confidence threshold of the simulation's evidence.
func (s *Service) allowed(ctx context.Context, acct ids.Account, c *Controls, intent string) (ok bool, why string, threshold float64, err error) {
	if c.Mode(intent) != ModeAutonomous {
		return false, "an admin has not allowlisted intent " + intent + " for autonomous answers", 0, nil
	}
	if RestrictedIntent(intent) {
		return false, "intent " + intent + " is restricted (refunds, account access)", 0, nil
	}
	if s.cfg.Gate == nil {
		return false, "no simulation has run yet", 0, nil
	}
	target := ""
	if s.cfg.Models != nil {
		if m, ok, err := s.cfg.Models.Current(ctx, acct); err != nil {
			return false, "", 0, err
		} else if ok {
			target = m.IntentTarget
		}
	}
	e, found, err := s.cfg.Gate.Evidence(ctx, acct, target, intent)
	if err != nil {
		return false, "", 0, err
	}
	ok, why = evidenceAllows(e, found, c)
	return ok, why, e.Threshold, nil
}

// evidenceAllows applies the gate's figures to the account's targets.
func evidenceAllows(e ai.Evidence, found bool, c *Controls) (bool, string) {
	switch {
	case !found:
		return false, "the latest simulation did not cover this intent"
	case e.Tickets < c.MinTickets:
		return false, fmt.Sprintf("the latest simulation replayed %d tickets of this intent; %d are needed", e.Tickets, c.MinTickets)
	case e.Precision < c.TargetPrecision:
		return false, fmt.Sprintf("the latest simulation measured precision %.3f; the target is %.2f", e.Precision, c.TargetPrecision)
	}
	return true, fmt.Sprintf("precision %.3f on %d tickets (simulation %d)", e.Precision, e.Tickets, e.SimulationID)
}

// carryOut writes the decision through the ticket write path as the AI user, after
// re-reading the kill switch and the rate limit inside the write transaction (the
// account's controls row is locked there, so processes take turns).
func (s *Service) carryOut(ctx context.Context, acct *account.Account, t *ticket.Ticket, d *Decision) error {
	if d.Action == ActNone {
		return s.note(ctx, acct.ID, t.ID, d, "done", "")
	}
	if s.cfg.Actor == nil {
		return errors.New("assist: no AI user configured")
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if err := ensureControls(ctx, tx, acct.ID); err != nil {
			return err
		}
		lock := `SELECT killed, rate_per_hour FROM ai_controls WHERE account_id = ?`
		if tx.D() == store.Postgres {
			lock += ` FOR UPDATE`
		}
		var killed bool
		var rate int
		if err := tx.QueryRowContext(ctx, lock, acct.ID).Scan(&killed, &rate); err != nil {
			return fmt.Errorf("assist: controls: %w", err)
		}
		// A run delivered twice (its process died after the commit, before the queue
		// recorded it) must not act twice.
		var done int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ai_attempts WHERE account_id = ? AND ticket_id = ? AND action <> 'none'`, acct.ID, t.ID).Scan(&done); err != nil {
			return fmt.Errorf("assist: attempts: %w", err)
		}
		if done > 0 {
			d.Action, d.Code, d.Reason = ActNone, "done", "the AI already acted on this ticket"
			return nil
		}
		if d.Action != ActHandoff {
			if killed {
				d.Action, d.Code, d.Reason = ActNone, "killed", "the AI is switched off (kill switch)"
				return insertAttempt(ctx, tx, acct.ID, t.ID, d, "done", "")
			}
			var recent int
			since := store.Micros(store.Now().Add(-time.Hour))
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ai_attempts WHERE account_id = ? AND created_at >= ? AND action IN ('draft', 'pending', 'autonomous')`, acct.ID, since).Scan(&recent); err != nil {
				return fmt.Errorf("assist: rate: %w", err)
			}
			if recent >= rate {
				d.Action, d.Code, d.Reason = ActNone, "rate", fmt.Sprintf("the AI's limit of %d drafts and replies an hour is reached", rate)
				return insertAttempt(ctx, tx, acct.ID, t.ID, d, "done", "")
			}
		}
		actor, err := s.cfg.Actor(ctx, tx, acct)
		if err != nil {
			return err
		}
		via := ticket.ViaFor(ticket.ViaAI)
		p := &ticket.Patch{Via: &via}
		state, body := "done", ""
		switch d.Action {
		case ActHandoff:
			if t.Status == ticket.New {
				p.Status = ticket.Ptr(ticket.Open)
			}
			p.AddTags = []string{TagHandoff, TagHandoff + "_" + d.Code}
			p.Comment = note(actor, handoffText(d))
		case ActDraft:
			p.AddTags = []string{TagDrafted}
			p.Comment = note(actor, draftText(d))
		case ActPending:
			p.AddTags = []string{TagDrafted}
			p.Comment = note(actor, "AI: a reply is ready for one-click sending in the sidebar ("+intentLine(d)+").")
			state, body = "pending", d.plan.Body
		case ActAutonomous:
			changes := d.plan.Changes
			*p = changes
			p.Via = &via
			body = d.plan.Body + notHelpedLine(d.Lang)
			p.Comment = &ticket.CommentInput{Body: body, Public: ticket.Ptr(true), AuthorID: actor.UserID}
			if p.Status == nil || *p.Status == ticket.New || *p.Status == ticket.Open {
				p.Status = ticket.Ptr(ticket.Pending)
			}
			p.AddTags = append(p.AddTags, TagAnswered)
			state = "sent"
		}
		if _, err := s.tickets.Write(ctx, tx, acct, actor, t.ID, p); err != nil {
			return err
		}
		return insertAttempt(ctx, tx, acct.ID, t.ID, d, state, body)
	})
}

// notHelpedLine tells the requester, in their language, that answering hands the
// ticket to a person.
func notHelpedLine(lang string) string {
	if lang == LangFR {
		return "\n\nCette réponse a été écrite par notre assistant automatique. Si elle ne vous aide pas, répondez simplement : une personne prendra le relais."
	}
	return "\n\nThis answer was written by our automated assistant. If it did not help, just reply and a person will take over."
}

func note(actor ticket.Actor, body string) *ticket.CommentInput {
	return &ticket.CommentInput{Body: body, Public: ticket.Ptr(false), AuthorID: actor.UserID}
}

func intentLine(d *Decision) string {
	return fmt.Sprintf("intent %s, confidence %.2f", d.Intent, d.Confidence)
}

func handoffText(d *Decision) string {
	s := "AI hand-off to people: " + d.Reason + "."
	if d.Intent != "" {
		s += " (" + intentLine(d) + ")"
	}
	return s
}

func draftText(d *Decision) string {
	s := "AI draft (" + intentLine(d) + "), not sent. Review it and reply:\n\n" + d.plan.Body
	if d.Reason != "" {
		s += "\n\n(" + d.Reason + ")"
	}
	return s
}

// note records a decision that wrote nothing.
func (s *Service) note(ctx context.Context, acct ids.Account, tk ids.Ticket, d *Decision, state, body string) error {
	return s.db.Write(ctx, func(tx *store.Tx) error { return insertAttempt(ctx, tx, acct, tk, d, state, body) })
}

func insertAttempt(ctx context.Context, tx *store.Tx, acct ids.Account, tk ids.Ticket, d *Decision, state, body string) error {
	var macro int64
	arts := []int64{}
	if d.plan != nil && d.Action != ActNone && d.Action != ActHandoff {
		macro = d.plan.Macro.ID
		for _, a := range d.plan.Articles {
			arts = append(arts, a.ID)
		}
	}
	aj, _ := json.Marshal(arts)
	reason := d.Reason
	if d.Code != "" {
		reason = d.Code + ": " + d.Reason
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO ai_attempts (account_id, ticket_id, action, intent, confidence, reason, macro_id, article_ids, lang, body, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		acct, tk, d.Action, d.Intent, d.Confidence, clip(reason, 1000), macro, string(aj), d.Lang, body, state, store.Micros(store.Now()))
	if err != nil {
		return fmt.Errorf("assist: record attempt: %w", err)
	}
	return nil
}

// handBack reopens a ticket the AI answered to people, once the requester answered:
// status open, tagged, with the AI's attempt quoted in an internal note.
func (s *Service) handBack(ctx context.Context, acct *account.Account, tk ids.Ticket) error {
	if s.cfg.Actor == nil {
		return errors.New("assist: no AI user configured")
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		var id int64
		var body string
		err := tx.QueryRowContext(ctx, `SELECT id, body FROM ai_attempts WHERE account_id = ? AND ticket_id = ? AND action = 'autonomous' AND state = 'sent' ORDER BY id DESC LIMIT 1`, acct.ID, tk).Scan(&id, &body)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // already handed back
		}
		if err != nil {
			return fmt.Errorf("assist: hand back: %w", err)
		}
		actor, err := s.cfg.Actor(ctx, tx, acct)
		if err != nil {
			return err
		}
		via := ticket.ViaFor(ticket.ViaAI)
		t, err := ticket.Get(ctx, tx, acct.ID, tk)
		if err != nil {
			return err
		}
		p := &ticket.Patch{Via: &via, AddTags: []string{TagHandoff, TagHandoff + "_not_helped"},
			Comment: note(actor, "AI hand-off to people: the requester answered the AI's reply, so a person takes over. The AI's reply was:\n\n"+quote(body))}
		if t.Status != ticket.Closed {
			p.Status = ticket.Ptr(ticket.Open)
		}
		if _, err := s.tickets.Write(ctx, tx, acct, actor, tk, p); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ai_attempts SET state = 'not_helped' WHERE account_id = ? AND id = ?`, acct.ID, id); err != nil {
			return fmt.Errorf("assist: hand back: %w", err)
		}
		d := &Decision{Action: ActHandoff, Code: "not_helped", Reason: "the requester answered the AI's reply"}
		return insertAttempt(ctx, tx, acct.ID, tk, d, "done", "")
	})
}

func quote(s string) string {
	return "> " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n> ")
}

// Attempt is a recorded AI decision on a ticket.
type Attempt struct {
	ID         int64
	TicketID   ids.Ticket
	Action     string
	Intent     string
	Confidence float64
	Reason     string
	MacroID    int64
	ArticleIDs []int64
	Lang       string
	Body       string
	State      string
	CreatedAt  time.Time
}

const attemptCols = `id, ticket_id, action, intent, confidence, reason, macro_id, article_ids, lang, body, state, created_at`

func scanAttempt(row interface{ Scan(...any) error }) (*Attempt, error) {
	var a Attempt
	var arts string
	var c int64
	if err := row.Scan(&a.ID, &a.TicketID, &a.Action, &a.Intent, &a.Confidence, &a.Reason, &a.MacroID, &arts, &a.Lang, &a.Body, &a.State, &c); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(arts), &a.ArticleIDs)
	a.CreatedAt = store.Time(c)
	return &a, nil
}

// Attempts lists the AI's decisions on a ticket, oldest first.
func (s *Service) Attempts(ctx context.Context, acct ids.Account, tk ids.Ticket) ([]*Attempt, error) {
	return s.attempts(ctx, `WHERE account_id = ? AND ticket_id = ? ORDER BY id`, acct, tk)
}

// RecentAttempts lists the account's latest AI decisions, newest first.
func (s *Service) RecentAttempts(ctx context.Context, acct ids.Account, n int) ([]*Attempt, error) {
	return s.attempts(ctx, `WHERE account_id = ? ORDER BY id DESC LIMIT ?`, acct, n)
}

func (s *Service) attempts(ctx context.Context, where string, args ...any) ([]*Attempt, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+attemptCols+` FROM ai_attempts `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("assist: attempts: %w", err)
	}
	defer rows.Close()
	var out []*Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, fmt.Errorf("assist: attempts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SendPending sends a reply the AI left pending, as the agent who clicked, through the
// write path: the macro's allowed actions and the reply as a public comment.
func (s *Service) SendPending(ctx context.Context, acct *account.Account, agent ticket.Actor, tk ids.Ticket, attemptID int64) error {
	if !agent.IsStaff() {
		return errs.NotFoundf("ticket %d not found", tk)
	}
	t, _, err := ticket.GetVisible(ctx, s.db.R(), acct.ID, agent, tk)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		a, err := scanAttempt(tx.QueryRowContext(ctx, `SELECT `+attemptCols+` FROM ai_attempts WHERE account_id = ? AND ticket_id = ? AND id = ?`, acct.ID, t.ID, attemptID))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFoundf("no AI reply %d on ticket %d", attemptID, tk)
		}
		if err != nil {
			return err
		}
		if a.State != "pending" {
			return errs.E(errs.Conflict, "this AI reply was already sent or dismissed")
		}
		p := &ticket.Patch{}
		if a.MacroID != 0 {
			if m, err := rulesMacro(ctx, tx, acct.ID, a.MacroID); err == nil {
				res := rules.ApplyMacro(ctx, tx, acct, aiMacro(m), t, agent.UserID, s.requestURL)
				*p = res.Changes
				p.MacroIDs = []int64{a.MacroID}
			}
		}
		p.Comment = &ticket.CommentInput{Body: a.Body, Public: ticket.Ptr(true)}
		if p.Status == nil {
			p.Status = ticket.Ptr(ticket.Pending)
		}
		if _, err := s.tickets.Write(ctx, tx, acct, agent, t.ID, p); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE ai_attempts SET state = 'sent' WHERE account_id = ? AND id = ?`, acct.ID, a.ID)
		return err
	})
}
