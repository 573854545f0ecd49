package assist

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/kb"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// recordShown records the suggestions shown on a ticket (once per ticket, kind, target
// and value), so that what agents then do can be counted for or against them.
func (s *Service) recordShown(ctx context.Context, acct ids.Account, tk ids.Ticket, sg *Suggestions) error {
	type row struct {
		kind, target, value string
		conf                float64
	}
	var rows []row
	for _, f := range sg.Fields {
		if !f.Applied {
			rows = append(rows, row{KindField, f.Target, f.Value, f.Confidence})
		}
	}
	for _, m := range sg.Macros {
		rows = append(rows, row{KindMacro, "", strconv.FormatInt(m.ID, 10), m.Confidence})
	}
	for _, a := range sg.Articles {
		rows = append(rows, row{KindArticle, "", strconv.FormatInt(a.ID, 10), a.Confidence})
	}
	if sg.Reply != nil {
		rows = append(rows, row{KindReply, "", strconv.FormatInt(sg.Reply.MacroID, 10), sg.Reply.Confidence})
	}
	if len(rows) == 0 {
		return nil
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		now := store.Micros(store.Now())
		for _, r := range rows {
			_, err := tx.ExecContext(ctx, `INSERT INTO ai_suggestions (account_id, ticket_id, kind, target, value, confidence, model_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (account_id, ticket_id, kind, target, value) DO NOTHING`, acct, tk, r.kind, r.target, r.value, r.conf, sg.ModelVersion, now)
			if err != nil {
				return fmt.Errorf("assist: record suggestion: %w", err)
			}
		}
		return nil
	})
}

// Feedback records an agent's explicit verdict on a suggestion shown on a ticket they
// may see: accepted, edited or ignored. A suggestion already decided keeps its outcome.
func (s *Service) Feedback(ctx context.Context, acct *account.Account, agent ticket.Actor, tk ids.Ticket, kind, target, value, outcome string) error {
	var v errs.Validation
	if kind != KindField && kind != KindMacro && kind != KindArticle && kind != KindReply {
		v.Bad("kind", "must be field, macro, article or reply")
	}
	if outcome != Accepted && outcome != Edited && outcome != Ignored {
		v.Bad("outcome", "must be accepted, edited or ignored")
	}
	if value == "" || len(value) > 200 || len(target) > 200 {
		v.Bad("value", "must name the suggested value")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if !agent.IsStaff() {
		return errs.NotFoundf("ticket %d not found", tk)
	}
	if _, _, err := ticket.GetVisible(ctx, s.db.R(), acct.ID, agent, tk); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ai_suggestions WHERE account_id = ? AND ticket_id = ? AND kind = ? AND target = ? AND value = ?`,
			acct.ID, tk, kind, target, value).Scan(&n); err != nil {
			return fmt.Errorf("assist: feedback: %w", err)
		}
		if n == 0 {
			return errs.NotFoundf("no %s suggestion %q was shown on ticket %d", kind, value, tk)
		}
		return decide(ctx, tx, acct.ID, tk, kind, target, value, outcome, agent.UserID)
	})
}

// decide sets the outcome of a shown suggestion.
func decide(ctx context.Context, tx *store.Tx, acct ids.Account, tk ids.Ticket, kind, target, value, outcome string, agent ids.User) error {
	_, err := tx.ExecContext(ctx, `UPDATE ai_suggestions SET outcome = ?, agent_id = ?, decided_at = ? WHERE account_id = ? AND ticket_id = ? AND kind = ? AND target = ? AND value = ? AND outcome = 'shown'`,
		outcome, agent, store.Micros(store.Now()), acct, tk, kind, target, value)
	if err != nil {
		return fmt.Errorf("assist: decide suggestion: %w", err)
	}
	return nil
}

// shownRow is a suggestion still waiting for its outcome.
type shownRow struct{ kind, target, value string }

// learnOutcomes reads an agent's change for what it says about the suggestions shown
// on the ticket: a field set to the suggested value accepts it, to another value
// overrides it; an applied macro (AgentMacroReference) or a linked article accepts it;
// solving the ticket leaves the rest ignored.
func learnOutcomes(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	acct, tk := ch.Account.ID, ch.Ticket.ID
	rows, err := tx.QueryContext(ctx, `SELECT kind, target, value FROM ai_suggestions WHERE account_id = ? AND ticket_id = ? AND outcome = 'shown'`, acct, tk)
	if err != nil {
		return fmt.Errorf("assist: shown suggestions: %w", err)
	}
	var shown []shownRow
	for rows.Next() {
		var r shownRow
		if err := rows.Scan(&r.kind, &r.target, &r.value); err != nil {
			rows.Close()
			return fmt.Errorf("assist: shown suggestions: %w", err)
		}
		shown = append(shown, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(shown) == 0 {
		return err
	}
	who := ch.Actor.UserID
	// Field changes, by target name.
	changed := map[string]string{}
	for _, e := range ch.Events {
		if e["type"] != "Change" {
			continue
		}
		name, _ := e["field_name"].(string)
		val := fmt.Sprint(e["value"])
		switch {
		case name == "group_id" || name == "priority" || name == "type":
			changed[name] = val
		case name != "" && name[0] >= '0' && name[0] <= '9':
			changed["custom_field_"+name] = val
		}
	}
	macros := map[string]bool{}
	for _, e := range ch.Events {
		if e["type"] == ticket.EventMacroReference {
			macros[fmt.Sprint(e["macro_id"])] = true
		}
	}
	linked := map[string]bool{}
	for _, c := range ch.Comments {
		for _, id := range kb.LinkedArticles(c.Body + " " + c.HTMLBody) {
			linked[strconv.FormatInt(int64(id), 10)] = true
		}
	}
	solved := ch.Ticket.Status == ticket.Solved && (ch.Before == nil || ch.Before.Status != ticket.Solved)
	for _, r := range shown {
		outcome := ""
		switch r.kind {
		case KindField:
			if tag, ok := strings.CutPrefix(r.target, "tags:"); ok {
				if hasTag(ch.Ticket.Tags, tag) && (ch.Before == nil || !hasTag(ch.Before.Tags, tag)) {
					outcome = Accepted
				}
			} else if v, ok := changed[r.target]; ok {
				outcome = Overridden
				if v == r.value {
					outcome = Accepted
				}
			}
		case KindMacro:
			if macros[r.value] {
				outcome = Accepted
			}
		case KindArticle:
			if linked[r.value] {
				outcome = Accepted
			}
		}
		if outcome == "" && solved {
			outcome = Ignored
		}
		if outcome != "" {
			if err := decide(ctx, tx, acct, tk, r.kind, r.target, r.value, outcome, who); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasTag(tags []string, t string) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
}

// Precision is the live precision of one kind of suggestion.
type Precision struct {
	Kind                                         string
	Shown, Accepted, Edited, Overridden, Ignored int
}

// Decided is how many suggestions have an outcome.
func (p Precision) Decided() int { return p.Accepted + p.Edited + p.Overridden + p.Ignored }

// Rate is the share accepted as they were among those decided (0 when none).
func (p Precision) Rate() float64 {
	if p.Decided() == 0 {
		return 0
	}
	return float64(p.Accepted) / float64(p.Decided())
}

// LivePrecision counts the outcomes of the account's suggestions per kind.
func (s *Service) LivePrecision(ctx context.Context, acct ids.Account) ([]Precision, error) {
	out := []Precision{{Kind: KindField}, {Kind: KindMacro}, {Kind: KindArticle}, {Kind: KindReply}}
	rows, err := s.db.R().QueryContext(ctx, `SELECT kind, outcome, COUNT(*) FROM ai_suggestions WHERE account_id = ? GROUP BY kind, outcome`, acct)
	if err != nil {
		return nil, fmt.Errorf("assist: live precision: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, outcome string
		var n int
		if err := rows.Scan(&kind, &outcome, &n); err != nil {
			return nil, fmt.Errorf("assist: live precision: %w", err)
		}
		for i := range out {
			if out[i].Kind != kind {
				continue
			}
			switch outcome {
			case Shown:
				out[i].Shown += n
			case Accepted:
				out[i].Accepted += n
			case Edited:
				out[i].Edited += n
			case Overridden:
				out[i].Overridden += n
			case Ignored:
				out[i].Ignored += n
			}
		}
	}
	return out, rows.Err()
}
