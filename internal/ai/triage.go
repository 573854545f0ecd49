package ai

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/kb/rank"
	"tandem/internal/org"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// EventTriage is the audit event that shows what triage predicted on a new ticket:
// {"type": "AITriage", "model_version", "predictions": [{"field", "value",
// "confidence", "applied"}], "via"}. The fields it set also appear as Change events
// whose via is the AI's.
const EventTriage = "AITriage"

// Prediction outcomes (ai_predictions.outcome).
const (
	// OutcomeOverridden: a person changed a value the AI applied.
	OutcomeOverridden = "overridden"
	// OutcomeAccepted: the ticket was solved with the value the AI applied.
	OutcomeAccepted = "accepted"
	// OutcomeRight and OutcomeWrong: the AI abstained, and the ticket was solved with
	// (or without) the value it would have set.
	OutcomeRight = "right"
	OutcomeWrong = "wrong"
)

// IntentTagPrefix starts the tag triage adds for the predicted intent, as Zendesk's
// intelligent triage does (intent__card_arrival).
const IntentTagPrefix = "intent__"

// Triage predicts a new ticket's fields inside the write path and applies those at or
// above their threshold as a change by the account's AI user.
type Triage struct {
	store *Store
	log   *slog.Logger
}

// NewTriage returns the triage hooks over a model store.
func NewTriage(s *Store, log *slog.Logger) *Triage {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Triage{store: s, log: log}
}

// Predicted is one target's prediction on a ticket.
type Predicted struct {
	Target     string  `json:"field"`
	Value      string  `json:"value"`
	Confidence float64 `json:"confidence"`
	Applied    bool    `json:"applied"`
}

// BeforeWrite is a ticket before-hook, registered before the business rules so that
// triggers see what triage set. It runs on creation only, for every channel.
func (tg *Triage) BeforeWrite(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	if !ch.Created {
		return nil
	}
	set, m, err := tg.store.Triage(ctx, ch.Tx(), ch.Account.ID)
	if err != nil {
		// The AI never stops a ticket: without its models the ticket goes in untriaged.
		tg.log.WarnContext(ctx, "ai triage: models", "account", ch.Account.ID, "err", err)
		return nil
	}
	if !set.Triage || m == nil {
		return nil
	}
	t := ch.Ticket
	lang := rank.English
	if u, err := identity.Get(ctx, tx, ch.Account.ID, t.RequesterID); err == nil {
		lang = rank.LangOf(u.Locale)
	}
	text := t.Description
	if t.Subject != "" && !strings.Contains(text, t.Subject) {
		text = t.Subject + "\n" + text
	}
	preds, p, err := tg.predict(ctx, tx, ch, set, m, text, lang)
	if err != nil || len(preds) == 0 {
		return err
	}
	// The AI user: known from the cached settings once it exists (no query).
	actor := ticket.Actor{UserID: set.UserID, Role: identity.Agent, Name: UserName}
	if set.UserID == 0 {
		if actor, err = Actor(ctx, tx, ch.Account); err != nil {
			return err
		}
	}
	via := ticket.ViaFor(ticket.ViaAI)
	via.Source = map[string]any{"from": map[string]any{"id": actor.UserID, "name": actor.Name, "model_version": m.Version}, "to": map[string]any{}, "rel": "triage"}
	if !p.Empty() {
		if err := ch.Apply(ctx, p, &via); err != nil {
			// A value the ticket's rules refuse is not worth a lost ticket: abstain.
			tg.log.WarnContext(ctx, "ai triage: apply", "account", ch.Account.ID, "err", err)
			for i := range preds {
				preds[i].Applied = false
			}
		}
	}
	list := make([]any, len(preds))
	for i, pr := range preds {
		list[i] = map[string]any{"field": pr.Target, "value": pr.Value, "confidence": round3(pr.Confidence), "applied": pr.Applied}
	}
	ch.Events = append(ch.Events, ticket.Event{"type": EventTriage, "model_version": m.Version, "predictions": list, "via": via})
	now := store.Micros(store.Now())
	for _, pr := range preds {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ai_predictions (account_id, ticket_id, kind, target, value, confidence, applied, model_version, created_at, updated_at) VALUES (?, ?, 'triage', ?, ?, ?, ?, ?, ?, ?)`,
			ch.Account.ID, t.ID, pr.Target, pr.Value, pr.Confidence, pr.Applied, m.Version, now, now); err != nil {
			return fmt.Errorf("ai: record prediction: %w", err)
		}
	}
	return nil
}

// predict runs every chosen target's model on the text and builds the patch of the
// predictions to apply: at or above the threshold, a value the ticket accepts (a group
// that exists, an option of the field), and only where the ticket has no value yet (a
// value someone chose is never replaced).
func (tg *Triage) predict(ctx context.Context, tx *store.Tx, ch *ticket.Change, set *Settings, m *Models, text string, lang rank.Lang) ([]Predicted, *ticket.Patch, error) {
	t := ch.Ticket
	p := &ticket.Patch{}
	var preds []Predicted
	var fields []*ticket.Field
	for _, target := range set.Targets {
		if target == TargetMacro || target == TargetArticle {
			continue // suggestions, not triage
		}
		if target == TargetTags {
			for _, tag := range set.TagSet {
				name := "tags:" + tag
				c := m.Targets[name]
				if c == nil {
					continue
				}
				conf := c.Prob(text, lang, "yes")
				if conf < 0.5 {
					continue // the model says no: nothing to record
				}
				pr := Predicted{Target: name, Value: tag, Confidence: conf}
				if applies(conf, m.Thresholds[name]) && !slices.Contains(t.Tags, tag) {
					pr.Applied = true
					p.AddTags = append(p.AddTags, tag)
				}
				preds = append(preds, pr)
			}
			continue
		}
		c := m.Targets[target]
		if c == nil {
			continue
		}
		top := c.Top(text, lang)
		pr := Predicted{Target: target, Value: top.Label, Confidence: top.P}
		ok := applies(top.P, m.Thresholds[target])
		switch {
		case target == TargetGroup:
			id, err := strconv.ParseInt(top.Label, 10, 64)
			if ok && err == nil && t.GroupID == 0 {
				if g, err := org.GetGroup(ctx, tx, ch.Account.ID, ids.Group(id)); err == nil && !g.Deleted {
					p.GroupID, pr.Applied = ticket.Ptr(ids.Group(id)), true
				}
			}
		case target == TargetPriority:
			if ok && t.Priority == "" && slices.Contains(ticket.Priorities, top.Label) {
				p.Priority, pr.Applied = ticket.Ptr(top.Label), true
			}
		case target == TargetType:
			if ok && t.Type == "" && slices.Contains(ticket.Types, top.Label) {
				p.Type, pr.Applied = ticket.Ptr(top.Label), true
			}
		case strings.HasPrefix(target, "custom_field_"):
			id, _ := strconv.ParseInt(strings.TrimPrefix(target, "custom_field_"), 10, 64)
			if cur, _ := t.CustomFields[id].(string); !ok || cur != "" {
				break
			}
			if fields == nil {
				var err error
				if fields, err = ticket.Fields(ctx, tx, ch.Account.ID); err != nil {
					return nil, nil, err
				}
			}
			i := slices.IndexFunc(fields, func(f *ticket.Field) bool { return f.ID == id && f.Type == "tagger" && f.Active })
			if i >= 0 && slices.ContainsFunc(fields[i].Options, func(o ticket.FieldOption) bool { return o.Value == top.Label }) {
				if p.CustomFields == nil {
					p.CustomFields = map[int64]any{}
				}
				p.CustomFields[id], pr.Applied = top.Label, true
			}
		}
		if pr.Applied && target == m.IntentTarget {
			if tag := ticket.NormalizeTags([]string{IntentTagPrefix + top.Label}); len(tag) == 1 {
				p.AddTags = append(p.AddTags, tag[0])
			}
		}
		preds = append(preds, pr)
	}
	return preds, p, nil
}

// AfterWrite is a ticket after-hook that records what became of triage's predictions:
// a person changing a value the AI applied overrides it (counted against the model);
// solving the ticket settles the rest (accepted, or right/wrong for abstentions).
func (tg *Triage) AfterWrite(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	if ch.Created || ch.Before == nil {
		return nil
	}
	b, t := ch.Before, ch.Ticket
	solvedNow := t.Status == ticket.Solved && b.Status != ticket.Solved
	touched := solvedNow || b.GroupID != t.GroupID || b.Priority != t.Priority || b.Type != t.Type || !slices.Equal(b.Tags, t.Tags) || len(ch.Patch.CustomFields) > 0
	if !touched {
		return nil
	}
	rs, err := tx.QueryContext(ctx, `SELECT id, target, value, applied FROM ai_predictions WHERE account_id = ? AND ticket_id = ? AND kind = 'triage' AND outcome = ''`, ch.Account.ID, t.ID)
	if err != nil {
		return fmt.Errorf("ai: predictions of ticket: %w", err)
	}
	type open struct {
		id             int64
		target, value  string
		applied        bool
		outcome, final string
	}
	var list []open
	for rs.Next() {
		var o open
		if err := rs.Scan(&o.id, &o.target, &o.value, &o.applied); err != nil {
			rs.Close()
			return fmt.Errorf("ai: predictions of ticket: %w", err)
		}
		list = append(list, o)
	}
	rs.Close()
	if len(list) == 0 {
		return nil
	}
	person := ch.Actor.IsStaff() && ch.Via.ID != ticket.ViaAI && ch.Via.ID != ticket.ViaRule
	for _, o := range list {
		before, after := valueOf(b, o.target), valueOf(t, o.target)
		switch {
		case o.applied && person && before == o.value && after != o.value:
			o.outcome, o.final = OutcomeOverridden, after
		case solvedNow && o.applied:
			o.outcome, o.final = OutcomeAccepted, after
			if after != o.value {
				o.outcome = OutcomeOverridden
			}
		case solvedNow:
			o.outcome, o.final = OutcomeWrong, after
			if after == o.value {
				o.outcome = OutcomeRight
			}
		default:
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ai_predictions SET outcome = ?, final_value = ?, by_user_id = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
			o.outcome, o.final, ch.Actor.UserID, store.Micros(store.Now()), ch.Account.ID, o.id); err != nil {
			return fmt.Errorf("ai: record outcome: %w", err)
		}
	}
	return nil
}

// applies reports whether a confidence reaches a threshold. A threshold of 1 means
// never (a saturated probability may round to exactly 1).
func applies(conf, threshold float64) bool { return threshold < 1 && conf >= threshold }

// valueOf is a ticket's value for a target, as the models name values.
func valueOf(t *ticket.Ticket, target string) string {
	switch {
	case target == TargetGroup:
		if t.GroupID == 0 {
			return ""
		}
		return strconv.FormatInt(int64(t.GroupID), 10)
	case target == TargetPriority:
		return t.Priority
	case target == TargetType:
		return t.Type
	case strings.HasPrefix(target, "tags:"):
		tag := strings.TrimPrefix(target, "tags:")
		if slices.Contains(t.Tags, tag) {
			return tag
		}
		return ""
	case strings.HasPrefix(target, "custom_field_"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(target, "custom_field_"), 10, 64)
		s, _ := t.CustomFields[id].(string)
		return s
	}
	return ""
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
