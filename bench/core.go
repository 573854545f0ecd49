package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// CreateResult is one concurrency level of the ticket-create benchmark.
type CreateResult struct {
	Clients int
	Stats
}

// CreateTickets measures POST /api/v2/tickets (each with a comment and its audit) at the
// given concurrency levels.
func CreateTickets(db *store.DB, levels []int, d time.Duration) ([]CreateResult, error) {
	desk, err := StartDesk(db)
	if err != nil {
		return nil, err
	}
	defer desk.Stop()
	c, err := desk.NewAccount("bench-create", account.Enterprise)
	if err != nil {
		return nil, err
	}
	var out []CreateResult
	for _, n := range levels {
		st := Load(n, d, func(w, i int) error {
			body := map[string]any{"ticket": map[string]any{
				"subject":  fmt.Sprintf("Order %d-%d has not arrived", w, i),
				"priority": "normal", "tags": []string{"delivery", "bench"},
				"comment": map[string]any{"body": "Hello, my order placed last week has still not arrived. Could you check where it is? Thanks."},
			}}
			code, err := c.Do("POST", "/api/v2/tickets.json", body, nil)
			if err == nil && code != 201 {
				err = fmt.Errorf("status %d", code)
			}
			return err
		})
		out = append(out, CreateResult{Clients: n, Stats: st})
	}
	return out, nil
}

// SeedTickets inserts n tickets (each with a comment and an audit) straight into the
// database, in batches, for read benchmarks.
func SeedTickets(ctx context.Context, db *store.DB, acct ids.Account, requester ids.User, n int) error {
	statuses := []string{"new", "open", "open", "pending", "solved", "closed"}
	words := strings.Fields("order delivery refund broken blender warranty invoice login password shipping parcel damaged screen battery charger late missing")
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now().Add(-time.Duration(n) * time.Second)
	const batch = 1000
	for start := 0; start < n; start += batch {
		err := db.Write(ctx, func(tx *store.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				id := int64(i + 1)
				at := store.Micros(now.Add(time.Duration(i) * time.Second))
				subj := fmt.Sprintf("%s %s %s #%d", words[r.IntN(len(words))], words[r.IntN(len(words))], words[r.IntN(len(words))], id)
				st := statuses[r.IntN(len(statuses))]
				if _, err := tx.ExecContext(ctx, `INSERT INTO tickets (account_id, id, subject, description, status, requester_id, submitter_id, tags, via, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, '["bench"]', '{"channel":"api"}', ?, ?)`,
					acct, id, subj, subj, st, requester, requester, at, at); err != nil {
					return err
				}
				var aid int64
				if err := tx.QueryRowContext(ctx, `INSERT INTO ticket_audits (account_id, ticket_id, author_id, events, created_at) VALUES (?, ?, ?, '[]', ?) RETURNING id`, acct, id, requester, at).Scan(&aid); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_comments (account_id, ticket_id, audit_id, author_id, body, html_body, plain_body, public, uuid, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, TRUE, ?, ?)`,
					acct, id, aid, requester, subj, "<p>"+subj+"</p>", subj, fmt.Sprintf("seed-%d", id), at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return db.Write(ctx, func(tx *store.Tx) error { return ticket.AfterBulkInsert(ctx, tx, acct) })
}

// ReadResult is one read benchmark.
type ReadResult struct {
	Name string
	Stats
}

// ReadTickets measures list and show latency with n tickets in the account.
func ReadTickets(db *store.DB, n int, d time.Duration, clients int) ([]ReadResult, error) {
	desk, err := StartDesk(db)
	if err != nil {
		return nil, err
	}
	defer desk.Stop()
	c, err := desk.NewAccount("bench-read", account.Enterprise)
	if err != nil {
		return nil, err
	}
	acct, err := desk.Srv.Accounts.BySubdomain(context.Background(), "bench-read")
	if err != nil {
		return nil, err
	}
	var admin ids.User
	if err := db.R().QueryRowContext(context.Background(), `SELECT id FROM users WHERE account_id = ?`, acct.ID).Scan(&admin); err != nil {
		return nil, err
	}
	if err := SeedTickets(context.Background(), db, acct.ID, admin, n); err != nil {
		return nil, err
	}
	ops := []struct {
		name string
		path func(i int) string
	}{
		{"list, first page (cursor, 100 per page)", func(int) string { return "/api/v2/tickets.json?page[size]=100" }},
		{"list, first page (offset with count, 100 per page)", func(int) string { return "/api/v2/tickets.json?per_page=100" }},
		{"list, newest first (cursor, sort=-updated_at)", func(int) string { return "/api/v2/tickets.json?page[size]=100&sort=-updated_at" }},
		{"show one ticket", func(i int) string { return fmt.Sprintf("/api/v2/tickets/%d.json", 1+(i*7919)%n) }},
	}
	var out []ReadResult
	for _, op := range ops {
		st := Load(clients, d, func(w, i int) error {
			code, err := c.Do("GET", op.path(w*100000+i), nil, nil)
			if err == nil && code != 200 {
				err = fmt.Errorf("status %d", code)
			}
			return err
		})
		out = append(out, ReadResult{Name: op.name, Stats: st})
	}
	return out, nil
}
