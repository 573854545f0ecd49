package wire

import "testing"

func TestNormalizeStatus(t *testing.T) {
	tests := map[string]string{
		"new": "new", "open": "open", "pending": "pending", "hold": "hold",
		"solved": "solved", "closed": "closed",
		"NEW": "new", " Solved ": "solved", "On-Hold": "hold",
		"stalled": "pending", "Resolved": "solved", "rejected": "closed", "deleted": "closed",
		"waiting on vendor": "open", "???": "open",
		"": "", "   ": "",
	}
	for in, want := range tests {
		if got := NormalizeStatus(in); got != want {
			t.Errorf("NormalizeStatus(%q) = %q, want %q", in, got, want)
		}
	}
}
