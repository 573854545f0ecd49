package importer

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
)

func TestParseCSV(t *testing.T) {
	type rec struct {
		line   int
		fields string // fields joined with |
		bad    bool
	}
	cases := []struct {
		name string
		in   string
		want []rec
	}{
		{"plain and CRLF", "a,b\r\nc,d\r\n", []rec{{1, "a|b", false}, {2, "c|d", false}}},
		{"no final newline", "a,b\nc,d", []rec{{1, "a|b", false}, {2, "c|d", false}}},
		{"quoted comma, quote and line break", "name,notes\n\"Doe, Jane\",\"said \"\"hi\"\"\r\nthen left\"\nx,y\n",
			[]rec{{1, "name|notes", false}, {2, "Doe, Jane|said \"hi\"\nthen left", false}, {4, "x|y", false}}},
		{"blank and empty rows skipped", "a,b\n\n,\n\r\nc,d\n", []rec{{1, "a|b", false}, {5, "c|d", false}}},
		{"bare quote in unquoted field kept", "5\" screen,ok\n", []rec{{1, "5\" screen|ok", false}}},
		{"text after closing quote resyncs on next line", "a,b\n\"x\"y,z\nc,d\n", []rec{{1, "a|b", false}, {2, "", true}, {3, "c|d", false}}},
		{"unclosed quote costs one row", "a,b\n\"open,b\nc,d\ne,f\n", []rec{{1, "a|b", false}, {2, "", true}, {3, "c|d", false}, {4, "e|f", false}}},
		{"stray quote pairing with a later one costs one row", "a,b\n\"Bob,bob@x\nAnn,ann@x\nCarl \"C\",c@x\n",
			[]rec{{1, "a|b", false}, {2, "", true}, {3, "Ann|ann@x", false}, {4, "Carl \"C\"|c@x", false}}},
		{"empty quoted field", "\"\",b\n", []rec{{1, "|b", false}}},
		{"quoted last field then EOF", "a,\"b\"", []rec{{1, "a|b", false}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := parseCSV([]byte(c.in), ',')
			if len(got) != len(c.want) {
				t.Fatalf("got %d records %+v, want %d", len(got), got, len(c.want))
			}
			for i, w := range c.want {
				g := got[i]
				if g.line != w.line || (g.err != nil) != w.bad || !w.bad && strings.Join(g.fields, "|") != w.fields {
					t.Errorf("record %d = line %d %q err %v; want line %d %q bad %v", i, g.line, g.fields, g.err, w.line, w.fields, w.bad)
				}
			}
		})
	}
}

// TestParseCSVAgreesWithEncodingCSV checks that well-formed files read the same as with
// the standard library.
func TestParseCSVAgreesWithEncodingCSV(t *testing.T) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	values := []string{"", "plain", "with, comma", `with "quotes"`, "two\nlines", " spaced ", "=1+1", "ünïcødé", "tab\there"}
	for i := 0; i < 50; i++ {
		rec := []string{fmt.Sprint(i)}
		for j := 0; j < 4; j++ {
			rec = append(rec, values[(i*7+j*3)%len(values)])
		}
		_ = w.Write(rec)
	}
	w.Flush()
	want, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := parseCSV(b.Bytes(), ',')
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].err != nil || strings.Join(got[i].fields, "\x00") != strings.Join(want[i], "\x00") {
			t.Errorf("record %d = %q (%v), want %q", i, got[i].fields, got[i].err, want[i])
		}
	}
}

func TestSeparator(t *testing.T) {
	cases := map[string]byte{
		"name,email\nA;B,c\n":     ',',
		"nom;email\nA;b@x.test\n": ';',
		"name\temail\n":           '\t',
		"name\n":                  ',',
		"a;b\tc\n":                ';',
	}
	for in, want := range cases {
		if got := separator([]byte(in)); got != want {
			t.Errorf("separator(%q) = %q, want %q", in, got, want)
		}
	}
	got := parseCSV([]byte("nom;email\n\"Doe; Jane\";jane@x.test\n"), ';')
	if len(got) != 2 || strings.Join(got[1].fields, "|") != "Doe; Jane|jane@x.test" {
		t.Errorf("semicolon file = %+v", got)
	}
}

func TestSafeCell(t *testing.T) {
	cases := map[string]string{
		"":                       "",
		"Jane Doe":               "Jane Doe",
		"=cmd|' /C calc'!A0":     "'=cmd|' /C calc'!A0",
		"+1 555 0100":            "'+1 555 0100",
		"-2+3":                   "'-2+3",
		"@SUM(A1:A2)":            "'@SUM(A1:A2)",
		"\t=1":                   "'\t=1",
		"\r=1":                   "'\r=1",
		"＝HYPERLINK(\"x\")":      "'＝HYPERLINK(\"x\")",
		"a=b":                    "a=b",
		" =not a formula at all": " =not a formula at all",
	}
	for in, want := range cases {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReportWriteCSVNeutralizesFormulas(t *testing.T) {
	rep := &Report{Rows: []RowResult{
		{Line: 2, Status: Created, ID: 7, Key: "=HYPERLINK(\"http://evil.test\",\"x\")"},
		{Line: 3, Status: Failed, Key: "bob@x.test", Field: "name", Code: "TooLong", Reason: "Name: is too long"},
	}}
	var b bytes.Buffer
	if err := rep.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[1][3] != `'=HYPERLINK("http://evil.test","x")` || recs[1][2] != "7" || recs[2][6] != "Name: is too long" {
		t.Fatalf("report CSV = %q", recs)
	}
}
