package rules_test

import (
	"database/sql"
	"reflect"
	"strings"
	"testing"

	"tandem/internal/rules"
)

// row is a stored row given to a scanner: each value is converted to its destination.
type row []any

func (r row) Scan(dest ...any) error {
	for i, d := range dest {
		v := reflect.ValueOf(d).Elem()
		v.Set(reflect.ValueOf(r[i]).Convert(v.Type()))
	}
	return nil
}

// TestScannersRefuseCorruptJSON: a JSON column that does not decode is an error naming
// the row and the column, not an empty value read back without a word.
func TestScannersRefuseCorruptJSON(t *testing.T) {
	group := sql.NullString{String: "group", Valid: true}
	none := sql.NullString{}
	id := sql.NullInt64{Int64: 3, Valid: true}
	view := func(rtype sql.NullString, rids, conds, out string) row {
		return row{7, 1, "V", "", true, 1, rtype, id, rids, conds, out, false, 0, 0}
	}
	macro := func(rtype sql.NullString, rids, acts string) row {
		return row{8, 1, "M", "", true, 1, rtype, id, rids, acts, false, 0, 0}
	}
	const conds = `{"all":[],"any":[]}`
	if _, err := rules.ScanView(view(group, "[3]", conds, `{}`)); err != nil {
		t.Fatalf("a sound view row: %v", err)
	}
	if _, err := rules.ScanMacro(macro(group, "[3]", `[]`)); err != nil {
		t.Fatalf("a sound macro row: %v", err)
	}
	for _, c := range []struct {
		what string
		scan func() error
		want string
	}{
		{"view output", func() error { _, err := rules.ScanView(view(none, "[]", conds, `{"columns":`)); return err }, "view 7 output"},
		{"view restriction_ids", func() error { _, err := rules.ScanView(view(group, "[3,", conds, `{}`)); return err }, "view 7: restriction_ids"},
		{"macro restriction_ids", func() error { _, err := rules.ScanMacro(macro(group, "x", `[]`)); return err }, "macro 8: restriction_ids"},
	} {
		err := c.scan()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one naming %q", c.what, err, c.want)
		}
	}
}
