package delivery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// outboxTable is one client's outbox as the head triggers of migration 0033 know it: its
// lane columns (as the client's Spec.Lane names them) and how to insert a pending row of
// lane (x, y).
type outboxTable struct {
	name   string
	lane   []string
	insert func(x, y, n int, due int64) (string, []any)
}

var outboxTables = []outboxTable{
	{"sharing_outbox", []string{"agreement_id", "share_id"}, func(x, y, _ int, due int64) (string, []any) {
		return `INSERT INTO sharing_outbox (account_id, agreement_id, share_id, ticket_id, kind, method, url, body, status, next_attempt_at, created_at)
			VALUES (1, ?, ?, 0, 'update', 'PUT', 'http://partner.test/sharing', '', 'pending', ?, 0) RETURNING id`, []any{x, y, due}
	}},
	{"sharing_attachment_fetches", []string{"account_id", "share_id"}, func(x, y, n int, due int64) (string, []any) {
		return `INSERT INTO sharing_attachment_fetches (account_id, agreement_id, share_id, ticket_id, comment_id, author_id, attachment_uuid, url, file_name, status, next_attempt_at, created_at)
			VALUES (?, 1, ?, 1, 1, 1, ?, 'http://partner.test/f', 'f.txt', 'pending', ?, 0) RETURNING id`, []any{x, y, fmt.Sprint(n), due}
	}},
	{"mail_outbox", []string{"account_id", "ticket_id", "rcpt_to"}, func(x, y, _ int, due int64) (string, []any) {
		return `INSERT INTO mail_outbox (account_id, ticket_id, kind, mail_from, rcpt_to, subject, message_id, text_body, message, status, next_attempt_at, created_at)
			VALUES (1, ?, 'reply', 'desk@acme.test', ?, 's', 'm', '', '', 'pending', ?, 0) RETURNING id`, []any{x, fmt.Sprintf("r%d@example.test", y), due}
	}},
	{"webhook_outbox", []string{"webhook_id", "lane"}, func(x, y, n int, due int64) (string, []any) {
		return `INSERT INTO webhook_outbox (account_id, webhook_id, invocation_id, lane, event_type, body, status, next_attempt_at, created_at)
			VALUES (1, ?, ?, ?, 'e', '', 'pending', ?, 0) RETURNING id`, []any{fmt.Sprint(x), fmt.Sprint(n), fmt.Sprint(y), due}
	}},
	{"ai_outbox", []string{"account_id", "ticket_id"}, func(x, y, _ int, due int64) (string, []any) {
		return `INSERT INTO ai_outbox (account_id, ticket_id, kind, status, next_attempt_at, created_at) VALUES (?, ?, 'triage', 'pending', ?, 0) RETURNING id`, []any{x, y, due}
	}},
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testQueue(db *store.DB, tb outboxTable, deliver func(context.Context, Job[struct{}]) Result) *Queue[struct{}] {
	return New(db, Spec[struct{}]{Name: "test", Table: tb.name, Lane: tb.lane,
		Fields: func(*struct{}) []any { return nil }, Deliver: deliver},
		Config{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, discard())
}

// TestClaimReadsLaneHeads is a property test of the head bookkeeping: random enqueues,
// claims, outcomes (delivered, dead, kept, retried now or later, deferred, released),
// cancellations and deletions across a few lanes of every outbox table. After each step
// the pending rows marked head are exactly the first pending row of each lane, and every
// claim returns exactly the lanes' first rows that are due and not in flight.
func TestClaimReadsLaneHeads(t *testing.T) {
	for _, tb := range outboxTables {
		t.Run(tb.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				checkHeads(t, db, tb, rand.New(rand.NewPCG(17, uint64(len(tb.name)))))
			})
		})
	}
}

type modelRow struct {
	lane   [2]int
	due    bool // next_attempt_at is now, not in an hour
	leased bool
}

func checkHeads(t *testing.T, db *store.DB, tb outboxTable, rng *rand.Rand) {
	ctx := context.Background()
	q := testQueue(db, tb, nil)
	pending := map[int64]*modelRow{} // the model: pending rows
	jobs := map[int64]Job[struct{}]{}
	later := store.Micros(store.Now().Add(time.Hour))
	serial := 0 // unique columns (invocation_id, attachment_uuid)
	exec := func(sql string, args ...any) {
		t.Helper()
		if err := db.Write(ctx, func(tx *store.Tx) error { _, err := tx.ExecContext(ctx, sql, args...); return err }); err != nil {
			t.Fatal(err)
		}
	}
	firsts := func() map[[2]int]int64 { // lane -> its first pending row
		out := map[[2]int]int64{}
		for id, r := range pending {
			if f, ok := out[r.lane]; !ok || id < f {
				out[r.lane] = id
			}
		}
		return out
	}
	pick := func(leased bool) (int64, bool) {
		var ids []int64
		for id, r := range pending {
			if r.leased == leased {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return 0, false
		}
		slices.Sort(ids)
		return ids[rng.IntN(len(ids))], true
	}
	for step := range 120 {
		var what string
		switch op := rng.IntN(10); {
		case op < 4: // enqueue, in a transaction of one to three rows
			what = "enqueue"
			err := db.Write(ctx, func(tx *store.Tx) error {
				for range 1 + rng.IntN(3) {
					lane := [2]int{1 + rng.IntN(2), 1 + rng.IntN(3)}
					due := rng.IntN(5) > 0
					at := int64(0)
					if !due {
						at = later
					}
					serial++
					sql, args := tb.insert(lane[0], lane[1], serial, at)
					var id int64
					if err := tx.QueryRowContext(ctx, sql, args...).Scan(&id); err != nil {
						return err
					}
					pending[id] = &modelRow{lane: lane, due: due}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		case op < 6: // claim
			what = "claim"
			want := []int64{}
			busy := map[[2]int]bool{}
			for _, r := range pending {
				if r.leased {
					busy[r.lane] = true
				}
			}
			for lane, id := range firsts() {
				if pending[id].due && !busy[lane] {
					want = append(want, id)
				}
			}
			got, err := q.claim(ctx, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []int64
			for _, j := range got {
				gotIDs = append(gotIDs, j.ID)
				jobs[j.ID] = j
				if r := pending[j.ID]; r != nil {
					r.leased = true
				}
			}
			slices.Sort(want)
			slices.Sort(gotIDs)
			if !slices.Equal(gotIDs, want) {
				t.Fatalf("step %d: claim returned %v, want the due lane heads not in flight %v", step, gotIDs, want)
			}
		case op < 8: // an outcome for a job in flight
			id, ok := pick(true)
			if !ok {
				continue
			}
			r, j := pending[id], jobs[id]
			switch rng.IntN(7) {
			case 0, 1:
				what = "delivered"
				q.finish(ctx, j, "delivered", "", 0)
				delete(pending, id)
			case 2:
				what = "dead"
				q.finish(ctx, j, "dead", "no", 0)
				delete(pending, id)
			case 3:
				what = "kept"
				q.finish(ctx, j, "kept", "", 0)
				delete(pending, id)
			case 4:
				what = "retry"
				due := rng.IntN(2) == 0
				delay := time.Hour
				if due {
					delay = -time.Second
				}
				q.finish(ctx, j, "pending", "later", delay)
				r.leased, r.due = false, due
			case 5:
				what = "deferred"
				q.deferJob(ctx, j, time.Hour)
				r.leased, r.due = false, false
			default:
				what = "released"
				q.release(j)
				r.leased = false
			}
		case op < 9: // the client cancels a row not in flight
			id, ok := pick(false)
			if !ok {
				continue
			}
			what = "cancel"
			exec(`UPDATE `+tb.name+` SET status = 'cancelled' WHERE id = ?`, id)
			delete(pending, id)
		default: // a pending row deleted
			id, ok := pick(false)
			if !ok {
				continue
			}
			what = "delete"
			exec(`DELETE FROM `+tb.name+` WHERE id = ?`, id)
			delete(pending, id)
		}
		var heads []int64
		rows, err := db.R().QueryContext(ctx, `SELECT id FROM `+tb.name+` WHERE status = 'pending' AND head ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			heads = append(heads, id)
		}
		rows.Close()
		want := []int64{}
		for _, id := range firsts() {
			want = append(want, id)
		}
		slices.Sort(want)
		if !slices.Equal(heads, want) && !(len(heads) == 0 && len(want) == 0) {
			t.Fatalf("step %d (%s): pending rows marked head %v, want the first pending row of each lane %v", step, what, heads, want)
		}
	}
}

// TestTwoQueuesDeliverEachRowOnce runs two queues on one database (two processes on
// PostgreSQL) while transactions keep adding rows to the lanes being delivered, some
// attempts failing and being retried: every row is delivered once, each lane in order,
// never two of a lane at once, and no writer fails (a deadlock between writers adding
// rows to two lanes and the queue's claims and outcomes would). It is where a row written
// while its lane's head finishes would be left unmarked and never delivered. On the
// webhook outbox, and on sharing's (whose head locks migration 0060 changed with the
// others).
func TestTwoQueuesDeliverEachRowOnce(t *testing.T) {
	t.Parallel()
	const lanes, perLane = 12, 25
	for _, tb := range []outboxTable{outboxTables[3], outboxTables[0]} {
		for _, d := range storetest.Dialects() {
			t.Run(tb.name+"/"+string(d), func(t *testing.T) { twoQueues(t, d, tb, lanes, perLane) })
		}
	}
}

func twoQueues(t *testing.T, d store.Dialect, tb outboxTable, lanes, perLane int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := storetest.Options(t, d)
	db, err := store.Open(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	second := db // SQLite: one process owns the file; two queues in it
	if d == store.Postgres {
		if second, err = store.Open(ctx, opt); err != nil {
			t.Fatal(err)
		}
		defer second.Close()
	}
	{
		laneOf := `SELECT CAST(` + tb.lane[0] + ` AS TEXT) || '/' || CAST(` + tb.lane[1] + ` AS TEXT) FROM ` + tb.name + ` WHERE id = ?`
		var (
			mu        sync.Mutex
			inFlight  = map[string]bool{}
			delivered = map[int64]int{}
			last      = map[string]int64{}
			problems  []string
			attempts  atomic.Int64
		)
		deliver := func(_ context.Context, j Job[struct{}]) Result {
			var lane string
			if err := db.R().QueryRowContext(ctx, laneOf, j.ID).Scan(&lane); err != nil {
				return Result{Outcome: Retry, Reason: err.Error()}
			}
			mu.Lock()
			if inFlight[lane] {
				problems = append(problems, fmt.Sprintf("row %d: lane %s already has a delivery in flight", j.ID, lane))
			}
			inFlight[lane] = true
			mu.Unlock()
			fail := attempts.Add(1)%7 == 0
			mu.Lock()
			defer mu.Unlock()
			inFlight[lane] = false
			if fail {
				return Result{Outcome: Retry, Reason: "try again"}
			}
			delivered[j.ID]++
			if j.ID < last[lane] {
				problems = append(problems, fmt.Sprintf("row %d delivered after row %d of lane %s", j.ID, last[lane], lane))
			}
			last[lane] = j.ID
			return Result{Outcome: Delivered}
		}
		queues := []*Queue[struct{}]{testQueue(db, tb, deliver), testQueue(second, tb, deliver)}
		var wg sync.WaitGroup
		for _, q := range queues {
			wg.Go(func() { q.Run(ctx) })
		}
		// Three writers, each owning four lanes (a lane's rows are written in order), each
		// transaction adding a row to two of its lanes.
		var writers sync.WaitGroup
		var total atomic.Int64
		for w := range 3 {
			writers.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 3))
				for n := range lanes / 3 * perLane / 2 {
					err := db.Write(ctx, func(tx *store.Tx) error {
						for k := range 2 {
							lane := w*lanes/3 + rng.IntN(lanes/3)
							sql, args := tb.insert(lane, 0, w*100000+n*2+k, 0)
							var id int64
							if err := tx.QueryRowContext(ctx, sql, args...).Scan(&id); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
					total.Add(2)
					queues[n%2].Wake()
				}
			})
		}
		writers.Wait()
		deadline := time.Now().Add(time.Minute)
		for !queues[0].Drained(ctx) {
			if time.Now().After(deadline) {
				var left string
				_ = db.R().QueryRowContext(ctx, `SELECT COALESCE(string_agg(CAST(id AS TEXT) || ':' || CAST(head AS TEXT) || ':' || CAST(lease_until AS TEXT) || ':' || CAST(next_attempt_at AS TEXT), ' '), '') FROM `+tb.name+` WHERE status = 'pending'`).Scan(&left)
				t.Fatalf("queue not drained after a minute; pending (id:head:lease:due): %s", left)
			}
			time.Sleep(5 * time.Millisecond) // waiting on the condition, not for a time
		}
		cancel()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Error(p)
		}
		if int64(len(delivered)) != total.Load() {
			t.Errorf("%d rows delivered, %d written", len(delivered), total.Load())
		}
		for id, n := range delivered {
			if n != 1 {
				t.Errorf("row %d delivered %d times", id, n)
			}
		}
	}
}
