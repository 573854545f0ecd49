package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/people"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// userColumns maps the header names a users file may use to the importer's columns.
// Columns named user_fields.<key> set custom user fields.
var userColumns = map[string]string{
	"name":               "name",
	"full_name":          "name",
	"email":              "email",
	"email_address":      "email",
	"external_id":        "external_id",
	"externalid":         "external_id",
	"role":               "role",
	"organization":       "organization",
	"organizations":      "organization",
	"organization_name":  "organization",
	"tags":               "tags",
	"details":            "details",
	"notes":              "notes",
	"phone":              "phone",
	"alias":              "alias",
	"restriction":        "restriction",
	"ticket_restriction": "restriction",
}

// userRow is one data row of a users file, checked and normalized.
type userRow struct {
	line int
	key  string
	err  error // what is wrong with the row, found before writing

	name, email, externalID, phone, details, notes, alias, restriction string

	role    identity.Role // "" when not given
	orgs    []string      // organization names, the default first
	tags    []string
	hasTags bool
	fields  map[string]any
}

// ImportUsers imports the users of a CSV file into the account.
//
// Columns (header names are case-insensitive; the order is free): name, email,
// external_id, role (end-user, agent or admin; end-user for new users when empty),
// organization (organization names separated by |, the first becoming the user's
// default; they must exist), tags (separated by spaces), details, notes, phone, alias,
// restriction (an agent's ticket restriction: organization, groups, assigned or
// requested), and user_fields.<key> for custom fields. Every row needs an email or an
// external_id, so that importing the file again finds the same user.
//
// Emails in the file count as verified (the admin vouches for them), so new users join
// the organizations whose domain names include their email's domain. Organizations in a
// row are added to the user's memberships (never removed; on plans with one
// organization per user, the row's organization replaces the user's).
//
// progress, if not nil, is called with the number of rows done (0 first, then after
// each batch has committed, from the calling goroutine, outside any transaction: it may
// write the progress to the database). The report is returned with any error that
// stopped the import (a database failure, or ctx ending); rows already committed stay
// imported and are in the report. Errors before any row is read (not CSV, no header,
// an actor who is not an admin) come without a report: they are errs codes BadRequest
// or Forbidden, with a message for people. The whole file is read into memory: callers
// that take uploads bound the reader.
func ImportUsers(ctx context.Context, db *store.DB, acct *account.Account, r io.Reader, opts Options, progress func(done, total int)) (*Report, error) {
	started := time.Now()
	if err := requireAccount(acct); err != nil {
		return nil, err
	}
	if err := checkActor(opts); err != nil {
		return nil, err
	}
	data, err := readInput(r)
	if err != nil {
		return nil, err
	}
	recs := parseCSV(data, separator(data))
	h, warnings, err := readHeader(recs[0], userColumns, "user_fields.")
	if err != nil {
		return nil, err
	}
	if !h.has("email") && !h.has("external_id") {
		return nil, errs.E(errs.BadRequest, "The file needs an email or an external_id column, to match its rows with users")
	}
	rows := prepareUsers(acct, h, recs[1:])
	rep := &Report{Kind: "users", Warnings: warnings, DryRun: opts.DryRun, Rows: make([]RowResult, 0, len(rows))}
	imp := &userImporter{acct: acct, opts: opts, rows: rows, orgIDs: map[string]ids.Org{}}
	b := &batchRunner{db: db, opts: opts, rep: rep, progress: progress}
	err = b.run(ctx, len(rows), func(i int) (RowResult, bool) {
		if rows[i].err != nil {
			return failure(rows[i].line, rows[i].key, rows[i].err, opts.Log), true
		}
		return RowResult{}, false
	}, imp.begin, func(ctx context.Context, tx *rowTx, i int) (RowResult, error) {
		return imp.apply(ctx, tx, &rows[i])
	})
	rep.Elapsed = time.Since(started)
	return rep, err
}

// prepareUsers checks every row in Go: encoding, formats, lengths, the plan's limit of
// organizations, and duplicates within the file (the first row with an email or
// external ID wins; later ones fail).
func prepareUsers(acct *account.Account, h *header, recs []record) []userRow {
	rows := make([]userRow, len(recs))
	emails := map[string]int{}
	externals := map[string]int{}
	for i, rec := range recs {
		row := &rows[i]
		row.line = rec.line
		c, err := checkCells(h, rec, "details", "notes")
		if err != nil {
			row.err = err
			continue
		}
		row.err = row.fill(acct, c)
		if row.err != nil {
			continue
		}
		if first, dup := emails[row.email]; dup && row.email != "" {
			row.err = fieldErr("email", "DuplicateValue", "%s is already on line %d of this file", row.email, first)
			continue
		}
		if first, dup := externals[strings.ToLower(row.externalID)]; dup && row.externalID != "" {
			row.err = fieldErr("external_id", "DuplicateValue", "%s is already on line %d of this file", row.externalID, first)
			continue
		}
		if row.email != "" {
			emails[row.email] = row.line
		}
		if row.externalID != "" {
			externals[strings.ToLower(row.externalID)] = row.line
		}
	}
	return rows
}

// fill reads the row's cells.
func (row *userRow) fill(acct *account.Account, c cells) error {
	row.name, row.externalID = c.get("name"), c.get("external_id")
	row.phone, row.details, row.notes, row.alias = c.get("phone"), c.get("details"), c.get("notes"), c.get("alias")
	row.key = row.externalID
	if raw := c.get("email"); raw != "" {
		norm, ok := identity.NormalizeEmail(raw)
		row.key = raw
		if !ok {
			return fieldErr("email", "InvalidValue", "%q is not a valid email address", raw)
		}
		row.email, row.key = norm, norm
	}
	if row.key == "" {
		row.key = row.name
	}
	if row.email == "" && row.externalID == "" {
		return fieldErr("email", "BlankValue", "cannot be blank when external_id is: a row needs one of them, so that importing the file again updates the user instead of adding another")
	}
	switch role := strings.ReplaceAll(strings.ReplaceAll(strings.ToLower(c.get("role")), "_", "-"), " ", "-"); role {
	case "":
	case "end-user", "enduser", "user", "requester":
		row.role = identity.EndUser
	case "agent":
		row.role = identity.Agent
	case "admin", "administrator":
		row.role = identity.Admin
	default:
		return fieldErr("role", "InvalidValue", "must be end-user, agent or admin, not %q", c.get("role"))
	}
	row.restriction = strings.ToLower(c.get("restriction"))
	if cell := c.get("organization"); cell != "" {
		seen := map[string]bool{}
		for _, name := range strings.Split(cell, "|") {
			name = strings.TrimSpace(name)
			if name == "" || seen[strings.ToLower(name)] {
				continue
			}
			if utf8.RuneCountInString(name) > org.MaxName {
				return fieldErr("organization", "TooLong", "names an organization longer than %d characters", org.MaxName)
			}
			seen[strings.ToLower(name)] = true
			row.orgs = append(row.orgs, name)
		}
		if err := people.CheckOrgCount(acct, len(row.orgs)); err != nil {
			return orgColumnErr(err)
		}
	}
	if cell := c.get("tags"); cell != "" {
		row.tags, row.hasTags = ticket.NormalizeTags([]string{cell}), true
	}
	row.fields = c.custom()
	// Check lengths and formats with the same rules as the API (a stand-in name, since
	// an existing user's row may leave it out).
	probe := identity.User{Name: row.name, Email: row.email, Role: row.role, ExternalID: row.externalID, Phone: row.phone,
		Details: row.details, Notes: row.notes, Alias: row.alias, Tags: row.tags, TicketRestriction: row.restriction}
	if probe.Name == "" {
		probe.Name = "-"
	}
	if probe.Role == "" {
		probe.Role = identity.EndUser
	}
	return identity.Validate(&probe)
}

// userImporter writes user rows into one account.
type userImporter struct {
	acct   *account.Account
	opts   Options
	rows   []userRow
	orgIDs map[string]ids.Org // lowercase name -> organization, as found so far

	// Read at the start of each batch:
	byExt   map[string]*identity.User // lowercase external ID -> user, for the batch's rows
	byEmail map[string]*identity.User // email (any identity) -> its user, for the batch's rows
	touched map[ids.User]bool         // users the batch has changed (their prefetched copy is stale)
}

// lookupChunk is how many keys one prefetch query asks for; chunks are padded to it, so
// that every prefetch is the same (prepared) statement.
const lookupChunk = 100

// begin reads what the batch's rows need, in a few queries instead of a few per row:
// the users the rows' external IDs and emails name.
func (imp *userImporter) begin(ctx context.Context, tx *store.Tx, start, end int) error {
	imp.byExt, imp.byEmail, imp.touched = map[string]*identity.User{}, map[string]*identity.User{}, map[ids.User]bool{}
	var exts, emails []string
	for i := start; i < end; i++ {
		if r := &imp.rows[i]; r.err == nil {
			if r.externalID != "" {
				exts = append(exts, strings.ToLower(r.externalID))
			}
			if r.email != "" {
				emails = append(emails, r.email)
			}
		}
	}
	err := inChunks(exts, func(keys []any) error {
		return imp.prefetch(ctx, tx, byExternalIDs, keys, imp.byExt)
	})
	if err != nil {
		return err
	}
	return inChunks(emails, func(keys []any) error {
		return imp.prefetch(ctx, tx, byEmails, keys, imp.byEmail)
	})
}

// usersLookup finds the users of lookupChunk keys in one query, each row starting with
// its key. SQLite searches the index once per value of an IN list. PostgreSQL, while its
// statistics still describe the table as it was before the import, may instead read
// every index entry of the account and filter them, which makes a large import
// quadratic; there each key is looked up in a LATERAL subquery (whose LIMIT keeps the
// planner from flattening it into a join), which always uses the index.
type usersLookup struct {
	sqlite   string // arguments: the account, then the keys
	postgres string // arguments: the keys, then the account
}

var pgKeys = strings.TrimSuffix(strings.Repeat("(?::text),", lookupChunk), ",")

var byExternalIDs = usersLookup{
	sqlite: `SELECT external_id_lower, ` + identity.UserCols + ` FROM users WHERE account_id = ? AND external_id_lower IN (` + store.In(lookupChunk) + `)`,
	postgres: `SELECT k.key, u.* FROM (VALUES ` + pgKeys + `) AS k(key) CROSS JOIN LATERAL
		(SELECT ` + identity.UserCols + ` FROM users WHERE account_id = ? AND external_id_lower = k.key LIMIT 1) u`,
}

var byEmails = usersLookup{
	sqlite: `SELECT i.value, ` + userColsAs("u.") + ` FROM user_identities i JOIN users u ON u.account_id = i.account_id AND u.id = i.user_id
		WHERE i.account_id = ? AND i.type = 'email' AND i.value IN (` + store.In(lookupChunk) + `)`,
	postgres: `SELECT k.key, u.* FROM (VALUES ` + pgKeys + `) AS k(key) CROSS JOIN LATERAL
		(SELECT ` + userColsAs("u.") + ` FROM user_identities i JOIN users u ON u.account_id = i.account_id AND u.id = i.user_id
		WHERE i.account_id = ? AND i.type = 'email' AND i.value = k.key LIMIT 1) u`,
}

// prefetch runs a lookup, putting each user found under its key.
func (imp *userImporter) prefetch(ctx context.Context, tx *store.Tx, l usersLookup, keys []any, into map[string]*identity.User) error {
	q, args := l.sqlite, append([]any{imp.acct.ID}, keys...)
	if tx.D() == store.Postgres {
		q, args = l.postgres, append(keys, imp.acct.ID)
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("importer: look users up: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		u, err := identity.ScanUser(keyed{rows, &key})
		if err != nil {
			return err
		}
		into[key] = u
	}
	return rows.Err()
}

// keyed scans a leading key column, then hands the rest to ScanUser.
type keyed struct {
	row interface{ Scan(...any) error }
	key *string
}

func (k keyed) Scan(dest ...any) error { return k.row.Scan(append([]any{k.key}, dest...)...) }

// userColsAs is identity.UserCols with each column prefixed (u.id, u.account_id, ...).
func userColsAs(prefix string) string {
	cols := strings.Split(identity.UserCols, ", ")
	for i := range cols {
		cols[i] = prefix + cols[i]
	}
	return strings.Join(cols, ", ")
}

// inChunks calls f with the values in groups of lookupChunk, the last one padded by
// repeating its first value.
func inChunks(vals []string, f func(args []any) error) error {
	for len(vals) > 0 {
		n := min(len(vals), lookupChunk)
		args := make([]any, lookupChunk)
		for i := range args {
			if i < n {
				args[i] = vals[i]
			} else {
				args[i] = vals[0]
			}
		}
		if err := f(args); err != nil {
			return err
		}
		vals = vals[n:]
	}
	return nil
}

func (imp *userImporter) apply(ctx context.Context, tx *rowTx, r *userRow) (RowResult, error) {
	res := RowResult{Line: r.line, Key: r.key}
	existing, byEmail, err := imp.find(ctx, tx, r)
	if err != nil {
		return res, err
	}
	if existing == nil {
		u, err := imp.create(ctx, tx, r)
		if err != nil {
			return res, err
		}
		res.ID, res.Status = int64(u.ID), Created
		return res, nil
	}
	res.ID = int64(existing.ID)
	changed, err := imp.update(ctx, tx, existing, byEmail, r)
	if err != nil {
		return res, err
	}
	res.Status = Unchanged
	if changed {
		res.Status = Updated
		imp.touched[existing.ID] = true
	}
	return res, nil
}

// find looks the row's user up by external ID, then by email, in what begin read. It
// also returns the owner of the row's email, which may be the user (by a secondary
// address) or nobody.
func (imp *userImporter) find(ctx context.Context, tx *rowTx, r *userRow) (existing, byEmail *identity.User, err error) {
	if r.externalID != "" {
		existing = imp.byExt[strings.ToLower(r.externalID)]
	}
	if r.email != "" {
		byEmail = imp.byEmail[r.email]
	}
	switch {
	case existing == nil:
		existing = byEmail
	case byEmail != nil && byEmail.ID != existing.ID:
		return nil, nil, fieldErr("email", "DuplicateValue", "%s belongs to user %d, not to user %d whose external_id is %s", r.email, byEmail.ID, existing.ID, r.externalID)
	}
	if existing != nil && imp.touched[existing.ID] {
		// An earlier row of the batch changed this user (a file naming one user by two
		// keys): start from what is stored now.
		if existing, err = identity.Get(ctx, tx, imp.acct.ID, existing.ID); err != nil {
			return nil, nil, err
		}
	}
	return existing, byEmail, nil
}

func (imp *userImporter) create(ctx context.Context, tx *rowTx, r *userRow) (*identity.User, error) {
	u := &identity.User{AccountID: imp.acct.ID, Name: r.name, Email: r.email, Role: r.role, Verified: r.email != "",
		ExternalID: r.externalID, Phone: r.phone, Details: r.details, Notes: r.notes, Alias: r.alias,
		Tags: r.tags, UserFields: r.fields, TicketRestriction: r.restriction}
	if u.Role == "" {
		u.Role = identity.EndUser
	}
	if strings.TrimSpace(u.Name) == "" {
		return nil, fieldErr("name", "BlankValue", "cannot be blank for a new user")
	}
	// Checked before writing, so that a bad row needs no savepoint (people.WriteUser
	// checks again).
	if err := identity.Validate(u); err != nil {
		return nil, err
	}
	want, err := imp.orgs(ctx, tx, r)
	if err != nil {
		return nil, err
	}
	if err := tx.save(ctx); err != nil {
		return nil, err
	}
	res, err := people.WriteUser(ctx, tx.Tx, imp.acct, people.By(imp.opts.Actor), &people.UserChange{User: u, Organizations: want})
	if err != nil {
		return nil, orgColumnErr(err)
	}
	return res.User, nil
}

// update applies the row's non-empty cells to the user and writes only what differs.
func (imp *userImporter) update(ctx context.Context, tx *rowTx, before, byEmail *identity.User, r *userRow) (bool, error) {
	if !before.Active {
		return false, &rowError{Code: "InvalidValue", Reason: "the user has been deleted; an import does not bring users back"}
	}
	u := *before
	u.Tags, u.UserFields = slices.Clone(before.Tags), maps.Clone(before.UserFields)
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&u.Name, r.name)
	set(&u.ExternalID, r.externalID)
	set(&u.Phone, r.phone)
	set(&u.Details, r.details)
	set(&u.Notes, r.notes)
	set(&u.Alias, r.alias)
	if r.email != "" && r.email != before.Email && (byEmail == nil || byEmail.ID != before.ID) {
		// Matched by external ID, with an address the user does not have yet: it
		// becomes the primary one.
		u.Email, u.Verified = r.email, true
	}
	if r.role != "" {
		u.Role = r.role
	}
	if r.hasTags {
		u.Tags = r.tags
	}
	if u.UserFields == nil {
		u.UserFields = map[string]any{}
	}
	maps.Copy(u.UserFields, r.fields)
	set(&u.TicketRestriction, r.restriction) // people.WriteUser clears it for end users
	if err := identity.Validate(&u); err != nil {
		return false, err
	}
	want, err := imp.orgs(ctx, tx, r)
	if err != nil {
		return false, err
	}
	if len(people.Changes(before, &u)) == 0 && len(want) == 0 {
		return false, nil
	}
	if err := tx.save(ctx); err != nil {
		return false, err
	}
	res, err := people.WriteUser(ctx, tx.Tx, imp.acct, people.By(imp.opts.Actor), &people.UserChange{Before: before, User: &u, Organizations: want})
	if err != nil {
		return false, orgColumnErr(err)
	}
	return res.Changed, nil
}

// orgs finds the row's organizations, by name.
func (imp *userImporter) orgs(ctx context.Context, tx *rowTx, r *userRow) ([]ids.Org, error) {
	want := make([]ids.Org, 0, len(r.orgs))
	for _, name := range r.orgs {
		id, err := imp.orgID(ctx, tx, name)
		if err != nil {
			return nil, err
		}
		want = append(want, id)
	}
	return want, nil
}

// orgColumnErr names the file's organization column in a membership error (the org
// package names the API's organization_id).
func orgColumnErr(err error) error {
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid && len(e.Details["organization_id"]) > 0 {
		fe := e.Details["organization_id"][0]
		_, reason, _ := strings.Cut(fe.Description, ": ")
		return &rowError{Field: "organization", Code: fe.Error, Reason: reason}
	}
	return err
}

// orgID finds an organization by name (case-insensitively).
func (imp *userImporter) orgID(ctx context.Context, tx *rowTx, name string) (ids.Org, error) {
	k := strings.ToLower(name)
	if id, ok := imp.orgIDs[k]; ok {
		return id, nil
	}
	var id ids.Org
	err := tx.QueryRowContext(ctx, `SELECT id FROM organizations WHERE account_id = ? AND name_lower = ?`, imp.acct.ID, k).Scan(&id)
	if errors.Is(err, store.ErrNoRows) {
		return 0, fieldErr("organization", "InvalidValue", "%q does not exist (import organizations before the users in them)", name)
	}
	if err != nil {
		return 0, err
	}
	imp.orgIDs[k] = id
	return id, nil
}
