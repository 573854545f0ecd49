package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzParseCSV checks the hand-written CSV reader on any input: it never panics, every
// line of the input is accounted for (each record starts where the previous one ended,
// the records' line numbers add up to the file's lines, and only empty rows are left
// out), and where encoding/csv reads the input without error the two agree on every
// record and on the line it starts on. The seed corpus is in testdata/fuzz/FuzzParseCSV.
func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("name,email\nAnn,ann@x\n"), byte(0))
	f.Fuzz(func(t *testing.T, data []byte, sepChoice byte) {
		sep := []byte{',', ';', '\t'}[int(sepChoice)%3]
		_ = separator(data) // never panics either

		// Walk the records as parseCSV does, checking that they tile the input.
		var walked []record
		pos, line := 0, 1
		for pos < len(data) {
			rec, next, nextLine := parseRecord(data, sep, pos, line)
			if next <= pos || next > len(data) {
				t.Fatalf("record at byte %d ends at %d (input %d bytes)", pos, next, len(data))
			}
			if rec.line != line {
				t.Fatalf("record at byte %d says line %d, want %d", pos, rec.line, line)
			}
			if newlines := bytes.Count(data[pos:next], []byte{'\n'}); next < len(data) && nextLine != line+newlines {
				t.Fatalf("record at line %d spans %d line breaks but the next starts on line %d", line, newlines, nextLine)
			}
			if rec.err == nil && allEmpty(rec.fields) {
				if raw := strings.Trim(string(data[pos:next]), string([]byte{sep, '"', '\r', '\n'})); raw != "" {
					t.Fatalf("line %d is dropped as empty but holds %q", line, raw)
				}
			} else {
				walked = append(walked, rec)
			}
			pos, line = next, nextLine
		}
		got := parseCSV(data, sep)
		if len(got) != len(walked) {
			t.Fatalf("parseCSV returned %d records, the walk %d", len(got), len(walked))
		}
		for i := range got {
			if got[i].line != walked[i].line || !slicesEqual(got[i].fields, walked[i].fields) || (got[i].err == nil) != (walked[i].err == nil) {
				t.Fatalf("record %d: parseCSV %+v, walk %+v", i, got[i], walked[i])
			}
			if i > 0 && got[i].line <= got[i-1].line {
				t.Fatalf("record %d starts on line %d, after record %d on line %d", i, got[i].line, i-1, got[i-1].line)
			}
		}

		// Where the standard library reads the file, it must read it the same way.
		r := csv.NewReader(bytes.NewReader(data))
		r.Comma = rune(sep)
		r.FieldsPerRecord = -1
		var want []record
		for {
			fields, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return // not well-formed: encoding/csv has no answer to compare with
			}
			if allEmpty(fields) {
				continue
			}
			l, _ := r.FieldPos(0)
			want = append(want, record{line: l, fields: fields})
		}
		if len(got) != len(want) {
			t.Fatalf("%d records, encoding/csv reads %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
		}
		for i := range want {
			if got[i].err != nil || got[i].line != want[i].line || !slicesEqual(got[i].fields, want[i].fields) {
				t.Fatalf("record %d = line %d %q (%v); encoding/csv reads line %d %q", i, got[i].line, got[i].fields, got[i].err, want[i].line, want[i].fields)
			}
		}
	})
}

func slicesEqual(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00") && len(a) == len(b)
}
