package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// SeedRealistic loads n tickets into the account with multi-row INSERTs through the
// normal schema, so every trigger runs as for any write (full-text index, export change
// log, field index): each ticket has a subject, 2-4 tags (and their ticket_tags rows), an
// audit with the events the write path records, and a first comment of 280-330 bytes,
// with the times the write path stamps (TestSeedMatchesAPI compares an account seeded
// here with the same tickets created through ticket.Service). 250 tickets go in a
// statement and 10,000 in a transaction; on SQLite the writer's page cache is raised to
// 512 MB meanwhile (with the server's 32 MB the load slowed down as the indexes grew:
// 13, 21, 26 s of CPU for the first three 100,000 tickets; with 512 MB, 18-19 s each on
// the same loaded machine). Statistics are refreshed at the end
// (ticket.AfterBulkInsert). It is how anyone reproduces the read figures at a million
// tickets. Progress (every 100,000 tickets: the time and this process's CPU time so far)
// goes to progress when not nil.
func SeedRealistic(ctx context.Context, db *store.DB, acct ids.Account, requester ids.User, n int, progress io.Writer) error {
	t0, c0 := time.Now(), cpuTime()
	const perStmt, perTx = 250, 10000
	if db.Dialect == store.SQLite {
		restore, err := bulkCache(ctx, db)
		if err != nil {
			return err
		}
		defer restore()
	}
	gen := NewRealistic()
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
	tRow, aRow, cRow, gRow := "("+store.In(15)+")", "("+store.In(6)+")", "("+store.In(10)+")", "("+store.In(3)+")"
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
					rt := gen.Next(id)
					subj, body, tags := rt.Subject, rt.Body, rt.Tags
					tj, _ := json.Marshal(tags)
					// The times the write path stamps on a new ticket (ticket.Change's
					// stampTimes and stampActor): when it entered its status, and the
					// requester's update (the requester creates it).
					var opened, pending, solved int64
					switch rt.Status {
					case "open":
						opened = at
					case "pending":
						pending = at
					case "solved":
						solved = at
					}
					targs = append(targs, acct, id, subj, body, rt.Status, requester, requester, string(tj), `{"channel":"api"}`, at, at, opened, pending, solved, at)
					uuid := ticket.NewUUID()
					aargs = append(aargs, row, acct, id, requester, createEvents(uuid, rt, requester), at)
					cargs = append(cargs, row, acct, id, row, requester, body, ticket.TextToHTML(body), body, uuid, at)
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
					{`INSERT INTO tickets (account_id, id, subject, description, status, requester_id, submitter_id, tags, via, created_at, updated_at, opened_at, pending_at, solved_at, requester_updated_at) VALUES ` + values(tRow, k), targs},
					{`INSERT INTO ticket_audits (id, account_id, ticket_id, author_id, events, created_at) VALUES ` + values(aRow, k), aargs},
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

// RealisticTicket is one generated ticket of SeedRealistic.
type RealisticTicket struct {
	Subject, Body, Status string
	Tags                  []string
}

// Realistic generates SeedRealistic's tickets, the same sequence every time (so that a
// test can create the same tickets through the API and compare).
type Realistic struct{ r *rand.Rand }

// NewRealistic starts the sequence.
func NewRealistic() *Realistic { return &Realistic{r: rand.New(rand.NewPCG(1, 2))} }

// seedStatuses are drawn with these weights.
var seedStatuses = []string{"new", "open", "open", "pending", "solved", "closed"}

// Next is the ticket numbered id.
func (g *Realistic) Next(id int64) RealisticTicket {
	subj, body, tags := Subject(g.r, id), Comment(g.r), Tags(g.r)
	return RealisticTicket{Subject: subj, Body: body, Tags: tags, Status: seedStatuses[g.r.IntN(len(seedStatuses))]}
}

// auditEvent is one event of a creation audit, as the write path records it.
type auditEvent struct {
	CommentUUID string `json:"comment_uuid,omitempty"`
	FieldName   string `json:"field_name,omitempty"`
	Type        string `json:"type"`
	Value       any    `json:"value,omitempty"`
}

// createEvents is the events of the audit that creates the ticket with its comment.
func createEvents(uuid string, rt RealisticTicket, requester ids.User) string {
	who := strconv.FormatInt(int64(requester), 10)
	none := []int64{}
	ev := []auditEvent{{CommentUUID: uuid, Type: "Comment"},
		{FieldName: "subject", Type: "Create", Value: rt.Subject}, {FieldName: "status", Type: "Create", Value: rt.Status},
		{FieldName: "requester_id", Type: "Create", Value: who}, {FieldName: "submitter_id", Type: "Create", Value: who},
		{FieldName: "tags", Type: "Create", Value: rt.Tags}, {FieldName: "collaborator_ids", Type: "Create", Value: none},
		{FieldName: "follower_ids", Type: "Create", Value: none}, {FieldName: "email_cc_ids", Type: "Create", Value: none}}
	b, _ := json.Marshal(ev)
	return string(b)
}

// bulkCache gives SQLite's writer connection a page cache of 512 MB while the seeder
// runs, and returns what restores the previous size. The store's default is sized for a
// server; a bulk load whose indexes outgrow it rereads and rewrites the same pages, and
// slows down as the tables grow.
func bulkCache(ctx context.Context, db *store.DB) (func(), error) {
	var was int64
	err := db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&was); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `PRAGMA cache_size = -524288`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("seed: cache size: %w", err)
	}
	return func() {
		_ = db.Write(context.WithoutCancel(ctx), func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, was))
			return err
		})
	}, nil
}
