package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Tandem reads CSV itself rather than with encoding/csv, because one broken quote must
// cost one row, not the rest of the file: encoding/csv gives up at the first error, and
// an opening quote that is never closed swallows every line after it into one field.
// Here a record with a quoting error is reported on the line where it starts, and
// reading resumes on the next line. Everything else follows RFC 4180: fields separated
// by commas (or semicolons or tabs, when the header line says so), records by LF or
// CRLF, fields with separators, quotes or line breaks enclosed in double quotes, and a
// quote inside such a field written twice. A quote inside an unquoted field (5" screen)
// is kept as it is, as spreadsheets write it.

// record is one CSV record.
type record struct {
	line   int // the line it starts on, counting from 1
	fields []string
	err    error // a quoting error; fields is then nil
}

var (
	errUnterminated = errors.New("a quoted field is never closed (check the quotes on this line)")
	errAfterQuote   = errors.New(`unexpected text after a closing quote (a quote inside a quoted field must be written twice: "")`)
)

// separator guesses the file's field separator from its first line: a comma, unless the
// line has none but has semicolons or tabs (spreadsheets in many European locales save
// "CSV" with semicolons).
func separator(data []byte) byte {
	first, _, _ := bytes.Cut(data, []byte{'\n'})
	if bytes.IndexByte(first, ',') >= 0 {
		return ','
	}
	if s, t := bytes.Count(first, []byte{';'}), bytes.Count(first, []byte{'\t'}); s > 0 || t > 0 {
		if s >= t {
			return ';'
		}
		return '\t'
	}
	return ','
}

// parseCSV splits data into records, with fields separated by sep. Records whose
// fields are all empty (blank lines, the ",,," rows spreadsheets leave at the end) are
// skipped.
func parseCSV(data []byte, sep byte) []record {
	var out []record
	pos, line := 0, 1
	for pos < len(data) {
		rec, next, nextLine := parseRecord(data, sep, pos, line)
		if rec.err != nil || !allEmpty(rec.fields) {
			out = append(out, rec)
		}
		pos, line = next, nextLine
	}
	return out
}

func allEmpty(fields []string) bool {
	for _, f := range fields {
		if f != "" {
			return false
		}
	}
	return true
}

// parseRecord reads the record starting at data[pos] on line line, and returns it with
// where the next one starts.
func parseRecord(data []byte, sep byte, pos, line int) (rec record, next, nextLine int) {
	start, startLine := pos, line
	rec.line = startLine
	// resync abandons the record and resumes on the line after the one it started on.
	resync := func(err error) (record, int, int) {
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			return record{line: startLine, err: err}, len(data), startLine + 1
		}
		return record{line: startLine, err: err}, start + end + 1, startLine + 1
	}
	var field strings.Builder
	for {
		field.Reset()
		if pos < len(data) && data[pos] == '"' {
			pos++
			for {
				i := bytes.IndexByte(data[pos:], '"')
				if i < 0 {
					return resync(errUnterminated)
				}
				seg := data[pos : pos+i]
				line += bytes.Count(seg, []byte{'\n'})
				field.Write(bytes.ReplaceAll(seg, []byte("\r\n"), []byte("\n")))
				pos += i + 1
				if pos < len(data) && data[pos] == '"' {
					field.WriteByte('"')
					pos++
					continue
				}
				break
			}
			rec.fields = append(rec.fields, field.String())
			switch {
			case pos >= len(data):
				return rec, pos, line
			case data[pos] == sep:
				pos++
				continue
			case data[pos] == '\n':
				return rec, pos + 1, line + 1
			case data[pos] == '\r' && (pos+1 == len(data) || data[pos+1] == '\n'):
				return rec, min(pos+2, len(data)), line + 1
			default:
				return resync(errAfterQuote)
			}
		}
		end := bytes.IndexAny(data[pos:], string([]byte{sep, '\n'}))
		if end < 0 {
			rec.fields = append(rec.fields, string(bytes.TrimSuffix(data[pos:], []byte{'\r'})))
			return rec, len(data), line
		}
		seg := data[pos : pos+end]
		if data[pos+end] == sep {
			rec.fields = append(rec.fields, string(seg))
			pos += end + 1
			continue
		}
		rec.fields = append(rec.fields, string(bytes.TrimSuffix(seg, []byte{'\r'})))
		return rec, pos + end + 1, line + 1
	}
}

// SafeCell makes a value safe to put in a CSV cell that a spreadsheet may open: text
// starting with =, +, -, @, a tab, a line break or NUL (or the full-width = + - @) is
// read by Excel, LibreOffice and Google Sheets as a formula, so it gets a leading
// apostrophe, which spreadsheets show as text and do not display. Every CSV that Tandem
// writes passes each cell through SafeCell. Imports store text exactly as given; the
// protection is applied on the way out, where the spreadsheet is.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	r, _ := utf8.DecodeRuneInString(s)
	switch r {
	case '=', '+', '-', '@', '\t', '\r', '\n', 0, '＝', '＋', '－', '＠':
		return "'" + s
	}
	return s
}

// WriteCSV writes the report as CSV, one row per data row of the imported file: line,
// status, id, key, field, code, reason. Cells go through SafeCell, since keys and reasons
// quote the imported text.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"line", "status", "id", "key", "field", "code", "reason"}); err != nil {
		return err
	}
	for _, row := range r.Rows {
		id := ""
		if row.ID != 0 {
			id = strconv.FormatInt(row.ID, 10)
		}
		rec := []string{strconv.Itoa(row.Line), string(row.Status), id, row.Key, row.Field, row.Code, row.Reason}
		for i := range rec {
			rec[i] = SafeCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
