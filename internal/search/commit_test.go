package search

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// TestSearchConsistentAtCommit: text written by concurrent writes (batched into shared
// transactions on SQLite, whose full-text rows are indexed once per batch just before it
// commits) is searchable the moment each write returns; a write that fails leaves no
// terms behind; a ticket inserted and renamed, soft deleted or whose comment is removed
// in the same write is found only as it committed; changes to tickets indexed by earlier
// batches replace their terms; and the FTS5 indexes stay exactly in step with their
// content (integrity-check).
func TestSearchConsistentAtCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var acct ids.Account
		err := db.Write(ctx, func(tx *store.Tx) error {
			return tx.QueryRowContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES ('acme', 'Acme', 'enterprise', 1, 1) RETURNING id`).Scan(&acct)
		})
		if err != nil {
			t.Fatal(err)
		}
		s := New(db)
		admin := ticket.Actor{UserID: 1, Role: identity.Admin}
		now := time.Now()
		found := func(text string) []int64 {
			t.Helper()
			q, err := Parse(text)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Search(ctx, db.R(), Request{Account: acct, Actor: admin, Query: q, Kind: Tickets, Now: now, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, h := range res.Hits {
				out = append(out, h.ID)
			}
			return out
		}
		expect := func(text string, want ...int64) error {
			got := found(text)
			if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
				return fmt.Errorf("search %q: %v, want %v", text, got, want)
			}
			return nil
		}
		refused := errors.New("refused")
		const n = 200
		var wg sync.WaitGroup
		failures := make(chan error, 4*n)
		for i := 1; i <= n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := int64(i)
				err := db.Write(ctx, func(tx *store.Tx) error {
					if _, err := tx.ExecContext(ctx, `INSERT INTO tickets (account_id, id, subject, description, status, requester_id, submitter_id, created_at, updated_at) VALUES (?, ?, ?, 'plain words', 'open', 1, 1, 1, 1)`,
						acct, id, fmt.Sprintf("subj%dx", i)); err != nil {
						return err
					}
					var cid int64
					if err := tx.QueryRowContext(ctx, `INSERT INTO ticket_comments (account_id, ticket_id, audit_id, author_id, body, html_body, plain_body, public, uuid, created_at) VALUES (?, ?, 0, 1, '', '', ?, TRUE, ?, 1) RETURNING id`,
						acct, id, fmt.Sprintf("body%dx", i), fmt.Sprint("u", i)).Scan(&cid); err != nil {
						return err
					}
					var err error
					switch i % 10 {
					case 3:
						return refused
					case 4:
						_, err = tx.ExecContext(ctx, `UPDATE tickets SET subject = ? WHERE account_id = ? AND id = ?`, fmt.Sprintf("renamed%dx", i), acct, id)
					case 6:
						_, err = tx.ExecContext(ctx, `UPDATE tickets SET deleted_at = 5 WHERE account_id = ? AND id = ?`, acct, id)
					case 8:
						_, err = tx.ExecContext(ctx, `DELETE FROM ticket_comments WHERE id = ?`, cid)
					}
					return err
				})
				if i%10 == 3 {
					if !errors.Is(err, refused) {
						failures <- fmt.Errorf("write %d: %v, want refused", i, err)
					}
					return
				}
				if err != nil {
					failures <- fmt.Errorf("write %d: %w", i, err)
					return
				}
				// At once, on a read connection: what the write committed is searchable.
				subj, body := fmt.Sprintf("subj%dx", i), fmt.Sprintf("body%dx", i)
				switch i % 10 {
				case 4:
					failures <- expect(subj)
					failures <- expect(fmt.Sprintf("renamed%dx", i), id)
					failures <- expect(body, id)
				case 6:
					failures <- expect(subj)
				case 8:
					failures <- expect(subj, id)
					failures <- expect(body)
				default:
					failures <- expect(subj, id)
					failures <- expect(body, id)
				}
			}()
		}
		wg.Wait()
		close(failures)
		for err := range failures {
			if err != nil {
				t.Error(err)
			}
		}
		for _, w := range []string{"subj3x", "body3x", "subj13x"} {
			if err := expect(w); err != nil {
				t.Errorf("a refused write left terms behind: %v", err)
			}
		}
		// Change rows indexed by earlier batches, concurrently: rename, soft delete,
		// restore, rewrite a comment.
		var wg2 sync.WaitGroup
		for i := 1; i <= 50; i++ {
			wg2.Add(1)
			go func() {
				defer wg2.Done()
				id := int64(i)
				err := db.Write(ctx, func(tx *store.Tx) error {
					var err error
					switch i % 4 {
					case 0:
						_, err = tx.ExecContext(ctx, `UPDATE tickets SET subject = ? WHERE account_id = ? AND id = ?`, fmt.Sprintf("later%dx", i), acct, id)
					case 1:
						_, err = tx.ExecContext(ctx, `UPDATE tickets SET deleted_at = 7 WHERE account_id = ? AND id = ?`, acct, id)
					case 2:
						_, err = tx.ExecContext(ctx, `UPDATE tickets SET deleted_at = 0 WHERE account_id = ? AND id = ?`, acct, id)
					case 3:
						_, err = tx.ExecContext(ctx, `UPDATE ticket_comments SET plain_body = ? WHERE account_id = ? AND ticket_id = ?`, fmt.Sprintf("rewritten%dx", i), acct, id)
					}
					return err
				})
				if err != nil {
					t.Errorf("change %d: %v", i, err)
				}
			}()
		}
		wg2.Wait()
		for _, c := range []struct {
			text string
			want []int64
		}{
			{"later20x", []int64{20}}, {"subj20x", nil}, // renamed
			{"later4x", []int64{4}}, {"renamed4x", nil}, // renamed when inserted, renamed again
			{"subj21x", nil},                                 // soft deleted
			{"subj6x", []int64{6}}, {"subj26x", []int64{26}}, // soft deleted when inserted, restored
			{"subj2x", []int64{2}}, {"renamed14x", []int64{14}}, // restored without having been deleted
			{"rewritten7x", []int64{7}}, {"body7x", nil}, // comment rewritten
		} {
			if err := expect(c.text, c.want...); err != nil {
				t.Error(err)
			}
		}
		checkIndex(t, db)
	})
}
