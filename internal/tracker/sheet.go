package tracker

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/upload"
)

// The return as a workbook (DOMAIN.md §6): a buyer downloads the
// pre-populated return as XLSX and uploads a filled one, XLSX or CSV, in
// the layout of its Changes sheet. This file reads the upload into change
// rows, and the amendment they make (sheet_write.go writes the workbook);
// whether a line makes sense for the CCG (its
// practice, services, states, contradictions) is the domain's to check.

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

// The whole-file problems.
const (
	msgNotAFile    = "The file is not an Excel (.xlsx) or CSV file"
	msgTooLarge    = "The file is larger than 5 MB"
	msgTooManyRows = "The file has more than 2,000 changes: a return can have at most 2,000"
	msgEmpty       = "The file is empty"
	msgEmptySheet  = "The Changes sheet is empty: its first row must have the column headings"
	msgDamaged     = "The Excel file could not be read: it may be damaged. Open it in Excel, save it again and upload it, or save its Changes sheet as CSV UTF-8"
	msgUnpacked    = "The Excel file is too large once unpacked: keep only the Changes sheet, save it and upload it again"
	msgNotUTF8     = "The CSV file is not saved as UTF-8: in Excel, choose Save As and the type CSV UTF-8 (Comma delimited), then upload that file"
	msgUTF16       = "The file is saved as Unicode (UTF-16) text, not as CSV UTF-8: in Excel, choose Save As and the type CSV UTF-8 (Comma delimited), then upload that file"
	msgOldExcel    = "The file is an Excel 97-2003 workbook (.xls): in Excel, choose Save As and the type Excel Workbook (.xlsx), then upload that file"
	msgPassword    = "The Excel file is protected with a password: remove the password, save it and upload it again"
	msgNoSheet     = "The workbook has no sheet called Changes: put the changes on a sheet with that name, as in the workbook you downloaded"
	msgTooLong     = "A cell of the Excel file holds more text than Excel allows in a cell: check the file, save it and upload it again"
	msgRowTooLong  = "The row on line %d is longer than a row of changes can be (over 256 KB): check the file, save it and upload it again"
	// msgTooWide is completed with the row it is about.
	msgTooWide = "%s has more than %d cells: the Changes sheet has only its few columns. Delete the cells to the right of them, save the file and upload it again"
)

var (
	zipMagic = []byte("PK\x03\x04")
	// oleMagic starts an Excel 97-2003 workbook, and an encrypted .xlsx.
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	utf8BOM  = []byte("\xef\xbb\xbf")
)

// ParseChanges reads an uploaded Changes sheet: an XLSX workbook (its
// Changes sheet, or its only sheet) or a CSV file (UTF-8, with or without
// a byte order mark) with the headings of ChangeColumns, told apart by
// their content; name, the file's name as uploaded, only words a message.
// It returns a LineInput for each row that is not blank, in file order,
// or, when anything is wrong, no lines and every problem found: nothing
// may be saved from a file with errors. Use ParseChangeRows to know the
// row of each line.
func ParseChanges(r io.Reader, name string) ([]LineInput, []RowError) {
	rows, errs := ParseChangeRows(r, name)
	if len(errs) > 0 {
		return nil, errs
	}
	out := make([]LineInput, len(rows))
	for i, row := range rows {
		out[i] = row.Line
	}
	return out, nil
}

// ParseChangeRows is ParseChanges with the spreadsheet row of each line.
// Alongside problems it still returns the rows that read well, so that a
// caller can check them with the domain too and report every problem of
// the file at once; it must save nothing when there is any problem. A
// problem with the whole file (row 0) or its header (row 1) comes alone,
// with no rows.
func ParseChangeRows(r io.Reader, name string) ([]ChangeRow, []RowError) {
	data, err := io.ReadAll(io.LimitReader(r, MaxUploadBytes+1))
	if err != nil {
		return nil, fileError("The file could not be read: upload it again")
	}
	if len(data) > MaxUploadBytes {
		return nil, fileError(msgTooLarge)
	}
	p := &changeParser{}
	switch {
	case len(bytes.TrimSpace(bytes.TrimPrefix(data, utf8BOM))) == 0:
		return nil, fileError(msgEmpty)
	case bytes.HasPrefix(data, zipMagic):
		p.readXLSX(data)
	case bytes.HasPrefix(data, oleMagic):
		// The same bytes are an old workbook or an encrypted new one: the
		// name is the best guess at which.
		if strings.HasSuffix(strings.ToLower(strings.TrimSpace(name)), ".xls") {
			return nil, fileError(msgOldExcel)
		}
		return nil, fileError(msgPassword)
	default:
		p.readCSV(data)
	}
	return p.result()
}

func fileError(msg string) []RowError { return []RowError{{Row: 0, Message: msg}} }

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

// changeParser turns the rows of a file, in order, into change rows. The
// first row given is the header.
type changeParser struct {
	date1904  bool  // an XLSX workbook's date system (Mac Excel of old)
	index     []int // index of each of changeColumns in a row, or -1
	named     []bool
	csv, xlsx bool
	gotHeader bool
	count     int // rows that are not blank, after the header
	rows      []ChangeRow
	errs      []RowError
	fatal     []RowError // a problem that makes the rest meaningless
}

func (p *changeParser) fail(msg string) { p.fatal = fileError(msg) }

func (p *changeParser) result() ([]ChangeRow, []RowError) {
	switch {
	case p.fatal != nil:
		return nil, p.fatal
	case !p.gotHeader && p.xlsx:
		return nil, fileError(msgEmptySheet)
	case !p.gotHeader:
		return nil, fileError(msgEmpty)
	}
	return p.rows, p.errs
}

// row takes row n of the file; it reports false when reading must stop.
func (p *changeParser) row(n int, cells []string) bool {
	for i, c := range cells {
		cells[i] = cleanCell(c)
	}
	if !p.gotHeader {
		p.gotHeader = true
		return p.header(n, cells)
	}
	blank := true
	for _, c := range cells {
		if c != "" {
			blank = false
			break
		}
	}
	if blank {
		return true
	}
	if !p.counted() {
		return false
	}
	p.line(n, cells)
	return true
}

// counted counts a row that is not blank, stopping at too many.
func (p *changeParser) counted() bool {
	p.count++
	if p.count > MaxUploadRows {
		p.fail(msgTooManyRows)
		return false
	}
	return true
}

// cleanCell trims a cell, and undoes export.SafeText: the workbook's text
// cells carry its apostrophe, which is not part of what the buyer meant.
func cleanCell(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		s = s[1:]
	}
	return s
}

// headingKey compares headings ignoring case, spacing and punctuation:
// "Practice ODS code", "practice_ods_code" and "PRACTICE  ODS CODE" match.
func headingKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (p *changeParser) header(n int, cells []string) bool {
	p.index = make([]int, len(changeColumns))
	for i := range p.index {
		p.index[i] = -1
	}
	p.named = make([]bool, len(cells))
	var errs []RowError
	known := 0
	for i, c := range cells {
		if c == "" {
			continue
		}
		p.named[i] = true
		col := -1
		for j, cc := range changeColumns {
			if headingKey(c) == headingKey(cc.name) {
				col = j
				break
			}
		}
		switch {
		case col < 0:
			errs = append(errs, RowError{Row: n, Column: shorten(c), Message: fmt.Sprintf(
				"Column %s is headed \"%s\", which is not one of the headings: %s", letter(i), shorten(c), headings())})
		case p.index[col] >= 0:
			errs = append(errs, RowError{Row: n, Column: changeColumns[col].name, Message: fmt.Sprintf(
				"There are two \"%s\" columns, %s and %s: keep only one", changeColumns[col].name, letter(p.index[col]), letter(i))})
		default:
			p.index[col] = i
			known++
		}
	}
	if known == 0 {
		// Not the layout at all (another file, or a title above the
		// headings): one message says it better than one per column.
		p.errs = []RowError{{Row: n, Message: "The first row must have the column headings of the Changes sheet: " + headings()}}
		return false
	}
	for j, cc := range changeColumns {
		if p.index[j] < 0 && !cc.optional {
			errs = append(errs, RowError{Row: n, Column: cc.name, Message: fmt.Sprintf(
				"There is no \"%s\" column: the headings must be %s", cc.name, headings())})
		}
	}
	if len(errs) > 0 {
		p.errs = errs
		return false
	}
	return true
}

func headings() string {
	var names []string
	for _, c := range changeColumns {
		if !c.optional {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, ", ")
}

// letter is the spreadsheet letter of the column at index i (0 is A).
func letter(i int) string {
	s, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return strconv.Itoa(i + 1)
	}
	return s
}

// shorten keeps what a file says short enough to quote in a message, and
// printable there.
func shorten(s string) string {
	const most = 40
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if utf8.RuneCountInString(s) <= most {
		return s
	}
	return string([]rune(s)[:most]) + "…"
}

// line reads one row that is not blank into a change line, or its problems.
func (p *changeParser) line(n int, cells []string) {
	var errs []RowError
	bad := func(col int, format string, args ...any) {
		errs = append(errs, RowError{Row: n, Column: changeColumns[col].name, Message: fmt.Sprintf(format, args...)})
	}
	get := func(col int) string {
		if i := p.index[col]; i >= 0 && i < len(cells) {
			return cells[i]
		}
		return ""
	}
	stray := false
	for i, c := range cells {
		if c == "" {
			continue
		}
		if !utf8.ValidString(c) || strings.ContainsRune(c, 0) {
			// PostgreSQL cannot store it, and it is no text a buyer typed.
			column := ""
			for j, idx := range p.index {
				if idx == i {
					column = changeColumns[j].name
				}
			}
			errs = append(errs, RowError{Row: n, Column: column, Message: fmt.Sprintf(
				"Column %s has a character that is not text: type the value again", letter(i))})
			cells[i] = ""
		}
		if !stray && (i >= len(p.named) || !p.named[i]) {
			// Something no column owns is a value in the wrong place (or a
			// note split at its comma): ignoring it could lose what the
			// buyer meant.
			stray = true
			msg := fmt.Sprintf("Column %s has no heading but this row has \"%s\" in it: move it to the right column or delete it", letter(i), shorten(c))
			if p.csv {
				msg = "The row has more cells than there are headings: if a note has a comma in it, put the note in double quotes"
			}
			errs = append(errs, RowError{Row: n, Message: msg})
		}
	}
	var in LineInput
	var lineID int64
	if s := get(iLine); s != "" {
		id, err := strconv.ParseInt(strings.TrimSuffix(s, ".0"), 10, 64)
		if err != nil || id <= 0 {
			bad(iLine, "\"%s\" is not a line ID: keep the ID the downloaded workbook gave the line, or leave it empty for a new change", shorten(s))
		}
		lineID = id
		emptied := true
		for col := range changeColumns {
			if col != iLine && get(col) != "" {
				emptied = false
			}
		}
		if emptied && len(errs) == 0 {
			// A line's row emptied of its change takes the line off.
			p.rows = append(p.rows, ChangeRow{Row: n, LineID: lineID, Remove: true})
			return
		}
	}

	switch kind := get(iKind); kind {
	case "":
		bad(iKind, "Enter the kind of change: %s", kindList())
	default:
		k, ok := parseKind(kind)
		if !ok {
			bad(iKind, "\"%s\" is not a kind of change: use %s", shorten(kind), kindList())
		}
		in.Kind = k
	}

	in.Practice = strings.ToUpper(get(iPractice))
	if in.Practice == "" {
		bad(iPractice, "Enter the practice's ODS code, like A81001")
	}

	for _, c := range []struct {
		col int
		to  *string
	}{{iInstance, &in.Instance}, {iNewInstance, &in.NewInstance}} {
		s := strings.ToUpper(get(c.col))
		if s == "" {
			continue
		}
		if _, _, ok := ParseRef(s); !ok {
			bad(c.col, "\"%s\" is not a service ID: copy it from the Services sheet, like SI12-A81001", shorten(s))
		}
		*c.to = s
	}

	if t := strings.FieldsFunc(strings.ToUpper(get(iTargets)), func(r rune) bool {
		return r == ',' || r == ';' || unicode.IsSpace(r)
	}); len(t) > 0 {
		in.Targets = t
	}

	if s := get(iCorrects); s != "" {
		c := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(s))
		if c != CorrectsActualM1 && c != CorrectsM2 && c != CorrectsCessation {
			bad(iCorrects, "\"%s\" is not a date a correction can correct: use actual_m1 (the go-live date), m2 (the verification date) or cessation", shorten(s))
		}
		in.Corrects = c
	}

	if s := get(iDate); s == "" {
		bad(iDate, "Enter the date of the change, like 2026-03-27")
	} else {
		d, problem := parseCellDate(s, p.date1904)
		if problem != "" {
			bad(iDate, "%s", problem)
		}
		in.Date = d
	}

	in.Note = get(iNote)

	switch s := strings.ToLower(get(iOtherCCG)); s {
	case "", "no", "n":
	case "yes", "y":
		in.OtherCCGConfirmed = true
	default:
		bad(iOtherCCG, "\"%s\" is not yes or no: put yes to confirm that a receiving practice of another CCG is meant", shorten(s))
	}

	if len(errs) > 0 {
		p.errs = append(p.errs, errs...)
		return
	}
	p.rows = append(p.rows, ChangeRow{Row: n, Line: in, LineID: lineID})
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// parseKind reads a kind as its value (activation) or its name on the
// site (Activation (went live)), in any case.
func parseKind(s string) (Kind, bool) {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	for _, k := range Kinds {
		if s == string(k) || s == strings.ToLower(k.Name()) {
			return k, true
		}
	}
	if s == "m2" || s == "verification m2" {
		return Verification, true
	}
	return "", false
}

// Years a date in a file may have: outside them a date is a typo (26 for
// 2026) or a number Excel read as a day of 1900.
const (
	firstYear = 1990
	lastYear  = 2099
)

// parseCellDate reads a date cell: YYYY-MM-DD text (with any time after
// it), D/M/YYYY text (the UK order), or an Excel serial day number, which
// is what a date cell holds. It returns the date, or a problem in words.
func parseCellDate(s string, date1904 bool) (time.Time, string) {
	var y, m, d int
	switch {
	case isSerial(s):
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 1 || v > 2958465 {
			return time.Time{}, fmt.Sprintf("\"%s\" is not a date: write it like 2026-03-27 or 27/03/2026", shorten(s))
		}
		t, err := excelize.ExcelDateToTime(math.Floor(v), date1904)
		if err != nil {
			return time.Time{}, fmt.Sprintf("\"%s\" is not a date: write it like 2026-03-27 or 27/03/2026", shorten(s))
		}
		y, m, d = t.Year(), int(t.Month()), t.Day()
		if y < firstYear || y > lastYear {
			return time.Time{}, fmt.Sprintf("%s read as a date is %s, which cannot be right: write the date like 2026-03-27", s, dates.Long(dates.Of(t)))
		}
	default:
		parts, yearFirst, ok := dateParts(s)
		if !ok {
			return time.Time{}, fmt.Sprintf("\"%s\" is not a date: write it like 2026-03-27 or 27/03/2026", shorten(s))
		}
		if yearFirst {
			parts[0], parts[2] = parts[2], parts[0]
		}
		if len(parts[2]) != 4 {
			return time.Time{}, fmt.Sprintf("The year of \"%s\" must have 4 numbers, like 2026", shorten(s))
		}
		d, _ = strconv.Atoi(parts[0])
		m, _ = strconv.Atoi(parts[1])
		y, _ = strconv.Atoi(parts[2])
	}
	t := dates.Date(y, time.Month(m), d)
	if m < 1 || m > 12 || d < 1 || t.Day() != d || int(t.Month()) != m {
		return time.Time{}, fmt.Sprintf("%s is not a real date: check the day and the month", s)
	}
	if y < firstYear || y > lastYear {
		return time.Time{}, fmt.Sprintf("The year of %s cannot be right: check it", s)
	}
	return t, ""
}

func isSerial(s string) bool {
	if s == "" {
		return false
	}
	dot := false
	for _, r := range s {
		switch {
		case r == '.' && !dot:
			dot = true
		case r < '0' || r > '9':
			return false
		}
	}
	return s != "."
}

// dateParts splits YYYY-MM-DD (or YYYY/MM/DD; a time after a T or a space
// is ignored) and D/M/YYYY (or with - or .) into three runs of digits,
// reporting whether the year came first.
func dateParts(s string) ([]string, bool, bool) {
	// A time after the date (2026-03-27T00:00:00Z, 27/03/2026 00:00, as
	// some programs write a date) is not part of it.
	if i := strings.IndexAny(s, "T "); i > 0 && strings.Trim(s[i+1:], "0123456789:.+-Z") == "" {
		s = s[:i]
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '/' || r == '.' })
	if len(parts) != 3 || strings.Count(s, "-")+strings.Count(s, "/")+strings.Count(s, ".") != 2 {
		return nil, false, false
	}
	for _, p := range parts {
		if len(p) > 4 {
			return nil, false, false
		}
		for _, r := range p {
			if r < '0' || r > '9' {
				return nil, false, false
			}
		}
	}
	yearFirst := len(parts[0]) == 4
	if yearFirst && (len(parts[1]) > 2 || len(parts[2]) > 2) || !yearFirst && (len(parts[0]) > 2 || len(parts[1]) > 2) {
		return nil, false, false
	}
	return parts, yearFirst, true
}

// readCSV reads a CSV file: UTF-8 text, comma-separated (or semicolon- or
// tab-separated, as some spreadsheets save it).
func (p *changeParser) readCSV(data []byte) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if isUTF16(data) {
		// Excel's "Unicode Text" and some exports: readable, but not as
		// UTF-8, and full of NUL bytes that would read as a binary file.
		p.fail(msgUTF16)
		return
	}
	for _, b := range data {
		// Control characters other than tab and line ends mean a binary
		// file (an image, a PDF, an old Excel file ...), not text.
		if b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' || b == 0x7f {
			p.fail(msgNotAFile)
			return
		}
	}
	if !utf8.Valid(data) {
		p.fail(msgNotUTF8)
		return
	}
	p.csv = true
	comma := sniffComma(data)
	// encoding/csv builds a whole record before returning it: a record of
	// a million cells is refused before it is read, not after.
	switch line, problem := upload.CheckCSV(data, byte(comma), upload.MaxCells); problem {
	case upload.TooWide:
		p.fail(fmt.Sprintf(msgTooWide, "The row on line "+strconv.Itoa(line), upload.MaxCells))
		return
	case upload.TooLong:
		p.fail(fmt.Sprintf(msgRowTooLong, line))
		return
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1 // a short row is read as blanks on the right
	cr.Comma = comma
	cr.ReuseRecord = true // each row is read into the one slice
	row, prevEnd := 0, 0  // the spreadsheet row, the line the previous record ended on
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				p.fail(msgNotAFile)
				return
			}
			row += max(1, pe.StartLine-prevEnd)
			prevEnd = pe.Line
			if !p.gotHeader {
				p.gotHeader = true
				p.errs = []RowError{{Row: row, Message: "The headings are not valid CSV: " + csvProblem(pe.Err)}}
				return
			}
			if !p.counted() {
				return
			}
			p.errs = append(p.errs, RowError{Row: row, Message: "The row is not valid CSV: " + csvProblem(pe.Err)})
			continue
		}
		// A spreadsheet shows a blank line as a blank row, and a cell
		// with line breaks as one row: count rows as it does.
		start, _ := cr.FieldPos(0)
		last, _ := cr.FieldPos(len(rec) - 1)
		row += max(1, start-prevEnd)
		prevEnd = last + strings.Count(rec[len(rec)-1], "\n")
		if !p.row(row, rec) {
			return
		}
	}
}

func csvProblem(err error) string {
	switch {
	case errors.Is(err, csv.ErrBareQuote):
		return `a cell has a " in it but does not start with one: put the whole cell in double quotes, and write each " inside it twice`
	case errors.Is(err, csv.ErrQuote):
		return `a cell starts with a " that is not closed: check the " marks`
	}
	return "it could not be read"
}

// isUTF16 reports whether data is UTF-16 text: it starts with a UTF-16
// byte order mark, or every other byte of its start is NUL, as ASCII text
// saved as UTF-16 without a mark is.
func isUTF16(data []byte) bool {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return true
	}
	n := min(len(data), 64) &^ 1
	if n < 4 {
		return false
	}
	even, odd := 0, 0
	for i := 0; i < n; i += 2 {
		if data[i] == 0 {
			even++
		}
		if data[i+1] == 0 {
			odd++
		}
	}
	return even == n/2 || odd == n/2
}

// sniffComma is the separator of the header line: a comma unless the line
// has none and has semicolons (or tabs).
func sniffComma(data []byte) rune {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	switch {
	case bytes.ContainsRune(line, ','):
		return ','
	case bytes.ContainsRune(line, ';'):
		return ';'
	case bytes.ContainsRune(line, '\t'):
		return '\t'
	}
	return ','
}

// readXLSX reads the Changes sheet of a workbook, or its only sheet.
func (p *changeParser) readXLSX(data []byte) {
	// excelize is a large parser of an untrusted file: a panic in it is a
	// file we cannot read, not a crash of the request.
	defer func() {
		if v := recover(); v != nil {
			p.fail(msgDamaged)
		}
	}()
	// Check the ZIP first: a ZIP that is not a workbook (a Word file) is
	// the wrong file, and one that unpacks too large is refused before
	// anything is unpacked.
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		p.fail(msgNotAFile)
		return
	}
	var unpacked, inMemory uint64
	workbook := false
	for _, zf := range zr.File {
		unpacked += zf.UncompressedSize64
		name := strings.ToLower(strings.ReplaceAll(zf.Name, "\\", "/"))
		if name == "xl/workbook.xml" {
			workbook = true
		}
		// excelize unpacks worksheets and shared strings larger than
		// xmlInMemory to temporary files, which it reads as streams, and
		// every other part into memory.
		streamed := (strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml") && zf.UncompressedSize64 > xmlInMemory
		if !streamed {
			inMemory += zf.UncompressedSize64
		}
	}
	switch {
	case !workbook:
		p.fail(msgNotAFile)
		return
	case unpacked > unzipLimit || inMemory > inMemoryLimit:
		p.fail(msgUnpacked)
		return
	}
	// Every part is read once as a stream before excelize reads it, so
	// that a row of a million cells, a cell of megabytes or a part that
	// unpacks to more than it says is refused with no memory spent.
	for _, zf := range zr.File {
		name := strings.ToLower(zf.Name)
		if !strings.HasSuffix(name, ".xml") && !strings.HasSuffix(name, ".rels") {
			continue // a picture, say: excelize does not parse it
		}
		if msg := scanPart(zf); msg != "" {
			p.fail(msg)
			return
		}
	}
	// Raw values: a date cell is read as its day number, not as whatever
	// its number format shows.
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		RawCellValue: true, UnzipSizeLimit: unzipLimit, UnzipXMLSizeLimit: xmlInMemory})
	if err != nil {
		p.fail(msgDamaged)
		return
	}
	defer func() { _ = f.Close() }()
	sheets := f.GetSheetList()
	sheet := ""
	for _, s := range sheets {
		if strings.EqualFold(strings.TrimSpace(s), SheetChanges) {
			sheet = s
		}
	}
	switch {
	case sheet == "" && len(sheets) == 1:
		sheet = sheets[0]
	case sheet == "" && len(sheets) == 0:
		p.fail(msgNotAFile)
		return
	case sheet == "":
		p.fail(msgNoSheet)
		return
	}
	p.xlsx = true
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		p.date1904 = *props.Date1904
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		p.fail(msgDamaged)
		return
	}
	defer func() { _ = rows.Close() }()
	// Next steps through every row number, blank ones included, so n is
	// the row the buyer sees.
	for n := 1; rows.Next(); n++ {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			p.fail(msgDamaged)
			return
		}
		if !p.row(n, cells) {
			return
		}
	}
	if rows.Error() != nil {
		p.fail(msgDamaged)
	}
}

// scanPart reads one part of a workbook through upload.ScanXML, reading
// no more than the part says it holds (archive/zip refuses a part that
// unpacks to more), and says what is wrong, or "".
func scanPart(zf *zip.File) string {
	rc, err := zf.Open()
	if err != nil {
		return msgDamaged
	}
	defer rc.Close()
	problem, err := upload.ScanXML(bufio.NewReaderSize(io.LimitReader(rc, int64(zf.UncompressedSize64)+1), 32<<10))
	switch {
	case err != nil:
		return msgDamaged // not a ZIP, a wrong checksum, or more than it said
	case problem == upload.TooWide:
		return fmt.Sprintf(msgTooWide, "A row of the workbook", upload.MaxCells)
	case problem == upload.TooMany:
		return msgUnpacked
	case problem == upload.TooLong:
		return msgTooLong
	case problem != upload.Fine:
		return msgDamaged
	}
	return ""
}

// The workbook's widths and formats.
const (
	isoDateFormat = "yyyy-mm-dd"
	textFormat    = 49 // Excel's built-in "@": what is typed stays text
)
