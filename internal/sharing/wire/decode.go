package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"tandem/internal/input"
)

// DefaultMaxBody is the body limit DecodeAgreement and DecodeTicket use when given a
// limit of zero or less. A first share carries every comment so far, hence the room.
const DefaultMaxBody int64 = 8 << 20

// The kinds of decode failure. A *DecodeError wraps exactly one of ErrTooLarge,
// ErrMalformed and ErrInvalid; test with errors.Is and map to HTTP with
// DecodeError.HTTPStatus. An http.MaxBytesReader limit hit while reading is ErrTooLarge.
var (
	// ErrTooLarge means the body exceeded the limit (413).
	ErrTooLarge = errors.New("body too large")
	// ErrMalformed means the body is not a JSON object: empty, garbage, truncated,
	// nested too deeply, an array, or followed by more data (400).
	ErrMalformed = errors.New("body is not a JSON object")
	// ErrInvalid means the JSON is well formed but a field has the wrong type or an
	// unreadable value, such as "comments": "x" or an unparseable time (422).
	ErrInvalid = errors.New("invalid field")
	// ErrEmptyBody accompanies ErrMalformed when the body was empty or only whitespace,
	// so a handler can tell "nothing sent" from "garbage sent".
	ErrEmptyBody = errors.New("empty body")
)

// DecodeError describes why a body could not be decoded.
type DecodeError struct {
	// Kind is ErrTooLarge, ErrMalformed or ErrInvalid.
	Kind error
	// Field is the offending key path for ErrInvalid, e.g. "comments[2].authored_at".
	Field string
	// Detail is a short explanation safe to return to the partner.
	Detail string
	// Err is an underlying cause such as ErrEmptyBody, or nil.
	Err error
}

// Error returns the kind, field and detail.
func (e *DecodeError) Error() string {
	msg := "wire: " + e.Kind.Error()
	if e.Field != "" {
		msg += ": " + e.Field
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns Kind and, if set, Err, so errors.Is works for both.
func (e *DecodeError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// HTTPStatus returns the status a receiver should answer with: 413 for ErrTooLarge, 400
// for ErrMalformed (RT's answer to an unparseable body) and 422 for ErrInvalid.
func (e *DecodeError) HTTPStatus() int {
	switch e.Kind {
	case ErrTooLarge:
		return http.StatusRequestEntityTooLarge
	case ErrInvalid:
		return http.StatusUnprocessableEntity
	}
	return http.StatusBadRequest
}

// DecodeAgreement reads an agreement from r, reading at most max bytes (DefaultMaxBody
// if max <= 0). Errors are *DecodeError, except a failure to read r itself.
func DecodeAgreement(r io.Reader, max int64) (*Agreement, error) {
	var a Agreement
	if err := decodeBody(r, max, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// DecodeTicket reads a ticket from r, reading at most max bytes (DefaultMaxBody if
// max <= 0). Errors are *DecodeError, except a failure to read r itself. An empty body
// is ErrMalformed with ErrEmptyBody; for an unshare DELETE, whose body Zendesk leaves
// empty, use DiscardBody instead.
func DecodeTicket(r io.Reader, max int64) (*Ticket, error) {
	var t Ticket
	if err := decodeBody(r, max, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// DiscardBody reads and ignores a body that carries no meaning, such as that of an unshare
// DELETE: Zendesk sends Content-Type application/json with nothing after it, and answering
// 400 would make its client raise. It fails only with ErrTooLarge, beyond max bytes
// (DefaultMaxBody if max <= 0), or when reading fails.
func DiscardBody(r io.Reader, max int64) error {
	if max <= 0 {
		max = DefaultMaxBody
	}
	n, err := io.Copy(io.Discard, io.LimitReader(r, max+1))
	if err != nil {
		return readError(err)
	}
	if n > max {
		return &DecodeError{Kind: ErrTooLarge, Detail: fmt.Sprintf("the limit is %d bytes", max)}
	}
	return nil
}

// EncodeAgreement returns the wire JSON of a, Zendesk-shaped (see Agreement.MarshalJSON)
// and without HTML escaping.
func EncodeAgreement(a *Agreement) ([]byte, error) { return encode(a) }

// EncodeTicket returns the wire JSON of t, Zendesk-shaped (see Ticket.MarshalJSON) and
// without HTML escaping.
func EncodeTicket(t *Ticket) ([]byte, error) { return encode(t) }

// decodeBody reads one JSON object from r into v, enforcing the size limit.
func decodeBody(r io.Reader, max int64, v any) error {
	if max <= 0 {
		max = DefaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return readError(err)
	}
	if int64(len(body)) > max {
		return &DecodeError{Kind: ErrTooLarge, Detail: fmt.Sprintf("the limit is %d bytes", max)}
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return &DecodeError{Kind: ErrMalformed, Detail: "the body is empty", Err: ErrEmptyBody}
	}
	if trimmed[0] != '{' {
		return &DecodeError{Kind: ErrMalformed, Detail: "expected a JSON object, got " + jsonKindOrGarbage(trimmed)}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return classifyDecode(err)
	}
	// The NUL rule (package input): a partner's text this help desk would have to alter
	// to store is refused, naming the field, so the sender can tell an admin what to fix.
	if field, ok := input.JSONPath(trimmed); ok {
		return &DecodeError{Kind: ErrInvalid, Field: field, Detail: input.NULMessage}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &DecodeError{Kind: ErrMalformed, Detail: "unexpected data after the JSON object"}
	}
	return nil
}

// readError maps a failure to read the body: an http.MaxBytesReader limit set by the
// handler is ErrTooLarge; anything else (a client hanging up) is returned wrapped.
func readError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &DecodeError{Kind: ErrTooLarge, Detail: fmt.Sprintf("the limit is %d bytes", mbe.Limit)}
	}
	return fmt.Errorf("wire: read body: %w", err)
}

// classifyDecode turns a decoder error into a *DecodeError.
func classifyDecode(err error) error {
	var ie *invalidError
	if errors.As(err, &ie) {
		return &DecodeError{Kind: ErrInvalid, Field: ie.field, Detail: ie.msg}
	}
	if te := (*json.UnmarshalTypeError)(nil); errors.As(err, &te) {
		ie := asInvalid(te).(*invalidError)
		return &DecodeError{Kind: ErrInvalid, Field: ie.field, Detail: ie.msg}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &DecodeError{Kind: ErrMalformed, Detail: fmt.Sprintf("at byte %d: %s", se.Offset, se.Error())}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &DecodeError{Kind: ErrMalformed, Detail: "the JSON ends too early"}
	}
	return &DecodeError{Kind: ErrMalformed, Detail: err.Error()}
}

func jsonKindOrGarbage(b []byte) string {
	if json.Valid(b) {
		return jsonKind(b)
	}
	return "something that is not JSON"
}

// invalidError is a well-formed body with a bad field value.
type invalidError struct {
	field, msg string
}

func (e *invalidError) Error() string {
	if e.field == "" {
		return e.msg
	}
	return e.field + ": " + e.msg
}

func invalidf(field, format string, args ...any) error {
	return &invalidError{field: field, msg: fmt.Sprintf(format, args...)}
}

// within prefixes the field of an invalidError with its container, e.g. "comments[2]".
func within(prefix string, err error) error {
	var ie *invalidError
	if !errors.As(err, &ie) {
		return err
	}
	field := prefix
	if ie.field != "" {
		field += "." + ie.field
	}
	return &invalidError{field: field, msg: ie.msg}
}

// asInvalid turns a type mismatch from encoding/json into an invalidError naming the
// field and the expected JSON type; other errors pass through.
func asInvalid(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err
	}
	want := "a different type"
	if te.Type != nil {
		want = expectedKind(te.Type)
	}
	// The decoders embed an alias type named plain; its name is no part of the wire.
	var parts []string
	for _, p := range strings.Split(te.Field, ".") {
		if p != "plain" && p != "" {
			parts = append(parts, p)
		}
	}
	return &invalidError{field: strings.Join(parts, "."), msg: fmt.Sprintf("must be %s, not a JSON %s", want, te.Value)}
}

// expectedKind names the JSON type that decodes into t.
func expectedKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a different type"
}
