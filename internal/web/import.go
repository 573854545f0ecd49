package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/importer"
	"tandem/internal/jobs"
)

// CSV import of users or organizations, through the importer package (the one every
// surface uses): a bad row is reported with its line and reason and never stops the
// others. The import runs in the background; its progress and per-row report live in
// job_statuses (the API shows the same job), so any server process can show them, and
// the page polls them with htmx.
const (
	maxImportBytes = 5 << 20
	// importShown bounds the rows the results page lists (failed rows first); the
	// whole report is a CSV download.
	importShown = 100
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
	ID       string
	Kind     string // users, organizations
	Status   string
	Total    int
	Progress int
	Message  string
	// Rows is the whole report; Shown the rows the page lists (failed first, at most
	// importShown), Hidden how many it leaves to the CSV report.
	Rows      []importRow
	Shown     []importRow
	Hidden    int
	User      ids.User
	Created   int
	Updated   int
	Unchanged int
	Failed    int
}

// Done reports whether the job has finished.
func (j *importJob) Done() bool { return jobs.Finished(j.Status) }

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
	acct, actor := c.Acct, c.User
	job, err := s.jobs.Start(r.Context(), jobs.Spec{Account: acct.ID, User: actor.ID, Type: "import_" + kind, Total: max(total, 1)},
		func(ctx context.Context, j *jobs.Job) jobs.Result {
			return s.runImport(ctx, j, acct.ID, actor, kind, data)
		})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/users/import/"+job.ID, http.StatusSeeOther)
	return nil
}

// runImport runs the importer, recording its progress in the job, and returns its report.
func (s *Server) runImport(ctx context.Context, j *jobs.Job, acctID ids.Account, actor *identity.User, kind string, data []byte) jobs.Result {
	acct, err := s.accounts.ByID(ctx, acctID)
	if err != nil {
		j.Log().Error("import: load account", "err", err)
		return jobs.Result{Failed: "The account could not be loaded."}
	}
	progress := func(done, total int) { j.Progress(ctx, done, total) }
	opts := importer.Options{BatchSize: importBatch, Actor: actor, Log: j.Log()}
	var rep *importer.Report
	if kind == "organizations" {
		rep, err = importer.ImportOrganizations(ctx, s.db, acct, bytes.NewReader(data), opts, progress)
	} else {
		rep, err = importer.ImportUsers(ctx, s.db, acct, bytes.NewReader(data), opts, progress)
	}
	if rep == nil {
		if errs.CodeOf(err) == errs.Internal {
			j.Log().Error("import", "err", err)
		}
		return jobs.Result{Results: []importRow{}, Failed: errorText(err)}
	}
	rows := make([]importRow, 0, len(rep.Rows))
	for i, rr := range rep.Rows {
		rows = append(rows, importRow{Index: i, Line: rr.Line, Key: rr.Key, ID: rr.ID, Status: string(rr.Status), Field: rr.Field,
			Error: rr.Code, Details: rr.Reason, Success: rr.Status != importer.Failed})
	}
	res := jobs.Result{Results: rows, Done: len(rows), Total: len(rows), Note: strings.Join(rep.Warnings, " ")}
	if err != nil && ctx.Err() == nil {
		res.Failed = "The import stopped: " + errorText(err) + " Rows reported as done were imported."
		j.Log().Error("import stopped", "err", err)
	}
	return res
}

// loadImport reads an import of the account.
func (s *Server) loadImport(ctx context.Context, acct ids.Account, id string) (*importJob, error) {
	st, err := jobs.Get(ctx, s.db.R(), acct, id)
	if err != nil {
		return nil, err
	}
	if st.Type != "import_users" && st.Type != "import_organizations" {
		return nil, errs.NotFoundf("There is no import %q.", id)
	}
	j := &importJob{ID: id, Kind: "users", Status: st.State, Total: int(st.Total), Progress: int(st.Progress), Message: st.Message, User: st.User}
	if st.Type == "import_organizations" {
		j.Kind = "organizations"
	}
	if st.Results != nil {
		if err := json.Unmarshal(st.Results, &j.Rows); err != nil {
			return nil, fmt.Errorf("web: import %s results: %w", id, err)
		}
	}
	var ok []importRow
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
			if len(j.Shown) < importShown {
				j.Shown = append(j.Shown, row)
			}
			continue
		}
		if len(ok) < importShown {
			ok = append(ok, row)
		}
	}
	j.Shown = append(j.Shown, ok[:min(len(ok), importShown-len(j.Shown))]...)
	j.Hidden = len(j.Rows) - len(j.Shown)
	return j, nil
}

// importReport downloads an import's whole report as CSV, for the admin who ran it.
func (s *Server) importReport(w http.ResponseWriter, r *http.Request, c *call) error {
	id := r.PathValue("job")
	st, err := jobs.Get(r.Context(), s.db.R(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	if st.User != c.User.ID {
		return errs.NotFoundf("There is no import %q.", id)
	}
	j, err := s.loadImport(r.Context(), c.Acct.ID, id)
	if err != nil {
		return err
	}
	rep := &importer.Report{Kind: j.Kind, Rows: make([]importer.RowResult, len(j.Rows))}
	for i, row := range j.Rows {
		rep.Rows[i] = importer.RowResult{Line: row.Line, Status: importer.Status(row.Status), ID: row.ID, Key: row.Key, Field: row.Field, Code: row.Error, Reason: row.Details}
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="import-%s-report.csv"`, j.Kind))
	return rep.WriteCSV(w)
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
