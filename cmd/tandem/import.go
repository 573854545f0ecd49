package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/importer"
)

// maxFailuresShown bounds the failed rows printed after an import; --report has them all.
const maxFailuresShown = 20

func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printImportUsage(stderr)
		return usageError{errors.New("import: say what to import: users or organizations")}
	}
	kind := args[0]
	switch kind {
	case "users", "organizations":
	case "orgs":
		kind = "organizations"
	case "help", "-h", "-help", "--help":
		printImportUsage(stdout)
		return nil
	default:
		return usageError{fmt.Errorf("import: unknown kind %q (want users or organizations)", kind)}
	}
	cfg := defaultConfig()
	var in struct {
		sub, report string
		batch       int
		dryRun      bool
	}
	in.batch = 500
	c := newCommand("import "+kind, "FILE --account SUBDOMAIN [flags]", importAbout(kind))
	c.stringFlag(&in.sub, "account", "SUBDOMAIN", "the account to import into (required)")
	c.boolFlag(&in.dryRun, "dry-run", "check every row and report what the import would do, writing nothing")
	c.stringFlag(&in.report, "report", "FILE", "also write every row's result (line, status, id, key, field, code, reason) to this CSV file")
	c.intFlag(&in.batch, "batch-size", "N", "rows per database transaction")
	c.dataFlags(&cfg)
	c.example = fmt.Sprintf(`  tandem import organizations orgs.csv --account acme
  tandem import users users.csv --account acme --report results.csv
  tandem import %s --dry-run - --account acme < %s.csv`, kind, kind)
	flags, files := splitArgs(c.fs, args[1:])
	if help, err := c.parse(flags, getenv, stdout); help || err != nil {
		return err
	}
	if len(files) != 1 {
		return usageError{fmt.Errorf("import %s: give exactly one FILE (- reads standard input), not %d (run 'tandem import %s --help' for usage)", kind, len(files), kind)}
	}
	if strings.TrimSpace(in.sub) == "" {
		return usageError{fmt.Errorf("import %s: --account is required (run 'tandem import %s --help' for usage)", kind, kind)}
	}
	if in.batch < 1 || in.batch > 10000 {
		return usageError{fmt.Errorf("import %s: --batch-size must be from 1 to 10000", kind)}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}

	name := files[0]
	var src io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import %s: %w", kind, err)
		}
		defer f.Close()
		src = f
	} else {
		name = "standard input"
	}
	db, err := openDB(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	acct, err := account.NewStore(db).BySubdomain(ctx, strings.ToLower(strings.TrimSpace(in.sub)))
	if err != nil {
		return fmt.Errorf("import %s: %w (see 'tandem account list')", kind, err)
	}

	bar := newProgressBar(stderr, kind)
	opts := importer.Options{BatchSize: in.batch, DryRun: in.dryRun}
	var rep *importer.Report
	if kind == "users" {
		rep, err = importer.ImportUsers(ctx, db, acct, src, opts, bar.update)
	} else {
		rep, err = importer.ImportOrganizations(ctx, db, acct, src, opts, bar.update)
	}
	bar.done()
	if rep == nil {
		return fmt.Errorf("import %s: %w", kind, err)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	printImportSummary(stdout, rep, name, acct.Subdomain)
	if in.report != "" {
		if werr := writeReport(in.report, rep); werr != nil {
			return fmt.Errorf("import %s: write --report: %w", kind, werr)
		}
		fmt.Fprintf(stdout, "Every row's result is in %s.\n", in.report)
	}
	if err != nil {
		return fmt.Errorf("import %s: stopped after %d of the file's rows: %w", kind, rep.Total(), err)
	}
	if rep.Failed > 0 {
		return fmt.Errorf("import %s: %d of %d rows failed (the other rows are fine)", kind, rep.Failed, rep.Total())
	}
	return nil
}

func importAbout(kind string) string {
	if kind == "users" {
		return `Imports users from a CSV file into an account, as Zendesk's bulk importer takes them.
Columns (any order, names case-insensitive): name, email, external_id, role (end-user,
agent, admin), organization (names separated by |, the first is the default), tags
(separated by spaces), details, notes, phone, alias, restriction, user_fields.<key>.
Unknown columns are ignored with a warning.

Rows match existing users by external_id, then email: they are updated, and a row
identical to what is stored changes nothing, so a file can be imported again safely. An
empty cell leaves the stored value alone. Emails count as verified, so users join the
organizations of their email's domain. Import organizations first.

A bad row never stops the import: each row is reported as created, updated, unchanged
or failed with its line and reason. The command exits with status 1 when a row failed.`
	}
	return `Imports organizations from a CSV file into an account, as Zendesk's bulk importer takes
them. Columns (any order, names case-insensitive): name, external_id, details, notes,
domain_names (separated by spaces), shared_tickets, shared_comments (true/false), group
(a group's name), group_id, tags (separated by spaces), organization_fields.<key>.
Unknown columns are ignored with a warning.

Rows match existing organizations by external_id, then name: they are updated, and a
row identical to what is stored changes nothing, so a file can be imported again safely.
An empty cell leaves the stored value alone. Users with a verified email in a new
domain join the organization.

A bad row never stops the import: each row is reported as created, updated, unchanged
or failed with its line and reason. The command exits with status 1 when a row failed.`
}

func printImportUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: tandem import users|organizations FILE --account SUBDOMAIN [flags]

  import organizations   import organizations from a CSV file (do this first)
  import users           import users from a CSV file

Run 'tandem import users --help' or 'tandem import organizations --help' for the columns
and flags.
`)
}

// splitArgs separates positional arguments from flags, so that FILE may come before or
// after them (the flag package stops at the first positional argument).
func splitArgs(fs *flag.FlagSet, args []string) (flags, positional []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(positional, args[i+1:]...)
		case a == "-" || !strings.HasPrefix(a, "-"):
			positional = append(positional, a)
		default:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			f := fs.Lookup(name)
			if f == nil {
				continue // the parser reports it
			}
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return flags, positional
}

func printImportSummary(w io.Writer, rep *importer.Report, file, sub string) {
	rate := ""
	if secs := rep.Elapsed.Seconds(); secs > 0 && rep.Total() > 0 {
		rate = fmt.Sprintf(", %.0f rows/s", float64(rep.Total())/secs)
	}
	took := rep.Elapsed.Round(time.Millisecond)
	if rep.DryRun {
		fmt.Fprintf(w, "Dry run of %s on %s (nothing was written; %s%s): %d rows would be created, %d updated, %d unchanged; %d would fail.\n",
			file, sub, took, rate, rep.Created, rep.Updated, rep.Unchanged, rep.Failed)
	} else {
		fmt.Fprintf(w, "Imported %s %s into %s in %s%s: %d created, %d updated, %d unchanged, %d failed.\n",
			rep.Kind, file, sub, took, rate, rep.Created, rep.Updated, rep.Unchanged, rep.Failed)
	}
	if rep.Failed == 0 {
		return
	}
	fmt.Fprintln(w, "Failed rows:")
	shown := 0
	for _, r := range rep.Rows {
		if r.Status != importer.Failed {
			continue
		}
		if shown == maxFailuresShown {
			fmt.Fprintf(w, "  ... and %d more (use --report FILE for every row)\n", rep.Failed-shown)
			break
		}
		shown++
		fmt.Fprintf(w, "  line %d: %s (%s)\n", r.Line, r.Reason, r.Code)
	}
}

func writeReport(path string, rep *importer.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteCSV(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// progressBar draws the import's progress on a terminal; on anything else (a file, a
// pipe, a test's buffer) it draws nothing.
type progressBar struct {
	w     io.Writer
	what  string
	on    bool
	start time.Time
	last  time.Time
	drawn bool
}

func newProgressBar(w io.Writer, what string) *progressBar {
	f, ok := w.(*os.File)
	on := false
	if ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			on = true
		}
	}
	return &progressBar{w: w, what: what, on: on, start: time.Now()}
}

func (p *progressBar) update(done, total int) {
	if !p.on || total == 0 || done < total && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	const width = 30
	filled := done * width / total
	fmt.Fprintf(p.w, "\rimporting %s [%s%s] %3d%% %d/%d %s", p.what, strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		done*100/total, done, total, time.Since(p.start).Round(time.Second))
	p.drawn = true
}

func (p *progressBar) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
