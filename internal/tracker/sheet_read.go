package tracker

// Reading an uploaded Changes sheet (sheet.go has its layout): the file told
// apart by its content, each row read into a change line or its problems.
// The file formats themselves are sheet_files.go, dates in cells sheet_dates.go.

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

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
