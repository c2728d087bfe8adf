package org_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/org"
)

// odsLine builds one row of an ODS practice file: 27 quoted columns, keyed
// by the 1-based column numbers of the ODS specification. Columns not given
// are empty.
func odsLine(cols map[int]string) string {
	f := make([]string, 27)
	for c, v := range cols {
		f[c-1] = v
	}
	for i, v := range f {
		f[i] = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
	}
	return strings.Join(f, ",") + "\r\n"
}

// practiceCols is a well-formed row for an active GP practice in CCG 16C,
// with the given columns replaced.
func practiceCols(code string, override map[int]string) map[int]string {
	cols := map[int]string{
		1: code, 2: "TEST SURGERY", 3: "Y63", 4: "Q74", 5: "1 HIGH STREET", 10: "TS1 1AA",
		11: "20000101", 13: "A", 14: "B", 15: "16C", 16: "20130401", 22: "0", 24: "16C", 26: "4",
	}
	for c, v := range override {
		cols[c] = v
	}
	return cols
}

// odsFile joins rows into a file.
func odsFile(rows ...map[int]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(odsLine(r))
	}
	return b.String()
}

func date(y int, m time.Month, d int) *time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return &t
}

func TestParseODS(t *testing.T) {
	t.Parallel()
	type wantErr struct {
		line    int
		column  string
		message string // a part of the message
	}
	tests := []struct {
		name     string
		file     string
		wantRecs []org.ODSRecord
		wantErrs []wantErr
	}{
		{
			name: "the first line of the real file",
			file: `"A81001","THE DENSHAM SURGERY","Y63","Q74","THE HEALTH CENTRE","LAWSON STREET","STOCKTON-ON-TEES","CLEVELAND","","TS18 1HU","19740401","","A","B","00K","20130401","","01642 672351","","","","0","","00K","","4",""` + "\n",
			wantRecs: []org.ODSRecord{{Line: 1, Code: "A81001", Name: "THE DENSHAM SURGERY", Postcode: "TS18 1HU",
				OpenDate: date(1974, 4, 1), Status: "A", Commissioner: "00K", PrescribingSetting: "4"}},
		},
		{
			name: "a blank line does not shift the line numbers after it",
			file: odsLine(practiceCols("A00001", nil)) + "\r\n" + odsLine(practiceCols("A00002", map[int]string{13: "X"})),
			wantRecs: []org.ODSRecord{{Line: 1, Code: "A00001", Name: "TEST SURGERY", Postcode: "TS1 1AA",
				OpenDate: date(2000, 1, 1), Status: "A", Commissioner: "16C", PrescribingSetting: "4"}},
			wantErrs: []wantErr{{line: 3, column: "column 13 (status)", message: "X"}},
		},
		{
			name: "closed practice keeps both dates",
			file: odsFile(practiceCols("A82011", map[int]string{11: "19740401", 12: "20160531", 13: "C", 15: "01H"})),
			wantRecs: []org.ODSRecord{{Line: 1, Code: "A82011", Name: "TEST SURGERY", Postcode: "TS1 1AA",
				OpenDate: date(1974, 4, 1), CloseDate: date(2016, 5, 31), Status: "C", Commissioner: "01H", PrescribingSetting: "4"}},
		},
		{
			name: "spaces around values are trimmed and an empty open date is no date",
			file: odsFile(practiceCols("Y02572", map[int]string{2: "  SPACED SURGERY ", 10: " TS1 1AA ", 11: "", 13: " P ", 15: " 16C", 26: "4 "})),
			wantRecs: []org.ODSRecord{{Line: 1, Code: "Y02572", Name: "SPACED SURGERY", Postcode: "TS1 1AA",
				Status: "P", Commissioner: "16C", PrescribingSetting: "4"}},
		},
		{
			name: "row with no commissioner is well formed",
			file: odsFile(practiceCols("Y02573", map[int]string{15: ""})),
			wantRecs: []org.ODSRecord{{Line: 1, Code: "Y02573", Name: "TEST SURGERY", Postcode: "TS1 1AA",
				OpenDate: date(2000, 1, 1), Status: "A", PrescribingSetting: "4"}},
		},
		{
			name:     "empty file has no rows and no errors",
			file:     "",
			wantRecs: nil,
		},
		{
			name:     "row with 26 columns",
			file:     strings.TrimSuffix(odsLine(practiceCols("A81001", nil)), ",\"\"\r\n") + "\r\n",
			wantErrs: []wantErr{{1, "", "has 26 columns; an ODS practice file has 27"}},
		},
		{
			name:     "row with 28 columns",
			file:     strings.TrimSuffix(odsLine(practiceCols("A81001", nil)), "\r\n") + `,"extra"` + "\r\n",
			wantErrs: []wantErr{{1, "", "has 28 columns"}},
		},
		{
			name:     "open date in month 13",
			file:     odsFile(practiceCols("A81001", map[int]string{11: "20191301"})),
			wantErrs: []wantErr{{1, "column 11 (open date)", `"20191301" is not a date in the form YYYYMMDD`}},
		},
		{
			name:     "close date written with dashes",
			file:     odsFile(practiceCols("A81001", map[int]string{12: "2019-07-31"})),
			wantErrs: []wantErr{{1, "column 12 (close date)", `"2019-07-31" is not a date in the form YYYYMMDD`}},
		},
		{
			name:     "status X",
			file:     odsFile(practiceCols("A81001", map[int]string{13: "X"})),
			wantErrs: []wantErr{{1, "column 13 (status)", `"X" is not one of A, C, D or P`}},
		},
		{
			name:     "close date before open date",
			file:     odsFile(practiceCols("A81001", map[int]string{11: "20190401", 12: "20190331", 13: "C"})),
			wantErrs: []wantErr{{1, "column 12 (close date)", "31 March 2019 is before the open date 1 April 2019"}},
		},
		{
			name:     "organisation code with a dash",
			file:     odsFile(practiceCols("A81-01", nil)),
			wantErrs: []wantErr{{1, "column 1 (organisation code)", `"A81-01" is not an ODS code`}},
		},
		{
			name:     "empty name",
			file:     odsFile(practiceCols("A81001", map[int]string{2: "  "})),
			wantErrs: []wantErr{{1, "column 2 (name)", "is empty"}},
		},
		{
			name:     "commissioner code in lower case",
			file:     odsFile(practiceCols("A81001", map[int]string{15: "16c"})),
			wantErrs: []wantErr{{1, "column 15 (commissioner)", `"16c" is not an ODS code`}},
		},
		{
			name: "row with two faults reports both",
			file: odsFile(practiceCols("A81001", map[int]string{11: "19740431", 13: "Z"})),
			wantErrs: []wantErr{
				{1, "column 11 (open date)", `"19740431" is not a date`},
				{1, "column 13 (status)", `"Z" is not one of A, C, D or P`},
			},
		},
		{
			name: "bad rows among good ones are reported on their own lines",
			file: odsFile(
				practiceCols("A81001", nil),
				practiceCols("A81002", map[int]string{13: "X"}),
				practiceCols("A81003", nil),
				practiceCols("A81004", map[int]string{11: "2019"}),
			),
			wantRecs: []org.ODSRecord{
				{Line: 1, Code: "A81001", Name: "TEST SURGERY", Postcode: "TS1 1AA", OpenDate: date(2000, 1, 1), Status: "A", Commissioner: "16C", PrescribingSetting: "4"},
				{Line: 3, Code: "A81003", Name: "TEST SURGERY", Postcode: "TS1 1AA", OpenDate: date(2000, 1, 1), Status: "A", Commissioner: "16C", PrescribingSetting: "4"},
			},
			wantErrs: []wantErr{
				{2, "column 13 (status)", `"X"`},
				{4, "column 11 (open date)", `"2019"`},
			},
		},
		{
			name:     "unclosed quote is not valid CSV",
			file:     odsLine(practiceCols("A81001", nil)) + `"A81002,"BROKEN` + "\r\n",
			wantRecs: []org.ODSRecord{{Line: 1, Code: "A81001", Name: "TEST SURGERY", Postcode: "TS1 1AA", OpenDate: date(2000, 1, 1), Status: "A", Commissioner: "16C", PrescribingSetting: "4"}},
			wantErrs: []wantErr{{2, "", "not valid CSV"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recs, errs := org.ParseODS(strings.NewReader(tc.file))
			if len(recs) != len(tc.wantRecs) {
				t.Fatalf("got %d records %+v, want %d", len(recs), recs, len(tc.wantRecs))
			}
			for i, got := range recs {
				want := tc.wantRecs[i]
				if !sameRecord(got, want) {
					t.Errorf("record %d:\n got %s\nwant %s", i, describe(got), describe(want))
				}
			}
			if len(errs) != len(tc.wantErrs) {
				t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(tc.wantErrs))
			}
			for i, got := range errs {
				want := tc.wantErrs[i]
				if got.Line != want.line || got.Column != want.column || !strings.Contains(got.Message, want.message) {
					t.Errorf("error %d: got line %d, column %q, message %q; want line %d, column %q, message containing %q",
						i, got.Line, got.Column, got.Message, want.line, want.column, want.message)
				}
			}
		})
	}
}

func sameDate(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func sameRecord(a, b org.ODSRecord) bool {
	return a.Line == b.Line && a.Code == b.Code && a.Name == b.Name && a.Postcode == b.Postcode &&
		sameDate(a.OpenDate, b.OpenDate) && sameDate(a.CloseDate, b.CloseDate) && a.Status == b.Status &&
		a.Commissioner == b.Commissioner && a.PrescribingSetting == b.PrescribingSetting
}

func describe(r org.ODSRecord) string {
	d := func(t *time.Time) string {
		if t == nil {
			return "none"
		}
		return t.Format(time.DateOnly)
	}
	return fmt.Sprintf("line %d | %s | %s | %s | open %s | close %s | status %s | commissioner %s | setting %s",
		r.Line, r.Code, r.Name, r.Postcode, d(r.OpenDate), d(r.CloseDate), r.Status, r.Commissioner, r.PrescribingSetting)
}

func TestODSRecordIsPractice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		code    string
		setting string
		want    bool
	}{
		{"GP practice code with setting 4", "A81001", "4", true},
		{"Y code with setting 4", "Y02572", "4", true},
		{"practice code with setting 0 (other)", "A81001", "0", false},
		{"practice code with setting 1 (walk-in centre)", "Y02572", "1", false},
		{"five-character code with setting 4", "NLO10", "4", false},
		{"setting 14 is not setting 4", "A81001", "14", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := org.ODSRecord{Code: tc.code, PrescribingSetting: tc.setting}
			if got := r.IsPractice(); got != tc.want {
				t.Errorf("IsPractice() of %s with setting %s = %v, want %v", tc.code, tc.setting, got, tc.want)
			}
		})
	}
}

// The ODS file as ImportODS reads it before the database (byte order
// mark, rows, codes given twice, NUL characters), for any bytes: never a
// panic; an error is Invalid, in words, its rows in line order; a file read
// has records each of a code given once, a known status, dates in order,
// and text PostgreSQL can store.
func FuzzParseODS(f *testing.F) {
	f.Add(odsLine(practiceCols("A81001", nil)))
	f.Add("\xef\xbb\xbf" + odsLine(practiceCols("A81001", nil)) + odsLine(practiceCols("A81001", nil)))
	f.Add(strings.TrimSuffix(odsLine(practiceCols("A81001", nil)), ",\"\"\r\n") + "\r\n")
	f.Add("\x00\xff,\"\"\"\n\"unclosed")
	f.Add(odsFile(practiceCols("A81001", map[int]string{12: "19700101"}), practiceCols("A81-01", nil)))
	f.Add("")
	f.Fuzz(func(t *testing.T, file string) {
		recs, err := org.ReadODS(strings.NewReader(file))
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != apperr.Invalid || strings.TrimSpace(ae.Message) == "" || recs != nil {
				t.Fatalf("error %#v with %d records", err, len(recs))
			}
			var fe *org.ODSFileError
			if errors.As(err, &fe) {
				for i, e := range fe.Errors {
					if e.Line < 0 || strings.TrimSpace(e.Message) == "" || i > 0 && e.Line < fe.Errors[i-1].Line {
						t.Fatalf("bad row error %d: %+v", i, e)
					}
				}
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range recs {
			switch {
			case r.Code == "", seen[r.Code], r.Line < 1, len(r.Status) != 1 || !strings.Contains("ACDP", r.Status),
				r.OpenDate != nil && r.CloseDate != nil && r.CloseDate.Before(*r.OpenDate),
				strings.ContainsRune(r.Name, 0), strings.ContainsRune(r.Postcode, 0):
				t.Fatalf("bad record %+v", r)
			}
			seen[r.Code] = true
		}
	})
}
