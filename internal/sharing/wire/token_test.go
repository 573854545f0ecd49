package wire

import (
	"strings"
	"testing"
)

func TestNewUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		for _, id := range []string{NewUUID(), NewAccessKey()} {
			if len(id) != 40 || strings.Trim(id, "0123456789abcdef") != "" {
				t.Fatalf("%q is not 40 lowercase hex characters", id)
			}
			if !ValidUUID(id) {
				t.Fatalf("ValidUUID(%q) = false", id)
			}
			if seen[id] {
				t.Fatalf("duplicate id %q", id)
			}
			seen[id] = true
		}
	}
}

func TestValidUUID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"9f2c1e0d9f2c1e0d9f2c1e0d9f2c1e0d9f2c1e0d", true},
		{"123abc", true}, // Zendesk's tests use short ids
		{"t1", true},
		{"A-b_c.d~e!$&'()*+,;=@", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"a/b", false},
		{"a:b", false},
		{"a b", false},
		{"a\tb", false},
		{"a\nb", false},
		{"caf\u00e9", false},
		{"\x7f", false},
	}
	for _, tt := range tests {
		if got := ValidUUID(tt.in); got != tt.want {
			t.Errorf("ValidUUID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseToken(t *testing.T) {
	tests := []struct {
		in        string
		uuid, key string
		ok        bool
	}{
		{"a1:key", "a1", "key", true},
		{"a1:key:with:colons", "a1", "key:with:colons", true},
		{FormatToken("9f2c", "41be"), "9f2c", "41be", true},
		{"a1:", "", "", false},
		{":key", "", "", false},
		{"a1key", "", "", false},
		{"", "", "", false},
		{":", "", "", false},
	}
	for _, tt := range tests {
		uuid, key, ok := ParseToken(tt.in)
		if uuid != tt.uuid || key != tt.key || ok != tt.ok {
			t.Errorf("ParseToken(%q) = %q, %q, %v; want %q, %q, %v", tt.in, uuid, key, ok, tt.uuid, tt.key, tt.ok)
		}
	}
}

func TestKeyEqual(t *testing.T) {
	k := NewAccessKey()
	tests := []struct {
		a, b string
		want bool
	}{
		{k, k, true},
		{k, strings.ToUpper(k), false},
		{k, k[:39], false},
		{k, k + "0", false},
		{"", "", false},
		{k, "", false},
		{"", k, false},
	}
	for _, tt := range tests {
		if got := KeyEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("KeyEqual(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestVersionOK(t *testing.T) {
	for in, want := range map[string]bool{"": true, "1": true, " 1 ": true, "2": false, "1.0": false, "v1": false} {
		if got := VersionOK(in); got != want {
			t.Errorf("VersionOK(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestURLs(t *testing.T) {
	tests := []struct{ got, want string }{
		{AgreementURL("https://b.example/sharing", "9f2c"), "https://b.example/sharing/agreements/9f2c"},
		{AgreementURL("https://b.example/sharing/", "9f2c"), "https://b.example/sharing/agreements/9f2c"},
		{TicketURL("http://globex.localhost:8081/sharing", "t1"), "http://globex.localhost:8081/sharing/tickets/t1"},
		{TicketURL("https://rt.example/NoAuth/NHD/1.0", "a?b#c%d"), "https://rt.example/NoAuth/NHD/1.0/tickets/a%3Fb%23c%25d"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
