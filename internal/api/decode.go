package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"tandem/internal/errs"
	"tandem/internal/input"
	"tandem/internal/store"
)

// readBody reads the request body within the configured limit.
func (s *Server) readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.cfg.MaxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errs.E(errs.TooLarge, "The request body is larger than the %d-byte limit", s.cfg.MaxBody)
	}
	if err != nil {
		return nil, errs.E(errs.BadRequest, "Could not read the request body")
	}
	return body, nil
}

// decode reads a JSON body into v. Malformed JSON and invalid UTF-8 are 400s; a value of
// the wrong type is a 422 naming the field; unknown fields are ignored, as Zendesk does.
func (s *Server) decode(r *http.Request, v any) error {
	body, err := s.readBody(r)
	if err != nil {
		return err
	}
	return decodeBytes(body, v)
}

// decodeObject reads a body of the form {"key": {...}} into a T, with decode's rules; a
// body without that object is a 400 that names it.
func decodeObject[T any](s *Server, r *http.Request, key string) (*T, error) {
	v, err := decodeEnvelope[T](s, r, key)
	if err == nil && v == nil {
		article := "a"
		if strings.ContainsRune("aeiou", rune(key[0])) {
			article = "an"
		}
		err = errs.E(errs.BadRequest, `The request body needs %s %q object`, article, key)
	}
	return v, err
}

// decodeEnvelope reads a body of the form {"key": {...}} into a T, with decode's rules
// (a wrong type names the field inside the object); nil when the body has no such
// object.
func decodeEnvelope[T any](s *Server, r *http.Request, key string) (*T, error) {
	env := reflect.New(reflect.StructOf([]reflect.StructField{{
		Name: "V", Type: reflect.TypeFor[*T](), Tag: reflect.StructTag(`json:"` + key + `"`),
	}}))
	if err := s.decode(r, env.Interface()); err != nil {
		return nil, err
	}
	v, _ := env.Elem().Field(0).Interface().(*T)
	return v, nil
}

// removeByPathID is a DELETE of the object named by the path's {id}: remove runs in one
// write, and the answer is 204.
func (s *Server) removeByPathID(w http.ResponseWriter, r *http.Request, remove func(ctx context.Context, tx *store.Tx, id int64) error) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.db.Write(r.Context(), func(tx *store.Tx) error { return remove(r.Context(), tx, id) }); err != nil {
		return err
	}
	noContent(w)
	return nil
}

func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errs.E(errs.BadRequest, "The request body is empty; a JSON object was expected")
	}
	if !utf8.Valid(body) {
		return errs.E(errs.BadRequest, "The request body is not valid UTF-8")
	}
	if path, ok := input.JSONPath(body); ok {
		return errs.Invalidf(dropEnvelope(path), "InvalidValue", input.NULMessage)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := dropEnvelope(te.Field)
			return errs.Invalidf(field, "InvalidValue", "must be a %s, not a JSON %s", jsonKind(te.Type.String()), te.Value)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return errs.E(errs.BadRequest, "The request body is not valid JSON (at byte %d: %s)", se.Offset, se.Error())
		}
		var ve *fieldError
		if errors.As(err, &ve) {
			return errs.Invalidf(ve.field, "InvalidValue", "%s", ve.msg)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return errs.E(errs.BadRequest, "The request body is not valid JSON (it ends too early)")
		}
		return errs.E(errs.BadRequest, "The request body is not valid JSON: %s", err.Error())
	}
	if dec.More() {
		return errs.E(errs.BadRequest, "The request body has data after the JSON object")
	}
	return nil
}

// dropEnvelope turns the path of a field in a body ("ticket.comment.body") into the name
// clients know it by ("comment.body"); a list keeps its key ("tickets[0].subject"); the
// body itself is "base".
func dropEnvelope(path string) string {
	if i := strings.IndexAny(path, ".["); i >= 0 && path[i] == '.' {
		path = path[i+1:]
	}
	if path == "" {
		return "base"
	}
	return path
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "list"
	case strings.HasPrefix(goType, "map"), strings.HasPrefix(goType, "struct"), strings.Contains(goType, "."):
		return "object"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "number"
	case goType == "bool":
		return "boolean"
	case goType == "string":
		return "string"
	}
	return goType
}

// fieldError lets custom unmarshalers name the field they failed on.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// optID is an optional ID in a request body: absent, null, a number, or a numeric string.
type optID struct {
	Set   bool  // the key was present
	Value int64 // 0 when null
}

func (o *optID) UnmarshalJSON(b []byte) error {
	o.Set = true
	s := strings.TrimSpace(string(b))
	if s == "null" || s == `""` {
		o.Value = 0
		return nil
	}
	s = strings.Trim(s, `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		// An UnmarshalTypeError gets the field name filled in by encoding/json.
		return &json.UnmarshalTypeError{Value: "value " + string(b), Type: reflect.TypeOf(int64(0))}
	}
	o.Value = v
	return nil
}

// optStr is an optional string: absent, null or a string.
type optStr struct {
	Set   bool
	Null  bool
	Value string
}

func (o *optStr) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		o.Value = ""
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// optBool is an optional boolean.
type optBool struct {
	Set   bool
	Value bool
}

func (o *optBool) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// optStrings is an optional list of strings (a null clears it).
type optStrings struct {
	Set   bool
	Value []string
}

func (o *optStrings) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = []string{}
		return nil
	}
	if err := json.Unmarshal(b, &o.Value); err != nil {
		return err
	}
	if o.Value == nil {
		o.Value = []string{}
	}
	return nil
}

// optIDs is an optional list of IDs.
type optIDs struct {
	Set   bool
	Value []int64
}

func (o *optIDs) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = []int64{}
		return nil
	}
	var raw []optID
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	o.Value = make([]int64, 0, len(raw))
	for _, r := range raw {
		if r.Value != 0 {
			o.Value = append(o.Value, r.Value)
		}
	}
	return nil
}

// pathID reads a numeric path wildcard; a non-number is simply not found.
func pathID(r *http.Request, name string) (int64, error) {
	v, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || v <= 0 {
		return 0, errs.NotFoundf("Not found")
	}
	return v, nil
}

// queryIDs parses ids=1,2,3 (at most max).
func queryIDs(r *http.Request, key string, max int) ([]int64, error) {
	raw := r.URL.Query().Get(key)
	if raw == "" {
		return nil, nil
	}
	parts := strings.Split(raw, ",")
	if len(parts) > max {
		return nil, errs.E(errs.TooMany, "Parameter %s cannot specify more than %d values", key, max)
	}
	out := make([]int64, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, errs.E(errs.BadRequest, "Parameter %s must be a comma-separated list of IDs", key)
		}
		out = append(out, v)
	}
	return out, nil
}
