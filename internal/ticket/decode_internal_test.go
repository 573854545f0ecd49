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
		jsonText(ViaFor(ViaAPI)), jsonText(ViaFor(ViaMail)), `{"channel":"","source":{"from":{},"rel":null,"to":{}}}`,
		`{"channel":"a\"b","source":{"from":{},"rel":null,"to":{}}}`, `{"channel":"a","b","source":{"from":{},"rel":null,"to":{}}}`,
		`{"channel":"é","source":{"from":{},"rel":null,"to":{}}}`, `{"channel":"api","source":{"from":{"address":"a@b.test"},"rel":null,"to":{}}}`,
		`{"channel":"api","source":{"from":{},"rel":null,"to":{}}} `, `{"channel":"api"}`,
		`{"channel":""}`, `{"channel":"web"}`, `{"channel":"a\"}`, `{"channel":"a\"b"}`, `{"channel":"x","source":"y"}`,
		`{"channel":"x","source":null}`, `{"channel":"é"}`, `{"channel":"<b>"}`, `{"channel":"api"} `, `{"channel":"api"}}`,
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

// TestDecodePlainVia: a via with an empty source, what API and web writes store, takes
// the short cut, and keeps the channel number read from its own column.
func TestDecodePlainVia(t *testing.T) {
	got := Via{ID: ViaWebForm}
	if !decodePlain(jsonText(ViaFor(ViaWebForm)), &got) {
		t.Fatal("a via with an empty source is left to json.Unmarshal")
	}
	want := ViaFor(ViaWebForm)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %#v, want %#v", got, want)
	}
}

// TestDecodePlainBareVia: a via with no source, what the bulk seeder stores, takes the
// short cut and decodes as json.Unmarshal does (no source), keeping the channel number.
func TestDecodePlainBareVia(t *testing.T) {
	got := Via{ID: ViaAPI}
	if !decodePlain(`{"channel":"api"}`, &got) {
		t.Fatal("a via with no source is left to json.Unmarshal")
	}
	if want := (Via{Channel: "api", ID: ViaAPI}); !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %#v, want %#v", got, want)
	}
}
