package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/report"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// ReportsResult is what building the reports page cost over a large account.
type ReportsResult struct {
	Tickets int
	Seed    time.Duration
	// Backfill is how long building the account's daily aggregates from its rows took
	// (report.Rebuild, what the startup backfill runs).
	Backfill time.Duration
	// Month and Year are a report of the last 30 and 365 days (all queries and the
	// charts), repeated, read from the daily aggregates; RowsMonth is the 30-day report
	// computed from the rows instead (report.BuildRows), the reference measured in the
	// same run. InWindow is how many tickets the 30-day window holds.
	Month, Year, RowsMonth Stats
	InWindow               int
	// Aggregated is whether the timed reports were read from the aggregates.
	Aggregated bool
}

// Reports seeds n tickets created over the last year (a quarter tagged, half solved
// with a first reply, one in ten with SLA targets, one in twenty rated, one in fifty
// shared with a partner) and times report.Build plus the page's charts for the last 30
// and 365 days, as an admin, for d each.
func Reports(db *store.DB, n int, d time.Duration) (*ReportsResult, error) {
	ctx := context.Background()
	desk, err := StartDesk(db)
	if err != nil {
		return nil, err
	}
	defer desk.Stop()
	if _, err := desk.NewAccount("bench-reports", account.Enterprise); err != nil {
		return nil, err
	}
	acct, err := desk.Srv.Accounts.BySubdomain(ctx, "bench-reports")
	if err != nil {
		return nil, err
	}
	var admin ids.User
	if err := db.R().QueryRowContext(ctx, `SELECT id FROM users WHERE account_id = ? ORDER BY id LIMIT 1`, acct.ID).Scan(&admin); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	start := time.Now()
	if err := seedReportTickets(ctx, db, acct.ID, admin, n, now); err != nil {
		return nil, err
	}
	res := &ReportsResult{Tickets: n, Seed: time.Since(start)}
	start = time.Now()
	if _, err := report.Rebuild(ctx, db, acct.ID); err != nil {
		return nil, err
	}
	res.Backfill = time.Since(start)
	if db.Dialect == store.Postgres {
		if err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, "ANALYZE "+report.DailyTable(db.Dialect))
			return err
		}); err != nil {
			return nil, fmt.Errorf("bench: analyze: %w", err)
		}
	}
	today := now.Truncate(24*time.Hour).AddDate(0, 0, 1)
	actor := ticket.Actor{UserID: admin, Role: identity.Admin}
	build := func(days int, how func(context.Context, store.Queryer, ids.Account, ticket.Actor, report.Filter, time.Time) (*report.Report, error)) func(int, int) error {
		return func(int, int) error {
			r, err := how(ctx, db.R(), acct.ID, actor, report.Filter{From: today.AddDate(0, 0, -days), To: today}, time.Now())
			if err != nil {
				return err
			}
			if days == 30 {
				res.Aggregated = res.Aggregated || r.Aggregated
			}
			labels := make([]string, len(r.Days))
			vals := make([]float64, len(r.Days))
			for i, x := range r.Days {
				labels[i], vals[i] = x.Date.Format("Jan 2"), float64(x.Created)
			}
			_ = report.Bars("created", labels, []report.Series{{Name: "Created", Values: vals, Color: report.Blue}})
			return nil
		}
	}
	if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE account_id = ? AND created_at >= ?`, acct.ID, store.Micros(today.AddDate(0, 0, -30))).Scan(&res.InWindow); err != nil {
		return nil, err
	}
	res.Month, res.Year = Load(1, d, build(30, report.Build)), Load(1, d, build(365, report.Build))
	res.RowsMonth = Load(1, d, build(30, report.BuildRows))
	return res, nil
}

// seedReportTickets inserts the tickets and what reports read of them, 500 rows to a
// multi-row insert.
func seedReportTickets(ctx context.Context, db *store.DB, acct ids.Account, user ids.User, n int, now time.Time) error {
	var agreement int64
	err := db.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO sharing_agreements (account_id, uuid, access_key, direction, name, remote_url, local_url, status, promised_minutes, created_at, updated_at)
			VALUES (?, 'bench-agreement', 'k', 'outbound', 'Globex', 'local://globex', 'local://acme', 'accepted', 240, ?, ?) RETURNING id`, acct, store.Micros(now), store.Micros(now)).Scan(&agreement)
	})
	if err != nil {
		return fmt.Errorf("bench: seed agreement: %w", err)
	}
	year := int64(365 * 24 * time.Hour / time.Microsecond)
	nowUS := store.Micros(now)
	const batch = 500
	for from := 0; from < n; from += batch {
		var rows, tags, targets, ratings, shares []string
		var args, targs, sargs, rargs, hargs []any
		for i := from; i < min(from+batch, n); i++ {
			id := int64(i + 1)
			created := nowUS - year/int64(n)*int64(n-i) // oldest first, evenly over the year
			// Half of the last two months' tickets are open; older ones are solved but
			// for a few.
			status, solved, reply := "open", int64(0), int64(0)
			if recent := nowUS-created < 60*24*3600e6; i%2 == 0 || !recent && i%37 != 0 {
				status, solved, reply = "solved", created+int64(i%97+1)*3600e6, created+int64(i%13+1)*600e6
				if solved > nowUS {
					status, solved = "open", 0
				}
			}
			rows = append(rows, "(?, ?, ?, ?, ?, ?, '[]', '{\"channel\":\"api\"}', ?, ?, ?, ?)")
			args = append(args, acct, id, fmt.Sprintf("Ticket %d", id), status, user, user, created, created, solved, reply)
			if i%4 == 0 {
				tags = append(tags, "(?, ?, ?)")
				targs = append(targs, acct, id, fmt.Sprintf("tag%d", i%20))
			}
			if i%10 == 0 {
				stage := "active"
				if reply > 0 {
					stage = "achieved"
				}
				targets = append(targets, "(?, ?, 'first_reply_time', 1, 60, FALSE, ?, ?)")
				sargs = append(sargs, acct, id, stage, created+3600e6)
			}
			if i%20 == 0 && status == "solved" {
				score := "good"
				if i%60 == 0 {
					score = "bad"
				}
				ratings = append(ratings, "(?, ?, ?, ?, ?, ?)")
				rargs = append(rargs, acct, id, user, score, solved, solved)
			}
			if i%50 == 0 {
				shares = append(shares, "(?, ?, ?, ?, 'out', 'active', ?, ?, ?)")
				hargs = append(hargs, acct, id, agreement, fmt.Sprintf("bench-share-%d", id), created, created, created+int64(i%7+1)*1800e6)
			}
		}
		err := db.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tickets (account_id, id, subject, status, requester_id, submitter_id, tags, via, created_at, updated_at, solved_at, first_reply_at) VALUES `+strings.Join(rows, ", "), args...); err != nil {
				return err
			}
			for _, part := range []struct {
				sql  string
				rows []string
				args []any
			}{
				{`INSERT INTO ticket_tags (account_id, ticket_id, tag) VALUES `, tags, targs},
				{`INSERT INTO sla_targets (account_id, ticket_id, metric, policy_id, target_min, business, stage, breach_at) VALUES `, targets, sargs},
				{`INSERT INTO satisfaction_ratings (account_id, ticket_id, requester_id, score, created_at, updated_at) VALUES `, ratings, rargs},
				{`INSERT INTO ticket_shares (account_id, ticket_id, agreement_id, uuid, direction, state, shared_at, updated_at, first_answer_at) VALUES `, shares, hargs},
			} {
				if len(part.rows) == 0 {
					continue
				}
				if _, err := tx.ExecContext(ctx, part.sql+strings.Join(part.rows, ", "), part.args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bench: seed report tickets: %w", err)
		}
	}
	if err := db.Write(ctx, func(tx *store.Tx) error { return ticket.AfterBulkInsert(ctx, tx, acct) }); err != nil {
		return err
	}
	if db.Dialect == store.Postgres {
		// A bulk load leaves the planner without statistics until autovacuum's analyze
		// comes round; a database in service has them.
		if err := db.Write(ctx, func(tx *store.Tx) error { _, err := tx.ExecContext(ctx, `ANALYZE`); return err }); err != nil {
			return fmt.Errorf("bench: analyze: %w", err)
		}
	}
	return nil
}
