package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/importer"
	"tandem/internal/store"
)

// CSV import of users or organizations, through the importer package (the one every
// surface uses): a bad row is reported with its line and reason and never stops the
// others. The import runs in the background; its progress and per-row report live in
// job_statuses (the API shows the same job), so any server process can show them, and
// the page polls them with htmx.
const (
	maxImportBytes = 5 << 20
	// importBatch is small so that the progress bar moves; the importer's default
	// (500 rows per transaction) is for speed on large files.
	importBatch = 50
)

// importRow is the outcome of one CSV row as stored with the job, in the shape of
// Zendesk's job results.
type importRow struct {
	Index   int    `json:"index"`
	Line    int    `json:"line"`
	Key     string `json:"key,omitempty"`
	ID      int64  `json:"id,omitempty"`
	Status  string `json:"status"` // created, updated, unchanged, failed
	Field   string `json:"field,omitempty"`
	Error   string `json:"error,omitempty"`
	Details string `json:"details,omitempty"`
	Success bool   `json:"success"`
}

// importJob is a job as the import page shows it.
type importJob struct {
	ID        string
	Kind      string // users, organizations
	Status    string
	Total     int
	Progress  int
	Message   string
	Rows      []importRow
	Created   int
	Updated   int
	Unchanged int
	Failed    int
}

// Done reports whether the job has finished.
func (j *importJob) Done() bool { return j.Status == "completed" || j.Status == "failed" }

type importFormData struct {
	Kind  string
	Error string
}

func (s *Server) importForm(w http.ResponseWriter, r *http.Request, c *call) error {
	kind := r.URL.Query().Get("kind")
	if kind != "organizations" {
		kind = "users"
	}
	return s.render(w, r, c, http.StatusOK, "admin_import", page{Title: "Import from CSV", Area: "admin", Nav: "users", Data: importFormData{Kind: kind}})
}

func (s *Server) startImport(w http.ResponseWriter, r *http.Request, c *call) error {
	kind := r.PostFormValue("kind")
	if kind != "organizations" {
		kind = "users"
	}
	again := func(err error) error {
		return s.render(w, r, c, statusOf(err), "admin_import", page{Title: "Import from CSV", Area: "admin", Nav: "users", Data: importFormData{Kind: kind, Error: errorText(err)}})
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		return again(errs.Invalidf("file", "BlankValue", "choose a CSV file"))
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxImportBytes+1))
	if err != nil {
		return err
	}
	if len(data) > maxImportBytes {
		return again(errs.E(errs.TooLarge, "The file is larger than 5 MB; split it and import the parts."))
	}
	total := bytes.Count(data, []byte("\n")) // an estimate until the importer counts rows
	var b [12]byte
	_, _ = rand.Read(b[:])
	id := "W-" + hex.EncodeToString(b[:])
	now := store.Micros(store.Now())
	err = s.write(r.Context(), func(tx *store.Tx) error {
		_, err := tx.ExecContext(r.Context(), `INSERT INTO job_statuses (id, account_id, user_id, job_type, status, total, progress, message, results, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, 0, NULL, NULL, ?, ?)`,
			id, c.Acct.ID, c.User.ID, "import_"+kind, max(total, 1), now, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("web: record import: %w", err)
	}
	acct, actor := c.Acct, c.User
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		s.runImport(context.Background(), acct.ID, actor, id, kind, data)
	}()
	http.Redirect(w, r, "/admin/users/import/"+id, http.StatusSeeOther)
	return nil
}

// runImport runs the importer, recording its progress and then its report.
func (s *Server) runImport(ctx context.Context, acctID ids.Account, actor *identity.User, id, kind string, data []byte) {
	update := func(status string, progress, total int, message string, rows []importRow) {
		var res any
		if rows != nil {
			b, _ := json.Marshal(rows)
			res = string(b)
		}
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE job_statuses SET status = ?, progress = ?, total = ?, message = ?, results = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
				status, progress, total, message, res, store.Micros(store.Now()), acctID, id)
			return err
		})
		if err != nil {
			s.log.Error("import progress", "job", id, "err", err)
		}
	}
	acct, err := s.accounts.ByID(ctx, acctID)
	if err != nil {
		update("failed", 0, 0, "The account could not be loaded.", nil)
		return
	}
	progress := func(done, total int) {
		update("working", done, total, fmt.Sprintf("Completed %d of %d", done, total), nil)
	}
	opts := importer.Options{BatchSize: importBatch, Actor: actor, Log: s.log}
	var rep *importer.Report
	if kind == "organizations" {
		rep, err = importer.ImportOrganizations(ctx, s.db, acct, bytes.NewReader(data), opts, progress)
	} else {
		rep, err = importer.ImportUsers(ctx, s.db, acct, bytes.NewReader(data), opts, progress)
	}
	if rep == nil {
		msg := errorText(err)
		if errs.CodeOf(err) == errs.Internal {
			s.log.Error("import", "job", id, "err", err)
		}
		update("failed", 0, 0, msg, []importRow{})
		return
	}
	rows := make([]importRow, 0, len(rep.Rows))
	for i, rr := range rep.Rows {
		rows = append(rows, importRow{Index: i, Line: rr.Line, Key: rr.Key, ID: rr.ID, Status: string(rr.Status), Field: rr.Field,
			Error: rr.Code, Details: rr.Reason, Success: rr.Status != importer.Failed})
	}
	status, msg := "completed", fmt.Sprintf("Completed at %s", store.Now().Format("2006-01-02 15:04:05 +0000"))
	if err != nil {
		status, msg = "failed", "The import stopped: "+errorText(err)+" Rows reported as done were imported."
		s.log.Error("import stopped", "job", id, "err", err)
	}
	for _, w := range rep.Warnings {
		msg += " " + w
	}
	update(status, len(rows), len(rows), msg, rows)
}

// loadImport reads a job of the account.
func (s *Server) loadImport(ctx context.Context, acct ids.Account, id string) (*importJob, error) {
	j := &importJob{ID: id}
	var total, progress sql.NullInt64
	var message, results sql.NullString
	var typ string
	err := s.db.R().QueryRowContext(ctx, `SELECT job_type, status, total, progress, message, results FROM job_statuses WHERE account_id = ? AND id = ? AND job_type IN ('import_users', 'import_organizations')`, acct, id).
		Scan(&typ, &j.Status, &total, &progress, &message, &results)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("There is no import %q.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("web: load import: %w", err)
	}
	j.Kind = "users"
	if typ == "import_organizations" {
		j.Kind = "organizations"
	}
	j.Total, j.Progress, j.Message = int(total.Int64), int(progress.Int64), message.String
	if results.Valid {
		if err := json.Unmarshal([]byte(results.String), &j.Rows); err != nil {
			return nil, fmt.Errorf("web: import %s results: %w", id, err)
		}
	}
	for _, row := range j.Rows {
		switch row.Status {
		case string(importer.Created):
			j.Created++
		case string(importer.Updated):
			j.Updated++
		case string(importer.Unchanged):
			j.Unchanged++
		default:
			j.Failed++
		}
	}
	return j, nil
}

func (s *Server) importStatus(w http.ResponseWriter, r *http.Request, c *call) error {
	j, err := s.loadImport(r.Context(), c.Acct.ID, r.PathValue("job"))
	if err != nil {
		return err
	}
	if r.Header.Get("HX-Request") == "true" {
		return s.renderBlock(w, c, "admin_import_status", "import-status", j)
	}
	return s.render(w, r, c, http.StatusOK, "admin_import_status", page{Title: "Import", Area: "admin", Nav: "users", Data: j})
}
