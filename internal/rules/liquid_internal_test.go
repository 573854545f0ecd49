package rules

import (
	"testing"

	"tandem/internal/account"
	"tandem/internal/ticket"
)

// TestLiquid: the {% if %} subset Zendesk's notification templates use.
func TestLiquid(t *testing.T) {
	r := &renderer{acct: &account.Account{Name: "Acme"}, t: &ticket.Ticket{ID: 7, Subject: "Blender", Status: "solved", Priority: "high"}}
	for _, tc := range []struct{ in, want string }{
		{`{% if ticket.status == 'Solved' %}done{% else %}open{% endif %}`, "done"},
		{`{% if ticket.status != "Solved" %}open{% else %}done{% endif %}`, "done"},
		{`{% if ticket.priority == 'Low' %}low{% elsif ticket.priority == 'High' %}high{% else %}other{% endif %}`, "high"},
		{`A{% if ticket.assignee.name %} by {{ticket.assignee.name}}{% endif %}.`, "A."},
		{`{% unless ticket.assignee.name %}nobody{% endunless %}`, "nobody"},
		{`{% if ticket.title contains 'blend' and ticket.id == '7' %}yes{% endif %}`, "yes"},
		{`{% if ticket.id == '8' or ticket.status == 'Solved' %}yes{% endif %}`, "yes"},
		{`{% if ticket.status == 'Solved' %}{% if ticket.priority == 'High' %}both{% else %}one{% endif %}{% endif %}!`, "both!"},
		{`#{{ticket.id}} {{ticket.title}}`, "#7 Blender"},
		{`{% if ticket.status == 'Open' %}never`, ""}, // unclosed: the block runs to the end
		{`{% bogus %}kept`, "{% bogus %}kept"},
	} {
		if got := r.render(tc.in); got != tc.want {
			t.Errorf("render(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
