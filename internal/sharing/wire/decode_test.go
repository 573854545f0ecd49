package wire

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func TestDecodeHostile(t *testing.T) {
	const limit = 64 << 10
	tests := []struct {
		name   string
		body   string
		kind   error
		field  string
		status int
	}{
		{"empty", "", ErrMalformed, "", 400},
		{"whitespace", " \n\t ", ErrMalformed, "", 400},
		{"garbage", "hello", ErrMalformed, "", 400},
		{"html error page", "<html><body>502</body></html>", ErrMalformed, "", 400},
		{"array", `[{"uuid":"x"}]`, ErrMalformed, "", 400},
		{"string", `"ticket"`, ErrMalformed, "", 400},
		{"null", `null`, ErrMalformed, "", 400},
		{"truncated", `{"uuid":"x","comments":[`, ErrMalformed, "", 400},
		{"trailing data", `{"uuid":"x"} {"uuid":"y"}`, ErrMalformed, "", 400},
		{"trailing garbage", `{"uuid":"x"}garbage`, ErrMalformed, "", 400},
		{"bad escape", `{"subject":"\x"}`, ErrMalformed, "", 400},
		{"deeply nested arrays", `{"tags":` + strings.Repeat("[", 30000), ErrMalformed, "", 400},
		{"deeply nested custom field", `{"custom_fields":{"a":` + strings.Repeat(`[`, 20000) + strings.Repeat(`]`, 20000) + `}}`, ErrMalformed, "", 400},
		{"huge string", `{"subject":"` + strings.Repeat("a", limit) + `"}`, ErrTooLarge, "", 413},
		{"huge whitespace", strings.Repeat(" ", limit+1), ErrTooLarge, "", 413},
		{"comments string", `{"comments":"x"}`, ErrInvalid, "comments", 422},
		{"comments object", `{"comments":{"uuid":"c"}}`, ErrInvalid, "comments", 422},
		{"comment number", `{"comments":[{"uuid":"c"},7]}`, ErrInvalid, "comments[1]", 422},
		{"comment author string", `{"comments":[{"author":"bob"}]}`, ErrInvalid, "comments[0].author", 422},
		{"attachment wrong", `{"comments":[{"attachments":[{"url":5}]}]}`, ErrInvalid, "comments[0].attachments.url", 422},
		{"subject number", `{"subject":5}`, ErrInvalid, "subject", 422},
		{"requester name number", `{"requester":{"name":5}}`, ErrInvalid, "requester.name", 422},
		{"tags string", `{"tags":"a,b"}`, ErrInvalid, "tags", 422},
		{"tags numbers", `{"tags":[1,2]}`, ErrInvalid, "tags", 422},
		{"custom fields array", `{"custom_fields":[1]}`, ErrInvalid, "custom_fields", 422},
		{"original_id object", `{"original_id":{}}`, ErrInvalid, "original_id", 422},
		{"original_id bool", `{"original_id":true}`, ErrInvalid, "original_id", 422},
		{"version string", `{"version":"3"}`, ErrInvalid, "version", 422},
		{"version negative", `{"version":-1}`, ErrInvalid, "version", 422},
		{"version fraction", `{"version":1.5}`, ErrInvalid, "version", 422},
		{"version overflow", `{"version":99999999999999999999}`, ErrInvalid, "version", 422},
		{"requested_at number", `{"requested_at":1295254861}`, ErrInvalid, "requested_at", 422},
		{"requested_at garbage", `{"requested_at":"the day before"}`, ErrInvalid, "requested_at", 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, err := DecodeTicket(strings.NewReader(tt.body), limit)
			if err == nil {
				t.Fatalf("decoded %+v, want error", tk)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %T %v, want *DecodeError", err, err)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("err = %v, want kind %v", err, tt.kind)
			}
			if de.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", de.Field, tt.field, err)
			}
			if de.HTTPStatus() != tt.status {
				t.Errorf("status = %d, want %d", de.HTTPStatus(), tt.status)
			}
		})
	}
}

func TestDecodeLimitBoundary(t *testing.T) {
	body := `{"subject":"` + strings.Repeat("a", 100) + `"}`
	if _, err := DecodeTicket(strings.NewReader(body), int64(len(body))); err != nil {
		t.Errorf("body exactly at the limit: %v", err)
	}
	if _, err := DecodeTicket(strings.NewReader(body), int64(len(body)-1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("one byte over: err = %v, want ErrTooLarge", err)
	}
	if _, err := DecodeAgreement(strings.NewReader(body), int64(len(body)-1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("agreement one byte over: err = %v, want ErrTooLarge", err)
	}
}

func TestDecodeEmptyBody(t *testing.T) {
	_, err := DecodeTicket(strings.NewReader(""), 0)
	if !errors.Is(err, ErrEmptyBody) || !errors.Is(err, ErrMalformed) {
		t.Errorf("err = %v, want ErrMalformed and ErrEmptyBody", err)
	}
	_, err = DecodeTicket(strings.NewReader("x"), 0)
	if errors.Is(err, ErrEmptyBody) {
		t.Errorf("garbage reported as empty: %v", err)
	}
}

// TestDecodeFromRequest drives the decoders the way a handler will, through a real
// loopback server: Zendesk's unshare DELETE (JSON content type, empty body) must be
// accepted by DiscardBody, and http.MaxBytesReader limits must map to ErrTooLarge.
func TestDecodeFromRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		var err error
		switch r.Method {
		case http.MethodDelete:
			err = DiscardBody(r.Body, 1<<20) // the MaxBytesReader is tighter
		default:
			_, err = DecodeTicket(r.Body, 1<<20) // the MaxBytesReader is tighter
		}
		var de *DecodeError
		switch {
		case errors.As(err, &de):
			w.WriteHeader(de.HTTPStatus())
		case err != nil:
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()

	tests := []struct {
		method, body string
		want         int
	}{
		{http.MethodDelete, "", 200},
		{http.MethodDelete, "ignored garbage", 200},
		{http.MethodDelete, strings.Repeat("x", 5000), 413},
		{http.MethodPut, zendeskTicket, 200},
		{http.MethodPut, "", 400},
		{http.MethodPut, `{"subject":"` + strings.Repeat("x", 5000) + `"}`, 413},
		{http.MethodPut, `{"comments":"x"}`, 422},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, srv.URL+"/sharing/tickets/t1", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %.20q: status %d, want %d", tt.method, tt.body, resp.StatusCode, tt.want)
		}
	}
}

func TestDiscardBody(t *testing.T) {
	if err := DiscardBody(strings.NewReader(""), 10); err != nil {
		t.Errorf("empty: %v", err)
	}
	if err := DiscardBody(strings.NewReader("0123456789"), 10); err != nil {
		t.Errorf("at limit: %v", err)
	}
	if err := DiscardBody(strings.NewReader("0123456789x"), 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over limit: %v", err)
	}
}

// FuzzDecodeTicket checks that no input panics the decoder and that whatever decodes
// re-encodes to a stable form.
func FuzzDecodeTicket(f *testing.F) {
	for _, seed := range []string{
		zendeskTicket,
		`{}`,
		`{"comments":[{"public":null},{}]}`,
		`{"original_id":12,"version":3,"tags":null}`,
		`{"requested_at":"2011/01/17 01:01:01 -0800","custom_fields":{"a":[1,{"b":null}]}}`,
		`{"comments":"x"}`,
		`[[[[`,
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tk, err := DecodeTicket(bytes.NewReader(body), 1<<20)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error is %T, want *DecodeError: %v", err, err)
			}
			return
		}
		once, err := EncodeTicket(tk)
		if err != nil {
			// Only out-of-range years can fail to encode.
			return
		}
		again, err := DecodeTicket(bytes.NewReader(once), 1<<20)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", once, err)
		}
		twice, err := EncodeTicket(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once, twice) {
			t.Fatalf("encoding not stable:\n%s\n%s", once, twice)
		}
	})
}
