package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// TestSearchSameAfterFTSMerge (SQLite): the store's merges of the full-text indexes'
// segments (store.MergeFTS, run by the trimmer once writes go quiet) leave fewer
// segments and nothing more to merge, every search answers exactly as before them (hits,
// order, count, cap), writes that commit while the merges run are searchable as soon
// as they return, and both FTS5 indexes pass FTS5's integrity check afterwards.
func TestSearchSameAfterFTSMerge(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	var acct ids.Account
	err := db.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES ('acme', 'Acme', 'enterprise', 1, 1) RETURNING id`).Scan(&acct)
	})
	if err != nil {
		t.Fatal(err)
	}
	words := strings.Fields("blender warranty invoice refund printer order broken late")
	r := rand.New(rand.NewPCG(7, 9))
	text := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[r.IntN(len(words))])
		}
		return b.String()
	}
	const n = 150
	// write adds ticket id with a comment in a transaction of its own (a segment in each
	// index), and, among the first n, renames an earlier ticket now and then (a delete in the index).
	write := func(id int64, subject, description, comment string) error {
		return db.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tickets (account_id, id, subject, description, status, requester_id, submitter_id, created_at, updated_at) VALUES (?, ?, ?, ?, 'open', 1, 1, ?, ?)`,
				acct, id, subject, description, id, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_comments (account_id, ticket_id, audit_id, author_id, body, html_body, plain_body, public, uuid, created_at) VALUES (?, ?, 0, 1, '', '', ?, TRUE, ?, ?)`,
				acct, id, comment, fmt.Sprint("u", id), id); err != nil {
				return err
			}
			if id%7 == 0 && id <= n {
				_, err := tx.ExecContext(ctx, `UPDATE tickets SET subject = ? WHERE account_id = ? AND id = ?`, subject+" renamed", acct, id/2)
				return err
			}
			return nil
		})
	}
	for id := int64(1); id <= n; id++ {
		if err := write(id, text(3), text(12), text(10)); err != nil {
			t.Fatal(err)
		}
	}
	segments := func() (tickets, comments int) {
		t.Helper()
		for _, c := range []struct {
			table string
			n     *int
		}{{"tickets_fts_idx", &tickets}, {"ticket_comments_fts_idx", &comments}} {
			if err := db.R().QueryRowContext(ctx, `SELECT COUNT(DISTINCT segid) FROM `+c.table).Scan(c.n); err != nil {
				t.Fatal(err)
			}
		}
		return tickets, comments
	}

	s := New(db).(*sqliteSearcher)
	s.cap = 40 // some of the queries below pass it
	admin := ticket.Actor{UserID: 1, Role: identity.Admin}
	queries := []string{"refund", "printer refund", `"blender warranty"`, `"blender warranty invoice"`, "refund -printer",
		`subject:"order broken"`, "description:late", "renamed", `"warranty invoice" -refund`, "refund order_by:created_at sort:asc"}
	answers := func() []string {
		t.Helper()
		var out []string
		for _, qs := range queries {
			q, err := Parse(qs)
			if err != nil {
				t.Fatal(err)
			}
			for page := range 3 {
				res, err := s.Search(ctx, db.R(), Request{Account: acct, Actor: admin, Query: q, Kind: Tickets, Now: time.Now(), Offset: 15 * page, Limit: 15, Count: true, Desc: true})
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprintf("%s page %d: %v count %d capped %v more %v", qs, page, res.Hits, res.Count, res.Capped, res.More))
			}
		}
		return out
	}
	before := answers()
	tb, cb := segments()

	// The merges, while writes of other words commit: each is found at once.
	var wg sync.WaitGroup
	var mergeErr error
	var steps int
	wg.Go(func() {
		for {
			n, done, err := db.MergeFTS(ctx)
			steps += n
			if err != nil || done {
				mergeErr = err
				return
			}
		}
	})
	for id := int64(n + 1); id <= n+40; id++ {
		marker := fmt.Sprintf("marker%dx", id)
		if err := write(id, marker, "quiet", marker); err != nil {
			t.Fatal(err)
		}
		q, err := Parse(marker)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Search(ctx, db.R(), Request{Account: acct, Actor: admin, Query: q, Kind: Tickets, Now: time.Now(), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) != 1 || res.Hits[0].ID != id {
			t.Fatalf("search %q during the merges: %v, want ticket %d", marker, res.Hits, id)
		}
	}
	wg.Wait()
	if mergeErr != nil {
		t.Fatal(mergeErr)
	}
	// Then until nothing is left (the writes above added segments).
	for {
		m, done, err := db.MergeFTS(ctx)
		if err != nil {
			t.Fatal(err)
		}
		steps += m
		if done {
			break
		}
	}
	if m, done, err := db.MergeFTS(ctx); err != nil || !done || m != 0 {
		t.Fatalf("MergeFTS once merged: %d steps, done %v, %v; want nothing left", m, done, err)
	}
	ta, ca := segments()
	t.Logf("segments: tickets_fts %d -> %d, ticket_comments_fts %d -> %d (%d merge steps)", tb, ta, cb, ca, steps)
	if steps == 0 || ta >= tb || ca >= cb {
		t.Errorf("segments: tickets_fts %d -> %d, ticket_comments_fts %d -> %d in %d merge steps; want fewer", tb, ta, cb, ca, steps)
	}
	if got := answers(); fmt.Sprint(got) != fmt.Sprint(before) {
		for i := range before {
			if got[i] != before[i] {
				t.Errorf("after the merges:\n got %s\nwant %s", got[i], before[i])
			}
		}
	}
	err = db.Write(ctx, func(tx *store.Tx) error {
		for _, fts := range []string{"tickets_fts", "ticket_comments_fts"} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+fts+` (`+fts+`, rank) VALUES ('integrity-check', 1)`); err != nil {
				return fmt.Errorf("%s: %w", fts, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
