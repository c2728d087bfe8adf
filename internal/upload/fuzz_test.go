package upload

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// CheckCSV on any data, separator and limit: a file it passes never gives
// encoding/csv a record wider than the limit, and a line is named exactly
// when there is a problem.
func FuzzCheckCSV(f *testing.F) {
	f.Add([]byte("a,b,c\n1,2,3\n"), byte(0), uint8(2))
	f.Add([]byte("a;b\n\"x\ny\";\"z\"\"\"\n"), byte(1), uint8(1))
	f.Add([]byte("a\"b,c\n,,,,\n"), byte(0), uint8(3))
	f.Add([]byte("\"a\"b,c\r\n\r\n\t\t\t\n"), byte(2), uint8(2))
	f.Add([]byte("Kind,Practice ODS code,Service ID,New service ID,Target practices,Corrects,Date,Note\r\n"+
		"split,A81002,,,\"A81003,A81004\",,46082,'-minus\r\n"), byte(0), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, sep byte, limit uint8) {
		comma := []byte{',', ';', '\t'}[int(sep)%3]
		most := 1 + int(limit%8)
		line, problem := CheckCSV(data, comma, most)
		if (line > 0) != (problem != Fine) {
			t.Fatalf("line %d, problem %d", line, problem)
		}
		if problem != Fine {
			return
		}
		cr := csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = -1
		cr.Comma = rune(comma)
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			var pe *csv.ParseError
			if err != nil && !errors.As(err, &pe) {
				return
			}
			if len(rec) > most {
				start, _ := cr.FieldPos(0)
				t.Fatalf("passed, but encoding/csv reads a record of %d fields (over %d) on line %d", len(rec), most, start)
			}
		}
	})
}

// xmlLimits counts with encoding/xml what ScanXML bounds: the most cells
// in a row (c elements since the row's start, while a row is open) and
// the shared strings. ok is false when encoding/xml cannot read the data.
func xmlLimits(data []byte) (cells, strs int, ok bool) {
	d := xml.NewDecoder(bytes.NewReader(data))
	open, n := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return cells, strs, true
		}
		if err != nil {
			return 0, 0, false
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "row":
				open, n = open+1, 0
			case "c":
				if open > 0 {
					n++
					cells = max(cells, n)
				}
			case "si":
				strs++
			}
		case xml.EndElement:
			if tok.Name.Local == "row" && open > 0 {
				open--
			}
		}
	}
}

// ScanXML on any data: never a panic, and XML it passes that encoding/xml
// reads has no row wider than MaxCells and no more than MaxSharedStrings
// shared strings, however the XML is written (prefixes, comments, CDATA,
// attributes with > in them, rows inside rows).
func FuzzScanXML(f *testing.F) {
	wide := `<?xml version="1.0"?><worksheet><sheetData><row r="1">` + strings.Repeat(`<c r="A1" t="s"><v>0</v></c>`, MaxCells) + `</row></sheetData></worksheet>`
	for _, s := range []string{
		wide,
		strings.Replace(wide, "<row", "<x:row", 1),
		`<sst count="2"><si><t>a</t></si><si><t xml:space="preserve"> b </t></si></sst>`,
		`<!-- <row><c/></row> --><![CDATA[<c>]]><?pi <c> ?><row a=">"><c/></row>`,
		`<row><row></row>` + strings.Repeat("<c/>", MaxCells) + `</row>`,
		`<!DOCTYPE x [<!ENTITY a "b">]><x/>`,
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		problem, err := ScanXML(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatalf("error from a reader that has none: %v", err)
		}
		if problem != Fine {
			return
		}
		if cells, strs, ok := xmlLimits(data); ok && (cells > MaxCells || strs > MaxSharedStrings) {
			t.Fatalf("passed XML with a row of %d cells and %d shared strings", cells, strs)
		}
	})
}
