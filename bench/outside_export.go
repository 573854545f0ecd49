package bench

import (
	"context"
	"fmt"
	"time"

	"tandem/internal/account"
	"tandem/internal/ids"
)

// OutsideExportResult is one walk of the incremental ticket export served by a
// `tandem serve` process.
type OutsideExportResult struct {
	Name    string
	Pages   int
	Records int // records returned, boundary duplicates included
	Elapsed time.Duration
	// ServerCPU is the server process's CPU time over the walk; ClientCPU this
	// process's (requests and decoding the pages).
	ServerCPU, ClientCPU time.Duration
	// ServerAllocs is the server's heap allocations over the walk (its runtime's
	// figures, read from its profiling listener before and after), 0 when unread.
	ServerAllocs int64
}

// PagesPerSecond is the walk's page rate.
func (r OutsideExportResult) PagesPerSecond() float64 { return float64(r.Pages) / r.Elapsed.Seconds() }

// ServerCPUPerPage is the server's CPU time per page.
func (r OutsideExportResult) ServerCPUPerPage() time.Duration { return perItem(r.ServerCPU, r.Pages) }

// ServerAllocsPerPage is the server's heap allocations per page.
func (r OutsideExportResult) ServerAllocsPerPage() int64 {
	if r.Pages == 0 {
		return 0
	}
	return r.ServerAllocs / int64(r.Pages)
}

// OutsideExportWalk provisions account "bench-export" with the CLI, seeds n tickets
// into it from this process while no server runs (multi-row INSERTs, the change log
// then restamped one change a second), starts `tandem serve` (export rate limit and
// lag off, a profiling listener for its allocation count) and walks the incremental
// ticket export over HTTP from time 0 to the end of the stream, 1,000 tickets a page:
// time-based, then cursor-based. It returns the walks and how long seeding took.
func OutsideExportWalk(bin string, db OutsideDB, n int) ([]OutsideExportResult, time.Duration, error) {
	email, token, err := db.Account(bin, "bench-export")
	if err != nil {
		return nil, 0, err
	}
	began := time.Now()
	if err := seedExport(db, n); err != nil {
		return nil, 0, err
	}
	seed := time.Since(began)
	dport, err := FreePort(0)
	if err != nil {
		return nil, 0, err
	}
	debugAddr := "127.0.0.1:" + dport
	srv, err := db.Serve(bin, 0, "--export-rate-limit", "-1", "--export-lag", "-1ns", "--debug-addr", debugAddr)
	if err != nil {
		return nil, 0, err
	}
	defer srv.Stop()
	c := OutsideClient(srv.Addr, "bench-export", email, token)
	var out []OutsideExportResult
	for _, w := range []struct{ name, path string }{
		{"time-based (`/incremental/tickets.json`)", "/api/v2/incremental/tickets.json?start_time=0&per_page=1000"},
		{"cursor-based (`/incremental/tickets/cursor.json`)", "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=1000"},
	} {
		m0, cpu0 := ReadMemory(srv.Pid, debugAddr).Mallocs, srv.CPU()
		r, err := walkExport(c, w.path)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", w.name, err)
		}
		if r.Unique != n {
			return nil, 0, fmt.Errorf("%s: walked %d distinct tickets of %d", w.name, r.Unique, n)
		}
		res := OutsideExportResult{Name: w.name, Pages: r.Pages, Records: r.Records, Elapsed: r.Elapsed, ServerCPU: srv.CPU() - cpu0, ClientCPU: r.CPU}
		if m1 := ReadMemory(srv.Pid, debugAddr).Mallocs; m0 > 0 && m1 > m0 {
			res.ServerAllocs = m1 - m0
		}
		out = append(out, res)
	}
	return out, seed, nil
}

// seedExport seeds n tickets into account "bench-export" from this process.
func seedExport(db OutsideDB, n int) error {
	ctx := context.Background()
	h, err := db.Open(ctx)
	if err != nil {
		return err
	}
	defer h.Close()
	acct, err := account.NewStore(h).BySubdomain(ctx, "bench-export")
	if err != nil {
		return err
	}
	var admin ids.User
	if err := h.R().QueryRowContext(ctx, `SELECT id FROM users WHERE account_id = ? AND role = 'admin'`, acct.ID).Scan(&admin); err != nil {
		return err
	}
	if err := SeedTicketsBulk(ctx, h, acct.ID, admin, n); err != nil {
		return err
	}
	return SpreadExportHistory(ctx, h, acct.ID)
}
