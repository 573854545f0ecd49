package synth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/kb"
	"tandem/internal/org"
	"tandem/internal/people"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Services are the write paths Seed goes through.
type Services struct {
	DB      *store.DB
	Tickets *ticket.Service
	KB      *kb.Service
	Rules   *rules.Service
}

// Seeded maps the world's ids to the account's.
type Seeded struct {
	Groups      map[int64]ids.Group
	Macros      map[int64]int64
	Articles    map[int64]kb.ArticleID
	IntentField int64
	Tickets     int
}

// IntentFieldKey is the key of the intent drop-down field Seed creates.
const IntentFieldKey = "ai_intent"

// Seed writes the world into an account through the real write paths: groups (people),
// the intent drop-down field, a help center category with the articles (kb.Service),
// the macros (rules.Service), then every ticket in creation order, each created by its
// requester and solved by an agent who applies the intent's macro (macro_ids, recorded
// as an AgentMacroReference) and links the article (kb.Learn records the link and, on
// solving, the requester's phrasing). The macro that is reworded in month 4 is updated
// when the timeline reaches it. The AI settings get the world's targets and intent.
//
// The write path stamps audits and solved_at with the clock; Seed moves them to the
// ticket's place on the synthetic timeline in the same transaction, as an import of
// history does, so a replay sees when each ticket was really known. Seeding is not
// idempotent: run it once on an account.
func Seed(ctx context.Context, svc Services, acct *account.Account, agents []ids.User, w *World) (*Seeded, error) {
	if len(agents) == 0 {
		return nil, fmt.Errorf("synth: seed needs at least one agent")
	}
	out := &Seeded{Groups: map[int64]ids.Group{}, Macros: map[int64]int64{}, Articles: map[int64]kb.ArticleID{}}
	// Groups (an existing group of the same name is used) and the intent field.
	err := svc.DB.Write(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, name FROM groups WHERE account_id = ? AND deleted = FALSE`, acct.ID)
		if err != nil {
			return err
		}
		existing := map[string]ids.Group{}
		for rows.Next() {
			var id ids.Group
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return err
			}
			existing[strings.ToLower(name)] = id
		}
		rows.Close()
		for _, g := range w.Groups {
			if id := existing[strings.ToLower(g.Name)]; id != 0 {
				out.Groups[g.ID] = id
				continue
			}
			ng := &org.Group{Name: g.Name, Description: "Tickets about " + strings.ToLower(g.Name) + "."}
			if err := people.CreateGroup(ctx, tx, acct, people.Actor{}, ng); err != nil {
				return err
			}
			out.Groups[g.ID] = ng.ID
		}
		f := &ticket.Field{AccountID: acct.ID, Type: "tagger", Title: "Intent", Key: IntentFieldKey, Active: true,
			Description: "What the customer asked for (the AI layer's intent target)."}
		for _, in := range w.Intents {
			f.Options = append(f.Options, ticket.FieldOption{Name: in.spec.Title, Value: in.Key})
		}
		f.Options = append(f.Options, ticket.FieldOption{Name: "Other (out of scope)", Value: OtherIntent})
		if err := ticket.SaveField(ctx, tx, f); err != nil {
			return err
		}
		out.IntentField = f.ID
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("synth: groups and intent field: %w", err)
	}

	// The help center: one category, a section per group, the articles.
	name, desc := "Help with your orders and gear", "Answers to the questions customers ask most."
	cat, err := svc.KB.SaveCategory(ctx, acct, 0, 0, kb.CategoryIn{Locale: "en-us", Name: &name, Description: &desc})
	if err != nil {
		return nil, fmt.Errorf("synth: help center category: %w", err)
	}
	sections := map[int64]kb.SectionID{}
	for _, a := range w.Articles {
		g := w.Intent(a.Intent).Group
		if sections[g] == 0 {
			sname := w.Groups[g-1].Name
			sec, err := svc.KB.SaveSection(ctx, acct, 0, 0, kb.SectionIn{Locale: "en-us", CategoryID: &cat.ID, Name: &sname})
			if err != nil {
				return nil, fmt.Errorf("synth: help center section: %w", err)
			}
			sections[g] = sec.ID
		}
		sec, title := sections[g], a.Title
		body := "<p>" + strings.ReplaceAll(a.Body, "\n\n", "</p><p>") + "</p>"
		art, err := svc.KB.CreateArticle(ctx, acct, 0, kb.ArticleIn{Locale: a.Locale, SectionID: &sec, Text: kb.TextIn{Title: &title, Body: &body}})
		if err != nil {
			return nil, fmt.Errorf("synth: article %q: %w", a.Title, err)
		}
		out.Articles[a.ID] = art.ID
	}

	// Macros.
	macroBody := func(in *Intent, body string) string {
		link := ""
		if len(in.Articles) > 0 && !w.Articles[in.Articles[0]-1].Stale {
			link = "\n\nMore in our help center: " + ArticlePath(int64(out.Articles[in.Articles[0]]))
		}
		return strings.NewReplacer("{{name}}", "{{ticket.requester.first_name}}", "{{article}}", link).Replace(body)
	}
	for _, m := range w.Macros {
		in := w.Intent(m.Intent)
		rm := &rules.Macro{Title: m.Title, Active: true, Actions: []rules.Action{
			{Field: "comment_value", Value: []string{macroBody(in, m.Body)}},
			{Field: "status", Value: []string{m.Status}},
			{Field: "current_tags", Value: m.Tags},
		}}
		if err := svc.Rules.CreateMacro(ctx, acct, rm); err != nil {
			return nil, fmt.Errorf("synth: macro %q: %w", m.Title, err)
		}
		out.Macros[m.ID] = rm.ID
	}

	// Tickets, oldest first.
	reworded := map[int64]bool{}
	for i := range w.Tickets {
		t := &w.Tickets[i]
		for _, m := range w.Macros {
			if m.Reworded != "" && !reworded[m.ID] && !t.CreatedAt.Before(m.RewordedAt) {
				reworded[m.ID] = true
				in := w.Intent(m.Intent)
				if _, err := svc.Rules.UpdateMacro(ctx, acct, out.Macros[m.ID], func(rm *rules.Macro) error {
					rm.Actions[0].Value = []string{macroBody(in, m.Reworded)}
					return nil
				}); err != nil {
					return nil, fmt.Errorf("synth: reword macro: %w", err)
				}
			}
		}
		if err := seedTicket(ctx, svc, acct, agents[i%len(agents)], w, out, t); err != nil {
			return nil, fmt.Errorf("synth: ticket %d of %d: %w", i+1, len(w.Tickets), err)
		}
		out.Tickets++
	}

	// The AI settings: what the models learn, and which target is the intent.
	err = svc.DB.Write(ctx, func(tx *store.Tx) error {
		set, err := ai.LoadSettings(ctx, tx, acct.ID)
		if err != nil {
			return err
		}
		set.IntentTarget = ai.CustomFieldTarget(out.IntentField)
		set.Targets = []string{ai.TargetGroup, ai.TargetPriority, ai.TargetType, set.IntentTarget, ai.TargetMacro, ai.TargetArticle}
		return ai.SaveSettings(ctx, tx, set)
	})
	if err != nil {
		return nil, fmt.Errorf("synth: AI settings: %w", err)
	}
	return out, nil
}

// seedTicket writes one ticket: created by its requester, then solved by an agent.
func seedTicket(ctx context.Context, svc Services, acct *account.Account, agent ids.User, w *World, out *Seeded, t *Ticket) error {
	tr := &t.Truth
	via := &ticket.Via{Channel: t.Channel, ID: ticket.ViaID(t.Channel)}
	return svc.DB.Write(ctx, func(tx *store.Tx) error {
		subject := t.Subject
		if subject == "" {
			subject = clipWords(t.Body, 8)
		}
		created, err := svc.Tickets.Write(ctx, tx, acct, ticket.Actor{}, 0, &ticket.Patch{
			Subject:   &subject,
			Requester: &ticket.NewRequester{Name: t.RequesterName, Email: t.RequesterEmail, Locale: t.Locale},
			Comment:   &ticket.CommentInput{Body: t.Body, CreatedAt: t.CreatedAt},
			Via:       via, CreatedAt: t.CreatedAt, SkipRules: true,
		})
		if err != nil {
			return err
		}
		id := created.Ticket.ID
		reply := t.Reply
		if tr.Article != 0 {
			reply = strings.ReplaceAll(reply, ArticlePath(tr.Article), ArticlePath(int64(out.Articles[tr.Article])))
		}
		status := ticket.Solved
		group := out.Groups[tr.Group]
		typ := t.Labels[ai.TargetType][0]
		p := &ticket.Patch{
			Status: &status, GroupID: &group, Priority: &tr.Priority, Type: &typ, AssigneeID: &agent,
			AddTags:      tr.Tags,
			CustomFields: map[int64]any{out.IntentField: tr.Intent},
			Comment:      &ticket.CommentInput{Body: reply, AuthorID: agent, CreatedAt: t.SolvedAt},
			SkipRules:    true,
		}
		if tr.Macro != 0 {
			p.MacroIDs = []int64{out.Macros[tr.Macro]}
		}
		if t.PublicReplies > 1 {
			more := "Following up: is everything sorted now? Let me know if anything is still unclear."
			p.MoreComments = append(p.MoreComments, &ticket.CommentInput{Body: more, AuthorID: agent, CreatedAt: t.SolvedAt})
		}
		if _, err := svc.Tickets.Write(ctx, tx, acct, ticket.Actor{UserID: agent, Role: identity.Agent}, id, p); err != nil {
			return err
		}
		// The ticket's place on the timeline (see Seed).
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET updated_at = ?, solved_at = ? WHERE account_id = ? AND id = ?`,
			store.Micros(t.SolvedAt), store.Micros(t.SolvedAt), acct.ID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ticket_audits SET created_at = ? WHERE account_id = ? AND ticket_id = ?`,
			store.Micros(t.SolvedAt), acct.ID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ticket_audits SET created_at = ? WHERE account_id = ? AND id = (SELECT MIN(id) FROM ticket_audits WHERE account_id = ? AND ticket_id = ?)`,
			store.Micros(t.CreatedAt), acct.ID, acct.ID, id); err != nil {
			return err
		}
		t.TicketID = id
		return nil
	})
}

// clipWords returns the first n words of s.
func clipWords(s string, n int) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(n, len(f))], " ")
}

// StartFor returns the Config.Start of a world of months months that ends at the start
// of now's day (so a seeded demo's history is recent and entirely in the past).
func StartFor(now time.Time, months int) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, -months, 0)
}
