// Package nodezendesk runs an unmodified node-zendesk (pinned in package.json, installed
// by `npm ci` here; .ci/run does it) against a real Tandem server.
package nodezendesk_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tandem/bench"
	"tandem/internal/account"
	"tandem/internal/ids"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// needNode returns the node binary, or skips (fails in CI) when node or the installed
// client is missing.
func needNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join("node_modules", "node-zendesk", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node-zendesk harness not installed (run npm ci in compat/node-zendesk): %v", err)
		}
		t.Skipf("node-zendesk harness not installed (run npm ci in compat/node-zendesk): %v", err)
	}
	return node
}

// TestNodeZendeskWalksExports: node-zendesk's incremental methods walk tickets (over
// several pages, time-based and cursor-based), users, organizations and ticket events.
func TestNodeZendeskWalksExports(t *testing.T) {
	node := needNode(t)
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			d := testkit.Start(t, dia, func(c *server.Config) {
				// node-zendesk is given 127.0.0.1, which names no account.
				c.DefaultAccount = "acme"
				c.ExportRateLimit = -1
				c.ExportLag = -1 // the organization below is new
			})
			a := d.Account(t, "acme", account.Enterprise)
			ctx := context.Background()
			const n = 1100 // two pages of 1,000
			if err := bench.SeedTicketsBulk(ctx, d.DB, a.ID, ids.User(a.Admin.UserID), n); err != nil {
				t.Fatal(err)
			}
			// A history older than the export's minute, one change a second.
			if err := bench.SpreadExportHistory(ctx, d.DB, a.ID); err != nil {
				t.Fatal(err)
			}
			err := d.DB.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO organizations (account_id, name, name_lower, created_at, updated_at) VALUES (?, 'Initech', 'initech', 1, 1)`, a.ID)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "exports.js")
			cmd.Env = append(os.Environ(), "ZD_URL=http://"+d.Addr+"/api/v2", "ZD_USER="+a.Admin.Email, "ZD_TOKEN="+a.Admin.Token)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			raw, err := cmd.Output()
			if err != nil {
				t.Fatalf("node exports.js: %v\n%s", err, stderr.String())
			}
			var got struct {
				TicketsFirstPage, TicketsIncludeFirstPage, Tickets, Users, Organizations, TicketEvents, CursorTickets []int64
				TimePages, CursorPages                                                                                int
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("output %q: %v", raw, err)
			}
			distinct := func(list []int64) int { s := slices.Clone(list); slices.Sort(s); return len(slices.Compact(s)) }
			if len(got.TicketsFirstPage) != 1000 || len(got.TicketsIncludeFirstPage) != 1000 {
				t.Fatalf("tickets.incremental: %d and %d tickets, want node-zendesk's first page of 1,000", len(got.TicketsFirstPage), len(got.TicketsIncludeFirstPage))
			}
			// Two pages and the boundary duplicate between them; the last page is the end.
			if distinct(got.Tickets) != n || got.TimePages != 2 || len(got.Tickets) > n+2 {
				t.Fatalf("time-based walk: %d tickets (%d distinct) in %d pages, want %d in 2", len(got.Tickets), distinct(got.Tickets), got.TimePages, n)
			}
			if len(got.CursorTickets) != n || distinct(got.CursorTickets) != n || got.CursorPages != 2 {
				t.Fatalf("cursor walk: %d tickets (%d distinct) in %d pages, want %d in 2", len(got.CursorTickets), distinct(got.CursorTickets), got.CursorPages, n)
			}
			if !slices.Contains(got.Users, a.Admin.UserID) || len(got.Organizations) != 1 {
				t.Fatalf("users %v, organizations %v", got.Users, got.Organizations)
			}
		})
	}
}
