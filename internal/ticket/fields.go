package ticket

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Field is a custom ticket field. Key is its stable identifier (sharing matches fields
// across help desks by key, not by title, so renaming a field does not break sync).
type Field struct {
	ID          int64
	AccountID   ids.Account
	Type        string // text, textarea, checkbox, date, integer, decimal, regexp, tagger, multiselect
	Title       string
	Key         string
	Description string
	Active      bool
	Required    bool
	Position    int64
	Options     []FieldOption
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// FieldOption is one choice of a tagger or multiselect field.
type FieldOption struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// FieldTypes lists the supported custom field types.
var FieldTypes = []string{"text", "textarea", "checkbox", "date", "integer", "decimal", "regexp", "tagger", "multiselect"}

// FieldCols matches ScanField.
const FieldCols = `id, account_id, type, title, key, description, active, required, position, options, created_at, updated_at`

// ScanField reads one ticket field row.
func ScanField(row interface{ Scan(...any) error }) (*Field, error) {
	var f Field
	var opts string
	var c, u int64
	if err := row.Scan(&f.ID, &f.AccountID, &f.Type, &f.Title, &f.Key, &f.Description, &f.Active, &f.Required, &f.Position, &opts, &c, &u); err != nil {
		return nil, err
	}
	if err := decodeColumns("ticket field", f.ID, column{"options", opts, &f.Options}); err != nil {
		return nil, err
	}
	if f.Options == nil {
		f.Options = []FieldOption{}
	}
	f.CreatedAt, f.UpdatedAt = store.Time(c), store.Time(u)
	return &f, nil
}

// Fields lists the account's custom ticket fields in position order.
func Fields(ctx context.Context, q store.Queryer, acct ids.Account) ([]*Field, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+FieldCols+` FROM ticket_fields WHERE account_id = ? ORDER BY position, id`, acct)
	out, err := store.ScanAll(rows, err, ScanField)
	if err != nil {
		return nil, fmt.Errorf("ticket: fields: %w", err)
	}
	return out, nil
}

// GetField loads one field.
func GetField(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*Field, error) {
	f, err := ScanField(q.QueryRowContext(ctx, `SELECT `+FieldCols+` FROM ticket_fields WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("ticket field %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("ticket: get field: %w", err)
	}
	return f, nil
}

var keyRE = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// ValidateField checks a field before it is saved.
func ValidateField(f *Field) error {
	var v errs.Validation
	f.Title = strings.TrimSpace(f.Title)
	if f.Title == "" {
		v.Blank("title")
	}
	checkLen(&v, "title", f.Title, 255)
	if !slices.Contains(FieldTypes, f.Type) {
		v.Bad("type", "must be one of "+strings.Join(FieldTypes, ", "))
	}
	if f.Key == "" {
		f.Key = slug(f.Title)
	}
	if !keyRE.MatchString(f.Key) {
		v.Bad("key", "must be 1-64 lowercase letters, digits or underscores")
	}
	if (f.Type == "tagger" || f.Type == "multiselect") && len(f.Options) == 0 {
		v.Bad("custom_field_options", "a dropdown needs at least one option")
	}
	for i := range f.Options {
		f.Options[i].Value = strings.ToLower(strings.TrimSpace(f.Options[i].Value))
		if f.Options[i].Value == "" || f.Options[i].Name == "" {
			v.Bad("custom_field_options", "every option needs a name and a value")
			break
		}
		// A drop-down's option value is also the tag it puts on a ticket.
		if f.Type == "tagger" && strings.ContainsAny(f.Options[i].Value, " \t\n,") {
			v.Bad("custom_field_options", fmt.Sprintf("option value %q becomes a tag: it cannot contain spaces or commas", f.Options[i].Value))
			break
		}
	}
	return v.Err()
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
		}
	}
	out := strings.Trim(b.String(), "_")
	if len(out) > 64 {
		out = out[:64]
	}
	if out == "" {
		out = "field"
	}
	return out
}

// SaveField inserts (ID 0) or updates a field.
func SaveField(ctx context.Context, tx *store.Tx, f *Field) error {
	if err := ValidateField(f); err != nil {
		return err
	}
	now := store.Now()
	f.UpdatedAt = now
	var err error
	if f.ID == 0 {
		f.CreatedAt = now
		err = tx.QueryRowContext(ctx, `INSERT INTO ticket_fields (account_id, type, title, key, description, active, required, position, options, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			f.AccountID, f.Type, f.Title, f.Key, f.Description, f.Active, f.Required, f.Position, jsonText(f.Options), store.Micros(now), store.Micros(now)).Scan(&f.ID)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE ticket_fields SET title = ?, key = ?, description = ?, active = ?, required = ?, position = ?, options = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
			f.Title, f.Key, f.Description, f.Active, f.Required, f.Position, jsonText(f.Options), store.Micros(now), f.AccountID, f.ID)
	}
	if store.IsUniqueViolation(err) {
		return errs.Invalidf("key", "DuplicateValue", "another field already uses the key %s", f.Key)
	}
	if err != nil {
		return fmt.Errorf("ticket: save field: %w", err)
	}
	return nil
}

// DeleteField removes a field definition (values stay on tickets but are no longer shown).
func DeleteField(ctx context.Context, tx *store.Tx, acct ids.Account, id int64) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM ticket_fields WHERE account_id = ? AND id = ?`, acct, id)
	if err != nil {
		return fmt.Errorf("ticket: delete field: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("ticket field %d not found", id)
	}
	return nil
}

// NormalizeFieldValue checks a value against a field's type and returns it in stored form:
// strings for text, numbers and dates (as Zendesk serialises them), bool for checkboxes,
// []string for multiselect; nil clears.
func NormalizeFieldValue(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	str := func() (string, bool) {
		switch x := v.(type) {
		case string:
			return x, true
		case json.Number:
			return x.String(), true
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), true
		case int64:
			return strconv.FormatInt(x, 10), true
		case bool:
			return strconv.FormatBool(x), true
		}
		return "", false
	}
	switch f.Type {
	case "checkbox":
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
		return nil, fmt.Errorf("must be true or false")
	case "integer":
		s, ok := str()
		if _, err := strconv.ParseInt(s, 10, 64); !ok || err != nil {
			return nil, fmt.Errorf("must be a whole number")
		}
		return s, nil
	case "decimal":
		s, ok := str()
		if _, err := strconv.ParseFloat(s, 64); !ok || err != nil {
			return nil, fmt.Errorf("must be a number")
		}
		return s, nil
	case "date":
		s, ok := str()
		if _, err := time.Parse("2006-01-02", s); !ok || err != nil {
			return nil, fmt.Errorf("must be a date as YYYY-MM-DD")
		}
		return s, nil
	case "tagger":
		s, ok := str()
		if !ok {
			return nil, fmt.Errorf("must be one of the field's option values")
		}
		if s == "" {
			return nil, nil
		}
		for _, o := range f.Options {
			if o.Value == s {
				return s, nil
			}
		}
		return nil, fmt.Errorf("%q is not one of the field's option values", s)
	case "multiselect":
		var list []string
		switch x := v.(type) {
		case []string:
			list = x
		case []any:
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("must be a list of option values")
				}
				list = append(list, s)
			}
		case string:
			list = strings.Fields(x)
		default:
			return nil, fmt.Errorf("must be a list of option values")
		}
		for _, s := range list {
			found := false
			for _, o := range f.Options {
				found = found || o.Value == s
			}
			if !found {
				return nil, fmt.Errorf("%q is not one of the field's option values", s)
			}
		}
		return list, nil
	default: // text, textarea, regexp
		s, ok := str()
		if !ok {
			return nil, fmt.Errorf("must be a string")
		}
		if len(s) > MaxCommentSize {
			return nil, fmt.Errorf("is too long")
		}
		if s == "" {
			return nil, nil
		}
		return s, nil
	}
}

// FieldsAt returns the account's custom fields for a read that selected the account's
// settings version (store.SettingsVersionSQL) as version, before this call: the write
// path's per-process copy when it was made at that version (callers must not modify
// it), else read through q and kept.
func (s *Service) FieldsAt(ctx context.Context, q store.Queryer, acct ids.Account, version int64) ([]*Field, error) {
	return s.fields.At(s.db, int64(acct), version, func() ([]*Field, error) { return Fields(ctx, q, acct) })
}

// ticketFields loads the account's custom fields once per change.
func (ch *Change) ticketFields(ctx context.Context) ([]*Field, error) {
	if ch.fields == nil {
		acct := ch.Account.ID
		fields, err := ch.svc.fields.Get(ctx, ch.tx, int64(acct), func() ([]*Field, error) { return Fields(ctx, ch.tx, acct) })
		if err != nil {
			return nil, err
		}
		ch.fields = append([]*Field{}, fields...)
	}
	return ch.fields, nil
}

// syncTaggers keeps drop-down (tagger) fields and the ticket's tags in step, as Zendesk
// does: the value of a drop-down is also a tag of the ticket. before holds the ticket's
// values (eventValues) as they were when the patch started; t has the patch applied and
// is brought in step here; named are the fields the patch set. For each drop-down:
//
//   - the patch changed the field (set, swapped or cleared it): its tag follows, the
//     tags of its other options go;
//   - otherwise the patch added the tag of one of its options: the field takes that
//     option (and the tag of the option it had goes);
//   - otherwise the patch removed the tag of its value: the field is cleared;
//   - otherwise, a field the patch named with its current value gets its tag back.
//
// It is the one place this rule lives, inside the write path, so the API, the web,
// triggers, macros, imports and a partner's updates all get it.
func syncTaggers(fields []*Field, before map[string]any, t *Ticket, named map[int64]any) {
	oldTags, _ := before["tags"].([]string)
	had := map[string]bool{}
	for _, x := range oldTags {
		had[x] = true
	}
	has := map[string]bool{}
	for _, x := range t.Tags {
		has[x] = true
	}
	for _, f := range fields {
		if f.Type != "tagger" {
			continue
		}
		key := strconv.FormatInt(f.ID, 10)
		old, _ := before[key].(string)
		cur, _ := t.CustomFields[f.ID].(string)
		_, isNamed := named[f.ID]
		target, touch := cur, false
		switch {
		case cur != old:
			touch = true
		default:
			added := ""
			for _, x := range t.Tags { // the last option tag the patch added wins
				if !had[x] && f.option(x) {
					added = x
				}
			}
			switch {
			case added != "":
				target, touch = added, true
			case old != "" && had[old] && !has[old]:
				target, touch = "", true
			case isNamed && cur != "":
				touch = true
			}
		}
		if !touch {
			continue
		}
		kept := t.Tags[:0:0]
		for _, x := range t.Tags {
			if x == target || !f.option(x) {
				kept = append(kept, x)
			}
		}
		if target != "" && !slices.Contains(kept, target) {
			kept = append(kept, target)
		}
		t.Tags = kept
		if target == "" {
			delete(t.CustomFields, f.ID)
		} else {
			t.CustomFields[f.ID] = target
		}
	}
}

// SyncTaggers applies the drop-down and tag rule of the write path (syncTaggers) to a
// ticket changed in memory from before, for previews (a macro applied to a ticket):
// what they show is what the write will do.
func SyncTaggers(fields []*Field, before, t *Ticket, named map[int64]any) {
	syncTaggers(fields, eventValues(before), t, named)
}

// option reports whether v is the value of one of the field's options.
func (f *Field) option(v string) bool {
	return slices.ContainsFunc(f.Options, func(o FieldOption) bool { return o.Value == v })
}

func (ch *Change) applyFields(ctx context.Context, vals map[int64]any, v *errs.Validation) error {
	fields, err := ch.ticketFields(ctx)
	if err != nil {
		return err
	}
	byID := map[int64]*Field{}
	for _, f := range fields {
		byID[f.ID] = f
	}
	for id, raw := range vals {
		f, ok := byID[id]
		if !ok {
			v.Bad("custom_fields", fmt.Sprintf("ticket field %d does not exist", id))
			continue
		}
		val, err := NormalizeFieldValue(f, raw)
		if err != nil {
			v.Bad("custom_fields", fmt.Sprintf("%s: %v", f.Title, err))
			continue
		}
		if val == nil {
			delete(ch.Ticket.CustomFields, id)
		} else {
			ch.Ticket.CustomFields[id] = val
		}
	}
	return nil
}
