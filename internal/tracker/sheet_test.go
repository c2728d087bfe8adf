package tracker

import (
	"archive/zip"
	"bytes"
	"image"
	"image/png"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
)

func shDay(y int, m time.Month, d int) *time.Time {
	t := dates.Date(y, m, d)
	return &t
}

func shID(n int64) *int64 { return &n }

// shReturn is a return for March 2026 with one line, whose note starts
// with a minus: SafeText escapes it in the workbook.
func shReturn() Return {
	p, _ := ParsePeriod("2026-03")
	return Return{
		ID: 1, CCGCode: "03Q", CCGName: "NHS Vale of York CCG", RegionName: "North East and Yorkshire",
		Period: p, DueDate: dates.Date(2026, 4, 20), Status: Draft,
		Lines: []Line{{
			ID: 7, Kind: Activation, PracticeCode: "B82005", PracticeName: "Priory Medical Group",
			InstanceID: shID(12), InstanceRef: "SI12-B82005", Date: dates.Date(2026, 3, 10), Note: "-went live early",
		}},
	}
}

func shServices() []ledger.Instance {
	return []ledger.Instance{
		{
			ID: 12, CCGCode: "03Q", PracticeCode: "B82005", PracticeName: `=HYPERLINK("x")`,
			ItemID: "10000-001", ItemName: "Emis Web GP", SupplierName: "EMIS Health", CallOffID: "C010001-01",
			State: ledger.Planned, PlannedM1: shDay(2026, 3, 1),
		},
		{
			ID: 13, CCGCode: "03Q", PracticeCode: "B82010", PracticeName: "Haxby Group Practice",
			ItemID: "10000-002", ItemName: "SystmOne GP", SupplierName: "TPP", AgreementID: shID(4),
			State: ledger.Active, ActualM1: shDay(2019, 4, 1), M2: shDay(2019, 5, 1),
		},
	}
}

func shPending() []Line {
	return []Line{{
		ID: 3, Kind: Cessation, PracticeCode: "B82010", PracticeName: "Haxby Group Practice", InstanceID: shID(13),
		InstanceRef: "SI13-B82010", ItemName: "SystmOne GP", Date: dates.Date(2026, 5, 1), Note: "Moving to Emis", Requested: true,
	}}
}

func shSample(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, shReturn(), shServices(), shPending()); err != nil {
		t.Fatalf("WriteXLSX: %v", err)
	}
	return buf.Bytes()
}

func shOpen(t *testing.T, b []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("open workbook: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func shRows(t *testing.T, f *excelize.File, sheet string) [][]string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatalf("rows of %s: %v", sheet, err)
	}
	return rows
}

func shWantRow(t *testing.T, rows [][]string, i int, want ...string) {
	t.Helper()
	if i >= len(rows) {
		t.Fatalf("no row %d (%d rows)", i+1, len(rows))
	}
	got := rows[i]
	for len(got) < len(want) {
		got = append(got, "")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("row %d:\n got %q\nwant %q", i+1, got, want)
	}
}

// shWantHeader checks that row 1 is bold and frozen.
func shWantHeader(t *testing.T, f *excelize.File, sheet string) {
	t.Helper()
	id, err := f.GetCellStyle(sheet, "A1")
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Font == nil || !st.Font.Bold {
		t.Errorf("%s: the header is not bold", sheet)
	}
	panes, err := f.GetPanes(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("%s: the header is not frozen: %+v", sheet, panes)
	}
}

func TestWriteXLSXSheets(t *testing.T) {
	f := shOpen(t, shSample(t))
	if got, want := f.GetSheetList(), []string{SheetAbout, SheetServices, SheetPending, SheetChanges}; !reflect.DeepEqual(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	if f.GetActiveSheetIndex() != 0 {
		t.Errorf("the workbook opens on sheet %d, want About", f.GetActiveSheetIndex())
	}

	t.Run("Services", func(t *testing.T) {
		rows := shRows(t, f, SheetServices)
		shWantRow(t, rows, 0, "Service ID", "Practice ODS code", "Practice name", "Catalogue item ID", "Catalogue item",
			"Supplier", "Source", "State", "Planned M1", "Actual M1", "M2", "Cessation")
		shWantRow(t, rows, 1, "SI12-B82005", "B82005", `'=HYPERLINK("x")`, "10000-001", "Emis Web GP", "EMIS Health",
			"C010001-01", "planned", "2026-03-01", "", "", "")
		shWantRow(t, rows, 2, "SI13-B82010", "B82010", "Haxby Group Practice", "10000-002", "SystmOne GP", "TPP",
			"Continuity agreement", "active", "", "2019-04-01", "2019-05-01", "")
		if len(rows) != 3 {
			t.Errorf("%d rows, want 3", len(rows))
		}
		shWantHeader(t, f, SheetServices)
		// The practice name is escaped text, not a formula.
		if formula, _ := f.GetCellFormula(SheetServices, "C2"); formula != "" {
			t.Errorf("C2 is the formula %q", formula)
		}
		// Dates are Excel dates, shown as YYYY-MM-DD.
		raw, _ := f.GetCellValue(SheetServices, "I2", excelize.Options{RawCellValue: true})
		if want := "46082"; raw != want {
			t.Errorf("I2 holds %q, want the Excel date %s", raw, want)
		}
	})

	t.Run("Pending", func(t *testing.T) {
		rows := shRows(t, f, SheetPending)
		shWantRow(t, rows, 0, "Kind", "Practice ODS code", "Practice name", "Service ID", "Catalogue item", "New service ID",
			"Target practices", "Date requested", "Note", "Line ID")
		shWantRow(t, rows, 1, "cessation", "B82010", "Haxby Group Practice", "SI13-B82010", "SystmOne GP", "", "", "2026-05-01",
			"Moving to Emis", "3")
		shWantHeader(t, f, SheetPending)
	})

	t.Run("Changes", func(t *testing.T) {
		rows := shRows(t, f, SheetChanges)
		shWantRow(t, rows, 0, ChangeColumns()...)
		shWantRow(t, rows, 0, "Kind", "Practice ODS code", "Service ID", "New service ID", "Target practices", "Corrects", "Date", "Note",
			"Other CCG confirmed", "Line ID")
		// Each line carries its ID, for the upload to change that line.
		shWantRow(t, rows, 1, "activation", "B82005", "SI12-B82005", "", "", "", "2026-03-10", "'-went live early", "", "7")
		shWantHeader(t, f, SheetChanges)
		dvs, err := f.GetDataValidations(SheetChanges)
		if err != nil {
			t.Fatal(err)
		}
		lists := map[string]string{}
		for _, dv := range dvs {
			lists[dv.Sqref] = dv.Type + " " + dv.Formula1
		}
		want := map[string]string{
			"A2:A2001": `list "activation,verification,cessation,migration,merger,split,cancellation,correction"`,
			"F2:F2001": `list "actual_m1,m2,cessation"`,
		}
		if !reflect.DeepEqual(lists, want) {
			t.Errorf("data validations %q, want %q", lists, want)
		}
	})

	t.Run("About", func(t *testing.T) {
		r := shReturn()
		r.Status, r.ReviewComment = Returned, "Please check the go-live date"
		r.Lines[0].ReviewerComment = "=1+1 is not a date"
		var buf bytes.Buffer
		if err := WriteXLSX(&buf, r, nil, nil); err != nil {
			t.Fatal(err)
		}
		f := shOpen(t, buf.Bytes())
		rows := shRows(t, f, SheetAbout)
		var text []string
		for _, r := range rows {
			text = append(text, strings.Join(r, " | "))
		}
		all := strings.Join(text, "\n")
		for _, want := range []string{
			"CCG | NHS Vale of York CCG (03Q)", "Month | March 2026", "Due date | 20 April 2026", "Status | Returned to the CCG",
			"Reviewer's comments", "Overall | Please check the go-live date", "Changes, row 2 | '=1+1 is not a date",
			"Date | The date of the change, as YYYY-MM-DD", "activation | A planned service went live",
		} {
			if !strings.Contains(all, want) {
				t.Errorf("About has no %q:\n%s", want, all)
			}
		}
	})
}

func TestWriteXLSXEmptyReturn(t *testing.T) {
	p, _ := ParsePeriod("2026-03")
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, Return{CCGCode: "03Q", CCGName: "NHS Vale of York CCG", Period: p, Status: Issued}, nil, nil); err != nil {
		t.Fatal(err)
	}
	f := shOpen(t, buf.Bytes())
	for _, s := range []string{SheetServices, SheetPending, SheetChanges} {
		if rows := shRows(t, f, s); len(rows) != 1 {
			t.Errorf("%s has %d rows, want the header only", s, len(rows))
		}
	}
	lines, errs := ParseChanges(bytes.NewReader(buf.Bytes()), "return.xlsx")
	if len(lines) != 0 || len(errs) != 0 {
		t.Errorf("an empty Changes sheet reads as %v, %v; want nothing", lines, errs)
	}
}

// TestSheetRoundTrip fills in the Changes sheet of a downloaded workbook
// the ways a buyer would, and reads it back.
func TestSheetRoundTrip(t *testing.T) {
	f := shOpen(t, shSample(t))
	set := func(cell string, v any) {
		t.Helper()
		if err := f.SetCellValue(SheetChanges, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	// Row 3: a date cell.
	set("A3", "cessation")
	set("B3", "b82010")
	set("C3", "SI13-B82010")
	set("G3", time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC))
	// Row 4 blank. Row 5: a migration, with a D/M/YYYY date as text.
	set("A5", "Migration")
	set("B5", "B82005")
	set("C5", "SI12-B82005")
	set("D5", "si14-b82005")
	set("G5", "1/3/2026")
	set("H5", "=SUM(1,2) was in the note")
	// Row 6: a merger, targets separated by a comma and spaces.
	set("A6", "merger")
	set("B6", "B82010")
	set("E6", "B82005, b82011  B82012")
	set("G6", "2026-03-15")
	// Row 7: a correction, its date a serial day number.
	set("A7", "correction")
	set("B7", "B82010")
	set("C7", "SI13-B82010")
	set("F7", "M2")
	set("G7", 46100)
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}

	rows, errs := ParseChangeRows(&buf, "return.xlsx")
	if len(errs) > 0 {
		t.Fatalf("problems: %v", errs)
	}
	want := []ChangeRow{
		{Row: 2, Line: LineInput{Kind: Activation, Practice: "B82005", Instance: "SI12-B82005", Date: dates.Date(2026, 3, 10), Note: "-went live early"}, LineID: 7},
		{Row: 3, Line: LineInput{Kind: Cessation, Practice: "B82010", Instance: "SI13-B82010", Date: dates.Date(2026, 3, 31)}},
		{Row: 5, Line: LineInput{Kind: Migration, Practice: "B82005", Instance: "SI12-B82005", NewInstance: "SI14-B82005", Date: dates.Date(2026, 3, 1),
			Note: "=SUM(1,2) was in the note"}},
		{Row: 6, Line: LineInput{Kind: Merger, Practice: "B82010", Targets: []string{"B82005", "B82011", "B82012"}, Date: dates.Date(2026, 3, 15)}},
		{Row: 7, Line: LineInput{Kind: Correction, Practice: "B82010", Instance: "SI13-B82010", Corrects: CorrectsM2, Date: dates.Date(2026, 3, 19)}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", rows, want)
	}
	// Row 2 is the return's line, with its ID: uploading the workbook back
	// adds the others only.
	changes, at, errs := AmendmentOf(shReturn(), rows)
	if len(errs) > 0 || len(changes) != len(want)-1 || at[0] != 3 || changes[0].ID != 0 || !reflect.DeepEqual(changes[0].Line, want[1].Line) {
		t.Errorf("AmendmentOf: %+v at %v, %v", changes, at, errs)
	}
}

func TestSheetAmendmentOf(t *testing.T) {
	r := shReturn()
	line := r.Lines[0]
	same := ChangeRow{Row: 2, Line: LineInput{Kind: Activation, Practice: "b82005 ", Instance: "si12-b82005", Date: dates.Date(2026, 3, 10), Note: "-went live early"}}
	moved := same
	moved.Row, moved.Line.Date = 3, dates.Date(2026, 3, 11)
	again := same
	again.Row = 4
	t.Run("WithoutLineIDs", func(t *testing.T) {
		// The first equal row is the existing line; a changed one and a
		// second copy are new lines, for the domain to judge.
		changes, at, errs := AmendmentOf(r, []ChangeRow{same, moved, again})
		if len(errs) > 0 || len(changes) != 2 || !reflect.DeepEqual(at, []int{3, 4}) || changes[0].ID != 0 || changes[1].ID != 0 {
			t.Errorf("got %+v at %v, %v", changes, at, errs)
		}
	})
	t.Run("WithLineIDs", func(t *testing.T) {
		kept, edited, emptied := same, moved, ChangeRow{Row: 5, LineID: line.ID, Remove: true}
		kept.LineID, edited.LineID = line.ID, line.ID
		// Left as it was: nothing to do.
		if changes, _, errs := AmendmentOf(r, []ChangeRow{kept}); len(changes) != 0 || len(errs) != 0 {
			t.Errorf("unchanged row: %+v %v", changes, errs)
		}
		// Changed: an edit of that line.
		changes, at, errs := AmendmentOf(r, []ChangeRow{edited})
		if len(errs) != 0 || len(changes) != 1 || changes[0].ID != line.ID || changes[0].Remove || !reflect.DeepEqual(at, []int{3}) {
			t.Errorf("changed row: %+v at %v, %v", changes, at, errs)
		}
		// Emptied: a removal.
		changes, _, errs = AmendmentOf(r, []ChangeRow{emptied})
		if len(errs) != 0 || len(changes) != 1 || changes[0].ID != line.ID || !changes[0].Remove {
			t.Errorf("emptied row: %+v %v", changes, errs)
		}
		// A line twice, or a line the return does not have: problems of
		// the file, by row and column.
		unknown := kept
		unknown.Row, unknown.LineID = 6, line.ID+1000
		_, _, errs = AmendmentOf(r, []ChangeRow{kept, emptied, unknown})
		if len(errs) != 2 || errs[0].Row != 5 || errs[0].Column != ColLine || errs[1].Row != 6 || errs[1].Column != ColLine {
			t.Errorf("bad IDs: %v", errs)
		}
	})
}

// shXLSX builds a workbook of sheets given as name, then rows of cells.
func shXLSX(t testing.TB, sheets ...any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	for i := 0; i < len(sheets); i += 2 {
		name := sheets[i].(string)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sheets[i+1].([][]any) {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if err := f.SetCellValue(name, cell, v); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var shHeader = []any{"Kind", "Practice ODS code", "Service ID", "New service ID", "Target practices", "Corrects", "Date", "Note"}

const shCSVHeader = "Kind,Practice ODS code,Service ID,New service ID,Target practices,Corrects,Date,Note\r\n"

func TestParseChangesCSV(t *testing.T) {
	in := "\xef\xbb\xbf" + // Excel's CSV UTF-8 starts with a byte order mark
		" kind ,PRACTICE ODS CODE,service id,New_Service_ID,target  practices,Corrects,DATE,note\r\n" +
		"activation,A81001,SI12-A81001,,,,2026-03-02,\r\n" +
		"\r\n" +
		"Cessation,a81001,si13-a81001,,,,1/4/2026,\"Stopped, as agreed\r\nwith the practice\"\r\n" +
		"split,A81002,,,\"A81003,A81004\",,46082,'-minus\r\n" +
		",,,,,,,\r\n" +
		"correction,A81001,SI12-A81001,,,actual m1,2026-03-01T00:00:00Z,\r\n"
	rows, errs := ParseChangeRows(strings.NewReader(in), "changes.csv")
	if len(errs) > 0 {
		t.Fatalf("problems: %v", errs)
	}
	want := []ChangeRow{
		{Row: 2, Line: LineInput{Kind: Activation, Practice: "A81001", Instance: "SI12-A81001", Date: dates.Date(2026, 3, 2)}},
		{Row: 4, Line: LineInput{Kind: Cessation, Practice: "A81001", Instance: "SI13-A81001", Date: dates.Date(2026, 4, 1),
			Note: "Stopped, as agreed\nwith the practice"}},
		// The note above spans two lines of the file but is one row.
		{Row: 5, Line: LineInput{Kind: Split, Practice: "A81002", Targets: []string{"A81003", "A81004"}, Date: dates.Date(2026, 3, 1), Note: "-minus"}},
		{Row: 7, Line: LineInput{Kind: Correction, Practice: "A81001", Instance: "SI12-A81001", Corrects: CorrectsActualM1, Date: dates.Date(2026, 3, 1)}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", rows, want)
	}

	t.Run("Semicolons", func(t *testing.T) {
		in := strings.ReplaceAll(shCSVHeader, ",", ";") + "verification;A81001;SI12-A81001;;;;2026-03-20;ok, fine\n"
		lines, errs := ParseChanges(strings.NewReader(in), "changes.csv")
		want := []LineInput{{Kind: Verification, Practice: "A81001", Instance: "SI12-A81001", Date: dates.Date(2026, 3, 20), Note: "ok, fine"}}
		if len(errs) > 0 || !reflect.DeepEqual(lines, want) {
			t.Errorf("got %+v, %v; want %+v", lines, errs, want)
		}
	})

	t.Run("ColumnsInAnyOrder", func(t *testing.T) {
		in := "Date,Kind,Note,Practice ODS code,Service ID,New service ID,Target practices,Corrects\n" +
			"2026-03-20,cancellation,,A81001,SI12-A81001,,,\n"
		lines, errs := ParseChanges(strings.NewReader(in), "changes.csv")
		want := []LineInput{{Kind: Cancellation, Practice: "A81001", Instance: "SI12-A81001", Date: dates.Date(2026, 3, 20)}}
		if len(errs) > 0 || !reflect.DeepEqual(lines, want) {
			t.Errorf("got %+v, %v; want %+v", lines, errs, want)
		}
	})

	t.Run("AtTheRowLimit", func(t *testing.T) {
		in := shCSVHeader + strings.Repeat("activation,A81001,SI12-A81001,,,,2026-03-02,\r\n", MaxUploadRows)
		lines, errs := ParseChanges(strings.NewReader(in), "changes.csv")
		if len(errs) > 0 || len(lines) != MaxUploadRows {
			t.Errorf("%d lines, problems %v; want %d lines", len(lines), errs, MaxUploadRows)
		}
	})
}

func TestParseChangesXLSX(t *testing.T) {
	t.Run("OnlySheet", func(t *testing.T) {
		// A workbook of one sheet, whatever its name, is the Changes sheet.
		b := shXLSX(t, "Sheet1", [][]any{shHeader, {"activation", "A81001", "SI12-A81001", nil, nil, nil, "2026-03-02"}})
		lines, errs := ParseChanges(bytes.NewReader(b), "mine.xlsx")
		want := []LineInput{{Kind: Activation, Practice: "A81001", Instance: "SI12-A81001", Date: dates.Date(2026, 3, 2)}}
		if len(errs) > 0 || !reflect.DeepEqual(lines, want) {
			t.Errorf("got %+v, %v; want %+v", lines, errs, want)
		}
	})
	t.Run("ChangesAmongOthers", func(t *testing.T) {
		b := shXLSX(t, "Notes", [][]any{{"scribbles"}},
			"changes", [][]any{shHeader, {"cancellation", "A81001", "SI12-A81001", nil, nil, nil, time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)}})
		lines, errs := ParseChanges(bytes.NewReader(b), "mine.xlsx")
		want := []LineInput{{Kind: Cancellation, Practice: "A81001", Instance: "SI12-A81001", Date: dates.Date(2026, 3, 5)}}
		if len(errs) > 0 || !reflect.DeepEqual(lines, want) {
			t.Errorf("got %+v, %v; want %+v", lines, errs, want)
		}
	})
}

// shPNG is a real image: an upload of the wrong file.
func shPNG(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func shZip(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// shWant is an expected problem: its row and column exactly, and words its
// message must contain.
type shWant struct {
	row    int
	column string
	words  string
}

// utf16LE is s saved as little-endian UTF-16, as Excel's "Unicode Text"
// saves it, with or without the byte order mark.
func utf16LE(s string, mark bool) []byte {
	var b []byte
	if mark {
		b = append(b, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func shCSV(rows ...string) []byte {
	return []byte(shCSVHeader + strings.Join(rows, "\r\n") + "\r\n")
}

func TestParseChangesProblems(t *testing.T) {
	const ok = "activation,A81001,SI12-A81001,,,,2026-03-02,"
	cases := []struct {
		name  string
		file  func(t *testing.T) []byte
		fname string
		want  []shWant
	}{
		{"ErrKindUnknown", func(*testing.T) []byte { return shCSV(ok, "activate,A81001,SI12-A81001,,,,2026-03-02,") }, "",
			[]shWant{{3, "Kind", `"activate" is not a kind of change: use activation, verification, cessation, migration, merger, split, cancellation or correction`}}},
		{"ErrKindMissing", func(*testing.T) []byte { return shCSV(",A81001,SI12-A81001,,,,2026-03-02,") }, "",
			[]shWant{{2, "Kind", "Enter the kind of change"}}},
		{"ErrPracticeMissing", func(*testing.T) []byte { return shCSV("activation,,SI12-A81001,,,,2026-03-02,") }, "",
			[]shWant{{2, "Practice ODS code", "Enter the practice's ODS code"}}},
		{"ErrDateMissing", func(*testing.T) []byte { return shCSV("activation,A81001,SI12-A81001,,,,,note") }, "",
			[]shWant{{2, "Date", "Enter the date of the change"}}},
		{"ErrDateNotReal", func(*testing.T) []byte { return shCSV("activation,A81001,SI12-A81001,,,,31/02/2026,") }, "",
			[]shWant{{2, "Date", "31/02/2026 is not a real date"}}},
		{"ErrDateNotRealISO", func(*testing.T) []byte { return shCSV("activation,A81001,SI12-A81001,,,,2026-13-01,") }, "",
			[]shWant{{2, "Date", "2026-13-01 is not a real date"}}},
		{"ErrDateNotADate", func(*testing.T) []byte { return shCSV("activation,A81001,SI12-A81001,,,,next week,") }, "",
			[]shWant{{2, "Date", `"next week" is not a date: write it like 2026-03-27 or 27/03/2026`}}},
		{"ErrDateTwoDigitYear", func(*testing.T) []byte { return shCSV("activation,A81001,SI12-A81001,,,,1/3/26,") }, "",
			[]shWant{{2, "Date", "must have 4 numbers"}}},
		{"ErrDateSerialImplausible", func(*testing.T) []byte { return shCSV("activation,A81001,SI12-A81001,,,,2026,") }, "",
			[]shWant{{2, "Date", "2026 read as a date is 18 July 1905, which cannot be right"}}},
		{"ErrRefMalformed", func(*testing.T) []byte { return shCSV("activation,A81001,SI12A81001,,,,2026-03-02,") }, "",
			[]shWant{{2, "Service ID", `"SI12A81001" is not a service ID`}}},
		{"ErrNewRefMalformed", func(*testing.T) []byte { return shCSV("migration,A81001,SI12-A81001,12,,,2026-03-02,") }, "",
			[]shWant{{2, "New service ID", `"12" is not a service ID`}}},
		{"ErrCorrectsUnknown", func(*testing.T) []byte { return shCSV("correction,A81001,SI12-A81001,,,m3,2026-03-02,") }, "",
			[]shWant{{2, "Corrects", `"m3" is not a date a correction can correct`}}},
		{"ErrEveryProblem", func(*testing.T) []byte {
			return shCSV(ok, "activate,,SI12,,,,31/02/2026,", ok, "", "correction,A81001,,x,,m3,soon,")
		}, "", []shWant{
			{3, "Kind", "not a kind"}, {3, "Practice ODS code", "Enter the practice"}, {3, "Service ID", "not a service ID"},
			{3, "Date", "not a real date"},
			{6, "New service ID", "not a service ID"}, {6, "Corrects", "not a date a correction"}, {6, "Date", "not a date"},
		}},
		{"ErrStrayCell", func(*testing.T) []byte { return shCSV("activation,A81001,SI12-A81001,,,,2026-03-02,Live, at last") }, "",
			[]shWant{{2, "", "more cells than there are headings"}}},
		{"ErrBareQuote", func(*testing.T) []byte {
			return shCSV(ok, `activation,A81001,SI12-A81001,,,,2026-03-02,a 5" screen`, ok)
		}, "",
			[]shWant{{3, "", "The row is not valid CSV"}}},
		{"ErrHeaderWrong", func(*testing.T) []byte {
			return []byte("Kind,Practice,Service ID,New service ID,Target practices,Corrects,Date,Note\n" + ok + "\n")
		}, "", []shWant{
			{1, "Practice", `Column B is headed "Practice", which is not one of the headings`},
			{1, "Practice ODS code", `There is no "Practice ODS code" column`},
		}},
		{"ErrHeaderTwice", func(*testing.T) []byte { return []byte(strings.TrimRight(shCSVHeader, "\r\n") + ",date\n" + ok + "\n") }, "",
			[]shWant{{1, "Date", `There are two "Date" columns, G and I`}}},
		{"ErrHeaderMissing", func(*testing.T) []byte { return []byte(ok + "\n" + ok + "\n") }, "",
			[]shWant{{1, "", "The first row must have the column headings of the Changes sheet"}}},
		{"ErrNotAFile", shPNG, "changes.csv", []shWant{{0, "", msgNotAFile}}},
		{"ErrNotUTF8", func(*testing.T) []byte { return shCSV("activation,A81001,SI12-A81001,,,,2026-03-02,cost \xa3100") }, "",
			[]shWant{{0, "", msgNotUTF8}}},
		{"ErrUTF16WithMark", func(*testing.T) []byte { return utf16LE(string(shCSV(ok)), true) }, "changes.csv",
			[]shWant{{0, "", msgUTF16}}},
		{"ErrUTF16WithoutMark", func(*testing.T) []byte { return utf16LE(string(shCSV(ok)), false) }, "changes.csv",
			[]shWant{{0, "", msgUTF16}}},
		{"ErrTooLarge", func(*testing.T) []byte {
			return []byte(shCSVHeader + strings.Repeat(" ", MaxUploadBytes-len(shCSVHeader)+1))
		}, "", []shWant{{0, "", msgTooLarge}}},
		{"ErrTooManyRows", func(*testing.T) []byte {
			return []byte(shCSVHeader + strings.Repeat(ok+"\r\n", MaxUploadRows+1))
		}, "", []shWant{{0, "", msgTooManyRows}}},
		{"ErrEmpty", func(*testing.T) []byte { return nil }, "", []shWant{{0, "", msgEmpty}}},
		{"ErrOldExcel", func(*testing.T) []byte { return append(append([]byte{}, oleMagic...), make([]byte, 504)...) }, "return.XLS",
			[]shWant{{0, "", msgOldExcel}}},
		{"ErrPassword", func(*testing.T) []byte { return append(append([]byte{}, oleMagic...), make([]byte, 504)...) }, "return.xlsx",
			[]shWant{{0, "", msgPassword}}},
		{"ErrZipNotAWorkbook", func(t *testing.T) []byte { return shZip(t, map[string]string{"word/document.xml": "<w/>"}) }, "x.xlsx",
			[]shWant{{0, "", msgNotAFile}}},
		{"ErrZipTruncated", func(t *testing.T) []byte { b := shSample(t); return b[:len(b)/2] }, "x.xlsx",
			[]shWant{{0, "", msgNotAFile}}},
		{"ErrXLSXNoChangesSheet", func(t *testing.T) []byte {
			return shXLSX(t, "Sheet1", [][]any{shHeader}, "Sheet2", [][]any{shHeader})
		}, "x.xlsx", []shWant{{0, "", msgNoSheet}}},
		{"ErrXLSXRows", func(t *testing.T) []byte {
			return shXLSX(t, SheetChanges, [][]any{
				shHeader,
				{"activation", "A81001", "SI12-A81001", nil, nil, nil, "2026-03-02"},
				{},
				{"activate", "A81001", "SI12-A81001", nil, nil, nil, 46082},
				{"cessation", "A81001", "SI12-A81001", nil, nil, nil, "31/02/2026", "note", "stray"},
			})
		}, "x.xlsx", []shWant{
			{4, "Kind", `"activate" is not a kind of change`},
			// A problem with the whole row comes before those of its cells.
			{5, "", `Column I has no heading but this row has "stray" in it`},
			{5, "Date", "31/02/2026 is not a real date"},
		}},
		{"ErrXLSXEmptySheet", func(t *testing.T) []byte { return shXLSX(t, SheetChanges, [][]any{}) }, "x.xlsx",
			[]shWant{{0, "", msgEmptySheet}}},
		{"ErrXLSXHeaderWrong", func(t *testing.T) []byte {
			return shXLSX(t, SheetChanges, [][]any{{"Kind", "Practice ODS code", "Service", "New service ID", "Target practices", "Corrects", "Date", "Note"}})
		}, "x.xlsx", []shWant{
			{1, "Service", `Column C is headed "Service"`},
			{1, "Service ID", `There is no "Service ID" column`},
		}},
		{"ErrXLSXTooManyRows", func(t *testing.T) []byte {
			rows := [][]any{shHeader}
			for range MaxUploadRows + 1 {
				rows = append(rows, []any{"activation", "A81001", "SI12-A81001", nil, nil, nil, "2026-03-02"})
			}
			return shXLSX(t, SheetChanges, rows)
		}, "x.xlsx", []shWant{{0, "", msgTooManyRows}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines, errs := ParseChanges(bytes.NewReader(c.file(t)), c.fname)
			if lines != nil {
				t.Errorf("lines %+v from a file with problems", lines)
			}
			if len(errs) != len(c.want) {
				t.Fatalf("problems:\n got %v\nwant %v", errs, c.want)
			}
			for i, w := range c.want {
				e := errs[i]
				if e.Row != w.row || e.Column != w.column || !strings.Contains(e.Message, w.words) {
					t.Errorf("problem %d: got row %d, column %q, %q; want row %d, column %q, with %q",
						i, e.Row, e.Column, e.Message, w.row, w.column, w.words)
				}
			}
		})
	}
}

func TestParseCellDate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2026-03-27", dates.Date(2026, 3, 27)},
		{"2026/3/7", dates.Date(2026, 3, 7)},
		{"27/03/2026", dates.Date(2026, 3, 27)},
		{"7.3.2026", dates.Date(2026, 3, 7)},
		{"29/02/2028", dates.Date(2028, 2, 29)},
		{"27/03/2026 00:00", dates.Date(2026, 3, 27)},
		{"46108", dates.Date(2026, 3, 27)},
		{"46108.75", dates.Date(2026, 3, 27)}, // a date and time: the day
	} {
		t.Run(c.in, func(t *testing.T) {
			got, problem := parseCellDate(c.in, false)
			if problem != "" || !got.Equal(c.want) {
				t.Errorf("%q: got %v, %q; want %v", c.in, got, problem, c.want)
			}
		})
	}
	// A Mac workbook of old counts days from 1904.
	t.Run("1904DateSystem", func(t *testing.T) {
		if got, _ := parseCellDate("44646", true); !got.Equal(dates.Date(2026, 3, 27)) {
			t.Errorf("1904 date system: got %v", got)
		}
	})
	for _, in := range []string{"29/02/2026", "0/1/2026", "2026-02-30", "27-03-26", "27 March 2026", "2026-03-27 garbage", ".", "-1", "1e5", "123456789012"} {
		t.Run("Not "+in, func(t *testing.T) {
			if _, problem := parseCellDate(in, false); problem == "" {
				t.Errorf("%q read as a date", in)
			}
		})
	}
}

func TestSheetColumnOf(t *testing.T) {
	for field, want := range map[string]string{
		FieldKind: "Kind", FieldPractice: "Practice ODS code", FieldInstance: "Service ID", FieldNewInstance: "New service ID",
		FieldTargets: "Target practices", FieldCorrects: "Corrects", FieldDate: "Date", "date-year": "Date", FieldNote: "Note", "version": "",
	} {
		t.Run("ColumnOf "+field, func(t *testing.T) {
			if got := ColumnOf(field); got != want {
				t.Errorf("ColumnOf(%q) = %q, want %q", field, got, want)
			}
		})
	}
	t.Run("FieldRowErrors", func(t *testing.T) {
		got := FieldRowErrors(4, map[string]string{FieldDate: "d", FieldKind: "k", "zzz": "z", "date-month": "m"})
		want := []RowError{{4, "Kind", "k"}, {4, "Date", "d"}, {4, "Date", "m"}, {4, "", "z"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("FieldRowErrors:\n got %v\nwant %v", got, want)
		}
	})
	t.Run("Error", func(t *testing.T) {
		if s := (RowError{4, "Date", "d"}).Error(); s != "Row 4, Date: d" {
			t.Errorf("Error() = %q", s)
		}
	})
}

// The optional columns: a line's ID (a row emptied but for it removes the
// line) and the confirmation of another CCG's receiving practice.
func TestParseChangesLineIDAndOtherCCG(t *testing.T) {
	in := "Kind,Practice ODS code,Service ID,New service ID,Target practices,Corrects,Date,Note,Other CCG confirmed,Line ID\n" +
		"merger,A81001,,,B81036,,2026-03-20,,yes,\n" +
		",,,,,,,,,7\n" +
		"activation,B82005,SI12-B82005,,,,2026-03-11,,,7\n" +
		"split,A81002,,,B81036,,2026-03-21,,maybe,x\n"
	rows, errs := ParseChangeRows(strings.NewReader(in), "changes.csv")
	want := []ChangeRow{
		{Row: 2, Line: LineInput{Kind: Merger, Practice: "A81001", Targets: []string{"B81036"}, OtherCCGConfirmed: true, Date: dates.Date(2026, 3, 20)}},
		{Row: 3, LineID: 7, Remove: true},
		{Row: 4, Line: LineInput{Kind: Activation, Practice: "B82005", Instance: "SI12-B82005", Date: dates.Date(2026, 3, 11)}, LineID: 7},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", rows, want)
	}
	if len(errs) != 2 || errs[0].Row != 5 || errs[0].Column != ColLine || errs[1].Column != ColOtherCCG {
		t.Errorf("problems %v: want row 5's Other CCG confirmed and Line ID", errs)
	}
}
