package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// BenchmarkEndUserManyOrganizations measures what an end user in 300 organizations
// (Professional) costs: the first page of the tickets they may see (their own and those
// of their organizations that share tickets, ticket.Scope, as /requests and the help
// center ask it) and its count, over an account of TANDEM_BENCH_VISIBILITY_TICKETS
// tickets (default 200,000) spread over 600 organizations, on SQLite and (with
// TANDEM_TEST_POSTGRES) PostgreSQL:
//
//	TANDEM_TEST_POSTGRES=... go test ./bench -run '^$' -bench EndUserManyOrganizations -benchtime 200x
func BenchmarkEndUserManyOrganizations(b *testing.B) {
	n := 200000
	if v, err := strconv.Atoi(os.Getenv("TANDEM_BENCH_VISIBILITY_TICKETS")); err == nil && v > 0 {
		n = v
	}
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b, d)
			acct, user, want := seedManyOrganizations(b, db, n)
			actor := ticket.Actor{UserID: user, Role: identity.EndUser}
			scope, sargs := ticket.Scope(d, acct, actor)
			where := "t.account_id = ? AND t.deleted_at = 0 AND " + scope
			args := append([]any{acct}, sargs...)
			page := `SELECT t.id FROM tickets t WHERE ` + where + ` ORDER BY t.updated_at DESC, t.id DESC LIMIT 100`
			var pages, counts []time.Duration
			for b.Loop() {
				start := time.Now()
				rows, err := db.R().QueryContext(ctx, page, args...)
				if err != nil {
					b.Fatal(err)
				}
				got := 0
				for rows.Next() {
					got++
				}
				if err := rows.Err(); err != nil {
					b.Fatal(err)
				}
				rows.Close()
				pages = append(pages, time.Since(start))
				start = time.Now()
				var total int
				if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets t WHERE `+where, args...).Scan(&total); err != nil {
					b.Fatal(err)
				}
				counts = append(counts, time.Since(start))
				if got != min(100, want) || total != want {
					b.Fatalf("page of %d and count %d, want %d visible tickets", got, total, want)
				}
			}
			slices.Sort(pages)
			slices.Sort(counts)
			b.ReportMetric(float64(want), "visible")
			b.ReportMetric(float64(pages[len(pages)/2].Microseconds()), "page-p50-µs")
			b.ReportMetric(float64(pages[len(pages)*99/100].Microseconds()), "page-p99-µs")
			b.ReportMetric(float64(counts[len(counts)/2].Microseconds()), "count-p50-µs")
			b.ReportMetric(float64(counts[len(counts)*99/100].Microseconds()), "count-p99-µs")
		})
	}
}

// seedManyOrganizations creates a Professional account with 600 organizations (every
// other one sharing tickets), an end user in the first 300 and n tickets from other
// requesters spread over all 600 (plus a few of the user's own). It returns the number of
// tickets the user may see.
func seedManyOrganizations(b *testing.B, db *store.DB, n int) (ids.Account, ids.User, int) {
	b.Helper()
	ctx := context.Background()
	var acct *account.Account
	var user, other ids.User
	const orgs = 600
	orgIDs := make([]int64, orgs)
	err := db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if acct, err = account.Create(ctx, tx, "many", "Many", account.Professional); err != nil {
			return err
		}
		for i, email := range []string{"eve@many.test", "someone@many.test"} {
			u := &identity.User{AccountID: acct.ID, Name: email, Email: email, Role: identity.EndUser, Verified: true}
			if err := identity.Insert(ctx, tx, u); err != nil {
				return err
			}
			if i == 0 {
				user = u.ID
			} else {
				other = u.ID
			}
		}
		now := store.Micros(time.Now())
		for i := range orgs {
			name := fmt.Sprintf("Org %03d", i+1)
			if err := tx.QueryRowContext(ctx, `INSERT INTO organizations (account_id, name, name_lower, shared_tickets, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
				acct.ID, name, strings.ToLower(name), i%2 == 0, now, now).Scan(&orgIDs[i]); err != nil {
				return err
			}
			if i < 300 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO organization_memberships (account_id, user_id, organization_id, is_default, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
					acct.ID, user, orgIDs[i], i == 0, now, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	visible := 0
	start := time.Now().Add(-time.Duration(n) * time.Second)
	const batch = 500
	for from := 0; from < n; from += batch {
		err := db.Write(ctx, func(tx *store.Tx) error {
			var rows []string
			var args []any
			for i := from; i < min(from+batch, n); i++ {
				o := i % orgs
				requester := other
				if i%1000 == 0 {
					requester = user
				}
				if requester == user || o < 300 && o%2 == 0 {
					visible++
				}
				at := store.Micros(start.Add(time.Duration(i) * time.Second))
				rows = append(rows, "(?, ?, 'A ticket', 'open', ?, ?, ?, ?, ?)")
				args = append(args, acct.ID, i+1, requester, requester, orgIDs[o], at, at)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO tickets (account_id, id, subject, status, requester_id, submitter_id, organization_id, created_at, updated_at) VALUES `+strings.Join(rows, ", "), args...)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	err = db.Write(ctx, func(tx *store.Tx) error {
		if err := ticket.AfterBulkInsert(ctx, tx, acct.ID); err != nil {
			return err
		}
		// Statistics as PostgreSQL's autovacuum (or SQLite's PRAGMA optimize) would have
		// gathered them by now in a desk that grew to this size.
		for _, t := range []string{"organizations", "organization_memberships"} {
			if _, err := tx.ExecContext(ctx, `ANALYZE `+t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return acct.ID, user, visible
}
