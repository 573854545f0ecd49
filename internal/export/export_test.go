package export

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// newAccount creates an account with an admin to write as.
func newAccount(t *testing.T, db *store.DB, sub string) (*account.Account, ticket.Actor) {
	t.Helper()
	ctx := context.Background()
	var acct *account.Account
	var actor ticket.Actor
	err := db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if acct, err = account.Create(ctx, tx, sub, sub, account.Enterprise); err != nil {
			return err
		}
		u := &identity.User{AccountID: acct.ID, Name: "Ada", Email: "ada@" + sub + ".test", Role: identity.Admin, Verified: true}
		if err := identity.Insert(ctx, tx, u); err != nil {
			return err
		}
		actor = ticket.Actor{UserID: u.ID, Role: identity.Admin, Name: u.Name}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return acct, actor
}

// walker follows one export the way a sync does: it keeps polling from where its last
// page ended, and records every change it was given.
type walker struct {
	name string
	page func(ctx context.Context) (changes []Change, eos bool, err error)
	seen map[int64]map[int64]bool // record id -> change numbers seen
}

func (w *walker) run(ctx context.Context, writersDone *atomic.Bool) error {
	w.seen = map[int64]map[int64]bool{}
	for pages := 0; ; pages++ {
		if pages > 100000 {
			return fmt.Errorf("%s: no end of stream after %d pages", w.name, pages)
		}
		done := writersDone.Load() // before the page: a page read after every write has ended
		changes, eos, err := w.page(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
		for _, c := range changes {
			if w.seen[c.ID] == nil {
				w.seen[c.ID] = map[int64]bool{}
			}
			w.seen[c.ID][c.Pos.Seq] = true
		}
		if eos && done {
			return nil
		}
	}
}

func timeWalker(e *Exporter, acct ids.Account, kind Kind, perPage int) *walker {
	var start int64
	return &walker{name: fmt.Sprintf("time-based kind %d", kind), page: func(ctx context.Context) ([]Change, bool, error) {
		p, err := e.Time(ctx, acct, kind, start, perPage)
		if err != nil {
			return nil, false, err
		}
		if p.EndTime < start {
			return nil, false, fmt.Errorf("end_time %d went back from start_time %d", p.EndTime, start)
		}
		start = p.EndTime
		return p.Changes, p.EndOfStream, nil
	}}
}

func cursorWalker(e *Exporter, acct ids.Account, kind Kind, perPage int) *walker {
	var cur string
	return &walker{name: fmt.Sprintf("cursor-based kind %d", kind), page: func(ctx context.Context) ([]Change, bool, error) {
		from := StartPos(0)
		if cur != "" {
			var err error
			if from, err = e.DecodeCursor(ctx, acct, kind, cur); err != nil {
				return nil, false, err
			}
		}
		p, err := e.Cursor(ctx, acct, kind, from, perPage)
		if err != nil {
			return nil, false, err
		}
		if cur, err = e.EncodeCursor(ctx, acct, kind, p.After); err != nil {
			return nil, false, err
		}
		return p.Changes, p.EndOfStream, nil
	}}
}

// TestExportsMissNothingUnderConcurrentWrites is the property exports promise: random
// writers create and update tickets through the ticket write path while exporters walk
// (time-based and cursor-based, tickets and ticket events) from time 0 and keep polling;
// once the writers have stopped and each walk has reached the end of the stream, every
// ticket's last change, and every audit, must have been returned. A change number
// handed out before commit and made visible out of order would be skipped by a walk
// that had already passed it; the test runs several rounds to give that a chance. On
// PostgreSQL a dozen writers of the one account commit at once, in any order of their
// change numbers (migration 0041), and the live count must still add up.
func TestExportsMissNothingUnderConcurrentWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := ticket.NewService(db)
		e := New(db, 0)
		// Only the exact rules here: a second is left only once the clock has left it.
		// (The time-based rule for an idle clock assumes commits are quicker than the
		// settle time, which a loaded machine under -race does not promise.)
		e.settle = time.Hour
		if db.Dialect == store.Postgres {
			// Widen the window between a change's number (taken at COMMIT) and the end
			// of its commit, where a page could see a higher number committed first:
			// a deferred trigger that fires after the export's (same event, later name).
			err := db.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `CREATE FUNCTION test_commit_delay() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN PERFORM pg_sleep(random() * 0.003); RETURN NULL; END $$;
					CREATE CONSTRAINT TRIGGER tickets_export_z_delay AFTER INSERT OR UPDATE ON tickets
					DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_commit_delay()`)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		for round := range 2 {
			acct, actor := newAccount(t, db, fmt.Sprintf("prop%d", round))
			var (
				mu      sync.Mutex
				tickets []ids.Ticket
			)
			create := func(tx *store.Tx, n int) error {
				subj := fmt.Sprintf("ticket %d", n)
				res, err := svc.Write(ctx, tx, acct, actor, 0, &ticket.Patch{Subject: &subj, Comment: &ticket.CommentInput{Body: "first"}})
				if err == nil {
					tx.AfterCommit(func() { mu.Lock(); tickets = append(tickets, res.Ticket.ID); mu.Unlock() })
				}
				return err
			}
			for i := range 5 {
				if err := db.Write(ctx, func(tx *store.Tx) error { return create(tx, i) }); err != nil {
					t.Fatal(err)
				}
			}

			var writersDone atomic.Bool
			walkers := []*walker{
				timeWalker(e, acct.ID, Tickets, 4), cursorWalker(e, acct.ID, Tickets, 3),
				timeWalker(e, acct.ID, TicketEvents, 5),
			}
			errc := make(chan error, len(walkers)+4)
			var walks sync.WaitGroup
			for _, w := range walkers {
				walks.Go(func() { errc <- w.run(ctx, &writersDone) })
			}
			// PostgreSQL commits an account's writes at once (no lock shared by its
			// writers since migration 0041), so many writers there; SQLite has one.
			nWriters := 4
			if db.Dialect == store.Postgres {
				nWriters = 12
			}
			var writers sync.WaitGroup
			for wr := range nWriters {
				writers.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(round), uint64(wr)))
					for op := range 20 {
						err := db.Write(ctx, func(tx *store.Tx) error {
							mu.Lock()
							n := len(tickets)
							var id ids.Ticket
							if n > 0 {
								id = tickets[rng.IntN(n)]
							}
							mu.Unlock()
							if n == 0 || rng.IntN(4) == 0 {
								return create(tx, 100*wr+op)
							}
							subj := fmt.Sprintf("w%d op%d", wr, op)
							if _, err := svc.Write(ctx, tx, acct, actor, id, &ticket.Patch{Subject: &subj}); err != nil {
								return err
							}
							// Hold the transaction open a little after the write, so that
							// other writers commit around it (PostgreSQL runs them at once).
							if db.Dialect == store.Postgres && rng.IntN(3) == 0 {
								time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
							}
							return nil
						})
						if err != nil {
							errc <- fmt.Errorf("writer %d: %w", wr, err)
							return
						}
					}
				})
			}
			writers.Wait()
			writersDone.Store(true)
			walks.Wait()
			close(errc)
			for err := range errc {
				if err != nil {
					t.Fatal(err)
				}
			}

			// What each walk must have been given: the last change of every ticket and
			// of every audit (audits never change, so: every audit).
			last := map[Kind]map[int64]int64{Tickets: {}, TicketEvents: {}}
			rows, err := db.R().QueryContext(ctx, `SELECT kind, row_id, seq FROM export_changes WHERE account_id = ? AND kind IN (1, 4)`, acct.ID)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k Kind
				var id, seq int64
				if err := rows.Scan(&k, &id, &seq); err != nil {
					t.Fatal(err)
				}
				last[k][id] = seq
			}
			rows.Close()
			if len(last[Tickets]) != len(tickets) || len(tickets) < 20 {
				t.Fatalf("round %d: %d tickets in the change log, %d created", round, len(last[Tickets]), len(tickets))
			}
			// The live count, whose creates share no row on PostgreSQL (migration 0044).
			if live, err := ticket.LiveCount(ctx, db.R(), acct.ID); err != nil || live != len(tickets) {
				t.Fatalf("round %d: live count %d (%v), %d tickets created", round, live, err, len(tickets))
			}
			kinds := []Kind{Tickets, Tickets, TicketEvents}
			for i, w := range walkers {
				for id, seq := range last[kinds[i]] {
					if !w.seen[id][seq] {
						t.Errorf("round %d, %s: record %d's last change (number %d) was never exported; saw %v", round, w.name, id, seq, w.seen[id])
					}
				}
			}
		}
	})
}

// stamp puts changes of kind into the log directly, at the given seconds, and moves
// the clock to the newest (or to clock, when later).
func stamp(t *testing.T, db *store.DB, acct ids.Account, kind Kind, clock int64, seconds ...int64) {
	t.Helper()
	ctx := context.Background()
	err := db.Write(ctx, func(tx *store.Tx) error {
		var seq, top int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM export_changes WHERE account_id = ?`, acct).Scan(&seq); err != nil {
			return err
		}
		for _, s := range seconds {
			seq++
			top = max(top, s)
			if _, err := tx.ExecContext(ctx, `INSERT INTO export_changes (account_id, kind, row_id, seq, ts) VALUES (?, ?, ?, ?, ?)`, acct, int(kind), seq, seq, s); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO export_clock (account_id, seq, ts) VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts`, acct, seq, max(top, clock))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func stamps(cs []Change) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.Pos.TS
	}
	return out
}

// TestTimePages pins the time-based page rules on changes stamped at chosen seconds.
func TestTimePages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := New(db, 0)
		now := time.Unix(106, 0)
		e.now = func() time.Time { return now }
		// The page rules under a horizon the test moves (stamp's clock), on both
		// databases; the database's own horizon is the concurrent test's.
		e.clock = func(ctx context.Context, acct ids.Account) (Pos, error) { return clockRow(ctx, db.R(), acct) }
		acct, _ := newAccount(t, db, "pages")
		const kind = Organizations + 10 // a kind nothing else writes
		stamp(t, db, acct.ID, kind, 0, 100, 100, 101, 101, 101, 102, 105, 105, 105, 105, 105)

		// A page ends at its last change's second, which the next page starts at:
		// changes of that second come twice (Zendesk's boundary duplicates).
		p, err := e.Time(ctx, acct.ID, kind, 0, 4)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(stamps(p.Changes)) != "[100 100 101 101]" || p.EndTime != 101 || p.EndOfStream {
			t.Fatalf("first page %v end %d eos %v", stamps(p.Changes), p.EndTime, p.EndOfStream)
		}
		p, _ = e.Time(ctx, acct.ID, kind, p.EndTime, 4)
		if fmt.Sprint(stamps(p.Changes)) != "[101 101 101 102]" || p.EndTime != 102 {
			t.Fatalf("second page %v end %d", stamps(p.Changes), p.EndTime)
		}
		// A page that is all one second takes the whole second and moves past it.
		p, _ = e.Time(ctx, acct.ID, kind, 105, 2)
		if len(p.Changes) != 5 || p.EndTime != 105 || !p.EndOfStream {
			// 105 is the clock: something may still be stamped in it, so the walk
			// may not move past it yet.
			t.Fatalf("page of the clock's second: %v end %d eos %v", stamps(p.Changes), p.EndTime, p.EndOfStream)
		}
		stamp(t, db, acct.ID, kind, 0, 107)
		now = time.Unix(108, 0)
		p, _ = e.Time(ctx, acct.ID, kind, 105, 2)
		if len(p.Changes) != 5 || p.EndTime != 106 || p.EndOfStream {
			t.Fatalf("page of a past second: %v end %d eos %v", stamps(p.Changes), p.EndTime, p.EndOfStream)
		}
		// Once settled, a second is left even while the clock stays in it.
		stamp(t, db, acct.ID, kind+2, 0, 400, 400, 400)
		now = time.Unix(402, 0)
		if p, _ = e.Time(ctx, acct.ID, kind+2, 0, 2); len(p.Changes) != 3 || p.EndTime != 400 {
			t.Fatalf("unsettled second: %v end %d", stamps(p.Changes), p.EndTime)
		}
		now = time.Unix(406, 0)
		if p, _ = e.Time(ctx, acct.ID, kind+2, 0, 2); len(p.Changes) != 3 || p.EndTime != 401 || !p.EndOfStream {
			t.Fatalf("settled second: %v end %d eos %v", stamps(p.Changes), p.EndTime, p.EndOfStream)
		}
		// At the end of the stream, the next start is the clock's second.
		now = time.Unix(600, 0)
		stamp(t, db, acct.ID, Organizations+11, 500, 150)
		p, _ = e.Time(ctx, acct.ID, kind, 106, 10)
		if fmt.Sprint(stamps(p.Changes)) != "[107]" || p.EndTime != 500 || !p.EndOfStream {
			t.Fatalf("last page %v end %d eos %v", stamps(p.Changes), p.EndTime, p.EndOfStream)
		}
	})
}

// TestLag: changes younger than the lag wait, and so does a start_time inside it.
func TestLag(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	e := New(db, time.Minute)
	now := time.Unix(10_000, 0)
	e.now = func() time.Time { return now }
	acct, _ := newAccount(t, db, "lag")
	const kind = Organizations + 10
	stamp(t, db, acct.ID, kind, 0, 9_000, 9_950)
	if err := e.CheckStart(9_990); err == nil || !strings.Contains(err.Error(), "Too recent start_time") {
		t.Fatalf("start_time inside the lag: %v", err)
	}
	p, err := e.Time(ctx, acct.ID, kind, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(stamps(p.Changes)) != "[9000]" || p.EndTime != 9_941 || !p.EndOfStream {
		t.Fatalf("page %v end %d eos %v", stamps(p.Changes), p.EndTime, p.EndOfStream)
	}
	now = now.Add(time.Minute)
	c, _ := e.Cursor(ctx, acct.ID, kind, StartPos(9_941), 10)
	if fmt.Sprint(stamps(c.Changes)) != "[9950]" {
		t.Fatalf("a minute later: %v", stamps(c.Changes))
	}
}
