package wire

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// TimeLayout is the protocol's time format, e.g. "2011-01-17 01:01:01 -0800".
const TimeLayout = "2006-01-02 15:04:05 -0700"

// parseLayouts are tried in order by ParseTime. Layouts without an offset read as UTC.
// Go accepts fractional seconds after the seconds field even when a layout omits them.
var parseLayouts = []string{
	TimeLayout,
	"2006-01-02 15:04:05 -07:00",
	"2006-01-02 15:04:05Z07:00",
	time.RFC3339,
	"2006-01-02T15:04:05-0700",
	"2006/01/02 15:04:05 -0700",
	"2006-01-02 15:04:05 UTC",
	"2006-01-02 15:04:05 GMT",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04 -0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
}

// Time is a protocol timestamp. It encodes as TimeLayout in UTC ("+0000"), or null when
// zero, and decodes leniently; see ParseTime.
type Time struct {
	time.Time
}

// ParseTime reads a protocol timestamp: TimeLayout, RFC 3339 with or without fractional
// seconds, the same without an offset (read as UTC, where Zendesk would use its local
// zone), "YYYY/MM/DD HH:MM:SS ±hhmm" (Rails' old JSON format) and a few neighbours. An
// empty string is the zero time. Anything else is an error: a time we cannot read is
// not silently replaced by "now" or zero.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range parseLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", clip([]byte(s)))
}

// String returns the time in TimeLayout, in UTC, or "" when zero.
func (t Time) String() string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

// MarshalJSON encodes the time as TimeLayout in UTC, or null when zero.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("wire: time %v is outside years 0-9999", t.Time)
	}
	return []byte(`"` + t.String() + `"`), nil
}

// UnmarshalJSON decodes a string with ParseTime; null and "" give the zero time.
func (t *Time) UnmarshalJSON(b []byte) error {
	v, err := timeField("", b)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// timeField decodes the raw value of the time field key; absent, null and "" are zero.
func timeField(key string, raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || isNull(raw) {
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, invalidf(key, "must be a time string, not %s", jsonKind(raw))
	}
	v, err := ParseTime(s)
	if err != nil {
		return time.Time{}, invalidf(key, "%s", err.Error())
	}
	if !v.IsZero() && v.UnixMicro() <= 0 {
		// Tandem stores times as microseconds since 1970 with 0 meaning "no time", so
		// the epoch itself would come back as null; nothing a partner shares predates it.
		return time.Time{}, invalidf(key, "must be after 1970-01-01 00:00:00 UTC, not %q", clip([]byte(s)))
	}
	return v, nil
}
