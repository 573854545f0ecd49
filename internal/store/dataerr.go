package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsDataException reports whether err is the database refusing a value itself (SQLSTATE
// class 22 on PostgreSQL: a NUL in text, a byte sequence that is not UTF-8, a number out
// of range). Such a write fails the same way every time it is retried, so callers
// answering another system (a sharing partner) report it as a permanent refusal, not a
// passing failure. SQLite stores such values, so it never reports one.
func IsDataException(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && len(pe.Code) == 5 && pe.Code[:2] == "22"
}

// DataProblem describes a data exception in the database's words (such as `invalid byte
// sequence for encoding "UTF8": 0x00`), without the statement or its values.
func DataProblem(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	return "a value was refused"
}
