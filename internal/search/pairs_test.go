package search

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// TestSQLitePairsFindWhatWordsFind: a phrase of two words or more is read from the
// word-pair indexes (migration 0058), and finds there exactly the rows the word indexes
// find for it, after the triggers and indexing at commit have kept both through
// changes, soft deletes, restores, hard deletes and new comments (mutate, twice, in
// separate transactions): phrases taken from the stored texts (so pairs that cross
// punctuation, repeated words, case and diacritics), random ones, long ones, with a
// trailing prefix, in any field, the subject or the description. The searches' answers
// are the reference's too.
func TestSQLitePairsFindWhatWordsFind(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	r := rand.New(rand.NewPCG(5, 8))
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	w := newWorld(r, "acme", 200, now)
	build(t, db, r, w)
	// Texts with the odd cases: repeated words, punctuation inside a phrase, case and
	// diacritics folded, a word pair across the seam of subject and description.
	odd := []struct{ subject, desc string }{
		{"refund refund refund", "Refund — refund, REFUND. printer-refund; café CAFÉ cafe"},
		{"my printer", "refund please: printer refund/refund printer"},
		{"Café au lait", "lait café! x_y a_b"},
	}
	err := db.Write(ctx, func(tx *store.Tx) error {
		for i, o := range odd {
			tk := w.tickets[i]
			tk.subject, tk.desc = o.subject, o.desc
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET subject = ?, description = ? WHERE account_id = ? AND id = ?`, tk.subject, tk.desc, w.acct, tk.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mutate(t, db, r, w)
	mutate(t, db, r, w)
	checkIndex(t, db)

	// The phrases: windows of the live texts' words, of one to six words.
	var texts []string
	for _, tk := range w.tickets {
		texts = append(texts, tk.subject, tk.desc)
		for _, c := range tk.comments {
			texts = append(texts, c.body)
		}
	}
	var phrases [][]string
	for range 120 {
		ws := Words(pick(r, texts))
		if len(ws) == 0 {
			continue
		}
		n := 1 + r.IntN(min(6, len(ws)))
		at := r.IntN(len(ws) - n + 1)
		phrases = append(phrases, ws[at:at+n])
	}
	for range 30 {
		ws := make([]string, 2+r.IntN(3))
		for i := range ws {
			ws[i] = Words(pick(r, vocabulary))[0]
		}
		phrases = append(phrases, ws)
	}
	phrases = append(phrases, []string{"refund", "refund"}, []string{"refund", "refund", "refund"}, []string{"refund", "refund", "refund", "refund"},
		[]string{"printer", "refund"}, []string{"refund", "printer"}, []string{"cafe", "cafe"}, []string{"café", "au", "lait"},
		[]string{"refund", "my"}, []string{"printer", "refund", "please"}, []string{"x", "y"}, []string{"a", "b"}, []string{"lait", "lait"})

	rowids := func(table, tq string) []int64 {
		t.Helper()
		rows, err := db.R().QueryContext(ctx, "SELECT rowid FROM "+table+" WHERE "+table+" MATCH ? ORDER BY rowid", tq)
		if err != nil {
			t.Fatalf("%s MATCH %s: %v", table, tq, err)
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	s := New(db)
	admin := ticket.Actor{UserID: 1, Role: identity.Admin}
	found := 0
	for _, words := range phrases {
		for _, prefix := range []bool{false, true} {
			if prefix {
				last := words[len(words)-1]
				words = append(slices.Clone(words[:len(words)-1]), last[:1+len(last)/2])
			}
			for _, field := range []string{"", "subject", "description"} {
				ix := sqliteIndexes(field, words, prefix)
				if (ix.tickets == "tickets_pairs") != (len(words) >= 2) {
					t.Fatalf("%q: read from %s", words, ix.tickets)
				}
				byWords := sqliteIndexes(field, words[:1], false) // the word indexes' tables
				tq := fts5Phrase(words, prefix)
				if field != "" {
					tq = "{" + field + "} : " + tq
				}
				want, got := rowids(byWords.tickets, tq), rowids(ix.tickets, ix.tq)
				if !slices.Equal(got, want) {
					t.Fatalf("%q prefix %v field %q: tickets %v in %s, %v in the word index", words, prefix, field, got, ix.tickets, want)
				}
				found += len(want)
				if field == "" {
					want, got := rowids(byWords.comments, fts5Phrase(words, prefix)), rowids(ix.comments, ix.cq)
					if !slices.Equal(got, want) {
						t.Fatalf("%q prefix %v: comments %v in %s, %v in the word index", words, prefix, got, ix.comments, want)
					}
					found += len(want)
				}
				// The whole search, as the reference answers it (which does not fold
				// diacritics: "cafe" finds "café" in the indexes, not there).
				if slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, "caf") }) {
					continue
				}
				text := `"` + strings.Join(words, " ") + `"`
				if prefix {
					text += "*"
				}
				if field != "" {
					text = field + ":" + text
				}
				q, err := Parse(text)
				if err != nil {
					t.Fatalf("%s: %v", text, err)
				}
				req := Request{Account: w.acct, Actor: admin, Query: q, Kind: Tickets, Now: now, Limit: 1000, Count: true, Desc: true}
				want2, _ := w.expect(req)
				res, err := s.Search(ctx, db.R(), req)
				if err != nil {
					t.Fatalf("%s: %v", text, err)
				}
				if res.Count != len(want2) || !slices.Equal(res.Hits, want2) {
					t.Fatalf("%s: count %d hits %v, want %v", text, res.Count, brief(res.Hits), brief(want2))
				}
			}
		}
	}
	if found < 300 {
		t.Fatalf("the phrases matched %d rows in all: too few to tell", found)
	}
}
