package input

import (
	"net/url"
	"testing"

	"tandem/internal/errs"
)

func TestJSONPath(t *testing.T) {
	for _, tc := range []struct {
		body string
		path string
		ok   bool
	}{
		{`{"ticket":{"subject":"hi"}}`, "", false},
		{`{"ticket":{"subject":"a\u0000b"}}`, "ticket.subject", true},
		{`{"ticket":{"tags":["x","\u0000"]}}`, "ticket.tags[1]", true},
		{`{"ticket":{"comment":{"body":"x\u0000"}}}`, "ticket.comment.body", true},
		{`{"a":"\\u0000"}`, "", false}, // an escaped backslash, not a NUL
		{`{"a\u0000":1}`, `a\u0000`, true},
		{`{"a":"\u0000"`, "", false}, // does not parse: the decoder's business
	} {
		p, ok := JSONPath([]byte(tc.body))
		if p != tc.path || ok != tc.ok {
			t.Errorf("JSONPath(%s) = %q, %v; want %q, %v", tc.body, p, ok, tc.path, tc.ok)
		}
	}
}

func TestValuesAndText(t *testing.T) {
	if err := Values(url.Values{"q": {"fine"}}); err != nil {
		t.Fatal(err)
	}
	err := Values(url.Values{"q": {"fine"}, "query": {"a\x00"}})
	e, ok := errs.As(err)
	if !ok || e.Code != errs.Invalid || len(e.Details["query"]) != 1 {
		t.Fatalf("Values = %v, want a 422 naming query", err)
	}
	if err := Text("name", "x\x00"); !errs.Is(err, errs.Invalid) {
		t.Fatalf("Text = %v", err)
	}
}
