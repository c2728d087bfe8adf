package tracker

// The file formats of an upload: CSV (its encoding, separator and quoting)
// and XLSX (the ZIP checked before excelize reads it), each feeding its
// rows to the changeParser of sheet_read.go.

import (
	"archive/zip"
	"bufio"
	"bytes"
	"ccgtracker/internal/upload"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

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
