package search

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
// narrows it. The searcher is capped at 8 and, on PostgreSQL, reads the rows holding the
// pairs at their positions up to 4 or 1,000 of them, in batches of what the cap needs
// and 64 more or none more (the rest whole when a batch would take it); every
// configuration gives the same hits and count.
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
			// first holds each query's answer with the first configuration (the phrase
			// walked): every other one must give exactly the same hits and count, capped
			// or not, read at the pairs' positions in one batch or in many.
			first := map[string]*Result{}
			// Statements reading at the pairs' positions, and the rest of them whole.
			// A subject: phrase's own matches read whole through the subject's index.
			const atPos, rest, subject = " = ANY(?) AND ", "IS TRUE AND tandem_pairs(", "FROM tickets t WHERE t.subject_tsv @@ "
			batches := &countingQ{Queryer: db.R(), n: map[string]int{}}
			reads := map[int]map[string]int{} // by slack, pairs 1000
			for _, cf := range []struct{ pairs, slack int }{{4, batchSlack}, {1000, batchSlack}, {1000, 0}, {4, 0}} {
				batches.n = map[string]int{atPos: 0, rest: 0, subject: 0}
				s := withCap(New(db), 8)
				engineOf(s).slack = cf.slack
				if ps, ok := s.(*postgresSearcher); ok {
					ps.pairs = cf.pairs
				}
				pairs := cf.pairs
				for _, text := range []string{`"blender warranty"`, `"new blender"`, `subject:"blender warranty"`, `description:"blender warranty"`,
					`"blender warranty ran"`, `"blender warr"*`, `"blender warranty" question`, `"warranty claim" -"blender warranty"`, `"a blender, no"`} {
					q, err := Parse(text)
					if err != nil {
						t.Fatal(err)
					}
					req := Request{Account: w.acct, Actor: admin, Query: q, Kind: Tickets, Now: now, Limit: 1000, Count: true, Desc: true}
					want, _ := w.expect(req)
					res, err := s.Search(ctx, batches, req)
					if err != nil {
						t.Fatalf("%q: %v", text, err)
					}
					if f, ok := first[text]; !ok {
						first[text] = res
					} else if res.Count != f.Count || res.Capped != f.Capped || !slices.Equal(res.Hits, f.Hits) {
						t.Fatalf("%q (pairs read whole up to %d, batches of %d more): count %d capped %v hits %v, walked: count %d capped %v hits %v",
							text, pairs, cf.slack, res.Count, res.Capped, brief(res.Hits), f.Count, f.Capped, brief(f.Hits))
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
				if pairs == 1000 {
					reads[cf.slack] = batches.n
				}
			}
			// On PostgreSQL, with batches of what is needed, phrases are read at their
			// pairs' positions and then the rest whole; with 64 more, whole at once.
			if d == store.Postgres && (reads[0][atPos] == 0 || reads[0][rest] == 0 || reads[batchSlack][rest] == 0) {
				t.Fatalf("reads at the pairs' positions and of the rest: %v in batches of what is needed, %v with 64 more: the test no longer tests both", reads[0], reads[batchSlack])
			}
			// With fewer than 1,000 expected, subject:"blender warranty" is read through
			// the subject's own index, not through its pairs (mostly in descriptions).
			if d == store.Postgres && reads[batchSlack][subject] == 0 {
				t.Fatalf("reads of a subject: phrase's own matches: %v: want some", reads[batchSlack])
			}
			// Each window of positions is planned with its bounds: as a prepared statement,
			// PostgreSQL's generic plan (after five runs) knew no window's width and walked
			// the primary key computing every row's pairs (docs/BENCHMARKS.md, "PostgreSQL
			// phrase windows planned with their bounds").
			if d == store.Postgres && (batches.windows == 0 || batches.prepared != 0) {
				t.Fatalf("%d statements read windows of positions, %d of them as prepared statements: want some, none prepared", batches.windows, batches.prepared)
			}
		})
	}
}

// countingQ counts the statements that contain each key of n.
type countingQ struct {
	store.Queryer
	n map[string]int
	// windows counts the statements reading a window of positions (pairCursor.next),
	// prepared the ones of them run as prepared statements rather than planned with
	// their arguments (pgx.QueryExecModeExec first).
	windows, prepared int
}

func (c *countingQ) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	for k := range c.n {
		if strings.Contains(q, k) {
			c.n[k]++
		}
	}
	if strings.Contains(q, ".id >= ? AND ") {
		c.windows++
		if len(args) == 0 || args[0] != pgx.QueryExecModeExec {
			c.prepared++
		}
	}
	return c.Queryer.QueryContext(ctx, q, args...)
}
