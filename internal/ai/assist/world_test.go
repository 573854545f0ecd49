package assist_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/ai/assist"
	"tandem/internal/ai/learn"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/kb"
	"tandem/internal/kb/rank"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// intentTarget is the test models' intent target.
const intentTarget = "intent"

// world is an account with macros, articles and trained models, its people, and a
// second account.
type world struct {
	t          testing.TB
	desk       *testkit.Desk
	acme       *testkit.Acct
	globex     *testkit.Acct
	acct       *account.Account
	agent      testkit.Cred
	restricted testkit.Cred
	customer   testkit.Cred
	macros     map[string]int64
	articles   map[string]int64
	sec        kb.SectionID
}

func (w *world) section() *kb.SectionID { return &w.sec }

// phrasings per intent, in English and French (the macro labels follow the language).
var phrasings = map[string]struct{ en, fr []string }{
	"card_arrival": {
		en: []string{"when will my card arrive", "my new card has not arrived yet", "how long does the card delivery take", "still waiting for my card to arrive in the mail", "card not delivered yet, when does it arrive", "where is my new card, it has not arrived"},
		fr: []string{"quand vais-je recevoir ma carte", "ma carte n'est toujours pas arrivée", "quel est le délai de livraison de la carte", "j'attends toujours ma nouvelle carte", "la carte n'est pas encore arrivée chez moi", "où est ma nouvelle carte, elle n'est pas arrivée"},
	},
	"change_address": {
		en: []string{"how do I change my address", "I moved and need to update my postal address", "update the address on my account", "change of address for my account please", "my address changed, how do I update it", "new home address, please change it"},
		fr: []string{"comment changer mon adresse", "j'ai déménagé et je dois mettre à jour mon adresse", "modifier l'adresse de mon compte", "changement d'adresse pour mon compte", "mon adresse a changé, comment la mettre à jour", "nouvelle adresse postale, merci de la changer"},
	},
	"refund_request": {
		en: []string{"I want a refund for my order", "please give me my money back", "refund the payment I made", "I would like to be refunded", "money back for the purchase please", "how do I get a refund"},
		fr: []string{"je veux être remboursé de ma commande", "rendez-moi mon argent", "remboursez le paiement que j'ai fait", "je voudrais un remboursement", "remboursement de mon achat svp", "comment obtenir un remboursement"},
	},
}

func newWorld(t testing.TB, d store.Dialect, opts ...testkit.Option) *world {
	t.Helper()
	opts = append([]testkit.Option{func(c *server.Config) { c.SecretKey = "test secret key for sealing model server keys" }}, opts...)
	desk := testkit.Start(t, d, opts...)
	w := &world{t: t, desk: desk, macros: map[string]int64{}, articles: map[string]int64{}}
	w.acme = desk.Account(t, "acme", account.Enterprise)
	w.globex = desk.Account(t, "globex", account.Enterprise)
	ctx := context.Background()
	var err error
	if w.acct, err = desk.Srv.Accounts.BySubdomain(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	w.agent = w.acme.User(t, identity.Agent, "agent@acme.test", "Agnes Agent")
	w.restricted = w.acme.User(t, identity.Agent, "restricted@acme.test", "Rita Restricted")
	w.customer = w.acme.User(t, identity.EndUser, "customer@acme.test", "Carl Customer")
	if err := desk.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE users SET ticket_restriction = 'assigned' WHERE account_id = ? AND id = ?`, w.acme.ID, w.restricted.UserID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Macros: a reply per intent and language; the English card macro also assigns the
	// ticket, which the AI must never do (not in its closed set of actions).
	for name, m := range map[string][2]string{
		"card_en":    {"Card arrival", "Hello {{ticket.requester.first_name}}, your new card is on its way and usually arrives within 3 to 5 working days. Thank you for your patience."},
		"card_fr":    {"Arrivée de la carte", "Bonjour, votre nouvelle carte est en route et arrive en général sous 3 à 5 jours ouvrés. Merci de votre patience."},
		"address_en": {"Change of address", "Hello, you can change your address in your profile settings at any time. Thank you."},
		"address_fr": {"Changement d'adresse", "Bonjour, vous pouvez changer votre adresse dans les paramètres de votre profil à tout moment. Merci."},
		"refund_en":  {"Refund", "Hello, we have received your refund request and a person will look at it."},
		"refund_fr":  {"Remboursement", "Bonjour, nous avons bien reçu votre demande de remboursement."},
	} {
		acts := []map[string]any{{"field": "comment_value", "value": m[1]}, {"field": "status", "value": "solved"}, {"field": "current_tags", "value": "answered_" + name}}
		if name == "card_en" {
			acts = append(acts, map[string]any{"field": "assignee_id", "value": strconv.FormatInt(w.acme.Admin.UserID, 10)})
		}
		r := w.acme.Do(t, w.acme.Admin, "POST", "/api/v2/macros", map[string]any{"macro": map[string]any{"title": m[0], "actions": acts}}).Want(t, 201)
		w.macros[name] = testkit.ID(r.Obj("macro"), "id")
	}
	// Articles: one everyone may read (English and French), one for agents only.
	kbs := desk.Srv.KB
	s := func(v string) *string { return &v }
	cat, err := kbs.SaveCategory(ctx, w.acct, 0, 0, kb.CategoryIn{Locale: "en-us", Name: s("Cards")})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := kbs.SaveSection(ctx, w.acct, 0, 0, kb.SectionIn{CategoryID: &cat.ID, Name: s("Delivery")})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kbs.CreateArticle(ctx, w.acct, 0, kb.ArticleIn{SectionID: &sec.ID, Text: kb.TextIn{Title: s("When will my new card arrive?"), Markdown: s("Cards arrive within 3 to 5 working days after you order them. Card delivery is tracked.")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := kbs.PutTranslation(ctx, w.acct, 0, kb.OfArticle, int64(pub.ID), "fr", kb.TextIn{Title: s("Quand vais-je recevoir ma nouvelle carte ?"), Markdown: s("Les cartes arrivent sous 3 à 5 jours ouvrés. La livraison de la carte est suivie.")}); err != nil {
		t.Fatal(err)
	}
	agents := kb.AgentsOnly
	internal, err := kbs.CreateArticle(ctx, w.acct, 0, kb.ArticleIn{SectionID: &sec.ID, Visibility: &agents, Text: kb.TextIn{Title: s("Internal: card arrival courier contacts"), Markdown: s("When a card has not arrived, call the courier. Card arrival delays: internal notes.")}})
	if err != nil {
		t.Fatal(err)
	}
	w.articles["card"], w.articles["internal"] = int64(pub.ID), int64(internal.ID)
	w.sec = sec.ID
	w.train()
	return w
}

// train saves a model version: the intent, the macro used (per language) and priority.
func (w *world) train() {
	var intents, macros, prio []learn.Example
	for intent, p := range phrasings {
		short := map[string]string{"card_arrival": "card", "change_address": "address", "refund_request": "refund"}[intent]
		for lang, list := range map[string][]string{"en": p.en, "fr": p.fr} {
			rl := rank.English
			if lang == "fr" {
				rl = rank.French
			}
			for _, text := range list {
				intents = append(intents, learn.Example{Text: text, Lang: rl, Label: intent})
				macros = append(macros, learn.Example{Text: text, Lang: rl, Label: strconv.FormatInt(w.macros[short+"_"+lang], 10)})
				pr := "normal"
				if intent == "refund_request" {
					pr = "high"
				}
				prio = append(prio, learn.Example{Text: text, Lang: rl, Label: pr})
			}
		}
	}
	m := &ai.Models{Targets: map[string]*learn.Classifier{}, IntentTarget: intentTarget}
	for name, ex := range map[string][]learn.Example{intentTarget: intents, ai.TargetMacro: macros, ai.TargetPriority: prio} {
		c, err := learn.Train(ex, learn.Options{})
		if err != nil {
			w.t.Fatal(err)
		}
		m.Targets[name] = c
	}
	figs := map[string]ai.Figures{intentTarget: {Threshold: 0.3}, ai.TargetMacro: {Threshold: 0.3}, ai.TargetPriority: {Threshold: 0.5}}
	if _, err := ai.NewStore(w.desk.DB).Save(context.Background(), w.acme.ID, m, figs, len(intents), time.Now()); err != nil {
		w.t.Fatal(err)
	}
}

// ticket creates a ticket of the customer's, as the API does for an agent.
func (w *world) ticket(subject, body string) ids.Ticket {
	w.t.Helper()
	r := w.acme.Do(w.t, w.acme.Admin, "POST", "/api/v2/tickets", map[string]any{"ticket": map[string]any{
		"subject": subject, "comment": map[string]any{"body": body}, "requester_id": w.customer.UserID}}).Want(w.t, 201)
	return ids.Ticket(testkit.ID(r.Obj("ticket"), "id"))
}

// get loads a ticket.
func (w *world) get(id ids.Ticket) *ticket.Ticket {
	w.t.Helper()
	t, err := ticket.Get(context.Background(), w.desk.DB.R(), w.acme.ID, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return t
}

// comments returns a ticket's comments, oldest first.
func (w *world) comments(id ids.Ticket) []*ticket.Comment {
	w.t.Helper()
	rows, err := w.desk.DB.R().QueryContext(context.Background(), `SELECT `+ticket.CommentCols+` FROM ticket_comments WHERE account_id = ? AND ticket_id = ? ORDER BY id`, w.acme.ID, id)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	var out []*ticket.Comment
	for rows.Next() {
		c, err := ticket.ScanComment(rows)
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// gate is simulation evidence given to a service under test (the aisim branch's
// simulation stores the real one; the assist half only reads it through ai.Gate).
type gate map[string]ai.Evidence

func (g gate) Evidence(_ context.Context, _ ids.Account, _, value string) (ai.Evidence, bool, error) {
	e, ok := g[value]
	return e, ok, nil
}

// service returns an assist service over the desk's database and write path, with
// simulation evidence and short model server timeouts.
func (w *world) service(g ai.Gate) *assist.Service {
	return assist.New(w.desk.DB, w.desk.Srv.Tickets, w.desk.Srv.Accounts, w.desk.Srv.KB, w.desk.Srv.Log(), assist.Config{
		Models: ai.NewStore(w.desk.DB), Gate: g, Actor: ai.Actor, Secrets: w.desk.Srv.Assist.Secrets(), AllowPrivate: true,
		LLMTimeout: 100 * time.Millisecond, LLMBudget: time.Second,
		AccountURL: func(sub string) string { return "http://" + w.desk.Host(sub) },
	})
}

func (w *world) setMode(intent, mode string) {
	w.t.Helper()
	w.acme.Do(w.t, w.acme.Admin, "PUT", "/api/v2/ai/assist/autonomy", map[string]any{"autonomy": map[string]any{"intent": intent, "mode": mode}}).Want(w.t, 200)
}

func (w *world) attempts(id ids.Ticket) []*assist.Attempt {
	w.t.Helper()
	list, err := w.desk.Srv.Assist.Attempts(context.Background(), w.acme.ID, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return list
}

func str(v any) string { return fmt.Sprint(v) }
