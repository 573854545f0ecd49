package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestPreEncodeSameBytes: a page encoded by preEncode is byte for byte what
// encoding/json writes for the same maps, including records whose keys differ, nested
// maps, HTML-escaped text and nulls.
func TestPreEncodeSameBytes(t *testing.T) {
	page := []map[string]any{
		{"id": 1, "subject": "<b>Tom & Jerry</b>", "tags": []string{"a", "b"}, "via": map[string]any{"z": 1, "a": nil}},
		{"id": 2, "subject": "ünïcödé \u2028", "tags": []string{}, "via": map[string]any{"channel": "api"}},
		{"id": 3, "extra": true, "subject": "", "tags": nil, "via": nil},
		{"id": 4, "subject": "x", "tags": []string{"c"}, "via": map[string]any{}},
	}
	want, err := json.Marshal(map[string]any{"tickets": page, "count": 4})
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"tickets": page, "count": 4}
	if err := preEncode(body, "tickets"); err != nil {
		t.Fatal(err)
	}
	if _, ok := body["tickets"].(json.RawMessage); !ok {
		t.Fatalf("tickets not pre-encoded: %T", body["tickets"])
	}
	got, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("pre-encoded page differs:\n got %s\nwant %s", got, want)
	}
}
