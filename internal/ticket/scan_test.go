package ticket_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// A JSON column that does not decode is an error naming the row and the column, never a
// ticket, comment or audit shown (and later saved) with the value silently missing.
func TestCorruptJSONColumnIsAnError(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			desk := testkit.Start(t, d)
			acme := desk.Account(t, "acme", account.Enterprise)
			tk := acme.Do(t, acme.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
				"subject": "Corrupt me", "comment": map[string]any{"body": "hello"}}}).Want(t, 201).Obj("ticket")
			id := ids.Ticket(testkit.ID(tk, "id"))
			ctx := context.Background()
			cases := []struct {
				table, column, want string
				read                string
			}{
				{"tickets", "tags", "column tags", "ticket"},
				{"tickets", "via", "column via", "ticket"},
				{"ticket_comments", "metadata", "column metadata", "comment"},
				{"ticket_audits", "events", "column events", "audit"},
			}
			for _, c := range cases {
				t.Run(c.table+"."+c.column, func(t *testing.T) {
					var old string
					key := "id"
					if c.table != "tickets" {
						key = "ticket_id"
					}
					where := fmt.Sprintf(` WHERE account_id = ? AND %s = ?`, key)
					if err := desk.DB.R().QueryRowContext(ctx, `SELECT `+c.column+` FROM `+c.table+where+` LIMIT 1`, acme.ID, id).Scan(&old); err != nil {
						t.Fatal(err)
					}
					set := func(v string) {
						t.Helper()
						if err := desk.DB.Write(ctx, func(tx *store.Tx) error {
							_, err := tx.ExecContext(ctx, `UPDATE `+c.table+` SET `+c.column+` = ?`+where, v, acme.ID, id)
							return err
						}); err != nil {
							t.Fatal(err)
						}
					}
					set(`{"broken`)
					defer set(old)
					var err error
					switch c.read {
					case "ticket":
						_, err = ticket.Get(ctx, desk.DB.R(), acme.ID, id)
					case "comment":
						_, err = ticket.ScanComment(desk.DB.R().QueryRowContext(ctx, `SELECT `+ticket.CommentCols+` FROM ticket_comments`+where, acme.ID, id))
					case "audit":
						_, err = ticket.ScanAudit(desk.DB.R().QueryRowContext(ctx, `SELECT `+ticket.AuditCols+` FROM ticket_audits`+where, acme.ID, id))
					}
					if err == nil || !strings.Contains(err.Error(), c.want) {
						t.Fatalf("reading a row whose %s.%s is corrupt: err = %v, want one naming %q", c.table, c.column, err, c.want)
					}
				})
			}
		})
	}
}
