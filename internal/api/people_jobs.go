package api

import (
	"maps"
	"slices"

	"tandem/internal/errs"
)

// jobItemError renders a failed bulk item of a people job (create_many of organizations
// or memberships) as Zendesk's job results do: the first field's error code and the
// full message, never internal detail.
func (s *Server) jobItemError(i int, err error) map[string]any {
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		s.log.Error("bulk item failed", "index", i, "err", err)
		return map[string]any{"index": i, "error": "InternalError", "details": "the item could not be processed", "success": false}
	}
	code := "RecordInvalid"
	switch e.Code {
	case errs.NotFound:
		code = "RecordNotFound"
	case errs.Forbidden:
		code = "Forbidden"
	case errs.PlanRequired:
		code = "PlanRequired"
	case errs.Invalid:
		for _, k := range slices.Sorted(maps.Keys(e.Details)) {
			if fes := e.Details[k]; len(fes) > 0 {
				code = fes[0].Error
				break
			}
		}
	}
	return map[string]any{"index": i, "error": code, "details": e.Error(), "success": false}
}
