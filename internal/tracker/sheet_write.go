package tracker

// Writing the return as a workbook for the buyer; reading an upload back
// is sheet_read.go, and sheet.go's changeColumns the layout both share.

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/export"
	"ccgtracker/internal/ledger"
)

// WriteXLSX writes a return as a workbook for the buyer: About (the CCG,
// month, due date and how to fill it in), Services (the services the
// return is pre-populated with, from ledger.InPeriod), Pending (requested
// changes of earlier returns awaiting their actual date) and Changes (the
// return's lines, in the layout ParseChanges reads, for the buyer to add
// to). Every text cell goes through export.SafeText: a text cell is no
// formula in the file, but one that starts with = becomes one as soon as
// someone edits it, or saves the sheet as CSV. Dates are Excel dates shown
// as YYYY-MM-DD, so that they sort and can be typed back the same way.
func WriteXLSX(w io.Writer, r Return, services []ledger.Instance, pending []Line) error {
	f := excelize.NewFile()
	// Close removes the stream writer's temporary files, if any.
	defer func() { _ = f.Close() }()
	st, err := newSheetStyles(f)
	if err != nil {
		return fmt.Errorf("workbook styles: %w", err)
	}
	if err := f.SetSheetName("Sheet1", SheetAbout); err != nil {
		return fmt.Errorf("workbook: %w", err)
	}
	for _, s := range []string{SheetServices, SheetPending, SheetChanges} {
		if _, err := f.NewSheet(s); err != nil {
			return fmt.Errorf("workbook sheet %s: %w", s, err)
		}
	}
	steps := []struct {
		what string
		fn   func() error
	}{
		{"about", func() error { return writeAbout(f, st, r) }},
		{"services", func() error { return writeServices(f, st, services) }},
		{"pending", func() error { return writePending(f, st, pending) }},
		{"changes", func() error { return writeChanges(f, st, r.Lines) }},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return fmt.Errorf("workbook %s sheet: %w", s.what, err)
		}
	}
	f.SetActiveSheet(0)
	if err := f.SetDocProps(&excelize.DocProperties{
		Creator: "CCG Order Tracker",
		Title:   safeText(fmt.Sprintf("Order Tracker return: %s, %s", r.CCGName, r.Period.Name())),
	}); err != nil {
		return fmt.Errorf("workbook properties: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return nil
}

// safeText is a text cell's value: export.SafeText, after taking out what
// XML cannot hold (excelize would write U+FFFD for it).
func safeText(s string) string {
	return export.SafeText(strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return -1
		}
		return r
	}, s))
}

type sheetStyles struct {
	header, title, date, text, wrap int
}

func newSheetStyles(f *excelize.File) (sheetStyles, error) {
	var st sheetStyles
	iso := isoDateFormat
	for _, s := range []struct {
		to    *int
		style *excelize.Style
	}{
		{&st.header, &excelize.Style{Font: &excelize.Font{Bold: true}}},
		{&st.title, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}},
		{&st.date, &excelize.Style{CustomNumFmt: &iso}},
		{&st.text, &excelize.Style{NumFmt: textFormat}},
		{&st.wrap, &excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
	} {
		id, err := f.NewStyle(s.style)
		if err != nil {
			return st, err
		}
		*s.to = id
	}
	return st, nil
}

// freezeHeader keeps row 1 in view while scrolling.
var freezeHeader = excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}

// dateCell is a date for a row: an Excel date shown as YYYY-MM-DD, or
// nothing.
func dateCell(st sheetStyles, t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return excelize.Cell{StyleID: st.date, Value: dates.Of(*t)}
}

func textRow(cells ...string) []any {
	out := make([]any, len(cells))
	for i, c := range cells {
		out[i] = safeText(c)
	}
	return out
}

// servicesColumns are the Services sheet's headings and widths.
var servicesColumns = []struct {
	name  string
	width float64
}{
	{"Service ID", 16}, {"Practice ODS code", 12}, {"Practice name", 32}, {"Catalogue item ID", 14},
	{"Catalogue item", 32}, {"Supplier", 24}, {"Source", 20}, {"State", 10},
	{"Planned M1", 12}, {"Actual M1", 12}, {"M2", 12}, {"Cessation", 12},
}

// writeServices streams the services, so that a CCG with thousands of
// them does not hold the sheet in memory.
func writeServices(f *excelize.File, st sheetStyles, services []ledger.Instance) error {
	sw, err := f.NewStreamWriter(SheetServices)
	if err != nil {
		return err
	}
	panes := freezeHeader
	if err := sw.SetPanes(&panes); err != nil {
		return err
	}
	head := make([]string, len(servicesColumns))
	for i, c := range servicesColumns {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return err
		}
		head[i] = c.name
	}
	if err := sw.SetRow("A1", textRow(head...), excelize.RowOpts{StyleID: st.header}); err != nil {
		return err
	}
	for i, s := range services {
		row := append(textRow(s.Ref(), s.PracticeCode, s.PracticeName, s.ItemID, s.ItemName, s.SupplierName, s.Source(), string(s.State)),
			dateCell(st, s.PlannedM1), dateCell(st, s.ActualM1), dateCell(st, s.M2), dateCell(st, s.Cessation))
		if err := sw.SetRow("A"+strconv.Itoa(i+2), row); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// setTable writes a header row, bold and frozen, with column widths, and
// then rows from A2.
func setTable(f *excelize.File, st sheetStyles, sheet string, head []string, widths []float64, rows [][]any) error {
	for i, wd := range widths {
		col := letter(i)
		if err := f.SetColWidth(sheet, col, col, wd); err != nil {
			return err
		}
	}
	hr := textRow(head...)
	if err := f.SetSheetRow(sheet, "A1", &hr); err != nil {
		return err
	}
	if err := f.SetCellStyle(sheet, "A1", letter(len(head)-1)+"1", st.header); err != nil {
		return err
	}
	panes := freezeHeader
	if err := f.SetPanes(sheet, &panes); err != nil {
		return err
	}
	for i, row := range rows {
		n := strconv.Itoa(i + 2)
		for j, v := range row {
			cell := letter(j) + n
			c, ok := v.(excelize.Cell)
			if !ok {
				if v != nil {
					if err := f.SetCellValue(sheet, cell, v); err != nil {
						return err
					}
				}
				continue
			}
			if err := f.SetCellValue(sheet, cell, c.Value); err != nil {
				return err
			}
			if err := f.SetCellStyle(sheet, cell, cell, c.StyleID); err != nil {
				return err
			}
		}
	}
	return nil
}

func writePending(f *excelize.File, st sheetStyles, pending []Line) error {
	head := []string{"Kind", "Practice ODS code", "Practice name", "Service ID", "Catalogue item", "New service ID",
		"Target practices", "Date requested", "Note", "Line ID"}
	widths := []float64{14, 12, 32, 16, 32, 16, 20, 14, 40, 10}
	rows := make([][]any, len(pending))
	for i, l := range pending {
		d := l.Date
		rows[i] = append(textRow(string(l.Kind), l.PracticeCode, l.PracticeName, l.InstanceRef, l.ItemName, l.NewInstanceRef,
			strings.Join(l.Targets, " ")), dateCell(st, &d), safeText(l.Note), l.ID)
	}
	return setTable(f, st, SheetPending, head, widths, rows)
}

func writeChanges(f *excelize.File, st sheetStyles, lines []Line) error {
	widths := []float64{14, 12, 16, 16, 20, 12, 12, 48, 12, 10}
	rows := make([][]any, len(lines))
	for i, l := range lines {
		d := l.Date
		other := ""
		if l.OtherCCGConfirmed {
			other = "yes"
		}
		rows[i] = append(textRow(string(l.Kind), l.PracticeCode, l.InstanceRef, l.NewInstanceRef, strings.Join(l.Targets, " "), l.Corrects),
			dateCell(st, &d), safeText(l.Note), other, l.ID)
	}
	// What the buyer types stays text (a practice code is not a number),
	// and a typed date shows as YYYY-MM-DD. Column styles first: the
	// cells written after them keep their own.
	for _, c := range []struct {
		cols  string
		style int
	}{{"A:F", st.text}, {"G:G", st.date}, {"H:I", st.text}} {
		if err := f.SetColStyle(SheetChanges, c.cols, c.style); err != nil {
			return err
		}
	}
	if err := setTable(f, st, SheetChanges, ChangeColumns(), widths, rows); err != nil {
		return err
	}
	last := strconv.Itoa(MaxUploadRows + 1)
	kinds := make([]string, len(Kinds))
	for i, k := range Kinds {
		kinds[i] = string(k)
	}
	for _, v := range []struct {
		col, title, msg string
		list            []string
	}{
		{"A", "Kind", "Choose a kind of change from the list", kinds},
		{"F", "Corrects", "For a correction, choose the date it corrects: actual_m1, m2 or cessation", []string{CorrectsActualM1, CorrectsM2, CorrectsCessation}},
	} {
		dv := excelize.NewDataValidation(true)
		dv.Sqref = v.col + "2:" + v.col + last
		if err := dv.SetDropList(v.list); err != nil {
			return err
		}
		dv.SetError(excelize.DataValidationErrorStyleStop, v.title, v.msg)
		if err := f.AddDataValidation(SheetChanges, dv); err != nil {
			return err
		}
	}
	return nil
}

func writeAbout(f *excelize.File, st sheetStyles, r Return) error {
	const sheet = SheetAbout
	type line struct {
		label, text string
		style       int
	}
	ccg := r.CCGName
	if r.CCGCode != "" {
		ccg += " (" + r.CCGCode + ")"
	}
	lines := []line{
		{"Order Tracker return", "", st.title},
		{},
		{"CCG", ccg, 0},
		{"Region", r.RegionName, 0},
		{"Month", r.Period.Name(), 0},
		{"Due date", dueText(r.DueDate), 0},
		{"Status", r.Status.Name(), 0},
		{},
	}
	// A return sent back to the CCG comes with the reviewer's comments:
	// the buyer mends the lines in the workbook, so they belong here.
	var comments []line
	if c := strings.TrimSpace(r.ReviewComment); c != "" {
		comments = append(comments, line{"Overall", c, 0})
	}
	for i, l := range r.Lines {
		if c := strings.TrimSpace(l.ReviewerComment); c != "" {
			comments = append(comments, line{fmt.Sprintf("Changes, row %d", i+2), c, 0})
		}
	}
	if len(comments) > 0 {
		lines = append(lines, line{"Reviewer's comments", "", st.header})
		lines = append(lines, comments...)
		lines = append(lines, line{})
	}
	lines = append(lines, []line{
		{"How to fill it in", "", st.header},
		{SheetServices, "Every service of the CCG that is planned or live in " + r.Period.Name() + ", with its service ID. Check them, and report anything that changed on the Changes sheet.", 0},
		{SheetPending, "Changes requested in earlier returns that still need their actual date. When one happens, report it on the Changes sheet with its actual date.", 0},
		{SheetChanges, "One row for each change. The changes already in the return are filled in, each with its Line ID. Keep the sheet's name and its column headings as they are.", 0},
		{"Changing the return", "A row with a Line ID changes that line of the return: correct it in the row. Empty a row's cells, all but its Line ID, to remove that line. A row with no Line ID adds a change. Deleting a whole row leaves its line on the return as it is.", 0},
		{"Uploading", "Upload this workbook, or its Changes sheet saved as CSV UTF-8, on the return's page. The file must be 5 MB or smaller, with at most 2,000 changes. If any row has a problem, nothing is changed and every problem is listed with its row and column.", 0},
		{},
		{"Columns of the Changes sheet", "", st.header},
		{ColKind, "What changed: one of " + kindList() + " (see below).", 0},
		{ColPractice, "The practice, as on the Services sheet, for example A81001.", 0},
		{ColInstance, "The service the change is about, as on the Services sheet, for example SI12-A81001. Leave it empty for a merger or a split.", 0},
		{ColNewInstance, "For a migration only: the planned service that replaces it.", 0},
		{ColTargets, "For a merger, the practice it merged into; for a split, the practices its patients moved to. Separate ODS codes with spaces or commas.", 0},
		{ColCorrects, "For a correction only: the date it corrects, actual_m1 (the go-live date), m2 (the verification date) or cessation.", 0},
		{ColDate, "The date of the change, as YYYY-MM-DD (for example 2026-03-27) or DD/MM/YYYY. A date after the end of " + r.Period.Name() + " is a requested change: it comes back next month for its actual date.", 0},
		{ColNote, "Anything the reviewer should know, 500 characters at most. Optional.", 0},
		{ColOtherCCG, "For a merger or a split into a practice of another CCG only: yes, to confirm that the patients did move to that CCG's practice. The reviewer is told of it.", 0},
		{ColLine, "Filled in by the download for the lines already in the return; empty for a new change. Do not type or change it.", 0},
		{},
		{"Kinds of change", "", st.header},
	}...)
	for _, k := range Kinds {
		lines = append(lines, line{string(k), k.Hint(), 0})
	}
	if err := f.SetColWidth(sheet, "A", "A", 28); err != nil {
		return err
	}
	if err := f.SetColWidth(sheet, "B", "B", 100); err != nil {
		return err
	}
	if err := f.SetColStyle(sheet, "B", st.wrap); err != nil {
		return err
	}
	for i, l := range lines {
		n := strconv.Itoa(i + 1)
		if l.label != "" {
			if err := f.SetCellStr(sheet, "A"+n, safeText(l.label)); err != nil {
				return err
			}
		}
		if l.text != "" {
			if err := f.SetCellStr(sheet, "B"+n, safeText(l.text)); err != nil {
				return err
			}
			if err := f.SetCellStyle(sheet, "B"+n, "B"+n, st.wrap); err != nil {
				return err
			}
		}
		if l.style != 0 {
			if err := f.SetCellStyle(sheet, "A"+n, "A"+n, l.style); err != nil {
				return err
			}
		}
	}
	return nil
}

func dueText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return dates.Long(t)
}

// The workbook's widths and formats.
const (
	isoDateFormat = "yyyy-mm-dd"
	textFormat    = 49 // Excel's built-in "@": what is typed stays text
)
