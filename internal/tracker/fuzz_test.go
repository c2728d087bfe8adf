package tracker

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// checkParsed holds what ParseChangeRows promises for any file: every
// problem is words with a row; a problem with the whole file or its
// header comes with no lines; and every line read is one the domain can
// take as it is: a known kind, a practice, a date of the years allowed at
// midnight, service ids that read as ids, corrections of a known date,
// text PostgreSQL can store, rows in file order below the header.
func checkParsed(t *testing.T, file []byte, name string) {
	rows, errs := ParseChangeRows(bytes.NewReader(file), name)
	for _, e := range errs {
		if strings.TrimSpace(e.Message) == "" || e.Row < 0 {
			t.Fatalf("bad problem %+v", e)
		}
		if e.Row <= 1 && len(rows) > 0 {
			t.Fatalf("a problem with the file or its header (%+v) and %d lines", e, len(rows))
		}
	}
	text := func(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
	last := 1
	for _, r := range rows {
		in := r.Line
		d := in.Date
		switch {
		case r.Row <= last, !in.Kind.Valid(), in.Practice == "", in.Practice != strings.ToUpper(in.Practice),
			d.Location() != time.UTC, d.Hour()+d.Minute()+d.Second()+d.Nanosecond() != 0, d.Year() < firstYear, d.Year() > lastYear,
			!slices.Contains([]string{"", CorrectsActualM1, CorrectsM2, CorrectsCessation}, in.Corrects):
			t.Fatalf("bad row %+v after row %d", r, last)
		}
		for _, ref := range []string{in.Instance, in.NewInstance} {
			if _, _, ok := ParseRef(ref); ref != "" && !ok {
				t.Fatalf("row %d: service id %q", r.Row, ref)
			}
		}
		for _, s := range append([]string{in.Practice, in.Instance, in.NewInstance, in.Note}, in.Targets...) {
			if !text(s) {
				t.Fatalf("row %d: %q is not text PostgreSQL can store", r.Row, s)
			}
		}
		for _, tg := range in.Targets {
			if tg == "" {
				t.Fatalf("row %d: an empty target in %q", r.Row, in.Targets)
			}
		}
		last = r.Row
	}
	lines, errs2 := ParseChanges(bytes.NewReader(file), name)
	if len(errs2) != len(errs) || len(errs) == 0 && len(lines) != len(rows) {
		t.Fatalf("ParseChanges and ParseChangeRows disagree: %d/%d problems, %d/%d lines", len(errs2), len(errs), len(lines), len(rows))
	}
	if len(errs) > 0 && lines != nil {
		t.Fatalf("lines from a file with problems")
	}
	_ = fmt.Sprint(errs)
}

// FuzzParseChanges is any uploaded file: a CSV, an XLSX, anything else.
func FuzzParseChanges(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, shReturn(), shServices(), shPending()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(shCSVHeader + "activation,A81001,SI12-A81001,,,,2026-03-02,\r\n\r\nsplit,A81002,,,\"A81003 A81004\",,1/3/2026,\"a, b\"\r\n"))
	f.Add([]byte(strings.ReplaceAll(shCSVHeader, ",", ";") + "verification;A81001;SI12-A81001;;;;2026-03-20;ok, fine\n"))
	f.Add([]byte("\xef\xbb\xbf" + shCSVHeader + "correction,A81001,SI12-A81001,,,actual m1,2026-03-01T00:00:00Z,\r\n"))
	f.Add(utf16LE(shCSVHeader, true))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00garbage\xff\xfe"))
	f.Add([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkParsed(t, b, "upload")
	})
}

// xlsxParts are the parts of a small real workbook (from excelize), whose
// worksheet and shared strings FuzzParseChangesXLSX replaces: a fuzzer
// mutating a whole ZIP would almost only break its checksums.
func xlsxParts(f *testing.F) (parts map[string][]byte, names []string) {
	b := shXLSX(f, "Changes", [][]any{shHeader,
		{"activation", "A81001", "SI12-A81001", nil, nil, nil, "2026-03-02", "went live"},
		{"merger", "a81002", nil, nil, "A81003, a81004", nil, time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), "=1+1"},
		{"correction", "A81001", "SI12-A81001", nil, nil, "m2", 46100.5, nil},
	})
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		f.Fatal(err)
	}
	parts = map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			f.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		if err != nil {
			f.Fatal(err)
		}
		parts[zf.Name] = body
		names = append(names, zf.Name)
	}
	return parts, names
}

const (
	partSheet   = "xl/worksheets/sheet1.xml"
	partStrings = "xl/sharedStrings.xml"
)

// FuzzParseChangesXLSX is a workbook whose Changes sheet and shared
// strings are any XML (or any bytes).
func FuzzParseChangesXLSX(f *testing.F) {
	parts, names := xlsxParts(f)
	if parts[partSheet] == nil || parts[partStrings] == nil {
		f.Fatalf("the workbook has no %s or %s: %q", partSheet, partStrings, names)
	}
	f.Add(parts[partSheet], parts[partStrings])
	f.Add([]byte(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+
		`<row r="1"><c r="A1" t="inlineStr"><is><t>Kind</t></is></c></row>`+
		`<row r="3"><c r="H3" t="inlineStr"><is><t>x</t></is></c><c r="XFD3"><v>1</v></c></row></sheetData></worksheet>`), parts[partStrings])
	f.Add([]byte(`<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData><x:row><x:c t="s"><x:v>99</x:v></x:c></x:row></x:sheetData></x:worksheet>`), []byte(`<sst/>`))
	f.Fuzz(func(t *testing.T, sheet, strs []byte) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, name := range names {
			body := parts[name]
			switch name {
			case partSheet:
				body = sheet
			case partStrings:
				body = strs
			}
			w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(body); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		checkParsed(t, buf.Bytes(), "return.xlsx")
	})
}

// A date cell of any text: a date read is a day of the years allowed, at
// midnight UTC; an ISO date reads as itself; a problem is words.
func FuzzParseCellDate(f *testing.F) {
	for _, s := range []string{"2026-03-27", "2026/3/7", "27/03/2026", "7.3.2026", "29/02/2028", "27/03/2026 00:00", "46108", "46108.75",
		"29/02/2026", "0/1/2026", "27-03-26", "2026-03-27 garbage", ".", "-1", "1e5", "123456789012", "2958465", "2026-03-27T00:00:00+01:00"} {
		f.Add(s, false)
	}
	f.Add("44646", true)
	f.Fuzz(func(t *testing.T, s string, date1904 bool) {
		d, problem := parseCellDate(s, date1904)
		if problem != "" {
			if !d.IsZero() {
				t.Fatalf("%q: a problem %q and a date %v", s, problem, d)
			}
			return
		}
		if d.Location() != time.UTC || d.Hour()+d.Minute()+d.Second()+d.Nanosecond() != 0 || d.Year() < firstYear || d.Year() > lastYear {
			t.Fatalf("%q read as %v", s, d)
		}
		if len(s) == 10 && s[4] == '-' && s[7] == '-' && d.Format(time.DateOnly) != s {
			t.Fatalf("%q read as %v", s, d)
		}
	})
}
