package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAppendValueIsEncodingJSON: appendValue writes what json.Marshal writes for the
// values the ticket writer hands it (custom field values, a via's source, shares).
func TestAppendValueIsEncodingJSON(t *testing.T) {
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
	}
	for _, in := range []any{list, []map[string]any(nil), list[:1], list[0], list[6]} {
		var got bytes.Buffer
		if err := appendValue(&got, in); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(in)
		if got.String() != string(want) {
			t.Fatalf("appendValue:\n%s\nwant\n%s", got.String(), want)
		}
	}
}
