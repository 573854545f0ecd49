package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"syscall"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// SeedTicketsBulk inserts n bare tickets (no comments or audits) with multi-row INSERTs,
// 500 rows a statement and 10,000 a transaction: the fast way to an account of a million
// tickets. The export triggers stamp every row, as they would any write.
func SeedTicketsBulk(ctx context.Context, db *store.DB, acct ids.Account, requester ids.User, n int) error {
	const perStmt, perTx = 500, 10000
	statuses := []string{"new", "open", "open", "pending", "solved", "closed"}
	base := time.Now().Add(-time.Duration(n) * time.Second)
	row := "(" + store.In(11) + ")"
	for start := 0; start < n; start += perTx {
		err := db.Write(ctx, func(tx *store.Tx) error {
			for s := start; s < min(start+perTx, n); s += perStmt {
				end := min(s+perStmt, n)
				args := make([]any, 0, 11*(end-s))
				for i := s; i < end; i++ {
					at := store.Micros(base.Add(time.Duration(i) * time.Second))
					subj := fmt.Sprintf("Order %d has not arrived", i+1)
					args = append(args, acct, int64(i+1), subj, subj, statuses[i%len(statuses)], requester, requester, `["bench"]`, `{"channel":"api"}`, at, at)
				}
				q := `INSERT INTO tickets (account_id, id, subject, description, status, requester_id, submitter_id, tags, via, created_at, updated_at) VALUES ` +
					strings.TrimSuffix(strings.Repeat(row+",", end-s), ",")
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed tickets: %w", err)
		}
	}
	return db.Write(ctx, func(tx *store.Tx) error { return ticket.AfterBulkInsert(ctx, tx, acct) })
}

// SpreadExportHistory restamps the account's change log one change a second, ending an
// hour ago, as a history built over n seconds would be (a bulk load stamps thousands of
// changes in each second, which time-based pages must then take a second at a time).
// Timestamps stay in change-number order, so the log keeps its invariant.
func SpreadExportHistory(ctx context.Context, db *store.DB, acct ids.Account) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		var top int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM export_changes WHERE account_id = ?`, acct).Scan(&top); err != nil {
			return err
		}
		base := time.Now().Add(-time.Hour).Unix() - top
		_, err := tx.ExecContext(ctx, `UPDATE export_changes SET ts = ? + seq WHERE account_id = ?`, base, acct)
		return err
	})
}

// ExportResult is one walk of an incremental export.
type ExportResult struct {
	Name    string
	Pages   int
	Records int // records returned, boundary duplicates included
	Unique  int
	Elapsed time.Duration
	// CPU is the process's CPU time over the walk (server and client, which share the
	// process): a figure the other load on a shared machine does not inflate.
	CPU time.Duration
	// ClientCPU is the part of CPU spent while the client decoded the pages (the server
	// is idle then: the walk asks for one page at a time).
	ClientCPU time.Duration
	// Allocs and ClientAllocs count heap allocations the same way: a figure no other
	// load changes.
	Allocs, ClientAllocs uint64
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func walkExport(c *Client, path string) (ExportResult, error) {
	var r ExportResult
	seen := map[int64]bool{}
	began, cpu, allocs := time.Now(), cpuTime(), mallocs()
	for {
		var page struct {
			Tickets []struct {
				ID int64 `json:"id"`
			} `json:"tickets"`
			NextPage    string `json:"next_page"`
			AfterURL    string `json:"after_url"`
			EndOfStream bool   `json:"end_of_stream"`
		}
		code, body, err := c.get(path)
		if err == nil && code != 200 {
			err = fmt.Errorf("GET %s: status %d", path, code)
		}
		if err != nil {
			return r, err
		}
		decoding, decodingAllocs := cpuTime(), mallocs()
		if err := json.Unmarshal(body, &page); err != nil {
			return r, err
		}
		r.Pages++
		r.Records += len(page.Tickets)
		for _, t := range page.Tickets {
			seen[t.ID] = true
		}
		r.ClientCPU += cpuTime() - decoding
		r.ClientAllocs += mallocs() - decodingAllocs
		if page.EndOfStream {
			break
		}
		next := page.NextPage
		if next == "" {
			next = page.AfterURL
		}
		u, err := url.Parse(next)
		if err != nil {
			return r, err
		}
		path = u.RequestURI()
	}
	r.Elapsed, r.CPU, r.Allocs = time.Since(began), cpuTime()-cpu, mallocs()-allocs
	r.Unique = len(seen)
	return r, nil
}

// get sends a GET and returns the answer's status and body, read whole.
func (c *Client) get(path string) (int, []byte, error) {
	req, err := http.NewRequest("GET", "http://"+c.desk.Addr+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Host = c.host
	req.Header.Set("Authorization", c.auth)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// mallocs is the number of heap allocations the process has made.
func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}
