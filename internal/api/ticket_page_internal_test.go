package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tandem/internal/ids"
	"tandem/internal/sharing"
	"tandem/internal/ticket"
)

// hostileStrings are strings encoding/json escapes in every way it has: HTML
// characters, quotes and backslashes, each control character, DEL, invalid UTF-8,
// U+2028/U+2029, and text in other scripts.
func hostileStrings() []string {
	out := []string{
		"", "plain", `<script>alert("x")</script>`, "Tom & Jerry's <b>", `back\slash "quoted"`,
		"tab\there\nnew\r\f\b", "\x00\x01\x1f\x7f", "\xff\xfe bad \xc3", "\u2028line\u2029para",
		"ünïcödé Ελληνικά 日本語 🎫", "\u00a0nbsp", "trailing \\", "\"", "&amp;", "\ufffd",
	}
	var all strings.Builder
	for c := range 256 {
		all.WriteByte(byte(c))
	}
	return append(out, all.String())
}

// memoryTickets are 40 tickets with every kind of value: custom fields of each type
// and none, empty and nil lists, zero times, hostile strings, incidents, shares, and
// vias with and without a source.
func memoryTickets() (fields []*ticket.Field, list []*ticket.Ticket, incidents map[ids.Ticket]int, shares map[ids.Ticket][]sharing.ShareInfo) {
	fields = []*ticket.Field{
		{ID: 11, Type: "text"}, {ID: 12, Type: "checkbox"}, {ID: 13, Type: "multiselect"},
		{ID: 14, Type: "integer"}, {ID: 15, Type: "decimal"}, {ID: 16, Type: "date"}, {ID: 17, Type: "tagger"},
	}
	hostile := hostileStrings()
	when := time.Date(2026, 12, 7, 18, 42, 5, 123456789, time.FixedZone("x", 3600))
	values := []any{nil, "", "text", true, false, []string{}, []string{"a", "<b>"}, []string(nil),
		json.Number("42"), json.Number("-1.50"), 3.25, math.MaxInt64, int64(-7), []any{"x", 1.0, nil},
		map[string]any{"k": "v", "a": []any{}}}
	shares = map[ids.Ticket][]sharing.ShareInfo{
		3: {{AgreementID: 4, Direction: "outbound", Partner: "globex <b>", State: sharing.ShareActive, SharedAt: when, Pending: 2, LastError: "timeout & \"retry\"", NextAttempt: when.Add(time.Minute), DeliveryNote: "retrying", FilesPending: 1, FilesFailed: 3, FilesError: "é"}},
		5: {{AgreementID: 9, Direction: "inbound", Partner: "p", State: "unshared", StateReason: "partner stopped"}, {AgreementID: 10, State: sharing.ShareActive}},
	}
	for i := range 40 {
		s := hostile[i%len(hostile)]
		tk := &ticket.Ticket{
			ID: ids.Ticket(i + 1), Subject: s, Description: hostile[(i+3)%len(hostile)], Status: ticket.Status([]string{"new", "open", "pending", "solved", "closed"}[i%5]),
			RequesterID: ids.User(100 + i), SubmitterID: ids.User(200 + i), IsPublic: i%3 != 0,
			CustomFields: map[int64]any{}, SatisfactionScore: []string{"", "offered", "good", "bad"}[i%4],
		}
		if i%2 == 0 {
			tk.ExternalID, tk.Type, tk.Priority, tk.Recipient = "ext-"+s, "problem", "urgent", "help@example.test"
			tk.AssigneeID, tk.OrganizationID, tk.GroupID, tk.ProblemID = 7, 8, 9, ids.Ticket(i)
			tk.CollaboratorIDs, tk.FollowerIDs, tk.EmailCCIDs = []ids.User{1, 2}, []ids.User{}, []ids.User{3}
			tk.Tags = []string{"vip", s}
			tk.CreatedAt, tk.UpdatedAt, tk.DueAt = when, when.Add(time.Hour), when.Add(48*time.Hour)
		} else if i%4 == 1 {
			tk.Type = "incident"
			tk.Tags = []string{}
			tk.CreatedAt, tk.UpdatedAt = when, when
		}
		for j, f := range fields {
			if (i+j)%5 != 0 {
				tk.CustomFields[f.ID] = values[(i+j)%len(values)]
			}
		}
		switch i % 4 {
		case 1:
			tk.Via = ticket.Via{Channel: "email", Source: map[string]any{"from": map[string]any{"address": s, "name": "Ann"}, "to": map[string]any{}, "rel": nil}}
		case 2:
			tk.Via = ticket.Via{Channel: "web"}
		case 3:
			tk.Via = ticket.Via{Source: map[string]any{}}
		}
		list = append(list, tk)
	}
	incidents = map[ids.Ticket]int{1: 2, 3: 0, 5: 1}
	return fields, list, incidents, shares
}

// TestTicketJSONGolden: pages written by appendTickets, and each ticket with search's
// result_type, are byte for byte testdata/ticket_page.golden, which the map renderer
// the typed writer replaced wrote through encoding/json (TestTicketJSONTypedIsMaps
// compared the two until the maps went; TANDEM_UPDATE_GOLDEN=1 rewrites the file) —
// under two URL bases (one needing escapes), with the account's fields and without.
func TestTicketJSONGolden(t *testing.T) {
	fields, list, incidents, shares := memoryTickets()
	var out bytes.Buffer
	for _, base := range []string{"https://acme.example.test/api/v2/tickets/", "http://a<b>&c/api/v2/tickets/"} {
		for _, fs := range [][]*ticket.Field{fields, nil} {
			p := &ticketPage{base: base, plainBase: plainJSONString(base), fields: fs, incidents: incidents, shares: shares}
			page, err := p.appendTickets(nil, list)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&out, "== %s, %d fields\n%s\n", base, len(fs), page)
			if first, _ := p.appendTickets(nil, list[:1]); !bytes.HasPrefix(page, first[:len(first)-1]) || first[len(first)-1] != ']' {
				t.Fatalf("a page of one is not the first ticket of the page: %s", first)
			}
			if empty, _ := p.appendTickets(nil, nil); string(empty) != "[]" {
				t.Fatalf("an empty page is %s", empty)
			}
			// Search's results: each ticket with its result_type.
			p.resultType = "ticket"
			for _, tk := range list {
				one, err := p.ticketJSON(tk)
				if err != nil {
					t.Fatal(err)
				}
				out.Write(one)
				out.WriteByte('\n')
			}
		}
	}
	file := filepath.Join("testdata", "ticket_page.golden")
	if os.Getenv("TANDEM_UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Bytes(); !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s differs at byte %d:\n got …%s\nwant …%s", file, i, snippet(got, i), snippet(want, i))
	}
}

func snippet(b []byte, i int) string {
	return string(b[max(0, i-60):min(len(b), i+60)])
}
