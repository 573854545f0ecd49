package ticket

import (
	"encoding/json"
	"testing"

	"tandem/internal/ids"
)

// TestJSONTextIsEncodingJSON: what the writer stores for an audit's events, a via, user
// lists, tags, metadata and custom fields is what json.Marshal wrote for them.
func TestJSONTextIsEncodingJSON(t *testing.T) {
	events := []Event{
		{"type": "Create", "field_name": "subject", "value": "<b>Tea & cake</b> é\u2028"},
		{"type": "Create", "field_name": "tags", "value": []string{"a", "<b>"}},
		{"type": "Create", "field_name": "requester_id", "value": ids.User(7)},
		{"type": "Change", "field_name": "status", "value": "open", "previous_value": nil},
		{"type": "Comment", "comment_uuid": "c-1", "public": true, "via": map[string]any{"channel": "api"}},
		{"type": "Notification", "via": map[string]any{"channel": "rule", "source": map[string]any{"from": map[string]any{"id": int64(3), "title": "Notify"}, "rel": "trigger"}},
			"subject": "Re: \"x\"", "body": "line\nline", "recipients": []int64{1, 2}, "score": 1.5},
		{},
		nil,
	}
	for _, v := range []any{
		events, []Event(nil), []Event{},
		Via{Channel: "api", ID: ViaAPI, Source: map[string]any{"from": map[string]any{}, "to": map[string]any{"address": "a&b@x"}, "rel": nil}},
		Via{Channel: "web"}, Via{},
		[]ids.User{}, []ids.User{1, -2, 1 << 40}, []ids.User(nil),
		[]string{"vip", "<x>"}, []string(nil),
		map[string]any{"system": map[string]any{"ip_address": "127.0.0.1"}, "custom": map[string]any{}},
		map[string]any(nil),
		map[string]any{"70000": []string{"x"}, "2": nil, "3": true, "4": "2026-12-08", "5": int64(9), "6": 2.25},
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonText(v); got != string(want) {
			t.Fatalf("jsonText(%#v):\n%s\nwant\n%s", v, got, want)
		}
	}
}
