package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// SeedRealistic loads n tickets into the account with multi-row INSERTs through the
// normal schema, so every trigger runs as for any write (full-text index, export change
// log, field index): each ticket has a subject, 2-4 tags (and their ticket_tags rows), an
// audit, and a first comment of 280-330 bytes. 250 tickets go in a statement and 10,000
// in a transaction; statistics are refreshed at the end (ticket.AfterBulkInsert). It is
// how anyone reproduces the read figures at a million tickets. Progress (every 100,000
// tickets: the time and this process's CPU time so far) goes to progress when not nil.
func SeedRealistic(ctx context.Context, db *store.DB, acct ids.Account, requester ids.User, n int, progress io.Writer) error {
	t0, c0 := time.Now(), cpuTime()
	const perStmt, perTx = 250, 10000
	statuses := []string{"new", "open", "open", "pending", "solved", "closed"}
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Now().Add(-time.Duration(n) * time.Second)
	var firstID, nextRow int64
	if err := db.R().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM tickets WHERE account_id = ?`, acct).Scan(&firstID); err != nil {
		return err
	}
	if err := db.R().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM ticket_audits`).Scan(&nextRow); err != nil {
		return err
	}
	var top int64
	if err := db.R().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM ticket_comments`).Scan(&top); err != nil {
		return err
	}
	nextRow = max(nextRow, top)
	tRow, aRow, cRow, gRow := "("+store.In(11)+")", "("+store.In(5)+")", "("+store.In(10)+")", "("+store.In(3)+")"
	values := func(row string, k int) string { return strings.TrimSuffix(strings.Repeat(row+",", k), ",") }
	for start := 0; start < n; start += perTx {
		err := db.Write(ctx, func(tx *store.Tx) error {
			for s := start; s < min(start+perTx, n); s += perStmt {
				end := min(s+perStmt, n)
				var targs, aargs, cargs, gargs []any
				ntags := 0
				for i := s; i < end; i++ {
					id := firstID + int64(i) + 1
					row := nextRow + int64(i) + 1
					at := store.Micros(base.Add(time.Duration(i) * time.Second))
					subj, body, tags := Subject(r, id), Comment(r), Tags(r)
					tj, _ := json.Marshal(tags)
					targs = append(targs, acct, id, subj, body, statuses[r.IntN(len(statuses))], requester, requester, string(tj), `{"channel":"api"}`, at, at)
					aargs = append(aargs, row, acct, id, requester, at)
					cargs = append(cargs, row, acct, id, row, requester, body, "<p>"+body+"</p>", body, fmt.Sprintf("seed-%d", id), at)
					for _, tg := range tags {
						gargs = append(gargs, acct, id, tg)
						ntags++
					}
				}
				k := end - s
				for _, st := range []struct {
					q    string
					args []any
				}{
					{`INSERT INTO tickets (account_id, id, subject, description, status, requester_id, submitter_id, tags, via, created_at, updated_at) VALUES ` + values(tRow, k), targs},
					{`INSERT INTO ticket_audits (id, account_id, ticket_id, author_id, created_at) VALUES ` + values(aRow, k), aargs},
					{`INSERT INTO ticket_comments (id, account_id, ticket_id, audit_id, author_id, body, html_body, plain_body, uuid, created_at, public) VALUES ` + strings.ReplaceAll(values(cRow, k), "?)", "?, TRUE)"), cargs},
					{`INSERT INTO ticket_tags (account_id, ticket_id, tag) VALUES ` + values(gRow, ntags), gargs},
				} {
					if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed tickets: %w", err)
		}
		if done := min(start+perTx, n); progress != nil && done%100000 == 0 {
			fmt.Fprintf(progress, "seeded %d tickets in %s (CPU %s)\n", done, time.Since(t0).Round(time.Second), (cpuTime() - c0).Round(time.Second))
		}
	}
	return db.Write(ctx, func(tx *store.Tx) error {
		if tx.D() == store.Postgres {
			for _, t := range []string{"ticket_audits", "ticket_comments"} {
				if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), (SELECT MAX(id) FROM `+t+`))`); err != nil {
					return err
				}
			}
		}
		return ticket.AfterBulkInsert(ctx, tx, acct)
	})
}
