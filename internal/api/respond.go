package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/requestid"
)

// writeJSON writes v with the status, Zendesk's headers included.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"InternalError"}`, http.StatusInternalServerError)
		return
	}
	writeJSONBytes(w, status, b)
}

// writeJSONBytes writes an encoded JSON body, given in parts written one after the
// other, with the status and Zendesk's headers.
func writeJSONBytes(w http.ResponseWriter, status int, parts ...[]byte) {
	n := 1
	for _, b := range parts {
		n += len(b)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Zendesk-Api-Version", "v2")
	h.Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(status)
	for _, b := range parts {
		_, _ = w.Write(b)
	}
	_, _ = w.Write([]byte{'\n'})
}

// noContent answers 204.
func noContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

type errBody struct {
	Error       any    `json:"error"`
	Description string `json:"description,omitempty"`
	Details     any    `json:"details,omitempty"`
	Plan        string `json:"required_plan,omitempty"`
	MaxCount    int    `json:"max_count,omitempty"`
}

// errNoEndpoint is the error for a path no route serves: Zendesk answers it with
// InvalidEndpoint, so clients can tell a missing endpoint from a missing record.
var errNoEndpoint = &errs.Error{Code: errs.NotFound, Message: "Not found"}

// writeErr maps an error to Zendesk's status codes and bodies. Internal errors never leak
// their text.
func writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var th *identity.Throttled
	if errors.As(err, &th) {
		w.Header().Set("Retry-After", strconv.Itoa(th.RetryAfter()))
	}
	e, ok := errs.As(err)
	if !ok {
		writeJSON(w, http.StatusInternalServerError, errBody{Error: "InternalError", Description: internalDescription(r)})
		return
	}
	switch e.Code {
	case errs.Unauthorized:
		writeJSON(w, http.StatusUnauthorized, errBody{Error: "Couldn't authenticate you"})
	case errs.NotFound:
		if errors.Is(err, errNoEndpoint) {
			writeJSON(w, http.StatusNotFound, errBody{Error: "InvalidEndpoint", Description: "Not found"})
			return
		}
		writeJSON(w, http.StatusNotFound, errBody{Error: "RecordNotFound", Description: "Not found"})
	case errs.Forbidden:
		writeJSON(w, http.StatusForbidden, errBody{Error: "Forbidden", Description: e.Message})
	case errs.PlanRequired:
		writeJSON(w, http.StatusForbidden, errBody{Error: "PlanRequired", Description: e.Message, Plan: e.Plan})
	case errs.Invalid:
		writeJSON(w, http.StatusUnprocessableEntity, recordInvalid(e, "InvalidValue"))
	case errs.Conflict:
		writeJSON(w, http.StatusConflict, errBody{Error: "UpdateConflict", Description: e.Message})
	case errs.TooMany:
		writeJSON(w, http.StatusBadRequest, errBody{Error: "TooManyValues", Description: e.Message, MaxCount: 100})
	case errs.BadRequest:
		writeJSON(w, http.StatusBadRequest, errBody{Error: "InvalidRequest", Description: e.Message})
	case errs.TooLarge:
		writeJSON(w, http.StatusRequestEntityTooLarge, recordInvalid(e, "TooLarge"))
	case errs.RateLimited:
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "60") // clients retry 429 by this header; never leave it out
		}
		writeJSON(w, http.StatusTooManyRequests, errBody{Error: "TooManyRequests", Description: e.Message})
	case errs.Unavailable:
		writeJSON(w, http.StatusServiceUnavailable, errBody{Error: "Unavailable", Description: e.Message})
	default:
		writeJSON(w, http.StatusInternalServerError, errBody{Error: "InternalError", Description: internalDescription(r)})
	}
}

// recordInvalid is Zendesk's validation body (422 and 413): RecordInvalid, "Record
// validation errors" and details mapping each field to its problems. An error without
// field details reports its message under "base", Zendesk's key for the record as a whole,
// with code as its error.
func recordInvalid(e *errs.Error, code string) errBody {
	details := e.Details
	if len(details) == 0 {
		details = map[string][]errs.FieldError{"base": {{Error: code, Description: e.Message}}}
	}
	return errBody{Error: "RecordInvalid", Description: "Record validation errors", Details: details}
}

// internalDescription tells the client of a failed request its id, which every log
// line about the request carries.
func internalDescription(r *http.Request) string {
	return "Something went wrong on our side; the request ID is " + requestid.FromContext(r.Context())
}

// ts renders a time as Zendesk does (second precision, Z), or null for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// nullID renders 0 as null.
func nullID[T ~int64](v T) any {
	if v == 0 {
		return nil
	}
	return int64(v)
}

// nullStr renders "" as null.
func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// idList renders a nil slice as [].
func idList[T ~int64](v []T) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// strList renders a nil slice as [].
func strList(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
