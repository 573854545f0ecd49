// Package importer imports users and organizations from CSV files laid out as Zendesk's
// bulk importer takes them. It is the one implementation behind every surface that
// imports CSV: the `tandem import` command and the admin center.
//
// An import never stops at a bad row. Each row gets a result: created, updated,
// unchanged, or failed with its line number, the field at fault and the reason. Rows are
// checked in Go first (encoding, quoting, lengths, formats, duplicates within the file),
// then written in batches (Options.BatchSize rows per transaction, for speed). A row
// that fails after it has written rolls back alone: its batch is run again with each
// row inside its own SAVEPOINT (see rowTx), and the rest of the batch commits.
//
// Re-importing a file updates what changed and nothing else: users are matched by
// external_id, then by email (any of their addresses); organizations by external_id,
// then by name (both case-insensitively). A row is compared with what is stored before
// anything is written, so a re-run of an identical file writes nothing and bumps no
// updated_at. An empty cell leaves the stored value as it is (an import never erases);
// a column the file does not have is not touched either.
//
// Text is stored exactly as given, formulas (=cmd|...) included: it is data. Whatever
// writes CSV back out must pass every cell through SafeCell, which is where the
// spreadsheet risk is.
package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/input"
	"tandem/internal/store"
)

// Status is what an import did with a row.
type Status string

// The row statuses.
const (
	Created   Status = "created"
	Updated   Status = "updated"
	Unchanged Status = "unchanged"
	Failed    Status = "failed"
)

// RowResult is the outcome of one row of the file.
type RowResult struct {
	Line   int // the line of the file the row starts on (the header is line 1)
	Status Status
	ID     int64  // the user's or organization's ID (0 when the row failed)
	Key    string // what identifies the row for people: email, external ID or name
	Field  string // the column at fault (failed rows; "" when it is the row as a whole)
	Code   string // Zendesk-style error code: BlankValue, InvalidValue, TooLong, DuplicateValue, InvalidEncoding, MalformedRow, PlanRequired, ...
	Reason string // why the row failed, in words
}

// Report is the outcome of an import.
type Report struct {
	Kind     string      // "users" or "organizations"
	Rows     []RowResult // one per data row, in file order
	Warnings []string    // problems that did not stop any row (unknown columns)
	Elapsed  time.Duration
	DryRun   bool // nothing was written; Rows say what would have happened

	// How many rows ended each way.
	Created, Updated, Unchanged, Failed int
}

// Total is the number of data rows.
func (r *Report) Total() int { return len(r.Rows) }

// Options adjust an import.
type Options struct {
	// BatchSize is how many rows share one transaction (default 500). Smaller batches
	// hold the database's writer for less time; larger ones import faster.
	BatchSize int
	// DryRun checks and applies every row inside transactions that are rolled back:
	// the report says what the import would do, and nothing is written.
	DryRun bool
	// Actor is the admin running the import, or nil for the operator (the CLI). Imports
	// are for admins, as in Zendesk; an admin's own row cannot change their role.
	Actor *identity.User
	// Log receives the detail of unexpected (database) errors, which rows only name.
	Log *slog.Logger
}

// maxColumns bounds the header (Zendesk's importer takes at most 200 columns).
const maxColumns = 200

// readInput reads the whole file and checks what must hold for any row to be read: a
// UTF-8 (not UTF-16) header. A UTF-8 byte order mark is dropped.
func readInput(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("importer: read: %w", err)
	}
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return nil, errs.E(errs.BadRequest, "The file is UTF-16 text; save it as CSV UTF-8 and import it again")
	}
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errs.E(errs.BadRequest, "The file is empty; the first line must name the columns")
	}
	return data, nil
}

// header maps the file's columns to the importer's names.
type header struct {
	n      int            // number of columns
	col    map[string]int // canonical name -> index
	custom map[string]int // key of a user_fields.<key> / organization_fields.<key> column -> index

	names, customNames []string // the keys of col and custom, sorted (the order rows are checked in)
}

// has reports whether the file has the column.
func (h *header) has(name string) bool { _, ok := h.col[name]; return ok }

// readHeader reads the first record. Names are matched case-insensitively, with spaces
// and hyphens read as underscores ("External ID" is external_id). Unknown columns are
// ignored with a warning; a column given twice is an error (which one would win?).
func readHeader(rec record, aliases map[string]string, customPrefix string) (*header, []string, error) {
	if rec.err != nil {
		return nil, nil, errs.E(errs.BadRequest, "The header line cannot be read: %v", rec.err)
	}
	if len(rec.fields) > maxColumns {
		return nil, nil, errs.E(errs.BadRequest, "The file has %d columns; at most %d are allowed", len(rec.fields), maxColumns)
	}
	h := &header{n: len(rec.fields), col: map[string]int{}, custom: map[string]int{}}
	var warnings []string
	seen := map[string]bool{}
	for i, raw := range rec.fields {
		if !utf8.ValidString(raw) {
			return nil, nil, errs.E(errs.BadRequest, "The header line is not UTF-8 text; save the file as CSV UTF-8 and import it again")
		}
		if input.HasNUL(raw) {
			return nil, nil, errs.E(errs.BadRequest, "Column %d of the header contains a NUL character (\\u0000); remove it and import again", i+1)
		}
		name := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(raw)))
		if name == "" {
			if !allEmpty(rec.fields[i:]) {
				warnings = append(warnings, fmt.Sprintf("column %d has no name and was ignored", i+1))
			}
			continue
		}
		if seen[name] {
			return nil, nil, errs.E(errs.BadRequest, "The column %q appears twice in the header", strings.TrimSpace(raw))
		}
		seen[name] = true
		if key, ok := strings.CutPrefix(name, customPrefix); ok && key != "" {
			h.custom[key] = i
			continue
		}
		canon, ok := aliases[name]
		if !ok {
			warnings = append(warnings, fmt.Sprintf("column %q is not one Tandem imports and was ignored", strings.TrimSpace(raw)))
			continue
		}
		if _, dup := h.col[canon]; dup {
			return nil, nil, errs.E(errs.BadRequest, "The columns for %s appear twice in the header", canon)
		}
		h.col[canon] = i
	}
	h.names, h.customNames = slices.Sorted(maps.Keys(h.col)), slices.Sorted(maps.Keys(h.custom))
	return h, warnings, nil
}

// cells are a data record's values, checked, by column.
type cells struct {
	h      *header
	fields []string
}

// get returns the trimmed value of a column ("" when the file lacks it).
func (c cells) get(name string) string {
	i, ok := c.h.col[name]
	if !ok {
		return ""
	}
	return c.fields[i]
}

// checkCells validates the encoding and characters of every known cell of a record:
// not UTF-8, a NUL, or a line break in a one-line field fails the row. Columns named in
// multiline may hold line breaks; the others are trimmed.
func checkCells(h *header, rec record, multiline ...string) (cells, error) {
	if rec.err != nil {
		return cells{}, &rowError{Code: "MalformedRow", Reason: rec.err.Error()}
	}
	if len(rec.fields) != h.n {
		return cells{}, &rowError{Code: "MalformedRow", Reason: fmt.Sprintf("the row has %d fields but the header has %d columns (is a separator inside a value that is not quoted?)", len(rec.fields), h.n)}
	}
	fields := slices.Clone(rec.fields)
	check := func(name string, i int, oneLine bool) error {
		v := fields[i]
		if !utf8.ValidString(v) {
			return fieldErr(name, "InvalidEncoding", "is not UTF-8 text (save the file as CSV UTF-8)")
		}
		if input.HasNUL(v) {
			return fieldErr(name, "InvalidValue", input.NULMessage)
		}
		if oneLine {
			v = strings.TrimSpace(v)
			if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7F }) {
				return fieldErr(name, "InvalidValue", "must be one line of text without control characters")
			}
			fields[i] = v
		}
		return nil
	}
	for _, name := range h.names {
		if err := check(name, h.col[name], !slices.Contains(multiline, name)); err != nil {
			return cells{}, err
		}
	}
	for _, key := range h.customNames {
		if err := check(key, h.custom[key], false); err != nil {
			return cells{}, err
		}
	}
	return cells{h: h, fields: fields}, nil
}

// custom returns the non-empty custom field cells (user_fields.x / organization_fields.x).
func (c cells) custom() map[string]any {
	var out map[string]any
	for k, i := range c.h.custom {
		if v := c.fields[i]; v != "" {
			if out == nil {
				out = map[string]any{}
			}
			out[k] = v
		}
	}
	return out
}

// rowError is a problem the importer finds with a row itself.
type rowError struct {
	Field  string // "" for the row as a whole
	Code   string
	Reason string // for a field, without the field's name
}

func (e *rowError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + " " + e.Reason
}

// fieldErr is a problem with one column's value.
func fieldErr(field, code, format string, args ...any) error {
	return &rowError{Field: field, Code: code, Reason: fmt.Sprintf(format, args...)}
}

// failure turns a row's error into its result. Unexpected errors are logged and named
// only as database errors.
func failure(line int, key string, err error, log *slog.Logger) RowResult {
	r := RowResult{Line: line, Key: key, Status: Failed}
	var re *rowError
	if errors.As(err, &re) {
		r.Field, r.Code, r.Reason = re.Field, re.Code, re.Reason
		if re.Field != "" {
			r.Reason = fieldTitle(re.Field) + ": " + re.Reason
		}
		return r
	}
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		if log != nil {
			log.Error("import row failed", "line", line, "err", err)
		}
		r.Code, r.Reason = "InternalError", "the row could not be saved because of a database error"
		return r
	}
	switch e.Code {
	case errs.Invalid:
		r.Code, r.Reason = "InvalidValue", e.Message
		var reasons []string
		for _, k := range slices.Sorted(maps.Keys(e.Details)) {
			for _, fe := range e.Details[k] {
				if len(reasons) == 0 { // the first field names the row's error
					r.Field, r.Code = k, fe.Error
				}
				reasons = append(reasons, fe.Description)
			}
		}
		if len(reasons) > 0 {
			r.Reason = strings.Join(reasons, "; ")
		}
	case errs.PlanRequired:
		r.Code, r.Reason = "PlanRequired", e.Message
	case errs.Forbidden:
		r.Code, r.Reason = "Forbidden", e.Message
		if keys := slices.Sorted(maps.Keys(e.Details)); len(keys) > 0 {
			r.Field = keys[0] // the field refused, when the error names one
		}
	case errs.NotFound:
		r.Code, r.Reason = "RecordNotFound", e.Message
	default:
		r.Code, r.Reason = string(e.Code), e.Message
	}
	return r
}

// errRollback ends a dry run's batch: its transaction is rolled back.
var errRollback = errors.New("importer: dry run")

// rowTx is a row's view of its batch's transaction. A row calls save before its first
// write. A batch first runs without savepoints (each costs two statements a row, which
// on PostgreSQL are two round trips): save then only notes that the row has written.
// Should a row fail after writing, the batch is rolled back and run again with a
// savepoint per row (save takes it), so that the failure rolls back that row alone.
// Rows that only read (unchanged ones) never take a savepoint.
type rowTx struct {
	*store.Tx
	savepoints bool // the batch's second run: save takes a savepoint
	wrote      bool // save was called
}

// save marks the start of the row's writes.
func (t *rowTx) save(ctx context.Context) error {
	if t.wrote {
		return nil
	}
	t.wrote = true
	if !t.savepoints {
		return nil
	}
	if _, err := t.ExecContext(ctx, "SAVEPOINT import_row"); err != nil {
		return fmt.Errorf("importer: savepoint: %w", err)
	}
	return nil
}

// errNeedSavepoints makes the runner run a batch again with savepoints.
var errNeedSavepoints = errors.New("importer: a row failed after writing")

// batchRunner writes prepared rows batch by batch.
type batchRunner struct {
	db       *store.DB
	opts     Options
	rep      *Report
	progress func(done, total int)
}

// applyFunc writes row i.
type applyFunc func(ctx context.Context, tx *rowTx, i int) (RowResult, error)

// run applies rows 0..n-1: pending(i) is the row's error found before writing (nil if
// none), begin runs at the start of each batch's transaction (for rows start..end-1),
// and apply writes row i. A batch's results join the report only once its transaction
// has committed.
func (b *batchRunner) run(ctx context.Context, n int, pending func(i int) (RowResult, bool),
	begin func(ctx context.Context, tx *store.Tx, start, end int) error, apply applyFunc) error {
	size := b.opts.BatchSize
	if size <= 0 {
		size = 500
	}
	report := func(done int) {
		if b.progress != nil {
			b.progress(done, n)
		}
	}
	report(0)
	for start := 0; start < n; start += size {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+size, n)
		var results []RowResult
		batch := func(savepoints bool) error {
			return b.db.Write(ctx, func(tx *store.Tx) error {
				// The store may run this function again (group commit falling back to
				// single transactions), so it starts from scratch each time.
				results = results[:0]
				if tx.D() == store.Postgres {
					// An import grows its tables fast. Plans that PostgreSQL caches for
					// prepared statements, made while a table was small, can go on
					// scanning it long after it has grown (until the next ANALYZE).
					if _, err := tx.ExecContext(ctx, "SET LOCAL plan_cache_mode = force_custom_plan"); err != nil {
						return fmt.Errorf("importer: plan cache mode: %w", err)
					}
				}
				if err := begin(ctx, tx, start, end); err != nil {
					return err
				}
				for i := start; i < end; i++ {
					res, failed := pending(i)
					if !failed {
						var err error
						if res, err = b.applyRow(ctx, tx, savepoints, i, apply); err != nil {
							return err
						}
					}
					results = append(results, res)
				}
				if b.opts.DryRun {
					return errRollback
				}
				return nil
			})
		}
		err := batch(false)
		if errors.Is(err, errNeedSavepoints) {
			err = batch(true)
		}
		if err != nil && !errors.Is(err, errRollback) {
			return fmt.Errorf("importer: rows %d to %d were not imported: %w", start+1, end, err)
		}
		for _, r := range results {
			b.rep.add(r)
		}
		report(end)
	}
	return nil
}

// applyRow applies one row, turning its failure into its result. The error it returns
// ends the batch's transaction: errNeedSavepoints, or a database failure.
func (b *batchRunner) applyRow(ctx context.Context, tx *store.Tx, savepoints bool, i int, apply applyFunc) (RowResult, error) {
	rt := &rowTx{Tx: tx, savepoints: savepoints}
	res, err := apply(ctx, rt, i)
	switch {
	case err == nil:
	case !rt.wrote && !isRowProblem(err):
		// A read failed: the database, not the row, is in trouble (and PostgreSQL
		// refuses the transaction's next statements anyway).
		return res, err
	case rt.wrote && !savepoints:
		return res, errNeedSavepoints
	case rt.wrote:
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT import_row"); rerr != nil {
			return res, fmt.Errorf("importer: roll back row: %w (after %v)", rerr, err)
		}
		fallthrough
	default:
		res = failure(res.Line, res.Key, err, b.opts.Log)
	}
	if rt.wrote && savepoints {
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT import_row"); err != nil {
			return res, fmt.Errorf("importer: release savepoint: %w", err)
		}
	}
	return res, nil
}

// isRowProblem reports whether err is about the row's data (as opposed to a database
// failure).
func isRowProblem(err error) bool {
	var re *rowError
	return errors.As(err, &re) || errs.CodeOf(err) != errs.Internal
}

// fieldTitle is how a column is named in a reason: "external_id" -> "External id", as
// the API's validation messages name fields.
func fieldTitle(field string) string {
	t := strings.ReplaceAll(field, "_", " ")
	if t == "" {
		return t
	}
	return strings.ToUpper(t[:1]) + t[1:]
}

func (r *Report) add(res RowResult) {
	r.Rows = append(r.Rows, res)
	switch res.Status {
	case Created:
		r.Created++
	case Updated:
		r.Updated++
	case Unchanged:
		r.Unchanged++
	case Failed:
		r.Failed++
	}
}

// checkActor refuses imports by anyone but an admin (the operator passes no actor).
func checkActor(opts Options) error {
	if opts.Actor != nil && opts.Actor.Role != identity.Admin {
		return errs.Forbiddenf("Only admins can import users and organizations.")
	}
	return nil
}

// requireAccount guards against a nil account, which would import into nowhere.
func requireAccount(acct *account.Account) error {
	if acct == nil || acct.ID == 0 {
		return errors.New("importer: no account given")
	}
	return nil
}
