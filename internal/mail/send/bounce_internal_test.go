package send

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"tandem/internal/account"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestBounceClearWhileLanesMove: an address bounces and is cleared while its mail moves
// in several delivery lanes (one per ticket) at once: the worker records the outcome of
// each lane's head, agents clear the address twice (the admin page and the API), and
// delivery reports for two of its mails are read back. On PostgreSQL clearing puts the
// held rows of every lane back to pending, whose head triggers lock the rows ahead of
// them, while a report marks the address bouncing again and fails its mail: none of
// these may fail (a deadlock would fail one), and afterwards every lane with pending
// mail has exactly one head, its first pending row.
func TestBounceClearWhileLanesMove(t *testing.T) {
	const rounds, lanes = 4, 8
	const to = "gone@customer.test"
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, err := New(db, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), Config{Relay: "smtp://127.0.0.1:1"})
		if err != nil {
			t.Fatal(err)
		}
		acct := &account.Account{ID: 1, Subdomain: "acme"}
		seq := 0
		insert := func(tx *store.Tx, ticketID int, status, token string) error {
			seq++
			now := store.Micros(store.Now())
			_, err := tx.ExecContext(ctx, `INSERT INTO mail_outbox (account_id, ticket_id, kind, mail_from, rcpt_to, subject, message_id, text_body, message, attachments, envelope_from, verp_token, status, next_attempt_at, created_at)
				VALUES (1, ?, 'notification', 'support@acme.test', ?, 's', ?, 't', 'm', '', '', ?, ?, ?, ?)`,
				ticketID, to, fmt.Sprintf("<%d@acme.test>", seq), token, status, now, now)
			return err
		}
		for round := range rounds {
			var tokens []string
			err := db.Write(ctx, func(tx *store.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO mail_bounces (account_id, email, status, reason, outbox_id, created_at) VALUES (1, ?, '5.1.1', 'no such mailbox', 0, 0)`, to); err != nil {
					return err
				}
				// Lanes 1..lanes (tickets) interleaved: two pending rows, then three held
				// ones, each lane's rows apart from each other. Lane 0 (mail about no
				// ticket) has the mails the reports name, one sent and one still pending,
				// and two held behind them.
				for _, status := range []string{"pending", "pending", "held", "held", "held"} {
					for l := 1; l <= lanes; l++ {
						if err := insert(tx, round*lanes+l, status, ""); err != nil {
							return err
						}
					}
				}
				for i, status := range []string{"delivered", "pending"} {
					tok := fmt.Sprintf("r%dt%d", round, i)
					tokens = append(tokens, tok)
					if err := insert(tx, 0, status, tok); err != nil {
						return err
					}
				}
				for range 2 {
					if err := insert(tx, 0, "held", ""); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// The worker claims the heads: on PostgreSQL each head's new row version now
			// lies after the rows behind it.
			var jobs []int64
			rows, err := db.R().QueryContext(ctx, `SELECT id FROM mail_outbox WHERE status = 'pending' AND head ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int64
				_ = rows.Scan(&id)
				jobs = append(jobs, id)
			}
			rows.Close()
			if _, err := db.R().ExecContext(ctx, `UPDATE mail_outbox SET lease_owner = 'w', lease_until = ? WHERE status = 'pending' AND head`, store.Micros(store.Now())+60e6); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			fail := func(what string, err error) {
				if err != nil {
					t.Errorf("round %d: %s: %v", round, what, err)
				}
			}
			for _, id := range jobs {
				wg.Go(func() {
					<-start
					fail("record delivery", db.Write(ctx, func(tx *store.Tx) error {
						_, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET status = 'delivered', attempts = attempts + 1, lease_owner = '', lease_until = 0 WHERE id = ?`, id)
						return err
					}))
				})
			}
			for range 2 {
				wg.Go(func() {
					<-start
					_, err := s.ClearBounce(ctx, acct.ID, to)
					fail("clear", err)
				})
			}
			for _, tok := range tokens {
				wg.Go(func() {
					<-start
					fail("record bounce", db.Write(ctx, func(tx *store.Tx) error {
						_, err := s.RecordBounce(ctx, tx, acct, Bounce{Token: tok, Status: "5.1.1", Reason: "no such mailbox", Hard: true})
						return err
					}))
				})
			}
			close(start)
			wg.Wait()
			// Every lane with pending mail has one head, its first pending row.
			var bad int
			err = db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_outbox o WHERE o.status = 'pending' AND o.head <>
				NOT EXISTS (SELECT 1 FROM mail_outbox p WHERE p.status = 'pending' AND p.account_id = o.account_id AND p.ticket_id = o.ticket_id AND p.rcpt_to = o.rcpt_to AND p.id < o.id)`).Scan(&bad)
			if err != nil {
				t.Fatal(err)
			}
			if bad != 0 {
				t.Errorf("round %d: %d pending rows with a wrong head mark", round, bad)
			}
			if _, err := db.R().ExecContext(ctx, `DELETE FROM mail_bounces`); err != nil {
				t.Fatal(err)
			}
		}
	})
}
