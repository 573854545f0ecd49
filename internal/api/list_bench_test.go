package api_test

import (
	"fmt"
	"testing"

	"tandem/internal/account"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// BenchmarkListPage measures a list page of 100 tickets over HTTP on SQLite (server and
// client in this process: compare builds with it, and profile the server's part).
func BenchmarkListPage(b *testing.B) {
	d := testkit.Start(b, store.SQLite)
	a := d.Account(b, "bench", account.Growth)
	for i := range 3 {
		a.Do(b, a.Admin, "POST", "/api/v2/ticket_fields.json", map[string]any{"ticket_field": map[string]any{"type": "text", "title": fmt.Sprintf("Field %d", i)}}).Want(b, 201)
	}
	for i := range 120 {
		a.Do(b, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
			"subject": fmt.Sprintf("Printer %d does not print", i), "comment": map[string]any{"body": "The printer in the second floor office shows an error and prints nothing at all since this morning."},
			"tags": []string{"printer", "office", "vip"}, "priority": "high"}}).Want(b, 201)
	}
	b.ReportAllocs()
	for b.Loop() {
		a.Do(b, a.Admin, "GET", "/api/v2/tickets.json?page[size]=100", nil).Want(b, 200)
	}
}
