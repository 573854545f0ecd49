// Package errs is Tandem's error model: a code and a message that are safe to show to a
// client, plus per-field details for validation errors. Transport layers map codes to
// their own status codes in one place; everything else wraps with %w.
package errs

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Code classifies an error for clients.
type Code string

// The error codes. Each maps to exactly one HTTP status in the api package.
const (
	Invalid      Code = "invalid"       // 422: the input is wrong; see Details
	NotFound     Code = "not_found"     // 404
	Conflict     Code = "conflict"      // 409
	Forbidden    Code = "forbidden"     // 403
	PlanRequired Code = "plan_required" // 403 naming the plan that unlocks the feature
	Unauthorized Code = "unauthorized"  // 401
	TooMany      Code = "too_many"      // 400 TooManyValues
	BadRequest   Code = "bad_request"   // 400
	TooLarge     Code = "too_large"     // 413
	Unavailable  Code = "unavailable"   // 503
	RateLimited  Code = "rate_limited"  // 429
	Internal     Code = "internal"      // 500
)

// FieldError is one problem with one field.
type FieldError struct {
	Error       string `json:"error"`       // e.g. BlankValue, InvalidValue, DuplicateValue, TooLong
	Description string `json:"description"` // human text, "Subject: cannot be blank"
}

// Error is an error with a client-safe code and message.
type Error struct {
	Code    Code
	Message string
	// Details holds per-field validation problems (Invalid only).
	Details map[string][]FieldError
	// Plan names the plan that unlocks a feature (PlanRequired only).
	Plan string
}

func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return e.Message
	}
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(e.Message)
	for _, k := range keys {
		for _, d := range e.Details[k] {
			fmt.Fprintf(&b, "; %s", d.Description)
		}
	}
	return b.String()
}

// E builds an error with a code and a formatted message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf is shorthand for E(NotFound, ...).
func NotFoundf(format string, args ...any) *Error { return E(NotFound, format, args...) }

// Forbiddenf is shorthand for E(Forbidden, ...).
func Forbiddenf(format string, args ...any) *Error { return E(Forbidden, format, args...) }

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Validation accumulates field errors; its Err is nil when nothing was added.
type Validation struct {
	details map[string][]FieldError
}

// Add records a problem with a field. code is a Zendesk-style error code such as
// BlankValue or InvalidValue; msg is appended to the field's title.
func (v *Validation) Add(field, code, msg string) {
	if v.details == nil {
		v.details = map[string][]FieldError{}
	}
	title := strings.ReplaceAll(field, "_", " ")
	if title != "" {
		title = strings.ToUpper(title[:1]) + title[1:]
	}
	v.details[field] = append(v.details[field], FieldError{Error: code, Description: title + ": " + msg})
}

// Blank records a missing required field.
func (v *Validation) Blank(field string) { v.Add(field, "BlankValue", "cannot be blank") }

// Bad records an invalid value.
func (v *Validation) Bad(field, msg string) { v.Add(field, "InvalidValue", msg) }

// Has reports whether any problem was recorded.
func (v *Validation) Has() bool { return len(v.details) > 0 }

// Err returns the accumulated problems as an Invalid error, or nil.
func (v *Validation) Err() error {
	if len(v.details) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "Record validation errors", Details: v.details}
}

// Invalidf returns an Invalid error with a single field problem.
func Invalidf(field, code, format string, args ...any) error {
	var v Validation
	v.Add(field, code, fmt.Sprintf(format, args...))
	return v.Err()
}
