package search

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tandem/internal/errs"
)

// describe renders a parsed query compactly for table tests.
func describe(q *Query) string {
	var parts []string
	if q.Kind != "" {
		parts = append(parts, "type="+string(q.Kind))
	}
	if q.OrderBy != "" || q.Sort != "" {
		parts = append(parts, "order="+q.OrderBy+"/"+q.Sort)
	}
	for _, t := range q.Terms {
		s := ""
		if t.Neg {
			s = "-"
		}
		switch {
		case t.Key == "" || t.Key == "subject" || t.Key == "description" || t.Key == "name":
			s += t.Key + "[" + strings.Join(t.Words, " ") + "]"
			if t.Prefix {
				s += "*"
			}
		case t.Key == "id":
			s += fmt.Sprintf("#%d", t.Num)
		case t.Time != nil:
			tv := t.Time
			switch {
			case tv.None:
				s += t.Key + string(t.Op) + "none"
			case tv.Ago > 0:
				s += fmt.Sprintf("%s%s%d%s-ago", t.Key, t.Op, tv.Ago, tv.Unit)
			default:
				s += fmt.Sprintf("%s%s[%s,%s)", t.Key, t.Op, tv.From.Format(time.RFC3339), tv.To.Format(time.RFC3339))
			}
		default:
			s += t.Key + string(t.Op) + t.Value
			if t.Prefix {
				s += "*"
			}
			if t.Field != 0 {
				s += fmt.Sprintf("(field %d)", t.Field)
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " | ")
}

// short names a subtest after its input, cut to a readable length.
func short(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s...(%d bytes)", s[:20], len(s))
	}
	return s
}

func TestSearchParseValid(t *testing.T) {
	cases := []struct{ in, want string }{
		{"printer", "[printer]"},
		{"  Printer   FIRE ", "[printer] | [fire]"},
		{`"printer on fire"`, "[printer on fire]"},
		{`"printer on fi"*`, "[printer on fi]*"},
		{"print*", "[print]*"},
		{"print**", "[print]*"},
		{"-spam", "-[spam]"},
		{`-"out of office"`, "-[out of office]"},
		{"foo-bar", "[foo bar]"},
		{"bob@example.com", "[bob example com]"},
		{"Ça-marche", "[ça marche]"},
		{"12345", "#12345"},
		{"-7", "-#7"},
		{`"12345"`, "[12345]"},
		{"12*", "[12]*"},
		{"type:ticket status:open", "type=ticket | status:open"},
		{"TYPE:Ticket Status:OPEN", "type=ticket | status:open"},
		{"type:users", "type=user"},
		{"status<solved", "status<solved"},
		{"status<=pending status>=open", "status<=pending | status>=open"},
		{"-status:closed", "-status:closed"},
		{"priority>normal priority:none", "priority>normal | priority:none"},
		{"ticket_type:incident", "ticket_type:incident"},
		{"tags:VIP tag:gold -tags:spam", "tags:vip | tags:gold | -tags:spam"},
		{"tags:prem*", "tags:prem*"},
		{`tags:"a b"`, "tags:a b"},
		{"assignee:none assignee:me assignee:42", "assignee:none | assignee:me | assignee:42"},
		{"assignee:Jane@Example.com", "assignee:jane@example.com"},
		{`assignee:"Jane Doe"`, "assignee:jane doe"},
		{"requester:me submitter:17", "requester:me | submitter:17"},
		{`organization:"Acme Inc" group:none group:7`, "organization:acme inc | group:none | group:7"},
		{"organization:acm*", "organization:acm*"},
		{"via:email via:Web", "via:email | via:web"},
		{"created:2026-11-01", "created:[2026-11-01T00:00:00Z,2026-11-02T00:00:00Z)"},
		{"created>2026-11-01T10:00:00Z", "created>[2026-11-01T10:00:00Z,2026-11-01T10:00:01Z)"},
		{"updated<2026-11-01T12:00:00+02:00", "updated<[2026-11-01T10:00:00Z,2026-11-01T10:00:01Z)"},
		{"created>4hours updated<2days solved<=1week due_date>=3months", "created>4hour-ago | updated<2day-ago | solved<=1week-ago | due_date>=3month-ago"},
		{"created>1year updated>30minutes", "created>1year-ago | updated>30minute-ago"},
		{"solved:none", "solved:none"},
		{"custom_field_360:Gold", "custom_field_360:gold(field 360)"},
		{"subject:printer description:\"on fire\"", "subject[printer] | description[on fire]"},
		{"subject:prin*", "subject[prin]*"},
		{"type:user name:jane email:jane@example.com role:end-user external_id:ABC", "type=user | name[jane] | email:jane@example.com | role:end-user | external_id:abc"},
		{"role:end_user email:jan*", "role:end-user | email:jan*"},
		{"type:organization name:acme", "type=organization | name[acme]"},
		{"printer order_by:created sort:asc", "order=created_at/asc | [printer]"},
		{"order_by:updated_at printer", "order=updated_at/ | [printer]"},
		{"type:ticket", "type=ticket"},
		{"printer - fire", "[printer] | [fire]"},
		{"printer !!! fire", "[printer] | [fire]"},
	}
	for _, c := range cases {
		t.Run(short(c.in), func(t *testing.T) {
			q, err := Parse(c.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.in, err)
			}
			if got := describe(q); got != c.want {
				t.Fatalf("Parse(%q) = %s\n want %s", c.in, got, c.want)
			}
		})
	}
}

func TestSearchParseInvalid(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "nothing to search for"},
		{"   ", "nothing to search for"},
		{"!!! ---", "nothing to search for"},
		{`"printer on fire`, "never closed"},
		{`subject:"printer`, "never closed"},
		{"status:bogus", `status must be one of new, open, pending, hold, solved or closed, not "bogus"`},
		{"status:", "status: needs a value"},
		{"status: open", "status: needs a value"},
		{"priority:extreme", "priority must be one of"},
		{"priority<none", "priority:none cannot be compared"},
		{"ticket_type:bug", "ticket_type must be one of none, question, incident, problem, task"},
		{"ticket_type>question", "ticket_type cannot be compared with >"},
		{"tags>vip", "tags cannot be compared with >"},
		{"tags:*", "wildcard needs at least one letter"},
		{"pr*nter", "only works at the end of a word"},
		{"*printer", "only works at the end of a word"},
		{"tags:a*b", "only works at the end"},
		{"type:ticket type:user", "only one type"},
		{"type:widget", "type must be ticket, user, organization or group"},
		{"-type:ticket", "type: can only be used as type:ticket"},
		{"order_by:color", "order_by must be one of"},
		{"sort:up", "sort must be asc or desc"},
		{"created:yesterday", "write a date (2026-11-01)"},
		{"created>2026-13-01", "write a date"},
		{"created<0days", "write a date"},
		{"created:none", "created:none is not a valid comparison"},
		{"solved<none", "solved<none is not a valid comparison"},
		{"via:pigeon", "via must be one of"},
		{"requester:none", "every ticket has a requester"},
		{"assignee:!!!", "needs a name, an email address, an id, me or none"},
		{"custom_field_abc:1", "not a custom field keyword"},
		{"custom_field_0:1", "not a custom field keyword"},
		{"colour:red", `"colour" is not a search keyword; to search for the text, put it in quotes: "colour:"`},
		{"http://example.com", `"http" is not a search keyword`},
		{"role:owner", "role must be end-user, agent or admin"},
		{"99999999999999999999", "is not a ticket number"},
		{"subject:!!!", "subject: needs letters or digits"},
		{strings.Repeat("a ", MaxTerms+1), "too many terms"},
		{strings.Repeat("a", MaxQueryLen+1), "too long"},
		{strings.Repeat("w", MaxWordLen+1), "at most 128 characters"},
		{"\xff", "not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(short(c.in), func(t *testing.T) {
			q, err := Parse(c.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", c.in, describe(q))
			}
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("Parse(%q) error %v has code %s, want invalid", c.in, err, errs.CodeOf(err))
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse(%q) error %q does not say %q", c.in, err, c.want)
			}
		})
	}
}

func TestSearchKindsFor(t *testing.T) {
	cases := []struct {
		in     string
		filter Kind
		want   string // kinds, or "error: ..." substring
	}{
		{"printer", "", "[ticket user organization group]"},
		{"printer status:open", "", "[ticket]"},
		{"name:jane", "", "[user organization group]"},
		{"tags:vip", "", "[ticket user organization]"},
		{"role:agent", "", "[user]"},
		{"created>2days", "", "[ticket user organization group]"},
		{"42", "", "[ticket]"},
		{"type:user name:jane", "", "[user]"},
		{"name:jane", Users, "[user]"},
		{"type:user status:open", "", "error: status: is not a property of users"},
		{"status:open", Groups, "error: status: is not a property of groups"},
		{"type:user jane", Tickets, "error: The query searches for users but the filter asks for tickets"},
		{"status:open role:agent", "", "error: No record type has all of status:, role:"},
	}
	for _, c := range cases {
		q, err := Parse(c.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.in, err)
		}
		ks, err := KindsFor(q, c.filter)
		got := fmt.Sprint(ks)
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("KindsFor(%q, %q) = %s, want %s", c.in, c.filter, got, c.want)
		}
	}
}

func TestSearchQueryStringsAreQuoted(t *testing.T) {
	// Words only ever hold letters and digits, but the quoting must hold on its own.
	if got := fts5Phrase([]string{`a"b`, "OR", "NEAR"}, true); got != `"a""b OR NEAR" *` {
		t.Errorf("fts5Phrase = %s", got)
	}
	if got := tsPhrase([]string{`it's`, `a\b`}, true, "A"); got != `'it''s':A <-> 'a\\b':*A` {
		t.Errorf("tsPhrase = %s", got)
	}
}
