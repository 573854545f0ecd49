package rules_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// insertTriggers bulk-inserts n active triggers that do not match the benchmark's
// updates (their conditions are the usual kinds: status, tags, words, channel,
// organization), then marks the account's triggers changed.
func insertTriggers(b *testing.B, r *rig, n int) {
	b.Helper()
	kinds := []string{
		`{"all":[{"field":"status","operator":"is","value":"hold"},{"field":"current_tags","operator":"includes","value":"tag_%d"}],"any":[]}`,
		`{"all":[{"field":"priority","operator":"is","value":"urgent"},{"field":"organization_id","operator":"is","value":"%d"}],"any":[]}`,
		`{"all":[{"field":"comment_includes_word","operator":"includes","value":"word%d refund"}],"any":[]}`,
		`{"all":[{"field":"update_type","operator":"is","value":"Create"},{"field":"via_id","operator":"is","value":"4"}],"any":[{"field":"current_tags","operator":"includes","value":"x%d"}]}`,
	}
	r.write(func(tx *store.Tx) error {
		now := store.Micros(store.Now())
		for i := range n {
			conds := fmt.Sprintf(kinds[i%len(kinds)], i)
			acts := fmt.Sprintf(`[{"field":"current_tags","value":"fired_%d"},{"field":"priority","value":"high"}]`, i)
			if _, err := tx.ExecContext(r.ctx, `INSERT INTO triggers (account_id, title, active, position, conditions, actions, created_at, updated_at) VALUES (?, ?, TRUE, ?, ?, ?, ?, ?)`,
				r.acct.ID, fmt.Sprintf("Trigger %d", i), i+1, conds, acts, now, now); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(r.ctx, `INSERT INTO rule_versions (account_id, triggers) VALUES (?, 1) ON CONFLICT (account_id) DO UPDATE SET triggers = rule_versions.triggers + 1`, r.acct.ID)
		return err
	})
}

// benchTriggers measures a ticket update through ticket.Service.Update with n active
// triggers on SQLite. hook-ns/op is the time spent in the rules hook alone.
func benchTriggers(b *testing.B, n int) {
	db := storetest.Open(b, store.SQLite)
	r := newRig(b, db, account.Enterprise)
	var hook time.Duration
	// Replace the rig's hook by a timed one (same service, so the same cache).
	r.tickets = ticket.NewService(db)
	r.tickets.Before(func(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
		start := time.Now()
		err := r.rules.Run(ctx, tx, ch)
		hook += time.Since(start)
		return err
	})
	insertTriggers(b, r, n)
	id := r.create(&ticket.Patch{}).Ticket.ID
	prios := []string{"low", "normal"}
	r.update(r.agent, id, &ticket.Patch{Priority: ticket.Ptr("urgent")}) // warm the cache
	hook = 0
	b.ResetTimer()
	for i := range b.N {
		p := &ticket.Patch{Priority: ticket.Ptr(prios[i%2]), Comment: &ticket.CommentInput{Body: "Any news?", Public: ticket.Ptr(i%3 != 0)}}
		res := r.update(r.agent, id, p)
		if len(res.Ticket.Tags) != 0 {
			b.Fatalf("a benchmark trigger fired: %v", res.Ticket.Tags)
		}
	}
	b.ReportMetric(float64(hook.Nanoseconds())/float64(b.N), "hook-ns/op")
}

func BenchmarkTriggers0(b *testing.B)    { benchTriggers(b, 0) }
func BenchmarkTriggers100(b *testing.B)  { benchTriggers(b, 100) }
func BenchmarkTriggers1000(b *testing.B) { benchTriggers(b, 1000) }

// seedViewTickets bulk-inserts n tickets (with tags and some shares) for view benchmarks.
func seedViewTickets(b *testing.B, r *rig, n int) {
	b.Helper()
	rnd := rand.New(rand.NewPCG(3, 5))
	out, in := r.agreement("outbound", "accepted"), r.agreement("inbound", "accepted")
	agents := []any{nil, int64(r.agent.UserID), int64(r.admin.UserID)}
	statuses := []string{"new", "open", "open", "pending", "hold", "solved", "closed", "closed"}
	prios := []any{nil, "low", "normal", "high", "urgent"}
	now := store.Now()
	const batch = 400
	for start := 0; start < n; start += batch {
		r.write(func(tx *store.Tx) error {
			var rows, tagRows, shareRows []string
			var args, tagArgs, shareArgs []any
			for i := start; i < min(start+batch, n); i++ {
				id := int64(i + 1)
				created := store.Micros(now.Add(-time.Duration(rnd.IntN(24*90)) * time.Hour))
				updated := created + rnd.Int64N(store.Micros(now)-created+1)
				rows = append(rows, "(?, ?, ?, ?, ?, ?, ?, ?, '[]', '{}', 5, ?, ?)")
				args = append(args, r.acct.ID, id, fmt.Sprintf("Ticket %d", id), pick(rnd, statuses), pick(rnd, prios), r.requester, r.requester, pick(rnd, agents), created, updated)
				for _, tag := range []string{"vip", "refund", "warranty_claim"} {
					if rnd.IntN(5) == 0 {
						tagRows = append(tagRows, "(?, ?, ?)")
						tagArgs = append(tagArgs, r.acct.ID, id, tag)
					}
				}
				if rnd.IntN(20) == 0 {
					dir, ag, state := "out", out, "active"
					if rnd.IntN(2) == 0 {
						dir, ag, state = "in", in, pick(rnd, []string{"active", "orphaned"})
					}
					shareRows = append(shareRows, "(?, ?, ?, ?, ?, ?, ?, ?)")
					shareArgs = append(shareArgs, r.acct.ID, id, ag, ticket.NewUUID(), dir, state, updated, updated)
				}
			}
			if _, err := tx.ExecContext(r.ctx, `INSERT INTO tickets (account_id, id, subject, status, priority, requester_id, submitter_id, assignee_id, tags, via, via_id, created_at, updated_at) VALUES `+strings.Join(rows, ", "), args...); err != nil {
				return err
			}
			if len(tagRows) > 0 {
				if _, err := tx.ExecContext(r.ctx, `INSERT INTO ticket_tags (account_id, ticket_id, tag) VALUES `+strings.Join(tagRows, ", "), tagArgs...); err != nil {
					return err
				}
			}
			if len(shareRows) > 0 {
				if _, err := tx.ExecContext(r.ctx, `INSERT INTO ticket_shares (account_id, ticket_id, agreement_id, uuid, direction, state, shared_at, updated_at) VALUES `+strings.Join(shareRows, ", "), shareArgs...); err != nil {
					return err
				}
			}
			return nil
		})
	}
	r.write(func(tx *store.Tx) error {
		// The live count sizes view plans (Query.walk), as it would in an account that
		// grew through the API.
		if err := ticket.AfterBulkInsert(r.ctx, tx, r.acct.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(r.ctx, `ANALYZE`)
		return err
	})
}

// BenchmarkViewExecute runs each default view (first page of 100 and its count) over
// 100,000 tickets on SQLite (TANDEM_BENCH_VIEW_TICKETS sets another size), as an
// unrestricted agent, and reports the first page's p50 and p99 and the count's mean.
func BenchmarkViewExecute(b *testing.B) {
	size := 100000
	if v, err := strconv.Atoi(os.Getenv("TANDEM_BENCH_VIEW_TICKETS")); err == nil && v > 0 {
		size = v
	}
	db := storetest.Open(b, store.SQLite)
	r := newRig(b, db, account.Enterprise)
	seedViewTickets(b, r, size)
	for _, v := range rules.DefaultViews() {
		if err := rules.ValidatePreview(r.ctx, db.R(), r.acct, &v.Conditions, &v.Output); err != nil {
			b.Fatal(err)
		}
		b.Run(strings.ReplaceAll(v.Title, " ", "_"), func(b *testing.B) {
			var n int64
			var pages []time.Duration
			var count time.Duration
			for range b.N {
				q, err := rules.CompileView(db.Dialect, r.acct.ID, r.agent, v.Conditions, v.Output, store.Now())
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if _, _, err := q.Tickets(r.ctx, db.R(), rules.Page{Size: 100}); err != nil {
					b.Fatal(err)
				}
				pages = append(pages, time.Since(start))
				start = time.Now()
				if n, err = q.Count(r.ctx, db.R()); err != nil {
					b.Fatal(err)
				}
				count += time.Since(start)
			}
			slices.Sort(pages)
			b.ReportMetric(float64(n), "tickets")
			b.ReportMetric(float64(pages[len(pages)/2].Microseconds()), "page-p50-µs")
			b.ReportMetric(float64(pages[len(pages)*99/100].Microseconds()), "page-p99-µs")
			b.ReportMetric(float64(count.Microseconds())/float64(b.N), "count-µs/op")
		})
	}
}
