package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/people"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// orgColumns maps the header names an organizations file may use to the importer's
// columns. Columns named organization_fields.<key> set custom organization fields.
var orgColumns = map[string]string{
	"name":              "name",
	"organization":      "name",
	"organization_name": "name",
	"external_id":       "external_id",
	"externalid":        "external_id",
	"details":           "details",
	"notes":             "notes",
	"domain_names":      "domain_names",
	"domain_name":       "domain_names",
	"domains":           "domain_names",
	"shared_tickets":    "shared_tickets",
	"shared_comments":   "shared_comments",
	"group":             "group",
	"group_name":        "group",
	"group_id":          "group_id",
	"tags":              "tags",
}

// optBool is a yes/no cell; Set is false when the cell is empty.
type optBool struct{ Set, Value bool }

// orgRow is one data row of an organizations file, checked and normalized.
type orgRow struct {
	line int
	key  string
	err  error

	name, externalID, details, notes, group string

	groupID                       ids.Group
	domains, tags                 []string
	hasDomains, hasTags           bool
	sharedTickets, sharedComments optBool
	fields                        map[string]any
}

// ImportOrganizations imports the organizations of a CSV file into the account.
//
// Columns (header names are case-insensitive; the order is free): name, external_id,
// details, notes, domain_names (separated by spaces or commas), shared_tickets and
// shared_comments (true/false, yes/no, 1/0), group (a group's name; group_id takes its
// ID), tags (separated by spaces), and organization_fields.<key> for custom fields.
// Every row needs a name or an external_id. Users with a verified email in a new domain
// join the organization, as when it is created through the API.
//
// progress and the returned report and error work as for ImportUsers.
func ImportOrganizations(ctx context.Context, db *store.DB, acct *account.Account, r io.Reader, opts Options, progress func(done, total int)) (*Report, error) {
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
	h, warnings, err := readHeader(recs[0], orgColumns, "organization_fields.")
	if err != nil {
		return nil, err
	}
	if !h.has("name") && !h.has("external_id") {
		return nil, errs.E(errs.BadRequest, "The file needs a name or an external_id column, to match its rows with organizations")
	}
	rows := prepareOrgs(h, recs[1:])
	rep := &Report{Kind: "organizations", Warnings: warnings, DryRun: opts.DryRun, Rows: make([]RowResult, 0, len(rows))}
	imp := &orgImporter{acct: acct, opts: opts}
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

func prepareOrgs(h *header, recs []record) []orgRow {
	rows := make([]orgRow, len(recs))
	names := map[string]int{}
	externals := map[string]int{}
	for i, rec := range recs {
		row := &rows[i]
		row.line = rec.line
		c, err := checkCells(h, rec, "details", "notes")
		if err != nil {
			row.err = err
			continue
		}
		if row.err = row.fill(c); row.err != nil {
			continue
		}
		if first, dup := names[strings.ToLower(row.name)]; dup && row.name != "" {
			row.err = fieldErr("name", "DuplicateValue", "%s is already on line %d of this file", row.name, first)
			continue
		}
		if first, dup := externals[strings.ToLower(row.externalID)]; dup && row.externalID != "" {
			row.err = fieldErr("external_id", "DuplicateValue", "%s is already on line %d of this file", row.externalID, first)
			continue
		}
		if row.name != "" {
			names[strings.ToLower(row.name)] = row.line
		}
		if row.externalID != "" {
			externals[strings.ToLower(row.externalID)] = row.line
		}
	}
	return rows
}

func (row *orgRow) fill(c cells) error {
	row.name, row.externalID = c.get("name"), c.get("external_id")
	row.details, row.notes, row.group = c.get("details"), c.get("notes"), c.get("group")
	row.key = row.name
	if row.key == "" {
		row.key = row.externalID
	}
	if row.name == "" && row.externalID == "" {
		return fieldErr("name", "BlankValue", "cannot be blank when external_id is: a row needs one of them")
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{{"name", row.name, org.MaxName}, {"external_id", row.externalID, org.MaxExternalID}, {"details", row.details, org.MaxText}, {"notes", row.notes, org.MaxText}, {"group", row.group, org.MaxName}} {
		if utf8.RuneCountInString(f.value) > f.max {
			return fieldErr(f.field, "TooLong", "is too long (maximum is %d characters)", f.max)
		}
	}
	if cell := c.get("group_id"); cell != "" {
		n, err := strconv.ParseInt(cell, 10, 64)
		if err != nil || n <= 0 {
			return fieldErr("group_id", "InvalidValue", "must be a group's ID, not %q", cell)
		}
		row.groupID = ids.Group(n)
	}
	if cell := c.get("domain_names"); cell != "" {
		norm, bad := org.NormalizeDomains([]string{cell})
		if len(bad) > 0 {
			return fieldErr("domain_names", "InvalidValue", "%q is not a domain name", bad[0])
		}
		if len(norm) > org.MaxDomains {
			return fieldErr("domain_names", "TooLong", "has too many domains (maximum is %d)", org.MaxDomains)
		}
		row.domains, row.hasDomains = norm, true
	}
	if cell := c.get("tags"); cell != "" {
		row.tags, row.hasTags = ticket.NormalizeTags([]string{cell}), true
		if len(row.tags) > org.MaxTags {
			return fieldErr("tags", "TooLong", "has too many tags (maximum is %d)", org.MaxTags)
		}
		for _, t := range row.tags {
			if utf8.RuneCountInString(t) > org.MaxTag {
				return fieldErr("tags", "TooLong", "has a tag longer than %d characters", org.MaxTag)
			}
		}
	}
	var err error
	if row.sharedTickets, err = parseBool(c, "shared_tickets"); err != nil {
		return err
	}
	if row.sharedComments, err = parseBool(c, "shared_comments"); err != nil {
		return err
	}
	row.fields = c.custom()
	return nil
}

func parseBool(c cells, col string) (optBool, error) {
	switch v := strings.ToLower(c.get(col)); v {
	case "":
		return optBool{}, nil
	case "true", "yes", "y", "1", "t", "x":
		return optBool{true, true}, nil
	case "false", "no", "n", "0", "f":
		return optBool{true, false}, nil
	default:
		return optBool{}, fieldErr(col, "InvalidValue", "must be true or false, not %q", c.get(col))
	}
}

// orgImporter writes organization rows into one account.
type orgImporter struct {
	acct     *account.Account
	opts     Options
	groups   map[string]ids.Group // lowercase name -> live group
	groupIDs map[ids.Group]bool   // live groups
}

// begin reads the account's live groups, which rows name.
func (imp *orgImporter) begin(ctx context.Context, tx *store.Tx, _, _ int) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, name FROM groups WHERE account_id = ? AND deleted = FALSE`, imp.acct.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	imp.groups, imp.groupIDs = map[string]ids.Group{}, map[ids.Group]bool{}
	for rows.Next() {
		var id ids.Group
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		imp.groups[strings.ToLower(name)], imp.groupIDs[id] = id, true
	}
	return rows.Err()
}

func (imp *orgImporter) apply(ctx context.Context, tx *rowTx, r *orgRow) (RowResult, error) {
	res := RowResult{Line: r.line, Key: r.key}
	existing, err := imp.find(ctx, tx, r)
	if err != nil {
		return res, err
	}
	var o org.Organization
	if existing != nil {
		o = *existing
		o.Tags, o.DomainNames, o.Fields = slices.Clone(existing.Tags), slices.Clone(existing.DomainNames), maps.Clone(existing.Fields)
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&o.Name, r.name)
	set(&o.ExternalID, r.externalID)
	set(&o.Details, r.details)
	set(&o.Notes, r.notes)
	if r.hasDomains {
		o.DomainNames = r.domains
	}
	if r.hasTags {
		o.Tags = r.tags
	}
	if r.sharedTickets.Set {
		o.SharedTickets = r.sharedTickets.Value
	}
	if r.sharedComments.Set {
		o.SharedComments = r.sharedComments.Value
	}
	if o.Fields == nil {
		o.Fields = map[string]any{}
	}
	maps.Copy(o.Fields, r.fields)
	switch {
	case r.group != "":
		g, ok := imp.groups[strings.ToLower(r.group)]
		if !ok {
			return res, fieldErr("group", "InvalidValue", "%q is not a group of this account", r.group)
		}
		o.GroupID = g
	case r.groupID != 0:
		if !imp.groupIDs[r.groupID] {
			return res, fieldErr("group_id", "InvalidValue", "group %d does not exist", r.groupID)
		}
		o.GroupID = r.groupID
	}
	if existing == nil && o.Name == "" {
		return res, fieldErr("name", "BlankValue", "cannot be blank for a new organization")
	}
	if existing != nil {
		res.ID, res.Status = int64(o.ID), Unchanged
		if len(people.OrgChanges(existing, &o)) == 0 {
			return res, nil
		}
	}
	if err := tx.save(ctx); err != nil {
		return res, err
	}
	out, err := people.WriteOrg(ctx, tx.Tx, imp.acct, people.By(imp.opts.Actor), &people.OrgChange{Before: existing, Org: &o})
	if err != nil {
		return res, err
	}
	res.ID, res.Status = int64(out.Org.ID), Updated
	if out.Created {
		res.Status = Created
	}
	return res, nil
}

// find looks the row's organization up by external ID, then by name.
func (imp *orgImporter) find(ctx context.Context, tx *rowTx, r *orgRow) (*org.Organization, error) {
	var byExt, byName *org.Organization
	var err error
	if r.externalID != "" {
		byExt, err = org.OrgByExternalID(ctx, tx.Tx, imp.acct.ID, r.externalID)
		if errs.Is(err, errs.NotFound) {
			byExt, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if r.name != "" && (byExt == nil || !strings.EqualFold(byExt.Name, r.name)) {
		byName, err = org.ScanOrg(tx.QueryRowContext(ctx, `SELECT `+org.OrgCols+` FROM organizations WHERE account_id = ? AND name_lower = ?`, imp.acct.ID, strings.ToLower(r.name)))
		if errors.Is(err, store.ErrNoRows) {
			byName, err = nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("importer: organization by name: %w", err)
		}
	}
	switch {
	case byExt == nil:
		return byName, nil
	case byName != nil && byName.ID != byExt.ID:
		return nil, fieldErr("name", "DuplicateValue", "%s is the name of organization %d, not of organization %d whose external_id is %s", r.name, byName.ID, byExt.ID, r.externalID)
	}
	return byExt, nil
}
