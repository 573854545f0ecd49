package api_test

import (
	"fmt"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// benchAccount starts a desk on SQLite whose exports leave nothing out, with an account
// of 120 tickets with three custom fields, comments and tags.
func benchAccount(b *testing.B) *testkit.Acct {
	d := testkit.Start(b, store.SQLite, func(c *server.Config) {
		c.ExportLag = -1
		c.ExportRateLimit = 1 << 30
	})
	a := d.Account(b, "bench", account.Growth)
	for i := range 3 {
		a.Do(b, a.Admin, "POST", "/api/v2/ticket_fields.json", map[string]any{"ticket_field": map[string]any{"type": "text", "title": fmt.Sprintf("Field %d", i)}}).Want(b, 201)
	}
	for i := range 120 {
		a.Do(b, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
			"subject": fmt.Sprintf("Printer %d does not print", i), "comment": map[string]any{"body": "The printer in the second floor office shows an error and prints nothing at all since this morning."},
			"tags": []string{"printer", "office", "vip"}, "priority": "high"}}).Want(b, 201)
	}
	return a
}

// benchGet measures GET path on benchAccount's account.
func benchGet(b *testing.B, path string) {
	a := benchAccount(b)
	b.ReportAllocs()
	for b.Loop() {
		a.Do(b, a.Admin, "GET", path, nil).Want(b, 200)
	}
}

// BenchmarkListPage measures a list page of 100 tickets over HTTP on SQLite (server and
// client in this process: compare builds with it, and profile the server's part).
func BenchmarkListPage(b *testing.B) { benchGet(b, "/api/v2/tickets.json?page[size]=100") }

// BenchmarkShowTicket measures one ticket shown, as BenchmarkListPage.
func BenchmarkShowTicket(b *testing.B) { benchGet(b, "/api/v2/tickets/7.json") }

// BenchmarkShowMany measures show_many of 100 tickets, as BenchmarkListPage.
func BenchmarkShowMany(b *testing.B) {
	idList := make([]string, 100)
	for i := range idList {
		idList[i] = fmt.Sprint(i + 1)
	}
	benchGet(b, "/api/v2/tickets/show_many.json?ids="+strings.Join(idList, ","))
}

// BenchmarkExportPage measures a page of the time-based incremental ticket export (all
// 120 tickets), as BenchmarkListPage.
func BenchmarkExportPage(b *testing.B) { benchGet(b, "/api/v2/incremental/tickets.json?start_time=0") }

// BenchmarkUpdateTicket measures an update's response (a status change and a comment),
// as BenchmarkListPage: the write itself is most of it.
func BenchmarkUpdateTicket(b *testing.B) {
	a := benchAccount(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		a.Do(b, a.Admin, "PUT", "/api/v2/tickets/9.json", map[string]any{"ticket": map[string]any{
			"status": []string{"open", "pending"}[i%2], "comment": map[string]any{"body": "Still looking into it.", "public": false}}}).Want(b, 200)
	}
}
