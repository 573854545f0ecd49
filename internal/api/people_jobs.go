package api

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/store"
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

// createManyJob answers a bulk create ({key: [...]}, at most 100 items) with a job that
// creates each item in its own transaction: one bad item never stops the others.
func createManyJob[T any](s *Server, w http.ResponseWriter, r *http.Request, c *Call, key, what, jobType string, create func(ctx context.Context, tx *store.Tx, in *T) (int64, error)) error {
	var env map[string][]*T
	if err := s.decode(r, &env); err != nil {
		return err
	}
	items := env[key]
	if len(items) > maxPerPage {
		return peopleTooMany(what)
	}
	if len(items) == 0 {
		return errs.Invalidf(key, "BlankValue", "must list at least one %s", strings.TrimSuffix(what, "s"))
	}
	job, err := s.StartJob(c, jobType, len(items), func(ctx context.Context, i int) map[string]any {
		in := items[i]
		if in == nil {
			in = new(T)
		}
		var id int64
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			var err error
			id, err = create(ctx, tx, in)
			return err
		})
		if err != nil {
			return s.jobItemError(i, err)
		}
		return map[string]any{"index": i, "id": id, "status": "Created"}
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_status": job})
	return nil
}
