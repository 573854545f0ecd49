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
	if err != nil {
		return nil, fmt.Errorf("ticket: fields: %w", err)
	}
	defer rows.Close()
	var out []*Field
	for rows.Next() {
		f, err := ScanField(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
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

func (ch *Change) applyFields(ctx context.Context, vals map[int64]any, v *errs.Validation) error {
	fields, err := Fields(ctx, ch.tx, ch.Account.ID)
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
