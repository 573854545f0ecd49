package rank

import (
	"strings"
	"testing"
)

var docs = []Doc{
	{ID: 1, Locale: "en-us", Title: "How do I return an order?", Body: "Returns are free within 30 days. Print the label and drop the parcel off."},
	{ID: 2, Locale: "en-us", Title: "Warranty for kettles", Body: "Every kettle has a two-year warranty. To return a broken kettle, contact us."},
	{ID: 3, Locale: "en-us", Title: "Tracking your delivery", Body: "Use the tracking number in your shipping email.", Phrasings: []string{"where is my parcel", "my package has not arrived"}},
	{ID: 4, Locale: "fr", Title: "Comment retourner une commande ?", Body: "Les retours sont gratuits pendant 30 jours. Imprimez l'étiquette."},
	{ID: 5, Locale: "en-us", Title: "Refunds", Body: "We refund returned orders within five days of receiving them. <script>alert(1)</script>"},
}

func ids(h []Hit) []int64 {
	out := make([]int64, len(h))
	for i, x := range h {
		out[i] = x.ID
	}
	return out
}

func TestSearch(t *testing.T) {
	ix := Build(docs)
	cases := []struct {
		name  string
		q     string
		lang  Lang
		first int64
	}{
		{"title above body", "return", English, 1},
		{"stemming english", "returning orders", English, 1},
		{"stemming french", "retours commandes", French, 4},
		{"accents folded", "étiquette", French, 4},
		{"phrasings", "parcel not arrived", English, 3},
		{"typo", "waranty", English, 2},
		{"prefix while typing", "refu", English, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, _ := ix.Search(Query{Text: c.q, Lang: c.lang})
			if len(h) == 0 || h[0].ID != c.first {
				t.Fatalf("%q: got %v, want %d first", c.q, ids(h), c.first)
			}
		})
	}
}

func TestSearchAllowAndExclude(t *testing.T) {
	ix := Build(docs)
	h, _ := ix.Search(Query{Text: "return", Lang: English, Allow: func(id int64) bool { return id != 1 }, Exclude: 2})
	for _, x := range h {
		if x.ID == 1 || x.ID == 2 {
			t.Fatalf("got %v: 1 is not allowed and 2 excluded", ids(h))
		}
	}
	if len(h) == 0 {
		t.Fatal("want the other matches")
	}
}

func TestHostileQueries(t *testing.T) {
	ix := Build(docs)
	for _, q := range []string{"", "\x00\xff\xfe", strings.Repeat("a", 100000), strings.Repeat("kettle ", 5000), "\"'<>;--", "🙂🙂", "*", "the and of"} {
		h, _ := ix.Search(Query{Text: q, Lang: English, Limit: 10})
		for _, x := range h {
			_ = ix.Snippet(x.ID, ix.TermsOf(q, English))
		}
	}
}

func TestSnippet(t *testing.T) {
	ix := Build(docs)
	s := ix.Snippet(5, ix.TermsOf("refund", English))
	if !strings.Contains(s, "<em>refund</em>") {
		t.Errorf("snippet %q does not highlight refund", s)
	}
	if s := ix.Snippet(5, ix.TermsOf("script alert", English)); strings.Contains(s, "<script") || !strings.Contains(s, "&lt;<em>script</em>&gt;") {
		t.Errorf("snippet %q is not escaped", s)
	}
}

func TestStemmers(t *testing.T) {
	for _, c := range [][3]string{
		{"en", "refunds", "refunded"}, {"en", "charging", "charged"}, {"en", "deliveries", "delivery"},
		{"fr", "remboursements", "remboursement"}, {"fr", "commandes", "commande"}, {"fr", "livraisons", "livraison"},
	} {
		lang := English
		if c[0] == "fr" {
			lang = French
		}
		a, _ := term(c[1], lang)
		b, _ := term(c[2], lang)
		if a != b {
			t.Errorf("%s: %s -> %s, %s -> %s", c[0], c[1], a, c[2], b)
		}
	}
}

func TestLimitKeepsTheBest(t *testing.T) {
	ix := Build(docs)
	all, total := ix.Search(Query{Text: "return order", Lang: English})
	top, total2 := ix.Search(Query{Text: "return order", Lang: English, Limit: 2})
	if total != total2 || len(top) != 2 || top[0] != all[0] || top[1] != all[1] {
		t.Errorf("limit 2: %v of %d, all: %v of %d", top, total2, all, total)
	}
}
