package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// TestSearchPhrasePairs: a phrase of two common words that is itself rare is found
// exactly, whether its word pairs (PostgreSQL's pair index, migration 0045) are few
// enough to be read whole or so many that the phrase is walked: a pair across the seam
// of subject and description, which the pair index holds, is no match; the phrase in a
// subject, a description or a comment is one; and a trailing prefix or a third word
// narrows it. The searcher is capped at 8 and, on PostgreSQL, reads pairs whole up to 4
// or 1,000 matches.
func TestSearchPhrasePairs(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, d)
			r := rand.New(rand.NewPCG(7, 7))
			now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
			w := newWorld(r, "acme", 60, now)
			build(t, db, r, w)
			err := db.Write(ctx, func(tx *store.Tx) error {
				for i, tk := range w.tickets {
					// Both words in every ticket; the phrase in a third of them, in
					// turn in the subject, the description and the first comment.
					tk.subject, tk.desc = fmt.Sprintf("new blender %d", i), "warranty claim for a blender, no warranty"
					switch i % 9 {
					case 0:
						tk.subject = "blender warranty question"
					case 3:
						tk.desc = "my blender warranty ran out"
					case 6:
						if len(tk.comments) > 0 {
							tk.comments[0].body = "is the blender warranty void?"
							if _, err := tx.ExecContext(ctx, `UPDATE ticket_comments SET plain_body = ? WHERE id = ?`, tk.comments[0].body, tk.comments[0].id); err != nil {
								return err
							}
						}
					}
					if _, err := tx.ExecContext(ctx, `UPDATE tickets SET subject = ?, description = ? WHERE account_id = ? AND id = ?`, tk.subject, tk.desc, w.acct, tk.id); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			admin := ticket.Actor{UserID: 1, Role: identity.Admin}
			for _, pairs := range []int{4, 1000} {
				s := withCap(New(db), 8)
				if ps, ok := s.(*postgresSearcher); ok {
					ps.pairs = pairs
				}
				for _, text := range []string{`"blender warranty"`, `"new blender"`, `subject:"blender warranty"`, `description:"blender warranty"`,
					`"blender warranty ran"`, `"blender warr"*`, `"blender warranty" question`, `"warranty claim" -"blender warranty"`, `"a blender, no"`} {
					q, err := Parse(text)
					if err != nil {
						t.Fatal(err)
					}
					req := Request{Account: w.acct, Actor: admin, Query: q, Kind: Tickets, Now: now, Limit: 1000, Count: true, Desc: true}
					want, _ := w.expect(req)
					res, err := s.Search(ctx, db.R(), req)
					if err != nil {
						t.Fatalf("%q: %v", text, err)
					}
					if len(want) <= 8 {
						if res.Count != len(want) || res.Capped || !slices.Equal(res.Hits, want) {
							t.Fatalf("%q (pairs read whole up to %d): count %d hits %v, want %v", text, pairs, res.Count, brief(res.Hits), brief(want))
						}
						continue
					}
					if res.Count != 8 || !res.Capped || len(res.Hits) != 8 || !subsequence(res.Hits, want) {
						t.Fatalf("%q (pairs read whole up to %d, %d matches): count %d capped %v hits %v, want 8 of %v", text, pairs, len(want), res.Count, res.Capped, brief(res.Hits), brief(want))
					}
				}
			}
		})
	}
}
