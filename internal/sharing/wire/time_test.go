package wire

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	pst := time.Date(2011, 1, 17, 9, 1, 1, 0, time.UTC) // 01:01:01 -0800
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"2011-01-17 01:01:01 -0800", pst, false},
		{"2011-01-17 09:01:01 +0000", pst, false},
		{"  2011-01-17 01:01:01 -0800 ", pst, false},
		{"2011-01-17 01:01:01 -08:00", pst, false},
		{"2011-01-17T01:01:01-08:00", pst, false},
		{"2011-01-17T09:01:01Z", pst, false},
		{"2011-01-17T09:01:01.250Z", pst.Add(250 * time.Millisecond), false},
		{"2011-01-17T01:01:01.123456789-08:00", pst.Add(123456789), false},
		{"2011-01-17 01:01:01.5 -0800", pst.Add(500 * time.Millisecond), false},
		{"2011-01-17 09:01:01Z", pst, false},
		{"2011-01-17T01:01:01-0800", pst, false},
		{"2011/01/17 01:01:01 -0800", pst, false},
		{"2011-01-17 09:01:01", pst, false}, // no offset: UTC
		{"2011-01-17T09:01:01", pst, false},
		{"2011-01-17 09:01:01 UTC", pst, false},
		{"2011-01-17 09:01:01 GMT", pst, false},
		{"2011-01-17 01:01 -0800", pst.Add(-time.Second), false},
		{"2011-01-17 09:01", pst.Add(-time.Second), false},
		{"", time.Time{}, false},
		{"yesterday", time.Time{}, true},
		{"2011-13-45 01:01:01 -0800", time.Time{}, true},
		{"17/01/2011", time.Time{}, true},
		{"1295254861", time.Time{}, true},
		{"2011-01-17 01:01:01 PST", time.Time{}, true}, // ambiguous zone names are refused
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTime(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTimeJSON(t *testing.T) {
	tests := []struct {
		name string
		t    Time
		want string
	}{
		{"zero is null", Time{}, `null`},
		{"utc", Time{time.Date(2011, 1, 17, 9, 1, 1, 0, time.UTC)}, `"2011-01-17 09:01:01 +0000"`},
		{"offset emitted in utc", Time{time.Date(2011, 1, 17, 1, 1, 1, 0, time.FixedZone("", -8*3600))}, `"2011-01-17 09:01:01 +0000"`},
		{"fraction dropped", Time{time.Date(2011, 1, 17, 9, 1, 1, 999, time.UTC)}, `"2011-01-17 09:01:01 +0000"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.t)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
	if _, err := json.Marshal(Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("year 10000 encoded without error")
	}
}

func TestTimeUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		zero    bool
		wantErr bool
	}{
		{`null`, true, false},
		{`""`, true, false},
		{`"2011-01-17 01:01:01 -0800"`, false, false},
		{`12`, true, true},
		{`"nonsense"`, true, true},
		{`{}`, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v := Time{time.Now()}
			err := json.Unmarshal([]byte(tt.in), &v)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && v.IsZero() != tt.zero {
				t.Errorf("zero = %v, want %v", v.IsZero(), tt.zero)
			}
		})
	}

	// Inside a ticket an unreadable time is ErrInvalid naming the field.
	_, err := DecodeTicket(stringsReader(`{"comments":[{},{"authored_at":"soon"}]}`), 0)
	var de *DecodeError
	if !errors.As(err, &de) || de.Kind != ErrInvalid || de.Field != "comments[1].authored_at" {
		t.Errorf("err = %v, want ErrInvalid on comments[1].authored_at", err)
	}
}

// TestTimeBeforeEpochRefused: a time at or before 1970-01-01 00:00:00 UTC, which the
// store would read back as "no time", is an invalid field; an empty one is still zero.
func TestTimeBeforeEpochRefused(t *testing.T) {
	for _, s := range []string{`"1970-01-01 00:00:00 +0000"`, `"1969-07-20 20:17:40 +0000"`} {
		var tm Time
		if err := tm.UnmarshalJSON([]byte(s)); err == nil {
			t.Errorf("%s accepted as %v", s, tm.Time)
		}
	}
	var tm Time
	if err := tm.UnmarshalJSON([]byte(`"1970-01-01 00:00:01 +0000"`)); err != nil || tm.Unix() != 1 {
		t.Errorf("one second after the epoch: %v %v", tm.Time, err)
	}
}
