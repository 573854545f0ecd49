package api

import (
	"bytes"
	"encoding/json"
	"math"
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

// TestAppendJSONStringIsEncodingJSON: strings are written as json.Marshal writes them.
func TestAppendJSONStringIsEncodingJSON(t *testing.T) {
	list := hostileStrings()
	for c := range 256 {
		list = append(list, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"b")
	}
	for r := rune(0); r < 0x3000; r++ {
		list = append(list, string(r))
	}
	for _, s := range list {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestTicketJSONTypedIsMaps: a page written by appendTickets is byte for byte what
// encoding/json writes for the maps renderTicketsWith builds (with their sharing keys),
// for tickets with every kind of value: custom fields of each type and none, empty and
// nil lists, zero times, hostile strings, incidents, shares, and a via with a source.
func TestTicketJSONTypedIsMaps(t *testing.T) {
	fields := []*ticket.Field{
		{ID: 11, Type: "text"}, {ID: 12, Type: "checkbox"}, {ID: 13, Type: "multiselect"},
		{ID: 14, Type: "integer"}, {ID: 15, Type: "decimal"}, {ID: 16, Type: "date"}, {ID: 17, Type: "tagger"},
	}
	hostile := hostileStrings()
	when := time.Date(2026, 12, 7, 18, 42, 5, 123456789, time.FixedZone("x", 3600))
	values := []any{nil, "", "text", true, false, []string{}, []string{"a", "<b>"}, []string(nil),
		json.Number("42"), json.Number("-1.50"), 3.25, math.MaxInt64, int64(-7), []any{"x", 1.0, nil},
		map[string]any{"k": "v", "a": []any{}}}
	shares := map[ids.Ticket][]sharing.ShareInfo{
		3: {{AgreementID: 4, Direction: "outbound", Partner: "globex <b>", State: sharing.ShareActive, SharedAt: when, Pending: 2, LastError: "timeout & \"retry\"", NextAttempt: when.Add(time.Minute), DeliveryNote: "retrying", FilesPending: 1, FilesFailed: 3, FilesError: "é"}},
		5: {{AgreementID: 9, Direction: "inbound", Partner: "p", State: "unshared", StateReason: "partner stopped"}, {AgreementID: 10, State: sharing.ShareActive}},
	}
	var list []*ticket.Ticket
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
	incidents := map[ids.Ticket]int{1: 2, 3: 0, 5: 1}
	for _, base := range []string{"https://acme.example.test/api/v2/tickets/", "http://a<b>&c/api/v2/tickets/"} {
		for _, fs := range [][]*ticket.Field{fields, nil} {
			p := &ticketPage{base: base, plainBase: plainJSONString(base), fields: fs, incidents: incidents, shares: shares}
			maps := make([]map[string]any, len(list))
			for i, tk := range list {
				maps[i] = p.ticketMap(tk)
				maps[i]["sharing_agreement_ids"], maps[i]["sharing"] = sharingJSON(shares[tk.ID])
			}
			want, err := json.Marshal(maps)
			if err != nil {
				t.Fatal(err)
			}
			for _, page := range [][]*ticket.Ticket{list, list[:1], nil} {
				got, err := p.appendTickets(nil, page)
				if err != nil {
					t.Fatal(err)
				}
				w := want
				if page == nil {
					w = []byte("[]")
				} else if len(page) == 1 {
					w, _ = json.Marshal(maps[:1])
				}
				if !bytes.Equal(got, w) {
					i := 0
					for i < len(got) && i < len(w) && got[i] == w[i] {
						i++
					}
					t.Fatalf("base %q, %d fields: typed page differs at byte %d:\n got …%s\nwant …%s", base, len(fs), i, snippet(got, i), snippet(w, i))
				}
			}
			// Search's results: each ticket with its result_type.
			p.resultType = "ticket"
			for i, tk := range list {
				var b, cf bytes.Buffer
				if err := p.appendTicket(&b, &cf, tk); err != nil {
					t.Fatal(err)
				}
				m := maps[i]
				m["result_type"] = "ticket"
				w, _ := json.Marshal(m)
				delete(m, "result_type")
				if !bytes.Equal(b.Bytes(), w) {
					t.Fatalf("search result %d:\n got %s\nwant %s", i, b.Bytes(), w)
				}
			}
			p.resultType = ""
			// The map path's own encoder writes the same bytes too.
			enc, err := encodeObjects(maps)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, want) {
				t.Fatal("encodeObjects differs from encoding/json")
			}
		}
	}
}

func snippet(b []byte, i int) string {
	return string(b[max(0, i-60):min(len(b), i+60)])
}
