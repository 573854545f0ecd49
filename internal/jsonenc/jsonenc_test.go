package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestValueIsEncodingJSON: Value writes what json.Marshal writes for the values tickets
// and audits hand it (custom field values, a via's source, shares, audit events), and
// for what it leaves to json.Marshal (floats, named types, raw JSON).
func TestValueIsEncodingJSON(t *testing.T) {
	type named map[string]any
	list := []map[string]any{
		{"id": 1, "subject": "<b>Tea & cake</b>", "tags": []string{"a"}, "via": map[string]any{"z": 1, "a": nil}},
		{"id": 2, "subject": "é\u2028", "tags": nil, "via": map[string]any{}},
		{"id": 3, "other": 1.5, "tags": []string{}, "via": nil},
		{"id": 4, "subject": "", "tags": []string{}, "via": nil},
		{"id": int64(-5), "subject": "a \"quoted\" back\\slash\tand \x7f", "tags": true, "via": false},
		{"id": 6, "tags": []string{"plain", "<odd>", "é"}, "ids": []int64{1, -2}, "none": []int64(nil), "nostr": []string(nil), "empty": []int64{}},
		{"via": map[string]any{"source": map[string]any{"from": map[string]any{}, "to": map[string]any{"<k>": "v&", "é": 2.5}, "rel": nil}},
			"custom_fields": []map[string]any{{"id": int64(7), "value": []string{"x"}}, {"id": 8, "value": nil}}, "sharing": []map[string]any{},
			"none": []map[string]any(nil), "nomap": map[string]any(nil), "nested": []map[string]any{nil, {}}},
		{},
		{"type": "Comment", "id": int64(9), "k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7, "k8": 8, "attachments": []any{},
			"named": named{"b": 1, "a": "<"}, "raw": json.RawMessage(` {"x": [1, 2]} `), "u": uint8(7), "f": float32(0.1)},
	}
	for _, in := range []any{list, []map[string]any(nil), list[:1], list[0], list[6], list[8]} {
		var got bytes.Buffer
		if err := Value(&got, in); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(in)
		if got.String() != string(want) {
			t.Fatalf("Value:\n%s\nwant\n%s", got.String(), want)
		}
	}
}

// TestQuoteIsEncodingJSON: strings are written as json.Marshal writes them: every byte
// alone and inside text, every rune up to U+3000, invalid UTF-8, U+2028/U+2029.
func TestQuoteIsEncodingJSON(t *testing.T) {
	list := []string{"", "plain", `<script>alert("x")</script>`, `back\slash "quoted"`, "\xff\xfe bad \xc3",
		"\u2028line\u2029para", "ünïcödé Ελληνικά 日本語 🎫", "trailing \\", "\ufffd"}
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
		if got := Quote(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("Quote(%q) = %s, want %s", s, got, want)
		}
	}
}
