package ticket

import (
	"encoding/json"
	"reflect"
	"testing"

	"tandem/internal/ids"
)

// TestDecodePlainIsUnmarshal: the short cut for plain JSON columns decodes what
// json.Unmarshal decodes, and leaves everything else (escapes, spaces, numbers, bad
// JSON) to it.
func TestDecodePlainIsUnmarshal(t *testing.T) {
	for _, raw := range []string{
		`null`, `[]`, `{}`, `[""]`, `["bench"]`, `["a","b","vip_customer"]`, `["a", "b"]`, `["a\"b"]`, `["<x>"]`,
		`["é"]`, `["a\\b"]`, `x"]`, `["x`, `["]`, `[1,2]`, `["a",1]`, `{"1":"x"}`, `"s"`, `["a","b"`, `[" ,"]`,
	} {
		check := func(fresh func() any) {
			t.Helper()
			fast, slow := fresh(), fresh()
			if !decodePlain(raw, fast) {
				return // json.Unmarshal decodes it
			}
			if err := json.Unmarshal([]byte(raw), slow); err != nil {
				t.Errorf("%s: decoded by the short cut, json.Unmarshal says %v", raw, err)
				return
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Errorf("%s into %T: short cut %#v, json.Unmarshal %#v", raw, fast, reflect.ValueOf(fast).Elem(), reflect.ValueOf(slow).Elem())
			}
		}
		check(func() any { return new([]string) })
		check(func() any { return new([]ids.User) })
		check(func() any { return new(map[string]any) })
		check(func() any { return new(Via) })
	}
}
