package tracker

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The return as a workbook (DOMAIN.md §6): a buyer downloads the
// pre-populated return as XLSX and uploads a filled one, XLSX or CSV, in
// the layout of its Changes sheet. This file holds that layout, shared by
// the writer (sheet_write.go) and the reader (sheet_read.go, with the file
// formats in sheet_files.go and dates in sheet_dates.go), and the
// amendment an upload's rows make; whether a line makes sense for the CCG
// (its practice, services, states, contradictions) is the domain's to check.

// Limits of an uploaded file.
const (
	// MaxUploadBytes is the largest file accepted: a full return of
	// MaxUploadRows changes is well under 1 MB.
	MaxUploadBytes = 5 << 20
	// MaxUploadRows is the most change rows a file may hold.
	MaxUploadRows = 2000
	// unzipLimit caps what a workbook may unpack to, so that a small ZIP
	// bomb cannot fill the memory: 2,000 rows unpack to a few MB.
	unzipLimit = 32 << 20
	// xmlInMemory is the largest worksheet or shared strings part
	// excelize unpacks into memory; larger ones go to temporary files.
	xmlInMemory = 1 << 20
	// inMemoryLimit caps the parts unpacked into memory altogether.
	inMemoryLimit = 8 << 20
)

// The sheets of the workbook.
const (
	SheetAbout    = "About"
	SheetServices = "Services"
	SheetPending  = "Pending"
	SheetChanges  = "Changes"
)

// The column headings of the Changes sheet, which an upload must have.
const (
	ColKind        = "Kind"
	ColPractice    = "Practice ODS code"
	ColInstance    = "Service ID"
	ColNewInstance = "New service ID"
	ColTargets     = "Target practices"
	ColCorrects    = "Corrects"
	ColDate        = "Date"
	ColNote        = "Note"
	ColOtherCCG    = "Other CCG confirmed"
	ColLine        = "Line ID"
)

// fieldLine is the line a row amends: a column with no field of a line.
const fieldLine = "line"

// changeColumns is the Changes sheet's layout, in order, with the field of
// a line each column fills: the one table the writer, the reader and
// ColumnOf share.
// The last two are optional, so that a file made before they were
// written still reads: without Line ID every row is a new line.
var changeColumns = []struct {
	name, field string
	optional    bool
}{
	{ColKind, FieldKind, false},
	{ColPractice, FieldPractice, false},
	{ColInstance, FieldInstance, false},
	{ColNewInstance, FieldNewInstance, false},
	{ColTargets, FieldTargets, false},
	{ColCorrects, FieldCorrects, false},
	{ColDate, FieldDate, false},
	{ColNote, FieldNote, false},
	{ColOtherCCG, FieldOtherCCG, true},
	{ColLine, fieldLine, true},
}

// Indexes into changeColumns.
const (
	iKind = iota
	iPractice
	iInstance
	iNewInstance
	iTargets
	iCorrects
	iDate
	iNote
	iOtherCCG
	iLine
)

// ChangeColumns returns the headings of the Changes sheet in order.
func ChangeColumns() []string {
	out := make([]string, len(changeColumns))
	for i, c := range changeColumns {
		out[i] = c.name
	}
	return out
}

// ColumnOf is the Changes sheet column of a line's field (one of the Field
// names), so that a domain problem with row N of a file is reported
// against the column the buyer sees; "" for a field with no column.
func ColumnOf(field string) string {
	for _, c := range changeColumns {
		if c.field == field {
			return c.name
		}
	}
	// The date input has three parts (date-day, date-month, date-year):
	// all are the one Date column of a file.
	if strings.HasPrefix(field, "date") {
		return ColDate
	}
	return ""
}

// RowError is a problem with an uploaded file: Row is the spreadsheet row
// (the header is row 1; 0 is the file as a whole) and Column the heading
// of the column ("" for the whole row or file), Message what is wrong in
// words a buyer understands.
type RowError struct {
	Row     int
	Column  string
	Message string
}

func (e RowError) Error() string {
	switch {
	case e.Row == 0:
		return e.Message
	case e.Column == "":
		return fmt.Sprintf("Row %d: %s", e.Row, e.Message)
	}
	return fmt.Sprintf("Row %d, %s: %s", e.Row, e.Column, e.Message)
}

// FieldRowErrors turns the domain's field errors for the line from row
// (an apperr.Error's Fields) into RowErrors, in column order.
func FieldRowErrors(row int, fields map[string]string) []RowError {
	var out []RowError
	done := map[string]bool{}
	for _, c := range changeColumns {
		if msg, ok := fields[c.field]; ok {
			out = append(out, RowError{Row: row, Column: c.name, Message: msg})
			done[c.field] = true
		}
	}
	// Fields without a column of their own (date-month ...) follow, in a
	// fixed order so that the report does not shuffle between uploads.
	var rest []string
	for f := range fields {
		if !done[f] {
			rest = append(rest, f)
		}
	}
	slices.Sort(rest)
	for _, f := range rest {
		out = append(out, RowError{Row: row, Column: ColumnOf(f), Message: fields[f]})
	}
	return out
}

// ChangeRow is a change line read from a file, with the spreadsheet row it
// came from, to report the domain's problems with it by row. LineID is the
// return's line the row carries (the download fills it in), 0 for a new
// one; Remove is a row carrying a line's ID and emptied of its change.
type ChangeRow struct {
	Row    int
	Line   LineInput
	LineID int64
	Remove bool
}

// AmendmentOf turns the rows of an uploaded file into the changes they
// make to the return r, and the row of each change: a row carrying a
// line's ID changes that line (or, emptied of its change, removes it; left
// as it was, changes nothing), a row without one adds a line. A line's row
// deleted from the file leaves the line as it is. A row without an ID
// equal to a line the return has is that line, not a second one (a file
// saved before the Line ID column was written), each line taking away one
// such row at most, so that a row the buyer did copy is left for the
// domain to find contradicting. A row naming a line the return does not
// have is a problem of the file.
func AmendmentOf(r Return, rows []ChangeRow) ([]LineChange, []int, []RowError) {
	byID := map[int64]Line{}
	for _, l := range r.Lines {
		byID[l.ID] = l
	}
	carried := map[int64]bool{}
	for _, row := range rows {
		if row.LineID != 0 {
			carried[row.LineID] = true
		}
	}
	have := map[string]int{}
	for _, l := range r.Lines {
		if !carried[l.ID] {
			have[lineKey(inputOf(l))]++
		}
	}
	var changes []LineChange
	var at []int
	var errs []RowError
	seen := map[int64]int{}
	for _, row := range rows {
		if row.LineID == 0 {
			k := lineKey(row.Line)
			if have[k] > 0 {
				have[k]--
				continue
			}
			changes, at = append(changes, LineChange{Line: row.Line}), append(at, row.Row)
			continue
		}
		l, ok := byID[row.LineID]
		switch {
		case !ok:
			errs = append(errs, RowError{Row: row.Row, Column: ColLine, Message: fmt.Sprintf(
				"The return has no line %d: it may have been removed since the workbook was downloaded. Leave Line ID empty to add the row as a new change", row.LineID)})
			continue
		case seen[row.LineID] != 0:
			errs = append(errs, RowError{Row: row.Row, Column: ColLine, Message: fmt.Sprintf(
				"Line %d is in row %d already: keep one row for each line", row.LineID, seen[row.LineID])})
			continue
		}
		seen[row.LineID] = row.Row
		switch {
		case row.Remove:
			changes, at = append(changes, LineChange{ID: l.ID, Remove: true}), append(at, row.Row)
		case lineKey(row.Line) != lineKey(inputOf(l)) || row.Line.OtherCCGConfirmed != l.OtherCCGConfirmed:
			changes, at = append(changes, LineChange{ID: l.ID, Line: row.Line}), append(at, row.Row)
		}
	}
	return changes, at, errs
}

// lineKey is what makes two lines the same change, as a file shows it.
func lineKey(in LineInput) string {
	norm := func(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }
	targets := make([]string, len(in.Targets))
	for i, t := range in.Targets {
		targets[i] = norm(t)
	}
	return strings.Join([]string{string(in.Kind), norm(in.Practice), norm(in.Instance), norm(in.NewInstance),
		strings.Join(targets, " "), in.Corrects, in.Date.Format(time.DateOnly), strings.TrimSpace(in.Note)}, "\x00")
}
