package assist_test

import (
	"context"
	"testing"

	"tandem/internal/ai/assist"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// BenchmarkSuggest measures a ticket's suggestions as the sidebar asks for them: the
// models' predictions, the macros, the requester's articles from the ranker, the reply
// rendered, and the shown suggestions recorded (SQLite).
func BenchmarkSuggest(b *testing.B) {
	w := newWorld(b, store.SQLite)
	id := w.ticket("Card", "Hello, my new card has not arrived yet, when will it arrive?")
	agent := ticket.Actor{UserID: ids.User(w.agent.UserID), Role: identity.Agent}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := w.desk.Srv.Assist.Suggest(ctx, w.acct, agent, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecide measures the autonomy decision for a new ticket (hand-off checks,
// intent, rung, gate, macro and articles), without writing.
func BenchmarkDecide(b *testing.B) {
	w := newWorld(b, store.SQLite)
	id := w.ticket("Card", "Hello, my new card has not arrived yet, when will it arrive?")
	w.setMode("card_arrival", assist.ModeAutonomous)
	s := w.service(gate{"card_arrival": {Precision: 0.97, Tickets: 250}})
	ctx := context.Background()
	c, err := assist.LoadControls(ctx, w.desk.DB.R(), w.acme.ID)
	if err != nil {
		b.Fatal(err)
	}
	t := w.get(id)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d, err := s.Decide(ctx, w.acct, c, t); err != nil || d.Action != assist.ActAutonomous {
			b.Fatal(d, err)
		}
	}
}
