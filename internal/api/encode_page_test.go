package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestEncodePageSameBytes: a body encoded by encodePage, its page already encoded, is
// byte for byte what encoding/json writes for it, including HTML-escaped text, nulls,
// and an empty, null or missing page.
func TestEncodePageSameBytes(t *testing.T) {
	page := []map[string]any{
		{"id": 1, "subject": "<b>Tom & Jerry</b>", "tags": []string{"a", "b"}, "via": map[string]any{"z": 1, "a": nil}},
		{"id": 2, "subject": "ünïcödé \u2028", "tags": []string{}, "via": map[string]any{"channel": "api"}},
		{"id": 3, "extra": true, "subject": "", "tags": nil, "via": nil},
		{"id": 4, "subject": "x", "tags": []string{"c"}, "via": map[string]any{}},
		{"id": 5, "subject": "y", "tags": []string{"<é>", "d"}, "via": map[string]any{"k9": 9, "k1": 1, "k8": "<8>", "k2": 2, "k7": 7, "k3": 3, "k6": 6, "k4": 4, "k5": []int64{5, 500, -5}},
			"fields": []map[string]any{{"value": "b", "id": int64(70000)}, {"id": int64(2), "value": nil, "é": true, "<>": 1}}},
	}
	for _, body := range []map[string]any{
		{"tickets": page, "count": 4, "next_page": nil, "users": []map[string]any{{"id": 9, "name": "Ann"}}},
		{"tickets": []map[string]any{}, "count": 0},
		{"tickets": []map[string]any(nil)},
		{"count": 1},
	} {
		want, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		if list, ok := body["tickets"]; ok {
			raw, err := json.Marshal(list)
			if err != nil {
				t.Fatal(err)
			}
			body["tickets"] = json.RawMessage(raw)
		}
		got, err := encodePage(body, "tickets")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("encodePage differs:\n got %s\nwant %s", got, want)
		}
	}
}
