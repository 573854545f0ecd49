package learn

import (
	"testing"

	"tandem/internal/kb/rank"
)

func TestClassifierLearnsAndRoundTrips(t *testing.T) {
	ex := []Example{
		{Text: "my card has not arrived yet", Label: "card_arrival"},
		{Text: "when will my new card arrive", Label: "card_arrival"},
		{Text: "card still not delivered", Label: "card_arrival"},
		{Text: "I forgot my password", Label: "password"},
		{Text: "reset my password please", Label: "password"},
		{Text: "cannot log in, password wrong", Label: "password"},
		{Text: "ma carte n'est pas arrivée", Lang: rank.French, Label: "card_arrival"},
	}
	c, err := Train(ex, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Top("has my card arrived?", rank.English); got.Label != "card_arrival" || got.P <= 0.5 {
		t.Fatalf("card question: %+v", got)
	}
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	got := c2.Predict("password reset", rank.English)
	if got[0].Label != "password" || len(got) != 2 {
		t.Fatalf("after round trip: %+v", got)
	}
	if _, err := Unmarshal([]byte("garbage")); err == nil {
		t.Fatal("garbage decoded")
	}
	if _, err := Train(ex[:1], Options{}); err != ErrTooFew {
		t.Fatalf("one label: %v", err)
	}
}
