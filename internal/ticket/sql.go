package ticket

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/jsonenc"
	"tandem/internal/store"
)

// Cols is the ticket column list matching Scan (unqualified).
const Cols = `account_id, id, external_id, type, subject, description, priority, status, recipient, requester_id, submitter_id, assignee_id, organization_id, group_id, collaborator_ids, follower_ids, email_cc_ids, problem_id, is_public, due_at, tags, custom_fields, via, via_id, version, deleted_at, created_at, updated_at, solved_at, opened_at, pending_at, hold_at, assigned_at, requester_updated_at, assignee_updated_at, sla_breach_at, satisfaction_score, first_reply_at, schedule_id`

// scanned holds the columns of a ticket row that Scan converts. Scanning through a
// variadic interface call moves each destination to the heap: in one struct they are
// one allocation a row instead of 27.
// The named integer types (ids.Ticket, ids.User, ...) are scanned as plain int64 and
// converted here: database/sql converts into a named type by reflection, one
// allocation a value.
type scanned struct {
	ext, typ, prio, recip                                                                   sql.NullString
	asg, orgID, grp, prob                                                                   sql.NullInt64
	acct, id, req, sub, viaID                                                               int64
	collab, follow, ccs, tags, fields, via                                                  string
	due, del, c, u, solved, opened, pending, hold, assigned, requ, asgu, breach, firstReply int64
}

// ticketCols is how many columns Cols names.
const ticketCols = 39

// Scan reads one ticket row selected with Cols.
func Scan(row interface{ Scan(...any) error }) (*Ticket, error) {
	return scanTicket(row)
}

// scanTicket reads one ticket row selected with Cols and, into extra, the columns
// selected after them (a list's ordering keys) in the same call.
func scanTicket(row interface{ Scan(...any) error }, extra ...any) (*Ticket, error) {
	var t Ticket
	s := new(scanned)
	dest := make([]any, 0, ticketCols+len(extra))
	dest = append(dest, &s.acct, &s.id, &s.ext, &s.typ, &t.Subject, &t.Description, &s.prio, &t.Status, &s.recip, &s.req, &s.sub,
		&s.asg, &s.orgID, &s.grp, &s.collab, &s.follow, &s.ccs, &s.prob, &t.IsPublic, &s.due, &s.tags, &s.fields, &s.via, &s.viaID, &t.Version, &s.del, &s.c, &s.u, &s.solved, &s.opened, &s.pending, &s.hold, &s.assigned, &s.requ, &s.asgu, &s.breach, &t.SatisfactionScore, &s.firstReply, &t.ScheduleID)
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	t.AccountID, t.ID, t.RequesterID, t.SubmitterID, t.Via.ID = ids.Account(s.acct), ids.Ticket(s.id), ids.User(s.req), ids.User(s.sub), int(s.viaID)
	t.ExternalID, t.Type, t.Priority, t.Recipient = s.ext.String, s.typ.String, s.prio.String, s.recip.String
	t.AssigneeID, t.OrganizationID, t.GroupID, t.ProblemID = ids.User(s.asg.Int64), ids.Org(s.orgID.Int64), ids.Group(s.grp.Int64), ids.Ticket(s.prob.Int64)
	t.DueAt, t.DeletedAt, t.CreatedAt, t.UpdatedAt, t.SolvedAt = store.Time(s.due), store.Time(s.del), store.Time(s.c), store.Time(s.u), store.Time(s.solved)
	t.OpenedAt, t.PendingAt, t.HoldAt, t.AssignedAt = store.Time(s.opened), store.Time(s.pending), store.Time(s.hold), store.Time(s.assigned)
	t.RequesterUpdatedAt, t.AssigneeUpdatedAt, t.SLABreachAt = store.Time(s.requ), store.Time(s.asgu), store.Time(s.breach)
	t.FirstReplyAt = store.Time(s.firstReply)
	var raw map[string]any
	err := decodeColumns("ticket", int64(t.ID),
		column{"collaborator_ids", s.collab, &t.CollaboratorIDs}, column{"follower_ids", s.follow, &t.FollowerIDs},
		column{"email_cc_ids", s.ccs, &t.EmailCCIDs}, column{"tags", s.tags, &t.Tags}, column{"via", s.via, &t.Via})
	if err != nil {
		return nil, err
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	if s.fields == "{}" {
		// Most tickets hold no field values: no map to decode into and copy from.
		t.CustomFields = map[int64]any{}
		return &t, nil
	}
	if err := decodeColumns("ticket", int64(t.ID), column{"custom_fields", s.fields, &raw}); err != nil {
		return nil, err
	}
	t.CustomFields = make(map[int64]any, len(raw))
	for k, v := range raw {
		if id, err := strconv.ParseInt(k, 10, 64); err == nil {
			if arr, ok := v.([]any); ok {
				ss := make([]string, 0, len(arr))
				for _, x := range arr {
					if s, ok := x.(string); ok {
						ss = append(ss, s)
					}
				}
				v = ss
			}
			t.CustomFields[id] = v
		}
	}
	return &t, nil
}

// column is one JSON-encoded column of a scanned row and where it decodes to.
type column struct {
	name string
	raw  string
	dst  any
}

// decodeColumns decodes a row's JSON columns. A column that does not decode is corrupt
// data: the read fails with the row and the column named, rather than showing the row
// with the value silently missing (and then writing that loss back on the next save).
func decodeColumns(table string, id int64, cols ...column) error {
	for _, c := range cols {
		if decodePlain(c.raw, c.dst) {
			continue
		}
		if err := json.Unmarshal([]byte(c.raw), c.dst); err != nil {
			return fmt.Errorf("ticket: %s %d: column %s holds invalid JSON: %w", table, id, c.name, err)
		}
	}
	return nil
}

// decodePlain decodes, as json.Unmarshal would into a zero dst, the values most JSON
// columns hold: null, an empty list or object, a list of plain strings (tags). It
// reports false for anything else, left to json.Unmarshal: on an export page of 1,000
// tickets, six json.Unmarshal calls a ticket were a quarter of reading them.
func decodePlain(raw string, dst any) bool {
	if raw == "null" {
		return true
	}
	switch d := dst.(type) {
	case *[]ids.User:
		if raw == "[]" {
			*d = []ids.User{}
			return true
		}
	case *map[string]any:
		if raw == "{}" {
			*d = map[string]any{}
			return true
		}
	case *Via:
		// A via with an empty source, as every API, web and rule write stores it, or
		// with none (bulk-loaded tickets: the benchmark seeder's).
		ch, pre := strings.CutPrefix(raw, `{"channel":"`)
		if !pre {
			return false
		}
		if bare, ok := strings.CutSuffix(ch, `"}`); ok && plainText(bare) {
			d.Channel = bare
			return true
		}
		ch, suf := strings.CutSuffix(ch, `","source":{"from":{},"rel":null,"to":{}}}`)
		if !suf || !plainText(ch) {
			return false
		}
		d.Channel = ch
		d.Source = map[string]any{"from": map[string]any{}, "rel": nil, "to": map[string]any{}}
		return true
	case *[]string:
		list, ok := plainStrings(raw)
		if ok {
			*d = list
		}
		return ok
	}
	return false
}

// plainStrings reads a compact JSON list of strings made of printable ASCII without
// escapes (["a","b"]), or reports false.
func plainStrings(raw string) ([]string, bool) {
	if raw == "[]" {
		return []string{}, true
	}
	if len(raw) < 4 || !strings.HasPrefix(raw, `["`) || !strings.HasSuffix(raw, `"]`) {
		return nil, false
	}
	inner := raw[2 : len(raw)-2]
	if !plainASCII(inner) {
		return nil, false
	}
	// Without escapes a quote only ends or starts a string: "," separates the values.
	list := strings.Split(inner, `","`)
	for _, v := range list {
		if strings.IndexByte(v, '"') >= 0 {
			return nil, false
		}
	}
	return list, true
}

// plainASCII reports whether s is printable ASCII without a backslash: inside JSON
// quotes, it is its own text.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// plainText reports whether s, between JSON quotes, is one string read as itself.
func plainText(s string) bool {
	return plainASCII(s) && !strings.Contains(s, `"`)
}

// jsonText is v as json.Marshal writes it ("" if it cannot be), through jsonenc: an
// audit's events, the vias and metadata, tags and custom fields are maps and lists that
// the writer encoded by reflection at every write (a sixth of a create's allocations).
func jsonText(v any) string {
	var b bytes.Buffer
	var err error
	switch x := v.(type) {
	case []Event:
		err = jsonenc.List(&b, x, func(e Event) error { return jsonenc.Map(&b, e) })
	case Via:
		b.WriteString(`{"channel":`)
		jsonenc.String(&b, x.Channel)
		b.WriteString(`,"source":`)
		err = jsonenc.Map(&b, x.Source)
		b.WriteByte('}')
	case []ids.User:
		err = jsonenc.List(&b, x, func(u ids.User) error {
			b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(u), 10))
			return nil
		})
	default:
		err = jsonenc.Value(&b, v)
	}
	if err != nil {
		return ""
	}
	return b.String()
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullID[T ~int64](v T) any {
	if v == 0 {
		return nil
	}
	return int64(v)
}

func fieldsJSON(m map[int64]any) string {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[strconv.FormatInt(k, 10)] = v
	}
	return jsonText(out)
}

func userList(u []ids.User) string {
	if u == nil {
		u = []ids.User{}
	}
	return jsonText(u)
}

// ticketValues is the VALUES row of insertTicket, and ticketArgs its arguments.
const ticketValues = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func ticketArgs(t *Ticket) []any {
	return []any{t.AccountID, t.ID, nullStr(t.ExternalID), nullStr(t.Type), t.Subject, t.Description, nullStr(t.Priority), string(t.Status), nullStr(t.Recipient),
		t.RequesterID, t.SubmitterID, nullID(t.AssigneeID), nullID(t.OrganizationID), nullID(t.GroupID), userList(t.CollaboratorIDs), userList(t.FollowerIDs),
		userList(t.EmailCCIDs), nullID(t.ProblemID), t.IsPublic, store.Micros(t.DueAt), jsonText(t.Tags), fieldsJSON(t.CustomFields), jsonText(t.Via), t.Via.ID,
		t.Version, store.Micros(t.DeletedAt), store.Micros(t.CreatedAt), store.Micros(t.UpdatedAt), store.Micros(t.SolvedAt), store.Micros(t.OpenedAt), store.Micros(t.PendingAt), store.Micros(t.HoldAt),
		store.Micros(t.AssignedAt), store.Micros(t.RequesterUpdatedAt), store.Micros(t.AssigneeUpdatedAt), store.Micros(t.SLABreachAt), t.satisfaction(), store.Micros(t.FirstReplyAt), t.ScheduleID}
}

func insertTicket(ctx context.Context, tx *store.Tx, t *Ticket) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO tickets (`+Cols+`) VALUES `+ticketValues, ticketArgs(t)...)
	if err != nil {
		return fmt.Errorf("ticket: insert: %w", err)
	}
	return nil
}

// insertCreated writes a new ticket, its tags, its live-count difference, its first
// audit and that audit's comments in one PostgreSQL statement (data-modifying WITH),
// and sets the audit's and the comments' ids. The rows are those of insertTicket,
// setTags (no previous tags), addLive (its insert; the caller folds), insertAudit and
// insertComment; the comments' audit_id is the audit's id from within
// the statement. PostgreSQL checks constraints and runs the tables' AFTER triggers at
// the end of the statement as it did at the end of each one, and every deferred
// trigger still at commit. A comment whose uuid the ticket already has is a conflict,
// as in insertComment.
func insertCreated(ctx context.Context, tx *store.Tx, t *Ticket, a *Audit, comments []*Comment) error {
	var q strings.Builder
	args := ticketArgs(t)
	q.WriteString(`WITH tk AS (INSERT INTO tickets (` + Cols + `) VALUES ` + ticketValues + `)`)
	seen := make(map[string]bool, len(t.Tags))
	n := 0
	for _, x := range t.Tags {
		if !seen[x] {
			seen[x] = true
			args = append(args, t.AccountID, t.ID, x)
			n++
		}
	}
	if n > 0 {
		// A plain INSERT: the ticket's number is new and its tags are distinct (seen), so
		// no row can conflict, and ON CONFLICT would make each row a speculative insertion
		// (a probe of the key, a lock, a WAL record confirming the row).
		q.WriteString(`, tg AS (INSERT INTO ticket_tags (account_id, ticket_id, tag) VALUES ` + strings.Repeat("(?, ?, ?), ", n-1) + `(?, ?, ?))`)
	}
	// The live-count difference (addLive): a row of the create's own, like the others,
	// so its place in the transaction changes no lock.
	q.WriteString(`, lv AS (INSERT INTO live_ticket_deltas (account_id, n) VALUES (?, 1))`)
	args = append(args, t.AccountID)
	q.WriteString(`, au AS (INSERT INTO ticket_audits (account_id, ticket_id, author_id, via, metadata, events, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id)`)
	args = append(args, a.AccountID, a.TicketID, a.AuthorID, jsonText(a.Via), jsonText(a.Metadata), jsonText(a.Events), store.Micros(a.CreatedAt))
	if len(comments) == 0 {
		q.WriteString(` SELECT id, '', 0 FROM au`)
	} else {
		// The values are typed: a parameter in an INSERT's SELECT is no column's value
		// until it is inserted, so PostgreSQL would take it for text.
		q.WriteString(`, cm AS (INSERT INTO ticket_comments (account_id, ticket_id, audit_id, author_id, body, html_body, plain_body, public, uuid, via, metadata, created_at)
			SELECT v.account_id, v.ticket_id, au.id, v.author_id, v.body, v.html_body, v.plain_body, v.public, v.uuid, v.via, v.metadata, v.created_at
			FROM au CROSS JOIN (VALUES `)
		for i, c := range comments {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(`(?::BIGINT, ?::BIGINT, ?::BIGINT, ?::TEXT, ?::TEXT, ?::TEXT, ?::BOOLEAN, ?::TEXT, ?::TEXT, ?::TEXT, ?::BIGINT, ?::INTEGER)`)
			args = append(args, c.AccountID, c.TicketID, c.AuthorID, c.Body, c.HTMLBody, c.PlainBody, c.Public, c.UUID, jsonText(c.Via), jsonText(c.Metadata), store.Micros(c.CreatedAt), i)
		}
		q.WriteString(`) v (account_id, ticket_id, author_id, body, html_body, plain_body, public, uuid, via, metadata, created_at, n)
			ORDER BY v.n RETURNING audit_id, uuid, id) SELECT audit_id, uuid, id FROM cm`)
	}
	rows, err := tx.QueryContext(ctx, q.String(), args...)
	if err == nil {
		got := make(map[string]ids.Comment, len(comments))
		for rows.Next() {
			var uuid string
			var id ids.Comment
			if err = rows.Scan(&a.ID, &uuid, &id); err != nil {
				break
			}
			got[uuid] = id
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
		for _, c := range comments {
			c.ID = got[c.UUID]
		}
	}
	if name, ok := store.UniqueConstraint(err); ok && name == "ticket_comments_uuid" {
		for _, c := range comments {
			for _, d := range comments {
				if c != d && c.UUID == d.UUID {
					return errs.E(errs.Conflict, "comment %s already exists on this ticket", c.UUID)
				}
			}
		}
	}
	if err != nil {
		return fmt.Errorf("ticket: insert: %w", err)
	}
	return nil
}

func saveTicket(ctx context.Context, tx *store.Tx, t *Ticket) error {
	q, args := saveTicketSQL(t)
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("ticket: save: %w", err)
	}
	return nil
}

// saveTicketSQL is saveTicket's statement and its arguments.
func saveTicketSQL(t *Ticket) (string, []any) {
	return `UPDATE tickets SET external_id = ?, type = ?, subject = ?, description = ?, priority = ?, status = ?, recipient = ?, requester_id = ?, submitter_id = ?, assignee_id = ?, organization_id = ?, group_id = ?, collaborator_ids = ?, follower_ids = ?, email_cc_ids = ?, problem_id = ?, is_public = ?, due_at = ?, tags = ?, custom_fields = ?, version = ?, deleted_at = ?, updated_at = ?, solved_at = ?,
		opened_at = ?, pending_at = ?, hold_at = ?, assigned_at = ?, requester_updated_at = ?, assignee_updated_at = ?, satisfaction_score = ?, first_reply_at = ?, schedule_id = ?
		WHERE account_id = ? AND id = ?`, []any{
			nullStr(t.ExternalID), nullStr(t.Type), t.Subject, t.Description, nullStr(t.Priority), string(t.Status), nullStr(t.Recipient), t.RequesterID, t.SubmitterID,
			nullID(t.AssigneeID), nullID(t.OrganizationID), nullID(t.GroupID), userList(t.CollaboratorIDs), userList(t.FollowerIDs), userList(t.EmailCCIDs),
			nullID(t.ProblemID), t.IsPublic, store.Micros(t.DueAt), jsonText(t.Tags), fieldsJSON(t.CustomFields), t.Version, store.Micros(t.DeletedAt),
			store.Micros(t.UpdatedAt), store.Micros(t.SolvedAt), store.Micros(t.OpenedAt), store.Micros(t.PendingAt), store.Micros(t.HoldAt),
			store.Micros(t.AssignedAt), store.Micros(t.RequesterUpdatedAt), store.Micros(t.AssigneeUpdatedAt), t.satisfaction(), store.Micros(t.FirstReplyAt), t.ScheduleID, t.AccountID, t.ID}
}

// saveWithAudit is saveTicket, insertAudit and, when c is not nil, insertComment of c
// (a comment of that audit) in one statement (PostgreSQL's data-modifying WITH): the
// update of a ticket held locked sends one statement where it sent three. Each part
// writes exactly what its own statement writes; the triggers of each table fire as
// they do.
func saveWithAudit(ctx context.Context, tx *store.Tx, t *Ticket, a *Audit, c *Comment) error {
	upd, args := saveTicketSQL(t)
	q := `WITH saved AS (` + upd + `), audit AS (INSERT INTO ticket_audits (account_id, ticket_id, author_id, via, metadata, events, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id) `
	args = append(args, a.AccountID, a.TicketID, a.AuthorID, jsonText(a.Via), jsonText(a.Metadata), jsonText(a.Events), store.Micros(a.CreatedAt))
	if c == nil {
		if err := tx.QueryRowContext(ctx, q+`SELECT id FROM audit`, args...).Scan(&a.ID); err != nil {
			return fmt.Errorf("ticket: save with audit: %w", err)
		}
		return nil
	}
	q += `INSERT INTO ticket_comments (account_id, ticket_id, audit_id, author_id, body, html_body, plain_body, public, uuid, via, metadata, created_at) VALUES (?, ?, (SELECT id FROM audit), ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING audit_id, id`
	args = append(args, c.AccountID, c.TicketID, c.AuthorID, c.Body, c.HTMLBody, c.PlainBody, c.Public, c.UUID, jsonText(c.Via), jsonText(c.Metadata), store.Micros(c.CreatedAt))
	err := tx.QueryRowContext(ctx, q, args...).Scan(&a.ID, &c.ID)
	if store.IsUniqueViolation(err) {
		return errs.E(errs.Conflict, "comment %s already exists on this ticket", c.UUID)
	}
	if err != nil {
		return fmt.Errorf("ticket: save with audit and comment: %w", err)
	}
	c.AuditID = a.ID
	return nil
}

// setTags brings ticket_tags in line with t.Tags (old is the previous set).
func setTags(ctx context.Context, tx *store.Tx, t *Ticket, old []string) error {
	had := make(map[string]bool, len(old))
	for _, x := range old {
		had[x] = true
	}
	now := make(map[string]bool, len(t.Tags))
	var add []any
	for _, x := range t.Tags {
		if !now[x] && !had[x] {
			add = append(add, t.AccountID, t.ID, x)
		}
		now[x] = true
	}
	// One statement for the tags added and one for those removed (at most MaxTags each,
	// so far below either database's limit on parameters), not one per tag.
	if n := len(add) / 3; n > 0 {
		q := `INSERT INTO ticket_tags (account_id, ticket_id, tag) VALUES ` + strings.Repeat("(?, ?, ?), ", n-1) + `(?, ?, ?) ON CONFLICT DO NOTHING`
		if _, err := tx.ExecContext(ctx, q, add...); err != nil {
			return fmt.Errorf("ticket: add tags: %w", err)
		}
	}
	gone := []any{t.AccountID, t.ID}
	for _, x := range old {
		if !now[x] {
			gone = append(gone, x)
		}
	}
	if n := len(gone) - 2; n > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM ticket_tags WHERE account_id = ? AND ticket_id = ? AND tag IN (`+store.In(n)+`)`, gone...); err != nil {
			return fmt.Errorf("ticket: remove tags: %w", err)
		}
	}
	return nil
}

func insertAudit(ctx context.Context, tx *store.Tx, a *Audit) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO ticket_audits (account_id, ticket_id, author_id, via, metadata, events, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.AccountID, a.TicketID, a.AuthorID, jsonText(a.Via), jsonText(a.Metadata), jsonText(a.Events), store.Micros(a.CreatedAt)).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("ticket: insert audit: %w", err)
	}
	return nil
}

func insertComment(ctx context.Context, tx *store.Tx, c *Comment) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO ticket_comments (account_id, ticket_id, audit_id, author_id, body, html_body, plain_body, public, uuid, via, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.AccountID, c.TicketID, c.AuditID, c.AuthorID, c.Body, c.HTMLBody, c.PlainBody, c.Public, c.UUID, jsonText(c.Via), jsonText(c.Metadata), store.Micros(c.CreatedAt)).Scan(&c.ID)
	if store.IsUniqueViolation(err) {
		return errs.E(errs.Conflict, "comment %s already exists on this ticket", c.UUID)
	}
	if err != nil {
		return fmt.Errorf("ticket: insert comment: %w", err)
	}
	return nil
}

// Get loads a ticket (not deleted) of the account.
func Get(ctx context.Context, q store.Queryer, acct ids.Account, id ids.Ticket) (*Ticket, error) {
	t, err := Scan(q.QueryRowContext(ctx, `SELECT `+Cols+` FROM tickets WHERE account_id = ? AND id = ? AND deleted_at = 0`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("ticket %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("ticket: get: %w", err)
	}
	return t, nil
}

// GetForUpdate loads a ticket and locks its row until the transaction ends (PostgreSQL;
// SQLite has one writer, so the transaction already excludes others).
func GetForUpdate(ctx context.Context, tx *store.Tx, acct ids.Account, id ids.Ticket) (*Ticket, error) {
	q := `SELECT ` + Cols + ` FROM tickets WHERE account_id = ? AND id = ? AND deleted_at = 0`
	if tx.D() == store.Postgres {
		q += ` FOR UPDATE`
	}
	t, err := Scan(tx.QueryRowContext(ctx, q, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("ticket %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("ticket: get for update: %w", err)
	}
	return t, nil
}

// GetMany loads the tickets with the given numbers (missing ones skipped), in id order.
func GetMany(ctx context.Context, q store.Queryer, acct ids.Account, list []ids.Ticket) ([]*Ticket, error) {
	return getMany(ctx, q, acct, list, `deleted_at = 0 AND `)
}

// GetManyWithDeleted is GetMany that also loads deleted tickets (incremental exports
// show them, with status deleted).
func GetManyWithDeleted(ctx context.Context, q store.Queryer, acct ids.Account, list []ids.Ticket) ([]*Ticket, error) {
	return getMany(ctx, q, acct, list, ``)
}

func getMany(ctx context.Context, q store.Queryer, acct ids.Account, list []ids.Ticket, cond string) ([]*Ticket, error) {
	if len(list) == 0 {
		return nil, nil
	}
	args := []any{acct}
	for _, id := range list {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+Cols+` FROM tickets WHERE account_id = ? AND `+cond+`id IN (`+store.In(len(list))+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("ticket: get many: %w", err)
	}
	defer rows.Close()
	var out []*Ticket
	for rows.Next() {
		t, err := Scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// LiveCount is the number of tickets of the account that are not deleted: on
// PostgreSQL, accounts.live_tickets plus the differences not yet folded into it
// (migration 0044), read in one statement.
func LiveCount(ctx context.Context, q store.Queryer, acct ids.Account) (int, error) {
	var n int
	query := `SELECT live_tickets FROM accounts WHERE id = ?`
	if q.D() == store.Postgres {
		query = `SELECT a.live_tickets + COALESCE((SELECT SUM(d.n) FROM live_ticket_deltas d WHERE d.account_id = a.id), 0) FROM accounts a WHERE a.id = ?`
	}
	err := q.QueryRowContext(ctx, query, acct).Scan(&n)
	return n, err
}

// foldLiveEvery: on PostgreSQL one live-count difference in this many (by chance) also
// folds the account's pending differences into accounts.live_tickets.
const foldLiveEvery = 64

// addLive adds step to the account's live ticket count. SQLite updates the account row
// (one writer). PostgreSQL inserts the difference as a row of its own, so that creates
// of one account share no row until their commits (migration 0044), and now and then
// folds the differences it can see into the account row; the try-lock makes a second
// fold of the account skip rather than wait for the first.
func addLive(ctx context.Context, tx *store.Tx, acct ids.Account, step int) error {
	if tx.D() != store.Postgres {
		_, err := tx.ExecContext(ctx, `UPDATE accounts SET live_tickets = live_tickets + ? WHERE id = ?`, step, acct)
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO live_ticket_deltas (account_id, n) VALUES (?, ?)`, acct, step); err != nil {
		return err
	}
	return foldLiveSometimes(ctx, tx, acct)
}

// foldLiveSometimes is addLive's fold on PostgreSQL, once in foldLiveEvery calls, after
// a difference was inserted (by addLive, or by the create's statement: insertCreated).
func foldLiveSometimes(ctx context.Context, tx *store.Tx, acct ids.Account) error {
	if rand.IntN(foldLiveEvery) != 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `WITH mine AS (SELECT pg_try_advisory_xact_lock(44, (?::BIGINT % 2147483647)::INTEGER) AS ok),
		done AS (DELETE FROM live_ticket_deltas WHERE account_id = ? AND (SELECT ok FROM mine) RETURNING n)
		UPDATE accounts SET live_tickets = live_tickets + s.n FROM (SELECT SUM(n) AS n FROM done) s
		WHERE id = ? AND s.n IS NOT NULL`, acct, acct, acct)
	return err
}

// CommentCols is the comment column list matching ScanComment.
const CommentCols = `id, account_id, ticket_id, audit_id, author_id, body, html_body, plain_body, public, uuid, via, metadata, created_at`

// ScanComment reads one comment row.
func ScanComment(row interface{ Scan(...any) error }) (*Comment, error) {
	var c Comment
	var via, meta string
	var at int64
	if err := row.Scan(&c.ID, &c.AccountID, &c.TicketID, &c.AuditID, &c.AuthorID, &c.Body, &c.HTMLBody, &c.PlainBody, &c.Public, &c.UUID, &via, &meta, &at); err != nil {
		return nil, err
	}
	if err := decodeColumns("comment", int64(c.ID), column{"via", via, &c.Via}, column{"metadata", meta, &c.Metadata}); err != nil {
		return nil, err
	}
	if c.Metadata == nil {
		c.Metadata = map[string]any{}
	}
	c.Origin = commentOrigin(c.Metadata)
	c.CreatedAt = store.Time(at)
	return &c, nil
}

// AuditCols is the audit column list matching ScanAudit.
const AuditCols = `id, account_id, ticket_id, author_id, via, metadata, events, created_at`

// ScanAudit reads one audit row.
func ScanAudit(row interface{ Scan(...any) error }) (*Audit, error) {
	var a Audit
	var via, meta, events string
	var at int64
	if err := row.Scan(&a.ID, &a.AccountID, &a.TicketID, &a.AuthorID, &via, &meta, &events, &at); err != nil {
		return nil, err
	}
	if err := decodeColumns("audit", int64(a.ID), column{"via", via, &a.Via}, column{"metadata", meta, &a.Metadata}, column{"events", events, &a.Events}); err != nil {
		return nil, err
	}
	a.Via.ID = ViaID(a.Via.Channel)
	a.Origin = auditOrigin(a.Metadata)
	a.CreatedAt = store.Time(at)
	return &a, nil
}

// AuditsByID loads the audits with the given ids (missing ones skipped), in id order.
func AuditsByID(ctx context.Context, q store.Queryer, acct ids.Account, list []ids.Audit) ([]*Audit, error) {
	if len(list) == 0 {
		return nil, nil
	}
	args := []any{acct}
	for _, id := range list {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+AuditCols+` FROM ticket_audits WHERE account_id = ? AND id IN (`+store.In(len(list))+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("ticket: audits by id: %w", err)
	}
	defer rows.Close()
	var out []*Audit
	for rows.Next() {
		a, err := ScanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// LastAudit loads a ticket's latest audit (deleted tickets too).
func LastAudit(ctx context.Context, q store.Queryer, acct ids.Account, id ids.Ticket) (*Audit, error) {
	a, err := ScanAudit(q.QueryRowContext(ctx, `SELECT `+AuditCols+` FROM ticket_audits WHERE account_id = ? AND ticket_id = ? ORDER BY id DESC LIMIT 1`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("ticket %d has no audit", id)
	}
	if err != nil {
		return nil, fmt.Errorf("ticket: last audit: %w", err)
	}
	return a, nil
}

// CommentsByAudit loads the comments written by the given audits, keyed by uuid. A
// comment belongs to its audit's ticket, so the query names the audits' tickets as
// well: ticket_comments_ticket then finds the rows (there is no index on audit_id,
// which every comment insert would pay for), reading the comments of those tickets
// only, never the account's.
func CommentsByAudit(ctx context.Context, q store.Queryer, acct ids.Account, audits []*Audit) (map[string]*Comment, error) {
	out := map[string]*Comment{}
	if len(audits) == 0 {
		return out, nil
	}
	args := []any{acct}
	seen := make(map[ids.Ticket]bool, len(audits))
	for _, a := range audits {
		if !seen[a.TicketID] {
			seen[a.TicketID] = true
			args = append(args, a.TicketID)
		}
	}
	tickets := len(args) - 1
	for _, a := range audits {
		args = append(args, a.ID)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+CommentCols+` FROM ticket_comments WHERE account_id = ? AND ticket_id IN (`+store.In(tickets)+`) AND audit_id IN (`+store.In(len(audits))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("ticket: comments by audit: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := ScanComment(rows)
		if err != nil {
			return nil, err
		}
		out[c.UUID] = c
	}
	return out, rows.Err()
}

// GetComment loads one comment of a ticket.
func GetComment(ctx context.Context, q store.Queryer, acct ids.Account, tid ids.Ticket, id ids.Comment) (*Comment, error) {
	c, err := ScanComment(q.QueryRowContext(ctx, `SELECT `+CommentCols+` FROM ticket_comments WHERE account_id = ? AND ticket_id = ? AND id = ?`, acct, tid, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("comment %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("ticket: get comment: %w", err)
	}
	return c, nil
}

// AfterBulkInsert brings an account's ticket numbering and live count in line after
// tickets were inserted straight into the table (seeding, benchmarks, tests): the next
// ticket created gets the number after the highest one. It also refreshes the statistics
// of BulkTables.
func AfterBulkInsert(ctx context.Context, tx *store.Tx, acct ids.Account) error {
	if err := AfterBulkInsertCounters(ctx, tx, acct); err != nil {
		return err
	}
	// Fresh statistics: plans made while the tables were small would scan them now
	// (autovacuum would catch up within minutes; a bulk load should not wait for it).
	for _, t := range BulkTables {
		if _, err := tx.ExecContext(ctx, `ANALYZE `+t); err != nil {
			return err
		}
	}
	return nil
}

// BulkTables are the tables a bulk insert of tickets fills, whose statistics
// AfterBulkInsert refreshes.
var BulkTables = []string{"tickets", "ticket_comments", "ticket_audits"}

// AfterBulkInsertCounters is AfterBulkInsert without the statistics, for a loader that
// refreshes them itself (the bench seeder, several tables at once on PostgreSQL).
func AfterBulkInsertCounters(ctx context.Context, tx *store.Tx, acct ids.Account) error {
	var top int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM tickets WHERE account_id = ?`, acct).Scan(&top); err != nil {
		return err
	}
	if tx.D() == store.Postgres {
		// The count is set whole: the pending differences are in it.
		if _, err := tx.ExecContext(ctx, `DELETE FROM live_ticket_deltas WHERE account_id = ?`, acct); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET ticket_seq = ?, live_tickets = (SELECT COUNT(*) FROM tickets WHERE account_id = ? AND deleted_at = 0) WHERE id = ?`, top, acct, acct); err != nil {
		return err
	}
	if tx.D() == store.Postgres && top > 0 {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SELECT setval('ticket_numbers_%d', %d)`, int64(acct), top)); err != nil {
			return err
		}
	}
	return nil
}
