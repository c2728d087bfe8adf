package export

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// XLSX writes a workbook once, as its rows are produced, straight into
// the zip on w: nothing is kept but the row being written, so memory is
// flat however many rows there are, and nothing is read back. Text goes
// in inline strings (no shared-strings table to hold), escaped against
// formulas as CSV's is; numbers, money and dates are typed cells with a
// number format. Each sheet declares its size in <dimension> (so
// streaming readers see every row) and keeps its header row frozen and
// bold.
//
// Use: NewXLSX with every sheet's name, then for each sheet in order
// Sheet (its number of rows after the header), Head, Row…; then Close.
type XLSX struct {
	out    *bufio.Writer
	zw     *zip.Writer
	sheets []string
	next   int // the sheet Sheet starts next

	w        io.Writer // the sheet being written, or nil
	declared int       // its rows after the header, as Sheet was told
	row      int       // rows written so far, header included
	buf      []byte
	cols     []string // column letters: A, B, …
}

// Styles of cellXfs in xlsxStyles.
const (
	styleBold  = "1"
	styleDate  = "2"
	styleMoney = "3"
)

// NewXLSX starts a workbook on w with the named sheets (at most 31
// characters each, as spreadsheets require).
func NewXLSX(w io.Writer, sheets ...string) (*XLSX, error) {
	out := bufio.NewWriterSize(w, 64<<10)
	zw := zip.NewWriter(out)
	// The fastest deflate: the exports are made to be read, not
	// archived, and compression is most of an XLSX's cost.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	x := &XLSX{out: out, zw: zw, sheets: sheets}
	var types, wb, rels strings.Builder
	types.WriteString(xml.Header + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>`)
	wb.WriteString(xml.Header + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
		`<bookViews><workbookView activeTab="0"/></bookViews><sheets>`)
	rels.WriteString(xml.Header + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for i, name := range sheets {
		if len([]rune(name)) > 31 || strings.ContainsAny(name, `[]:*?/\`) {
			return nil, fmt.Errorf("sheet name %q: at most 31 characters, none of []:*?/\\", name)
		}
		n := strconv.Itoa(i + 1)
		fmt.Fprintf(&types, `<Override PartName="/xl/worksheets/sheet%s.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, n)
		wb.WriteString(`<sheet name="`)
		_ = xml.EscapeText(&wb, []byte(name)) // into a bytes.Buffer: cannot fail
		wb.WriteString(`" sheetId="` + n + `" r:id="rId` + n + `"/>`)
		rels.WriteString(`<Relationship Id="rId` + n + `" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet` + n + `.xml"/>`)
	}
	types.WriteString(`</Types>`)
	wb.WriteString(`</sheets></workbook>`)
	rels.WriteString(`<Relationship Id="rId` + strconv.Itoa(len(sheets)+1) + `" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`)
	for _, part := range []struct{ name, body string }{
		{"[Content_Types].xml", types.String()},
		{"_rels/.rels", xml.Header + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", wb.String()},
		{"xl/_rels/workbook.xml.rels", rels.String()},
		{"xl/styles.xml", xlsxStyles},
	} {
		if err := x.part(part.name, part.body); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// xlsxStyles: 0 plain, 1 bold (headers), 2 a date, 3 pounds with two to
// four decimal places (amounts have two, some prices four).
const xlsxStyles = xml.Header + `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
	`<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>` +
	`<numFmt numFmtId="165" formatCode="&quot;£&quot;#,##0.00##;\-&quot;£&quot;#,##0.00##"/></numFmts>` +
	`<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>` +
	`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
	`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
	`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
	`<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
	`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
	`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>` +
	`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`

func (x *XLSX) part(name, body string) error {
	w, err := x.zw.Create(name)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, body)
	return err
}

// Sheet starts the next sheet, of rows rows after its header and cols
// columns: its <dimension> says so before any row is written, so the
// count must be right (EndSheet and Close check it).
func (x *XLSX) Sheet(rows, cols int) error {
	if err := x.endSheet(); err != nil {
		return err
	}
	if x.next >= len(x.sheets) {
		return fmt.Errorf("xlsx: no sheet left to start (%d named)", len(x.sheets))
	}
	x.next++
	w, err := x.zw.Create("xl/worksheets/sheet" + strconv.Itoa(x.next) + ".xml")
	if err != nil {
		return err
	}
	x.w, x.declared, x.row = w, rows, 0
	for len(x.cols) < cols {
		x.cols = append(x.cols, columnName(len(x.cols)+1))
	}
	selected := ""
	if x.next == 1 {
		selected = ` tabSelected="1"`
	}
	last := "A1"
	if cols > 0 {
		last = x.cols[cols-1] + strconv.Itoa(rows+1)
	}
	_, err = io.WriteString(w, xml.Header+`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`+
		`<dimension ref="A1:`+last+`"/>`+
		`<sheetViews><sheetView workbookViewId="0"`+selected+`><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>`+
		`<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>`+
		`<sheetFormatPr defaultRowHeight="15"/>`+
		`<cols><col min="1" max="`+strconv.Itoa(max(cols, 1))+`" width="18" customWidth="1"/></cols><sheetData>`)
	return err
}

// Head writes the header row: bold text.
func (x *XLSX) Head(cells ...string) error {
	if x.row != 0 {
		return fmt.Errorf("xlsx: the header must be a sheet's first row")
	}
	row := make([]Cell, len(cells))
	for i, c := range cells {
		row[i] = Str(c)
	}
	return x.write(row, styleBold)
}

// Row writes a row of typed cells after the header.
func (x *XLSX) Row(cells ...Cell) error {
	if x.row == 0 {
		return fmt.Errorf("xlsx: a sheet starts with its header")
	}
	if x.row > x.declared {
		return fmt.Errorf("xlsx: more rows than the %d declared", x.declared)
	}
	return x.write(cells, "")
}

func (x *XLSX) write(cells []Cell, style string) error {
	if x.w == nil {
		return fmt.Errorf("xlsx: no sheet started")
	}
	if len(cells) > len(x.cols) {
		return fmt.Errorf("xlsx: %d cells in a sheet of %d columns", len(cells), len(x.cols))
	}
	x.row++
	n := strconv.Itoa(x.row)
	b := append(x.buf[:0], `<row r="`...)
	b = append(b, n...)
	b = append(b, `">`...)
	for i, c := range cells {
		if c.kind == kindEmpty || (c.kind == kindText && c.value == "") {
			continue
		}
		b = append(b, `<c r="`...)
		b = append(b, x.cols[i]...)
		b = append(b, n...)
		b = append(b, '"')
		switch {
		case style != "":
			b = append(b, ` s="`+style+`"`...)
		case c.kind == kindMoney:
			b = append(b, ` s="`+styleMoney+`"`...)
		case c.kind == kindDate:
			b = append(b, ` s="`+styleDate+`"`...)
		}
		switch c.kind {
		case kindText:
			b = append(b, ` t="inlineStr"><is><t xml:space="preserve">`...)
			b = appendEscaped(b, SafeText(c.value))
			b = append(b, `</t></is></c>`...)
		case kindNumber:
			b = append(b, `><v>`...)
			b = appendEscaped(b, c.value)
			b = append(b, `</v></c>`...)
		case kindMoney:
			b = append(b, `><v>`...)
			b = append(b, PlainAmount(c.amount)...)
			b = append(b, `</v></c>`...)
		case kindDate:
			b = append(b, `><v>`...)
			b = strconv.AppendInt(b, serialDay(c.date), 10)
			b = append(b, `</v></c>`...)
		}
	}
	b = append(b, `</row>`...)
	x.buf = b
	_, err := x.w.Write(b)
	return err
}

// endSheet closes the sheet being written, checking it has the rows its
// dimension declared.
func (x *XLSX) endSheet() error {
	if x.w == nil {
		return nil
	}
	if x.row != x.declared+1 {
		return fmt.Errorf("xlsx: sheet %d declared %d rows and has %d", x.next, x.declared, max(x.row-1, 0))
	}
	_, err := io.WriteString(x.w, `</sheetData></worksheet>`)
	x.w = nil
	return err
}

// Close ends the last sheet and the zip, and flushes it to w. Every
// named sheet must have been written.
func (x *XLSX) Close() error {
	if err := x.endSheet(); err != nil {
		return err
	}
	if x.next != len(x.sheets) {
		return fmt.Errorf("xlsx: %d of %d sheets written", x.next, len(x.sheets))
	}
	if err := x.zw.Close(); err != nil {
		return err
	}
	return x.out.Flush()
}

// serialDay is a date as spreadsheets count days: from 30 December 1899.
func serialDay(t time.Time) int64 {
	y, m, d := t.Date()
	return int64(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours()) / 24
}

// columnName is a 1-based column's letters: 1 A, 26 Z, 27 AA.
func columnName(n int) string {
	var b []byte
	for ; n > 0; n = (n - 1) / 26 {
		b = append([]byte{byte('A' + (n-1)%26)}, b...)
	}
	return string(b)
}

// appendEscaped appends s as XML text: most cells need no escaping, and
// those that do go through encoding/xml (which also replaces characters
// XML cannot carry).
func appendEscaped(b []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '<' || c == '>' || c == '&' || c == '"' || c == '\'' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return append(b, s...)
	}
	var sb strings.Builder
	_ = xml.EscapeText(&sb, []byte(s))
	return append(b, sb.String()...)
}
